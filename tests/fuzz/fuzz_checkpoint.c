/* fuzz_checkpoint - a damaged stored record through load and resume.
 *
 * A store with run "R" (fuzz_fixture.h) is written once into memory and
 * snapshotted. Each input gets a fresh memory store holding that
 * snapshot, with one record replaced by the input:
 *
 *   byte 0, bits 0-6, modulo 7: which record
 *     0 the run record           runs         R
 *     1 the manifest of R@1      checkpoints  R \0 1
 *     2 the in-flight record     inflight     R \0 1
 *     3 a's state "count"        state        R \0 a \0 count \0 ~1
 *     4 the outputs of R@1       outputs      R \0 1
 *     5 b's pending Done         pending      R \0 2 b
 *     6 R's first event block    events       R \0 1 (seq)
 *   byte 0, bit 7: 0 = the rest is the protobuf payload, framed here
 *     (magic, format, CRC-32) so the fuzzer gets past the checksum;
 *     1 = the rest is stored as it is (frame checks).
 *
 * Then the store is listed, R@1 is loaded (every state value and output
 * read), R's events are replayed and the store verified, and R is resumed
 * on an engine opened once: each call must return an error or a result,
 * never crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "fuzz_fixture.h"
#include "storage/record.h"

#define S_RECORDS 7

typedef struct {
    cairn__cf_t cf;
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
} s_entry_t;

static cairn_registry_t *s_registry;
static cairn_workflow_t *s_wf;
static cairn_engine_t *s_engine;
static s_entry_t *s_snapshot;
static size_t s_snapshot_count;
static cairn__key_t s_keys[S_RECORDS];
static const cairn__cf_t s_cfs[S_RECORDS] = {
    CAIRN__CF_RUNS,    CAIRN__CF_CHECKPOINTS, CAIRN__CF_INFLIGHT,
    CAIRN__CF_STATE,   CAIRN__CF_OUTPUTS,     CAIRN__CF_PENDING,
    CAIRN__CF_EVENTS};

static void
s_snapshot_store(cairn_store_t *store)
{
    const cairn__backend_ops_t *ops = store->backend->ops;
    for (int cf = 0; cf < CAIRN__CF_COUNT; cf++) {
        cairn__iter_t *it = ops->iter_new(store->backend, (cairn__cf_t)cf);
        FUZZ_REQUIRE(it);
        for (ops->iter_seek(it, (const uint8_t *)"", 0); ops->iter_valid(it);
             ops->iter_next(it)) {
            s_entry_t *grown = realloc(s_snapshot, (s_snapshot_count + 1)
                                                       * sizeof *s_snapshot);
            FUZZ_REQUIRE(grown);
            s_snapshot = grown;
            s_entry_t *e = &s_snapshot[s_snapshot_count++];
            const uint8_t *key = ops->iter_key(it, &e->key_len);
            const uint8_t *value = ops->iter_value(it, &e->value_len);
            e->cf = (cairn__cf_t)cf;
            e->key = malloc(e->key_len + 1);
            e->value = malloc(e->value_len + 1);
            FUZZ_REQUIRE(e->key && e->value);
            memcpy(e->key, key, e->key_len);
            memcpy(e->value, value, e->value_len);
        }
        ops->iter_free(it);
    }
}

/* At exit, before czmq's own atexit handler (registered when the engine
 * made its first socket) tears ZeroMQ down under the host threads. */
static void
s_cleanup(void)
{
    cairn_engine_destroy(&s_engine);
    cairn_workflow_destroy(&s_wf);
    cairn_registry_destroy(&s_registry);
    for (size_t i = 0; i < s_snapshot_count; i++) {
        free(s_snapshot[i].key);
        free(s_snapshot[i].value);
    }
    free(s_snapshot);
    for (int i = 0; i < S_RECORDS; i++)
        cairn__key_free(&s_keys[i]);
}

static bool
s_snapshot_has(cairn__cf_t cf, const cairn__key_t *key)
{
    for (size_t i = 0; i < s_snapshot_count; i++)
        if (s_snapshot[i].cf == cf && s_snapshot[i].key_len == key->len
            && memcmp(s_snapshot[i].key, key->data, key->len) == 0)
            return true;
    return false;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_registry = fuzz_registry_new();
    s_wf = fuzz_workflow_new(s_registry);
    cairn_engine_options_t eopts;
    memset(&eopts, 0, sizeof eopts);
    eopts.host_threads = 1;
    cairn_error_t err;
    FUZZ_REQUIRE(cairn_engine_open(&s_engine, s_registry, &eopts, &err)
                 == CAIRN_OK);
    cairn_store_t *store = NULL;
    FUZZ_REQUIRE(cairn_store_open_memory(&store, &err) == CAIRN_OK);
    fuzz_run_r(s_engine, s_wf, store);
    s_snapshot_store(store);
    cairn_store_destroy(&store);

    cairn__key_reset(&s_keys[0]);
    cairn__key_add_text(&s_keys[0], "R", false);
    cairn__key_step(&s_keys[1], "R", 1);
    cairn__key_step(&s_keys[2], "R", 1);
    cairn__key_state_group(&s_keys[3], "R", "a", "count");
    cairn__key_add_u64(&s_keys[3], ~(uint64_t)1);
    cairn__key_step(&s_keys[4], "R", 1);
    cairn__key_step(&s_keys[5], "R", 2);
    cairn__key_add_text(&s_keys[5], "b", false);
    cairn__key_step(&s_keys[6], "R", 1);
    /* The layout must still be the one the store writes (the outputs of
     * superstep 1 need not exist: a has none). */
    for (int i = 0; i < S_RECORDS; i++)
        FUZZ_REQUIRE(!s_keys[i].out_of_memory
                     && (i == 4 || s_snapshot_has(s_cfs[i], &s_keys[i])));
    atexit(s_cleanup);
    return 0;
}

