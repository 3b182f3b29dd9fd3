/* test_cli_help - the command's conventions (docs/cli.md, "Help"):
 * --version, `cairn help [COMMAND]` and `COMMAND --help` for every
 * command, every option a command accepts described in its help (and
 * every option docs/cli.md names for it there too), "did you mean" for
 * an unknown command or option, a missing value said apart from an
 * unknown option.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/cli/cli_harness.h"

#define S_STR(x) #x
#define S_XSTR(x) S_STR(x)

static void
test_cli_help_version(void **state)
{
    (void)state;
    const char *expected = "cairn " S_XSTR(CAIRN_VERSION_MAJOR) "." S_XSTR(
        CAIRN_VERSION_MINOR) "." S_XSTR(CAIRN_VERSION_PATCH) "\n";
    tc_result_t r = {0};
    tc_cairn(&r, "--version", NULL);
    tc_expect(&r, 0, expected, NULL);
    tc_cairn(&r, "version", NULL);
    tc_expect(&r, 0, expected, NULL);
}

/* The command names `cairn help` lists (kept), NULL-terminated. */
static const char **
s_commands(void)
{
    tc_result_t r = {0};
    tc_cairn(&r, "help", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_result_t dashed = {0};
    tc_cairn(&dashed, "--help", NULL);
    tc_expect(&dashed, 0, r.out, NULL);
    const char **names = tc_keep(calloc(64, sizeof *names));
    size_t count = 0;
    const char *list = strstr(r.out, "commands:\n");
    assert_non_null(list);
    for (const char *line = strchr(list, '\n') + 1; strncmp(line, "  ", 2) == 0;
         line = strchr(line, '\n') + 1) {
        size_t n = strcspn(line + 2, " ");
        assert_true(count < 63);
        names[count++] = tc_keep(strndup(line + 2, n));
    }
    assert_true(count >= 18);
    return names;
}

/* True when help lists option (with its "--"). */
static bool
s_lists(const char *help, const char *option)
{
    size_t n = strlen(option);
    for (const char *at = strstr(help, option); at; at = strstr(at + 1, option))
        if (at[-1] == ' ' && (at[n] == ' ' || at[n] == '\n'))
            return true;
    return false;
}

/* Every option help lists is one the parser takes: `CMD --OPT [V]
 * --help` reaches --help (exit 0, the same help) only when --OPT was
 * accepted; nothing runs. */
static void
s_check_options(const char *command, const char *help)
{
    const char *options = strstr(help, "\noptions:\n");
    assert_non_null(options);
    for (const char *line = strchr(options + 1, '\n') + 1; *line;
         line = strchr(line, '\n') + 1) {
        assert_true(strncmp(line, "  -", 3) == 0); /* --name or -o */
        size_t n = strcspn(line + 2, " \n");
        char *option = tc_keep(strndup(line + 2, n));
        /* a value's name follows with one space; the help after 2+ */
        bool has_value = line[2 + n] == ' ' && line[3 + n] != ' ';
        size_t end = strcspn(line, "\n");
        if (line[2 + n] == '\n' || strspn(line + 2 + n, " ") == end - 2 - n)
            fail_msg("%s --help: %s has no description", command, option);
        tc_result_t r = {0};
        if (has_value)
            tc_cairn(&r, command, option, "1", "--help", NULL);
        else
            tc_cairn(&r, command, option, "--help", NULL);
        if (r.code != 0 || strcmp(r.out, help) != 0)
            fail_msg("%s %s --help: exit %d: %s", command, option, r.code,
                     r.err);
    }
}

/* The options docs/cli.md gives in its synopsis blocks (```, lines from
 * "cairn COMMAND" to the next "cairn " line or the block's end) each
 * appear in the command's help. */
static void
s_check_docs(const char *command, const char *help)
{
    char *docs = tc_slurp(CAIRN_EXAMPLES "/../docs/cli.md", NULL);
    char head[64];
    snprintf(head, sizeof head, "\ncairn %s ", command);
    for (const char *at = strstr(docs, head); at; at = strstr(at + 1, head)) {
        const char *end = strstr(at + 1, "\n```");
        const char *next = strstr(at + 1, "\ncairn ");
        if (next && next < end)
            end = next;
        for (const char *p = strstr(at, "--"); p && p < end;
             p = strstr(p + 2, "--")) {
            size_t n = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
            char *option = tc_keep(strndup(p, n));
            if (n > 2 && !s_lists(help, option))
                fail_msg("docs/cli.md names %s for %s; its help lacks it",
                         option, command);
        }
    }
}

static void
test_cli_help_every_command(void **state)
{
    (void)state;
    const char **commands = s_commands();
    for (size_t i = 0; commands[i]; i++) {
        const char *command = commands[i];
        if (strcmp(command, "help") == 0 || strcmp(command, "version") == 0)
            continue;
        tc_result_t r = {0}, dashed = {0};
        tc_cairn(&r, "help", command, NULL);
        tc_expect(&r, 0, NULL, NULL);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: cairn %s", command);
        if (strncmp(r.out, usage, strlen(usage)) != 0)
            fail_msg("help %s: %s", command, r.out);
        tc_cairn(&dashed, command, "--help", NULL);
        tc_expect(&dashed, 0, r.out, NULL);
        assert_true(s_lists(r.out, "--help"));
        s_check_options(command, r.out);
        s_check_docs(command, r.out);
    }
}

static void
test_cli_help_run_describes_every_option(void **state)
{
    (void)state;
    static const char *const run_options[] = {
        "--input",         "--input-file",     "--db",
        "--run-id",        "--json",           "--events",
        "--checkpoint",    "--durability",     "--max-supersteps",
        "--plugin",        "--allow-exec",     "--listen",
        "--min-workers",   "--worker-wait-ms", "--insecure",
        "--curve-secret",  "--allow-keys",     "--spawn-workers",
        "--auto-resume",   "--keep-events",    "--events-endpoint",
        "--cpu-placement", "--on-worker-loss",
    };
    tc_result_t r = {0};
    tc_cairn(&r, "run", "--help", NULL);
    tc_expect(&r, 0, NULL, NULL);
    for (size_t i = 0; i < sizeof run_options / sizeof run_options[0]; i++)
        if (!s_lists(r.out, run_options[i]))
            fail_msg("run --help lacks %s:\n%s", run_options[i], r.out);
    /* --help after other options and arguments still only helps */
    tc_cairn(&r, "run", "no-such-spec.json", "--input", "x", "--help", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "usage: cairn run SPEC.json"));
}

