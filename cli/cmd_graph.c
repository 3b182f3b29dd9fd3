/* cmd_graph.c - `cairn graph SPEC --format dot|mermaid`.
 *
 * The spec is first loaded and validated like `cairn run` would, so a
 * graph is only drawn for a workflow that can run; the drawing itself
 * walks the spec's JSON, which keeps each edge in the form it was written.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/spec.h"

typedef enum { S_DOT, S_MERMAID } s_format_t;

/* A predicate drawn as an edge label: its compact JSON. Caller frees. */
static char *
s_label(json_t *edge_or_case)
{
    json_t *when = json_object_get(edge_or_case, "when");
    if (json_is_true(json_object_get(edge_or_case, "default")))
        return strdup("default");
    return when ? json_dumps(when, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

/* Mermaid labels may not hold quotes or pipes; DOT escapes quotes. */
static void
s_print_label(s_format_t format, const char *label)
{
    for (const char *p = label; *p; p++) {
        if (format == S_DOT && (*p == '"' || *p == '\\'))
            putchar('\\');
        if (format == S_MERMAID && (*p == '"' || *p == '|'))
            putchar('\'');
        else
            putchar(*p);
    }
}

static void
s_arrow(s_format_t format, const char *from, const char *to,
        const char *label, bool dashed)
{
    if (format == S_DOT) {
        printf("  \"%s\" -> \"%s\"", from, to);
        if (label || dashed) {
            printf(" [");
            if (label) {
                printf("label=\"");
                s_print_label(format, label);
                printf("\"");
            }
            if (dashed)
                printf("%sstyle=dashed", label ? ", " : "");
            printf("]");
        }
        printf(";\n");
    } else {
        printf("  %s %s", from, dashed ? "-.->" : "-->");
        if (label) {
            printf("|\"");
            s_print_label(format, label);
            printf("\"|");
        }
        printf(" %s\n", to);
    }
}

static void
s_draw_edge(s_format_t format, json_t *edge)
{
    json_t *from = json_object_get(edge, "from");
    json_t *to = json_object_get(edge, "to");
    json_t *cases = json_object_get(edge, "switch");
    size_t i;
    json_t *item;
    if (json_is_array(from)) { /* fan-in */
        json_array_foreach(from, i, item)
            s_arrow(format, json_string_value(item), json_string_value(to),
                    "fan-in", true);
    } else if (json_is_array(cases)) {
        json_array_foreach(cases, i, item) {
            char *label = s_label(item);
            s_arrow(format, json_string_value(from),
                    json_string_value(json_object_get(item, "to")), label,
                    false);
            free(label);
        }
    } else if (json_is_array(to)) { /* fan-out */
        json_array_foreach(to, i, item)
            s_arrow(format, json_string_value(from), json_string_value(item),
                    NULL, false);
    } else {
        char *label = s_label(edge);
        s_arrow(format, json_string_value(from), json_string_value(to), label,
                false);
        free(label);
    }
}

static void
s_draw(s_format_t format, json_t *spec)
{
    json_t *start = json_object_get(spec, "start");
    if (format == S_DOT)
        printf("digraph \"%s\" {\n  rankdir=LR;\n",
               json_string_value(json_object_get(spec, "name"))
                   ? json_string_value(json_object_get(spec, "name"))
                   : "workflow");
    else
        printf("flowchart LR\n");
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(spec, "executors"), i, item) {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *type = json_string_value(json_object_get(item, "type"));
        bool is_start = json_equal(json_object_get(item, "id"), start);
        if (format == S_DOT)
            printf("  \"%s\" [label=\"%s\\n%s\"%s];\n", id, id, type,
                   is_start ? ", shape=doublecircle" : ", shape=box");
        else
            printf("  %s%s\"%s<br/>%s\"%s\n", id, is_start ? "((" : "[", id,
                   type, is_start ? "))" : "]");
    }
    json_array_foreach(json_object_get(spec, "edges"), i, item)
        s_draw_edge(format, item);
    if (format == S_DOT)
        printf("}\n");
}

int
cli_cmd_graph(int argc, char **argv)
{
    enum { OPT_FORMAT = 256, OPT_PLUGIN };
    static const struct option options[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"plugin", required_argument, NULL, OPT_PLUGIN},
        {NULL, 0, NULL, 0},
    };
    s_format_t format = S_DOT;
    cli_plugins_t plugins = {0};
    int exit_code = CLI_EXIT_OK;
    optind = 1;
    opterr = 0;
    int c;
    while (exit_code == CLI_EXIT_OK
           && (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == OPT_FORMAT && strcmp(optarg, "dot") == 0)
            format = S_DOT;
        else if (c == OPT_FORMAT && strcmp(optarg, "mermaid") == 0)
            format = S_MERMAID;
        else if (c == OPT_PLUGIN)
            exit_code = cli_plugins_add(&plugins, optarg) == CAIRN_OK
                            ? CLI_EXIT_OK
                            : CLI_EXIT_FAILED;
        else {
            cli_error("graph: unknown or bad option '%s' (--format takes dot "
                      "or mermaid)",
                      argv[optind - 1]);
            exit_code = CLI_EXIT_USAGE;
        }
    }
    if (exit_code == CLI_EXIT_OK && argc - optind != 1) {
        cli_error("graph: expected one SPEC file");
        exit_code = CLI_EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    cairn_error_t err;
    cairn_registry_t *registry = NULL;
    cairn_workflow_t *wf = NULL;
    const char *path = exit_code == CLI_EXIT_OK ? argv[optind] : NULL;
    if (path && cairn_spec_read_file(path, &text, &len, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK
        && (registry = cli_registry(&plugins, false, &exit_code))
        && cairn_spec_load(text, len, path, registry, &wf, NULL, &err)
               != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK) {
        json_t *spec = json_loadb(text, len, 0, NULL);
        s_draw(format, spec);
        json_decref(spec);
    }
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    cli_plugins_free(&plugins);
    free(text);
    return exit_code;
}
