/* common.c - helpers every cairn subcommand uses (cli.h). */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

void
cli_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("cairn: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

int
cli_exit_for(int code)
{
    switch (code) {
    case CAIRN_OK:
        return CLI_EXIT_OK;
    case CAIRN_EINVAL:
    case CAIRN_ENOTFOUND:
    case CAIRN_EEXISTS:
    case CAIRN_EVALIDATION:
    case CAIRN_ELOCKED:
    case CAIRN_ESIGNATURE:
    case CAIRN_EFORMAT:
    case CAIRN_ETOOLARGE:
        return CLI_EXIT_USAGE;
    default:
        return CLI_EXIT_FAILED;
    }
}

int
cli_fail(const cairn_error_t *err)
{
    cli_error("%s", err->message[0] ? err->message
                                     : cairn_strerror(err->code));
    return cli_exit_for(err->code);
}

void
cli_exit_leaving(int exit_code, size_t left)
{
    cli_error("%zu handler thread(s) still running past their timeout are "
              "left behind",
              left);
    fflush(stdout);
    fflush(stderr);
    _exit(exit_code);
}

int
cli_open_inspect(const char *dir, cairn_store_t **store)
{
    cairn_store_options_t opts = {.read_only = true};
    cairn_error_t err;
    int rc = cairn_store_open(store, dir, &opts, &err);
    return rc == CAIRN_OK ? CLI_EXIT_OK : cli_fail(&err);
}

int
cli_open_run(const char *dir, const char *run_id, cairn_store_t **store,
             cairn_run_info_t **info)
{
    cairn_error_t err;
    int exit_code = cli_open_inspect(dir, store);
    if (exit_code == CLI_EXIT_OK
        && cairn_store_get_run(*store, run_id, info, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    return exit_code;
}

int
cli_plugins_add(cli_plugins_t *plugins, const char *path)
{
    const char **grown = realloc(plugins->paths,
                                 (plugins->count + 1) * sizeof *grown);
    if (!grown)
        return CAIRN_ENOMEM;
    grown[plugins->count++] = path;
    plugins->paths = grown;
    return CAIRN_OK;
}

void
cli_plugins_free(cli_plugins_t *plugins)
{
    free(plugins->paths);
    plugins->paths = NULL;
    plugins->count = 0;
}

cairn_registry_t *
cli_registry(const cli_plugins_t *plugins, bool allow_exec, int *exit_code)
{
    cairn_registry_t *registry = cairn_registry_new();
    cairn_builtins_options_t opts = {.allow_exec = allow_exec};
    cairn_error_t err;
    cairn_error_clear(&err);
    if (!registry || cairn_builtins_register(registry, &opts) != CAIRN_OK) {
        cli_error("out of memory");
        *exit_code = CLI_EXIT_FAILED;
        cairn_registry_destroy(&registry);
        return NULL;
    }
    for (size_t i = 0; plugins && i < plugins->count; i++)
        if (cairn_plugin_load(registry, plugins->paths[i], &err) != CAIRN_OK) {
            *exit_code = cli_fail(&err);
            cairn_registry_destroy(&registry);
            return NULL;
        }
    return registry;
}

json_t *
cli_payload_json(const uint8_t *data, size_t len)
{
    json_t *text = json_stringn((const char *)data, len);
    if (text)
        return text; /* jansson accepts only valid UTF-8 without NUL */
    size_t size = sodium_base64_ENCODED_LEN(len,
                                            sodium_base64_VARIANT_ORIGINAL);
    char *encoded = malloc(size);
    if (!encoded)
        return json_null();
    sodium_bin2base64(encoded, size, data, len,
                      sodium_base64_VARIANT_ORIGINAL);
    json_t *wrapped = json_pack("{s:s}", "base64", encoded);
    free(encoded);
    return wrapped;
}

json_t *
cli_text_json(const char *text)
{
    return text ? cli_payload_json((const uint8_t *)text, strlen(text))
                : json_string("");
}

json_t *
cli_request_json(const cairn_request_t *request)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "id", cli_text_json(request->id),
                     "executor", cli_text_json(request->executor), "kind",
                     cli_text_json(request->kind), "payload",
                     cli_payload_json(request->payload, request->payload_len));
}

void
cli_state_json_add(json_t *executors, json_t *shared, json_t *binary_keys,
                   const char *executor, const char *key,
                   const uint8_t *value, size_t len)
{
    json_t *scope = shared;
    json_t *item = cli_payload_json(value, len);
    if (executor) {
        scope = json_object_get(executors, executor);
        if (!scope) {
            scope = json_object();
            json_object_set_new(executors, executor, scope);
        }
    }
    /* json_object_set refuses a member name that is not UTF-8 (and,
     * unlike _new, leaves item to us) */
    if (json_object_set(scope, key, item) != 0)
        json_array_append_new(
            binary_keys,
            json_pack("{s:o, s:o, s:O}", "executor",
                      executor ? json_string(executor) : json_null(), "key",
                      cli_text_json(key), "value", item));
    json_decref(item);
}

void
cli_print_json(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (text) {
        puts(text);
        free(text);
    }
    fflush(stdout);
}

bool
cli_parse_u64(const char *text, uint64_t *out)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end)
        return false;
    *out = value;
    return true;
}

