/* store_fixture - shared helpers of the storage tests (store_fixture.h
 * says what they are: the backend table, the counter cycle workflow, the
 * dumps). Compiled once and linked into each tests/storage executable.
 *
 * Handlers run on host threads and never assert; everything else runs on
 * the test thread.
 */
#include "base/util.h"
#include "tests/storage/store_fixture.h"
#include "tests/test_util.h"

/* ---- backends --------------------------------------------------------------- */

const fx_backend_t fx_rocksdb = {FX_ROCKSDB, "rocksdb"};

const fx_backend_t fx_memory = {FX_MEMORY, "memory"};

fx_env_t fx_env;

/* ---- handlers ------------------------------------------------------------------ */

static fx_config_t
s_parse_config(const uint8_t *data, size_t len)
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

static int
s_yield_text(cairn_ctx_t *ctx, const char *text)
{
    return cairn_ctx_yield_output(ctx, text, strlen(text));
}

/* The counter step described at the top. */
static int
s_count_step(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len = 0, config_len = 0;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    const uint8_t *config = cairn_ctx_config(ctx, &config_len);
    fx_config_t cfg = s_parse_config(config, config_len);
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
        rc = s_yield_text(ctx, line);
    }
    if (rc == CAIRN_OK && cfg.manual_every > 0
        && value % cfg.manual_every == 0)
        rc = cairn_ctx_request_checkpoint(ctx, FX_TAG);
    if (rc != CAIRN_OK)
        return cairn_ctx_fail(ctx, "context call failed: %d", rc);
    if (value >= cfg.limit) {
        snprintf(out, sizeof out, "done:%ld", value);
        return s_yield_text(ctx, out);
    }
    return cairn_ctx_send(ctx, "number", out, strlen(out));
}

static int
s_count_failing(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    if (cairn_ctx_superstep(ctx) == 4)
        return cairn_ctx_fail(ctx, "deliberate failure at superstep 4");
    return s_count_step(ctx, msg);
}

/* Byte i of the 1 MiB blob. */
static uint8_t
s_blob_byte(size_t i)
{
    return (uint8_t)((i * 31u + (i >> 9) + 7u) & 0xffu);
}

uint8_t *
fx_blob_new(void)
{
    uint8_t *blob = malloc(FX_BLOB_SIZE);
    for (size_t i = 0; blob && i < FX_BLOB_SIZE; i++)
        blob[i] = s_blob_byte(i);
    return blob;
}

/* t.big: state blob = 1 MiB, sends "1". */
static int
s_big(cairn_ctx_t *ctx, const cairn_msg_t *msg)
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

static cairn_registry_t *
s_registry_new(cairn_handler_fn count_handler)
{
    const cairn_executor_type_t types[] = {
        {"t.count", count_handler, NULL, NULL, NULL},
        {"t.big", s_big, NULL, NULL, NULL},
    };
    return th_registry_open(false, NULL, types, 2);
}

