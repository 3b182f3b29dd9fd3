/* test_trust.c - a worker that lies cannot change a run.
 *
 * The test process is a real coordinator (an engine listening on a
 * loopback port); child_fake_worker joins it speaking the real protocol
 * and hosts "draft", the start of a workflow with a person's approval
 * (hitl.approve) and a fan-in into text.join:
 *
 *   draft -> approve (hitl.approve) -> publish (text.output)
 *   draft -> fan-out b1 (text.upper), b2 (text.reverse) -> fan-in -> join
 *   draft -> join (text.join) -> out (text.output)
 *
 * Honestly run, it ends waiting for approve.2.1 with two outputs. Each
 * case makes the fake worker set one field a worker can set to a hostile
 * value (docs/protocol.md, "Who may set what"); the run must give the
 * honest result (the field was refused, or the worker was refused and
 * its executor moved in-process), or fail cleanly where the field is
 * the worker's to set (a handler failure), and nothing may crash.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/trust_types.h"
#include "tests/harness/harness.h"
#include "tests/test_util.h"
#include <cairn/cairn.h>

#define FAKE CAIRN_TEST_BIN_DIR "/child_fake_worker"
#define MAX_MESSAGE 4096 /* child_fake_worker's oversize values exceed it */

static const cairn_executor_type_t s_draft = {.name = "test.draft",
                                              .handle = trust_draft};

static void
s_add(cairn_builder_t *b, const char *id, const char *type)
{
    assert_int_equal(cairn_builder_add_executor(b, id, type, NULL, 0), 0);
}

/* The workflow of the file comment. draft may be retried: a worker lost
 * while it holds draft's work may count as a failed attempt. */
static cairn_workflow_t *
s_workflow(const cairn_registry_t *registry)
{
    cairn_builder_t *b = cairn_builder_new(registry);
    s_add(b, "draft", "test.draft");
    s_add(b, "approve", "hitl.approve");
    s_add(b, "publish", "text.output");
    s_add(b, "b1", "text.upper");
    s_add(b, "b2", "text.reverse");
    s_add(b, "join", "text.join");
    s_add(b, "out", "text.output");
    cairn_retry_policy_t retry = {.max_attempts = 3, .backoff_ms = 10};
    assert_int_equal(cairn_builder_set_retry(b, "draft", &retry), 0);
    const char *branches[] = {"b1", "b2"};
    assert_int_equal(cairn_builder_add_edge(b, "draft", "approve", NULL, NULL,
                                            0),
                     0);
    assert_int_equal(cairn_builder_add_edge(b, "approve", "publish", NULL,
                                            NULL, 0),
                     0);
    assert_int_equal(cairn_builder_add_fan_out(b, "draft", branches, 2, NULL,
                                               NULL, 0),
                     0);
    assert_int_equal(cairn_builder_add_fan_in(b, branches, 2, "join"), 0);
    assert_int_equal(cairn_builder_add_edge(b, "draft", "join", NULL, NULL,
                                            0),
                     0);
    assert_int_equal(cairn_builder_add_edge(b, "join", "out", NULL, NULL, 0),
                     0);
    assert_int_equal(cairn_builder_set_start(b, "draft"), 0);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), 0);
    cairn_builder_destroy(&b);
    return wf;
}

static void
s_append(char *text, size_t size, const char *fmt, ...)
{
    size_t used = strlen(text);
    va_list args;
    va_start(args, fmt);
    vsnprintf(text + used, size - used, fmt, args);
    va_end(args);
}

static void
s_append_state(const char *executor, const char *key, const uint8_t *value,
               size_t len, void *userdata)
{
    s_append(userdata, 8192, " %s.%s=%.*s", executor ? executor : "shared",
             key, (int)len, (const char *)value);
}

/* Everything a run's result says: status, supersteps, outputs, pending
 * requests, every state. malloc'd. */
