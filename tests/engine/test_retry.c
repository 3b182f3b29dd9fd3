/* test_retry - retry policies and handler timeouts (cairn_builder_set_retry,
 * cairn_builder_set_timeout) on a real engine.
 *
 * "flaky" (t.flaky) fails its first `s_fail_first` attempts, "slow"
 * (t.slow) sleeps `s_sleep_ms` on its first attempt only; both bump a
 * state counter read from the barrier state before they decide, so a
 * failed attempt that leaked its writes would show. Handlers record the
 * monotonic time of each attempt under s_lock; the test thread asserts
 * after the run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "tests/harness/harness.h"

#define S_MAX_ATTEMPTS 16

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t s_attempt_us[S_MAX_ATTEMPTS]; /* guarded by s_lock */
static uint32_t s_attempts;                   /* guarded by s_lock */
static uint32_t s_other_calls;                /* guarded by s_lock */
static uint32_t s_fail_first;                 /* guarded by s_lock */
static uint32_t s_sleep_ms;                   /* guarded by s_lock */
static uint32_t s_slow_returned;              /* guarded by s_lock */
static size_t s_left;  /* host threads an engine close left behind: the
                          registry must then outlive them (engine.h) */
/* s_sleep_ms S_HOLD: the first attempt waits (bounded by S_HOLD_MAX_MS)
 * until s_release(), so a test can tell that a run ended while it was
 * still busy without timing anything. */
#define S_HOLD UINT32_MAX
#define S_HOLD_MAX_MS 30000
static pthread_cond_t s_wake = PTHREAD_COND_INITIALIZER;
static uint32_t s_releases;     /* s_release() calls; guarded by s_lock */
static uint32_t s_releases_at_reset; /* s_releases when the case began */
static uint32_t s_held_returns; /* guarded by s_lock */

static uint64_t
s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
s_record_attempt(cairn_ctx_t *ctx)
{
    pthread_mutex_lock(&s_lock);
    uint32_t attempt = cairn_ctx_attempt(ctx);
    if (attempt >= 1 && attempt <= S_MAX_ATTEMPTS)
        s_attempt_us[attempt - 1] = s_now_us();
    s_attempts++;
    pthread_mutex_unlock(&s_lock);
}

/* Counts in state "n" what the barrier state says plus one. */
static int
s_bump(cairn_ctx_t *ctx)
{
    size_t len;
    const uint8_t *seen = cairn_ctx_state_get(ctx, "n", &len);
    char text[16];
    int n = snprintf(text, sizeof text, "%d",
                     seen ? atoi((const char *)seen) + 1 : 1);
    return cairn_ctx_state_set(ctx, "n", text, (size_t)n);
}

static int
s_flaky(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record_attempt(ctx);
    int rc = s_bump(ctx);
    if (rc != CAIRN_OK)
        return rc;
    pthread_mutex_lock(&s_lock);
    uint32_t fail_first = s_fail_first;
    pthread_mutex_unlock(&s_lock);
    if (cairn_ctx_attempt(ctx) <= fail_first)
        return cairn_ctx_fail(ctx, "flaky attempt %u",
                              (unsigned)cairn_ctx_attempt(ctx));
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_yield_output(ctx, payload, len);
}

/* Waits until the case's s_release() (at most S_HOLD_MAX_MS), then
 * counts itself in s_held_returns. Counted from the case's s_reset(), so
 * a release that comes before the handler gets here is not missed. */
static void
s_hold(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += S_HOLD_MAX_MS / 1000;
    pthread_mutex_lock(&s_lock);
    uint32_t at_reset = s_releases_at_reset; /* of this handler's case */
    while (s_releases == at_reset
           && pthread_cond_timedwait(&s_wake, &s_lock, &deadline) == 0)
        ;
    s_held_returns++;
    pthread_mutex_unlock(&s_lock);
}

static void
s_release(void)
{
    pthread_mutex_lock(&s_lock);
    s_releases++;
    pthread_cond_broadcast(&s_wake);
    pthread_mutex_unlock(&s_lock);
}