int
fx_group_setup(void **state)
{
    (void)state;
    cairn_error_t err;
    cairn_engine_options_t opts = {.host_threads = 2};
    fx_env.registry = s_registry_new(s_count_step);
    fx_env.fail_registry = s_registry_new(s_count_failing);
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

int
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

/* Opens (or reopens) the RocksDB store at path, asserting success. */
cairn_store_t *
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

int
fx_setup(void **state)
{
    const fx_backend_t *backend = *state;
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->backend = backend;
    cairn_error_t err;
    if (backend->kind == FX_ROCKSDB) {
        if (th_dir_make(fx->tmp, sizeof fx->tmp, "store-test") != 0) {
            free(fx);
            return -1;
        }
        snprintf(fx->dir, sizeof fx->dir, "%s/db", fx->tmp);
        cairn_store_options_t opts = {CAIRN_DURABILITY_PROCESS, false};
        if (cairn_store_open(&fx->store, fx->dir, &opts, &err) != CAIRN_OK) {
            fprintf(stderr, "store open failed: %s\n", err.message);
            th_dir_remove(fx->tmp);
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

int
fx_teardown(void **state)
{
    fx_t *fx = *state;
    if (!fx)
        return 0;
    cairn_store_destroy(&fx->store);
    for (size_t i = 0; i < FX_MAX_AUX; i++)
        cairn_store_destroy(&fx->aux[i]);
    if (fx->tmp[0])
        th_dir_remove(fx->tmp);
    free(fx);
    return 0;
}

/* A second, independent store of the same backend (closed at teardown). */
cairn_store_t *
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
void
fx_reopen(fx_t *fx)
{
    if (fx->backend->kind != FX_ROCKSDB)
        return;
    cairn_store_destroy(&fx->store);
    fx->store = fx_open_dir(fx->dir, false);
}

/* ---- workflows ------------------------------------------------------------- */

/* Builds the cycle on registry with config (e.g. "10", "10:m4") for a and
 * b. */
cairn_workflow_t *
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

void
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

cairn_run_options_t
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
cairn_result_t *
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
cairn_result_t *
fx_run_cycle(cairn_store_t *store, const char *run_id, const char *config)
{
    cairn_workflow_t *wf = fx_build(fx_env.registry, config, FX_PLAIN);
    cairn_run_options_t opts = fx_options(store, run_id);
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    cairn_workflow_destroy(&wf);
    return result;
}

/* Resumes target, asserting success. */
cairn_result_t *
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

static void
s_str_reserve(fx_str_t *s, size_t more)
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

void CAIRN_PRINTF(2, 3)
fx_str_add(fx_str_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    s_str_reserve(s, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

/* Appends bytes, printable ASCII as is, the rest as \xNN; long values
 * are summarised by length and a checksum. */
static void
s_str_add_bytes(fx_str_t *s, const uint8_t *data, size_t len)
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

static void
s_dump_state_entry(const char *executor, const char *key,
                    const uint8_t *value, size_t len, void *userdata)
{
    fx_str_t *s = userdata;
    fx_str_add(s, "state %s/%s=", executor ? executor : "*", key);
    s_str_add_bytes(s, value, len);
    fx_str_add(s, "\n");
}

/* Status, supersteps, error code, outputs and final states; not the run
 * id. Caller frees. */
char *
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
        s_str_add_bytes(&s, data, len);
        fx_str_add(&s, "\n");
    }
    cairn_result_foreach_state(result, s_dump_state_entry, &s);
    return s.data;
}

/* Superstep, status, pending messages, outputs and states of a loaded
 * checkpoint; not its run id. Caller frees. */
char *
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
        s_str_add_bytes(&s, data, len);
        fx_str_add(&s, "\n");
    }
    cairn_checkpoint_foreach_state(cp, s_dump_state_entry, &s);
    return s.data;
}

/* What the plain cycle with this limit (and ":phase" or not) holds after
 * superstep k: the outputs and states in the dump formats above. */
static void
s_expect_body(fx_str_t *s, long limit, long k, bool phase)
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
char *
fx_expect_result(long limit)
{
    fx_str_t s = {0};
    fx_str_add(&s, "status=completed supersteps=%ld error=%s\n", limit,
               cairn_err_name(CAIRN_OK));
    s_expect_body(&s, limit, limit, false);
    return s.data;
}

/* The dump of checkpoint RUN@k of a run of the cycle to limit, written
 * with the run in status. */
char *
fx_expect_checkpoint_as(long limit, long k, bool phase, const char *status)
{
    fx_str_t s = {0};
    fx_str_add(&s, "superstep=%ld status=%s pending=%d\n", k, status,
               k == limit ? 0 : 1);
    s_expect_body(&s, limit, k, phase);
    return s.data;
}

/* The same for a checkpoint of a run that went on normally. */
char *
fx_expect_checkpoint(long limit, long k, bool phase)
{
    return fx_expect_checkpoint_as(limit, k, phase,
                                   k == limit ? "completed" : "running");
}

/* Asserts that the dump of result equals expected (freed). */
void
fx_assert_result(const cairn_result_t *result, char *expected)
{
    char *seen = fx_dump_result(result);
    assert_string_equal(seen, expected);
    free(seen);
    free(expected);
}

/* Loads id, asserting success. */
cairn_checkpoint_t *
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
char *
fx_load_dump(cairn_store_t *store, const char *id)
{
    cairn_checkpoint_t *cp = fx_load(store, id);
    char *dump = fx_dump_checkpoint(cp);
    cairn_checkpoint_destroy(&cp);
    return dump;
}

/* ---- listings ------------------------------------------------------------------ */

/* A run's checkpoints, newest first, asserting success. */
cairn_checkpoint_info_t *
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

size_t
fx_count(cairn_store_t *store, const char *run_id)
{
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(store, run_id, 0, NULL, &count);
    cairn_checkpoint_info_destroy(&infos, count);
    return count;
}

/* The supersteps of a run's checkpoints, newest first, as "10 9 8". */
static char *
s_steps(cairn_store_t *store, const char *run_id, const char *tag)
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

void
fx_assert_steps(cairn_store_t *store, const char *run_id, const char *tag,
                const char *expected)
{
    char *seen = s_steps(store, run_id, tag);
    assert_string_equal(seen, expected);
    free(seen);
}

/* The triggers of a run's checkpoints, newest first, as "end policy". */
void
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
void
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

void
fx_latest(cairn_store_t *store, const char *run_id,
          char out[CAIRN_CHECKPOINT_ID_MAX])
{
    cairn_error_t err;
    int rc = cairn_store_get_latest_checkpoint(store, run_id, out, &err);
    if (rc != CAIRN_OK)
        fail_msg("latest(%s) = %s: %s", run_id, cairn_err_name(rc),
                 err.message);
}

cairn_run_info_t *
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
void
fx_assert_mentions(const cairn_error_t *err, const char *what)
{
    if (!strstr(err->message, what))
        fail_msg("error message \"%s\" does not mention \"%s\"",
                 err->message, what);
}

uint64_t
fx_now_ms(void)
{
    return cairn__wall_ms();
}

void
fx_sleep_ms(long ms)
{
    test_sleep_ms(ms);
}
