/* test_cli_exit - the exit codes of the real `cairn` command (docs/cli.md):
 * a failed handler, a storage error, oversized input, usage errors,
 * unknown ids, bad specs, the superstep limit, a locked store.
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

static void
test_cli_exit_failed_handler(void **state)
{
    (void)state;
    const char *spec = tc_spec(
        "fail.json",
        "{\"start\": \"a\", \"executors\": [\n"
        " {\"id\": \"a\", \"type\": \"util.fail\", \"config\": {\"when\": "
        "{\"eq\": \"boom\"}}},\n"
        " {\"id\": \"o\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"a\", \"to\": \"o\"}]}");
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "boom", "--db", db, "--run-id", "f",
            NULL);
    tc_expect(&r, 1, "", "executor 'a' failed");
    tc_cairn(&r, "run", spec, "--input", "boom", "--db", db, "--run-id", "fj",
            "--json", NULL);
    tc_expect(&r, 1, NULL, NULL);
    json_t *doc = tc_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "failed");
    assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 1);
    assert_string_equal(tc_run_status(db, "f"), "failed");
    tc_cairn(&r, "run", spec, "--input", "fine", "--db", db, NULL);
    tc_expect(&r, 0, "fine\n", NULL);
}

static void
test_cli_exit_storage_error(void **state)
{
    (void)state;
    const char *file = tc_path("not-a-dir");
    th_write(file, "x", 1);
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--db", file, NULL);
    tc_expect(&r, 1, "", "not-a-dir");
}

/* An input over the message limit (16 MiB) is refused before anything
 * is stored; a smaller one runs. */
static void
test_cli_exit_oversized_input(void **state)
{
    (void)state;
    const size_t limit = (size_t)16 << 20;
    char *big = malloc(limit + 1);
    assert_non_null(big);
    memset(big, 'a', limit + 1);
    const char *file = tc_path("big.txt");
    th_write(file, big, limit + 1);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input-file", file, "--db", db,
            "--run-id", "big", NULL);
    tc_expect(&r, 2, "",
             "run input of 16777217 bytes exceeds the maximum message size "
             "of 16777216 bytes");
    /* refused while reading, before the store is even made */
    assert_false(tc_exists(db));
    th_write(file, big, 1000);
    tc_cairn(&r, "run", PIPELINE, "--input-file", file, "--db", db,
            "--run-id", "small", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_int_equal(strlen(r.out), 1001);
    free(big);
}

/* A file that is not an export is refused and nothing is imported. */
static void
test_cli_import_garbage(void **state)
{
    (void)state;
    const char *file = tc_path("garbage.exp");
    th_write(file, "garbage\n", 8);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "import", file, "--db", db, NULL);
    tc_expect(&r, 2, "", "export file: not a cairn export");
    tc_cairn(&r, "runs", "--db", db, "--json", NULL);
    tc_expect(&r, 0, "[]\n", NULL);
}

static void
test_cli_exit_usage(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "frobnicate", NULL);
    tc_expect(&r, 2, "", "unknown command 'frobnicate'");
    tc_cairn(&r, NULL);
    tc_expect(&r, 2, "", "usage:");
    tc_cairn(&r, "--help", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "usage:"));
    tc_cairn(&r, "run", PIPELINE, "--frob", NULL);
    tc_expect(&r, 2, "", "--frob");
    tc_cairn(&r, "run", NULL);
    tc_expect(&r, 2, "", "expected 1 argument");
    tc_cairn(&r, "run", tc_path("missing.json"), "--durability", "none", NULL);
    tc_expect(&r, 2, "", "missing.json: No such file or directory");
    tc_cairn(&r, "run", tc_dir, "--durability", "none", NULL);
    tc_expect(&r, 2, "", "Is a directory");
    tc_cairn(&r, "run", PIPELINE, "--max-supersteps", "lots", NULL);
    tc_expect(&r, 2, "", "--max-supersteps");
    tc_cairn(&r, "run", PIPELINE, "--max-supersteps", "0", NULL);
    tc_expect(&r, 2, "", "--max-supersteps");
    tc_cairn(&r, "run", PIPELINE, "--max-supersteps", "-3", NULL);
    tc_expect(&r, 2, "", "--max-supersteps");
    tc_cairn(&r, "checkpoints", "--db", tc_path("db"), NULL);
    tc_expect(&r, 2, "", "checkpoints");
    tc_cairn(&r, "runs", "--bogus", NULL);
    tc_expect(&r, 2, "", "--bogus");
    tc_cairn(&r, "gc", "--keep-last", "many", "--db", tc_path("db"), NULL);
    tc_expect(&r, 2, "", "keep-last");
}

