/* cairn_bench.c - how far the engine's superstep cost is from its floor.
 *
 * A superstep of the in-process engine is, at the least, one exchange
 * between the coordinator (the calling thread, a ZMQ_ROUTER) and a host
 * thread (a czmq zactor with a ZMQ_DEALER on inproc://), carrying one
 * protobuf Envelope each way. On a small machine waking the other thread
 * dominates that exchange, so the benchmark first measures the floor:
 *
 *   floor_inproc_roundtrip_us   one ROUTER <-> DEALER round trip of a small
 *                               frame between the main thread and a zactor,
 *                               in three placements: no pinning, both
 *                               threads on CPU 0, main on 0 / actor on 1
 *   floor_codec_us              pack + unpack of a Deliver Envelope shaped
 *                               like the one the counter cycle sends
 *
 * and then the engine itself, on one engine opened with default options
 * and reused by every run, then all of it again on an engine with
 * CAIRN_CPU_SHARED (coordinator and hosts on one CPU; lines named
 * NAME_shared_cpu_...):
 *
 *   cycle_*                     two executors passing a counter back and
 *                               forth (a -> b -> a ...) until an int_lt
 *                               edge stops it: one invocation a superstep
 *   fanout_fanin_*              start -> 64 workers -> fan-in join -> start,
 *                               looped by int_lt on a round counter
 *   text_pipeline_runs_per_s    the five-step pipeline of
 *                               examples/text_pipeline.c (upper -> reverse
 *                               -> submit -> lower -> finalize, with its
 *                               state and shared-state use, no printing) on
 *                               "hello world": many runs a repetition, each
 *                               checked to yield "dlrow olleh"
 *   text_chain_runs_per_s       upper -> reverse -> lower on "hello world",
 *                               lower yields the output: the 3-node chain
 *                               bench/peers/langgraphjs/bench.mjs runs
 *
 * Engine lines carry floor_multiple = median us per superstep divided by
 * (round trip + codec), the default-placement round trip for the default
 * engine and the same-CPU one for the shared-CPU engine; the target is
 * <= 4 (for the cycle). The text scenarios count a run's whole wall time, run setup
 * included, against its supersteps.
 *
 * Output: one JSON object a line on stdout. Every scenario runs at least
 * --reps repetitions and, outside --quick, keeps repeating until it has
 * run for a second; median/p99/min/max are over repetitions. Times come
 * from CLOCK_MONOTONIC. Failures go to stderr and make the exit code 1.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include <zmq.h>

#include "cairn.pb-c.h"
#include <cairn/cairn.h>

#include "bench_util.h"

#define S_MIN_SECONDS 1.0   /* outside --quick, repeat at least this long */
#define S_FANOUT_WIDTH 64   /* workers in the fan-out scenario */
#define S_NO_MULTIPLE (-1.0) /* report without floor_multiple */
#define S_TEXT_INPUT "hello world"  /* the text scenarios' input */
#define S_TEXT_OUTPUT "dlrow olleh" /* and the output every run must yield */

/* What the command line asked for and the sizes that follow from it. */
typedef struct {
    bool quick;           /* tiny sizes, for `make test` */
    size_t reps;          /* repetitions per scenario, at least */
    double min_seconds;   /* repeat until a scenario ran this long */
    size_t round_trips;   /* round trips timed per floor repetition */
    size_t codec_iters;   /* pack + unpack cycles per codec repetition */
    uint64_t cycle_steps; /* supersteps of the cycle */
    uint64_t rounds;      /* rounds of the fan-out / fan-in loop */
    size_t text_runs;     /* runs per text scenario repetition */
    char machine[256];    /* "<cpu model>, <n> cores" */
} bench_cfg_t;

/* --------------------------------------------------------------------- */
/* Timing, statistics, output                                            */

static int
s_repeat(const bench_cfg_t *cfg, bench_rep_fn rep, void *arg,
         bench_samples_t *out)
{
    return bench_repeat(cfg->reps, cfg->min_seconds, rep, arg, out);
}

/* Prints one result line. params is a JSON object's text; multiple < 0
 * leaves floor_multiple out (floor scenarios). */
static void
s_report(const bench_cfg_t *cfg, const char *name, const char *params,
         const bench_stats_t *st, const char *units, double multiple)
{
    bench_print_line(name, params, st, units, cfg->machine, multiple, "");
}

/* --------------------------------------------------------------------- */
/* Floor 1: inproc round trip                                            */

/* How the echo actor is set up. Borrowed by the actor while it starts. */
typedef struct {
    const char *endpoint; /* inproc endpoint of the main thread's ROUTER */
    int cpu;              /* CPU to pin the actor to, -1 = none */
} echo_args_t;

/* A round-trip placement: where the main thread and the actor run. */
typedef struct {
    const char *name;
    int main_cpu;  /* -1 = not pinned */
    int actor_cpu; /* -1 = not pinned */
} placement_t;