static char *
s_summary(const cairn_result_t *result)
{
    char *text = calloc(1, 8192);
    assert_non_null(text);
    s_append(text, 8192, "%s %llu outputs:",
             cairn_status_name(cairn_result_status(result)),
             (unsigned long long)cairn_result_supersteps(result));
    for (size_t i = 0; i < cairn_result_output_count(result); i++) {
        size_t len;
        const uint8_t *out = cairn_result_output(result, i, &len);
        s_append(text, 8192, " [%.*s]", (int)len, (const char *)out);
    }
    s_append(text, 8192, " requests:");
    for (size_t i = 0; i < cairn_result_request_count(result); i++) {
        cairn_request_t request;
        assert_int_equal(cairn_result_request(result, i, &request), 0);
        s_append(text, 8192, " %s@%s", request.id, request.executor);
    }
    s_append(text, 8192, " states:");
    cairn_result_foreach_state(result, s_append_state, text);
    return text;
}

/* The workflow run in-process: what every case must give, or refuse. */
static char *
s_reference(void)
{
    cairn_registry_t *registry = th_registry_new(&s_draft, 1);
    cairn_workflow_t *wf = s_workflow(registry);
    cairn_engine_options_t engine_opts = {.host_threads = 2};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    cairn_run_options_t opts = {.max_message_size = MAX_MESSAGE};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, &opts, &result,
                                      &err),
                     0);
    char *summary = s_summary(result);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    return summary;
}

typedef struct {
    int joined;
    int lost;
} s_watch_t;

static void
s_on_event(const cairn_event_t *event, void *userdata)
{
    s_watch_t *watch = userdata;
    watch->joined += event->kind == CAIRN_EVENT_WORKER_JOINED;
    watch->lost += event->kind == CAIRN_EVENT_WORKER_LOST;
}

/* A loopback endpoint in this test's port range (30400-30499), a new
 * port per case: ZeroMQ closes a listener on its I/O thread, later. */
static void
s_endpoint(char *out, size_t size)
{
    static int next;
    snprintf(out, size, "tcp://127.0.0.1:%d",
             30400 + (int)(getpid() % 2) * 50 + next++ % 50);
}

/* Starts child_fake_worker ENDPOINT MODE, its stderr into err_path. */
static pid_t
s_spawn_fake(const char *endpoint, const char *mode, const char *err_path)
{
    const char *argv[] = {FAKE, endpoint, mode, NULL};
    th_spawn_t spec = {.argv = argv, .err_path = err_path};
    return th_spawn(&spec);
}

/* Peak resident memory of this process, in kB (VmHWM). */
static long
s_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

typedef enum {
    S_SAME,      /* the honest result; the worker stays */
    S_REFUSED,   /* the honest result; the worker is told to stop */
    S_FAILED,    /* the run fails: the field is the worker's to set */
} s_expect_t;

typedef struct {
    char *summary;          /* the run's result */
    char error[600];        /* its error, when it failed */
    int fake_exit;          /* 3: shut down; -1: still running */
    char fake_said[600];    /* the fake's stderr */
    s_watch_t watch;
    long peak_growth_kb;    /* VmHWM growth over the run */
} s_outcome_t;

/* Waits (bounded) for a fake that is to be refused to end. The engine
 * reads a worker's frames only while it runs, and on a loaded machine
 * the fake may say Hello, or send its big frame, only after the run
 * ended: the workflow runs again until the fake has been told (its exit
 * status, or TH_TIMED_OUT). */
static int
s_await_refused(cairn_engine_t *engine, const cairn_workflow_t *wf,
                const cairn_run_options_t *opts, pid_t fake)
{
    uint64_t deadline = th_now_ms() + 30000;
    while (th_alive(fake) && th_now_ms() < deadline) {
        cairn_result_t *again = NULL;
        cairn_error_t err;
        if (cairn_engine_run(engine, wf, "go", 2, opts, &again, &err) == 0)
            cairn_result_destroy(&again);
    }
    return th_wait(fake, 1000);
}

