/* test_workers.c - executors in worker processes over TCP on 127.0.0.1.
 *
 * The test process is the coordinator (an engine listening on a free
 * loopback port); workers are child processes (child_worker). A fan-out
 * over three workers must give what the same workflow gives in-process,
 * with every branch run by a worker; SIGKILLing a worker mid-superstep
 * must not change the result: its work moves elsewhere and runs again.
 */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <czmq.h>
#include <stdatomic.h>
#include <zmq.h>

#include "cairn.pb-c.h"
#include "tests/harness/harness.h"
#include "tests/test_util.h"
#include <cairn/cairn.h>

#define CHILD CAIRN_TEST_BIN_DIR "/child_worker"
#define WORKERS 3

static int
s_branch_local(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[128];
    int n = snprintf(text, sizeof text, "%s:%.*s", cairn_ctx_executor_id(ctx),
                     (int)(len > 64 ? 64 : len), (const char *)payload);
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    if (cairn_ctx_state_set(ctx, "pid", pid, strlen(pid)) != 0
        || cairn_ctx_state_set(ctx, "seen", text, (size_t)n) != 0)
        return cairn_ctx_fail(ctx, "state write failed");
    return cairn_ctx_send(ctx, NULL, text, (size_t)n);
}

typedef struct {
    int joined;
    int lost;
    pid_t victim;        /* worker to SIGKILL once the branches run */
    long kill_after_ms;  /* ... this long after superstep 2 starts */
    pid_t killer;        /* the process that does it */
    int moved;           /* executor_moved events */
    char moved_detail[8][128]; /* the first ones' executor and detail */
    const char *replacement; /* endpoint: start worker "w9" when one is
                                lost */
    pid_t replacement_pid;
} s_watch_t;

/* Forks a process that sends the victim sig after a delay: only
 * async-signal-safe calls after fork in this threaded process. */
static pid_t
s_signal_later(pid_t victim, int sig, long ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(victim, sig);
        _exit(0);
    }
    return pid;
}

static pid_t
s_kill_later(pid_t victim, long ms)
{
    return s_signal_later(victim, SIGKILL, ms);
}

static pid_t
s_spawn_worker(const char *endpoint, const char *id);

static void
s_on_event(const cairn_event_t *event, void *userdata)
{
    s_watch_t *watch = userdata;
    watch->joined += event->kind == CAIRN_EVENT_WORKER_JOINED;
    watch->lost += event->kind == CAIRN_EVENT_WORKER_LOST;
    if (event->kind == CAIRN_EVENT_EXECUTOR_MOVED && watch->moved < 8)
        snprintf(watch->moved_detail[watch->moved], 128, "%s %s",
                 event->executor, event->detail);
    watch->moved += event->kind == CAIRN_EVENT_EXECUTOR_MOVED;
    if (event->kind == CAIRN_EVENT_WORKER_LOST && watch->replacement
        && !watch->replacement_pid)
        watch->replacement_pid = s_spawn_worker(watch->replacement, "w9");
    /* Superstep 2 runs the branches (200 ms each) on the workers. */
    if (watch->victim > 0 && !watch->killer
        && event->kind == CAIRN_EVENT_SUPERSTEP_STARTED
        && event->superstep == 2)
        watch->killer = s_kill_later(watch->victim, watch->kill_after_ms);
}

/* start -> fan-out to b1..b3 (of type, labelled as labels says, NULL
 * for none) -> fan-in join -> output; attempts limited to timeout_ms (0:
 * none) with one retry. */
static cairn_workflow_t *
s_build_placed(const cairn_registry_t *registry, uint32_t timeout_ms,
               const char *type, const char *const labels[3])
{
    cairn_builder_t *b = cairn_builder_new(registry);
    /* test.remote: only the workers know it */
    cairn_builder_allow_worker_types(b, true);
    cairn_retry_policy_t retry = {.max_attempts = 2, .backoff_ms = 10};
    if (timeout_ms)
        assert_int_equal(cairn_builder_set_retry(b, NULL, &retry), 0);
    assert_int_equal(cairn_builder_set_timeout(b, NULL, timeout_ms), 0);
    const char *branches[] = {"b1", "b2", "b3"};
    assert_int_equal(cairn_builder_add_executor(b, "start", "text.upper",
                                                NULL, 0),
                     0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cairn_builder_add_executor(b, branches[i], type,
                                                    NULL, 0),
                         0);
    for (int i = 0; labels && i < 3; i++)
        if (labels[i])
            assert_int_equal(cairn_builder_set_label(b, branches[i],
                                                     labels[i]),
                             0);
    assert_int_equal(cairn_builder_add_executor(b, "join", "text.join", NULL,
                                                0),
                     0);
    assert_int_equal(cairn_builder_add_executor(b, "out", "text.output",
                                                NULL, 0),
                     0);
    assert_int_equal(cairn_builder_add_fan_out(b, "start", branches, 3, NULL,
                                               NULL, 0),
                     0);
    assert_int_equal(cairn_builder_add_fan_in(b, branches, 3, "join"), 0);
    assert_int_equal(cairn_builder_add_edge(b, "join", "out", NULL, NULL, 0),
                     0);
    assert_int_equal(cairn_builder_set_start(b, "start"), 0);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), 0);
    cairn_builder_destroy(&b);
    return wf;
}

static cairn_workflow_t *
s_build_timed(const cairn_registry_t *registry, uint32_t timeout_ms)
{
    return s_build_placed(registry, timeout_ms, "test.branch", NULL);
}

static cairn_workflow_t *
s_build(const cairn_registry_t *registry)
{
    return s_build_timed(registry, 0);
}

/* Until the worker spawned for the engine has joined (watch->joined),
 * runs a workflow no host can take (a label nobody has): each run reads
 * Hellos while it waits for a worker, then fails without writing
 * anything. Bounded. A worker process may need longer than a case's
 * worker wait to start on a loaded machine (under TSan beside other
 * suites, longer than 800 ms), and the case would then test nothing. */
static void
s_await_join(const cairn_registry_t *registry, cairn_engine_t *engine,
             s_watch_t *watch, const cairn_run_options_t *opts)
{
    const char *nobody[3] = {"nobody", "nobody", "nobody"};
    cairn_workflow_t *unplaceable =
        s_build_placed(registry, 0, "test.branch", nobody);
    for (int tries = 0; watch->joined == 0 && tries < 100; tries++) {
        cairn_result_t *result = NULL;
        cairn_error_t err;
        assert_int_equal(cairn_engine_run(engine, unplaceable, "go", 2, opts,
                                          &result, &err),
                         CAIRN_ENOTFOUND);
    }
    assert_int_equal(watch->joined, 1);
    cairn_workflow_destroy(&unplaceable);
}