static int
s_slow(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record_attempt(ctx);
    /* A stuck attempt of an earlier case may still be asleep here while
     * the next case resets the settings: read them under the lock. */
    pthread_mutex_lock(&s_lock);
    uint32_t sleep_ms = s_sleep_ms;
    pthread_mutex_unlock(&s_lock);
    if (cairn_ctx_attempt(ctx) == 1 && sleep_ms == S_HOLD) {
        s_hold();
    } else if (cairn_ctx_attempt(ctx) == 1) {
        struct timespec ts = {sleep_ms / 1000,
                              (long)(sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    int rc = s_bump(ctx);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    pthread_mutex_lock(&s_lock);
    s_slow_returned++;
    pthread_mutex_unlock(&s_lock);
    return rc ? rc : cairn_ctx_yield_output(ctx, payload, len);
}

static int
s_steady(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)ctx, (void)msg;
    pthread_mutex_lock(&s_lock);
    s_other_calls++;
    pthread_mutex_unlock(&s_lock);
    return CAIRN_OK;
}

/* Fails on the payload "bad", yields the others. */
static int
s_picky(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    if (len == 3 && memcmp(payload, "bad", 3) == 0)
        return cairn_ctx_fail(ctx, "cannot take 'bad'");
    return cairn_ctx_yield_output(ctx, payload, len);
}

/* Sends three messages: "ok1", "bad", "ok2". */
static int
s_three(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)msg;
    int rc = cairn_ctx_send(ctx, NULL, "ok1", 3);
    if (rc == CAIRN_OK)
        rc = cairn_ctx_send(ctx, NULL, "bad", 3);
    return rc == CAIRN_OK ? cairn_ctx_send(ctx, NULL, "ok2", 3) : rc;
}

static int
s_split(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_send(ctx, NULL, payload, len);
}

/* ---- fixture ----------------------------------------------------------------
 */

static cairn_registry_t *s_registry;
static cairn_engine_t *s_engine;

static int
s_group_setup(void **state)
{
    (void)state;
    const cairn_executor_type_t types[] = {
        {.name = "t.flaky", .handle = s_flaky},
        {.name = "t.slow", .handle = s_slow},
        {.name = "t.steady", .handle = s_steady},
        {.name = "t.split", .handle = s_split},
        {.name = "t.picky", .handle = s_picky},
        {.name = "t.three", .handle = s_three},
    };
    cairn_error_t err;
    s_registry =
        th_registry_open(false, NULL, types, sizeof types / sizeof types[0]);
    cairn_engine_options_t opts = {.host_threads = 2};
    return s_registry
                   && cairn_engine_open(&s_engine, s_registry, &opts, &err)
                          == CAIRN_OK
               ? 0
               : -1;
}

static int
s_group_teardown(void **state)
{
    (void)state;
    cairn_engine_destroy(&s_engine);
    if (s_left == 0)
        cairn_registry_destroy(&s_registry);
    return 0;
}

static void
s_reset(uint32_t fail_first, uint32_t sleep_ms)
{
    pthread_mutex_lock(&s_lock);
    memset(s_attempt_us, 0, sizeof s_attempt_us);
    s_attempts = 0;
    s_other_calls = 0;
    s_fail_first = fail_first;
    s_sleep_ms = sleep_ms;
    s_held_returns = 0;
    s_releases_at_reset = s_releases;
    pthread_mutex_unlock(&s_lock);
}

/* split -> work (type) and split -> other (t.steady), with the policy and
 * timeout on "work". */
static cairn_workflow_t *
s_workflow(const char *type, const cairn_retry_policy_t *policy,
           uint32_t timeout_ms)
{
    cairn_builder_t *b = cairn_builder_new(s_registry);
    assert_non_null(b);
    assert_int_equal(cairn_builder_add_executor(b, "split", "t.split", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "work", type, NULL, 0),
                     CAIRN_OK);
    assert_int_equal(
        cairn_builder_add_executor(b, "other", "t.steady", NULL, 0), CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "split", "work", NULL, NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "split", "other", NULL, NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, "split"), CAIRN_OK);
    if (policy)
        assert_int_equal(cairn_builder_set_retry(b, "work", policy), CAIRN_OK);
    if (timeout_ms)
        assert_int_equal(cairn_builder_set_timeout(b, NULL, timeout_ms),
                         CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    cairn_builder_destroy(&b);
    return wf;
}

typedef struct {
    uint32_t retries;    /* executor_retry events */
    uint32_t last_count; /* the attempt the last one announced */
    uint32_t dead;       /* dead_letter events */
    char dead_data[16];  /* the payload of the last one */
} s_seen_t;

static void
s_on_event(const cairn_event_t *event, void *userdata)
{
    s_seen_t *seen = userdata;
    if (event->kind == CAIRN_EVENT_DEAD_LETTER) {
        seen->dead++;
        snprintf(seen->dead_data, sizeof seen->dead_data, "%.*s",
                 (int)event->data_len, (const char *)event->data);
    }
    if (event->kind == CAIRN_EVENT_EXECUTOR_RETRY) {
        seen->retries++;
        seen->last_count = (uint32_t)event->count;
    }
}

static cairn_result_t *
s_run(const cairn_workflow_t *wf, s_seen_t *seen)
{
    memset(seen, 0, sizeof *seen);
    cairn_run_options_t opts = {.on_event = s_on_event, .event_userdata = seen};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    assert_int_equal(
        cairn_engine_run(s_engine, wf, "go", 2, &opts, &result, &err),
        CAIRN_OK);
    return result;
}

static void
s_expect_state_n(const cairn_result_t *result, const char *n)
{
    size_t len;
    const uint8_t *value = cairn_result_state(result, "work", "n", &len);
    assert_non_null(value);
    assert_int_equal(len, strlen(n));
    assert_memory_equal(value, n, len);
}

/* ---- cases
 * ------------------------------------------------------------------- */

/* Fails twice, succeeds on the third of three attempts: one output, the
 * state of one attempt only, the other executor run once, two retry
 * events, and the backoffs within their bounds (50-100 % of 40 ms, then
 * of 80 ms capped to 60 ms). */
static void
test_retry_third_attempt_succeeds(void **state)
{
    (void)state;
    s_reset(2, 0);
    cairn_retry_policy_t policy = {
        .max_attempts = 3, .backoff_ms = 40, .max_backoff_ms = 60};
    cairn_workflow_t *wf = s_workflow("t.flaky", &policy, 0);
    s_seen_t seen;
    cairn_result_t *result = s_run(wf, &seen);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_output_count(result), 1);
    s_expect_state_n(result, "1");
    assert_int_equal(seen.retries, 2);
    assert_int_equal(seen.last_count, 3);
    pthread_mutex_lock(&s_lock);
    uint32_t attempts = s_attempts, others = s_other_calls;
    uint64_t gap1 = s_attempt_us[1] - s_attempt_us[0];
    uint64_t gap2 = s_attempt_us[2] - s_attempt_us[1];
    pthread_mutex_unlock(&s_lock);
    assert_int_equal(attempts, 3);
    assert_int_equal(others, 1);
    /* the backoff waited (lower bounds: exact); the upper bound only
     * catches a unit mix-up (seconds for milliseconds), with room for a
     * loaded machine's scheduling delays */
    assert_true(gap1 >= 20000 && gap1 < 10000000);
    assert_true(gap2 >= 30000 && gap2 < 10000000);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* The same handler with two attempts fails the run, naming the executor
 * and the last attempt's reason; nothing of either attempt applies. */
static void
test_retry_exhausted_fails(void **state)
{
    (void)state;
    s_reset(2, 0);
    cairn_retry_policy_t policy = {.max_attempts = 2, .backoff_ms = 1};
    cairn_workflow_t *wf = s_workflow("t.flaky", &policy, 0);
    s_seen_t seen;
    cairn_result_t *result = s_run(wf, &seen);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_FAILED);
    assert_int_equal(cairn_result_error(result)->code, CAIRN_EHANDLER);
    assert_non_null(
        strstr(cairn_result_error(result)->message, "flaky attempt 2"));
    assert_non_null(strstr(cairn_result_error(result)->message, "'work'"));
    assert_int_equal(seen.retries, 1);
    assert_null(cairn_result_state(result, "work", "n", NULL));
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* A policy that retries only timeouts does not retry an error. */
static void
test_retry_only_on_timeout_skips_errors(void **state)
{
    (void)state;
    s_reset(1, 0);
    cairn_retry_policy_t policy = {.max_attempts = 5,
                                   .on = CAIRN_RETRY_ON_TIMEOUT};
    cairn_workflow_t *wf = s_workflow("t.flaky", &policy, 0);
    s_seen_t seen;
    cairn_result_t *result = s_run(wf, &seen);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_FAILED);
    assert_int_equal(seen.retries, 0);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* A first attempt held past its 1 s timeout is retried on a fresh host;
 * the run ends while it is still held, and its late result is discarded
 * (one output, state of one attempt). (It slept 1.5 s past a 150 ms
 * timeout, and the run had to end within 1.4 s: on a loaded machine the
 * retry alone could take longer, or time out too.) */
static void
test_retry_timeout_moves_to_fresh_host(void **state)
{
    (void)state;
    s_reset(0, S_HOLD);
    cairn_retry_policy_t policy = {.max_attempts = 2, .backoff_ms = 10};
    cairn_workflow_t *wf = s_workflow("t.slow", &policy, 1000);
    s_seen_t seen;
    cairn_result_t *result = s_run(wf, &seen);
    pthread_mutex_lock(&s_lock);
    uint32_t held_returns = s_held_returns;
    pthread_mutex_unlock(&s_lock);
    s_release();
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_output_count(result), 1);
    s_expect_state_n(result, "1");
    assert_int_equal(seen.retries, 1);
    assert_int_equal(held_returns, 0); /* did not wait for the held one */
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* Without retries a timeout fails the run with a timeout message. */
static void
test_retry_timeout_without_retry_fails(void **state)
{
    (void)state;
    s_reset(0, 600);
    cairn_workflow_t *wf = s_workflow("t.slow", NULL, 100);
    s_seen_t seen;
    cairn_result_t *result = s_run(wf, &seen);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_FAILED);
    assert_non_null(strstr(cairn_result_error(result)->message,
                           "timed out after 100 ms (attempt 1)"));
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* A handler stuck past its timeout does not hold up closing its engine:
 * cairn_engine_close returns after CAIRN_ENGINE_STOP_WAIT_MS while the
 * handler is still held (released only afterwards), and says it left one
 * host thread behind. That thread ends by itself once its handler
 * returns. */
static void
test_retry_close_leaves_a_stuck_host(void **state)
{
    (void)state;
    s_reset(0, S_HOLD);
    pthread_mutex_lock(&s_lock);
    uint32_t returned = s_slow_returned;
    pthread_mutex_unlock(&s_lock);
    cairn_engine_options_t opts = {.host_threads = 1};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, s_registry, &opts, &err), 0);
    cairn_workflow_t *wf = s_workflow("t.slow", NULL, 100);
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, NULL, &result, &err),
                     CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_FAILED);
    uint64_t start = s_now_us();
    s_left = cairn_engine_close(&engine, CAIRN_ENGINE_STOP_WAIT_MS);
    uint64_t took = s_now_us() - start;
    assert_null(engine);
    assert_int_equal(s_left, 1);
    assert_true(took >= CAIRN_ENGINE_STOP_WAIT_MS * 900u);
    pthread_mutex_lock(&s_lock);
    uint32_t held_returns = s_held_returns;
    pthread_mutex_unlock(&s_lock);
    assert_int_equal(held_returns, 0); /* close did not wait for it */
    s_release();
    /* The stuck handler still comes back (bounded wait). */
    uint32_t now_returned = returned;
    for (int i = 0; i < 1000 && now_returned == returned; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&s_lock);
        now_returned = s_slow_returned;
        pthread_mutex_unlock(&s_lock);
    }
    assert_true(now_returned > returned);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* Of three messages in one superstep the one that fails its executor on
 * every attempt is set aside; the executor runs again on the other two,
 * the run completes, and the checkpoint lists the dead letter. */
