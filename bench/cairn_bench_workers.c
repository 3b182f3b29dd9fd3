/* cairn_bench_workers.c - what running executors in worker processes costs.
 *
 * The program is both the coordinator and its workers: it re-executes
 * itself (/proc/self/exe --worker ...) to start worker processes that
 * register the same executor types, so placement puts every executor on
 * a worker (the coordinator's engine has one host thread and asks for two
 * workers). Scenarios, each over ipc:// and tcp://127.0.0.1:
 *
 *   floor_process_roundtrip_us   one raw ZeroMQ ROUTER (this process) <->
 *                                DEALER (an echo child process, blocking
 *                                in zmq_recv) round trip of a 64-byte frame
 *   inprocess_*                  the cycle and the fan-out on an engine
 *                                without workers (default options), the
 *                                in-process cost of the same run
 *   workers_cycle_*              a -> b -> a ... (decimal counter +1,
 *                                int_lt edge), a and b on two workers
 *   workers_cycle_overhead_ratio (us per superstep on workers - in-process
 *                                us per superstep) / round trip; target <= 3
 *                                over tcp
 *   workers_fanout_fanin_*       start -> 64 -> fan-in join -> start, the
 *                                66 executors spread over two workers
 *   worker_loss_*_ms             a cycle on two workers with heartbeat_ms
 *                                H; the worker running a step is SIGKILLed
 *                                from inside that step; times from the kill
 *                                to the worker_lost event (detect), from
 *                                there to the next superstep_completed
 *                                (recover) and in all (continue); target
 *                                for continue: < 2 H + 50 ms
 *
 * Worker lines carry floor_multiple = median us per superstep divided by
 * (round trip on that transport + in-process us per superstep of the same
 * scenario). Output: one JSON object a line on stdout, as cairn-bench.
 * Every run is checked: completed, exactly the supersteps the graph
 * implies, and no handler ran in this process. Children are reaped at the
 * end (SIGTERM, a bounded wait, then SIGKILL) and die with this process
 * (PR_SET_PDEATHSIG).
 *
 * This file measures and reports; bench_workers_children.c starts and
 * reaps the child processes, bench_workers_graphs.c holds the executor
 * types and workflows (bench_workers_internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include <zmq.h>

#include <cairn/cairn.h>

#include "bench_util.h"
#include "bench_workers_internal.h"

#define S_MIN_SECONDS 1.0     /* outside --quick, repeat at least this long */
#define S_WORKERS 2           /* worker processes per engine */
#define S_KILL_HEARTBEAT_MS 100
#define S_KILL_STEPS 300      /* supersteps of a kill scenario run */
#define S_OVERHEAD_TARGET 3.0
#define S_NO_MULTIPLE (-1.0)

/* A transport: its name and the endpoint it uses for the floor, the
 * worker engine and the kill engine. */
typedef struct {
    const char *name; /* "ipc", "tcp" */
    double roundtrip_us;
} transport_t;

/* --------------------------------------------------------------------- */
/* Timing, statistics, output (as cairn_bench.c)                         */

static int
s_repeat(const bench_cfg_t *cfg, bench_rep_fn rep, void *arg,
         bench_samples_t *out)
{
    return bench_repeat(cfg->reps, cfg->min_seconds, rep, arg, out);
}

/* Prints one result line. extra is more JSON members (",\"k\":v") or "";
 * multiple < 0 leaves floor_multiple out. Names and units are plain. */
static void
s_report(const bench_cfg_t *cfg, const char *name, const char *params,
         const bench_stats_t *st, const char *units, double multiple,
         const char *extra)
{
    bench_print_line(name, params, st, units, cfg->machine, multiple, extra);
}

/* --------------------------------------------------------------------- */
/* Floor: one ROUTER <-> DEALER round trip between two processes         */

/* Binds a ROUTER, starts the echo child, waits (5 s) for its hello,
 * warms up, repeats and reports; the child is ended here. */