/* Runs the workflow against child_fake_worker in mode; stopped: the
 * fake is expected to be shut down (waited for, bounded). */
static void
s_run_against(const char *mode, uint32_t worker_wait_ms, bool stopped,
              s_outcome_t *out)
{
    memset(out, 0, sizeof *out);
    char endpoint[64], err_path[64];
    s_endpoint(endpoint, sizeof endpoint);
    snprintf(err_path, sizeof err_path, "/tmp/cairn-trust-%ld.err",
             (long)getpid());
    cairn_registry_t *registry = th_registry_new(&s_draft, 1);
    cairn_workflow_t *wf = s_workflow(registry);
    cairn_engine_options_t engine_opts = {
        .host_threads = 2,
        .listen = endpoint,
        .heartbeat_ms = 1000,
        .min_workers = 1,
        .worker_wait_ms = worker_wait_ms,
        .on_worker_loss = CAIRN_WORKER_LOSS_IN_PROCESS,
        .max_message_size = MAX_MESSAGE};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    long peak_before = s_peak_kb();
    pid_t fake = s_spawn_fake(endpoint, mode, err_path);
    cairn_run_options_t opts = {.max_message_size = MAX_MESSAGE,
                                .on_event = s_on_event,
                                .event_userdata = &out->watch};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, &opts, &result,
                                      &err),
                     0);
    out->summary = s_summary(result);
    snprintf(out->error, sizeof out->error, "%s",
             cairn_result_error(result)->message);
    /* A refused worker was told so at once; an accepted one lives on
     * (killed after 300 ms: TH_TIMED_OUT). */
    out->fake_exit = stopped ? s_await_refused(engine, wf, &opts, fake)
                             : th_wait(fake, 300);
    out->peak_growth_kb = s_peak_kb() - peak_before;
    size_t len = 0;
    char *said = test_read_file(err_path, &len);
    snprintf(out->fake_said, sizeof out->fake_said, "%s", said ? said : "");
    free(said);
    unlink(err_path);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

/* One case: the fake worker in mode; the run gives what expect says
 * (failure_part: a part of the run's error, for S_FAILED). */
static void
s_case(const char *mode, s_expect_t expect, const char *failure_part)
{
    char *reference = s_reference();
    s_outcome_t out;
    bool hello = strncmp(mode, "hello-", 6) == 0;
    /* A refused Hello leaves the run waiting for a worker: not long. */
    s_run_against(mode, hello ? 1500 : 10000, expect == S_REFUSED, &out);
    if (expect == S_FAILED) {
        assert_int_equal(strncmp(out.summary, "failed ", 7), 0);
        if (!strstr(out.error, failure_part))
            fail_msg("%s: run error '%s' does not say '%s'", mode, out.error,
                     failure_part);
    } else if (strcmp(out.summary, reference) != 0) {
        fail_msg("%s: the run gave\n  %s\nnot the honest\n  %s", mode,
                 out.summary, reference);
    }
    if (expect == S_REFUSED) {
        if (out.fake_exit != 3)
            fail_msg("%s: the fake worker was not shut down (exit %d): %s",
                     mode, out.fake_exit, out.fake_said);
        assert_non_null(strstr(out.fake_said, hello ? "worker " : "protocol "
                                                                 "violation"));
    }
    if (expect == S_SAME) {
        assert_int_equal(out.watch.joined, 1);
        assert_int_equal(out.watch.lost, 0);
    }
    free(out.summary);
    free(reference);
}

#define S_CASE(name, mode, expect, part)                                       \
    static void test_trust_##name(void **state)                                \
    {                                                                          \
        (void)state;                                                           \
        s_case(mode, expect, part);                                            \
    }

