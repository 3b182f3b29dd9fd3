/* child_workflow.c - a durable run in its own process, for the crash
 * tests: they start it, SIGKILL it at random moments and start it again.
 *
 *   child_workflow SCENARIO DB RUN_ID [STEPS] [LOG]
 *
 * It resumes RUN_ID from DB when the store knows it, else starts it, and
 * on completion prints a summary (status, supersteps, outputs, every
 * state entry) that two runs can be compared by. Scenarios:
 *   cycle   two executors pass a counter back and forth up to STEPS,
 *           each keeping how often it ran; shared state records the last
 *           writer; sleeps CAIRN_CHILD_STEP_MS (default 1) per step so
 *           kills land mid-run, and writes the superstep it is in to the
 *           file CAIRN_CHILD_PROGRESS names (if set)
 *   fanout  start fans out to a, b, c and slow; every handler appends its
 *           id to LOG when it starts. slow takes 1.5 s, or, when
 *           CAIRN_CHILD_GATE names a file, waits until that file exists
 *           (so a test can kill the run while slow surely still runs)
 *   torture a cycle through a fan-out and a fan-in: hub counts rounds up
 *           to STEPS and fans out to left, right and sleepy (which sleeps
 *           0-3 ms); each writes executor and shared state; the
 *           fan-in merge joins them and sends back to hub; hub yields an
 *           output every 5th round and at the end. Progress as in cycle
 * With CAIRN_CHILD_LISTEN=ENDPOINT the coordinator also accepts workers
 * there (100 ms heartbeats) and first waits for CAIRN_CHILD_MIN_WORKERS;
 *
 *   child_workflow worker ENDPOINT ID
 *
 * is such a worker, offering every type above; it gives up after 60 s
 * without a coordinator.
 * Exit: 0 completed, 1 failed, 2 usage or setup error. The library's
 * warnings, and why a run failed or a worker stopped, go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cairn/cairn.h>

#include "tests/test_util.h"

static const char *s_log_path;
static long s_step_ms = 1;
static const char *s_progress_path;
static const char *s_gate_path;

static void
s_log_invocation(cairn_ctx_t *ctx)
{
    if (!s_log_path)
        return;
    FILE *log = fopen(s_log_path, "a");
    if (log) {
        fprintf(log, "%s\n", cairn_ctx_executor_id(ctx));
        fclose(log);
    }
}

/* Keeps a decimal count of invocations in the executor's state. */
static int
s_count_invocation(cairn_ctx_t *ctx)
{
    const uint8_t *seen = cairn_ctx_state_get(ctx, "runs", NULL);
    char text[24];
    snprintf(text, sizeof text, "%ld", seen ? atol((const char *)seen) + 1 : 1);
    return cairn_ctx_state_set(ctx, "runs", text, strlen(text) + 1);
}

static void
s_note_progress(cairn_ctx_t *ctx)
{
    FILE *progress = s_progress_path ? fopen(s_progress_path, "w") : NULL;
    if (progress) {
        fprintf(progress, "%llu\n",
                (unsigned long long)cairn_ctx_superstep(ctx));
        fclose(progress);
    }
}

static int
s_counter(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[32];
    snprintf(text, sizeof text, "%.*s", (int)(len < 31 ? len : 31),
             (const char *)payload);
    long next = atol(text) + 1;
    snprintf(text, sizeof text, "%ld", next);
    test_sleep_ms(s_step_ms);
    s_note_progress(ctx);
    const char *me = cairn_ctx_executor_id(ctx);
    if (s_count_invocation(ctx) != 0
        || cairn_ctx_shared_set(ctx, "last", me, strlen(me)) != 0)
        return cairn_ctx_fail(ctx, "state write failed");
    return cairn_ctx_send(ctx, NULL, text, strlen(text));
}

static int
s_output(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_yield_output(ctx, payload, len);
}

/* slow's wait: 1.5 s, or until the file s_gate_path exists (bounded by
 * a minute, a test that never opens it has failed anyway); -1 when it
 * never did. */
static int
s_wait_for_gate(void)
{
    if (!s_gate_path) {
        test_sleep_ms(1500);
        return 0;
    }
    for (int waited = 0; waited < 60000; waited += 5) {
        if (access(s_gate_path, F_OK) == 0)
            return 0;
        test_sleep_ms(5);
    }
    return -1;
}