static int
s_bench_floor(const bench_cfg_t *cfg, transport_t *t)
{
    char endpoint[128];
    bench_roundtrip_t rt = {.round_trips = cfg->round_trips};
    bench_samples_t *samples = malloc(sizeof *samples);
    rt.samples = calloc(cfg->round_trips, sizeof *rt.samples);
    void *ctx = zmq_ctx_new();
    rt.router = ctx ? zmq_socket(ctx, ZMQ_ROUTER) : NULL;
    int timeout = 5000, linger = 0, rc = -1;
    uint8_t hello[8];
    if (!samples || !rt.samples || !rt.router
        || bw_endpoint(t->name, "floor", endpoint, sizeof endpoint) < 0
        || zmq_setsockopt(rt.router, ZMQ_RCVTIMEO, &timeout, sizeof timeout)
        || zmq_setsockopt(rt.router, ZMQ_LINGER, &linger, sizeof linger)
        || zmq_bind(rt.router, endpoint) != 0)
        goto done;
    char *args[] = {(char *)cfg->self_exe, "--echo", endpoint, NULL};
    if (bw_spawn(cfg, args, -1) < 0
        || bench_router_recv(&rt, hello, sizeof hello) != 5)
        goto done;
    size_t wanted = rt.round_trips;
    double ignored;
    rt.round_trips = wanted < 100 ? wanted : 100; /* warm-up */
    if (bench_roundtrip_rep(&rt, &ignored) < 0)
        goto done;
    rt.round_trips = wanted;
    if (s_repeat(cfg, bench_roundtrip_rep, &rt, samples) < 0)
        goto done;
    bench_stats_t st = bench_stats(samples->values, samples->n);
    char params[192];
    snprintf(params, sizeof params,
             "{\"transport\":\"%s\",\"round_trips\":%zu,\"frame_bytes\":%d,"
             "\"reps\":%zu}",
             t->name, cfg->round_trips, BENCH_FRAME_BYTES, samples->n);
    s_report(cfg, "floor_process_roundtrip_us", params, &st, "us",
             S_NO_MULTIPLE, "");
    t->roundtrip_us = st.median;
    rc = 0;
done:
    if (rc < 0)
        fprintf(stderr, "cairn-bench-workers: %s round trip failed\n",
                t->name);
    bw_reap_all();
    if (rt.router)
        zmq_close(rt.router);
    if (ctx)
        zmq_ctx_term(ctx);
    bw_endpoint_cleanup(endpoint);
    free(rt.samples);
    free(samples);
    return rc;
}

/* --------------------------------------------------------------------- */
/* Engine scenarios                                                      */

/* One scenario on one engine: what a run must do, and where handlers run. */
typedef struct {
    cairn_engine_t *engine;
    cairn_workflow_t *workflow;
    uint64_t supersteps;        /* a run must take exactly this many */
    uint64_t local_invocations; /* handler calls in this process */
    cairn_run_options_t opts;
} engine_run_t;

/* One run from input "0", checked; *value is its wall time (s). */
static int
s_engine_rep(void *arg, double *value)
{
    engine_run_t *er = arg;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    bw_local_invocations_reset();
    double t0 = bench_now();
    int rc = cairn_engine_run(er->engine, er->workflow, "0", 1, &er->opts,
                              &result, &err);
    *value = bench_now() - t0;
    if (rc < 0) {
        fprintf(stderr, "cairn-bench-workers: run: %s\n", err.message);
        return -1;
    }
    cairn_status_t status = cairn_result_status(result);
    uint64_t steps = cairn_result_supersteps(result);
    uint64_t calls = bw_local_invocations();
    if (status != CAIRN_STATUS_COMPLETED || steps != er->supersteps
        || calls != er->local_invocations) {
        fprintf(stderr,
                "cairn-bench-workers: run ended %s after %llu supersteps, "
                "%llu local invocations (want completed, %llu, %llu): %s\n",
                cairn_status_name(status), (unsigned long long)steps,
                (unsigned long long)calls,
                (unsigned long long)er->supersteps,
                (unsigned long long)er->local_invocations,
                cairn_result_error(result)->message);
        rc = -1;
    }
    cairn_result_destroy(&result);
    return rc;
}

/* Counts EXECUTOR_COMPLETED events (the warm-up run's check that the
 * graph's work was done, wherever it ran). */
static void
s_count_completed(const cairn_event_t *event, void *userdata)
{
    if (event->kind == CAIRN_EVENT_EXECUTOR_COMPLETED)
        (*(uint64_t *)userdata)++;
}

