/* test_control - pausing and cancelling runs from the C API.
 *
 * Each case runs a paced counting loop (count.inc -> util.sleep -> back,
 * until the count reaches a limit) on an engine with in-process hosts
 * and a memory store, and pauses or cancels it: with the pause
 * predicate, from another thread through a run control handle, and
 * through the control endpoint with cairn_control_send. A paused run must
 * resume to exactly what an uninterrupted run gives.
 *
 * Threading: the controlling thread only calls the thread-safe control
 * functions and writes its findings into atomics the test thread reads
 * after joining it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "tests/harness/harness.h"
#include "tests/test_util.h"

#define S_LIMIT 6 /* the loop counts to this */
#define S_TIMEOUT_MS 30000

/* What every case shares. */
typedef struct {
    cairn_registry_t *registry;
    cairn_engine_t *engine;
    cairn_store_t *store;
} s_fixture_t;

/* t.hold: forwards its message as util.sleep does, but from superstep
 * s_hold_from on (0: never) only once s_held is false, bounded by
 * S_TIMEOUT_MS. A controlling thread clears s_held after it has acted,
 * so the run cannot end before that however slow the machine is: a loop
 * paced by util.sleep alone could, on a loaded machine, end before the
 * thread got to act. s_held_returns counts the held calls that
 * returned. */
static atomic_bool s_held;
static atomic_uint s_hold_from;
static atomic_uint s_held_returns;

static uint64_t
s_now_ms(void);

static int
s_hold(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    unsigned from = atomic_load(&s_hold_from);
    if (from && cairn_ctx_superstep(ctx) >= from) {
        uint64_t deadline = s_now_ms() + S_TIMEOUT_MS;
        while (atomic_load(&s_held) && s_now_ms() < deadline)
            test_sleep_ms(1);
        atomic_fetch_add(&s_held_returns, 1);
    }
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_send(ctx, cairn_msg_type(msg), payload, len);
}

/* Holds t.hold from superstep `from` on. */
static void
s_hold_at(unsigned from)
{
    atomic_store(&s_held, true);
    atomic_store(&s_held_returns, 0);
    atomic_store(&s_hold_from, from);
}

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    cairn_error_t err;
    static const cairn_executor_type_t hold = {.name = "t.hold",
                                               .handle = s_hold};
    atomic_store(&s_held, false);
    atomic_store(&s_hold_from, 0);
    if (!f || !(f->registry = th_registry_open(true, NULL, &hold, 1))
        || cairn_engine_open(&f->engine, f->registry, NULL, &err) != CAIRN_OK
        || cairn_store_open_memory(&f->store, &err) != CAIRN_OK)
        return -1;
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_store_destroy(&f->store);
    cairn_engine_destroy(&f->engine);
    cairn_registry_destroy(&f->registry);
    free(f);
    return 0;
}

/* ping (count.inc) -> pace (util.sleep ms; t.hold when ms < 0) -> ping
 * until the count reaches S_LIMIT, then done (text.output): 2 * S_LIMIT +
 * 1 supersteps. */
static cairn_workflow_t *
s_loop(const s_fixture_t *f, int ms)
{
    char config[32], limit[8];
    int config_len = snprintf(config, sizeof config, "{\"ms\": %d}", ms);
    int limit_len = snprintf(limit, sizeof limit, "%d", S_LIMIT);
    cairn_switch_case_t cases[] = {
        {"done", "int_ge", limit, (size_t)limit_len, false},
        {"ping", NULL, NULL, 0, true},
    };
    cairn_builder_t *b = cairn_builder_new(f->registry);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_non_null(b);
    assert_int_equal(
        cairn_builder_add_executor(b, "ping", "count.inc", NULL, 0), 0);
    assert_int_equal(
        ms < 0 ? cairn_builder_add_executor(b, "pace", "t.hold", NULL, 0)
               : cairn_builder_add_executor(b, "pace", "util.sleep", config,
                                            (size_t)config_len),
        0);
    assert_int_equal(
        cairn_builder_add_executor(b, "done", "text.output", NULL, 0), 0);
    assert_int_equal(cairn_builder_add_edge(b, "ping", "pace", NULL, NULL, 0),
                     0);
    assert_int_equal(cairn_builder_add_switch(b, "pace", cases, 2), 0);
    assert_int_equal(cairn_builder_set_start(b, "ping"), 0);
    assert_int_equal(cairn_builder_build(b, &wf, &err), 0);
    cairn_builder_destroy(&b);
    return wf;
}

