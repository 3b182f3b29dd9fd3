/* cmd_store.c - `cairn gc`, `cairn export`, `cairn import`: managing what
 * a store keeps. These write the store, so they need it to themselves. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define S_DAY_MS (24ULL * 60 * 60 * 1000)

typedef struct {
    const char *db;
    uint64_t keep_last;
    uint64_t older_than_days;
    const char *as_id;
} s_options_t;

enum { OPT_DB = 256, OPT_KEEP, OPT_OLDER, OPT_AS };

/* Parses the options of gc, export or import; accepts marks which. */
static int
s_parse(int argc, char **argv, const char *accepts, int want,
        s_options_t *o, const char **positional)
{
    static const struct option options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"keep-last", required_argument, NULL, OPT_KEEP},
        {"older-than", required_argument, NULL, OPT_OLDER},
        {"as", required_argument, NULL, OPT_AS},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->db = CLI_DEFAULT_DB;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        bool ok = c == OPT_DB
                  || (c == OPT_KEEP && strchr(accepts, 'k')
                      && cli_parse_u64(optarg, &o->keep_last))
                  || (c == OPT_OLDER && strchr(accepts, 'o')
                      && cli_parse_u64(optarg, &o->older_than_days))
                  || (c == OPT_AS && strchr(accepts, 'a'));
        if (!ok) {
            cli_error("%s: unknown or bad option '%s'", argv[0],
                      argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
        if (c == OPT_DB)
            o->db = optarg;
        else if (c == OPT_AS)
            o->as_id = optarg;
    }
    if (argc - optind != want) {
        cli_error("%s: expected %d argument(s), got %d", argv[0], want,
                  argc - optind);
        return CLI_EXIT_USAGE;
    }
    if (positional)
        *positional = want ? argv[optind] : NULL;
    return CLI_EXIT_OK;
}

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
    s_options_t o;
    int exit_code = s_parse(argc, argv, "ko", 0, &o, NULL);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_open_writer(o.db, &store);
    size_t deleted = 0, removed = 0;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && (cairn_store_retain(store, (size_t)o.keep_last,
                               o.older_than_days * S_DAY_MS, &deleted, &err)
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

int
cli_cmd_export(int argc, char **argv)
{
    s_options_t o;
    const char *run_id = NULL;
    int exit_code = s_parse(argc, argv, "", 1, &o, &run_id);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_inspect(o.db, &store);
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_export(store, run_id, stdout, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK && fflush(stdout) != 0) {
        cli_error("export: writing to stdout failed");
        exit_code = CLI_EXIT_FAILED;
    }
    cairn_store_destroy(&store);
    return exit_code;
}

int
cli_cmd_import(int argc, char **argv)
{
    s_options_t o;
    const char *path = NULL;
    int exit_code = s_parse(argc, argv, "a", 1, &o, &path);
    FILE *in = NULL;
    if (exit_code == CLI_EXIT_OK && !(in = fopen(path, "rb"))) {
        cli_error("import: cannot open %s", path);
        exit_code = CLI_EXIT_USAGE;
    }
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_open_writer(o.db, &store);
    char imported[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_import(store, in, o.as_id, imported, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK)
        fprintf(stderr, "cairn: imported run %s\n", imported);
    if (in)
        fclose(in);
    cairn_store_destroy(&store);
    return exit_code;
}