static const cairn_executor_type_t s_branch = {.name = "test.branch",
                                               .handle = s_branch_local};

/* A child_worker with extra environment entries (NULL-terminated, or
 * NULL) and its stderr in err_path (NULL: ours). */
static pid_t
s_spawn_worker_env(const char *endpoint, const char *id,
                   const char *const *extra, const char *err_path)
{
    /* The environment is made before fork: only exec after it. */
    char **env = th_env_new(extra);
    const char *argv[] = {CHILD, endpoint, id, NULL};
    th_spawn_t spec = {.argv = argv, .envp = env, .err_path = err_path};
    pid_t pid = th_spawn(&spec);
    free(env);
    return pid;
}

/* A child_worker; stall_ms > 0 makes its first attempts stall that long. */
static pid_t
s_spawn_worker_stalling(const char *endpoint, const char *id, long stall_ms)
{
    char stall[48];
    snprintf(stall, sizeof stall, "CAIRN_CHILD_STALL_MS=%ld", stall_ms);
    const char *extra[] = {stall, NULL};
    return s_spawn_worker_env(endpoint, id, stall_ms > 0 ? extra : NULL,
                              NULL);
}

static pid_t
s_spawn_worker(const char *endpoint, const char *id)
{
    return s_spawn_worker_stalling(endpoint, id, 0);
}

/* A worker that is to be SIGKILLed mid-superstep: its handlers take a
 * minute instead of 200 ms, so the kill (a helper process, some ms into
 * the superstep) lands while it still holds its executors however late
 * the helper runs; with 200 ms handlers a late kill on a loaded machine
 * found the work done and nothing was lost. */
static pid_t
s_spawn_victim(const char *endpoint, const char *id)
{
    const char *extra[] = {"CAIRN_CHILD_STEP_MS=60000", NULL};
    return s_spawn_worker_env(endpoint, id, extra, NULL);
}

/* A child_worker that announces label. */
static pid_t
s_spawn_worker_labelled(const char *endpoint, const char *id,
                        const char *label)
{
    char env[64];
    snprintf(env, sizeof env, "CAIRN_CHILD_LABEL=%s", label);
    const char *extra[] = {env, NULL};
    return s_spawn_worker_env(endpoint, id, extra, NULL);
}

static void
s_reap(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        th_kill(pids[i]);
}

/* A free loopback TCP endpoint (the port from our pid keeps parallel
 * test runs apart). */
static void
s_endpoint(char *out, size_t size, int salt)
{
    /* Below the kernel's ephemeral ports (32768 and up): a worker still
     * reconnecting from an earlier case gets its local port from there,
     * and a listen port it holds that way cannot be bound. */
    snprintf(out, size, "tcp://127.0.0.1:%d",
             20000 + (int)(getpid() % 10000) + salt);
}

static char *
s_summary(const cairn_result_t *result)
{
    char *text = calloc(1, 4096);
    assert_non_null(text);
    size_t len;
    const uint8_t *out = cairn_result_output(result, 0, &len);
    snprintf(text, 4096, "%s %llu %.*s",
             cairn_status_name(cairn_result_status(result)),
             (unsigned long long)cairn_result_supersteps(result), (int)len,
             out ? (const char *)out : "");
    const char *ids[] = {"b1", "b2", "b3"};
    for (int i = 0; i < 3; i++) {
        const uint8_t *seen = cairn_result_state(result, ids[i], "seen", &len);
        size_t used = strlen(text);
        snprintf(text + used, 4096 - used, " %s=%.*s", ids[i], (int)len,
                 seen ? (const char *)seen : "");
    }
    return text;
}

/* Every branch ran in a worker process, not in this one. */
static void
s_assert_branches_in_workers(const cairn_result_t *result)
{
    char self[24];
    snprintf(self, sizeof self, "%ld", (long)getpid());
    const char *ids[] = {"b1", "b2", "b3"};
    for (int i = 0; i < 3; i++) {
        size_t len;
        const uint8_t *pid = cairn_result_state(result, ids[i], "pid", &len);
        assert_non_null(pid);
        assert_false(len == strlen(self) && memcmp(pid, self, len) == 0);
    }
}

/* Runs the fan-out in-process, for reference. */
static char *
s_reference(void)
{
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build(registry);
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, NULL, &err), 0);
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, NULL, &result,
                                      &err),
                     0);
    char *summary = s_summary(result);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    return summary;
}

/* An engine with 2 host threads that listens on endpoint and waits for
 * WORKERS workers (300 ms heartbeats). */
static cairn_engine_t *
s_engine_with(const cairn_registry_t *registry, const char *endpoint,
              size_t min_workers, uint32_t wait_ms, cairn_worker_loss_t loss)
{
    cairn_engine_options_t engine_opts = {.host_threads = 2,
                                          .listen = endpoint,
                                          .heartbeat_ms = 300,
                                          .min_workers = min_workers,
                                          .worker_wait_ms = wait_ms,
                                          .on_worker_loss = loss};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    return engine;
}

static cairn_engine_t *
s_listening_engine(const cairn_registry_t *registry, const char *endpoint)
{
    return s_engine_with(registry, endpoint, WORKERS, 10000,
                         CAIRN_WORKER_LOSS_WORKER);
}

/* Whether executor id's state "pid" is pid (0: this process). */
static bool
s_ran_in(const cairn_result_t *result, const char *id, pid_t pid)
{
    char want[24];
    snprintf(want, sizeof want, "%ld", (long)(pid ? pid : getpid()));
    size_t len;
    const uint8_t *got = cairn_result_state(result, id, "pid", &len);
    return got && len == strlen(want) && memcmp(got, want, len) == 0;
}

/* Runs the fan-out with WORKERS workers; kill_after_ms > 0 SIGKILLs the
 * first worker ("w1") that long into the run (from a helper process),
 * whose executors go where loss says. */