/* Outputs joined by '|' into out. */
static void
s_outputs(const cairn_result_t *result, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < cairn_result_output_count(result); i++) {
        size_t len;
        const uint8_t *data = cairn_result_output(result, i, &len);
        used += (size_t)snprintf(out + used, size - used, "%s%.*s",
                                 i ? "|" : "", (int)len, (const char *)data);
        assert_true(used < size);
    }
}

/* The trigger of a run's newest checkpoint into out. */
static void
s_latest_trigger(const s_fixture_t *f, const char *run, char *out, size_t size)
{
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    cairn_error_t err;
    assert_int_equal(cairn_store_list_checkpoints(f->store, run, 1, NULL,
                                                  &infos, &count, &err),
                     0);
    assert_int_equal(count, 1);
    snprintf(out, size, "%s", infos[0].trigger);
    cairn_checkpoint_info_destroy(&infos, count);
}

/* Resumes run and checks it ends as the uninterrupted run did. */
static void
s_resume_matches(const s_fixture_t *f, const cairn_workflow_t *wf,
                 const char *run, const char *want_outputs,
                 uint64_t want_supersteps)
{
    cairn_run_options_t opts = {.store = f->store};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    assert_int_equal(
        cairn_engine_resume(f->engine, wf, run, &opts, &result, &err), 0);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    char outputs[256];
    s_outputs(result, outputs, sizeof outputs);
    assert_string_equal(outputs, want_outputs);
    assert_int_equal(cairn_result_supersteps(result), want_supersteps);
    cairn_result_destroy(&result);
}

/* Pause once pace has run in superstep 4 or later. */
static bool
s_pause_after_pace(const cairn_barrier_t *barrier, void *userdata)
{
    atomic_uint *asked = userdata;
    atomic_fetch_add(asked, 1);
    for (size_t i = 0; i < barrier->executor_count; i++)
        if (strcmp(barrier->executors_run[i], "pace") == 0
            && barrier->superstep >= 4)
            return true;
    return false;
}

static void
test_control_pause_predicate(void **state)
{
    s_fixture_t *f = *state;
    cairn_workflow_t *wf = s_loop(f, 1);
    cairn_result_t *result = NULL;
    cairn_error_t err;
    atomic_uint asked = 0;
    /* no barrier checkpoints: the pause writes one anyway */
    cairn_run_options_t opts = {
        .run_id = "pred",
        .store = f->store,
        .checkpoint = {.kind = CAIRN_CHECKPOINT_NONE},
        .pause_when = s_pause_after_pace,
        .pause_userdata = &asked,
    };
    assert_int_equal(
        cairn_engine_run(f->engine, wf, "0", 1, &opts, &result, &err), 0);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_PAUSED);
    assert_int_equal(cairn_result_supersteps(result), 4);
    assert_int_equal(cairn_result_output_count(result), 0);
    assert_int_equal(atomic_load(&asked), 4);
    cairn_result_destroy(&result);
    char trigger[32];
    s_latest_trigger(f, "pred", trigger, sizeof trigger);
    assert_string_equal(trigger, "pause");
    cairn_run_info_t *info = NULL;
    assert_int_equal(cairn_store_get_run(f->store, "pred", &info, &err), 0);
    assert_string_equal(info->status, "paused");
    assert_string_equal(info->latest_checkpoint, "pred@4");
    assert_string_equal(info->control_endpoint, "");
    cairn_run_info_destroy(&info, 1);

    /* the uninterrupted run */
    cairn_run_options_t plain = {0};
    assert_int_equal(
        cairn_engine_run(f->engine, wf, "0", 1, &plain, &result, &err), 0);
    char want[256];
    s_outputs(result, want, sizeof want);
    uint64_t want_steps = cairn_result_supersteps(result);
    assert_int_equal(want_steps, 2 * S_LIMIT + 1);
    cairn_result_destroy(&result);
    s_resume_matches(f, wf, "pred", want, want_steps);
    cairn_workflow_destroy(&wf);
}

