/* cairn_bench_store.c - what durability costs, against its floor.
 *
 * Scenarios (JSON lines on stdout, like cairn-bench):
 *
 *   floor_batch_us              one RocksDB WriteBatch of a checkpoint's
 *                               size, unsynced and synced
 *   durable_cycle_*             the 2-executor counter cycle with no store,
 *                               and with durability none / process /
 *                               machine (a checkpoint every superstep);
 *                               *_no_events: the same without stored
 *                               events (what storing them costs);
 *                               *_shared_cpu: on an engine with
 *                               CAIRN_CPU_SHARED (coordinator and hosts
 *                               on one CPU)
 *   incremental_*               the cycle while one executor holds 1 MiB of
 *                               state that never changes: supersteps/s and
 *                               bytes written per checkpoint
 *   resume_latency_ms           open the store, load the latest checkpoint
 *                               of a run with 10,000 checkpoints, run one
 *                               more superstep
 *   list_checkpoints_ms         list those 10,000 checkpoints
 *   verify_ms                   cairn_store_verify of that run: reads
 *                               each stored record once
 *   durable_rss_kb              resident memory (VmRSS) sampled ten times
 *                               during one 100,000-superstep cycle with
 *                               process durability: flat or growing?
 *
 * Every store lives in a fresh mkdtemp directory, removed afterwards.
 */
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/cairn.h>

#include "bench_util.h"
#include "storage/backend.h"

#define S_MAX_REPS 64

typedef struct {
    bool quick;
    size_t reps;
    uint64_t cycle_steps;  /* supersteps of the cycle */
    uint64_t history;      /* checkpoints of the resume/list run */
    char machine[160];
} cfg_t;

/* Prints one JSON line: median/p99/min/max of values. */
static void
s_report(const cfg_t *cfg, const char *name, const char *params,
         double *values, size_t n, const char *units)
{
    bench_stats_t st = bench_stats(values, n);
    bench_print_line(name, params, &st, units, cfg->machine, -1, "");
}