const char *
cli_default_db(void)
{
    const char *env = getenv("CAIRN_DB");
    return env && *env ? env : "./.cairn";
}

size_t
cli_distance(const char *a, const char *b)
{
    size_t lb = strlen(b);
    size_t *row = calloc(lb + 1, sizeof *row);
    if (!row)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; a[i - 1]; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    size_t distance = row[lb];
    free(row);
    return distance;
}

bool
cli_nearer(const char *given, const char *candidate, size_t *best)
{
    size_t distance = cli_distance(given, candidate);
    /* close enough: a typo or two, not a different word */
    bool near = distance <= 2 || distance * 3 <= strlen(candidate);
    if (!near || distance >= *best)
        return false;
    *best = distance;
    return true;
}

void
cli_print_usage(FILE *out, const char *command, const cli_option_t *options,
                size_t count)
{
    const cli_command_t *cmd = cli_command_find(command);
    fprintf(out, "usage: cairn %s%s%s%s\n", command,
            cmd && *cmd->args ? " " : "", cmd ? cmd->args : "",
            count ? " [OPTIONS]" : "");
    if (cmd)
        fprintf(out, "\n%s\n", cmd->summary);
    fprintf(out, "\noptions:\n");
    for (size_t i = 0; i < count; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s",
                 options[i].name[1] ? "--" : "-", options[i].name,
                 options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        assert(options[i].help && *options[i].help);
        fprintf(out, "  %-26s %s%s\n", left, options[i].help,
                options[i].kind == CLI_OPT_LIST ? " (repeatable)" : "");
    }
    fprintf(out, "  %-26s %s\n", "--help", "print this help and exit");
    fflush(out);
}

/* text for roff: backslashes and minus signs escaped, and a line never
 * starts a request. */
static void
s_roff(FILE *out, const char *text)
{
    fputs("\\&", out);
    for (; *text; text++)
        if (*text == '\\')
            fputs("\\e", out);
        else if (*text == '-')
            fputs("\\-", out);
        else
            fputc(*text, out);
}

void
cli_print_man(FILE *out, const char *command, const cli_option_t *options,
              size_t count)
{
    const cli_command_t *cmd = cli_command_find(command);
    fprintf(out, ".SS \"");
    s_roff(out, command);
    if (cmd && *cmd->args) {
        fputc(' ', out);
        s_roff(out, cmd->args);
    }
    fprintf(out, "%s\"\n", count ? " [OPTIONS]" : "");
    if (cmd) {
        s_roff(out, cmd->summary);
        fputc('\n', out);
    }
    for (size_t i = 0; i < count; i++) {
        fprintf(out, ".TP\n\\fB%s", options[i].name[1] ? "\\-\\-" : "\\-");
        s_roff(out, options[i].name);
        fprintf(out, "\\fR");
        if (options[i].arg) {
            fprintf(out, " \\fI");
            s_roff(out, options[i].arg);
            fprintf(out, "\\fR");
        }
        fputc('\n', out);
        s_roff(out, options[i].help);
        fprintf(out, "%s\n",
                options[i].kind == CLI_OPT_LIST ? " (repeatable)" : "");
    }
    fflush(out);
}

/* "unknown option '--inptu'; did you mean --input?" */
static void
s_unknown_option(const char *command, const char *given,
                 const cli_option_t *options, size_t count)
{
    char name[128];
    const char *bare = given + strspn(given, "-");
    snprintf(name, sizeof name, "%.*s", (int)strcspn(bare, "="), bare);
    const char *nearest = NULL;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < count; i++)
        if (cli_nearer(name, options[i].name, &best))
            nearest = options[i].name;
    if (nearest)
        cli_error("%s: unknown option '%s'; did you mean --%s?", command, given,
                  nearest);
    else
        cli_error("%s: unknown option '%s' (see cairn help %s)", command, given,
                  command);
}

/* What getopt_long returns for --help-options: no short option's letter. */
#define S_HELP_OPTIONS 1

/* Prints every option name of options, and --help, one a line: what bash
 * completes after `cairn COMMAND -` (scripts/cairn.bash-completion). */
