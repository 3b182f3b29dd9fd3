/* cmd_graph.c - `cairn graph SPEC --format dot|mermaid`.
 *
 * The spec is first loaded and validated like `cairn run` would, so a
 * graph is only drawn for a workflow that can run; the drawing itself
 * walks the spec's JSON, which keeps each edge in the form it was written.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

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
    const char *format_name = "dot", *path = NULL;
    cli_plugins_t plugins = {0};
    const cli_option_t options[] = {
        {"format", CLI_OPT_TEXT, &format_name, "FORMAT",
         "dot (default) or mermaid"},
        {"plugin", CLI_OPT_LIST, &plugins, "LIB.so",
         "load executor types from a plugin"},
    };
    int exit_code = cli_parse(argc, argv, options, 2, 1, &path);
    s_format_t format = S_DOT;
    if (exit_code == CLI_EXIT_OK && strcmp(format_name, "mermaid") == 0)
        format = S_MERMAID;
    else if (exit_code == CLI_EXIT_OK && strcmp(format_name, "dot") != 0) {
        cli_error("graph: --format takes dot or mermaid, not '%s'",
                  format_name);
        exit_code = CLI_EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    cairn_error_t err;
    cairn_registry_t *registry = NULL;
    cairn_workflow_t *wf = NULL;
    if (exit_code == CLI_EXIT_OK
        && cairn_spec_read_file(path, &text, &len, &err) != CAIRN_OK)
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
