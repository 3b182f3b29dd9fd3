/* runrecord_cases.h - test_cli cases for what is kept with a run and
 * what is checked before a run writes anything (issue 14): a taken run
 * id, the README tour run twice in one store, the superstep limit and
 * checkpoint policy a resume keeps, plugins by absolute path and hash,
 * util.exec refused before the store is touched. Included by test_cli.c
 * after timetravel_cases.h (it uses their helpers: s_cairn, s_expect,
 * s_spec, s_json, s_store_listing, ...).
 */

#include "cairn/store.h" /* the run record, read back as the C API sees it */

#define RR_PIPELINE CAIRN_EXAMPLES "/text-pipeline.json"

#define RR_EXEC_SPEC                                                           \
    "{\"name\": \"exec\", \"start\": \"cat\", \"executors\": ["                \
    "{\"id\": \"cat\", \"type\": \"util.exec\", \"config\": "                  \
    "{\"argv\": [\"/bin/cat\"]}},"                                             \
    "{\"id\": \"out\", \"type\": \"text.output\"}],"                           \
    "\"edges\": [{\"from\": \"cat\", \"to\": \"out\"}]}"

/* Runs cairn with args (NULL-terminated) in directory dir, through the
 * shell; stdout and stderr into r. Only for paths without spaces. */
static void
rr_cairn_in_dir(s_result_t *r, const char *dir, ...)
{
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "cd %s && exec %s", dir, CAIRN_BIN) > 0);
    va_list args;
    va_start(args, dir);
    const char *arg;
    while ((arg = va_arg(args, const char *)) != NULL) {
        char *grown = NULL;
        assert_true(asprintf(&grown, "%s '%s'", cmd, arg) > 0);
        free(cmd);
        cmd = grown;
    }
    va_end(args);
    const char *out = s_path("rr.out"), *err = s_path("rr.err");
    char *full = NULL;
    assert_true(asprintf(&full, "%s >%s 2>%s", cmd, out, err) > 0);
    free(cmd);
    int status = system(full);
    free(full);
    memset(r, 0, sizeof *r);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    r->out = s_slurp(out, &r->out_len);
    r->err = s_slurp(err, NULL);
    s_check_sanitizers(r->err);
}

/* ---- a run id names one run ---- */

/* The reproduction of issue 14: a second `run --run-id x` of another
 * workflow used to exit 0 and mix its checkpoints into x's. */
static void
test_cli_run_id_taken(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", s_spec("cycle.json", CYCLE_SPEC), "--input", "0",
            "--db", db, "--run-id", "x", NULL);
    s_expect(&r, 0, "11\n", NULL);
    const char *before = s_store_listing(db);
    s_cairn(&r, "run", RR_PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "x", NULL);
    s_expect(&r, 2, "", "run x exists; resume it or choose another id");
    assert_null(strstr(r.err, "run x\n")); /* refused before it started */
    /* the same spec, --json and a limit change nothing either */
    s_cairn(&r, "run", s_spec("cycle.json", CYCLE_SPEC), "--input", "0",
            "--db", db, "--run-id", "x", "--json", "--max-supersteps", "3",
            NULL);
    s_expect(&r, 2, "", "run x exists");
    assert_string_equal(s_store_listing(db), before);
    /* the old run is whole: a fork of x@5 goes on with the cycle */
    s_cairn(&r, "fork", "x@5", "--db", db, "--resume", NULL);
    s_expect(&r, 0, "11\n", NULL);
}

/* The README tour's commands with fixed run ids, twice in one store: the
 * second time each is refused clearly (exit 2) and the store stays as
 * the first time left it; a generated id (no --run-id) always works. */