static void
test_cli_exit_usage_resume(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "resume", NULL);
    tc_expect(&r, 2, "", "resume");
    tc_cairn(&r, "resume", "x", "--frob", NULL);
    tc_expect(&r, 2, "", "--frob");
    tc_cairn(&r, "resume", "x", "--input", "y", NULL);
    tc_expect(&r, 2, "", "--input");
}

static void
test_cli_exit_unknown_ids(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, "--run-id",
            "known", NULL);
    tc_expect(&r, 0, "x\n", NULL);
    tc_cairn(&r, "checkpoints", "nope", "--db", db, NULL);
    tc_expect(&r, 2, "", "nope");
    tc_cairn(&r, "show", "nope@1", "--db", db, NULL);
    tc_expect(&r, 2, "", "nope@1");
    tc_cairn(&r, "show", "known@99", "--db", db, NULL);
    tc_expect(&r, 2, "", "known@99");
    tc_cairn(&r, "show", "known", "--db", db, NULL);
    tc_expect(&r, 2, "", "known");
    tc_cairn(&r, "export", "nope", "--db", db, NULL);
    tc_expect(&r, 2, "", "nope");
    tc_cairn(&r, "resume", "nope", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    tc_cairn(&r, "resume", "known@99", "--db", db, NULL);
    tc_expect(&r, 2, "", "known@99");
}

static void
test_cli_exit_bad_spec(void **state)
{
    (void)state;
    const char *spec = tc_spec("bad.json", "{\"start\": 1}");
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "x", "--db", tc_path("db"), NULL);
    tc_expect(&r, 2, "", "bad.json: start: expected a string");
    /* nothing was stored */
    assert_false(tc_exists(tc_path("db")));
}

static void
test_cli_exit_max_supersteps_then_resume(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "m", "--max-supersteps", "2", NULL);
    tc_expect(&r, 4, "", "--max-supersteps");
    assert_string_equal(tc_run_status(db, "m"), "failed");
    /* the same limit again: still 4 */
    tc_cairn(&r, "resume", "m", "--db", db, "--max-supersteps", "3", "--json",
            NULL);
    tc_expect(&r, 4, NULL, NULL);
    json_t *doc = tc_json(r.out);
    assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 4);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "failed");
    tc_cairn(&r, "resume", "m", "--db", db, "--max-supersteps", "10", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", "run m");
}

static void
test_cli_resume_completed_is_noop(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "done", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    char *before = tc_checkpoint_ids(db, "done");
    tc_cairn(&r, "resume", "done", "--db", db, NULL);
    tc_expect(&r, 0, "dlrow olleh\n", "already completed");
    char *after = tc_checkpoint_ids(db, "done");
    assert_string_equal(before, after);
}

static void
test_cli_exit_store_locked(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 100);
    const char *db = tc_path("db");
    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "live", "--allow-exec", NULL);
    tc_wait_checkpoints(db, "live", 2);
    char in_use[64];
    snprintf(in_use, sizeof in_use, "is in use by pid %d", (int)writer.pid);
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, NULL);
    tc_expect(&r, 2, "", in_use);
    tc_cairn(&r, "gc", "--keep-last", "1", "--db", db, NULL);
    tc_expect(&r, 2, "", in_use);
    assert_true(tc_alive(&writer));
    kill(writer.pid, SIGKILL);
    tc_wait(&writer, &r);
    /* the lock goes with the process */
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, NULL);
    tc_expect(&r, 0, "x\n", NULL);
}

static void
test_cli_exit_store_locked_resume(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 100);
    const char *db = tc_path("db");
    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "live", "--allow-exec", NULL);
    tc_wait_checkpoints(db, "live", 2);
    char in_use[64];
    snprintf(in_use, sizeof in_use, "is in use by pid %d", (int)writer.pid);
    tc_result_t r = {0};
    tc_cairn(&r, "resume", "live", "--db", db, NULL);
    int code = r.code;
    char *err = r.err;
    kill(writer.pid, SIGKILL);
    tc_wait(&writer, &r);
    if (code != 2 || !strstr(err, in_use))
        fail_msg("resume on a locked store: exit %d, stderr: %s", code, err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_exit_failed_handler),
        TC_TEST(test_cli_exit_storage_error),
        TC_TEST(test_cli_exit_oversized_input),
        TC_TEST(test_cli_import_garbage),
        TC_TEST(test_cli_exit_usage),
        TC_TEST(test_cli_exit_usage_resume),
        TC_TEST(test_cli_exit_unknown_ids),
        TC_TEST(test_cli_exit_bad_spec),
        TC_TEST(test_cli_exit_max_supersteps_then_resume),
        TC_TEST(test_cli_resume_completed_is_noop),
        TC_TEST(test_cli_exit_store_locked),
        TC_TEST(test_cli_exit_store_locked_resume),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
