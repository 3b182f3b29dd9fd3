/* test_cli_runrecord - the real `cairn` command: what is kept with a run and
 * what is checked before a run writes anything (issue 14): a taken run
 * id, the README tour run twice in one store, the superstep limit and
 * checkpoint policy a resume keeps, plugins by absolute path and hash,
 * util.exec refused before the store is touched.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/cli/cli_harness.h"
#include "tests/test_util.h"

#include "cairn/store.h" /* the run record, read back as the C API sees it */

#define RR_PIPELINE CAIRN_EXAMPLES "/text-pipeline.json"

#define RR_EXEC_SPEC                                                           \
    "{\"name\": \"exec\", \"start\": \"cat\", \"executors\": ["                \
    "{\"id\": \"cat\", \"type\": \"util.exec\", \"config\": "                  \
    "{\"argv\": [\"/bin/cat\"]}},"                                             \
    "{\"id\": \"out\", \"type\": \"text.output\"}],"                           \
    "\"edges\": [{\"from\": \"cat\", \"to\": \"out\"}]}"

/* The directory rr_cairn_in_dir's child starts in. */
static const char *s_rr_dir;

static void
s_rr_chdir(void)
{
    if (chdir(s_rr_dir) != 0)
        _exit(126);
}

/* Runs cairn with args (NULL-terminated) in directory dir; stdout and
 * stderr into r. */
static void
rr_cairn_in_dir(tc_result_t *r, const char *dir, ...)
{
    s_rr_dir = dir;
    tc_before_exec = s_rr_chdir;
    tc_proc_t p;
    va_list args;
    va_start(args, dir);
    tc_vstart(&p, NULL, 0, args);
    va_end(args);
    tc_before_exec = NULL;
    tc_wait(&p, r);
}

/* ---- a run id names one run ---- */

/* The reproduction of issue 14: a second `run --run-id x` of another
 * workflow used to exit 0 and mix its checkpoints into x's. */
static void
test_cli_run_id_taken(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", tc_spec("cycle.json", CYCLE_SPEC), "--input", "0",
            "--db", db, "--run-id", "x", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    const char *before = tc_store_listing(db);
    tc_cairn(&r, "run", RR_PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "x", NULL);
    tc_expect(&r, 2, "", "run x exists; resume it or choose another id");
    assert_null(strstr(r.err, "run x\n")); /* refused before it started */
    /* the same spec, --json and a limit change nothing either */
    tc_cairn(&r, "run", tc_spec("cycle.json", CYCLE_SPEC), "--input", "0",
            "--db", db, "--run-id", "x", "--json", "--max-supersteps", "3",
            NULL);
    tc_expect(&r, 2, "", "run x exists");
    assert_string_equal(tc_store_listing(db), before);
    /* the old run is whole: a fork of x@5 goes on with the cycle */
    tc_cairn(&r, "fork", "x@5", "--db", db, "--resume", NULL);
    tc_expect(&r, 0, "11\n", NULL);
}

/* The README tour's commands with fixed run ids, twice in one store: the
 * second time each is refused clearly (exit 2) and the store stays as
 * the first time left it; a generated id (no --run-id) always works. */
static void
test_cli_readme_tour_twice(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    const char *counter = CAIRN_EXAMPLES "/counter.json";
    const char *approval = CAIRN_EXAMPLES "/approval.json";
    tc_result_t r = {0};
    /* first time: kill -9 mid-way, resume, fork, approval */
    tc_proc_t p;
    tc_start(&p, "run", counter, "--input", "0", "--run-id", "c", "--db", db,
            NULL);
    tc_wait_checkpoints(db, "c", 12);
    kill(p.pid, SIGKILL);
    tc_wait(&p, &r);
    tc_cairn(&r, "resume", "c", "--db", db, NULL);
    tc_expect(&r, 0, "101\n", NULL);
    const char *fork_args[] = {"c@10", "--run-id", "f", "--drop-messages",
                               "--send", "ping=90", "--resume"};
    tc_cairn(&r, "fork", fork_args[0], fork_args[1], fork_args[2],
            fork_args[3], fork_args[4], fork_args[5], fork_args[6], "--db",
            db, NULL);
    tc_expect(&r, 0, "101\n", NULL);
    tc_cairn(&r, "run", approval, "--input", "draft", "--run-id", "a", "--db",
            db, NULL);
    tc_expect(&r, 3, "", "request approve.2.1");
    tc_cairn(&r, "resume", "a", "--respond", "approve.2.1=yes", "--db", db,
            NULL);
    tc_expect(&r, 0, "DRAFT\n", NULL);
    const char *before = tc_store_listing(db);

    /* second time: every fixed id is refused, nothing changes */
    tc_cairn(&r, "run", counter, "--input", "0", "--run-id", "c", "--db", db,
            NULL);
    tc_expect(&r, 2, "", "run c exists; resume it or choose another id");
    tc_cairn(&r, "fork", fork_args[0], fork_args[1], fork_args[2],
            fork_args[3], fork_args[4], fork_args[5], fork_args[6], "--db",
            db, NULL);
    tc_expect(&r, 2, "", "run 'f' already exists");
    tc_cairn(&r, "run", approval, "--input", "draft", "--run-id", "a", "--db",
            db, NULL);
    tc_expect(&r, 2, "", "run a exists; resume it or choose another id");
    tc_cairn(&r, "resume", "a", "--respond", "approve.2.1=yes", "--db", db,
            NULL);
    tc_expect(&r, 2, "", "request 'approve.2.1' of run 'a' was already "
                        "answered");
    assert_string_equal(tc_store_listing(db), before);

    /* what the README shows instead: no --run-id, the id from stderr */
    tc_cairn(&r, "run", approval, "--input", "draft", "--db", db, NULL);
    tc_expect(&r, 3, "", "request approve.2.1");
    char id[96];
    tc_run_id(&r, id, sizeof id);
    tc_cairn(&r, "resume", id, "--respond", "approve.2.1=yes", "--db", db,
            NULL);
    tc_expect(&r, 0, "DRAFT\n", NULL);
}

