/* bench_workers_graphs.c - the executor types and workflows of
 * cairn-bench-workers.
 *
 * The coordinator and every worker process register the same types, so
 * placement may put any executor on a worker. Handlers count their calls
 * in the process they run in (the coordinator checks that a run on
 * workers made none of its own) and may run on several threads at once,
 * hence the atomic counter. The kill token and fd are set once, before
 * the worker starts, and only read afterwards.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <cairn/cairn.h>

#include "bench_workers_internal.h"

#define S_KILL_AT 100         /* the step that is killed sees this counter */
#define S_KILL_SLEEP_S 30     /* the doomed handler sleeps (until killed) */

/* Handler invocations in THIS process: must stay 0 on worker engines. */
static atomic_uint_fast64_t s_invocations;

/* Worker-process side of the kill scenario (bw_kill_step_arm). */
static const char *s_kill_token; /* unlinking it elects the doomed step */
static int s_kill_fd = -1;       /* where the doomed step writes its pid */

void
bw_kill_step_arm(const char *token, int fd)
{
    s_kill_token = token;
    s_kill_fd = fd;
}

void
bw_local_invocations_reset(void)
{
    atomic_store(&s_invocations, 0);
}

uint64_t
bw_local_invocations(void)
{
    return atomic_load(&s_invocations);
}

/* --------------------------------------------------------------------- */
/* Handlers and workflows (the shapes of cairn_bench.c)                  */

/* The decimal counter of a message (a fan-in's is in its first part). */
static uint64_t
s_msg_counter(const cairn_msg_t *msg)
{
    if (cairn_msg_part_count(msg) > 0)
        msg = cairn_msg_part(msg, 0);
    size_t len;
    const uint8_t *p = cairn_msg_payload(msg, &len);
    uint64_t value = 0;
    for (size_t i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        value = value * 10 + (uint64_t)(p[i] - '0');
    return value;
}

/* Sends the counter plus add along every outgoing edge. */
static int
s_relay(cairn_ctx_t *ctx, uint64_t counter, uint64_t add)
{
    atomic_fetch_add_explicit(&s_invocations, 1, memory_order_relaxed);
    char text[24];
    int len = snprintf(text, sizeof text, "%llu",
                       (unsigned long long)(counter + add));
    if (cairn_ctx_send(ctx, NULL, text, (size_t)len) != CAIRN_OK)
        return cairn_ctx_fail(ctx, "cannot send %s", text);
    return 0;
}

static int
s_handle_inc(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_relay(ctx, s_msg_counter(msg), 1);
}

static int
s_handle_forward(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_relay(ctx, s_msg_counter(msg), 0);
}

/* bench.kill_inc: bench.inc, except that the first step (over all
 * workers) that sees counter S_KILL_AT and wins the token tells the
 * coordinator process its pid and sleeps until it is killed. A step run
 * again elsewhere finds the token gone and goes on. */
static int
s_handle_kill_inc(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    uint64_t counter = s_msg_counter(msg);
    if (counter == S_KILL_AT && s_kill_token && s_kill_fd >= 0
        && unlink(s_kill_token) == 0) {
        pid_t self = getpid();
        if (write(s_kill_fd, &self, sizeof self) == (ssize_t)sizeof self)
            sleep(S_KILL_SLEEP_S);
    }
    return s_relay(ctx, counter, 1);
}

int
bw_registry_fill(cairn_registry_t *registry)
{
    static const cairn_executor_type_t types[] = {
        {"bench.inc", s_handle_inc, NULL, NULL, NULL},
        {"bench.forward", s_handle_forward, NULL, NULL, NULL},
        {"bench.kill_inc", s_handle_kill_inc, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cairn_registry_add_executor(registry, &types[i]) != CAIRN_OK)
            return -1;
    return 0;
}

static int
s_add_loop_edge(cairn_builder_t *b, const char *from, const char *to,
                uint64_t limit)
{
    char arg[24];
    int len = snprintf(arg, sizeof arg, "%llu", (unsigned long long)limit);
    return cairn_builder_add_edge(b, from, to, "int_lt", arg, (size_t)len);
}

/* a -> b -> a ... of executors of `type` for `steps` supersteps. */
static int
s_build_cycle_of(cairn_builder_t *b, uint64_t steps, const char *type)
{
    if (cairn_builder_add_executor(b, "a", type, NULL, 0)
        || cairn_builder_add_executor(b, "b", type, NULL, 0)
        || cairn_builder_add_edge(b, "a", "b", NULL, NULL, 0)
        || s_add_loop_edge(b, "b", "a", steps)
        || cairn_builder_set_start(b, "a"))
        return -1;
    cairn_builder_set_max_supersteps(b, steps + 2);
    return 0;
}

int
bw_build_cycle(cairn_builder_t *b, uint64_t steps)
{
    return s_build_cycle_of(b, steps, "bench.inc");
}

int
bw_build_kill_cycle(cairn_builder_t *b, uint64_t steps)
{
    return s_build_cycle_of(b, steps, "bench.kill_inc");
}

/* start -> w00..w63 -> (fan-in) join -> start while round < rounds. */
int
bw_build_fanout(cairn_builder_t *b, uint64_t rounds)
{
    char ids[BW_FANOUT_WIDTH][8];
    const char *branches[BW_FANOUT_WIDTH];
    for (size_t i = 0; i < BW_FANOUT_WIDTH; i++) {
        snprintf(ids[i], sizeof ids[i], "w%02zu", i);
        branches[i] = ids[i];
        if (cairn_builder_add_executor(b, ids[i], "bench.forward", NULL, 0))
            return -1;
    }
    if (cairn_builder_add_executor(b, "start", "bench.forward", NULL, 0)
        || cairn_builder_add_executor(b, "join", "bench.inc", NULL, 0)
        || cairn_builder_add_fan_out(b, "start", branches, BW_FANOUT_WIDTH,
                                     NULL, NULL, 0)
        || cairn_builder_add_fan_in(b, branches, BW_FANOUT_WIDTH, "join")
        || s_add_loop_edge(b, "join", "start", rounds)
        || cairn_builder_set_start(b, "start"))
        return -1;
    cairn_builder_set_max_supersteps(b, 3 * rounds + 3);
    return 0;
}

cairn_workflow_t *
bw_workflow(const cairn_registry_t *registry,
            int (*build)(cairn_builder_t *, uint64_t), uint64_t size)
{
    cairn_workflow_t *wf = NULL;
    cairn_error_t err = {0, ""};
    cairn_builder_t *b = cairn_builder_new(registry);
    if (!b || build(b, size) < 0 || cairn_builder_build(b, &wf, &err) < 0)
        fprintf(stderr, "cairn-bench-workers: cannot build: %s\n",
                err.message);
    cairn_builder_destroy(&b);
    return wf;
}