static void
test_cli_readme_tour_twice(void **state)
{
    (void)state;
    const char *db = s_path("db");
    const char *counter = CAIRN_EXAMPLES "/counter.json";
    const char *approval = CAIRN_EXAMPLES "/approval.json";
    s_result_t r = {0};
    /* first time: kill -9 mid-way, resume, fork, approval */
    s_proc_t p;
    s_start(&p, "run", counter, "--input", "0", "--run-id", "c", "--db", db,
            NULL);
    s_wait_checkpoints(db, "c", 12);
    kill(p.pid, SIGKILL);
    s_wait(&p, &r);
    s_cairn(&r, "resume", "c", "--db", db, NULL);
    s_expect(&r, 0, "101\n", NULL);
    const char *fork_args[] = {"c@10", "--run-id", "f", "--drop-messages",
                               "--send", "ping=90", "--resume"};
    s_cairn(&r, "fork", fork_args[0], fork_args[1], fork_args[2],
            fork_args[3], fork_args[4], fork_args[5], fork_args[6], "--db",
            db, NULL);
    s_expect(&r, 0, "101\n", NULL);
    s_cairn(&r, "run", approval, "--input", "draft", "--run-id", "a", "--db",
            db, NULL);
    s_expect(&r, 3, "", "request approve.2.1");
    s_cairn(&r, "resume", "a", "--respond", "approve.2.1=yes", "--db", db,
            NULL);
    s_expect(&r, 0, "DRAFT\n", NULL);
    const char *before = s_store_listing(db);

    /* second time: every fixed id is refused, nothing changes */
    s_cairn(&r, "run", counter, "--input", "0", "--run-id", "c", "--db", db,
            NULL);
    s_expect(&r, 2, "", "run c exists; resume it or choose another id");
    s_cairn(&r, "fork", fork_args[0], fork_args[1], fork_args[2],
            fork_args[3], fork_args[4], fork_args[5], fork_args[6], "--db",
            db, NULL);
    s_expect(&r, 2, "", "run 'f' already exists");
    s_cairn(&r, "run", approval, "--input", "draft", "--run-id", "a", "--db",
            db, NULL);
    s_expect(&r, 2, "", "run a exists; resume it or choose another id");
    s_cairn(&r, "resume", "a", "--respond", "approve.2.1=yes", "--db", db,
            NULL);
    s_expect(&r, 2, "", "request 'approve.2.1' of run 'a' was already "
                        "answered");
    assert_string_equal(s_store_listing(db), before);

    /* what the README shows instead: no --run-id, the id from stderr */
    s_cairn(&r, "run", approval, "--input", "draft", "--db", db, NULL);
    s_expect(&r, 3, "", "request approve.2.1");
    char id[96];
    s_run_id(&r, id, sizeof id);
    s_cairn(&r, "resume", id, "--respond", "approve.2.1=yes", "--db", db,
            NULL);
    s_expect(&r, 0, "DRAFT\n", NULL);
}

/* ---- kept with the run ---- */

/* --max-supersteps and --checkpoint belong to the run: a plain resume
 * keeps them; a resume with a new limit keeps that one. */
static void
test_cli_limit_and_policy_kept(void **state)
{
    (void)state;
    const char *db = s_path("db");
    const char *spec = s_spec("cycle.json", CYCLE_SPEC);
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "c",
            "--max-supersteps", "3", "--checkpoint", "every:5", NULL);
    s_expect(&r, 4, "", "resume with a higher --max-supersteps");
    s_cairn(&r, "resume", "c", "--db", db, NULL);
    s_expect(&r, 4, "", "run c failed");
    s_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "7", NULL);
    s_expect(&r, 4, "", NULL);
    s_cairn(&r, "resume", "c", "--db", db, NULL);
    s_expect(&r, 4, "", NULL);
    assert_int_equal(
        json_integer_value(json_object_get(s_run_entry(db, "c"), "superstep")),
        7);
    s_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "100", NULL);
    s_expect(&r, 0, "11\n", NULL);
    /* every:5 throughout: the limits (3, 7), 5, 10 and the end (12) */
    assert_string_equal(s_checkpoint_ids(db, "c"),
                        "c@12,c@10,c@7,c@5,c@3,c@0");
    /* a resume may change the policy, and the change is kept */
    s_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "d",
            "--max-supersteps", "2", "--checkpoint", "on-error", NULL);
    s_expect(&r, 4, "", NULL);
    s_cairn(&r, "resume", "d", "--db", db, "--max-supersteps", "4",
            "--checkpoint", "every", NULL);
    s_expect(&r, 4, "", NULL);
    s_cairn(&r, "resume", "d", "--db", db, "--max-supersteps", "100", NULL);
    s_expect(&r, 0, "11\n", NULL);
    assert_non_null(strstr(s_checkpoint_ids(db, "d"), "d@11,d@10,d@9"));
}

