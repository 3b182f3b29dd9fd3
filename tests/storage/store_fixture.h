/* store_fixture.h - shared helpers of the storage tests.
 *
 * - A backend table: every case that applies to both stores runs once on
 *   a RocksDB store in a fresh mkdtemp directory and once on a memory
 *   store (the cmocka prestate names the backend; fx_setup opens it).
 * - The counter cycle workflow: executors "a" and "b" (type "t.count")
 *   pass a decimal counter back and forth with cairn_ctx_send. At
 *   superstep k the executor that runs (a for odd k, b for even k) makes
 *   the value k and
 *     - increments its own state "count" (messages it handled),
 *     - sets the shared key "counter" to k,
 *     - sets shared "phase" = "early" at k == 2 (and "late" at k == 6
 *       when the config has ":phase"),
 *     - yields "ID:k" when k % 3 == 0,
 *     - asks for a checkpoint tagged "tagname" when the config has ":mN"
 *       and k % N == 0,
 *     - yields "done:k" and stops when k reaches the limit (the config's
 *       leading number), else sends k on.
 *   So the state of checkpoint RUN@k is known exactly (fx_expect_at).
 *   Variant FX_BIG puts executor "big" (type "t.big") first: it writes a
 *   1 MiB state value "blob" in superstep 1 and sends "1" to "a".
 * - Dumps of results and loaded checkpoints as text, for exact
 *   comparisons with assert_string_equal (cmocka prints both sides).
 *
 * Handlers run on host threads and never assert; everything else runs on
 * the test thread.
 */
#ifndef CAIRN_TEST_STORE_FIXTURE_H_INCLUDED
#define CAIRN_TEST_STORE_FIXTURE_H_INCLUDED

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
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

#define FX_BLOB_SIZE ((size_t)1 << 20)
#define FX_TAG "tagname"

/* ---- backends --------------------------------------------------------------- */

typedef enum { FX_ROCKSDB = 0, FX_MEMORY } fx_backend_kind_t;

typedef struct {
    fx_backend_kind_t kind;
    const char *name;
} fx_backend_t;

static const fx_backend_t fx_rocksdb = {FX_ROCKSDB, "rocksdb"};
static const fx_backend_t fx_memory = {FX_MEMORY, "memory"};

/* One test's world: the store under test and, for RocksDB, the temporary
 * directory it lives in (removed by fx_teardown with everything in it). */
#define FX_MAX_AUX 4
typedef struct {
    const fx_backend_t *backend;
    char tmp[64];   /* mkdtemp root ("" for memory) */
    char dir[128];  /* the store: tmp/db */
    cairn_store_t *store;
    cairn_store_t *aux[FX_MAX_AUX]; /* extra stores, closed at teardown */
} fx_t;

/* The registries and engines every case uses (group setup). */
typedef struct {
    cairn_registry_t *registry;      /* t.count, t.big */
    cairn_engine_t *engine;
    cairn_registry_t *fail_registry; /* t.count failing at superstep 4 */
    cairn_engine_t *fail_engine;
} fx_env_t;

static fx_env_t fx_env;

/* ---- handlers ------------------------------------------------------------------ */

typedef struct {
    long limit;
    long manual_every; /* 0: never asks for a checkpoint */
    bool phase;        /* rewrite shared "phase" at 6 */
} fx_config_t;

static inline fx_config_t
fx_parse_config(const uint8_t *data, size_t len)
{
    fx_config_t cfg = {0, 0, false};
    char text[64];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    if (n)
        memcpy(text, data, n);
    text[n] = '\0';
    cfg.limit = strtol(text, NULL, 10);
    for (char *tok = strchr(text, ':'); tok; tok = strchr(tok + 1, ':')) {
        if (tok[1] == 'm')
            cfg.manual_every = strtol(tok + 2, NULL, 10);
        else if (strncmp(tok + 1, "phase", 5) == 0)
            cfg.phase = true;
    }
    return cfg;
}