/* Frames payload the way storage/record.c does. */
static uint8_t *
s_frame(const uint8_t *payload, size_t len, size_t *out_len)
{
    uint8_t *framed = malloc(CAIRN__RECORD_HEADER + len);
    if (!framed)
        return NULL;
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, payload, (uInt)len);
    framed[0] = 'c';
    framed[1] = CAIRN__STORE_FORMAT;
    for (int i = 0; i < 4; i++)
        framed[2 + i] = (uint8_t)(crc >> (8 * i));
    if (len)
        memcpy(framed + CAIRN__RECORD_HEADER, payload, len);
    *out_len = CAIRN__RECORD_HEADER + len;
    return framed;
}

static void
s_visit_state(const char *executor, const char *key, const uint8_t *value,
              size_t len, void *userdata)
{
    unsigned *sum = userdata;
    *sum +=
        fuzz_touch_str(executor) + fuzz_touch_str(key) + fuzz_touch(value, len);
}

static void
s_visit_event(const cairn_event_t *event, void *userdata)
{
    unsigned *sum = userdata;
    *sum += fuzz_touch_str(event->detail) + fuzz_touch_str(event->executor)
            + fuzz_touch(event->data, event->data_len);
}

static void
s_verify_problem(const char *run_id, const char *checkpoint,
                 const char *problem, void *userdata)
{
    unsigned *sum = userdata;
    *sum += fuzz_touch_str(run_id) + fuzz_touch_str(checkpoint)
            + fuzz_touch_str(problem);
}

static void
s_exercise(cairn_store_t *store)
{
    cairn_error_t err;
    unsigned sum = 0;
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    if (cairn_store_list_runs(store, &runs, &run_count, &err) == CAIRN_OK) {
        for (size_t i = 0; i < run_count; i++)
            sum += fuzz_touch_str(runs[i].status)
                   + fuzz_touch_str(runs[i].latest_checkpoint)
                   + fuzz_touch(runs[i].spec, runs[i].spec_len);
        cairn_run_info_destroy(&runs, run_count);
    }
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    if (cairn_store_list_checkpoints(store, "R", 0, NULL, &infos, &count, &err)
        == CAIRN_OK) {
        for (size_t i = 0; i < count; i++) {
            sum += fuzz_touch_str(infos[i].id) + fuzz_touch_str(infos[i].parent)
                   + fuzz_touch_str(infos[i].trigger);
            for (size_t t = 0; t < infos[i].tag_count; t++)
                sum += fuzz_touch_str(infos[i].tags[t]);
        }
        cairn_checkpoint_info_destroy(&infos, count);
    }
    if (cairn_store_foreach_event(store, "R", 0, s_visit_event, &sum, &err)
        != CAIRN_OK)
        sum += fuzz_touch_str(err.message);
    size_t problems = 0;
    if (cairn_store_verify(store, NULL, s_verify_problem, &sum, &problems,
                           &err)
        != CAIRN_OK)
        sum += fuzz_touch_str(err.message);
    cairn_checkpoint_t *cp = NULL;
    if (cairn_store_get_checkpoint(store, "R@1", &cp, &err) != CAIRN_OK)
        return;
    cairn_checkpoint_foreach_state(cp, s_visit_state, &sum);
    for (size_t i = 0; i < cairn_checkpoint_output_count(cp); i++) {
        size_t len;
        const uint8_t *out = cairn_checkpoint_output(cp, i, &len);
        sum += fuzz_touch(out, len);
    }
    cairn_checkpoint_destroy(&cp);

    cairn_run_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.store = store;
    cairn_result_t *result = NULL;
    if (cairn_engine_resume(s_engine, s_wf, "R", &opts, &result, &err)
        == CAIRN_OK) {
        for (size_t i = 0; i < cairn_result_output_count(result); i++) {
            size_t len;
            const uint8_t *out = cairn_result_output(result, i, &len);
            sum += fuzz_touch(out, len);
        }
        cairn_result_destroy(&result);
    }
    (void)sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t which = (data[0] & 0x7f) % S_RECORDS;
    bool raw = data[0] & 0x80;
    size_t len = size - 1;
    uint8_t *value = raw ? malloc(len ? len : 1) : s_frame(data + 1, len, &len);
    FUZZ_REQUIRE(value);
    if (raw && len)
        memcpy(value, data + 1, len);

    cairn_store_t *store = NULL;
    cairn_error_t err;
    FUZZ_REQUIRE(cairn_store_open_memory(&store, &err) == CAIRN_OK);
    const cairn__backend_ops_t *ops = store->backend->ops;
    cairn__batch_t *batch = ops->batch_new(store->backend);
    FUZZ_REQUIRE(batch);
    for (size_t i = 0; i < s_snapshot_count; i++)
        ops->batch_put(batch, s_snapshot[i].cf, s_snapshot[i].key,
                       s_snapshot[i].key_len, s_snapshot[i].value,
                       s_snapshot[i].value_len);
    ops->batch_put(batch, s_cfs[which], s_keys[which].data, s_keys[which].len,
                   value, len);
    FUZZ_REQUIRE(ops->batch_commit(store->backend, batch, false, &err)
                 == CAIRN_OK);
    ops->batch_free(batch);
    free(value);

    s_exercise(store);
    cairn_store_destroy(&store);
    return 0;
}