/* Which engine scenario and how to name and size it. */
typedef struct {
    const char *name;                          /* "cycle", ... */
    int (*build)(cairn_builder_t *, uint64_t);
    uint64_t size;
    uint64_t executors;
    uint64_t supersteps;
    uint64_t invocations;
} engine_scenario_t;

/* Where a scenario runs and what it is measured against. */
typedef struct {
    cairn_engine_t *engine;
    const cairn_registry_t *registry;
    const char *prefix;   /* "inprocess", "workers" */
    const char *transport;
    bool on_workers;
    double floor_us;      /* < 0: no floor_multiple */
} engine_place_t;

/* Reports count/s per repetition from the run times. */
static void
s_report_rate(const bench_cfg_t *cfg, const char *name, const char *params,
              const bench_samples_t *secs, uint64_t count, const char *units,
              double multiple)
{
    bench_stats_t st = bench_rates(secs, count);
    s_report(cfg, name, params, &st, units, multiple, "");
}

/* Warm-up run (checked with events), repetitions, three lines. Stores
 * the median us per superstep in *us_out. */
static int
s_bench_engine(const bench_cfg_t *cfg, const engine_place_t *pl,
               const engine_scenario_t *sc, double floor_add_us,
               double *us_out)
{
    engine_run_t er = {pl->engine, NULL, sc->supersteps,
                       pl->on_workers ? 0 : sc->invocations, {0}};
    bench_samples_t *secs = malloc(sizeof *secs);
    er.workflow = bw_workflow(pl->registry, sc->build, sc->size);
    uint64_t completed = 0;
    double warmup;
    int rc = -1;
    er.opts.on_event = s_count_completed;
    er.opts.event_userdata = &completed;
    if (!secs || !er.workflow || s_engine_rep(&er, &warmup) < 0)
        goto done;
    if (completed != sc->invocations) {
        fprintf(stderr, "cairn-bench-workers: %s %s: %llu executors "
                        "completed, want %llu\n", pl->prefix, sc->name,
                (unsigned long long)completed,
                (unsigned long long)sc->invocations);
        goto done;
    }
    er.opts.on_event = NULL;
    if (s_repeat(cfg, s_engine_rep, &er, secs) < 0)
        goto done;
    bench_stats_t us_st = bench_us_per_step(secs, sc->supersteps);
    double multiple = pl->floor_us >= 0
                          ? us_st.median / (pl->floor_us + floor_add_us)
                          : S_NO_MULTIPLE;
    char params[256], name[96];
    snprintf(params, sizeof params,
             "{\"transport\":\"%s\",\"workers\":%d,\"executors\":%llu,"
             "\"supersteps\":%llu,\"reps\":%zu}",
             pl->transport, pl->on_workers ? S_WORKERS : 0,
             (unsigned long long)sc->executors,
             (unsigned long long)sc->supersteps, secs->n);
    snprintf(name, sizeof name, "%s_%s_supersteps_per_s", pl->prefix,
             sc->name);
    s_report_rate(cfg, name, params, secs, sc->supersteps, "supersteps/s",
                  multiple);
    snprintf(name, sizeof name, "%s_%s_us_per_superstep", pl->prefix,
             sc->name);
    s_report(cfg, name, params, &us_st, "us", multiple, "");
    snprintf(name, sizeof name, "%s_%s_invocations_per_s", pl->prefix,
             sc->name);
    s_report_rate(cfg, name, params, secs, sc->invocations,
                  "invocations/s", multiple);
    *us_out = us_st.median;
    rc = 0;
done:
    cairn_workflow_destroy(&er.workflow);
    free(secs);
    return rc;
}

static void
s_scenarios(const bench_cfg_t *cfg, engine_scenario_t out[2])
{
    out[0] = (engine_scenario_t){"cycle", bw_build_cycle, cfg->cycle_steps, 2,
                                 cfg->cycle_steps, cfg->cycle_steps};
    out[1] = (engine_scenario_t){"fanout_fanin", bw_build_fanout, cfg->rounds,
                                 BW_FANOUT_WIDTH + 2, 3 * cfg->rounds,
                                 (BW_FANOUT_WIDTH + 2) * cfg->rounds};
}

/* The in-process reference: default engine, both scenarios; stores us
 * per superstep of each in us[0..1]. */