static inline int
fx_yield_text(cairn_ctx_t *ctx, const char *text)
{
    return cairn_ctx_yield_output(ctx, text, strlen(text));
}

/* The counter step described at the top. */
static inline int
fx_count_step(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len = 0, config_len = 0;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    const uint8_t *config = cairn_ctx_config(ctx, &config_len);
    fx_config_t cfg = fx_parse_config(config, config_len);
    char text[32];
    if (len == 0 || len >= sizeof text)
        return cairn_ctx_fail(ctx, "payload of %zu bytes is not a counter",
                              len);
    memcpy(text, payload, len);
    text[len] = '\0';
    char *end = NULL;
    long value = strtol(text, &end, 10) + 1;
    if (*end != '\0')
        return cairn_ctx_fail(ctx, "payload '%s' is not a counter", text);

    long count = 0;
    const uint8_t *old = cairn_ctx_state_get(ctx, "count", &len);
    if (old && len > 0 && len < sizeof text) {
        memcpy(text, old, len);
        text[len] = '\0';
        count = strtol(text, NULL, 10);
    }
    char out[48];
    int rc = CAIRN_OK;
    snprintf(out, sizeof out, "%ld", count + 1);
    rc = cairn_ctx_state_set(ctx, "count", out, strlen(out));
    snprintf(out, sizeof out, "%ld", value);
    if (rc == CAIRN_OK)
        rc = cairn_ctx_shared_set(ctx, "counter", out, strlen(out));
    if (rc == CAIRN_OK && value == 2)
        rc = cairn_ctx_shared_set(ctx, "phase", "early", 5);
    if (rc == CAIRN_OK && value == 6 && cfg.phase)
        rc = cairn_ctx_shared_set(ctx, "phase", "late", 4);
    if (rc == CAIRN_OK && value % 3 == 0) {
        char line[80];
        snprintf(line, sizeof line, "%s:%ld", cairn_ctx_executor_id(ctx),
                 value);
        rc = fx_yield_text(ctx, line);
    }
    if (rc == CAIRN_OK && cfg.manual_every > 0
        && value % cfg.manual_every == 0)
        rc = cairn_ctx_request_checkpoint(ctx, FX_TAG);
    if (rc != CAIRN_OK)
        return cairn_ctx_fail(ctx, "context call failed: %d", rc);
    if (value >= cfg.limit) {
        snprintf(out, sizeof out, "done:%ld", value);
        return fx_yield_text(ctx, out);
    }
    return cairn_ctx_send(ctx, "number", out, strlen(out));
}

static inline int
fx_count_failing(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    if (cairn_ctx_superstep(ctx) == 4)
        return cairn_ctx_fail(ctx, "deliberate failure at superstep 4");
    return fx_count_step(ctx, msg);
}

/* Byte i of the 1 MiB blob. */
static inline uint8_t
fx_blob_byte(size_t i)
{
    return (uint8_t)((i * 31u + (i >> 9) + 7u) & 0xffu);
}

static inline uint8_t *
fx_blob_new(void)
{
    uint8_t *blob = malloc(FX_BLOB_SIZE);
    for (size_t i = 0; blob && i < FX_BLOB_SIZE; i++)
        blob[i] = fx_blob_byte(i);
    return blob;
}

/* t.big: state blob = 1 MiB, sends "1". */
static inline int
fx_big(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)msg;
    uint8_t *blob = fx_blob_new();
    if (!blob)
        return cairn_ctx_fail(ctx, "out of memory");
    int rc = cairn_ctx_state_set(ctx, "blob", blob, FX_BLOB_SIZE);
    free(blob);
    if (rc == CAIRN_OK)
        rc = cairn_ctx_send(ctx, "number", "1", 1);
    return rc == CAIRN_OK ? 0 : cairn_ctx_fail(ctx, "big failed: %d", rc);
}

/* ---- group setup --------------------------------------------------------------- */

