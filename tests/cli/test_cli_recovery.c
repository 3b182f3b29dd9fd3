/* test_cli_recovery - the real `cairn` command resumes what was stopped:
 * kill -9 and resume, recover of several runs, retries from the spec,
 * automatic resume, dead letters.
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
test_cli_kill_and_resume(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 15);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    json_t *expected = tc_uninterrupted(spec);

    tc_proc_t victim;
    tc_close_gate();
    tc_start(&victim, "run", spec, "--input", "0", "--db", db, "--run-id", "k",
            "--allow-exec", NULL);
    tc_wait_checkpoints(db, "k", 4);
    assert_int_equal(kill(victim.pid, SIGKILL), 0);
    tc_wait(&victim, &r);
    assert_int_equal(r.code, 128 + SIGKILL);
    tc_open_gate();

    assert_string_equal(tc_run_status(db, "k"), "interrupted");
    tc_cairn(&r, "runs", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "interrupted"));

    tc_cairn(&r, "resume", "k", "--db", db, "--json", "--allow-exec", NULL);
    tc_expect(&r, 0, NULL, "run k");
    json_t *got = tc_json(r.out);
    tc_assert_same_run(got, expected);
    assert_string_equal(json_string_value(json_object_get(got, "status")),
                        "completed");

    assert_string_equal(tc_run_status(db, "k"), "completed");
}

/* Three durable runs in one store, each SIGKILLed mid-run, are all
 * completed by one `cairn recover` with the uninterrupted result; a
 * completed run is left alone, and a second recover finds nothing. */
static void
test_cli_recover_three_runs(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 8);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    json_t *expected = tc_uninterrupted(spec);
    tc_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "done",
            "--allow-exec", NULL);
    tc_expect(&r, 0, NULL, NULL);
    const char *ids[] = {"r1", "r2", "r3"};
    tc_close_gate();
    for (int i = 0; i < 3; i++) {
        tc_proc_t victim;
        tc_start(&victim, "run", spec, "--input", "0", "--db", db, "--run-id",
                ids[i], "--allow-exec", NULL);
        tc_wait_checkpoints(db, ids[i], 3 + (size_t)i);
        assert_int_equal(kill(victim.pid, SIGKILL), 0);
        tc_wait(&victim, &r);
        assert_string_equal(tc_run_status(db, ids[i]), "interrupted");
    }
    tc_open_gate();
    tc_cairn(&r, "recover", "--db", db, "--json", "--allow-exec", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *report = tc_json(r.out);
    assert_int_equal(json_array_size(report), 3);
    for (int i = 0; i < 3; i++) {
        json_t *entry = json_array_get(report, (size_t)i);
        assert_string_equal(
            json_string_value(json_object_get(entry, "run_id")), ids[i]);
        assert_string_equal(
            json_string_value(json_object_get(entry, "status")), "completed");
        assert_int_equal(
            json_integer_value(json_object_get(entry, "supersteps")),
            json_integer_value(json_object_get(expected, "supersteps")));
        assert_string_equal(tc_run_status(db, ids[i]), "completed");
        /* resuming a completed run prints all its outputs */
        tc_cairn(&r, "resume", ids[i], "--db", db, "--json", "--allow-exec",
                NULL);
        tc_expect(&r, 0, NULL, "already completed");
        assert_true(json_equal(json_object_get(tc_json(r.out), "outputs"),
                               json_object_get(expected, "outputs")));
    }
    tc_cairn(&r, "recover", "--db", db, NULL);
    tc_expect(&r, 0, "", "no interrupted runs");
}

/* ---- retries ---- */

#define RETRY_SPEC(ATTEMPTS)                                                   \
    "{\"start\": \"flaky\", \"retry\": {\"max_attempts\": 9},"                  \
    " \"executors\": [{\"id\": \"flaky\", \"type\": \"util.fail\","             \
    " \"config\": {\"first_attempts\": 2}, \"retry\": {\"max_attempts\": "      \
    #ATTEMPTS ", \"backoff_ms\": 5}},"                                        \
    " {\"id\": \"out\", \"type\": \"text.output\"}],"                           \
    " \"edges\": [{\"from\": \"flaky\", \"to\": \"out\"}]}"

/* util.fail failing its first two attempts: three attempts (the
 * executor's own policy, not the default of 9) succeed with two
 * executor_retry events; two attempts fail the run. */