/* The honest worker: the fake's relay itself changes nothing. */
S_CASE(honest_worker_gives_the_reference, "honest", S_SAME, NULL)
/* Only the coordinator answers requests: a forged approval. */
S_CASE(sent_answers_refused, "sent-answers", S_REFUSED, NULL)
/* Only the coordinator assembles fan-in messages. */
S_CASE(sent_parts_refused, "sent-parts", S_REFUSED, NULL)
S_CASE(sent_source_refused, "sent-source", S_REFUSED, NULL)
S_CASE(sent_oversize_refused, "sent-oversize", S_REFUSED, NULL)
/* A target without an edge is a handler's mistake: the executor fails. */
S_CASE(sent_target_fails_the_executor, "sent-target", S_FAILED, "no edge")
/* Request ids: another executor's, twice the same, not its own. */
S_CASE(request_foreign_id_refused, "request-foreign-id", S_REFUSED, NULL)
S_CASE(request_duplicate_refused, "request-duplicate", S_REFUSED, NULL)
S_CASE(request_executor_refused, "request-executor", S_REFUSED, NULL)
S_CASE(request_superstep_refused, "request-superstep", S_REFUSED, NULL)
S_CASE(request_no_kind_refused, "request-no-kind", S_REFUSED, NULL)
S_CASE(request_oversize_refused, "request-oversize", S_REFUSED, NULL)
S_CASE(output_oversize_refused, "output-oversize", S_REFUSED, NULL)
S_CASE(state_oversize_refused, "state-oversize", S_REFUSED, NULL)
S_CASE(shared_oversize_refused, "shared-oversize", S_REFUSED, NULL)
S_CASE(handled_too_many_refused, "handled-too-many", S_REFUSED, NULL)
/* More entries than a Done may hold (70,000 empty messages). */
S_CASE(sent_flood_refused, "sent-flood", S_REFUSED, NULL)
/* Dones for work it was not given: refused, never applied. */
S_CASE(done_other_executor_ignored, "extra-other-executor", S_SAME, NULL)
S_CASE(done_other_superstep_ignored, "extra-other-superstep", S_SAME, NULL)
S_CASE(done_other_attempt_ignored, "extra-other-attempt", S_SAME, NULL)
S_CASE(done_other_run_ignored, "extra-other-run", S_SAME, NULL)
/* An error text beside success means nothing. */
S_CASE(error_with_ok_ignored, "error-with-ok", S_SAME, NULL)
/* Failing its executor is the worker's to say (retries apply). */
S_CASE(failure_claim_fails_the_run, "fail-claim", S_FAILED,
       "executor 'draft' failed in superstep 1")
/* Frames only a coordinator or a client sends. */
S_CASE(bogus_frames_ignored, "bogus-frames", S_SAME, NULL)
/* Hello: ids that are not ids, a type with no name, a huge offer. */
S_CASE(hello_bad_id_refused, "hello-bad-id", S_REFUSED, NULL)
S_CASE(hello_long_id_refused, "hello-long-id", S_REFUSED, NULL)
S_CASE(hello_empty_type_refused, "hello-empty-type", S_REFUSED, NULL)
S_CASE(hello_many_types_taken, "hello-many-types", S_SAME, NULL)

/* A frame far above the limit (48 MiB against 1 MiB + 16 KiB) is
 * refused by ZeroMQ from its size header: the coordinator drops the
 * connection (the fake exits 4 when it sees that), its peak memory does
 * not grow by the frame, and the run gives the honest result. */
static void
test_trust_oversized_frame_is_not_read(void **state)
{
    (void)state;
    char *reference = s_reference();
    s_outcome_t out;
    s_run_against("big-frame", 10000, true, &out);
    assert_string_equal(out.summary, reference);
    if (out.fake_exit != 4)
        fail_msg("the connection of a peer sending a 48 MiB frame was not "
                 "dropped (exit %d): %s",
                 out.fake_exit, out.fake_said);
    if (out.peak_growth_kb > 24 * 1024)
        fail_msg("peak memory grew by %ld kB with a 48 MiB frame",
                 out.peak_growth_kb);
    free(out.summary);
    free(reference);
}