static inline cairn_registry_t *
fx_registry_new(cairn_handler_fn count_handler)
{
    cairn_registry_t *registry = cairn_registry_new();
    if (!registry)
        return NULL;
    cairn_executor_type_t count = {"t.count", count_handler, NULL, NULL, NULL};
    cairn_executor_type_t big = {"t.big", fx_big, NULL, NULL, NULL};
    if (cairn_registry_add_executor(registry, &count) != CAIRN_OK
        || cairn_registry_add_executor(registry, &big) != CAIRN_OK)
        cairn_registry_destroy(&registry);
    return registry;
}

static inline int
fx_group_setup(void **state)
{
    (void)state;
    cairn_error_t err;
    cairn_engine_options_t opts = {.host_threads = 2};
    fx_env.registry = fx_registry_new(fx_count_step);
    fx_env.fail_registry = fx_registry_new(fx_count_failing);
    if (!fx_env.registry || !fx_env.fail_registry)
        return -1;
    if (cairn_engine_open(&fx_env.engine, fx_env.registry, &opts, &err)
            != CAIRN_OK
        || cairn_engine_open(&fx_env.fail_engine, fx_env.fail_registry, &opts,
                             &err)
               != CAIRN_OK) {
        fprintf(stderr, "engine open failed: %s\n", err.message);
        return -1;
    }
    return 0;
}

static inline int
fx_group_teardown(void **state)
{
    (void)state;
    cairn_engine_destroy(&fx_env.engine);
    cairn_engine_destroy(&fx_env.fail_engine);
    cairn_registry_destroy(&fx_env.registry);
    cairn_registry_destroy(&fx_env.fail_registry);
    return 0;
}

/* ---- per-test setup ---------------------------------------------------------- */