/* ---- kept with the run ---- */

/* --max-supersteps and --checkpoint belong to the run: a plain resume
 * keeps them; a resume with a new limit keeps that one. */
static void
test_cli_limit_and_policy_kept(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    const char *spec = tc_spec("cycle.json", CYCLE_SPEC);
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "c",
            "--max-supersteps", "3", "--checkpoint", "every:5", NULL);
    tc_expect(&r, 4, "", "resume with a higher --max-supersteps");
    tc_cairn(&r, "resume", "c", "--db", db, NULL);
    tc_expect(&r, 4, "", "run c failed");
    tc_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "7", NULL);
    tc_expect(&r, 4, "", NULL);
    tc_cairn(&r, "resume", "c", "--db", db, NULL);
    tc_expect(&r, 4, "", NULL);
    assert_int_equal(
        json_integer_value(json_object_get(tc_run_entry(db, "c"), "superstep")),
        7);
    tc_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "100", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    /* every:5 throughout: the limits (3, 7), 5, 10 and the end (12) */
    assert_string_equal(tc_checkpoint_ids(db, "c"),
                        "c@12,c@10,c@7,c@5,c@3,c@0");
    /* a resume may change the policy, and the change is kept */
    tc_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "d",
            "--max-supersteps", "2", "--checkpoint", "on-error", NULL);
    tc_expect(&r, 4, "", NULL);
    tc_cairn(&r, "resume", "d", "--db", db, "--max-supersteps", "4",
            "--checkpoint", "every", NULL);
    tc_expect(&r, 4, "", NULL);
    tc_cairn(&r, "resume", "d", "--db", db, "--max-supersteps", "100", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    assert_non_null(strstr(tc_checkpoint_ids(db, "d"), "d@11,d@10,d@9"));
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
    const char *db = tc_path("db");
    const char *spec = tc_spec("cycle.json", CYCLE_SPEC);
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "c",
            "--max-supersteps", "2", "--durability", "machine",
            "--keep-events", "5", NULL);
    tc_expect(&r, 4, "", NULL);
    tc_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "4", NULL);
    tc_expect(&r, 4, "", NULL);
    cairn_run_info_t *info = rr_record(db, "c");
    assert_string_equal(info->durability, "machine");
    assert_int_equal(info->keep_events, 5);
    cairn_run_info_destroy(&info, 1);
    tc_cairn(&r, "events", "c", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    size_t lines = 0;
    json_t **events = tc_json_lines(r.out, &lines);
    (void)events;
    assert_true(lines <= 5);
    tc_cairn(&r, "resume", "c", "--db", db, "--max-supersteps", "6",
            "--durability", "process", "--keep-events", "100", NULL);
    tc_expect(&r, 4, "", NULL);
    info = rr_record(db, "c");
    assert_string_equal(info->durability, "process");
    assert_int_equal(info->keep_events, 100);
    cairn_run_info_destroy(&info, 1);
    tc_cairn(&r, "resume", "c", "--db", db, "--durability", "none", NULL);
    tc_expect(&r, 2, "", "--durability none keeps nothing");
}

/* A run started with a relative --plugin resumes from any directory; a
 * library replaced since is refused, naming it and both hashes, unless
 * --plugin names it again. */