/* What a controlling thread does, and what it saw. */
typedef struct {
    cairn_run_control_t *control;
    const char *endpoint; /* ask through it when not NULL */
    const char *run_id;
    uint64_t at_superstep; /* act once the run is in it */
    long delay_ms;         /* ... and this much later */
    bool cancel;
    bool release;                           /* clear s_held once asked */
    atomic_uint_least64_t acted_ms;         /* when it asked */
    atomic_uint_least64_t status_superstep; /* endpoint's STATUS answer */
    atomic_int send_rc;
} s_controller_t;

static void *
s_control_thread(void *arg)
{
    s_controller_t *c = arg;
    uint64_t deadline = s_now_ms() + S_TIMEOUT_MS;
    while (cairn_run_control_superstep(c->control) < c->at_superstep
           && s_now_ms() < deadline)
        test_sleep_ms(2);
    test_sleep_ms(c->delay_ms);
    atomic_store(&c->acted_ms, s_now_ms());
    if (!c->endpoint) {
        if (c->cancel)
            cairn_run_control_cancel(c->control);
        else
            cairn_run_control_pause(c->control);
        if (c->release)
            atomic_store(&s_held, false);
        return NULL;
    }
    cairn_control_reply_t reply;
    cairn_error_t err;
    int rc = cairn_control_send(c->endpoint, c->run_id, CAIRN_CONTROL_STATUS,
                                5000, &reply, &err);
    if (rc == CAIRN_OK)
        atomic_store(&c->status_superstep, reply.superstep);
    if (rc == CAIRN_OK)
        rc = cairn_control_send(c->endpoint, c->run_id,
                                c->cancel ? CAIRN_CONTROL_CANCEL
                                          : CAIRN_CONTROL_PAUSE,
                                5000, &reply, &err);
    atomic_store(&c->send_rc, rc);
    if (c->release)
        atomic_store(&s_held, false);
    return NULL;
}

static void
test_control_pause_from_another_thread(void **state)
{
    s_fixture_t *f = *state;
    /* pace waits in superstep 4 until the thread has asked */
    cairn_workflow_t *wf = s_loop(f, -1);
    s_hold_at(4);
    cairn_run_control_t *control = cairn_run_control_new();
    assert_non_null(control);
    s_controller_t c = {
        .control = control, .at_superstep = 3, .release = true};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_control_thread, &c), 0);
    cairn_run_options_t opts = {
        .run_id = "thr", .store = f->store, .control = control};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    int rc = cairn_engine_run(f->engine, wf, "0", 1, &opts, &result, &err);
    pthread_join(thread, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_PAUSED);
    uint64_t paused_at = cairn_result_supersteps(result);
    assert_true(paused_at >= 3 && paused_at < 2 * S_LIMIT + 1);
    cairn_result_destroy(&result);
    /* the run consumed the request and let go of the handle */
    assert_int_equal(cairn_run_control_superstep(control), 0);
    char want[16];
    snprintf(want, sizeof want, "%d", S_LIMIT);
    s_resume_matches(f, wf, "thr", want, 2 * S_LIMIT + 1);
    cairn_run_control_destroy(&control);
    assert_null(control);
    cairn_workflow_destroy(&wf);
}