static inline int
fx_rm_entry(const char *path, const struct stat *sb, int flag,
            struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static inline void
fx_rm_rf(const char *path)
{
    if (path && *path)
        nftw(path, fx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Opens (or reopens) the RocksDB store at path, asserting success. */
static inline cairn_store_t *
fx_open_dir(const char *path, bool read_only)
{
    cairn_store_options_t opts = {CAIRN_DURABILITY_PROCESS, read_only};
    cairn_store_t *store = NULL;
    cairn_error_t err;
    int rc = cairn_store_open(&store, path, &opts, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_store_open(%s) = %s: %s", path, cairn_err_name(rc),
                 err.message);
    assert_non_null(store);
    return store;
}

static inline int
fx_setup(void **state)
{
    const fx_backend_t *backend = *state;
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->backend = backend;
    cairn_error_t err;
    if (backend->kind == FX_ROCKSDB) {
        snprintf(fx->tmp, sizeof fx->tmp, "/tmp/cairn-store-test-XXXXXX");
        if (!mkdtemp(fx->tmp)) {
            free(fx);
            return -1;
        }
        snprintf(fx->dir, sizeof fx->dir, "%s/db", fx->tmp);
        cairn_store_options_t opts = {CAIRN_DURABILITY_PROCESS, false};
        if (cairn_store_open(&fx->store, fx->dir, &opts, &err) != CAIRN_OK) {
            fprintf(stderr, "store open failed: %s\n", err.message);
            fx_rm_rf(fx->tmp);
            free(fx);
            return -1;
        }
    } else if (cairn_store_open_memory(&fx->store, &err) != CAIRN_OK) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static inline int
fx_teardown(void **state)
{
    fx_t *fx = *state;
    if (!fx)
        return 0;
    cairn_store_destroy(&fx->store);
    for (size_t i = 0; i < FX_MAX_AUX; i++)
        cairn_store_destroy(&fx->aux[i]);
    fx_rm_rf(fx->tmp);
    free(fx);
    return 0;
}

/* A second, independent store of the same backend (closed at teardown). */
static inline cairn_store_t *
fx_aux_store(fx_t *fx, const char *name)
{
    size_t slot = 0;
    while (slot < FX_MAX_AUX && fx->aux[slot])
        slot++;
    assert_true(slot < FX_MAX_AUX);
    cairn_error_t err;
    if (fx->backend->kind == FX_ROCKSDB) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", fx->tmp, name);
        fx->aux[slot] = fx_open_dir(path, false);
    } else {
        assert_int_equal(cairn_store_open_memory(&fx->aux[slot], &err),
                         CAIRN_OK);
    }
    return fx->aux[slot];
}

/* Closes and reopens the store under test (RocksDB only; a memory store
 * is kept as it is). */
static inline void
fx_reopen(fx_t *fx)
{
    if (fx->backend->kind != FX_ROCKSDB)
        return;
    cairn_store_destroy(&fx->store);
    fx->store = fx_open_dir(fx->dir, false);
}

/* ---- workflows ------------------------------------------------------------- */

typedef enum {
    FX_PLAIN = 0,
    FX_EXTRA_EXECUTOR, /* + an unreachable executor "c" */
    FX_EDGE_PREDICATE, /* a -> b only when "always" holds */
    FX_BIG,            /* big -> a, then the cycle */
} fx_variant_t;

/* Builds the cycle on registry with config (e.g. "10", "10:m4") for a and
 * b. */
static inline cairn_workflow_t *
fx_build(const cairn_registry_t *registry, const char *config,
         fx_variant_t variant)
{
    cairn_builder_t *b = cairn_builder_new(registry);
    assert_non_null(b);
    size_t len = strlen(config);
    assert_int_equal(cairn_builder_set_name(b, "cycle"), CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "a", "t.count", config,
                                                len),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "b", "t.count", config,
                                                len),
                     CAIRN_OK);
    if (variant == FX_EDGE_PREDICATE)
        assert_int_equal(cairn_builder_add_edge(b, "a", "b", "always", NULL,
                                                0),
                         CAIRN_OK);
    else
        assert_int_equal(cairn_builder_add_edge(b, "a", "b", NULL, NULL, 0),
                         CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "b", "a", NULL, NULL, 0),
                     CAIRN_OK);
    if (variant == FX_EXTRA_EXECUTOR)
        assert_int_equal(cairn_builder_add_executor(b, "c", "t.count",
                                                    config, len),
                         CAIRN_OK);
    if (variant == FX_BIG) {
        assert_int_equal(cairn_builder_add_executor(b, "big", "t.big", NULL,
                                                    0),
                         CAIRN_OK);
        assert_int_equal(cairn_builder_add_edge(b, "big", "a", NULL, NULL, 0),
                         CAIRN_OK);
        assert_int_equal(cairn_builder_set_start(b, "big"), CAIRN_OK);
    } else {
        assert_int_equal(cairn_builder_set_start(b, "a"), CAIRN_OK);
    }
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    int rc = cairn_builder_build(b, &wf, &err);
    if (rc != CAIRN_OK)
        fail_msg("build failed: %s", err.message);
    cairn_builder_destroy(&b);
    return wf;
}

/* ---- running ------------------------------------------------------------------- */

/* Checkpoint ids announced by checkpoint_written events, in order. */
#define FX_MAX_EVENTS 64
typedef struct {
    char ids[FX_MAX_EVENTS][CAIRN_CHECKPOINT_ID_MAX];
    size_t count;
} fx_events_t;

static inline void
fx_on_event(const cairn_event_t *event, void *userdata)
{
    fx_events_t *events = userdata;
    if (event->kind != CAIRN_EVENT_CHECKPOINT_WRITTEN)
        return;
    if (events->count < FX_MAX_EVENTS)
        snprintf(events->ids[events->count], CAIRN_CHECKPOINT_ID_MAX, "%s",
                 event->detail ? event->detail : "(null)");
    events->count++;
}

static inline cairn_run_options_t
fx_options(cairn_store_t *store, const char *run_id)
{
    cairn_run_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.store = store;
    opts.run_id = run_id;
    opts.checkpoint.kind = CAIRN_CHECKPOINT_EVERY;
    return opts;
}