static int
s_pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* True when cpu is -1 (no pinning) or in the allowed set. */
static bool
s_cpu_allowed(const cpu_set_t *allowed, int cpu)
{
    return cpu < 0 || (cpu < CPU_SETSIZE && CPU_ISSET(cpu, allowed));
}

/* The host side: a DEALER that says hello, then echoes every frame until
 * the pipe says $TERM. Like an engine host, it polls pipe and socket. */
static void
s_echo_actor(zsock_t *pipe, void *arg)
{
    const echo_args_t *args = arg;
    if (args->cpu >= 0 && s_pin_self(args->cpu) != 0)
        fprintf(stderr, "cairn-bench: cannot pin actor to CPU %d\n",
                args->cpu);
    zsock_t *dealer = zsock_new_dealer(args->endpoint);
    zsock_signal(pipe, dealer ? 0 : 1);
    if (!dealer)
        return;
    void *sock = zsock_resolve(dealer);
    zmq_send(sock, "hello", 5, 0);
    zmq_pollitem_t items[] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                              {sock, 0, ZMQ_POLLIN, 0}};
    uint8_t frame[BENCH_FRAME_BYTES];
    while (zmq_poll(items, 2, -1) >= 0) {
        if (items[0].revents & ZMQ_POLLIN)
            break; /* $TERM: the only thing the pipe carries */
        if (items[1].revents & ZMQ_POLLIN) {
            int n = zmq_recv(sock, frame, sizeof frame, 0);
            if (n >= 0)
                zmq_send(sock, frame, (size_t)n, 0);
        }
    }
    zsock_destroy(&dealer);
}

/* Measures one placement: pins the main thread, starts the echo actor,
 * waits for its hello, warms up and repeats. The caller restores the main
 * thread's affinity. */
static int
s_roundtrip_placement(const bench_cfg_t *cfg, const placement_t *pl,
                      bench_samples_t *out)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://cairn-bench-%s", pl->name);
    bench_roundtrip_t rt = {.round_trips = cfg->round_trips};
    echo_args_t args = {endpoint, pl->actor_cpu};
    uint8_t hello[8];
    int rc = -1;
    zactor_t *actor = NULL;
    zsock_t *router = zsock_new_router(endpoint);
    rt.samples = calloc(cfg->round_trips, sizeof *rt.samples);
    if (!router || !rt.samples)
        goto done;
    rt.router = zsock_resolve(router);
    if (pl->main_cpu >= 0 && s_pin_self(pl->main_cpu) != 0)
        goto done;
    actor = zactor_new(s_echo_actor, &args);
    if (!actor || bench_router_recv(&rt, hello, sizeof hello) != 5)
        goto done;
    size_t wanted = rt.round_trips;
    rt.round_trips = wanted < 100 ? wanted : 100; /* warm-up */
    double ignored;
    if (bench_roundtrip_rep(&rt, &ignored) < 0)
        goto done;
    rt.round_trips = wanted;
    rc = s_repeat(cfg, bench_roundtrip_rep, &rt, out);
done:
    zactor_destroy(&actor);
    zsock_destroy(&router);
    free(rt.samples);
    return rc;
}

/* Runs every placement the machine has CPUs for, reports each and stores
 * the medians of the default placement in floor_us[0] and of both
 * threads on one CPU in floor_us[1]. */
static int
s_bench_roundtrip(const bench_cfg_t *cfg, double floor_us[2])
{
    static const placement_t placements[] = {
        {"default", -1, -1},
        {"same_cpu_0", 0, 0},
        {"cpus_0_1", 0, 1},
    };
    cpu_set_t original;
    if (pthread_getaffinity_np(pthread_self(), sizeof original, &original))
        return -1;
    for (size_t i = 0; i < sizeof placements / sizeof placements[0]; i++) {
        const placement_t *pl = &placements[i];
        if (!s_cpu_allowed(&original, pl->main_cpu)
            || !s_cpu_allowed(&original, pl->actor_cpu)) {
            fprintf(stderr, "cairn-bench: placement %s skipped: CPU not "
                            "available\n", pl->name);
            continue;
        }
        bench_samples_t *samples = malloc(sizeof *samples);
        int rc = samples ? s_roundtrip_placement(cfg, pl, samples) : -1;
        pthread_setaffinity_np(pthread_self(), sizeof original, &original);
        if (rc == 0) {
            bench_stats_t st = bench_stats(samples->values, samples->n);
            char params[192];
            snprintf(params, sizeof params,
                     "{\"placement\":\"%s\",\"round_trips\":%zu,"
                     "\"frame_bytes\":%d,\"reps\":%zu}",
                     pl->name, cfg->round_trips, BENCH_FRAME_BYTES, samples->n);
            s_report(cfg, "floor_inproc_roundtrip_us", params, &st, "us",
                     S_NO_MULTIPLE);
            if (i < 2)
                floor_us[i] = st.median;
        }
        free(samples);
        if (rc < 0) {
            fprintf(stderr, "cairn-bench: round trip (%s) failed\n",
                    pl->name);
            return -1;
        }
    }
    return 0;
}

/* --------------------------------------------------------------------- */
/* Floor 2: protobuf-c codec                                             */