static void
test_cli_help_did_you_mean(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--inptu", "x", NULL);
    tc_expect(&r, 2, "",
              "run: unknown option '--inptu'; did you mean --input?");
    tc_cairn(&r, "resume", "r", "--respnd", "a=b", NULL);
    tc_expect(&r, 2, "", "did you mean --respond?");
    tc_cairn(&r, "rn", PIPELINE, NULL);
    tc_expect(&r, 2, "", "unknown command 'rn'; did you mean run?");
    tc_cairn(&r, "checkpionts", "r", NULL);
    tc_expect(&r, 2, "", "did you mean checkpoints?");
    tc_cairn(&r, "hepl", NULL);
    tc_expect(&r, 2, "", "unknown command 'hepl'; did you mean help?");
    tc_cairn(&r, "help", "help", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "help", "forkk", NULL);
    tc_expect(&r, 2, "", "unknown command 'forkk'; did you mean fork?");
    /* nothing near: no guess */
    tc_cairn(&r, "runs", "--zzzzzzzzzz", NULL);
    tc_expect(&r, 2, "", "unknown option '--zzzzzzzzzz'");
    assert_null(strstr(r.err, "did you mean"));
    tc_cairn(&r, "zzzzzzzzzz", NULL);
    tc_expect(&r, 2, "", "unknown command 'zzzzzzzzzz'");
    assert_null(strstr(r.err, "did you mean"));
}

static void
test_cli_help_missing_value(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", NULL);
    tc_expect(&r, 2, "", "run: option '--input' needs a value");
    assert_null(strstr(r.err, "unknown"));
    tc_cairn(&r, "gc", "--db", tc_path("db"), "--keep-last", NULL);
    tc_expect(&r, 2, "", "gc: option '--keep-last' needs a value");
    assert_false(tc_exists(tc_path("db")));
}

/* $CAIRN_DB is the store when --db is not given; --db wins over it. */
static void
test_cli_help_cairn_db(void **state)
{
    (void)state;
    const char *env_db = tc_path("env-db"), *flag_db = tc_path("flag-db");
    setenv("CAIRN_DB", env_db, 1);
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--run-id", "e", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--run-id", "f", "--db",
             flag_db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "checkpoints", "e", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "checkpoints", "f", NULL);
    tc_expect(&r, 2, "", "f");
    unsetenv("CAIRN_DB");
    assert_non_null(tc_run_entry(env_db, "e"));
    assert_non_null(tc_run_entry(flag_db, "f"));
    tc_cairn(&r, "runs", "--db", flag_db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_null(strstr(r.out, "\"e\""));
}

/* In the child: stdout a terminal (a pty nobody reads; export must not
 * write to it anyway). */
static void
s_stdout_terminal(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    const char *name =
        master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0
            ? ptsname(master)
            : NULL;
    int slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
    if (slave < 0 || dup2(slave, STDOUT_FILENO) < 0)
        _exit(125);
}

