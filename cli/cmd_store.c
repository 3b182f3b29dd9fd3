/* cmd_store.c - `cairn gc`, `cairn export`, `cairn import`, `cairn
 * delete`: managing what a store keeps. gc, import and delete write the
 * store, so they need it to themselves; export and verify read it beside
 * a live run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

#define S_DAY_MS (24ULL * 60 * 60 * 1000)

static int
s_open_writer(const char *db, cairn_store_t **store)
{
    cairn_error_t err;
    return cairn_store_open(store, db, NULL, &err) == CAIRN_OK
               ? CLI_EXIT_OK
               : cli_fail(&err);
}

int
cli_cmd_gc(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB;
    uint64_t keep_last = 0, older_than_days = 0;
    const cli_option_t options[] = {
        CLI_OPTION_DB(&db),
        {"keep-last", CLI_OPT_NUMBER, &keep_last, "N",
         "keep the newest N checkpoints of each run"},
        {"older-than", CLI_OPT_NUMBER, &older_than_days, "DAYS",
         "delete checkpoints older than DAYS days"},
    };
    int exit_code = cli_parse(argc, argv, options, 3, 0, NULL);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_open_writer(db, &store);
    size_t deleted = 0, removed = 0;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && (cairn_store_retain(store, (size_t)keep_last,
                               older_than_days * S_DAY_MS, &deleted, &err)
                != CAIRN_OK
            || cairn_store_gc(store, &removed, &err) != CAIRN_OK))
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK)
        fprintf(stderr,
                "cairn: gc: deleted %zu checkpoint(s), removed %zu stored "
                "value(s) nothing reads any more\n",
                deleted, removed);
    cairn_store_destroy(&store);
    return exit_code;
}

/* Where export writes: FILE (made, or truncated) or stdout, never a
 * terminal (binary there is garbage on the screen). NULL after saying
 * why, with *exit_code. */
static FILE *
s_export_sink(const char *path, int *exit_code)
{
    if (!path && isatty(STDOUT_FILENO)) {
        cli_error("export: will not write a binary export to a terminal; "
                  "give -o FILE or redirect stdout");
        *exit_code = CLI_EXIT_USAGE;
        return NULL;
    }
    FILE *out = path ? fopen(path, "wb") : stdout;
    if (!out) {
        cli_error("export: cannot write %s: %s", path, strerror(errno));
        *exit_code = CLI_EXIT_USAGE;
    }
    return out;
}

int
cli_cmd_export(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB, *run_id = NULL, *path = NULL;
    const cli_option_t options[] = {
        CLI_OPTION_DB(&db),
        {"output", CLI_OPT_TEXT, &path, "FILE",
         "write the export to FILE (default: stdout, never a terminal)"},
        {"o", CLI_OPT_TEXT, &path, "FILE", "the same as --output"},
    };
    int exit_code = cli_parse(argc, argv, options,
                              sizeof options / sizeof options[0], 1, &run_id);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_inspect(db, &store);
    cairn_run_info_t *info = NULL;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK /* an unknown run makes no file */
        && cairn_store_get_run(store, run_id, &info, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    FILE *out = NULL;
    if (exit_code == CLI_EXIT_OK)
        out = s_export_sink(path, &exit_code);
    if (out && cairn_store_export(store, run_id, out, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (out && fflush(out) != 0 && exit_code == CLI_EXIT_OK) {
        cli_error("export: writing to %s failed", path ? path : "stdout");
        exit_code = CLI_EXIT_FAILED;
    }
    if (out && out != stdout && fclose(out) != 0 && exit_code == CLI_EXIT_OK) {
        cli_error("export: writing to %s failed", path);
        exit_code = CLI_EXIT_FAILED;
    }
    if (out && path && exit_code != CLI_EXIT_OK)
        unlink(path); /* no half export left to import */
    cairn_run_info_destroy(&info, 1);
    cairn_store_destroy(&store);
    return exit_code;
}

int
cli_cmd_delete(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB, *run_id = NULL;
    const cli_option_t options[] = {CLI_OPTION_DB(&db)};
    int exit_code = cli_parse(argc, argv, options, 1, 1, &run_id);
    cairn_store_t *store = NULL;
    /* a live run holds the store's writer lock: opening it to write
     * refuses with "in use by pid N" (exit 2) */
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_open_writer(db, &store);
    cairn_run_info_t *info = NULL;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_get_run(store, run_id, &info, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK && strcmp(info->status, "running") == 0
        && cairn_run_process_alive(info)) {
        cli_error("delete: run %s is live (pid %lld); cancel it first",
                  run_id, (long long)info->pid);
        exit_code = CLI_EXIT_USAGE;
    }
    if (exit_code == CLI_EXIT_OK
        && cairn_store_delete_run(store, run_id, &err) != CAIRN_OK) {
        exit_code = cli_fail(&err);
        if (err.code == CAIRN_ESTATE) /* it has a fork: refused, not failed */
            exit_code = CLI_EXIT_USAGE;
    }
    if (exit_code == CLI_EXIT_OK)
        fprintf(stderr, "cairn: deleted run %s\n", run_id);
    cairn_run_info_destroy(&info, 1);
    cairn_store_destroy(&store);
    return exit_code;
}

int
cli_cmd_import(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB, *as_id = NULL, *path = NULL;
    const cli_option_t options[] = {
        CLI_OPTION_DB(&db),
        {"as", CLI_OPT_TEXT, &as_id, "ID", "import the run under id ID"},
    };
    int exit_code = cli_parse(argc, argv, options, 2, 1, &path);
    FILE *in = NULL;
    struct stat st;
    if (exit_code == CLI_EXIT_OK && !(in = fopen(path, "rb"))) {
        cli_error("import: cannot open %s: %s", path, strerror(errno));
        exit_code = CLI_EXIT_USAGE;
    } else if (exit_code == CLI_EXIT_OK
               && fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("import: cannot read %s: %s", path, strerror(EISDIR));
        exit_code = CLI_EXIT_USAGE;
    }
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_open_writer(db, &store);
    char imported[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_import(store, in, as_id, imported, &err) != CAIRN_OK) {
        cli_error("import %s:", path);
        exit_code = cli_fail(&err);
    }
    if (exit_code == CLI_EXIT_OK)
        fprintf(stderr, "cairn: imported run %s\n", imported);
    if (in)
        fclose(in);
    cairn_store_destroy(&store);
    return exit_code;
}

static void
s_print_problem(const char *run_id, const char *checkpoint,
                const char *problem, void *userdata)
{
    (void)userdata;
    printf("%s: %s\n", checkpoint ? checkpoint : run_id, problem);
}

int
cli_cmd_verify(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB;
    const cli_option_t options[] = {CLI_OPTION_DB(&db)};
    const char *run_id = NULL; /* optional */
    int exit_code = cli_parse(argc, argv, options, 1, -1, &run_id);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_inspect(db, &store);
    size_t problems = 0;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_verify(store, run_id, s_print_problem, NULL, &problems,
                              &err)
               != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK) {
        fprintf(stderr, "cairn: verify: %zu problem(s)\n", problems);
        exit_code = problems ? CLI_EXIT_FAILED : CLI_EXIT_OK;
    }
    cairn_store_destroy(&store);
    return exit_code;
}