/* One pack (into a fresh buffer, as the transport does) and unpack. */
static int
s_codec_once(const Cairn__Envelope *env)
{
    size_t size = cairn__envelope__get_packed_size(env);
    uint8_t *buf = malloc(size);
    if (!buf)
        return -1;
    size_t packed = cairn__envelope__pack(env, buf);
    Cairn__Envelope *back = cairn__envelope__unpack(NULL, packed, buf);
    free(buf);
    if (!back || back->body_case != CAIRN__ENVELOPE__BODY_DELIVER)
        return -1;
    cairn__envelope__free_unpacked(back, NULL);
    return 0;
}

/* The codec scenario's state: the envelope and how often to code it. */
typedef struct {
    const Cairn__Envelope *env;
    size_t iters;
} codec_t;

/* One repetition: mean microseconds per pack + unpack over c->iters. */
static int
s_codec_rep(void *arg, double *value)
{
    const codec_t *c = arg;
    double t0 = bench_now();
    for (size_t i = 0; i < c->iters; i++)
        if (s_codec_once(c->env) < 0)
            return -1;
    *value = (bench_now() - t0) * 1e6 / (double)c->iters;
    return 0;
}

/* Builds the Deliver the counter cycle sends (one work item, one small
 * message), measures it and stores the median in *codec_us. */
static int
s_bench_codec(const bench_cfg_t *cfg, double *codec_us)
{
    static char payload[] = "1234";
    Cairn__Message msg = CAIRN__MESSAGE__INIT;
    msg.source = "a";
    msg.payload.data = (uint8_t *)payload;
    msg.payload.len = strlen(payload);
    Cairn__Message *msgs[] = {&msg};
    Cairn__WorkItem item = CAIRN__WORK_ITEM__INIT;
    item.executor_id = "b";
    item.n_messages = 1;
    item.messages = msgs;
    item.attempt = 1;
    Cairn__WorkItem *items[] = {&item};
    Cairn__Deliver deliver = CAIRN__DELIVER__INIT;
    deliver.run_id = "20240101T000000Z-0123456789abcdef";
    deliver.superstep = 1234;
    deliver.max_message_size = CAIRN_DEFAULT_MAX_MESSAGE_SIZE;
    deliver.n_items = 1;
    deliver.items = items;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.protocol = 1;
    env.body_case = CAIRN__ENVELOPE__BODY_DELIVER;
    env.deliver = &deliver;

    codec_t codec = {&env, cfg->codec_iters};
    bench_samples_t *samples = malloc(sizeof *samples);
    int rc = samples ? s_repeat(cfg, s_codec_rep, &codec, samples) : -1;
    if (rc == 0) {
        bench_stats_t st = bench_stats(samples->values, samples->n);
        char params[160];
        snprintf(params, sizeof params,
                 "{\"envelope_bytes\":%zu,\"iterations\":%zu,\"reps\":%zu}",
                 cairn__envelope__get_packed_size(&env), cfg->codec_iters,
                 samples->n);
        s_report(cfg, "floor_codec_us", params, &st, "us", S_NO_MULTIPLE);
        *codec_us = st.median;
    } else {
        fprintf(stderr, "cairn-bench: codec failed\n");
    }
    free(samples);
    return rc;
}

/* --------------------------------------------------------------------- */
/* Engine scenarios                                                      */

/* Handler invocations of the current run. The one global: handlers have
 * no user pointer, and the count checks that the engine ran exactly the
 * work the graph implies. */
static atomic_uint_fast64_t s_invocations;

/* Parses a decimal counter from a message; a fan-in message's counter is
 * in its first part. Anything else reads as 0. */
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

/* Counts the invocation and sends the message's counter plus add, as
 * decimal text, along every outgoing edge. */
static int
s_relay(cairn_ctx_t *ctx, const cairn_msg_t *msg, uint64_t add)
{
    atomic_fetch_add_explicit(&s_invocations, 1, memory_order_relaxed);
    char text[24];
    int len = snprintf(text, sizeof text, "%llu",
                       (unsigned long long)(s_msg_counter(msg) + add));
    if (cairn_ctx_send(ctx, NULL, text, (size_t)len) != CAIRN_OK)
        return cairn_ctx_fail(ctx, "cannot send %s", text);
    return 0;
}

/* bench.inc: sends the counter plus one. */
static int
s_handle_inc(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_relay(ctx, msg, 1);
}

/* bench.forward: sends the counter on unchanged. */
static int
s_handle_forward(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_relay(ctx, msg, 0);
}

/* What a text handler does to its payload. */
typedef enum { S_TEXT_UPPER, S_TEXT_LOWER, S_TEXT_REVERSE } text_op_t;

/* Counts the invocation, applies op to the payload (ASCII, as the
 * text.* builtins and the example do) and sends the result along every
 * outgoing edge or, with yield, yields it as the run's output. */