static void
s_run_with_workers(int salt, long kill_after_ms, cairn_worker_loss_t loss)
{
    char *expected = s_reference();
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, salt);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build(registry);
    cairn_engine_t *engine =
        s_engine_with(registry, endpoint, WORKERS, 10000, loss);
    cairn_error_t err;
    pid_t pids[WORKERS + 1] = {0};
    for (int i = 0; i < WORKERS; i++) {
        char id[16];
        snprintf(id, sizeof id, "w%d", i + 1);
        pids[i] = i == 0 && kill_after_ms > 0 ? s_spawn_victim(endpoint, id)
                                              : s_spawn_worker(endpoint, id);
    }
    s_watch_t watch = {0};
    if (kill_after_ms > 0) {
        watch.victim = pids[0];
        watch.kill_after_ms = kill_after_ms;
    }
    cairn_run_options_t opts = {.on_event = s_on_event,
                                .event_userdata = &watch};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, &opts, &result,
                                      &err),
                     0);
    pids[WORKERS] = watch.killer;
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    /* A worker wrongly thought lost (a very slow machine) may join again. */
    assert_true(watch.joined >= WORKERS);
    if (kill_after_ms == 0) {
        s_assert_branches_in_workers(result);
        assert_int_equal(watch.lost, 0);
        assert_int_equal(watch.joined, WORKERS);
        assert_int_equal(watch.moved, 0);
    } else {
        assert_true(watch.lost >= 1);
        /* w1 ran one branch: it moved (to another worker, or here), and
         * every move is reported with where from and where to. */
        assert_true(watch.moved >= 1);
        bool w1_moved = false;
        for (int i = 0; i < watch.moved && i < 8; i++) {
            const char *detail = strchr(watch.moved_detail[i], ' ') + 1;
            assert_int_equal(strncmp(detail, "from w", 6), 0);
            if (strncmp(detail, "from w1 to ", 11) == 0) {
                w1_moved = true;
                if (loss == CAIRN_WORKER_LOSS_IN_PROCESS)
                    assert_string_equal(detail + 11, "in-process");
                else
                    assert_true(strcmp(detail + 11, "w2") == 0
                                || strcmp(detail + 11, "w3") == 0);
            }
        }
        assert_true(w1_moved);
    }
    free(actual);
    free(expected);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    s_reap(pids, WORKERS + 1);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

static void
test_workers_fan_out_over_tcp_matches_in_process(void **state)
{
    (void)state;
    s_run_with_workers(1, 0, CAIRN_WORKER_LOSS_WORKER);
}

static void
test_workers_killed_worker_does_not_change_the_result(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++)
        s_run_with_workers(2 + round, 20 + 60 * round,
                           CAIRN_WORKER_LOSS_WORKER);
    /* --on-worker-loss in-process: the moved branch runs here. */
    s_run_with_workers(5, 80, CAIRN_WORKER_LOSS_IN_PROCESS);
}

/* A worker whose handler stalls 8 s past a 1.5 s timeout is told to stop
 * and counted lost; its branch is retried elsewhere and the run gives the
 * uninterrupted result while the stuck worker is still busy. The worker
 * exits by itself once its handler returns (a thread cannot be
 * interrupted; docs/workers.md). */
static void
test_workers_stuck_worker_is_replaced(void **state)
{
    (void)state;
    char *expected = s_reference();
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 9);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build_timed(registry, 1500);
    cairn_engine_t *engine = s_listening_engine(registry, endpoint);
    cairn_error_t err;
    pid_t pids[WORKERS] = {0};
    pids[0] = s_spawn_worker_stalling(endpoint, "stuck", 8000);
    for (int i = 1; i < WORKERS; i++) {
        char id[16];
        snprintf(id, sizeof id, "w%d", i + 1);
        pids[i] = s_spawn_worker(endpoint, id);
    }
    s_watch_t watch = {0};
    cairn_run_options_t opts = {.on_event = s_on_event,
                                .event_userdata = &watch};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, &opts, &result,
                                      &err),
                     0);
    assert_true(th_alive(pids[0])); /* still stuck */
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    assert_true(watch.lost >= 1);
    /* Told to stop, it exits once the stalled handler returns. */
    int code = th_finish(pids[0], 15000, "the stuck worker");
    assert_true(code < 128);
    pids[0] = 0;
    free(actual);
    free(expected);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    s_reap(pids, WORKERS);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

/* ---- hostile frames ------------------------------------------------------- */

/* Packs env by hand with any protocol number. */
static void
s_send_envelope(void *socket, Cairn__Envelope *env)
{
    size_t len = cairn__envelope__get_packed_size(env);
    uint8_t *buffer = malloc(len);
    cairn__envelope__pack(env, buffer);
    zmq_send(socket, buffer, len, 0);
    free(buffer);
}

/* Starts child_hostile MODE ENDPOINT: an exec'd process, since a bare
 * fork of this threaded process may not use ZeroMQ. */
static pid_t
s_spawn_hostile(const char *mode, const char *endpoint)
{
    const char *argv[] = {CAIRN_TEST_BIN_DIR "/child_hostile", mode, endpoint,
                          NULL};
    th_spawn_t spec = {.argv = argv};
    return th_spawn(&spec);
}

static atomic_int s_rejected;

static void
s_count_rejections(cairn_log_level_t level, const char *module,
                   const char *message, void *userdata)
{
    (void)level, (void)module, (void)userdata;
    if (strstr(message, "rejected frame"))
        atomic_fetch_add(&s_rejected, 1);
}