/* Runs wf on input "0", asserting that the run could be driven. */
static inline cairn_result_t *
fx_run_opts(cairn_engine_t *engine, const cairn_workflow_t *wf,
            const cairn_run_options_t *opts)
{
    cairn_result_t *result = NULL;
    cairn_error_t err;
    int rc = cairn_engine_run(engine, wf, "0", 1, opts, &result, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_engine_run = %s: %s", cairn_err_name(rc),
                 err.message);
    assert_non_null(result);
    return result;
}

/* Runs the plain cycle to limit with policy EVERY into store. */
static inline cairn_result_t *
fx_run_cycle(cairn_store_t *store, const char *run_id, const char *config)
{
    cairn_workflow_t *wf = fx_build(fx_env.registry, config, FX_PLAIN);
    cairn_run_options_t opts = fx_options(store, run_id);
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    cairn_workflow_destroy(&wf);
    return result;
}

/* Resumes target, asserting success. */
static inline cairn_result_t *
fx_resume_opts(cairn_engine_t *engine, const cairn_workflow_t *wf,
               const char *target, const cairn_run_options_t *opts)
{
    cairn_result_t *result = NULL;
    cairn_error_t err;
    int rc = cairn_engine_resume(engine, wf, target, opts, &result, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_engine_resume(%s) = %s: %s", target,
                 cairn_err_name(rc), err.message);
    assert_non_null(result);
    return result;
}

/* ---- dumps ----------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} fx_str_t;

static inline void
fx_str_reserve(fx_str_t *s, size_t more)
{
    if (s->len + more + 1 <= s->cap)
        return;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < s->len + more + 1)
        cap *= 2;
    char *grown = realloc(s->data, cap);
    assert_non_null(grown);
    s->data = grown;
    s->cap = cap;
}

static inline void CAIRN_PRINTF(2, 3)
fx_str_add(fx_str_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    fx_str_reserve(s, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

/* Appends bytes, printable ASCII as is, the rest as \xNN; long values
 * are summarised by length and a checksum. */
static inline void
fx_str_add_bytes(fx_str_t *s, const uint8_t *data, size_t len)
{
    if (len > 256) {
        uint32_t sum = 2166136261u;
        for (size_t i = 0; i < len; i++)
            sum = (sum ^ data[i]) * 16777619u;
        fx_str_add(s, "<%zu bytes fnv %08" PRIx32 ">", len, sum);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\')
            fx_str_add(s, "%c", data[i]);
        else
            fx_str_add(s, "\\x%02x", data[i]);
    }
}

static inline void
fx_dump_state_entry(const char *executor, const char *key,
                    const uint8_t *value, size_t len, void *userdata)
{
    fx_str_t *s = userdata;
    fx_str_add(s, "state %s/%s=", executor ? executor : "*", key);
    fx_str_add_bytes(s, value, len);
    fx_str_add(s, "\n");
}

/* Status, supersteps, error code, outputs and final states; not the run
 * id. Caller frees. */
static inline char *
fx_dump_result(const cairn_result_t *result)
{
    fx_str_t s = {0};
    fx_str_add(&s, "status=%s supersteps=%" PRIu64 " error=%s\n",
               cairn_status_name(cairn_result_status(result)),
               cairn_result_supersteps(result),
               cairn_err_name(cairn_result_error(result)->code));
    for (size_t i = 0; i < cairn_result_output_count(result); i++) {
        size_t len = 0;
        const uint8_t *data = cairn_result_output(result, i, &len);
        fx_str_add(&s, "out ");
        fx_str_add_bytes(&s, data, len);
        fx_str_add(&s, "\n");
    }
    cairn_result_foreach_state(result, fx_dump_state_entry, &s);
    return s.data;
}

/* Superstep, status, pending messages, outputs and states of a loaded
 * checkpoint; not its run id. Caller frees. */