static void
test_retry_dead_letter_sets_the_poison_aside(void **state)
{
    (void)state;
    cairn_builder_t *b = cairn_builder_new(s_registry);
    cairn_retry_policy_t twice = {.max_attempts = 2};
    assert_int_equal(cairn_builder_add_executor(b, "src", "t.three", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "work", "t.picky", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "src", "work", NULL, NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, "src"), CAIRN_OK);
    assert_int_equal(cairn_builder_set_retry(b, "work", &twice), CAIRN_OK);
    assert_int_equal(cairn_builder_set_on_failure(b, "work",
                                                  CAIRN_ON_FAILURE_DEAD_LETTER),
                     CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    cairn_builder_destroy(&b);
    cairn_store_t *store = NULL;
    assert_int_equal(cairn_store_open_memory(&store, &err), CAIRN_OK);
    s_seen_t seen = {0};
    cairn_run_options_t opts = {.store = store,
                                .run_id = "dl",
                                .on_event = s_on_event,
                                .event_userdata = &seen};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(s_engine, wf, "go", 2, &opts, &result,
                                      &err),
                     CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_output_count(result), 2);
    size_t len;
    assert_memory_equal(cairn_result_output(result, 0, &len), "ok1", 3);
    assert_memory_equal(cairn_result_output(result, 1, &len), "ok2", 3);
    assert_int_equal(seen.retries, 1);
    assert_int_equal(seen.dead, 1);
    assert_string_equal(seen.dead_data, "bad");
    cairn_checkpoint_t *cp = NULL;
    assert_int_equal(cairn_store_get_checkpoint(store, "dl@2", &cp, &err),
                     CAIRN_OK);
    assert_int_equal(cairn_checkpoint_dead_letter_count(cp), 1);
    cairn_dead_letter_t letter;
    assert_int_equal(cairn_checkpoint_dead_letter(cp, 0, &letter), CAIRN_OK);
    assert_string_equal(letter.executor, "work");
    assert_int_equal(letter.superstep, 2);
    assert_int_equal(letter.payload_len, 3);
    assert_memory_equal(letter.payload, "bad", 3);
    assert_non_null(strstr(letter.error, "cannot take 'bad'"));
    assert_int_equal(cairn_checkpoint_dead_letter(cp, 1, &letter),
                     CAIRN_EINVAL);
    cairn_checkpoint_destroy(&cp);
    cairn_result_destroy(&result);
    cairn_store_destroy(&store);
    cairn_workflow_destroy(&wf);
}