static void
test_workers_hostile_frames_do_not_disturb_a_run(void **state)
{
    (void)state;
    char *expected = s_reference();
    char endpoint[64];
    /* Not the previous test's port: ZeroMQ closes a listener on its I/O
     * thread, after zmq_close returns, so binding it again at once can
     * fail (seen under ASan). */
    s_endpoint(endpoint, sizeof endpoint, 15);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build(registry);
    cairn_engine_options_t engine_opts = {.host_threads = 2,
                                          .listen = endpoint,
                                          .heartbeat_ms = 300};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    pid_t client = s_spawn_hostile("hostile", endpoint);
    atomic_store(&s_rejected, 0);
    cairn_log_set_sink(s_count_rejections, NULL);
    /* Runs on in-process hosts while the client sends its frames. */
    for (int round = 0; round < 5; round++) {
        cairn_result_t *result = NULL;
        assert_int_equal(cairn_engine_run(engine, wf, "go", 2, NULL, &result,
                                          &err),
                         0);
        char *summary = s_summary(result);
        assert_string_equal(summary, expected);
        free(summary);
        cairn_result_destroy(&result);
        struct timespec ts = {0, 300 * 1000000L};
        nanosleep(&ts, NULL);
    }
    cairn_log_set_sink(NULL, NULL);
    /* it finished on its own, in time */
    assert_int_equal(th_finish(client, 20000, "the hostile client"), 0);
    assert_true(atomic_load(&s_rejected) > 0);
    free(expected);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

/* ---- protocol versions ------------------------------------------------------ */

/* A peer speaking another protocol version is told so and refused; runs
 * go on. */
static void
test_workers_wrong_protocol_version_is_told(void **state)
{
    (void)state;
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 10);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build(registry);
    cairn_engine_options_t engine_opts = {.host_threads = 2,
                                          .listen = endpoint};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    pid_t client = s_spawn_hostile("wrong-version", endpoint);
    /* The engine reads frames while it runs: run until the client is
     * answered (bounded). */
    int status = 0;
    pid_t done = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long elapsed = 0; elapsed < 15000 && done == 0;) {
        cairn_result_t *result = NULL;
        assert_int_equal(cairn_engine_run(engine, wf, "go", 2, NULL, &result,
                                          &err),
                         0);
        assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
        cairn_result_destroy(&result);
        done = waitpid(client, &status, WNOHANG);
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (now.tv_sec - start.tv_sec) * 1000
                  + (now.tv_nsec - start.tv_nsec) / 1000000;
    }
    if (done == 0) {
        kill(client, SIGKILL);
        waitpid(client, &status, 0);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

/* A worker told by its coordinator that its version is not spoken there
 * stops at once with an error, instead of waiting to give up. */
static void
test_workers_worker_stops_when_refused(void **state)
{
    (void)state;
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 11);
    void *context = zmq_ctx_new();
    void *router = zmq_socket(context, ZMQ_ROUTER);
    int linger = 0, timeout = 5000;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal(zmq_bind(router, endpoint), 0);
    pid_t worker = s_spawn_worker(endpoint, "old");
    uint8_t peer[256], frame[4096];
    int peer_len = zmq_recv(router, peer, sizeof peer, 0);
    assert_true(peer_len > 0);
    assert_true(zmq_recv(router, frame, sizeof frame, 0) > 0); /* Hello */
    Cairn__Shutdown shutdown = CAIRN__SHUTDOWN__INIT;
    shutdown.reason = (char *)"this coordinator speaks cairn protocol 999";
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.protocol = 999;
    env.body_case = CAIRN__ENVELOPE__BODY_SHUTDOWN;
    env.shutdown = &shutdown;
    zmq_send(router, peer, (size_t)peer_len, ZMQ_SNDMORE);
    s_send_envelope(router, &env);
    /* It gives up on its own only after 5 s: well before that, it must
     * have stopped because it was told. */
    assert_int_equal(th_finish(worker, 3000, "the refused worker"), 1);
    zmq_close(router);
    zmq_ctx_term(context);
}

/* ---- CURVE ------------------------------------------------------------------ */

static atomic_int s_refusal_logs;
static atomic_int s_refusal_not_listed;
static atomic_int s_refusal_mismatch;

static void
s_count_refusals(cairn_log_level_t level, const char *module,
                 const char *message, void *userdata)
{
    (void)level;
    (void)module;
    (void)userdata;
    if (!strstr(message, "refused a worker connection from"))
        return;
    atomic_fetch_add(&s_refusal_logs, 1);
    if (strstr(message, "not in the allow list"))
        atomic_fetch_add(&s_refusal_not_listed, 1);
    /* Without CURVE: which side sees it first decides the words. */
    if (strstr(message, "mechanism mismatch")
        || strstr(message, "handshake broke off"))
        atomic_fetch_add(&s_refusal_mismatch, 1);
}

static char *
s_read_file(const char *path)
{
    char *text = test_read_file(path, NULL);
    assert_non_null(text);
    return text;
}

static void
s_copy_file(const char *from, const char *to)
{
    char *text = s_read_file(from);
    FILE *file = fopen(to, "w");
    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    fclose(file);
    free(text);
}

/* Two workers with listed keys run the branches (same result as
 * in-process); a worker with an unlisted key and one without CURVE are
 * refused (logged from the socket monitor, counted), stop on their own
 * well before giving up (5 s) with a message saying so, and the run is
 * not disturbed. */
static void
test_workers_curve_admits_listed_keys_only(void **state)
{
    (void)state;
    char *expected = s_reference();
    char dir[64];
    assert_int_equal(th_dir_make(dir, sizeof dir, "curve"), 0);
    char path[6][256];
    const char *names[] = {"server", "w1", "w2", "rogue"};
    cairn_error_t err;
    for (int i = 0; i < 4; i++) {
        snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
        assert_int_equal(cairn_curve_keygen(path[i], &err), 0);
    }
    char allow[256], from[300], to[300];
    snprintf(allow, sizeof allow, "%s/allow", dir);
    assert_int_equal(mkdir(allow, 0700), 0);
    for (int i = 1; i <= 2; i++) {
        snprintf(from, sizeof from, "%s/key.pub", path[i]);
        snprintf(to, sizeof to, "%s/%s.pub", allow, names[i]);
        s_copy_file(from, to);
    }
    char secret[300], server_public[300];
    snprintf(secret, sizeof secret, "%s/key", path[0]);
    snprintf(server_public, sizeof server_public, "CAIRN_CHILD_SERVER_KEY=%s/key.pub",
             path[0]);

    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 12);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build(registry);
    cairn_engine_options_t engine_opts = {.host_threads = 2,
                                          .listen = endpoint,
                                          .heartbeat_ms = 300,
                                          .min_workers = 2,
                                          .worker_wait_ms = 10000,
                                          .curve_secret = secret,
                                          .allow_keys = allow};
    atomic_store(&s_refusal_logs, 0);
    atomic_store(&s_refusal_not_listed, 0);
    atomic_store(&s_refusal_mismatch, 0);
    cairn_log_set_sink(s_count_refusals, NULL);
    cairn_engine_t *engine = NULL;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    /* The refused ones first, so they are refused while the run goes. */
    char rogue_secret[300], rogue_err[300], plain_err[300];
    snprintf(rogue_secret, sizeof rogue_secret,
             "CAIRN_CHILD_CURVE_SECRET=%s/key", path[3]);
    snprintf(rogue_err, sizeof rogue_err, "%s/rogue.err", dir);
    snprintf(plain_err, sizeof plain_err, "%s/plain.err", dir);
    const char *rogue_env[] = {rogue_secret, server_public, NULL};
    pid_t pids[4] = {0};
    pids[2] = s_spawn_worker_env(endpoint, "rogue", rogue_env, rogue_err);
    pids[3] = s_spawn_worker_env(endpoint, "plain", NULL, plain_err);
    char w_secret[2][300];
    for (int i = 0; i < 2; i++) {
        snprintf(w_secret[i], sizeof w_secret[i],
                 "CAIRN_CHILD_CURVE_SECRET=%s/key", path[1 + i]);
        const char *env[] = {w_secret[i], server_public, NULL};
        pids[i] = s_spawn_worker_env(endpoint, names[1 + i], env, NULL);
    }
    s_watch_t watch = {0};
    cairn_run_options_t opts = {.on_event = s_on_event,
                                .event_userdata = &watch};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, &opts, &result,
                                      &err),
                     0);
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    assert_int_equal(watch.joined, 2); /* the refused ones never joined */
    s_assert_branches_in_workers(result);
    /* Refused: they stop by themselves (3 heartbeats of 300 ms without a
     * word after the refusal) long before giving up at 5 s. */
    uint64_t start = zclock_mono();
    assert_int_equal(th_finish(pids[2], 4000, "worker 3"), 1);
    assert_int_equal(th_finish(pids[3], 4000, "worker 4"), 1);
    assert_true(zclock_mono() - start < 4000);
    pids[2] = pids[3] = 0;
    char *text = s_read_file(rogue_err);
    if (!strstr(text, "refused the connection: its CURVE key is not in the "
                      "allow list"))
        fail_msg("rogue worker said: %s", text);
    free(text);
    text = s_read_file(plain_err);
    if (!strstr(text, "refused the connection"))
        fail_msg("worker without CURVE said: %s", text);
    free(text);
    uint64_t refused = cairn_engine_refused_peers(engine);
    assert_true(refused >= 2);
    cairn_engine_destroy(&engine); /* flushes the monitor's log */
    cairn_log_set_sink(NULL, NULL);
    assert_true((uint64_t)atomic_load(&s_refusal_logs) >= refused);
    assert_true(atomic_load(&s_refusal_not_listed) >= 1);
    assert_true(atomic_load(&s_refusal_mismatch) >= 1);
    free(actual);
    free(expected);
    cairn_result_destroy(&result);
    s_reap(pids, 4);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    th_dir_remove(dir);
}