static int
s_text(cairn_ctx_t *ctx, const cairn_msg_t *msg, text_op_t op, bool yield)
{
    atomic_fetch_add_explicit(&s_invocations, 1, memory_order_relaxed);
    size_t len;
    const uint8_t *in = cairn_msg_payload(msg, &len);
    uint8_t buf[64];
    if (len > sizeof buf)
        return cairn_ctx_fail(ctx, "text of %zu bytes, at most %zu", len,
                              sizeof buf);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = op == S_TEXT_REVERSE ? in[len - 1 - i] : in[i];
        if (op == S_TEXT_UPPER && c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 'a' + 'A');
        else if (op == S_TEXT_LOWER && c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        buf[i] = c;
    }
    int rc = yield ? cairn_ctx_yield_output(ctx, buf, len)
                   : cairn_ctx_send(ctx, NULL, buf, len);
    return rc == CAIRN_OK ? 0 : cairn_ctx_fail(ctx, "cannot pass text on");
}

/* bench.upper, bench.reverse, bench.lower: transform, send on. */
static int
s_handle_upper(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_text(ctx, msg, S_TEXT_UPPER, false);
}

static int
s_handle_reverse(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_text(ctx, msg, S_TEXT_REVERSE, false);
}

static int
s_handle_lower(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_text(ctx, msg, S_TEXT_LOWER, false);
}

/* bench.lower_output: the chain's last node, lower-case and yield. */
static int
s_handle_lower_output(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_text(ctx, msg, S_TEXT_LOWER, true);
}

/* bench.pipeline_upper: the example's upper. Publishes the input and its
 * upper-case form as shared state, counts the texts it has seen in its
 * own state, sends the upper-case text on. */
static int
s_handle_pipeline_upper(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    atomic_fetch_add_explicit(&s_invocations, 1, memory_order_relaxed);
    size_t len;
    const uint8_t *input = cairn_msg_payload(msg, &len);
    if (cairn_ctx_shared_set(ctx, "original_input", input, len) != CAIRN_OK)
        return cairn_ctx_fail(ctx, "could not write shared state");
    const uint8_t *seen = cairn_ctx_state_get(ctx, "texts_seen", NULL);
    char count[24];
    int n = snprintf(count, sizeof count, "%d",
                     (seen ? atoi((const char *)seen) : 0) + 1);
    /* Stored with its NUL so the next read can atoi it in place. */
    if (cairn_ctx_state_set(ctx, "texts_seen", count, (size_t)n + 1)
        != CAIRN_OK)
        return cairn_ctx_fail(ctx, "could not write state");
    uint8_t upper[64];
    if (len > sizeof upper)
        return cairn_ctx_fail(ctx, "text of %zu bytes, at most %zu", len,
                              sizeof upper);
    for (size_t i = 0; i < len; i++)
        upper[i] = input[i] >= 'a' && input[i] <= 'z'
                       ? (uint8_t)(input[i] - 'a' + 'A')
                       : input[i];
    if (cairn_ctx_shared_set(ctx, "upper_output", upper, len) != CAIRN_OK)
        return cairn_ctx_fail(ctx, "could not write shared state");
    if (cairn_ctx_send(ctx, NULL, upper, len) != CAIRN_OK)
        return cairn_ctx_fail(ctx, "cannot pass text on");
    return 0;
}

/* bench.pipeline_submit: the example's submit. Reads back both shared
 * values upper wrote two supersteps earlier (fails without them) and
 * sends its payload on unchanged. */
static int
s_handle_pipeline_submit(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    atomic_fetch_add_explicit(&s_invocations, 1, memory_order_relaxed);
    size_t in_len, up_len, len;
    const uint8_t *in = cairn_ctx_shared_get(ctx, "original_input", &in_len);
    const uint8_t *up = cairn_ctx_shared_get(ctx, "upper_output", &up_len);
    if (!in || !up || in_len != up_len)
        return cairn_ctx_fail(ctx, "shared state from upper is missing");
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    if (cairn_ctx_send(ctx, NULL, payload, len) != CAIRN_OK)
        return cairn_ctx_fail(ctx, "cannot pass text on");
    return 0;
}

/* bench.pipeline_finalize: yields its payload as the run's output. */
static int
s_handle_pipeline_finalize(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    atomic_fetch_add_explicit(&s_invocations, 1, memory_order_relaxed);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    if (cairn_ctx_yield_output(ctx, payload, len) != CAIRN_OK)
        return cairn_ctx_fail(ctx, "cannot yield the output");
    return 0;
}

static int
s_registry_fill(cairn_registry_t *registry)
{
    static const cairn_executor_type_t types[] = {
        {"bench.inc", s_handle_inc, NULL, NULL, NULL},
        {"bench.forward", s_handle_forward, NULL, NULL, NULL},
        {"bench.upper", s_handle_upper, NULL, NULL, NULL},
        {"bench.reverse", s_handle_reverse, NULL, NULL, NULL},
        {"bench.lower", s_handle_lower, NULL, NULL, NULL},
        {"bench.lower_output", s_handle_lower_output, NULL, NULL, NULL},
        {"bench.pipeline_upper", s_handle_pipeline_upper, NULL, NULL, NULL},
        {"bench.pipeline_submit", s_handle_pipeline_submit, NULL, NULL, NULL},
        {"bench.pipeline_finalize", s_handle_pipeline_finalize, NULL, NULL,
         NULL},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cairn_registry_add_executor(registry, &types[i]) != CAIRN_OK)
            return -1;
    return 0;
}