static int
s_branch(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_log_invocation(ctx);
    const char *me = cairn_ctx_executor_id(ctx);
    if (strcmp(me, "slow") == 0 && s_wait_for_gate() != 0)
        return cairn_ctx_fail(ctx, "gate %s did not open", s_gate_path);
    if (s_count_invocation(ctx) != 0)
        return cairn_ctx_fail(ctx, "state write failed");
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[64];
    snprintf(text, sizeof text, "%s:%.*s", me, (int)(len < 32 ? len : 32),
             (const char *)payload);
    return cairn_ctx_send(ctx, NULL, text, strlen(text));
}

static int
s_join(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_log_invocation(ctx);
    char text[256] = "";
    for (size_t i = 0; i < cairn_msg_part_count(msg); i++) {
        size_t len;
        const uint8_t *part = cairn_msg_payload(cairn_msg_part(msg, i), &len);
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "%s%.*s", i ? "," : "",
                 (int)len, (const char *)part);
    }
    return cairn_ctx_yield_output(ctx, text, strlen(text));
}

/* torture's hub: round k arrives (0 from the input, then from merge's
 * "k|..."), k+1 goes on while below the limit in the config. */
static int
s_hub(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len, limit_len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    const uint8_t *limit = cairn_ctx_config(ctx, &limit_len);
    char text[64];
    snprintf(text, sizeof text, "%.*s", (int)(len < 63 ? len : 63),
             (const char *)payload);
    long round = atol(text) + 1;
    snprintf(text, sizeof text, "%.*s", (int)limit_len, (const char *)limit);
    long steps = atol(text);
    s_note_progress(ctx);
    snprintf(text, sizeof text, "%ld", round);
    if (cairn_ctx_shared_set(ctx, "round", text, strlen(text)) != 0
        || s_count_invocation(ctx) != 0)
        return cairn_ctx_fail(ctx, "state write failed");
    if (round % 5 == 0 || round >= steps) {
        char line[128];
        int n = snprintf(line, sizeof line, "round %ld after %.*s", round,
                         (int)(len < 64 ? len : 64), (const char *)payload);
        if (cairn_ctx_yield_output(ctx, line, (size_t)n) != 0)
            return cairn_ctx_fail(ctx, "output failed");
    }
    if (round >= steps)
        return 0;
    return cairn_ctx_send(ctx, NULL, text, strlen(text));
}

/* torture's branches: left, right and sleepy tag the round. */
static int
s_limb(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const char *me = cairn_ctx_executor_id(ctx);
    /* 0-3 ms, varying by superstep: timing only, the output must not
     * care. */
    if (strcmp(me, "sleepy") == 0)
        test_sleep_ms((long)(cairn_ctx_superstep(ctx) * 7 % 4));
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[96];
    int n = snprintf(text, sizeof text, "%s%.*s", me,
                     (int)(len < 32 ? len : 32), (const char *)payload);
    if (s_count_invocation(ctx) != 0
        || cairn_ctx_state_set(ctx, "last", text, (size_t)n) != 0
        || cairn_ctx_shared_set(ctx, me, text, (size_t)n) != 0)
        return cairn_ctx_fail(ctx, "state write failed");
    return cairn_ctx_send(ctx, NULL, text, (size_t)n);
}

/* torture's merge: "ROUND|left..,right..,sleepy.." back to hub. */
static int
s_merge(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    char text[256];
    size_t round_len;
    const uint8_t *round = cairn_ctx_shared_get(ctx, "round", &round_len);
    int used = snprintf(text, sizeof text, "%.*s|", round ? (int)round_len : 0,
                        round ? (const char *)round : "");
    for (size_t i = 0; i < cairn_msg_part_count(msg); i++) {
        size_t len;
        const uint8_t *part = cairn_msg_payload(cairn_msg_part(msg, i), &len);
        used += snprintf(text + used, sizeof text - (size_t)used, "%s%.*s",
                         i ? "," : "", (int)len, (const char *)part);
    }
    if (s_count_invocation(ctx) != 0)
        return cairn_ctx_fail(ctx, "state write failed");
    return cairn_ctx_send(ctx, NULL, text, strlen(text));
}

static int
s_register(cairn_registry_t *registry)
{
    const cairn_executor_type_t types[] = {
        {.name = "test.counter", .handle = s_counter},
        {.name = "test.output", .handle = s_output},
        {.name = "test.branch", .handle = s_branch},
        {.name = "test.join", .handle = s_join},
        {.name = "test.hub", .handle = s_hub},
        {.name = "test.limb", .handle = s_limb},
        {.name = "test.merge", .handle = s_merge},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cairn_registry_add_executor(registry, &types[i]) != 0)
            return -1;
    return 0;
}