/* Expects cairn_engine_open to refuse the key options with EINVAL and a
 * message holding part. */
static void
s_expect_engine_refuses(const char *secret, const char *allow,
                        const char *part)
{
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 13);
    cairn_engine_options_t opts = {.host_threads = 1,
                                   .listen = endpoint,
                                   .curve_secret = secret,
                                   .allow_keys = allow};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &opts, &err),
                     CAIRN_EINVAL);
    assert_null(engine);
    if (!strstr(err.message, part))
        fail_msg("error \"%s\" lacks \"%s\"", err.message, part);
    cairn_registry_destroy(&registry);
}

/* Keys that cairn_curve_keygen made load; missing, public-only, garbage
 * key files and a missing allow directory are refused naming the file,
 * on both sides; keygen does not overwrite. */
static void
test_workers_curve_bad_key_files(void **state)
{
    (void)state;
    char dir[64];
    assert_int_equal(th_dir_make(dir, sizeof dir, "curve"), 0);
    char keys[256], secret[300], public_key[300], garbage[300], missing[300];
    snprintf(keys, sizeof keys, "%s/k", dir);
    cairn_error_t err;
    assert_int_equal(cairn_curve_keygen(keys, &err), 0);
    assert_int_equal(cairn_curve_keygen(keys, &err), CAIRN_EEXISTS);
    snprintf(secret, sizeof secret, "%s/key", keys);
    snprintf(public_key, sizeof public_key, "%s/key.pub", keys);
    snprintf(garbage, sizeof garbage, "%s/garbage", dir);
    snprintf(missing, sizeof missing, "%s/missing", dir);
    struct stat st;
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *file = fopen(garbage, "w");
    assert_non_null(file);
    fputs("curve\n    public-key = \"not a key\"\n", file);
    fclose(file);

    /* The made pair works: an engine opens with it. */
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 13);
    /* keys/ holds the pair: the same public key twice. */
    s_expect_engine_refuses(secret, keys, "hold the same public key");
    char allow[256], copy[300];
    snprintf(allow, sizeof allow, "%s/allow", dir);
    assert_int_equal(mkdir(allow, 0700), 0);
    snprintf(copy, sizeof copy, "%s/me.pub", allow);
    s_copy_file(public_key, copy);
    cairn_engine_options_t opts = {.host_threads = 1,
                                   .listen = endpoint,
                                   .curve_secret = secret,
                                   .allow_keys = allow};
    cairn_engine_t *engine = NULL;
    assert_int_equal(cairn_engine_open(&engine, registry, &opts, &err), 0);
    assert_int_equal(cairn_engine_refused_peers(engine), 0);
    /* One CURVE engine per process (zauth owns the ZAP endpoint). */
    cairn_engine_t *second = NULL;
    char other[64];
    s_endpoint(other, sizeof other, 14);
    opts.listen = other;
    assert_int_equal(cairn_engine_open(&second, registry, &opts, &err),
                     CAIRN_ESTATE);
    cairn_engine_destroy(&engine);

    s_expect_engine_refuses(missing, allow, missing);
    s_expect_engine_refuses(public_key, allow, "holds no CURVE secret key");
    s_expect_engine_refuses(garbage, allow, garbage);
    s_expect_engine_refuses(secret, missing, missing);
    s_expect_engine_refuses(secret, NULL, "both");

    cairn_worker_options_t wopts = {.endpoint = endpoint,
                                    .curve_secret = secret,
                                    .server_key = garbage,
                                    .give_up_after_ms = 1000};
    assert_int_equal(cairn_worker_run(registry, &wopts, &err), CAIRN_EINVAL);
    assert_non_null(strstr(err.message, garbage));
    wopts.curve_secret = public_key;
    wopts.server_key = public_key;
    assert_int_equal(cairn_worker_run(registry, &wopts, &err), CAIRN_EINVAL);
    assert_non_null(strstr(err.message, public_key));
    wopts.server_key = NULL;
    assert_int_equal(cairn_worker_run(registry, &wopts, &err), CAIRN_EINVAL);
    cairn_registry_destroy(&registry);
    th_dir_remove(dir);
}

/* ---- placement: labels and types only workers offer ------------------- */

/* Two workers offer test.branch, only "gpu-box" carries the label gpu:
 * the branches labelled gpu run there, the unlabelled one on a worker
 * (spread as usual), and the result is the in-process one. */