/* An edge back to `to` that holds while the counter is below limit. */
static int
s_add_loop_edge(cairn_builder_t *b, const char *from, const char *to,
                uint64_t limit)
{
    char arg[24];
    int len = snprintf(arg, sizeof arg, "%llu", (unsigned long long)limit);
    return cairn_builder_add_edge(b, from, to, "int_lt", arg, (size_t)len);
}

/* a -> b -> a ... while the counter b sends is below steps: `steps`
 * supersteps (steps even), one invocation each. */
static int
s_build_cycle(cairn_builder_t *b, uint64_t steps)
{
    if (cairn_builder_add_executor(b, "a", "bench.inc", NULL, 0)
        || cairn_builder_add_executor(b, "b", "bench.inc", NULL, 0)
        || cairn_builder_add_edge(b, "a", "b", NULL, NULL, 0)
        || s_add_loop_edge(b, "b", "a", steps)
        || cairn_builder_set_start(b, "a"))
        return -1;
    cairn_builder_set_max_supersteps(b, steps + 2);
    return 0;
}

/* start -> w00..w63 -> (fan-in) join -> start while the round is below
 * rounds: three supersteps and S_FANOUT_WIDTH + 2 invocations a round. */
static int
s_build_fanout(cairn_builder_t *b, uint64_t rounds)
{
    char ids[S_FANOUT_WIDTH][8];
    const char *workers[S_FANOUT_WIDTH];
    for (size_t i = 0; i < S_FANOUT_WIDTH; i++) {
        snprintf(ids[i], sizeof ids[i], "w%02zu", i);
        workers[i] = ids[i];
        if (cairn_builder_add_executor(b, ids[i], "bench.forward", NULL, 0))
            return -1;
    }
    if (cairn_builder_add_executor(b, "start", "bench.forward", NULL, 0)
        || cairn_builder_add_executor(b, "join", "bench.inc", NULL, 0)
        || cairn_builder_add_fan_out(b, "start", workers, S_FANOUT_WIDTH,
                                     NULL, NULL, 0)
        || cairn_builder_add_fan_in(b, workers, S_FANOUT_WIDTH, "join")
        || s_add_loop_edge(b, "join", "start", rounds)
        || cairn_builder_set_start(b, "start"))
        return -1;
    cairn_builder_set_max_supersteps(b, 3 * rounds + 3);
    return 0;
}

/* One engine scenario: a workflow, the work it must do, and the engine. */
typedef struct {
    cairn_engine_t *engine;
    cairn_workflow_t *workflow;
    uint64_t supersteps;  /* a run must take exactly this many */
    uint64_t invocations; /* and invoke handlers exactly this often */
} engine_run_t;

/* One repetition: one run from input "0"; *value is its wall time in
 * seconds. A run that does not complete as the graph implies fails. */
static int
s_engine_rep(void *arg, double *value)
{
    engine_run_t *er = arg;
    cairn_run_options_t opts = {0};
    /* CAIRN_BENCH_CONTROL=1: with a control handle and endpoint, as
     * `cairn run` has, to measure what serving them costs. */
    char endpoint[64];
    cairn_run_control_t *control = NULL;
    if (getenv("CAIRN_BENCH_CONTROL")) {
        snprintf(endpoint, sizeof endpoint, "ipc:///tmp/cairn-bench-%ld.ipc",
                 (long)getpid());
        control = cairn_run_control_new();
        opts.control = control;
        opts.control_endpoint = endpoint;
    }
    cairn_result_t *result = NULL;
    cairn_error_t err;
    atomic_store(&s_invocations, 0);
    double t0 = bench_now();
    int rc = cairn_engine_run(er->engine, er->workflow, "0", 1, &opts,
                              &result, &err);
    *value = bench_now() - t0;
    cairn_run_control_destroy(&control);
    if (rc < 0) {
        fprintf(stderr, "cairn-bench: run: %s\n", err.message);
        return -1;
    }
    cairn_status_t status = cairn_result_status(result);
    uint64_t steps = cairn_result_supersteps(result);
    uint64_t calls = atomic_load(&s_invocations);
    if (status != CAIRN_STATUS_COMPLETED || steps != er->supersteps
        || calls != er->invocations) {
        fprintf(stderr,
                "cairn-bench: run ended %s after %llu supersteps, %llu "
                "invocations (want completed, %llu, %llu): %s\n",
                cairn_status_name(status), (unsigned long long)steps,
                (unsigned long long)calls,
                (unsigned long long)er->supersteps,
                (unsigned long long)er->invocations,
                cairn_result_error(result)->message);
        rc = -1;
    }
    cairn_result_destroy(&result);
    return rc;
}

/* Turns run times (seconds) into per-rep values of count / second and
 * reports them; the floor multiple is the same for every line. */
