/* worker_loss_cases.h - test_cli cases for handlers that crash their
 * worker and handlers that never return, included by test_cli.c (they
 * use its helpers: s_cairn, s_expect, s_spec, s_path, s_run_id, ...).
 *
 * The hostile plugin (tests/plugins/hostile_plugin.c) gives test.segv,
 * which dies of SIGSEGV on every message, and test.hang, which never
 * returns.
 */

#define HOSTILE_SO CAIRN_HOSTILE_SO

/* The store in db is not held by anyone: gc runs (and says nothing
 * about a pid using it). */
static void
s_expect_store_free(const char *db)
{
    s_result_t r = {0};
    s_cairn(&r, "gc", "--db", db, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_null(strstr(r.err, "in use"));
}

/* util.sleep for 30 s with a 300 ms timeout: the run fails at once, and
 * the process exits with it instead of waiting for the sleep. */
static void
test_cli_timed_out_handler_does_not_hold_the_exit(void **state)
{
    (void)state;
    const char *spec = s_spec(
        "sleep.json",
        "{\"name\": \"sleepy\", \"start\": \"nap\",\n"
        " \"executors\": [{\"id\": \"nap\", \"type\": \"util.sleep\",\n"
        "   \"config\": {\"ms\": 30000}, \"timeout_ms\": 300}]}\n");
    const char *db = s_path("db");
    s_result_t r = {0};
    uint64_t start = s_now_ms();
    s_cairn(&r, "run", spec, "--input", "x", "--db", db, NULL);
    uint64_t took = s_now_ms() - start;
    s_expect(&r, 1, "", "timed out after 300 ms (attempt 1)");
    if (took > 5000)
        fail_msg("cairn exited %llu ms after a run that failed at 300 ms",
                 (unsigned long long)took);
    s_expect_store_free(db);
}

/* A plugin handler that never returns, with a retry and dead letters:
 * the run completes (the message set aside), prints its output, and the
 * process exits: the store is free for resume and gc. */
static void
test_cli_stuck_handler_does_not_hold_the_store(void **state)
{
    (void)state;
    const char *spec = s_spec(
        "hang.json",
        "{\"name\": \"hang\", \"start\": \"up\",\n"
        " \"executors\": [\n"
        "   {\"id\": \"up\", \"type\": \"text.upper\"},\n"
        "   {\"id\": \"hang\", \"type\": \"test.hang\", \"timeout_ms\": 200,\n"
        "    \"retry\": {\"max_attempts\": 2}, \"on_failure\": "
        "\"dead-letter\"},\n"
        "   {\"id\": \"out\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"up\", \"to\": [\"hang\", \"out\"]}]}\n");
    const char *db = s_path("db");
    s_result_t r = {0};
    uint64_t start = s_now_ms();
    s_cairn(&r, "run", spec, "--plugin", HOSTILE_SO, "--input", "hi", "--db",
            db, NULL);
    uint64_t took = s_now_ms() - start;
    s_expect(&r, 0, "HI\n", "left behind");
    if (took > 5000)
        fail_msg("cairn exited %llu ms after its run",
                 (unsigned long long)took);
    char run_id[80];
    s_run_id(&r, run_id, sizeof run_id);
    s_cairn(&r, "resume", run_id, "--db", db, NULL);
    s_expect(&r, 0, "HI\n", "already completed");
    s_expect_store_free(db);
}

#define WORKER_LOSS_TESTS                                                      \
    T(test_cli_timed_out_handler_does_not_hold_the_exit),                      \
        T(test_cli_stuck_handler_does_not_hold_the_store)