static void
test_workers_labelled_executors_run_on_the_labelled_worker(void **state)
{
    (void)state;
    char *expected = s_reference();
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 20);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    const char *labels[3] = {"gpu", "gpu", NULL};
    cairn_workflow_t *wf = s_build_placed(registry, 0, "test.branch", labels);
    cairn_engine_t *engine = s_engine_with(registry, endpoint, 2, 10000,
                                           CAIRN_WORKER_LOSS_WORKER);
    pid_t pids[2] = {s_spawn_worker(endpoint, "plain"),
                     s_spawn_worker_labelled(endpoint, "gpu-box", "gpu")};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, NULL, &result,
                                      &err),
                     0);
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    assert_true(s_ran_in(result, "b1", pids[1]));
    assert_true(s_ran_in(result, "b2", pids[1]));
    assert_true(s_ran_in(result, "b3", pids[0])
                || s_ran_in(result, "b3", pids[1]));
    free(actual);
    free(expected);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    s_reap(pids, 2);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

/* A type the coordinator's registry lacks (test.remote) runs on the
 * worker that offers it; the run waits for that worker (min_workers 0)
 * and gives the in-process result of the same handler. */
static void
test_workers_worker_only_type_runs_on_a_worker(void **state)
{
    (void)state;
    char *expected = s_reference();
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 21);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build_placed(registry, 0, "test.remote", NULL);
    cairn_engine_t *engine = s_engine_with(registry, endpoint, 0, 10000,
                                           CAIRN_WORKER_LOSS_WORKER);
    pid_t pids[1] = {s_spawn_worker(endpoint, "w1")};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, NULL, &result,
                                      &err),
                     0);
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    const char *ids[] = {"b1", "b2", "b3"};
    for (int i = 0; i < 3; i++)
        assert_true(s_ran_in(result, ids[i], pids[0]));
    free(actual);
    free(expected);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    s_reap(pids, 1);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* No worker offers what an executor needs: the run fails once the
 * worker wait is over, naming the executor, its type (and label), and
 * runs nothing. A worker that offers the type without the label does not
 * count, and neither does the coordinator's own registry. An engine that
 * does not listen refuses at once; a builder not told about worker types
 * refuses the type as before. */
static void
test_workers_unoffered_executor_fails_after_the_wait(void **state)
{
    (void)state;
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 22);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *remote = s_build_placed(registry, 0, "test.remote",
                                              NULL);
    const char *labels[3] = {NULL, NULL, "gpu"};
    cairn_workflow_t *labelled =
        s_build_placed(registry, 0, "test.branch", labels);
    cairn_engine_t *engine = s_engine_with(registry, endpoint, 0, 600,
                                           CAIRN_WORKER_LOSS_WORKER);
    s_watch_t watch = {0};
    cairn_run_options_t opts = {.on_event = s_on_event,
                                .event_userdata = &watch};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    uint64_t started = s_now_ms();
    int rc = cairn_engine_run(engine, remote, "go", 2, &opts, &result, &err);
    assert_int_equal(rc, CAIRN_ENOTFOUND);
    uint64_t took = s_now_ms() - started;
    assert_null(result);
    assert_true(took >= 550 && took < 5000);
    assert_string_equal(err.message,
                        "executor 'b1' (type 'test.remote'): no worker "
                        "offering that type joined within 600 ms");
    assert_int_equal(watch.joined, 0);

    /* A worker without the label is there: still nothing fits b3. Its
     * process may need longer than the 600 ms wait to start and join on a
     * loaded machine, so runs of `remote` (which it serves) are repeated,
     * bounded, until one has run on it. */
    pid_t pids[1] = {s_spawn_worker(endpoint, "plain")};
    for (int tries = 0; watch.joined == 0 && tries < 50; tries++) {
        rc = cairn_engine_run(engine, remote, "go", 2, &opts, &result, &err);
        assert_true(rc == CAIRN_OK || rc == CAIRN_ENOTFOUND);
        cairn_result_destroy(&result);
    }
    assert_int_equal(watch.joined, 1);
    started = s_now_ms();
    assert_int_equal(cairn_engine_run(engine, labelled, "go", 2, &opts,
                                      &result, &err),
                     CAIRN_ENOTFOUND);
    took = s_now_ms() - started;
    assert_null(result);
    assert_true(took >= 550 && took < 5000);
    assert_string_equal(err.message,
                        "executor 'b3' (type 'test.branch', label 'gpu'): no "
                        "worker offering that type with that label joined "
                        "within 600 ms");
    assert_int_equal(watch.joined, 1);
    cairn_engine_destroy(&engine);
    s_reap(pids, 1);

    /* Without a listen endpoint no worker can come. */
    assert_int_equal(cairn_engine_open(&engine, registry, NULL, &err), 0);
    started = s_now_ms();
    assert_int_equal(cairn_engine_run(engine, remote, "go", 2, NULL, &result,
                                      &err),
                     CAIRN_EVALIDATION);
    assert_true(s_now_ms() - started < 500);
    assert_non_null(strstr(err.message, "executor 'b1' (type 'test.remote')"));
    assert_non_null(strstr(err.message, "does not listen for workers"));
    cairn_engine_destroy(&engine);

    cairn_builder_t *b = cairn_builder_new(registry);
    assert_int_equal(cairn_builder_add_executor(b, "x", "test.remote", NULL,
                                                0),
                     0);
    assert_int_equal(cairn_builder_set_start(b, "x"), 0);
    cairn_workflow_t *wf = NULL;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
    assert_string_equal(err.message,
                        "executor 'x': unknown executor type 'test.remote'");
    /* Labels are checked by build. */
    cairn_builder_allow_worker_types(b, true);
    assert_int_equal(cairn_builder_set_label(b, "x", "has space"), 0);
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
    assert_non_null(strstr(err.message, "executor 'x': label 'has space'"));
    cairn_builder_destroy(&b);
    b = cairn_builder_new(registry);
    assert_int_equal(cairn_builder_add_executor(b, "x", "text.upper", NULL,
                                                0),
                     0);
    assert_int_equal(cairn_builder_set_start(b, "x"), 0);
    assert_int_equal(cairn_builder_set_label(b, "nobody", "gpu"), 0);
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
    assert_non_null(strstr(err.message, "unknown executor 'nobody'"));
    cairn_builder_destroy(&b);
    cairn_workflow_destroy(&remote);
    cairn_workflow_destroy(&labelled);
    cairn_registry_destroy(&registry);
}

