/* child_worker.c - a worker process for the worker tests.
 *
 *   child_worker ENDPOINT ID
 *
 * Offers test.branch: sleeps CAIRN_CHILD_STEP_MS (default 200) ms, records
 * the pid it ran in (state "pid") and sends "ID-OF-EXECUTOR:payload", so a
 * test can tell which process ran what and that results do not depend on
 * it. With CAIRN_CHILD_STALL_MS, a first attempt sleeps that long instead
 * (a handler stuck past its timeout). With CAIRN_CHILD_CURVE_SECRET and
 * CAIRN_CHILD_SERVER_KEY it connects with CURVE. With CAIRN_CHILD_LABEL
 * it announces that label. It also offers test.remote, a type the test
 * coordinators do not know (same handler). Heartbeats every
 * CAIRN_CHILD_HEARTBEAT_MS (default 300) ms; gives up after 5 s without
 * a coordinator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cairn/cairn.h>

static int
s_branch(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    long ms = getenv("CAIRN_CHILD_STEP_MS") ? atol(getenv("CAIRN_CHILD_STEP_MS"))
                                            : 200;
    if (getenv("CAIRN_CHILD_STALL_MS") && cairn_ctx_attempt(ctx) == 1)
        ms = atol(getenv("CAIRN_CHILD_STALL_MS"));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[128];
    int n = snprintf(text, sizeof text, "%s:%.*s", cairn_ctx_executor_id(ctx),
                     (int)(len > 64 ? 64 : len), (const char *)payload);
    if (cairn_ctx_state_set(ctx, "pid", pid, strlen(pid)) != 0
        || cairn_ctx_state_set(ctx, "seen", text, (size_t)n) != 0)
        return cairn_ctx_fail(ctx, "state write failed");
    return cairn_ctx_send(ctx, NULL, text, (size_t)n);
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ENDPOINT ID\n", argv[0]);
        return 2;
    }
    cairn_registry_t *registry = cairn_registry_new();
    cairn_executor_type_t branch = {.name = "test.branch",
                                    .handle = s_branch};
    cairn_executor_type_t remote = {.name = "test.remote",
                                    .handle = s_branch};
    if (!registry || cairn_registry_add_executor(registry, &branch) != 0
        || cairn_registry_add_executor(registry, &remote) != 0)
        return 2;
    const char *label = getenv("CAIRN_CHILD_LABEL");
    const char *heartbeat = getenv("CAIRN_CHILD_HEARTBEAT_MS");
    cairn_worker_options_t opts = {
        .endpoint = argv[1],
        .worker_id = argv[2],
        .labels = &label,
        .label_count = label ? 1 : 0,
        .heartbeat_ms = heartbeat ? (uint32_t)atol(heartbeat) : 300,
        .give_up_after_ms = 5000,
        .curve_secret = getenv("CAIRN_CHILD_CURVE_SECRET"),
        .server_key = getenv("CAIRN_CHILD_SERVER_KEY")};
    cairn_error_t err;
    int rc = cairn_worker_run(registry, &opts, &err);
    if (rc != 0)
        fprintf(stderr, "child_worker: %s\n", err.message);
    cairn_registry_destroy(&registry);
    return rc == 0 ? 0 : 1;
}