static void
test_cli_plugin_kept_by_path_and_hash(void **state)
{
    (void)state;
    const char *lib = tc_path("lib");
    assert_int_equal(mkdir(lib, 0700), 0);
    size_t len = 0;
    char *bytes = tc_slurp(GREET_SO, &len);
    th_write(tc_path("lib/libgreet.so"), bytes, len);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    rr_cairn_in_dir(&r, tc_dir, "run", GREET, "--plugin", "lib/libgreet.so",
                    "--input", "x, please", "--db", db, "--run-id", "g",
                    "--max-supersteps", "1", NULL);
    tc_expect(&r, 4, "", NULL);
    /* from another directory, where lib/libgreet.so is not */
    rr_cairn_in_dir(&r, "/", "resume", "g", "--db", db, "--max-supersteps",
                    "1", NULL);
    tc_expect(&r, 4, "", NULL);

    /* the same file with one byte more: another library */
    char *changed = tc_keep(malloc(len + 1));
    memcpy(changed, bytes, len);
    changed[len] = 'x';
    th_write(tc_path("lib/libgreet.so"), changed, len + 1);
    const char *before = tc_store_listing(db);
    rr_cairn_in_dir(&r, "/", "resume", "g", "--db", db, "--max-supersteps",
                    "5", NULL);
    tc_expect(&r, 2, "", "lib/libgreet.so has changed since run g started");
    assert_non_null(strstr(r.err, "SHA-256 was "));
    assert_non_null(strstr(r.err, "--plugin"));
    assert_string_equal(tc_store_listing(db), before);
    /* naming the library again takes it, and keeps it for later */
    rr_cairn_in_dir(&r, tc_dir, "resume", "g", "--db", db, "--plugin",
                    "lib/libgreet.so", "--max-supersteps", "5", NULL);
    tc_expect(&r, 0, "hello, x, please\n", NULL);
}

/* util.exec without --allow-exec is refused before the store is written,
 * on run, resume and fork --resume: exit 2 and no run, checkpoint or
 * fork left behind. */
static void
test_cli_exec_refused_before_write(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    const char *spec = tc_spec("exec.json", RR_EXEC_SPEC);
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "hi", "--db", db, "--run-id", "e",
            NULL);
    tc_expect(&r, 2, "", "executor 'cat' is util.exec");
    tc_expect(&r, 2, "", "--allow-exec");
    assert_false(tc_exists(db)); /* not even the store was made */
    tc_cairn(&r, "run", RR_PIPELINE, "--input", "hi", "--db", db, NULL);
    tc_expect(&r, 0, "ih\n", NULL);
    const char *empty = tc_store_listing(db);
    tc_cairn(&r, "run", spec, "--input", "hi", "--db", db, "--run-id", "e",
            NULL);
    tc_expect(&r, 2, "", "executor 'cat' is util.exec");
    assert_string_equal(tc_store_listing(db), empty);

    tc_cairn(&r, "run", spec, "--input", "hi", "--db", db, "--run-id", "e",
            "--allow-exec", "--max-supersteps", "1", NULL);
    tc_expect(&r, 4, "", NULL);
    const char *before = tc_store_listing(db);
    tc_cairn(&r, "resume", "e", "--db", db, "--max-supersteps", "5", NULL);
    tc_expect(&r, 2, "", "executor 'cat' is util.exec");
    tc_cairn(&r, "fork", "e@0", "--run-id", "ef", "--db", db, "--resume",
            NULL);
    tc_expect(&r, 2, "", "executor 'cat' is util.exec");
    assert_string_equal(tc_store_listing(db), before);
    tc_cairn(&r, "resume", "e", "--db", db, "--max-supersteps", "5",
            "--allow-exec", NULL);
    tc_expect(&r, 0, "hi\n", NULL);

    /* recover: an interrupted run with util.exec stays as it was */
    const char *slow = tc_spec(
        "slow.json", "{\"start\": \"s\", \"executors\": [{\"id\": \"s\", "
                     "\"type\": \"util.exec\", \"config\": {\"argv\": "
                     "[\"/bin/sleep\", \"5\"]}}]}");
    tc_proc_t p;
    tc_start(&p, "run", slow, "--db", db, "--run-id", "slow", "--allow-exec",
            NULL);
    tc_wait_checkpoints(db, "slow", 1);
    kill(p.pid, SIGKILL);
    tc_wait(&p, &r);
    assert_string_equal(tc_run_status(db, "slow"), "interrupted");
    before = tc_store_listing(db);
    tc_cairn(&r, "recover", "--db", db, NULL);
    tc_expect(&r, 1, NULL, "executor 's' is util.exec");
    assert_string_equal(tc_store_listing(db), before);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_run_id_taken),
        TC_TEST(test_cli_readme_tour_twice),
        TC_TEST(test_cli_limit_and_policy_kept),
        TC_TEST(test_cli_durability_and_events_kept),
        TC_TEST(test_cli_plugin_kept_by_path_and_hash),
        TC_TEST(test_cli_exec_refused_before_write),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