static void
test_control_cancel_abandons_superstep(void **state)
{
    s_fixture_t *f = *state;
    /* superstep 2 (pace) waits until the test lets it go; the cancel
     * comes 100 ms into it */
    cairn_workflow_t *wf = s_loop(f, -1);
    s_hold_at(2);
    cairn_run_control_t *control = cairn_run_control_new();
    s_controller_t c = {
        .control = control, .at_superstep = 2, .delay_ms = 100, .cancel = true};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_control_thread, &c), 0);
    cairn_run_options_t opts = {
        .run_id = "can", .store = f->store, .control = control};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    int rc = cairn_engine_run(f->engine, wf, "0", 1, &opts, &result, &err);
    /* at once, not at the barrier: pace is still held */
    unsigned returned = atomic_load(&s_held_returns);
    atomic_store(&s_held, false);
    pthread_join(thread, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_CANCELLED);
    assert_int_equal(returned, 0);
    /* superstep 2 applied nothing */
    assert_int_equal(cairn_result_supersteps(result), 1);
    cairn_result_destroy(&result);
    cairn_run_info_t *info = NULL;
    assert_int_equal(cairn_store_get_run(f->store, "can", &info, &err), 0);
    assert_string_equal(info->status, "cancelled");
    assert_string_equal(info->latest_checkpoint, "can@1");
    cairn_run_info_destroy(&info, 1);
    /* a cancelled run is not resumed */
    cairn_run_options_t again = {.store = f->store};
    assert_int_equal(
        cairn_engine_resume(f->engine, wf, "can", &again, &result, &err),
        CAIRN_EINVAL);
    assert_non_null(strstr(err.message, "was cancelled"));
    assert_null(result);
    cairn_run_control_destroy(&control);
    cairn_workflow_destroy(&wf);
}

static void
test_control_endpoint(void **state)
{
    s_fixture_t *f = *state;
    cairn_workflow_t *wf = s_loop(f, -1);
    s_hold_at(4);
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "ipc:///tmp/cairn-test-ctl-%ld.ipc",
             (long)getpid());
    /* the handle only tells the thread when to act; requests go over the
     * endpoint */
    cairn_run_control_t *control = cairn_run_control_new();
    s_controller_t c = {.control = control,
                        .endpoint = endpoint,
                        .run_id = "ep",
                        .at_superstep = 3,
                        .release = true};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_control_thread, &c), 0);
    cairn_run_options_t opts = {.run_id = "ep",
                                .store = f->store,
                                .control = control,
                                .control_endpoint = endpoint};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    int rc = cairn_engine_run(f->engine, wf, "0", 1, &opts, &result, &err);
    pthread_join(thread, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(atomic_load(&c.send_rc), 0);
    assert_true(atomic_load(&c.status_superstep) >= 3);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_PAUSED);
    cairn_result_destroy(&result);
    /* the socket file is gone, and nothing answers there any more */
    struct stat st;
    assert_int_not_equal(stat(endpoint + strlen("ipc://"), &st), 0);
    cairn_control_reply_t reply;
    assert_int_equal(cairn_control_send(endpoint, "ep", CAIRN_CONTROL_STATUS,
                                        100, &reply, &err),
                     CAIRN_ETRANSPORT);
    s_resume_matches(f, wf, "ep", "6", 2 * S_LIMIT + 1);

    /* endpoints that cannot be served */
    const char *bad[] = {"tcp://127.0.0.1:5999", "ipc://",
                         "ipc:///tmp/"
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                         ".ipc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cairn_run_options_t o = {.control_endpoint = bad[i]};
        assert_int_equal(
            cairn_engine_run(f->engine, wf, "0", 1, &o, &result, &err),
            CAIRN_EINVAL);
        assert_null(result);
        assert_non_null(strstr(err.message, "control endpoint"));
    }
    assert_int_equal(cairn_control_send("tcp://x", "ep", CAIRN_CONTROL_STATUS,
                                        100, &reply, &err),
                     CAIRN_EINVAL);
    cairn_run_control_destroy(&control);
    cairn_workflow_destroy(&wf);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_control_pause_predicate),
        T(test_control_pause_from_another_thread),
        T(test_control_cancel_abandons_superstep),
        T(test_control_endpoint),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