static void
test_cli_retry_from_spec(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", tc_spec("three.json", RETRY_SPEC(3)), "--db", db,
            "--input", "ok", "--events", NULL);
    tc_expect(&r, 0, "ok\n", "\"event\":\"executor_retry\"");
    size_t retries = 0;
    for (const char *p = r.err; (p = strstr(p, "executor_retry")); p++)
        retries++;
    assert_int_equal(retries, 2);
    assert_non_null(strstr(r.err, "\"detail\":\"attempt 2 failed: util.fail"));
    tc_cairn(&r, "run", tc_spec("two.json", RETRY_SPEC(2)), "--db", db,
            "--input", "ok", NULL);
    tc_expect(&r, 1, "", "failing as configured (attempt 2");
}

/* A spec whose "fragile" step (util.exec) fails while the file at marker
 * does not exist, creating it (a fault that goes away); with always it
 * fails every time. */
static const char *
s_fragile_spec(const char *name, const char *marker, bool always)
{
    char *json = NULL;
    assert_true(
        asprintf(&json,
                 "{\"start\": \"fragile\", \"executors\": ["
                 "{\"id\": \"fragile\", \"type\": \"util.exec\", \"config\":"
                 " {\"argv\": [\"sh\", \"-c\", \"%s\", \"%s\"]}},"
                 "{\"id\": \"out\", \"type\": \"text.output\"}],"
                 "\"edges\": [{\"from\": \"fragile\", \"to\": \"out\"}]}",
                 always ? "exit 3"
                        : "test -e $0 && cat || { touch $0; exit 3; }",
                 marker)
        > 0);
    return tc_spec(name, tc_keep(json));
}

/* --auto-resume: a transient failure is resumed past; a permanent one
 * gives up after N resumes with the failure's exit code. */
static void
test_cli_auto_resume(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", s_fragile_spec("once.json", tc_path("m1"), false),
            "--db", db, "--input", "hi", "--allow-exec", "--auto-resume", "2",
            NULL);
    tc_expect(&r, 0, "hi\n", "(auto-resume 1 of 2)");
    assert_null(strstr(r.err, "auto-resume 2 of 2"));
    tc_cairn(&r, "run", s_fragile_spec("once2.json", tc_path("m2"), false),
            "--db", db, "--input", "hi", "--allow-exec", NULL);
    tc_expect(&r, 1, "", "exited with status 3");
    tc_cairn(&r, "run", s_fragile_spec("always.json", tc_path("m3"), true),
            "--db", db, "--input", "hi", "--allow-exec", "--auto-resume", "2",
            "--run-id", "always", NULL);
    tc_expect(&r, 1, "", "(auto-resume 2 of 2)");
    assert_string_equal(tc_run_status(db, "always"), "failed");
}

/* on_failure dead-letter: the poison message is set aside (shown in the
 * checkpoint) and the other branch's output is produced. */
static void
test_cli_dead_letter(void **state)
{
    (void)state;
    const char *spec = tc_spec(
        "dl.json",
        "{\"start\": \"split\", \"executors\": ["
        "{\"id\": \"split\", \"type\": \"text.upper\"},"
        "{\"id\": \"poison\", \"type\": \"util.fail\", \"config\": "
        "{\"when\": {\"eq\": \"BAD\"}}, \"on_failure\": \"dead-letter\"},"
        "{\"id\": \"good\", \"type\": \"text.output\"}],"
        "\"edges\": [{\"from\": \"split\", \"to\": [\"poison\", \"good\"]}]}");
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--db", db, "--input", "bad", "--run-id", "d",
            NULL);
    tc_expect(&r, 0, "BAD\n", NULL);
    tc_cairn(&r, "show", "d@2", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *letters = json_object_get(tc_json(r.out), "dead_letters");
    assert_int_equal(json_array_size(letters), 1);
    json_t *letter = json_array_get(letters, 0);
    assert_string_equal(
        json_string_value(json_object_get(letter, "executor")), "poison");
    assert_string_equal(json_string_value(json_object_get(letter, "payload")),
                        "BAD");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_kill_and_resume),
        TC_TEST(test_cli_retry_from_spec),
        TC_TEST(test_cli_auto_resume),
        TC_TEST(test_cli_recover_three_runs),
        TC_TEST(test_cli_dead_letter),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