/* Builder contract: max_attempts 0 is refused; an unknown executor is
 * reported by build. */
static void
test_retry_builder_checks(void **state)
{
    (void)state;
    cairn_builder_t *b = cairn_builder_new(s_registry);
    cairn_retry_policy_t zero = {0}, one = {.max_attempts = 1};
    assert_int_equal(cairn_builder_set_retry(b, "x", &zero), CAIRN_EINVAL);
    assert_int_equal(cairn_builder_add_executor(b, "a", "t.steady", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, "a"), CAIRN_OK);
    assert_int_equal(cairn_builder_set_retry(b, "ghost", &one), CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
    assert_non_null(strstr(err.message, "unknown executor 'ghost'"));
    cairn_builder_destroy(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_close_leaves_a_stuck_host),
        cmocka_unit_test(test_retry_third_attempt_succeeds),
        cmocka_unit_test(test_retry_exhausted_fails),
        cmocka_unit_test(test_retry_only_on_timeout_skips_errors),
        cmocka_unit_test(test_retry_timeout_moves_to_fresh_host),
        cmocka_unit_test(test_retry_timeout_without_retry_fails),
        cmocka_unit_test(test_retry_dead_letter_sets_the_poison_aside),
        cmocka_unit_test(test_retry_builder_checks),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