static inline char *
fx_dump_checkpoint(const cairn_checkpoint_t *cp)
{
    const cairn_checkpoint_info_t *info = cairn_checkpoint_info(cp);
    fx_str_t s = {0};
    fx_str_add(&s, "superstep=%" PRIu64 " status=%s pending=%" PRIu64 "\n",
               info->superstep, info->status, info->pending_messages);
    for (size_t i = 0; i < cairn_checkpoint_output_count(cp); i++) {
        size_t len = 0;
        const uint8_t *data = cairn_checkpoint_output(cp, i, &len);
        fx_str_add(&s, "out ");
        fx_str_add_bytes(&s, data, len);
        fx_str_add(&s, "\n");
    }
    cairn_checkpoint_foreach_state(cp, fx_dump_state_entry, &s);
    return s.data;
}

/* What the plain cycle with this limit (and ":phase" or not) holds after
 * superstep k: the outputs and states in the dump formats above. */
static inline void
fx_expect_body(fx_str_t *s, long limit, long k, bool phase)
{
    for (long v = 1; v <= k; v++) {
        if (v % 3 == 0)
            fx_str_add(s, "out %s:%ld\n", v % 2 ? "a" : "b", v);
        if (v == limit)
            fx_str_add(s, "out done:%ld\n", v);
    }
    if (k >= 1)
        fx_str_add(s, "state a/count=%ld\n", (k + 1) / 2);
    if (k >= 2)
        fx_str_add(s, "state b/count=%ld\n", k / 2);
    if (k >= 1)
        fx_str_add(s, "state */counter=%ld\n", k);
    if (k >= 2)
        fx_str_add(s, "state */phase=%s\n", phase && k >= 6 ? "late" : "early");
}

/* The dump of an uninterrupted, completed run of the cycle. */
static inline char *
fx_expect_result(long limit)
{
    fx_str_t s = {0};
    fx_str_add(&s, "status=completed supersteps=%ld error=%s\n", limit,
               cairn_err_name(CAIRN_OK));
    fx_expect_body(&s, limit, limit, false);
    return s.data;
}

/* The dump of checkpoint RUN@k of a run of the cycle to limit, written
 * with the run in status. */
static inline char *
fx_expect_checkpoint_as(long limit, long k, bool phase, const char *status)
{
    fx_str_t s = {0};
    fx_str_add(&s, "superstep=%ld status=%s pending=%d\n", k, status,
               k == limit ? 0 : 1);
    fx_expect_body(&s, limit, k, phase);
    return s.data;
}

/* The same for a checkpoint of a run that went on normally. */
static inline char *
fx_expect_checkpoint(long limit, long k, bool phase)
{
    return fx_expect_checkpoint_as(limit, k, phase,
                                   k == limit ? "completed" : "running");
}

/* Asserts that the dump of result equals expected (freed). */
static inline void
fx_assert_result(const cairn_result_t *result, char *expected)
{
    char *seen = fx_dump_result(result);
    assert_string_equal(seen, expected);
    free(seen);
    free(expected);
}

/* Loads id, asserting success. */
static inline cairn_checkpoint_t *
fx_load(cairn_store_t *store, const char *id)
{
    cairn_checkpoint_t *cp = NULL;
    cairn_error_t err;
    int rc = cairn_store_get_checkpoint(store, id, &cp, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_store_get_checkpoint(%s) = %s: %s", id, cairn_err_name(rc),
                 err.message);
    assert_non_null(cp);
    return cp;
}

/* The dump of checkpoint id (loaded and freed). */
static inline char *
fx_load_dump(cairn_store_t *store, const char *id)
{
    cairn_checkpoint_t *cp = fx_load(store, id);
    char *dump = fx_dump_checkpoint(cp);
    cairn_checkpoint_destroy(&cp);
    return dump;
}

/* ---- listings ------------------------------------------------------------------ */

