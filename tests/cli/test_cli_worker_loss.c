/* test_cli_worker_loss - the real `cairn` command: handlers that crash their
 * worker and handlers that never return.
 *
 * The hostile plugin (tests/plugins/hostile_plugin.c) gives test.segv,
 * which dies of SIGSEGV on every message, and test.hang, which never
 * returns. POISON_SPEC sends the upper-cased input both to `out`, which
 * prints it, and to `poison`, a test.segv with three attempts (RECOVERY
 * is its on_failure line, or nothing).
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

#define HOSTILE_SO CAIRN_HOSTILE_SO

#define POISON_SPEC(RECOVERY)                                                  \
    "{\"name\": \"poison\", \"start\": \"up\",\n"                              \
    " \"executors\": [\n"                                                      \
    "   {\"id\": \"up\", \"type\": \"text.upper\"},\n"                         \
    "   {\"id\": \"poison\", \"type\": \"test.segv\",\n"                       \
    "    \"retry\": {\"max_attempts\": 3}" RECOVERY "},\n"                     \
    "   {\"id\": \"out\", \"type\": \"text.output\"}],\n"                      \
    " \"edges\": [{\"from\": \"up\", \"to\": [\"poison\", \"out\"]}]}\n"

/* How often needle occurs in text. */
static int
s_occurrences(const char *text, const char *needle)
{
    int n = 0;
    for (const char *at = text; (at = strstr(at, needle)) != NULL; at++)
        n++;
    return n;
}

/* Whether a line of text holds all of a, b and c. */
static bool
s_line_with(const char *text, const char *a, const char *b, const char *c)
{
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        char *copy = strndup(line, len);
        assert_non_null(copy);
        bool all = strstr(copy, a) && strstr(copy, b) && strstr(copy, c);
        free(copy);
        if (all)
            return true;
        line += len + (line[len] == '\n');
    }
    return false;
}

/* The store in db is not held by anyone: gc runs (and says nothing
 * about a pid using it). */
static void
s_expect_store_free(const char *db)
{
    tc_result_t r = {0};
    tc_cairn(&r, "gc", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_null(strstr(r.err, "in use"));
}

/* A handler that segfaults, on three spawned workers, with three attempts
 * and dead letters: each attempt kills the worker it runs on; the third
 * loss dead-letters the message and the rest of the run completes. The
 * coordinator never runs it itself (it would die with it). */
static void
test_cli_crashing_handler_is_dead_lettered(void **state)
{
    (void)state;
    const char *spec = tc_spec(
        "poison.json", POISON_SPEC(", \"on_failure\": \"dead-letter\""));
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--plugin", HOSTILE_SO, "--input", "hello",
            "--db", db, "--spawn-workers", "3", "--events", NULL);
    tc_expect(&r, 0, "HELLO\n", "\"event\":\"dead_letter\"");
    /* (more losses than deaths when live workers went silent on a
     * loaded machine: they are taken back) */
    assert_true(s_occurrences(r.err, "\"event\":\"worker_lost\"") >= 1);
    assert_null(strstr(r.err, "(attempt 4)")); /* three workers killed */
    assert_int_equal(s_occurrences(r.err, "\"event\":\"executor_retry\""), 2);
    assert_non_null(strstr(r.err, "was lost while running it (attempt 3)"));
    assert_false(s_line_with(r.err, "\"event\":\"executor_moved\"",
                             "\"executor\":\"poison\"", "in-process"));
    s_expect_store_free(db);
}

/* The same without dead letters: the run fails after the third attempt
 * naming the executor and the lost worker (exit 1), and a resume runs it
 * again on fresh workers and fails the same way instead of crashing. */
static void
test_cli_crashing_handler_fails_the_run(void **state)
{
    (void)state;
    const char *spec = tc_spec("poison.json", POISON_SPEC(""));
    const char *db = tc_path("db");
    tc_result_t r = {0};
    /* (the workers share stderr: the run id is given, not read back) */
    tc_cairn(&r, "run", spec, "--plugin", HOSTILE_SO, "--input", "hello",
            "--db", db, "--run-id", "poisoned", "--spawn-workers", "3", NULL);
    tc_expect(&r, 1, "", "executor 'poison' failed in superstep 2: worker ");
    assert_non_null(strstr(r.err, "was lost while running it (attempt 3)"));
    tc_cairn(&r, "resume", "poisoned", "--db", db, "--spawn-workers", "3",
            NULL);
    tc_expect(&r, 1, "", "executor 'poison' failed in superstep 2: worker ");
    s_expect_store_free(db);
}

/* Without a retry policy an executor whose worker is lost still gets
 * three attempts; with one worker, the next attempt waits for another
 * worker (it is never moved in-process unless --on-worker-loss
 * in-process says so), and the run fails naming the executor. */
static void
test_cli_crashing_handler_is_not_moved_in_process(void **state)
{
    (void)state;
    const char *spec = tc_spec(
        "poison.json",
        "{\"name\": \"poison\", \"start\": \"poison\",\n"
        " \"executors\": [{\"id\": \"poison\", \"type\": \"test.segv\"}]}\n");
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--plugin", HOSTILE_SO, "--input", "x", "--db",
            db, "--spawn-workers", "1", "--worker-wait-ms", "5000", NULL);
    tc_expect(&r, 1, "", "executor 'poison' (type 'test.segv'): no worker");
    assert_non_null(strstr(r.err, "--on-worker-loss in-process"));
    s_expect_store_free(db);
}