static void
s_report_rate(const bench_cfg_t *cfg, const char *name, const char *params,
              const bench_samples_t *secs, uint64_t count, const char *units,
              double multiple)
{
    bench_stats_t st = bench_rates(secs, count);
    s_report(cfg, name, params, &st, units, multiple);
}

/* Which engine scenario to run and how to name its lines. */
typedef struct {
    const char *prefix;                        /* "cycle", "fanout_fanin" */
    int (*build)(cairn_builder_t *, uint64_t); /* graph for size */
    uint64_t size;                             /* steps or rounds */
    uint64_t supersteps;                       /* implied by the graph */
    uint64_t invocations;                      /* implied by the graph */
    const char *params;                        /* JSON object text */
} engine_scenario_t;

/* Builds the scenario's workflow, warms up with one run, repeats and
 * reports supersteps/s, us/superstep and invocations/s. */
static int
s_bench_engine(const bench_cfg_t *cfg, const cairn_registry_t *registry,
               cairn_engine_t *engine, const engine_scenario_t *sc,
               const char *suffix, double floor_us)
{
    engine_run_t er = {engine, NULL, sc->supersteps, sc->invocations};
    cairn_error_t err = {0, ""};
    bench_samples_t *secs = malloc(sizeof *secs);
    cairn_builder_t *b = cairn_builder_new(registry);
    int rc = -1;
    if (!secs || !b || sc->build(b, sc->size) < 0
        || cairn_builder_build(b, &er.workflow, &err) < 0) {
        fprintf(stderr, "cairn-bench: %s: cannot build: %s\n", sc->prefix,
                err.message);
        goto done;
    }
    double warmup;
    if (s_engine_rep(&er, &warmup) < 0
        || s_repeat(cfg, s_engine_rep, &er, secs) < 0)
        goto done;

    /* sc->params without its closing brace, then what the run adds. */
    char params[256], name[64];
    snprintf(params, sizeof params, "%.*s,\"hosts\":%zu,\"reps\":%zu}",
             (int)strlen(sc->params) - 1, sc->params,
             cairn_engine_host_count(engine), secs->n);
    bench_stats_t us_st = bench_us_per_step(secs, sc->supersteps);
    double multiple = us_st.median / floor_us;
    snprintf(name, sizeof name, "%s%s_supersteps_per_s", sc->prefix, suffix);
    s_report_rate(cfg, name, params, secs, sc->supersteps, "supersteps/s",
                  multiple);
    snprintf(name, sizeof name, "%s%s_us_per_superstep", sc->prefix, suffix);
    s_report(cfg, name, params, &us_st, "us", multiple);
    snprintf(name, sizeof name, "%s%s_invocations_per_s", sc->prefix,
             suffix);
    s_report_rate(cfg, name, params, secs, sc->invocations, "invocations/s",
                  multiple);
    rc = 0;
done:
    cairn_workflow_destroy(&er.workflow);
    cairn_builder_destroy(&b);
    free(secs);
    return rc;
}

/* One step of a linear text workflow: executor id and type. */
typedef struct {
    const char *id;
    const char *type;
} text_step_t;

/* A text scenario: its steps, in order, and how to name its line. */
typedef struct {
    const char *name;         /* "text_pipeline", ...: lines are
                                 NAME[_shared_cpu]_runs_per_s */
    const text_step_t *steps; /* steps[0] is the start */
    size_t n_steps;           /* = supersteps and invocations of a run */
    const char *shared_key;   /* NULL, or a shared key a run must leave */
    const char *shared_value; /* with this value */
} text_scenario_t;

/* The state of one text scenario, shared by its repetitions. */
typedef struct {
    cairn_engine_t *engine;
    cairn_workflow_t *workflow;
    size_t runs;      /* runs per repetition */
    uint64_t steps;   /* supersteps (= invocations) a run must take */
    const char *name; /* for error messages */
    const text_scenario_t *sc;
} text_run_t;

/* steps[0] -> steps[1] -> ... -> steps[n - 1], unconditional edges. */
static int
s_build_text(cairn_builder_t *b, const text_scenario_t *sc)
{
    for (size_t i = 0; i < sc->n_steps; i++)
        if (cairn_builder_add_executor(b, sc->steps[i].id, sc->steps[i].type,
                                       NULL, 0))
            return -1;
    for (size_t i = 0; i + 1 < sc->n_steps; i++)
        if (cairn_builder_add_edge(b, sc->steps[i].id, sc->steps[i + 1].id,
                                   NULL, NULL, 0))
            return -1;
    if (cairn_builder_set_name(b, sc->name)
        || cairn_builder_set_start(b, sc->steps[0].id))
        return -1;
    cairn_builder_set_max_supersteps(b, sc->n_steps + 1);
    return 0;
}

/* One run on S_TEXT_INPUT; fails unless it completed after exactly
 * tr->steps supersteps and invocations with the one output
 * S_TEXT_OUTPUT. */