/* A run's checkpoints, newest first, asserting success. */
static inline cairn_checkpoint_info_t *
fx_list(cairn_store_t *store, const char *run_id, size_t limit,
        const char *tag, size_t *count)
{
    cairn_checkpoint_info_t *infos = NULL;
    cairn_error_t err;
    int rc = cairn_store_list_checkpoints(store, run_id, limit, tag, &infos,
                                          count, &err);
    if (rc != CAIRN_OK)
        fail_msg("list_checkpoints(%s) = %s: %s", run_id, cairn_err_name(rc),
                 err.message);
    return infos;
}

static inline size_t
fx_count(cairn_store_t *store, const char *run_id)
{
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(store, run_id, 0, NULL, &count);
    cairn_checkpoint_info_destroy(&infos, count);
    return count;
}

/* The supersteps of a run's checkpoints, newest first, as "10 9 8". */
static inline char *
fx_steps(cairn_store_t *store, const char *run_id, const char *tag)
{
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(store, run_id, 0, tag, &count);
    fx_str_t s = {0};
    fx_str_add(&s, "%s", "");
    for (size_t i = 0; i < count; i++)
        fx_str_add(&s, "%s%" PRIu64, i ? " " : "", infos[i].superstep);
    cairn_checkpoint_info_destroy(&infos, count);
    return s.data;
}

static inline void
fx_assert_steps(cairn_store_t *store, const char *run_id, const char *tag,
                const char *expected)
{
    char *seen = fx_steps(store, run_id, tag);
    assert_string_equal(seen, expected);
    free(seen);
}

/* The triggers of a run's checkpoints, newest first, as "end policy". */
static inline void
fx_assert_triggers(cairn_store_t *store, const char *run_id,
                   const char *expected)
{
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(store, run_id, 0, NULL, &count);
    fx_str_t s = {0};
    fx_str_add(&s, "%s", "");
    for (size_t i = 0; i < count; i++)
        fx_str_add(&s, "%s%s", i ? " " : "", infos[i].trigger);
    cairn_checkpoint_info_destroy(&infos, count);
    assert_string_equal(s.data, expected);
    free(s.data);
}

/* Each listed checkpoint's parent is the next older one; the oldest has
 * parent first_parent ("" for a run that is not a fork). */
static inline void
fx_assert_chain(cairn_store_t *store, const char *run_id,
                const char *first_parent)
{
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(store, run_id, 0, NULL, &count);
    assert_true(count > 0);
    for (size_t i = 0; i + 1 < count; i++)
        assert_string_equal(infos[i].parent, infos[i + 1].id);
    assert_string_equal(infos[count - 1].parent, first_parent);
    cairn_checkpoint_info_destroy(&infos, count);
}

static inline void
fx_latest(cairn_store_t *store, const char *run_id,
          char out[CAIRN_CHECKPOINT_ID_MAX])
{
    cairn_error_t err;
    int rc = cairn_store_get_latest_checkpoint(store, run_id, out, &err);
    if (rc != CAIRN_OK)
        fail_msg("latest(%s) = %s: %s", run_id, cairn_err_name(rc),
                 err.message);
}

static inline cairn_run_info_t *
fx_get_run(cairn_store_t *store, const char *run_id)
{
    cairn_run_info_t *info = NULL;
    cairn_error_t err;
    int rc = cairn_store_get_run(store, run_id, &info, &err);
    if (rc != CAIRN_OK)
        fail_msg("get_run(%s) = %s: %s", run_id, cairn_err_name(rc),
                 err.message);
    assert_non_null(info);
    return info;
}

/* Asserts that err names what. */
static inline void
fx_assert_mentions(const cairn_error_t *err, const char *what)
{
    if (!strstr(err->message, what))
        fail_msg("error message \"%s\" does not mention \"%s\"",
                 err->message, what);
}

static inline uint64_t
fx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void
fx_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define FX_TEST(fn, backend)                                                   \
    {                                                                          \
        #fn "(" #backend ")", fn, fx_setup, fx_teardown,                       \
            (void *)&fx_##backend                                              \
    }

#endif