/* A frame under the size limit that decodes to far more (1 MB of
 * empty messages: 66 MB) is refused once it has used its decode budget
 * (2 x the frame limit + 16 MiB): the coordinator's peak memory grows
 * by less than 40 MiB, the worker stays, the run gives the honest
 * result. */
static void
test_trust_decode_is_bounded(void **state)
{
    (void)state;
    char *reference = s_reference();
    s_outcome_t out;
    s_run_against("amplify", 10000, false, &out);
    assert_string_equal(out.summary, reference);
    if (out.peak_growth_kb > 40 * 1024)
        fail_msg("peak memory grew by %ld kB decoding a 1 MB frame",
                 out.peak_growth_kb);
    free(out.summary);
    free(reference);
}

/* A run may not allow messages larger than the engine, listening for
 * workers, lets through its ROUTER. */
static void
test_trust_run_limit_above_the_engine_is_refused(void **state)
{
    (void)state;
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint);
    cairn_registry_t *registry = th_registry_new(&s_draft, 1);
    cairn_workflow_t *wf = s_workflow(registry);
    cairn_engine_options_t engine_opts = {.host_threads = 1,
                                          .listen = endpoint,
                                          .max_message_size = MAX_MESSAGE};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    cairn_run_options_t opts = {.max_message_size = 2 * MAX_MESSAGE};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, &opts, &result,
                                      &err),
                     CAIRN_EINVAL);
    assert_null(result);
    assert_non_null(strstr(err.message, "exceeds the 4096 bytes of the "
                                        "engine"));
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trust_honest_worker_gives_the_reference),
        cmocka_unit_test(test_trust_sent_answers_refused),
        cmocka_unit_test(test_trust_sent_parts_refused),
        cmocka_unit_test(test_trust_sent_source_refused),
        cmocka_unit_test(test_trust_sent_oversize_refused),
        cmocka_unit_test(test_trust_sent_target_fails_the_executor),
        cmocka_unit_test(test_trust_request_foreign_id_refused),
        cmocka_unit_test(test_trust_request_duplicate_refused),
        cmocka_unit_test(test_trust_request_executor_refused),
        cmocka_unit_test(test_trust_request_superstep_refused),
        cmocka_unit_test(test_trust_request_no_kind_refused),
        cmocka_unit_test(test_trust_request_oversize_refused),
        cmocka_unit_test(test_trust_output_oversize_refused),
        cmocka_unit_test(test_trust_state_oversize_refused),
        cmocka_unit_test(test_trust_shared_oversize_refused),
        cmocka_unit_test(test_trust_handled_too_many_refused),
        cmocka_unit_test(test_trust_sent_flood_refused),
        cmocka_unit_test(test_trust_done_other_executor_ignored),
        cmocka_unit_test(test_trust_done_other_superstep_ignored),
        cmocka_unit_test(test_trust_done_other_attempt_ignored),
        cmocka_unit_test(test_trust_done_other_run_ignored),
        cmocka_unit_test(test_trust_error_with_ok_ignored),
        cmocka_unit_test(test_trust_failure_claim_fails_the_run),
        cmocka_unit_test(test_trust_bogus_frames_ignored),
        cmocka_unit_test(test_trust_hello_bad_id_refused),
        cmocka_unit_test(test_trust_hello_long_id_refused),
        cmocka_unit_test(test_trust_hello_empty_type_refused),
        cmocka_unit_test(test_trust_hello_many_types_taken),
        cmocka_unit_test(test_trust_oversized_frame_is_not_read),
        cmocka_unit_test(test_trust_decode_is_bounded),
        cmocka_unit_test(test_trust_run_limit_above_the_engine_is_refused),
    };
    if (getenv("CAIRN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("CAIRN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