/* The run record of run in db, through the C API (free with
 * cairn_run_info_destroy(&info, 1)). */
static cairn_run_info_t *
rr_record(const char *db, const char *run)
{
    cairn_store_t *store = NULL;
    cairn_store_options_t opts = {.read_only = true};
    cairn_error_t err;
    assert_int_equal(cairn_store_open(&store, db, &opts, &err), CAIRN_OK);
    cairn_run_info_t *info = NULL;
    assert_int_equal(cairn_store_get_run(store, run, &info, &err), CAIRN_OK);
    cairn_store_destroy(&store);
    return info;
}

/* --durability and --keep-events belong to the run too: a plain resume
 * keeps them, a resume that gives them changes them for later. */
static void
test_cli_durability_and_events_kept(void **state)
{
    (void)state;
    const char *db = s_path("db");
    const char *spec = s_spec("cycle.json", CYCLE_SPEC);
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "c",
            "--max-supersteps", "2", "--durability", "machine",
            "--keep-events", "5", NULL);
    s_expect(&r, 4, "", NULL);
    s_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "4", NULL);
    s_expect(&r, 4, "", NULL);
    cairn_run_info_t *info = rr_record(db, "c");
    assert_string_equal(info->durability, "machine");
    assert_int_equal(info->keep_events, 5);
    cairn_run_info_destroy(&info, 1);
    s_cairn(&r, "events", "c", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    size_t lines = 0;
    json_t **events = s_json_lines(r.out, &lines);
    (void)events;
    assert_true(lines <= 5);
    s_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "6",
            "--durability", "process", "--keep-events", "100", NULL);
    s_expect(&r, 4, "", NULL);
    info = rr_record(db, "c");
    assert_string_equal(info->durability, "process");
    assert_int_equal(info->keep_events, 100);
    cairn_run_info_destroy(&info, 1);
    s_cairn(&r, "resume", "c", "--db", db, "--durability", "none", NULL);
    s_expect(&r, 2, "", "--durability none keeps nothing");
}

/* A run started with a relative --plugin resumes from any directory; a
 * library replaced since is refused, naming it and both hashes, unless
 * --plugin names it again. */
static void
test_cli_plugin_kept_by_path_and_hash(void **state)
{
    (void)state;
    const char *lib = s_path("lib");
    assert_int_equal(mkdir(lib, 0700), 0);
    size_t len = 0;
    char *bytes = s_slurp(GREET_SO, &len);
    s_write(s_path("lib/libgreet.so"), bytes, len);
    const char *db = s_path("db");
    s_result_t r = {0};
    rr_cairn_in_dir(&r, s_dir, "run", GREET, "--plugin", "lib/libgreet.so",
                    "--input", "x, please", "--db", db, "--run-id", "g",
                    "--max-supersteps", "1", NULL);
    s_expect(&r, 4, "", NULL);
    /* from another directory, where lib/libgreet.so is not */
    rr_cairn_in_dir(&r, "/", "resume", "g", "--db", db, "--max-supersteps",
                    "1", NULL);
    s_expect(&r, 4, "", NULL);

    /* the same file with one byte more: another library */
    char *changed = s_keep(malloc(len + 1));
    memcpy(changed, bytes, len);
    changed[len] = 'x';
    s_write(s_path("lib/libgreet.so"), changed, len + 1);
    const char *before = s_store_listing(db);
    rr_cairn_in_dir(&r, "/", "resume", "g", "--db", db, "--max-supersteps",
                    "5", NULL);
    s_expect(&r, 2, "", "lib/libgreet.so has changed since run g started");
    assert_non_null(strstr(r.err, "SHA-256 was "));
    assert_non_null(strstr(r.err, "--plugin"));
    assert_string_equal(s_store_listing(db), before);
    /* naming the library again takes it, and keeps it for later */
    rr_cairn_in_dir(&r, s_dir, "resume", "g", "--db", db, "--plugin",
                    "lib/libgreet.so", "--max-supersteps", "5", NULL);
    s_expect(&r, 0, "hello, x, please\n", NULL);
}