static int
s_bench_inprocess(const bench_cfg_t *cfg, const cairn_registry_t *registry,
                  double us[2])
{
    engine_scenario_t sc[2];
    s_scenarios(cfg, sc);
    cairn_engine_options_t opts = {.host_threads = 0};
    cairn_error_t err = {0, ""};
    engine_place_t pl = {NULL, registry, "inprocess", "inproc", false, -1};
    if (cairn_engine_open(&pl.engine, registry, &opts, &err) < 0) {
        fprintf(stderr, "cairn-bench-workers: engine: %s\n", err.message);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < 2 && rc == 0; i++)
        rc = s_bench_engine(cfg, &pl, &sc[i], 0, &us[i]);
    cairn_engine_destroy(&pl.engine);
    return rc;
}

/* Opens an engine with one host thread listening on a fresh endpoint of
 * transport t and starts S_WORKERS workers on it (token/fd for the kill
 * scenario). The first run waits for them (min_workers). */
static int
s_open_worker_engine(const bench_cfg_t *cfg, const cairn_registry_t *registry,
                     const char *t, const char *tag, uint32_t heartbeat_ms,
                     const char *token, int fd, char *endpoint, size_t size,
                     cairn_engine_t **engine)
{
    cairn_error_t err = {0, ""};
    if (bw_endpoint(t, tag, endpoint, size) < 0)
        return -1;
    cairn_engine_options_t opts = {.host_threads = 1,
                                   .listen = endpoint,
                                   .heartbeat_ms = heartbeat_ms,
                                   .min_workers = S_WORKERS,
                                   .worker_wait_ms = 10000};
    if (bw_curve()) {
        opts.curve_secret = bw_curve_paths[0];
        opts.allow_keys = bw_curve_paths[1];
    }
    if (cairn_engine_open(engine, registry, &opts, &err) < 0) {
        fprintf(stderr, "cairn-bench-workers: engine on %s: %s\n", endpoint,
                err.message);
        return -1;
    }
    for (int i = 0; i < S_WORKERS; i++)
        if (bw_spawn_worker(cfg, endpoint, heartbeat_ms, token, fd) < 0)
            return -1;
    return 0;
}

/* Both scenarios with executors on two workers over transport t, and
 * the cycle's overhead ratio against the round trip. */
static int
s_bench_workers(const bench_cfg_t *cfg, const cairn_registry_t *registry,
                const transport_t *t, const double inproc_us[2])
{
    engine_scenario_t sc[2];
    s_scenarios(cfg, sc);
    char endpoint[128];
    engine_place_t pl = {NULL, registry, "workers", t->name, true,
                         t->roundtrip_us};
    double us[2] = {0, 0};
    int rc = s_open_worker_engine(cfg, registry, t->name, "engine", 0, NULL,
                                  -1, endpoint, sizeof endpoint, &pl.engine);
    for (size_t i = 0; i < 2 && rc == 0; i++)
        rc = s_bench_engine(cfg, &pl, &sc[i], inproc_us[i], &us[i]);
    if (rc == 0) {
        double ratio = (us[0] - inproc_us[0]) / t->roundtrip_us;
        bench_stats_t st = {ratio, ratio, ratio, ratio};
        char params[256], extra[160];
        snprintf(params, sizeof params,
                 "{\"transport\":\"%s\",\"us_per_superstep\":%.3f,"
                 "\"us_in_process\":%.3f,\"round_trip_us\":%.3f}",
                 t->name, us[0], inproc_us[0], t->roundtrip_us);
        snprintf(extra, sizeof extra, ",\"target\":%.1f,\"meets_target\":%s",
                 S_OVERHEAD_TARGET,
                 ratio <= S_OVERHEAD_TARGET ? "true" : "false");
        s_report(cfg, "workers_cycle_overhead_ratio", params, &st,
                 "round trips", S_NO_MULTIPLE, extra);
    }
    bw_reap_all();
    cairn_engine_destroy(&pl.engine);
    bw_endpoint_cleanup(endpoint);
    return rc;
}

/* --------------------------------------------------------------------- */
/* Worker loss                                                           */

/* Times of one kill, CLOCK_MONOTONIC ns (0 = not yet), shared by the
 * killer thread and the event callback (the coordinator's thread). */
typedef struct {
    int notify_rd;                 /* pids of doomed steps arrive here */
    atomic_uint_fast64_t killed;   /* when the worker was SIGKILLed */
    atomic_int victim;             /* its pid */
    uint64_t lost;                 /* worker_lost after the kill */
    uint64_t continued;            /* next superstep_completed */
} kill_watch_t;