/* The only worker offering test.remote is SIGKILLed in the middle of
 * superstep 2: its executors cannot run here, so the run waits for a
 * worker. One that joins in time (started when the loss is seen) takes
 * them over and the run gives the uninterrupted result; when none
 * comes, the run stops with an error naming the lost worker and the
 * executor. */
static void
test_workers_lost_worker_only_type_waits_for_a_worker(void **state)
{
    (void)state;
    char *expected = s_reference();
    for (int round = 0; round < 2; round++) {
        bool replaced = round == 0;
        char endpoint[64];
        s_endpoint(endpoint, sizeof endpoint, 23 + round);
        cairn_registry_t *registry = th_registry_new(&s_branch, 1);
        cairn_workflow_t *wf = s_build_placed(registry, 0, "test.remote",
                                              NULL);
        cairn_engine_t *engine = s_engine_with(registry, endpoint, 1,
                                               replaced ? 10000 : 800,
                                               CAIRN_WORKER_LOSS_WORKER);
        pid_t pids[3] = {s_spawn_victim(endpoint, "w1"), 0, 0};
        s_watch_t watch = {.victim = pids[0], .kill_after_ms = 60};
        if (replaced)
            watch.replacement = endpoint;
        cairn_run_options_t opts = {.on_event = s_on_event,
                                    .event_userdata = &watch};
        cairn_result_t *result = NULL;
        cairn_error_t err;
        s_await_join(registry, engine, &watch, &opts);
        int rc = cairn_engine_run(engine, wf, "go", 2, &opts, &result, &err);
        pids[1] = watch.killer;
        pids[2] = watch.replacement_pid;
        assert_int_equal(watch.lost, 1);
        if (replaced) {
            assert_int_equal(rc, 0);
            char *actual = s_summary(result);
            assert_string_equal(actual, expected);
            free(actual);
            const char *ids[] = {"b1", "b2", "b3"};
            for (int i = 0; i < 3; i++)
                assert_true(s_ran_in(result, ids[i], watch.replacement_pid));
            assert_int_equal(watch.moved, 3);
            for (int i = 0; i < 3; i++) {
                char want[64];
                snprintf(want, sizeof want, "%s from w1 to w9", ids[i]);
                assert_string_equal(watch.moved_detail[i], want);
            }
        } else {
            assert_int_equal(rc, CAIRN_ETRANSPORT);
            assert_null(result);
            assert_string_equal(err.message,
                                "host w1 was lost; executor 'b1' (type "
                                "'test.remote'): no worker offering that "
                                "type joined within 800 ms");
            assert_int_equal(watch.moved, 0);
        }
        cairn_result_destroy(&result);
        cairn_engine_destroy(&engine);
        s_reap(pids, 3);
        cairn_workflow_destroy(&wf);
        cairn_registry_destroy(&registry);
    }
    free(expected);
}

/* A CURVE engine's local_listen endpoint asks for no key: a worker
 * without one joins over it and runs the branches (the in-process
 * result), while on the tcp endpoint the same worker would be refused
 * (test_workers_curve_admits_listed_keys_only). The socket file is
 * owner-only; a local endpoint that is not ipc is refused. */
static void
test_workers_local_endpoint_takes_no_key(void **state)
{
    (void)state;
    char *expected = s_reference();
    char dir[64];
    assert_int_equal(th_dir_make(dir, sizeof dir, "local"), 0);
    char keys[256], secret[300], allow[256], local[320], sock[300];
    snprintf(keys, sizeof keys, "%s/server", dir);
    cairn_error_t err;
    assert_int_equal(cairn_curve_keygen(keys, &err), 0);
    snprintf(secret, sizeof secret, "%s/key", keys);
    snprintf(allow, sizeof allow, "%s/allow", dir);
    assert_int_equal(mkdir(allow, 0700), 0);
    snprintf(sock, sizeof sock, "%s/workers.ipc", dir);
    snprintf(local, sizeof local, "ipc://%s", sock);
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, 18);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build(registry);
    cairn_engine_options_t engine_opts = {.host_threads = 2,
                                          .listen = endpoint,
                                          .heartbeat_ms = 300,
                                          .min_workers = 1,
                                          .worker_wait_ms = 10000,
                                          .curve_secret = secret,
                                          .allow_keys = allow,
                                          .local_listen = "tcp://127.0.0.1:1"};
    cairn_engine_t *engine = NULL;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     CAIRN_EINVAL);
    assert_non_null(strstr(err.message, "must be ipc://PATH"));
    engine_opts.local_listen = local;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    struct stat st;
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    pid_t pids[1] = {s_spawn_worker(local, "local")};
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "go", 2, NULL, &result, &err),
                     0);
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    s_assert_branches_in_workers(result);
    assert_int_equal(cairn_engine_refused_peers(engine), 0);
    free(actual);
    free(expected);
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    s_reap(pids, 1);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    th_dir_remove(dir);
}

/* ---- a worker restarted under its id ------------------------------------- */

/* The environment of a child_worker with 2 s heartbeats, made before a
 * fork. Caller frees the array, not the strings. */
static char **
s_child_env(void)
{
    const char *extra[] = {"CAIRN_CHILD_HEARTBEAT_MS=2000", NULL};
    return th_env_new(extra);
}

typedef struct {
    pid_t victim;      /* the first process of worker w1 */
    int sig;           /* SIGSTOP or SIGKILL, 50 ms into superstep 2 */
    char *const *argv; /* ... then the helper execs this: a new w1 */
    char *const *env;
    pid_t successor;    /* that helper, then the new w1 */
    uint64_t signalled; /* zclock_mono() of the signal, about */
    uint64_t lost;      /* zclock_mono() of worker_lost for w1, or 0 */
    int joined;
} s_restart_t;

/* In the successor, before it execs: signals the victim 50 ms in (only
 * async-signal-safe calls after fork in this threaded process). */
static void
s_signal_victim(void *arg)
{
    const s_restart_t *r = arg;
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    kill(r->victim, r->sig);
}

static void
s_on_restart_event(const cairn_event_t *event, void *userdata)
{
    s_restart_t *r = userdata;
    r->joined += event->kind == CAIRN_EVENT_WORKER_JOINED;
    if (event->kind == CAIRN_EVENT_WORKER_LOST && !r->lost && event->detail
        && strcmp(event->detail, "w1") == 0)
        r->lost = (uint64_t)zclock_mono();
    if (r->successor || event->kind != CAIRN_EVENT_SUPERSTEP_STARTED
        || event->superstep != 2)
        return;
    r->signalled = (uint64_t)zclock_mono() + 50;
    th_spawn_t spec = {.argv = (const char *const *)r->argv,
                       .envp = r->env,
                       .before_exec = s_signal_victim,
                       .arg = r};
    r->successor = th_spawn(&spec);
}