static int
s_build_cycle(cairn_builder_t *b, long steps)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%ld", steps);
    int rc = cairn_builder_add_executor(b, "ping", "test.counter", NULL, 0);
    rc = rc ? rc
            : cairn_builder_add_executor(b, "pong", "test.counter", NULL, 0);
    rc =
        rc ? rc : cairn_builder_add_executor(b, "done", "test.output", NULL, 0);
    rc = rc ? rc
            : cairn_builder_add_edge(b, "ping", "pong", "int_lt", limit,
                                     strlen(limit));
    rc = rc ? rc
            : cairn_builder_add_edge(b, "pong", "ping", "int_lt", limit,
                                     strlen(limit));
    rc = rc ? rc
            : cairn_builder_add_edge(b, "ping", "done", "int_ge", limit,
                                     strlen(limit));
    rc = rc ? rc
            : cairn_builder_add_edge(b, "pong", "done", "int_ge", limit,
                                     strlen(limit));
    rc = rc ? rc : cairn_builder_set_start(b, "ping");
    cairn_builder_set_max_supersteps(b, (uint64_t)steps + 10);
    return rc;
}

static int
s_build_fanout(cairn_builder_t *b)
{
    const char *branches[] = {"a", "b", "c", "slow"};
    int rc = cairn_builder_add_executor(b, "start", "test.branch", NULL, 0);
    for (size_t i = 0; rc == 0 && i < 4; i++)
        rc = cairn_builder_add_executor(b, branches[i], "test.branch", NULL, 0);
    rc = rc ? rc : cairn_builder_add_executor(b, "join", "test.join", NULL, 0);
    rc = rc ? rc
            : cairn_builder_add_fan_out(b, "start", branches, 4, NULL, NULL, 0);
    rc = rc ? rc : cairn_builder_add_fan_in(b, branches, 4, "join");
    rc = rc ? rc : cairn_builder_set_start(b, "start");
    return rc;
}

static int
s_build_torture(cairn_builder_t *b, long steps)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%ld", steps);
    const char *limbs[] = {"left", "right", "sleepy"};
    int rc =
        cairn_builder_add_executor(b, "hub", "test.hub", limit, strlen(limit));
    for (size_t i = 0; rc == 0 && i < 3; i++)
        rc = cairn_builder_add_executor(b, limbs[i], "test.limb", NULL, 0);
    rc =
        rc ? rc : cairn_builder_add_executor(b, "merge", "test.merge", NULL, 0);
    rc = rc ? rc : cairn_builder_add_fan_out(b, "hub", limbs, 3, NULL, NULL, 0);
    rc = rc ? rc : cairn_builder_add_fan_in(b, limbs, 3, "merge");
    rc = rc ? rc : cairn_builder_add_edge(b, "merge", "hub", NULL, NULL, 0);
    rc = rc ? rc : cairn_builder_set_start(b, "hub");
    cairn_builder_set_max_supersteps(b, (uint64_t)steps * 3 + 10);
    return rc;
}

static void
s_print_state(const char *executor, const char *key, const uint8_t *value,
              size_t len, void *userdata)
{
    (void)userdata;
    printf("state %s %s=%.*s\n", executor ? executor : "(shared)", key,
           (int)strnlen((const char *)value, len), (const char *)value);
}

static void
s_print_summary(const cairn_result_t *result)
{
    printf("status=%s supersteps=%llu\n",
           cairn_status_name(cairn_result_status(result)),
           (unsigned long long)cairn_result_supersteps(result));
    for (size_t i = 0; i < cairn_result_output_count(result); i++) {
        size_t len;
        const uint8_t *out = cairn_result_output(result, i, &len);
        printf("output=%.*s\n", (int)len, (const char *)out);
    }
    cairn_result_foreach_state(result, s_print_state, NULL);
}

/* Warnings and errors to stderr, with the pid: a crash test that sees a
 * child end early reads there why (a worker lost, a run failed). */
static void
s_log_sink(cairn_log_level_t level, const char *module, const char *message,
           void *userdata)
{
    (void)userdata;
    if (level <= CAIRN_LOG_WARN)
        fprintf(stderr, "child %ld %s: %s\n", (long)getpid(), module,
                message);
}