static uint64_t
s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Kills every pid that arrives on the pipe, at once; pid 0 ends it. */
static void *
s_killer(void *arg)
{
    kill_watch_t *w = arg;
    pid_t pid;
    while (read(w->notify_rd, &pid, sizeof pid) == (ssize_t)sizeof pid
           && pid > 0) {
        atomic_store(&w->victim, pid);
        atomic_store(&w->killed, s_now_ns());
        kill(pid, SIGKILL);
    }
    return NULL;
}

static void
s_on_kill_event(const cairn_event_t *event, void *userdata)
{
    kill_watch_t *w = userdata;
    if (!atomic_load(&w->killed))
        return;
    if (event->kind == CAIRN_EVENT_WORKER_LOST && !w->lost)
        w->lost = s_now_ns();
    else if (event->kind == CAIRN_EVENT_SUPERSTEP_COMPLETED && !w->continued)
        w->continued = s_now_ns();
}

/* Per-kill times, ms. */
typedef struct {
    bench_samples_t detect, recover, total;
} kill_samples_t;

/* One kill: arms the token, runs the kill cycle, checks it, records the
 * times, reaps the victim and starts a replacement worker. */
static int
s_kill_once(const bench_cfg_t *cfg, engine_run_t *er, kill_watch_t *w,
            const char *token, int notify_wr, const char *endpoint,
            kill_samples_t *out)
{
    int fd = open(token, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    atomic_store(&w->killed, 0);
    atomic_store(&w->victim, 0);
    w->lost = w->continued = 0;
    double secs;
    if (s_engine_rep(er, &secs) < 0)
        return -1;
    pid_t victim = atomic_load(&w->victim);
    uint64_t killed = atomic_load(&w->killed);
    if (!victim || !w->lost || !w->continued) {
        fprintf(stderr, "cairn-bench-workers: kill: no %s\n",
                !victim ? "kill" : !w->lost ? "worker_lost" : "superstep");
        return -1;
    }
    bw_reap_dead(victim);
    size_t i = out->total.n++;
    out->detect.values[i] = (double)(w->lost - killed) / 1e6;
    out->recover.values[i] = (double)(w->continued - w->lost) / 1e6;
    out->total.values[i] = (double)(w->continued - killed) / 1e6;
    out->detect.n = out->recover.n = out->total.n;
    return bw_spawn_worker(cfg, endpoint, S_KILL_HEARTBEAT_MS, token,
                           notify_wr) < 0 ? -1 : 0;
}

static void
s_report_kills(const bench_cfg_t *cfg, const char *t, kill_samples_t *ks)
{
    double target = 2.0 * S_KILL_HEARTBEAT_MS + 50.0;
    char params[192], extra[128];
    snprintf(params, sizeof params,
             "{\"transport\":\"%s\",\"workers\":%d,\"heartbeat_ms\":%d,"
             "\"kills\":%zu}",
             t, S_WORKERS, S_KILL_HEARTBEAT_MS, ks->total.n);
    bench_stats_t detect = bench_stats(ks->detect.values, ks->detect.n);
    bench_stats_t recover = bench_stats(ks->recover.values, ks->recover.n);
    bench_stats_t total = bench_stats(ks->total.values, ks->total.n);
    s_report(cfg, "worker_loss_detect_ms", params, &detect, "ms",
             S_NO_MULTIPLE, "");
    s_report(cfg, "worker_loss_recover_ms", params, &recover, "ms",
             S_NO_MULTIPLE, "");
    snprintf(extra, sizeof extra, ",\"target\":%.1f,\"meets_target\":%s",
             target, total.median < target ? "true" : "false");
    s_report(cfg, "worker_loss_continue_ms", params, &total, "ms",
             S_NO_MULTIPLE, extra);
}

/* cfg->kills kills of the worker running a step, over transport t. */
static int
s_bench_kill(const bench_cfg_t *cfg, const cairn_registry_t *registry,
             const char *t)
{
    char endpoint[128] = "", token[128];
    snprintf(token, sizeof token, "/tmp/cairn-bench-workers-%ld-%s.token",
             (long)getpid(), t);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    kill_watch_t w = {.notify_rd = pipefd[0]};
    kill_samples_t *ks = calloc(1, sizeof *ks);
    engine_run_t er = {NULL, NULL, S_KILL_STEPS, 0, {0}};
    er.opts.on_event = s_on_kill_event;
    er.opts.event_userdata = &w;
    pthread_t killer;
    bool killer_started = false;
    int rc = -1;
    er.workflow = bw_workflow(registry, bw_build_kill_cycle, S_KILL_STEPS);
    if (!ks || !er.workflow
        || pthread_create(&killer, NULL, s_killer, &w) != 0)
        goto done;
    killer_started = true;
    if (s_open_worker_engine(cfg, registry, t, "kill", S_KILL_HEARTBEAT_MS,
                             token, pipefd[1], endpoint, sizeof endpoint,
                             &er.engine) < 0)
        goto done;
    rc = 0;
    for (size_t i = 0; i < cfg->kills && rc == 0; i++)
        rc = s_kill_once(cfg, &er, &w, token, pipefd[1], endpoint, ks);
    if (rc == 0)
        s_report_kills(cfg, t, ks);
done:
    if (killer_started) {
        pid_t stop = 0;
        if (write(pipefd[1], &stop, sizeof stop) == (ssize_t)sizeof stop)
            pthread_join(killer, NULL);
    }
    bw_reap_all();
    cairn_engine_destroy(&er.engine);
    cairn_workflow_destroy(&er.workflow);
    bw_endpoint_cleanup(endpoint);
    unlink(token);
    close(pipefd[0]);
    close(pipefd[1]);
    free(ks);
    return rc;
}

/* --------------------------------------------------------------------- */
/* Command line                                                          */

void
bw_log_sink(cairn_log_level_t level, const char *module, const char *message,
            void *userdata)
{
    (void)userdata;
    /* Worker losses (warnings) are the point of one scenario, and idle
     * workers warn between runs: only errors go to stderr. */
    if (level <= CAIRN_LOG_ERROR)
        fprintf(stderr, "cairn-bench-workers: [%s] %s\n", module, message);
}

static int
s_usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--quick] [--reps N] [--curve]\n", argv0);
    return 2;
}