static int
s_text_run_once(const text_run_t *tr)
{
    cairn_result_t *result = NULL;
    cairn_error_t err = {0, ""};
    atomic_store(&s_invocations, 0);
    if (cairn_engine_run(tr->engine, tr->workflow, S_TEXT_INPUT,
                         strlen(S_TEXT_INPUT), NULL, &result, &err)
        < 0) {
        fprintf(stderr, "cairn-bench: %s: run: %s\n", tr->name, err.message);
        return -1;
    }
    size_t len = 0;
    const uint8_t *out = cairn_result_output_count(result) == 1
                             ? cairn_result_output(result, 0, &len)
                             : NULL;
    cairn_status_t status = cairn_result_status(result);
    uint64_t steps = cairn_result_supersteps(result);
    uint64_t calls = atomic_load(&s_invocations);
    const text_scenario_t *sc = tr->sc;
    size_t shared_len = 0;
    const uint8_t *shared =
        sc->shared_key
            ? cairn_result_state(result, NULL, sc->shared_key, &shared_len)
            : NULL;
    int rc = 0;
    if (sc->shared_key
        && (!shared || shared_len != strlen(sc->shared_value)
            || memcmp(shared, sc->shared_value, shared_len) != 0)) {
        fprintf(stderr, "cairn-bench: %s: shared %s is not \"%s\"\n", tr->name,
                sc->shared_key, sc->shared_value);
        rc = -1;
    }
    if (status != CAIRN_STATUS_COMPLETED || steps != tr->steps
        || calls != tr->steps || !out || len != strlen(S_TEXT_OUTPUT)
        || memcmp(out, S_TEXT_OUTPUT, len) != 0) {
        fprintf(stderr,
                "cairn-bench: %s: run ended %s after %llu supersteps, %llu "
                "invocations, %zu outputs, first \"%.*s\" (want completed, "
                "%llu, %llu, 1, \"%s\"): %s\n",
                tr->name, cairn_status_name(status), (unsigned long long)steps,
                (unsigned long long)calls, cairn_result_output_count(result),
                out ? (int)len : 0, out ? (const char *)out : "",
                (unsigned long long)tr->steps, (unsigned long long)tr->steps,
                S_TEXT_OUTPUT, cairn_result_error(result)->message);
        rc = -1;
    }
    cairn_result_destroy(&result);
    return rc;
}

/* One repetition: tr->runs runs back to back; *value is their wall time
 * in seconds. */
static int
s_text_rep(void *arg, double *value)
{
    const text_run_t *tr = arg;
    double t0 = bench_now();
    for (size_t i = 0; i < tr->runs; i++)
        if (s_text_run_once(tr) < 0)
            return -1;
    *value = bench_now() - t0;
    return 0;
}

/* Builds a text scenario's workflow, warms up with a tenth of a
 * repetition's runs (at least one), repeats and reports runs/s with the
 * floor multiple of its supersteps. */
static int
s_bench_text(const bench_cfg_t *cfg, const cairn_registry_t *registry,
             cairn_engine_t *engine, const text_scenario_t *sc,
             const char *suffix, double floor_us)
{
    text_run_t tr = {engine, NULL, cfg->text_runs, sc->n_steps, sc->name, sc};
    cairn_error_t err = {0, ""};
    bench_samples_t *secs = malloc(sizeof *secs);
    cairn_builder_t *b = cairn_builder_new(registry);
    int rc = -1;
    if (!secs || !b || s_build_text(b, sc) < 0
        || cairn_builder_build(b, &tr.workflow, &err) < 0) {
        fprintf(stderr, "cairn-bench: %s: cannot build: %s\n", sc->name,
                err.message);
        goto done;
    }
    tr.runs = cfg->text_runs / 10 ? cfg->text_runs / 10 : 1;
    double warmup;
    if (s_text_rep(&tr, &warmup) < 0)
        goto done;
    tr.runs = cfg->text_runs;
    if (s_repeat(cfg, s_text_rep, &tr, secs) < 0)
        goto done;
    char params[256];
    snprintf(params, sizeof params,
             "{\"executors\":%zu,\"supersteps_per_run\":%zu,\"runs\":%zu,"
             "\"input\":\"%s\",\"output\":\"%s\",\"hosts\":%zu,"
             "\"reps\":%zu}",
             sc->n_steps, sc->n_steps, cfg->text_runs, S_TEXT_INPUT,
             S_TEXT_OUTPUT, cairn_engine_host_count(engine), secs->n);
    bench_stats_t us_st =
        bench_us_per_step(secs, (uint64_t)cfg->text_runs * sc->n_steps);
    double multiple = us_st.median / floor_us;
    char name[96];
    snprintf(name, sizeof name, "%s%s_runs_per_s", sc->name, suffix);
    s_report_rate(cfg, name, params, secs, cfg->text_runs, "runs/s",
                  multiple);
    rc = 0;
done:
    cairn_workflow_destroy(&tr.workflow);
    cairn_builder_destroy(&b);
    free(secs);
    return rc;
}

/* Opens one engine with the given CPU placement and runs every engine
 * scenario on it; suffix goes after each scenario's name. */