static void
s_print_option_names(FILE *out, const cli_option_t *options, size_t count)
{
    for (size_t i = 0; i < count; i++)
        fprintf(out, "%s%s\n", options[i].name[1] ? "--" : "-",
                options[i].name);
    fprintf(out, "--help\n");
}

/* Makes the getopt tables: options[i] returns 256 + i, --help 'h'. A
 * one-letter name is a short option (-o), in shorts (":" first: a missing
 * value is ':', an unknown option '?'). */
static struct option *
s_getopt_table(const cli_option_t *options, size_t count, char *shorts,
               size_t shorts_size)
{
    struct option *table = calloc(count + 4, sizeof *table);
    if (!table)
        return NULL;
    size_t n = 0, s = 0;
    shorts[s++] = ':';
    for (size_t i = 0; i < count; i++) {
        bool value = options[i].kind != CLI_OPT_FLAG;
        if (!options[i].name[1]) {
            if (s + 3 > shorts_size) /* sized for every option: never */
                continue;
            shorts[s++] = options[i].name[0];
            if (value)
                shorts[s++] = ':';
            continue;
        }
        table[n].name = options[i].name;
        table[n].has_arg = value ? required_argument : no_argument;
        table[n].val = (int)i + 256;
        n++;
    }
    shorts[s] = '\0';
    table[n].name = "help";
    table[n].val = 'h';
    /* not listed in the help: `cairn help --man` asks each command for
     * its section of the man page this way */
    table[n + 1].name = "help-man";
    table[n + 1].val = 'm';
    /* ... and the bash completion for its option names */
    table[n + 2].name = "help-options";
    table[n + 2].val = S_HELP_OPTIONS;
    return table;
}

/* The option getopt_long returned as c: &options[i], or NULL. */
static const cli_option_t *
s_option_for(int c, const cli_option_t *options, size_t count)
{
    if (c >= 256)
        return &options[c - 256];
    for (size_t i = 0; i < count; i++)
        if (options[i].name[0] == c && !options[i].name[1])
            return &options[i];
    return NULL;
}

/* Stores one option's value; CLI_EXIT_USAGE after saying why not. */
static int
s_store(const char *command, const cli_option_t *option, char *value)
{
    switch (option->kind) {
    case CLI_OPT_FLAG:
        *(bool *)option->target = true;
        break;
    case CLI_OPT_TEXT:
        *(const char **)option->target = value;
        break;
    case CLI_OPT_NUMBER:
        if (!cli_parse_u64(value, option->target)) {
            cli_error("%s: --%s needs a non-negative integer, not '%s'",
                      command, option->name, value);
            return CLI_EXIT_USAGE;
        }
        break;
    case CLI_OPT_LIST:
        if (cli_plugins_add(option->target, value) != CAIRN_OK)
            return CLI_EXIT_FAILED;
        break;
    }
    return CLI_EXIT_OK;
}

int
cli_parse(int argc, char **argv, const cli_option_t *options, size_t count,
          int want, const char **positional)
{
    char shorts[16];
    struct option *table = s_getopt_table(options, count, shorts,
                                          sizeof shorts);
    if (!table)
        return CLI_EXIT_FAILED;
    optind = 1;
    opterr = 0;
    int exit_code = CLI_EXIT_OK;
    int c;
    while (exit_code == CLI_EXIT_OK
           && (c = getopt_long(argc, argv, shorts, table, NULL)) != -1) {
        const cli_option_t *option = s_option_for(c, options, count);
        if (c == S_HELP_OPTIONS) {
            s_print_option_names(stdout, options, count);
            exit_code = CLI_EXIT_HELP;
        } else if (c == 'h' || c == 'm') {
            (c == 'h' ? cli_print_usage : cli_print_man)(stdout, argv[0],
                                                         options, count);
            exit_code = CLI_EXIT_HELP;
        } else if (c == ':') {
            cli_error("%s: option '%s' needs a value", argv[0],
                      argv[optind - 1]);
            exit_code = CLI_EXIT_USAGE;
        } else if (!option) {
            s_unknown_option(argv[0], argv[optind - 1], options, count);
            exit_code = CLI_EXIT_USAGE;
        } else {
            exit_code = s_store(argv[0], option, optarg);
        }
    }
    free(table);
    int most = want < 0 ? -want : want, least = want < 0 ? 0 : want;
    int given = argc - optind;
    if (exit_code == CLI_EXIT_OK && (given < least || given > most)) {
        cli_error("%s: expected %s%d argument(s), got %d (see cairn help "
                  "%s)",
                  argv[0], want < 0 ? "at most " : "", most, given, argv[0]);
        exit_code = CLI_EXIT_USAGE;
    }
    for (int i = 0; exit_code == CLI_EXIT_OK && i < given; i++)
        positional[i] = argv[optind + i];
    return exit_code;
}