static void
test_cli_help_export_output(void **state)
{
    (void)state;
    const char *db = tc_path("db"), *file = tc_path("a.cairn");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--run-id", "a", "--db", db,
             NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "export", "a", "--db", db, "-o", file, NULL);
    tc_expect(&r, 0, "", NULL);
    size_t len = 0;
    char *written = tc_slurp(file, &len);
    tc_cairn(&r, "export", "a", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_int_equal(r.out_len, len);
    assert_memory_equal(r.out, written, len);
    tc_cairn(&r, "export", "a", "--db", db, "--output", tc_path("b.cairn"),
             NULL);
    tc_expect(&r, 0, "", NULL);
    /* an unknown run or an unwritable path: no file */
    tc_cairn(&r, "export", "nope", "--db", db, "-o", tc_path("n.cairn"), NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    assert_false(tc_exists(tc_path("n.cairn")));
    tc_cairn(&r, "export", "a", "--db", db, "-o", tc_path("no/dir/x"), NULL);
    tc_expect(&r, 2, "", "export: cannot write");
    tc_cairn(&r, "export", "a", "--db", db, "-o", NULL);
    tc_expect(&r, 2, "", "export: option '-o' needs a value");
    /* never binary on a terminal */
    tc_before_exec = s_stdout_terminal;
    tc_cairn(&r, "export", "a", "--db", db, NULL);
    tc_before_exec = NULL;
    tc_expect(&r, 2, "",
              "export: will not write a binary export to a "
              "terminal; give -o FILE or redirect stdout");
    /* what -o wrote imports */
    tc_cairn(&r, "import", file, "--db", tc_path("other"), NULL);
    tc_expect(&r, 0, "", "imported run a");
}

static void
test_cli_help_delete(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--run-id", "a", "--db", db,
             NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "run", PIPELINE, "--input", "y", "--run-id", "b", "--db", db,
             NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "delete", "nope", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    /* a run with a fork: refused until the fork is gone */
    tc_cairn(&r, "fork", "a", "--db", db, "--run-id", "f", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "delete", "a", "--db", db, NULL);
    tc_expect(&r, 2, "", "run 'a' has a fork, 'f': delete the fork first");
    assert_non_null(tc_run_entry(db, "a"));
    tc_cairn(&r, "delete", "f", "--db", db, NULL);
    tc_expect(&r, 0, "", "deleted run f");
    tc_cairn(&r, "delete", "a", "--db", db, NULL);
    tc_expect(&r, 0, "", "deleted run a");
    tc_cairn(&r, "checkpoints", "a", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'a'");
    assert_non_null(tc_run_entry(db, "b"));
    tc_cairn(&r, "delete", "a", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'a'");
    tc_cairn(&r, "verify", "--db", db, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
    /* a live run: refused, nothing deleted */
    const char *spec = tc_gated_spec("slow.json", 5);
    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
             "live", "--allow-exec", NULL);
    tc_wait_checkpoints(db, "live", 2);
    tc_cairn(&r, "delete", "live", "--db", db, NULL);
    tc_expect(&r, 2, "", "in use by pid");
    tc_open_gate();
    tc_wait(&writer, &r);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(tc_run_entry(db, "live"));
    tc_cairn(&r, "delete", "live", "--db", db, NULL);
    tc_expect(&r, 0, "", "deleted run live");
}

/* The keys `types --json` gives type name (a JSON array or null). */
static json_t *
s_type_keys(json_t *doc, const char *name, bool *builtin)
{
    size_t i;
    json_t *type;
    json_array_foreach(json_object_get(doc, "executor_types"), i, type)
    {
        if (strcmp(json_string_value(json_object_get(type, "name")), name))
            continue;
        *builtin = json_is_true(json_object_get(type, "builtin"));
        return json_object_get(type, "config_keys");
    }
    fail_msg("types --json lacks %s", name);
    return NULL;
}

static bool
s_has_string(json_t *array, const char *text)
{
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) if (strcmp(json_string_value(item), text)
                                           == 0) return true;
    return false;
}

static void
test_cli_help_types(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "types", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "  util.fail        when, first_attempts\n"));
    assert_non_null(strstr(r.out, "  text.upper       (no config)\n"));
    assert_non_null(strstr(r.out, "predicates:\n"));
    assert_non_null(strstr(r.out, "\n  int_ge\n"));
    tc_cairn(&r, "types", "--json", "--plugin", GREET_SO, NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *doc = tc_json(r.out);
    bool builtin = false;
    json_t *keys = s_type_keys(doc, "util.exec", &builtin);
    assert_true(builtin);
    assert_int_equal(json_array_size(keys), 3);
    assert_true(s_has_string(keys, "argv"));
    /* every built-in declares its keys (the table validation reads) */
    size_t i;
    json_t *type;
    json_array_foreach(json_object_get(doc, "executor_types"), i,
                       type) if (json_is_true(json_object_get(type, "builtin")))
        assert_true(json_is_array(json_object_get(type, "config_keys")));
    keys = s_type_keys(doc, "greet.hello", &builtin);
    assert_false(builtin);
    assert_true(json_is_null(keys));
    json_t *predicates = json_object_get(doc, "predicates");
    assert_true(s_has_string(predicates, "eq"));
    assert_true(s_has_string(predicates, "not"));
    assert_true(s_has_string(predicates, "greet.polite"));
    /* the keys listed are the keys a spec may give, and only those */
    const char *spec = tc_spec(
        "keys.json",
        "{\"start\": \"a\", \"executors\": [\n"
        " {\"id\": \"a\", \"type\": \"util.fail\", \"config\": "
        "{\"when\": {\"eq\": \"x\"}, \"first_attempts\": 0, \"whenn\": 1}},\n"
        " {\"id\": \"o\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"a\", \"to\": \"o\"}]}");
    tc_cairn(&r, "run", spec, "--durability", "none", "--input", "y", NULL);
    tc_expect(&r, 2, "", "util.fail: unknown config field 'whenn'");
    tc_cairn(&r, "types", "--plugin", tc_path("missing.so"), NULL);
    tc_expect(&r, 2, "", "missing.so");
}

/* The section of command in a rendered man page: from its "   NAME"
 * heading to the next heading (kept). */
static char *
s_man_section(const char *page, const char *command)
{
    char head[64];
    snprintf(head, sizeof head, "\n   %s", command);
    const char *at = strstr(page, head);
    while (at && at[strlen(head)] != ' ' && at[strlen(head)] != '\n')
        at = strstr(at + 1, head);
    if (!at)
        fail_msg("the man page has no section for %s", command);
    const char *end = at + 1;
    while ((end = strchr(end, '\n'))) {
        end++;
        bool subsection = strncmp(end, "   ", 3) == 0 && end[3] != ' ';
        bool section = *end && *end != ' ' && *end != '\n';
        if (subsection || section)
            break;
    }
    return tc_keep(strndup(at, end ? (size_t)(end - at) : strlen(at)));
}

/* cairn(1) comes from the same tables as --help, and man renders it: each
 * command has its section with every option its help lists. */
static void
test_cli_help_man_page(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "help", "--man", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_true(strncmp(r.out, ".TH CAIRN 1 ", 12) == 0);
    const char *page = tc_path("cairn.1");
    th_write(page, r.out, r.out_len);
    char command[512];
    snprintf(command, sizeof command,
             "LC_ALL=C MANWIDTH=100 timeout %d man --warnings -P cat -l %s "
             "2>%s",
             TC_TIMEOUT_S, page, tc_path("man.err"));
    FILE *pipe = popen(command, "r");
    assert_non_null(pipe);
    char *rendered = tc_keep(calloc(1, 1 << 20));
    size_t len = fread(rendered, 1, (1 << 20) - 1, pipe);
    assert_int_equal(pclose(pipe), 0);
    rendered[len] = '\0';
    const char *warnings = tc_slurp(tc_path("man.err"), NULL);
    if (*warnings)
        fail_msg("man warns: %s", warnings);
    assert_non_null(strstr(rendered, "CAIRN(1)"));
    assert_non_null(strstr(rendered, "\n       CAIRN_DB\n"));
    const char **commands = s_commands();
    for (size_t i = 0; commands[i]; i++) {
        if (strcmp(commands[i], "help") == 0
            || strcmp(commands[i], "version") == 0)
            continue;
        char *section = s_man_section(rendered, commands[i]);
        tc_cairn(&r, commands[i], "--help", NULL);
        const char *options = strstr(r.out, "\noptions:\n");
        assert_non_null(options);
        for (const char *line = strchr(options + 1, '\n') + 1; *line;
             line = strchr(line, '\n') + 1) {
            char *option = tc_keep(strndup(line + 2, strcspn(line + 2, " \n")));
            if (strcmp(option, "--help") != 0 && !s_lists(section, option))
                fail_msg("man page, %s: no %s in\n%s", commands[i], option,
                         section);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_help_version),
        TC_TEST(test_cli_help_every_command),
        TC_TEST(test_cli_help_run_describes_every_option),
        TC_TEST(test_cli_help_did_you_mean),
        TC_TEST(test_cli_help_missing_value),
        TC_TEST(test_cli_help_cairn_db),
        TC_TEST(test_cli_help_export_output),
        TC_TEST(test_cli_help_delete),
        TC_TEST(test_cli_help_types),
        TC_TEST(test_cli_help_man_page),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