static int
s_bench_engines(const bench_cfg_t *cfg, cairn_cpu_placement_t placement,
                const char *suffix, double floor_us)
{
    char cycle_params[128], fan_params[128];
    snprintf(cycle_params, sizeof cycle_params,
             "{\"executors\":2,\"supersteps\":%llu}",
             (unsigned long long)cfg->cycle_steps);
    snprintf(fan_params, sizeof fan_params,
             "{\"width\":%d,\"rounds\":%llu,\"supersteps\":%llu}",
             S_FANOUT_WIDTH, (unsigned long long)cfg->rounds,
             (unsigned long long)(3 * cfg->rounds));
    const engine_scenario_t scenarios[] = {
        {"cycle", s_build_cycle, cfg->cycle_steps, cfg->cycle_steps,
         cfg->cycle_steps, cycle_params},
        {"fanout_fanin", s_build_fanout, cfg->rounds, 3 * cfg->rounds,
         (S_FANOUT_WIDTH + 2) * cfg->rounds, fan_params},
    };
    /* examples/text_pipeline.c's workflow, and bench.mjs's text chain. */
    static const text_step_t pipeline[] = {
        {"upper", "bench.pipeline_upper"},       {"reverse", "bench.reverse"},
        {"submit", "bench.pipeline_submit"},     {"lower", "bench.lower"},
        {"finalize", "bench.pipeline_finalize"},
    };
    static const text_step_t chain[] = {
        {"upper", "bench.upper"},
        {"reverse", "bench.reverse"},
        {"lower", "bench.lower_output"},
    };
    const text_scenario_t texts[] = {
        {"text_pipeline", pipeline,
         sizeof pipeline / sizeof pipeline[0], "upper_output", "HELLO WORLD"},
        {"text_chain", chain, sizeof chain / sizeof chain[0], NULL,
         NULL},
    };
    cairn_engine_options_t opts = {.host_threads = 0,
                                   .cpu_placement = placement};
    cairn_engine_t *engine = NULL;
    cairn_error_t err = {0, ""};
    cairn_registry_t *registry = cairn_registry_new();
    int rc = -1;
    if (!registry || s_registry_fill(registry) < 0
        || cairn_engine_open(&engine, registry, &opts, &err) < 0) {
        fprintf(stderr, "cairn-bench: cannot open engine: %s\n",
                err.message);
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (s_bench_engine(cfg, registry, engine, &scenarios[i], suffix,
                           floor_us))
            rc = -1;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (s_bench_text(cfg, registry, engine, &texts[i], suffix, floor_us))
            rc = -1;
done:
    cairn_engine_destroy(&engine);
    cairn_registry_destroy(&registry);
    return rc;
}

/* --------------------------------------------------------------------- */
/* Command line                                                          */

static void
s_log_sink(cairn_log_level_t level, const char *module, const char *message,
           void *userdata)
{
    (void)userdata;
    if (level <= CAIRN_LOG_WARN)
        fprintf(stderr, "cairn-bench: [%s] %s\n", module, message);
}

static int
s_usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--quick] [--reps N]\n", argv0);
    return 2;
}

/* Parses argv into cfg; returns 0, or 2 after printing the usage. */
static int
s_parse_args(int argc, char **argv, bench_cfg_t *cfg)
{
    cfg->reps = 5;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--quick") == 0)
            cfg->quick = true;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            errno = 0;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (errno || *end || n < 1 || n > BENCH_MAX_REPS)
                return s_usage(argv[0]);
            cfg->reps = n;
        } else
            return s_usage(argv[0]);
    }
    cfg->min_seconds = cfg->quick ? 0.0 : S_MIN_SECONDS;
    cfg->round_trips = cfg->quick ? 200 : 5000;
    cfg->codec_iters = cfg->quick ? 2000 : 100000;
    cfg->cycle_steps = cfg->quick ? 200 : 10000;
    cfg->rounds = cfg->quick ? 10 : 1000;
    cfg->text_runs = cfg->quick ? 5 : 200;
    bench_machine(cfg->machine, sizeof cfg->machine);
    return 0;
}

int
main(int argc, char **argv)
{
    bench_cfg_t cfg = {0};
    int rc = s_parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc;
    cairn_log_set_sink(s_log_sink, NULL);
    double roundtrip_us[2] = {0, 0}, codec_us = 0;
    if (s_bench_roundtrip(&cfg, roundtrip_us) < 0
        || s_bench_codec(&cfg, &codec_us) < 0)
        return 1;
    /* The engines are opened after the floor so their host threads never
     * inherit a pinned affinity. Each placement against its own floor:
     * CAIRN_CPU_SHARED against both threads on one CPU. */
    if (s_bench_engines(&cfg, CAIRN_CPU_ANY, "", roundtrip_us[0] + codec_us)
        < 0)
        return 1;
    return s_bench_engines(&cfg, CAIRN_CPU_SHARED, "_shared_cpu",
                           roundtrip_us[1] + codec_us)
                   < 0
               ? 1
               : 0;
}