/* Cancels the run if it has not ended after 20 s, so a hang fails the
 * test instead of stalling it. */
typedef struct {
    cairn_run_control_t *control;
    atomic_bool ended;
} s_watchdog_t;

static void *
s_watchdog(void *arg)
{
    s_watchdog_t *dog = arg;
    for (int i = 0; i < 2000 && !atomic_load(&dog->ended); i++)
        zclock_sleep(10);
    if (!atomic_load(&dog->ended))
        cairn_run_control_cancel(dog->control);
    return NULL;
}

/* Worker w1 is stopped (SIGSTOP: its connection stays up, so nothing
 * tells the coordinator it is gone) or killed in the middle of its
 * branch, and a new process starts at once under the same id. Its Hello
 * (another nonce) makes the coordinator lose the old one right away, long
 * before three silent 2 s heartbeats would, and the run ends as an
 * uninterrupted one. A stopped one that wakes up is told to stop. */
static void
s_run_restarted(int salt, int sig)
{
    char *expected = s_reference();
    char dir[64];
    assert_int_equal(th_dir_make(dir, sizeof dir, "restart"), 0);
    char old_err[300];
    snprintf(old_err, sizeof old_err, "%s/old.err", dir);
    char endpoint[64];
    s_endpoint(endpoint, sizeof endpoint, salt);
    cairn_registry_t *registry = th_registry_new(&s_branch, 1);
    cairn_workflow_t *wf = s_build(registry);
    cairn_engine_options_t engine_opts = {.host_threads = 2,
                                          .listen = endpoint,
                                          .heartbeat_ms = 2000,
                                          .min_workers = WORKERS,
                                          .worker_wait_ms = 10000};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_open(&engine, registry, &engine_opts, &err),
                     0);
    const char *beat[] = {"CAIRN_CHILD_HEARTBEAT_MS=2000", NULL};
    pid_t pids[WORKERS + 1] = {0};
    pids[0] = s_spawn_worker_env(endpoint, "w1", beat, old_err);
    pids[1] = s_spawn_worker_env(endpoint, "w2", beat, NULL);
    pids[2] = s_spawn_worker_env(endpoint, "w3", beat, NULL);
    char *const argv[] = {CHILD, endpoint, (char *)"w1", NULL};
    char **env = s_child_env();
    s_restart_t restart = {
        .victim = pids[0], .sig = sig, .argv = argv, .env = env};
    s_watchdog_t dog = {.control = cairn_run_control_new()};
    assert_non_null(dog.control);
    atomic_init(&dog.ended, false);
    pthread_t watchdog;
    assert_int_equal(pthread_create(&watchdog, NULL, s_watchdog, &dog), 0);
    cairn_run_options_t opts = {.on_event = s_on_restart_event,
                                .event_userdata = &restart,
                                .control = dog.control};
    cairn_result_t *result = NULL;
    int rc = cairn_engine_run(engine, wf, "go", 2, &opts, &result, &err);
    atomic_store(&dog.ended, true);
    pthread_join(watchdog, NULL);
    pids[WORKERS] = restart.successor;
    assert_int_equal(rc, 0);
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    assert_true(restart.successor > 0);
    /* Lost because the new process said Hello, not after 6 s of silence. */
    assert_true(restart.lost > 0);
    if (restart.lost - restart.signalled >= 4000)
        fail_msg("old w1 lost %llu ms after the signal",
                 (unsigned long long)(restart.lost - restart.signalled));
    assert_true(restart.joined >= WORKERS + 1);
    if (sig == SIGSTOP) {
        /* Woken up, the old process finds it was told to stop. */
        assert_int_equal(kill(pids[0], SIGCONT), 0);
        assert_int_equal(th_finish(pids[0], 5000, "the old worker"), 1);
        pids[0] = 0;
        char *text = s_read_file(old_err);
        if (!strstr(text, "another process joined as worker w1"))
            fail_msg("the old w1 said: %s", text);
        free(text);
    }
    free(actual);
    free(expected);
    free(env);
    cairn_result_destroy(&result);
    cairn_run_control_destroy(&dog.control);
    cairn_engine_destroy(&engine);
    s_reap(pids, WORKERS + 1);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    th_dir_remove(dir);
}

static void
test_workers_restarted_worker_replaces_the_old_process(void **state)
{
    (void)state;
    s_run_restarted(16, SIGSTOP);
    s_run_restarted(17, SIGKILL);
}

#include "blame_cases.h"

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workers_fan_out_over_tcp_matches_in_process),
        cmocka_unit_test(
            test_workers_killed_worker_does_not_change_the_result),
        cmocka_unit_test(test_workers_stuck_worker_is_replaced),
        cmocka_unit_test(test_workers_hostile_frames_do_not_disturb_a_run),
        cmocka_unit_test(test_workers_wrong_protocol_version_is_told),
        cmocka_unit_test(test_workers_worker_stops_when_refused),
        cmocka_unit_test(test_workers_curve_admits_listed_keys_only),
        cmocka_unit_test(test_workers_curve_bad_key_files),
        cmocka_unit_test(
            test_workers_labelled_executors_run_on_the_labelled_worker),
        cmocka_unit_test(test_workers_worker_only_type_runs_on_a_worker),
        cmocka_unit_test(
            test_workers_unoffered_executor_fails_after_the_wait),
        cmocka_unit_test(
            test_workers_lost_worker_only_type_waits_for_a_worker),
        cmocka_unit_test(test_workers_local_endpoint_takes_no_key),
        cmocka_unit_test(
            test_workers_restarted_worker_replaces_the_old_process),
        cmocka_unit_test(test_workers_refused_send_blames_no_executor),
        cmocka_unit_test(test_workers_silent_worker_blames_no_executor),
        cmocka_unit_test(
            test_workers_silent_worker_keeps_its_executor_off_the_coordinator),
        cmocka_unit_test(test_workers_paused_coordinator_loses_no_worker),
        cmocka_unit_test(test_workers_silent_worker_that_dies_costs_an_attempt),
    };
    if (getenv("CAIRN_TEST_FILTER")) /* run some cases only */
        cmocka_set_test_filter(getenv("CAIRN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