static int
s_parse_args(int argc, char **argv, bench_cfg_t *cfg)
{
    cfg->reps = 5;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--quick") == 0)
            cfg->quick = true;
        else if (strcmp(argv[i], "--curve") == 0) {
            if (bw_curve_setup() < 0)
                return 1;
        }
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
    cfg->cycle_steps = cfg->quick ? 200 : 10000;
    cfg->rounds = cfg->quick ? 10 : 1000;
    cfg->kills = cfg->quick ? 1 : 7;
    bench_machine(cfg->machine, sizeof cfg->machine);
    ssize_t n = readlink("/proc/self/exe", cfg->self_exe,
                         sizeof cfg->self_exe - 1);
    if (n <= 0)
        return 1;
    cfg->self_exe[n] = '\0';
    return 0;
}

/* The in-process reference, then per transport its floor right before
 * the worker scenarios measured against it (on a shared machine, load
 * changes over a run), then the kills. */
static int
s_bench_all(const bench_cfg_t *cfg)
{
    transport_t transports[] = {{"ipc", 0}, {"tcp", 0}};
    double inproc_us[2];
    cairn_registry_t *registry = cairn_registry_new();
    int rc = registry && bw_registry_fill(registry) == 0 ? 0 : -1;
    if (rc == 0)
        rc = s_bench_inprocess(cfg, registry, inproc_us);
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        rc = s_bench_floor(cfg, &transports[i]);
        if (rc == 0)
            rc = s_bench_workers(cfg, registry, &transports[i], inproc_us);
    }
    for (size_t i = 0; i < 2 && rc == 0; i++)
        rc = s_bench_kill(cfg, registry, transports[i].name);
    bw_reap_all();
    cairn_registry_destroy(&registry);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--echo") == 0)
        return bw_echo_main(argv[2]);
    if ((argc == 4 || argc == 6) && strcmp(argv[1], "--worker") == 0)
        return bw_worker_main(argc, argv);
    bench_cfg_t cfg = {0};
    int rc = s_parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc;
    zsys_handler_set(NULL);
    cairn_log_set_sink(bw_log_sink, NULL);
    return s_bench_all(&cfg) < 0 ? 1 : 0;
}