/* The cairn started at start_ms (th_now_ms) exited within 15 s: its run
 * ended long before the stuck handler would return (30 s, or never),
 * with room for a loaded machine. */
static void
s_expect_quick_exit(uint64_t start_ms)
{
    uint64_t took = th_now_ms() - start_ms;
    if (took > 15000)
        fail_msg("cairn exited %llu ms after it started, held up by a stuck "
                 "handler",
                 (unsigned long long)took);
}

/* util.sleep for 30 s with a 300 ms timeout: the run fails at once, and
 * the process exits with it instead of waiting for the sleep. */
static void
test_cli_timed_out_handler_does_not_hold_the_exit(void **state)
{
    (void)state;
    const char *spec = tc_spec(
        "sleep.json",
        "{\"name\": \"sleepy\", \"start\": \"nap\",\n"
        " \"executors\": [{\"id\": \"nap\", \"type\": \"util.sleep\",\n"
        "   \"config\": {\"ms\": 30000}, \"timeout_ms\": 300}]}\n");
    const char *db = tc_path("db");
    tc_result_t r = {0};
    uint64_t start = th_now_ms();
    tc_cairn(&r, "run", spec, "--input", "x", "--db", db, NULL);
    s_expect_quick_exit(start);
    tc_expect(&r, 1, "", "timed out after 300 ms (attempt 1)");
    s_expect_store_free(db);
}

/* A plugin handler that never returns, with a retry and dead letters:
 * the run completes (the message set aside), prints its output, and the
 * process exits: the store is free for resume and gc. */
static void
test_cli_stuck_handler_does_not_hold_the_store(void **state)
{
    (void)state;
    const char *spec = tc_spec(
        "hang.json",
        "{\"name\": \"hang\", \"start\": \"up\",\n"
        " \"executors\": [\n"
        "   {\"id\": \"up\", \"type\": \"text.upper\"},\n"
        "   {\"id\": \"hang\", \"type\": \"test.hang\", \"timeout_ms\": 200,\n"
        "    \"retry\": {\"max_attempts\": 2}, \"on_failure\": "
        "\"dead-letter\"},\n"
        "   {\"id\": \"out\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"up\", \"to\": [\"hang\", \"out\"]}]}\n");
    const char *db = tc_path("db");
    tc_result_t r = {0};
    uint64_t start = th_now_ms();
    tc_cairn(&r, "run", spec, "--plugin", HOSTILE_SO, "--input", "hi", "--db",
            db, NULL);
    s_expect_quick_exit(start);
    tc_expect(&r, 0, "HI\n", "left behind");
    char run_id[80];
    tc_run_id(&r, run_id, sizeof run_id);
    tc_cairn(&r, "resume", run_id, "--db", db, NULL);
    tc_expect(&r, 0, "HI\n", "already completed");
    s_expect_store_free(db);
}

/* recover, too, exits when its runs end: a run killed (util.crash) before
 * a handler that never returns is recovered, the stuck message
 * dead-lettered after its timeout, the run completed, and recover exits
 * at once with the store free. */
static void
test_cli_recover_does_not_wait_for_a_stuck_handler(void **state)
{
    (void)state;
    char spec_text[1024];
    snprintf(spec_text, sizeof spec_text,
             "{\"name\": \"crash-hang\", \"start\": \"crash\",\n"
             " \"executors\": [\n"
             "   {\"id\": \"crash\", \"type\": \"util.crash\",\n"
             "    \"config\": {\"at_superstep\": 1, \"marker\": \"%s\"}},\n"
             "   {\"id\": \"hang\", \"type\": \"test.hang\", "
             "\"timeout_ms\": 200,\n"
             "    \"on_failure\": \"dead-letter\"},\n"
             "   {\"id\": \"out\", \"type\": \"text.output\"}],\n"
             " \"edges\": [{\"from\": \"crash\", \"to\": [\"hang\", "
             "\"out\"]}]}\n",
             tc_path("marker"));
    const char *spec = tc_spec("crash-hang.json", spec_text);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--plugin", HOSTILE_SO, "--input", "up", "--db",
            db, "--run-id", "k", NULL);
    assert_int_equal(r.code, 128 + SIGKILL); /* util.crash */
    uint64_t start = th_now_ms();
    tc_cairn(&r, "recover", "--db", db, NULL);
    s_expect_quick_exit(start);
    tc_expect(&r, 0, NULL, "left behind");
    assert_non_null(strstr(r.out, "completed"));
    tc_cairn(&r, "resume", "k", "--db", db, NULL);
    tc_expect(&r, 0, "up\n", "already completed");
    s_expect_store_free(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_crashing_handler_is_dead_lettered),
        TC_TEST(test_cli_crashing_handler_fails_the_run),
        TC_TEST(test_cli_crashing_handler_is_not_moved_in_process),
        TC_TEST(test_cli_timed_out_handler_does_not_hold_the_exit),
        TC_TEST(test_cli_stuck_handler_does_not_hold_the_store),
        TC_TEST(test_cli_recover_does_not_wait_for_a_stuck_handler),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