/* `child_workflow worker ENDPOINT ID`: a worker offering every type. */
static int
s_worker_main(const char *endpoint, const char *id)
{
    cairn_registry_t *registry = cairn_registry_new();
    if (!registry || s_register(registry) != 0)
        return 2;
    cairn_worker_options_t opts = {.endpoint = endpoint,
                                   .worker_id = id,
                                   .heartbeat_ms = 100,
                                   /* Longer than a coordinator's
                                    * restart or a stall on a slow
                                    * disk take under TSan on a loaded
                                    * machine (5 s was not: the
                                    * workers gave up, and the run
                                    * failed waiting for them). */
                                   .give_up_after_ms = 60000};
    cairn_error_t err;
    int rc = cairn_worker_run(registry, &opts, &err);
    if (rc != 0)
        fprintf(stderr, "child worker %s: %s\n", id, err.message);
    cairn_registry_destroy(&registry);
    return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    cairn_log_set_sink(s_log_sink, NULL);
    if (argc == 4 && strcmp(argv[1], "worker") == 0)
        return s_worker_main(argv[2], argv[3]);
    if (argc < 4) {
        fprintf(stderr,
                "usage: %s cycle|fanout|torture DB RUN_ID [STEPS] [LOG]\n",
                argv[0]);
        return 2;
    }
    const char *scenario = argv[1], *db = argv[2], *run_id = argv[3];
    long steps = argc > 4 ? atol(argv[4]) : 200;
    s_log_path = argc > 5 && *argv[5] ? argv[5] : NULL;
    s_progress_path = getenv("CAIRN_CHILD_PROGRESS");
    s_gate_path = getenv("CAIRN_CHILD_GATE");
    if (getenv("CAIRN_CHILD_STEP_MS"))
        s_step_ms = atol(getenv("CAIRN_CHILD_STEP_MS"));
    cairn_error_t err;
    cairn_error_clear(&err);
    cairn_registry_t *registry = cairn_registry_new();
    cairn_builder_t *b = registry ? cairn_builder_new(registry) : NULL;
    cairn_workflow_t *wf = NULL;
    cairn_engine_t *engine = NULL;
    cairn_store_t *store = NULL;
    cairn_result_t *result = NULL;
    int status = 2;
    int rc = b && s_register(registry) == 0 ? 0 : -1;
    if (rc == 0)
        rc = strcmp(scenario, "cycle") == 0     ? s_build_cycle(b, steps)
             : strcmp(scenario, "torture") == 0 ? s_build_torture(b, steps)
                                                : s_build_fanout(b);
    if (rc == 0)
        rc = cairn_builder_build(b, &wf, &err);
    cairn_engine_options_t engine_opts = {
        .host_threads = 4,
        .listen = getenv("CAIRN_CHILD_LISTEN"),
        .heartbeat_ms = 100,
        .min_workers = getenv("CAIRN_CHILD_MIN_WORKERS")
                           ? (size_t)atol(getenv("CAIRN_CHILD_MIN_WORKERS"))
                           : 0,
        .worker_wait_ms = 10000};
    if (rc == 0)
        rc = cairn_engine_open(&engine, registry, &engine_opts, &err);
    if (rc == 0)
        rc = cairn_store_open(&store, db, NULL, &err);
    if (rc != 0) {
        fprintf(stderr, "child: setup failed: %s\n", err.message);
        goto done;
    }
    cairn_run_options_t opts = {.run_id = run_id, .store = store};
    cairn_run_info_t *known = NULL;
    if (cairn_store_get_run(store, run_id, &known, &err) == 0) {
        cairn_run_info_destroy(&known, 1);
        rc = cairn_engine_resume(engine, wf, run_id, &opts, &result, &err);
    } else {
        rc = cairn_engine_run(engine, wf, "0", 1, &opts, &result, &err);
    }
    if (rc != 0) {
        fprintf(stderr, "child: %s\n", err.message);
        status = 1;
        goto done;
    }
    s_print_summary(result);
    status = cairn_result_status(result) == CAIRN_STATUS_COMPLETED ? 0 : 1;
    if (status != 0)
        fprintf(stderr, "child: run %s %s: %s\n", run_id,
                cairn_status_name(cairn_result_status(result)),
                cairn_result_error(result)->message);
done:
    cairn_result_destroy(&result);
    cairn_store_destroy(&store);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_builder_destroy(&b);
    cairn_registry_destroy(&registry);
    return status;
}