/* util.exec without --allow-exec is refused before the store is written,
 * on run, resume and fork --resume: exit 2 and no run, checkpoint or
 * fork left behind. */
static void
test_cli_exec_refused_before_write(void **state)
{
    (void)state;
    const char *db = s_path("db");
    const char *spec = s_spec("exec.json", RR_EXEC_SPEC);
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "hi", "--db", db, "--run-id", "e",
            NULL);
    s_expect(&r, 2, "", "executor 'cat' is util.exec");
    s_expect(&r, 2, "", "--allow-exec");
    assert_false(s_exists(db)); /* not even the store was made */
    s_cairn(&r, "run", RR_PIPELINE, "--input", "hi", "--db", db, NULL);
    s_expect(&r, 0, "ih\n", NULL);
    const char *empty = s_store_listing(db);
    s_cairn(&r, "run", spec, "--input", "hi", "--db", db, "--run-id", "e",
            NULL);
    s_expect(&r, 2, "", "executor 'cat' is util.exec");
    assert_string_equal(s_store_listing(db), empty);

    s_cairn(&r, "run", spec, "--input", "hi", "--db", db, "--run-id", "e",
            "--allow-exec", "--max-supersteps", "1", NULL);
    s_expect(&r, 4, "", NULL);
    const char *before = s_store_listing(db);
    s_cairn(&r, "resume", "e", "--db", db, "--max-supersteps", "5", NULL);
    s_expect(&r, 2, "", "executor 'cat' is util.exec");
    s_cairn(&r, "fork", "e@0", "--run-id", "ef", "--db", db, "--resume",
            NULL);
    s_expect(&r, 2, "", "executor 'cat' is util.exec");
    assert_string_equal(s_store_listing(db), before);
    s_cairn(&r, "resume", "e", "--db", db, "--max-supersteps", "5",
            "--allow-exec", NULL);
    s_expect(&r, 0, "hi\n", NULL);

    /* recover: an interrupted run with util.exec stays as it was */
    const char *slow = s_spec(
        "slow.json", "{\"start\": \"s\", \"executors\": [{\"id\": \"s\", "
                     "\"type\": \"util.exec\", \"config\": {\"argv\": "
                     "[\"/bin/sleep\", \"5\"]}}]}");
    s_proc_t p;
    s_start(&p, "run", slow, "--db", db, "--run-id", "slow", "--allow-exec",
            NULL);
    s_wait_checkpoints(db, "slow", 1);
    kill(p.pid, SIGKILL);
    s_wait(&p, &r);
    assert_string_equal(s_run_status(db, "slow"), "interrupted");
    before = s_store_listing(db);
    s_cairn(&r, "recover", "--db", db, NULL);
    s_expect(&r, 1, NULL, "executor 's' is util.exec");
    assert_string_equal(s_store_listing(db), before);
}

#define RUNRECORD_TESTS                                                        \
    T(test_cli_run_id_taken), T(test_cli_readme_tour_twice),                   \
        T(test_cli_limit_and_policy_kept),                                     \
        T(test_cli_durability_and_events_kept),                                \
        T(test_cli_plugin_kept_by_path_and_hash),                              \
        T(test_cli_exec_refused_before_write)