static int
s_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static char *
s_tempdir(void)
{
    char *dir = strdup("/tmp/cairn-bench-XXXXXX");
    if (dir && !mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

static void
s_rmdir(char *dir)
{
    if (dir)
        nftw(dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* ---- the workload ---------------------------------------------------------- */

static atomic_bool s_big_written;

/* Adds one to the decimal payload and sends it on; keeps a count. */
static int
s_increment(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[32];
    snprintf(text, sizeof text, "%.*s", (int)(len < 31 ? len : 31),
             (const char *)payload);
    snprintf(text, sizeof text, "%lld", atoll(text) + 1);
    int rc = cairn_ctx_state_set(ctx, "count", text, strlen(text));
    return rc ? rc : cairn_ctx_send(ctx, NULL, text, strlen(text));
}

/* Like s_increment, and writes 1 MiB of state the first time it runs. */
static int
s_increment_big(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    if (!cairn_ctx_state_get(ctx, "blob", NULL)) {
        static uint8_t blob[1 << 20];
        memset(blob, 'x', sizeof blob);
        if (cairn_ctx_state_set(ctx, "blob", blob, sizeof blob) != 0)
            return -1;
        atomic_store(&s_big_written, true);
    }
    return s_increment(ctx, msg);
}

static int
s_build(const cairn_registry_t *registry, uint64_t steps, bool big,
        cairn_workflow_t **wf)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%llu", (unsigned long long)steps);
    cairn_builder_t *b = cairn_builder_new(registry);
    int rc = b ? 0 : -1;
    rc = rc ? rc : cairn_builder_add_executor(b, "a", big ? "inc.big" : "inc",
                                              NULL, 0);
    rc = rc ? rc : cairn_builder_add_executor(b, "b", "inc", NULL, 0);
    rc = rc ? rc : cairn_builder_add_edge(b, "a", "b", NULL, NULL, 0);
    rc = rc ? rc : cairn_builder_add_edge(b, "b", "a", "int_lt", limit,
                                          strlen(limit));
    rc = rc ? rc : cairn_builder_set_start(b, "a");
    cairn_builder_set_max_supersteps(b, steps + 10);
    cairn_error_t err;
    rc = rc ? rc : cairn_builder_build(b, wf, &err);
    cairn_builder_destroy(&b);
    return rc;
}

typedef struct {
    cairn_engine_t *engine;
    cairn_workflow_t *wf;
    uint64_t steps;
} bench_env_t;

/* One run of the cycle with the given durability (-1: no store at all).
 * Returns seconds, or < 0 on failure. *bytes gets the median checkpoint
 * size when bytes is not NULL. */
static double
s_run_cycle(const bench_env_t *env, int durability, bool no_events,
            double *bytes)
{
    char *dir = durability > 0 ? s_tempdir() : NULL;
    cairn_store_t *store = NULL;
    cairn_error_t err = {0, ""};
    int rc = 0;
    if (durability == CAIRN_DURABILITY_NONE)
        rc = cairn_store_open_memory(&store, &err);
    else if (durability > 0) {
        cairn_store_options_t opts = {.durability =
                                          (cairn_durability_t)durability};
        rc = dir ? cairn_store_open(&store, dir, &opts, &err) : -1;
    }
    cairn_run_options_t opts = {
        .store = store,
        .run_id = "bench",
        .keep_events = no_events ? CAIRN_KEEP_NO_EVENTS : 0,
    };
    cairn_result_t *result = NULL;
    double t0 = bench_now();
    if (rc == 0)
        rc = cairn_engine_run(env->engine, env->wf, "0", 1, &opts, &result,
                              &err);
    double seconds = bench_now() - t0;
    if (rc != 0 || cairn_result_status(result) != CAIRN_STATUS_COMPLETED
        || cairn_result_supersteps(result) != env->steps) {
        fprintf(stderr, "cairn-bench-store: cycle failed: %s %s\n",
                err.message, result ? cairn_result_error(result)->message : "");
        seconds = -1;
    }
    if (seconds > 0 && bytes && store) {
        cairn_checkpoint_info_t *infos = NULL;
        size_t n = 0;
        if (cairn_store_list_checkpoints(store, "bench", 0, NULL, &infos, &n,
                                         &err)
                == 0
            && n > 2) {
            /* Skip the end and the first barriers (the 1 MiB write). */
            double *sizes = calloc(n, sizeof *sizes);
            for (size_t i = 0; sizes && i + 2 < n; i++)
                sizes[i] = (double)infos[i + 1].size_bytes;
            if (sizes) {
                *bytes = bench_stats(sizes, n - 2).median;
            }
            free(sizes);
        }
        cairn_checkpoint_info_destroy(&infos, n);
    }
    cairn_result_destroy(&result);
    cairn_store_destroy(&store);
    s_rmdir(dir);
    return seconds;
}

/* engines[0]: default placement; engines[1]: CAIRN_CPU_SHARED (the
 * *_shared_cpu scenarios). */
static int
s_bench_cycles(const cfg_t *cfg, const cairn_registry_t *registry,
               cairn_engine_t *const engines[2])
{
    static const struct {
        const char *name;
        int durability;
        bool big;
        bool no_events;
        bool shared_cpu;
    } cases[] = {
        {"durable_cycle_no_store", -1, false, false, false},
        {"durable_cycle_none", CAIRN_DURABILITY_NONE, false, false, false},
        {"durable_cycle_none_no_events", CAIRN_DURABILITY_NONE, false, true,
         false},
        {"durable_cycle_process", CAIRN_DURABILITY_PROCESS, false, false,
         false},
        {"durable_cycle_process_no_events", CAIRN_DURABILITY_PROCESS, false,
         true, false},
        {"durable_cycle_machine", CAIRN_DURABILITY_MACHINE, false, false,
         false},
        {"incremental_1mib_process", CAIRN_DURABILITY_PROCESS, true, false,
         false},
        {"durable_cycle_no_store_shared_cpu", -1, false, false, true},
        {"durable_cycle_none_shared_cpu", CAIRN_DURABILITY_NONE, false, false,
         true},
        {"durable_cycle_process_shared_cpu", CAIRN_DURABILITY_PROCESS, false,
         false, true},
        {"durable_cycle_machine_shared_cpu", CAIRN_DURABILITY_MACHINE, false,
         false, true},
        {"incremental_1mib_process_shared_cpu", CAIRN_DURABILITY_PROCESS, true,
         false, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bench_env_t env = {engines[cases[c].shared_cpu], NULL, 0};
        /* fsync per superstep: fewer steps keep the run near a second. */
        uint64_t steps = cases[c].durability == CAIRN_DURABILITY_MACHINE
                             ? cfg->cycle_steps / 10
                             : cfg->cycle_steps;
        env.steps = steps;
        if (s_build(registry, steps, cases[c].big, &env.wf) != 0)
            return -1;
        double rates[S_MAX_REPS], sizes[S_MAX_REPS];
        size_t n = 0;
        for (; n < cfg->reps; n++) {
            sizes[n] = 0;
            double seconds = s_run_cycle(&env, cases[c].durability,
                                         cases[c].no_events,
                                         cases[c].big ? &sizes[n] : NULL);
            if (seconds < 0) {
                cairn_workflow_destroy(&env.wf);
                return -1;
            }
            rates[n] = (double)steps / seconds;
        }
        char params[128], name[96];
        snprintf(params, sizeof params, "{\"supersteps\":%llu,\"reps\":%zu}",
                 (unsigned long long)steps, n);
        snprintf(name, sizeof name, "%s_supersteps_per_s", cases[c].name);
        s_report(cfg, name, params, rates, n, "supersteps/s");
        if (cases[c].big) {
            snprintf(name, sizeof name, "%s_bytes_per_checkpoint",
                     cases[c].name);
            s_report(cfg, name, params, sizes, n, "bytes");
        }
        cairn_workflow_destroy(&env.wf);
    }
    return 0;
}

/* ---- memory over a long durable run ------------------------------------------ */

#define S_RSS_SAMPLES 10

typedef struct {
    uint64_t every;                 /* sample each this many supersteps */
    size_t count;
    double kb[S_RSS_SAMPLES + 1];
} rss_probe_t;

/* VmRSS of this process in kB, or -1. */
static double
s_rss_kb(void)
{
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (status && fgets(line, sizeof line, status))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atof(line + 6);
    if (status)
        fclose(status);
    return kb;
}

static void
s_rss_event(const cairn_event_t *event, void *userdata)
{
    rss_probe_t *probe = userdata;
    if (event->kind == CAIRN_EVENT_SUPERSTEP_COMPLETED
        && event->superstep % probe->every == 0
        && probe->count <= S_RSS_SAMPLES)
        probe->kb[probe->count++] = s_rss_kb();
}

/* One long durable cycle; prints the samples, the first and last, and
 * last / first. */
static int
s_bench_rss(const cfg_t *cfg, const cairn_registry_t *registry,
            cairn_engine_t *engine)
{
    uint64_t steps = cfg->quick ? 1000 : 100000;
    cairn_workflow_t *wf = NULL;
    char *dir = s_tempdir();
    cairn_store_t *store = NULL;
    cairn_error_t err = {0, ""};
    rss_probe_t probe = {.every = steps / S_RSS_SAMPLES};
    int rc = dir && s_build(registry, steps, false, &wf) == 0 ? 0 : -1;
    if (rc == 0)
        rc = cairn_store_open(&store, dir, NULL, &err);
    cairn_run_options_t opts = {.store = store,
                                .run_id = "rss",
                                .on_event = s_rss_event,
                                .event_userdata = &probe};
    cairn_result_t *result = NULL;
    if (rc == 0)
        rc = cairn_engine_run(engine, wf, "0", 1, &opts, &result, &err);
    if (rc == 0 && (cairn_result_supersteps(result) != steps
                    || probe.count < S_RSS_SAMPLES))
        rc = -1;
    if (rc == 0) {
        printf("{\"name\":\"durable_rss_kb\",\"params\":{\"supersteps\":"
               "%llu,\"durability\":\"process\"},\"samples\":[",
               (unsigned long long)steps);
        for (size_t i = 0; i < probe.count; i++)
            printf("%s%.0f", i ? "," : "", probe.kb[i]);
        printf("],\"first\":%.0f,\"last\":%.0f,\"growth\":%.3f,"
               "\"units\":\"kB\",\"machine\":\"%s\"}\n",
               probe.kb[0], probe.kb[probe.count - 1],
               probe.kb[probe.count - 1] / probe.kb[0], cfg->machine);
    }
    cairn_result_destroy(&result);
    cairn_store_destroy(&store);
    cairn_workflow_destroy(&wf);
    s_rmdir(dir);
    return rc;
}

/* ---- floor: one WriteBatch ------------------------------------------------ */

static int
s_bench_batch(const cfg_t *cfg)
{
    char *dir = s_tempdir();
    cairn__backend_t *backend = NULL;
    cairn_error_t err;
    if (!dir || cairn__backend_open_rocksdb(&backend, dir, CAIRN__OPEN_WRITE,
                                            &err)
                    != 0) {
        s_rmdir(dir);
        return -1;
    }
    /* About what a cycle checkpoint writes: manifest, mail, one value. */
    uint8_t value[300];
    memset(value, 'v', sizeof value);
    for (int sync = 0; sync <= 1; sync++) {
        size_t iterations = cfg->quick ? 20 : (sync ? 500 : 20000);
        double values[S_MAX_REPS];
        for (size_t r = 0; r < cfg->reps; r++) {
            double t0 = bench_now();
            for (size_t i = 0; i < iterations; i++) {
                cairn__batch_t *batch = backend->ops->batch_new(backend);
                uint64_t key = i;
                backend->ops->batch_put(batch, CAIRN__CF_CHECKPOINTS,
                                        (const uint8_t *)&key, sizeof key,
                                        value, sizeof value);
                if (backend->ops->batch_commit(backend, batch, sync, &err)
                    != 0)
                    fprintf(stderr, "cairn-bench-store: %s\n", err.message);
                backend->ops->batch_free(batch);
            }
            values[r] = (bench_now() - t0) * 1e6 / (double)iterations;
        }
        char params[96];
        snprintf(params, sizeof params,
                 "{\"bytes\":%zu,\"sync\":%s,\"reps\":%zu}", sizeof value,
                 sync ? "true" : "false", cfg->reps);
        s_report(cfg, sync ? "floor_batch_synced_us" : "floor_batch_us",
                 params, values, cfg->reps, "us");
    }
    backend->ops->close(backend);
    s_rmdir(dir);
    return 0;
}

/* ---- resume and listing ------------------------------------------------------ */

static int
s_bench_history(const cfg_t *cfg, const cairn_registry_t *registry,
                cairn_engine_t *engine)
{
    char *dir = s_tempdir();
    bench_env_t env = {engine, NULL, cfg->history};
    cairn_store_t *store = NULL;
    cairn_error_t err = {0, ""};
    cairn_result_t *result = NULL;
    int rc = dir && s_build(registry, 2 * cfg->history + 10, false, &env.wf)
                        == 0
                 ? 0
                 : -1;
    /* A run stopped by max_supersteps after history supersteps: it has
     * history + 1 checkpoints and one more superstep to go. */
    cairn_run_options_t opts = {.run_id = "history",
                                .max_supersteps = cfg->history};
    if (rc == 0)
        rc = cairn_store_open(&store, dir, NULL, &err);
    opts.store = store;
    if (rc == 0)
        rc = cairn_engine_run(engine, env.wf, "0", 1, &opts, &result, &err);
    cairn_result_destroy(&result);
    cairn_store_destroy(&store);
    double resume[S_MAX_REPS], list[S_MAX_REPS], open_ms[S_MAX_REPS],
        verify[S_MAX_REPS];
    for (size_t r = 0; rc == 0 && r < cfg->reps; r++) {
        double t0 = bench_now();
        rc = cairn_store_open(&store, dir, NULL, &err);
        cairn_checkpoint_info_t *infos = NULL;
        size_t n = 0;
        double t1 = bench_now();
        if (rc == 0)
            rc = cairn_store_list_checkpoints(store, "history", 0, NULL,
                                              &infos, &n, &err);
        list[r] = (bench_now() - t1) * 1e3;
        open_ms[r] = (t1 - t0) * 1e3;
        cairn_checkpoint_info_destroy(&infos, n);
        size_t problems = 0;
        double t3 = bench_now();
        if (rc == 0)
            rc = cairn_store_verify(store, "history", NULL, NULL, &problems,
                                    &err);
        verify[r] = (bench_now() - t3) * 1e3;
        if (rc == 0 && problems)
            rc = cairn_error_set(&err, -1, "verify found %zu problem(s)",
                                 problems);
        if (rc == 0 && n != cfg->history + 1 + r)
            rc = cairn_error_set(&err, -1, "listed %zu checkpoints, want %llu",
                                 n, (unsigned long long)(cfg->history + 1 + r));
        /* Resume the same run each time: one more superstep, then the
         * limit stops it again (max_supersteps grows by one a rep). */
        opts.store = store;
        opts.max_supersteps = cfg->history + 1 + r;
        double t2 = bench_now();
        if (rc == 0)
            rc = cairn_engine_resume(engine, env.wf, "history", &opts,
                                     &result, &err);
        resume[r] = (bench_now() - t2 + (t1 - t0)) * 1e3;
        if (rc == 0 && cairn_result_supersteps(result) != opts.max_supersteps)
            rc = cairn_error_set(&err, -1, "resume ran to superstep %llu: %s",
                                 (unsigned long long)cairn_result_supersteps(
                                     result),
                                 cairn_result_error(result)->message);
        cairn_result_destroy(&result);
        cairn_store_destroy(&store);
    }
    if (rc == 0) {
        char params[96];
        snprintf(params, sizeof params, "{\"checkpoints\":%llu,\"reps\":%zu}",
                 (unsigned long long)cfg->history + 1, cfg->reps);
        s_report(cfg, "resume_latency_ms", params, resume, cfg->reps, "ms");
        s_report(cfg, "list_checkpoints_ms", params, list, cfg->reps, "ms");
        s_report(cfg, "verify_ms", params, verify, cfg->reps, "ms");
        s_report(cfg, "resume_store_open_ms", params, open_ms, cfg->reps,
                 "ms");
    } else {
        fprintf(stderr, "cairn-bench-store: history (rc %d): %s\n", rc,
                err.message);
    }
    cairn_workflow_destroy(&env.wf);
    s_rmdir(dir);
    return rc;
}

int
main(int argc, char **argv)
{
    cfg_t cfg = {.reps = 5, .cycle_steps = 10000, .history = 10000};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            cfg.quick = true;
            cfg.reps = 2;
            cfg.cycle_steps = 100;
            cfg.history = 50;
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            cfg.reps = (size_t)atoi(argv[++i]);
            if (cfg.reps < 1 || cfg.reps > S_MAX_REPS)
                cfg.reps = 5;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    bench_machine(cfg.machine, sizeof cfg.machine);
    cairn_registry_t *registry = cairn_registry_new();
    cairn_executor_type_t inc = {.name = "inc", .handle = s_increment};
    cairn_executor_type_t big = {.name = "inc.big",
                                 .handle = s_increment_big};
    cairn_engine_t *engine = NULL, *shared_engine = NULL;
    cairn_engine_options_t shared = {.cpu_placement = CAIRN_CPU_SHARED};
    cairn_error_t err = {0, ""};
    int rc = registry && cairn_registry_add_executor(registry, &inc) == 0
                     && cairn_registry_add_executor(registry, &big) == 0
                 ? cairn_engine_open(&engine, registry, NULL, &err)
                 : -1;
    if (rc == 0)
        rc = cairn_engine_open(&shared_engine, registry, &shared, &err);
    if (rc == 0)
        rc = s_bench_batch(&cfg);
    if (rc == 0)
        rc = s_bench_cycles(&cfg, registry,
                            (cairn_engine_t *const[2]){engine, shared_engine});
    if (rc == 0)
        rc = s_bench_history(&cfg, registry, engine);
    if (rc == 0)
        rc = s_bench_rss(&cfg, registry, engine);
    if (rc != 0)
        fprintf(stderr, "cairn-bench-store: failed %s\n", err.message);
    cairn_engine_destroy(&shared_engine);
    cairn_engine_destroy(&engine);
    cairn_registry_destroy(&registry);
    return rc == 0 ? 0 : 1;
}
