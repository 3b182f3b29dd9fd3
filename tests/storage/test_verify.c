/* test_verify - cairn_store_verify: records that disagree with their run,
 * and a walk proportional to what is stored.
 *
 * Every case runs on a RocksDB store in a temporary directory and on a
 * memory store. Damage is made through the backend (the store's own
 * write paths would refuse it): a run id reused by another workflow is
 * rebuilt by copying a run of another store over it key by key, as a
 * second `cairn run --run-id X` did before run ids were refused.
 */
#include "store_fixture.h"

#include "checkpoint.pb-c.h"
#include "storage/record.h"
#include "storage/store_internal.h"

#define S_MAX_PROBLEMS 16

typedef struct {
    size_t count;
    char lines[S_MAX_PROBLEMS][512]; /* "CHECKPOINT|RUN: problem" */
} s_problems_t;

static void
s_note(const char *run_id, const char *checkpoint, const char *problem,
       void *userdata)
{
    s_problems_t *p = userdata;
    if (p->count < S_MAX_PROBLEMS)
        snprintf(p->lines[p->count], sizeof p->lines[0], "%s: %s",
                 checkpoint ? checkpoint : run_id, problem);
    p->count++;
}

static size_t
s_verify(cairn_store_t *store, const char *run_id, s_problems_t *p)
{
    memset(p, 0, sizeof *p);
    size_t count = 99;
    cairn_error_t err;
    int rc = cairn_store_verify(store, run_id, s_note, p, &count, &err);
    if (rc != CAIRN_OK)
        fail_msg("verify = %s: %s", cairn_err_name(rc), err.message);
    assert_int_equal(count, p->count);
    return count;
}

/* Whether some problem contains every one of the NULL-terminated texts. */
static bool
s_reported(const s_problems_t *p, const char *const *texts)
{
    for (size_t i = 0; i < p->count && i < S_MAX_PROBLEMS; i++) {
        bool all = true;
        for (size_t t = 0; texts[t] && all; t++)
            all = strstr(p->lines[i], texts[t]) != NULL;
        if (all)
            return true;
    }
    return false;
}

static void
s_assert_reported(const s_problems_t *p, const char *const *texts)
{
    if (s_reported(p, texts))
        return;
    for (size_t i = 0; i < p->count && i < S_MAX_PROBLEMS; i++)
        print_message("problem: %s\n", p->lines[i]);
    fail_msg("no problem mentions \"%s\"%s", texts[0],
             texts[1] ? " (and the rest)" : "");
}

/* Copies every record of run_id (all families but pending) from one
 * store to another, overwriting what is there. */
static void
s_copy_run(cairn_store_t *from, cairn_store_t *to, const char *run_id)
{
    const cairn__backend_ops_t *src = from->backend->ops;
    const cairn__backend_ops_t *dst = to->backend->ops;
    cairn__batch_t *batch = dst->batch_new(to->backend);
    assert_non_null(batch);
    uint8_t *value = NULL;
    size_t len = 0;
    cairn_error_t err;
    assert_int_equal(src->get(from->backend, CAIRN__CF_RUNS,
                              (const uint8_t *)run_id, strlen(run_id), &value,
                              &len, &err),
                     CAIRN_OK);
    dst->batch_put(batch, CAIRN__CF_RUNS, (const uint8_t *)run_id,
                   strlen(run_id), value, len);
    free(value);
    static const cairn__cf_t families[] = {
        CAIRN__CF_CHECKPOINTS, CAIRN__CF_INFLIGHT, CAIRN__CF_STATE,
        CAIRN__CF_OUTPUTS, CAIRN__CF_EVENTS};
    size_t prefix_len = strlen(run_id) + 1;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        cairn__iter_t *it = src->iter_new(from->backend, families[f]);
        assert_non_null(it);
        for (src->iter_seek(it, (const uint8_t *)run_id, prefix_len);
             src->iter_valid(it); src->iter_next(it)) {
            size_t key_len, value_len;
            const uint8_t *key = src->iter_key(it, &key_len);
            if (key_len < prefix_len || memcmp(key, run_id, prefix_len) != 0)
                break;
            const uint8_t *data = src->iter_value(it, &value_len);
            dst->batch_put(batch, families[f], key, key_len, data, value_len);
        }
        src->iter_free(it);
    }
    assert_int_equal(dst->batch_commit(to->backend, batch, true, &err),
                     CAIRN_OK);
    dst->batch_free(batch);
}

/* ---- records that disagree with their run --------------------------------- */

/* Run X of the cycle to 10, then another workflow's X (the big variant:
 * X@0..X@4) written over it: its record and X@0..X@4 are the new run's,
 * X@5..X@10 still the old one's. */
static void
test_verify_reused_run_id(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *old = fx_run_cycle(fx->store, "X", "10");
    cairn_store_t *other = fx_aux_store(fx, "other");
    cairn_workflow_t *wf = fx_build(fx_env.registry, "4", FX_BIG);
    cairn_run_options_t opts = fx_options(other, "X");
    cairn_result_t *reused = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_status(reused), CAIRN_STATUS_COMPLETED);
    fx_assert_steps(other, "X", NULL, "4 3 2 1 0");
    s_problems_t p;
    assert_int_equal(s_verify(fx->store, NULL, &p), 0);

    s_copy_run(other, fx->store, "X");
    fx_reopen(fx);
    /* the premise: every parent is there, every checkpoint loads */
    fx_assert_chain(fx->store, "X", "");
    assert_true(s_verify(fx->store, NULL, &p) >= 2);
    /* one problem for the whole range of the other workflow's checkpoints */
    s_assert_reported(&p, (const char *const[]){
                              "X@5: 6 checkpoint(s) X@5..X@10",
                              "of workflow 'cycle'", "another run", NULL});
    /* and the ended run's record does not name its newest checkpoint */
    s_assert_reported(&p, (const char *const[]){"X@10", "ended (completed) "
                                                        "at checkpoint X@4",
                                                NULL});
    /* (the two runs' event blocks are mixed too: verify says so) */
    s_assert_reported(&p, (const char *const[]){"X: events", NULL});
    /* verify of the run alone finds the same */
    size_t all = p.count;
    assert_int_equal(s_verify(fx->store, "X", &p), all);

    cairn_result_destroy(&reused);
    cairn_result_destroy(&old);
    cairn_workflow_destroy(&wf);
}

/* Rewrites the manifest of id through the backend with change applied. */
static void
s_edit_manifest(cairn_store_t *store, const char *run_id, uint64_t step,
                void (*change)(Cairn__CheckpointRecord *m))
{
    cairn__key_t key = {0};
    cairn__key_step(&key, run_id, step);
    Cairn__CheckpointRecord *m = NULL;
    cairn_error_t err;
    assert_int_equal(cairn__store_read(store, CAIRN__CF_CHECKPOINTS, &key,
                                       &cairn__checkpoint_record__descriptor,
                                       "checkpoint", (ProtobufCMessage **)&m,
                                       &err),
                     CAIRN_OK);
    change(m);
    cairn__batch_t *batch = store->backend->ops->batch_new(store->backend);
    assert_true(cairn__store_batch_record(store, batch, CAIRN__CF_CHECKPOINTS,
                                          &key, &m->base));
    assert_int_equal(store->backend->ops->batch_commit(store->backend, batch,
                                                       true, &err),
                     CAIRN_OK);
    store->backend->ops->batch_free(batch);
    cairn__checkpoint_record__free_unpacked(m, NULL);
    cairn__key_free(&key);
}

static void
s_other_signature(Cairn__CheckpointRecord *m)
{
    m->signature.data[0] ^= 0xff;
}

static void
s_other_superstep(Cairn__CheckpointRecord *m)
{
    m->superstep = 77;
}

static void
test_verify_checkpoint_disagrees_with_run(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "6");
    s_problems_t p;
    assert_int_equal(s_verify(fx->store, "RUN", &p), 0);
    s_edit_manifest(fx->store, "RUN", 3, s_other_signature);
    s_edit_manifest(fx->store, "RUN", 5, s_other_superstep);
    assert_int_equal(s_verify(fx->store, "RUN", &p), 2);
    s_assert_reported(&p, (const char *const[]){
                              "RUN@3: 1 checkpoint(s) RUN@3..RUN@3",
                              "not of run RUN's workflow", NULL});
    s_assert_reported(&p, (const char *const[]){
                              "RUN@5: its record names checkpoint RUN@77",
                              NULL});
    cairn_result_destroy(&result);
}

/* A resume forced onto another workflow goes on under the same id: the
 * checkpoints before it keep the old signature, and that is no problem. */
static void
test_verify_forced_resume_is_clean(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 4;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_error(stopped)->code, CAIRN_EMAXSTEPS);
    cairn_workflow_t *edge = fx_build(fx_env.registry, "10",
                                      FX_EDGE_PREDICATE);
    cairn_run_options_t again = fx_options(fx->store, NULL);
    again.force_signature = true;
    again.max_supersteps = 100; /* past the limit the run keeps */
    cairn_result_t *result = fx_resume_opts(fx_env.engine, edge, "RUN",
                                            &again);
    fx_assert_result(result, fx_expect_result(10));
    s_problems_t p;
    assert_int_equal(s_verify(fx->store, NULL, &p), 0);
    /* a fork of the old part carries the old signature in its checkpoint
     * and the run's current one in its record */
    char id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    assert_int_equal(cairn_store_fork(fx->store, "RUN@2", "F", NULL, id,
                                      &err),
                     CAIRN_OK);
    assert_int_equal(s_verify(fx->store, NULL, &p), 0);
    /* the check still applies after the forced point */
    s_edit_manifest(fx->store, "RUN", 7, s_other_signature);
    assert_int_equal(s_verify(fx->store, "RUN", &p), 1);
    s_assert_reported(&p, (const char *const[]){"RUN@7", NULL});
    cairn_result_destroy(&result);
    cairn_result_destroy(&stopped);
    cairn_workflow_destroy(&edge);
    cairn_workflow_destroy(&wf);
}

/* ---- proportional to what is stored --------------------------------------- */

/* A run written through the checkpoint writer: executors e0..e{n-1}
 * each set one key at the entry checkpoint, then each of the next
 * `steps` checkpoints changes one executor's key: n + steps state
 * versions, steps + 1 checkpoints. */
static void
s_build_wide_run(cairn_store_t *store, const char *run_id, size_t executors,
                 size_t steps)
{
    static uint8_t signature[32] = {1, 2, 3};
    Cairn__InflightRecord inflight = CAIRN__INFLIGHT_RECORD__INIT;
    Cairn__RunRecord run = CAIRN__RUN_RECORD__INIT;
    run.run_id = (char *)run_id;
    run.workflow_name = (char *)"wide";
    run.signature.data = signature;
    run.signature.len = sizeof signature;
    char parent[CAIRN_CHECKPOINT_ID_MAX] = "", latest[CAIRN_CHECKPOINT_ID_MAX];
    for (size_t step = 0; step <= steps; step++) {
        cairn__ckpt_writer_t *w = cairn__ckpt_begin(store, run_id, step);
        assert_non_null(w);
        char scope[32], value[32];
        for (size_t e = 0; e < (step ? 1 : executors); e++) {
            snprintf(scope, sizeof scope, "e%zu",
                     step ? step % executors : e);
            snprintf(value, sizeof value, "%zu", step);
            cairn__ckpt_put_state(w, scope, "k", (const uint8_t *)value,
                                  strlen(value), false);
        }
        cairn__ckpt_put_inflight(w, &inflight);
        Cairn__CheckpointRecord m = CAIRN__CHECKPOINT_RECORD__INIT;
        m.run_id = (char *)run_id;
        m.superstep = step;
        m.parent = parent;
        m.trigger = (char *)(step ? "policy" : "entry");
        m.workflow_name = run.workflow_name;
        m.signature = run.signature;
        m.status = (char *)(step == steps ? "completed" : "running");
        snprintf(latest, sizeof latest, "%s@%zu", run_id, step);
        run.status = m.status;
        run.superstep = step;
        run.latest_checkpoint = latest;
        cairn_error_t err;
        int rc = cairn__ckpt_commit(w, &m, step == 0 || step == steps ? &run
                                                                      : NULL,
                                    &err);
        if (rc != CAIRN_OK)
            fail_msg("commit %s: %s", latest, err.message);
        snprintf(parent, sizeof parent, "%s", latest);
    }
}

/* Counts the reads verify makes through the backend. */
static const cairn__backend_ops_t *s_real;
static size_t s_reads;

static int
s_count_get(cairn__backend_t *self, cairn__cf_t cf, const uint8_t *key,
            size_t key_len, uint8_t **value, size_t *value_len,
            cairn_error_t *err)
{
    s_reads++;
    return s_real->get(self, cf, key, key_len, value, value_len, err);
}

static void
s_count_seek(cairn__iter_t *it, const uint8_t *key, size_t len)
{
    s_reads++;
    s_real->iter_seek(it, key, len);
}

static void
s_count_next(cairn__iter_t *it)
{
    s_reads++;
    s_real->iter_next(it);
}

static void
s_count_prev(cairn__iter_t *it)
{
    s_reads++;
    s_real->iter_prev(it);
}

static void
s_count_seek_for_prev(cairn__iter_t *it, const uint8_t *key, size_t len)
{
    s_reads++;
    s_real->iter_seek_for_prev(it, key, len);
}

/* verify's backend reads for the wide run, counted. */
static size_t
s_verify_reads(cairn_store_t *store, s_problems_t *p)
{
    cairn__backend_ops_t counting = *store->backend->ops;
    counting.get = s_count_get;
    counting.iter_seek = s_count_seek;
    counting.iter_next = s_count_next;
    counting.iter_prev = s_count_prev;
    counting.iter_seek_for_prev = s_count_seek_for_prev;
    s_real = store->backend->ops;
    s_reads = 0;
    store->backend->ops = &counting;
    assert_int_equal(s_verify(store, NULL, p), 0);
    store->backend->ops = s_real;
    return s_reads;
}

/* 200 executors x 200 checkpoints: loading every checkpoint (what verify
 * did) costs 2 seeks per key per checkpoint, 80,000 reads; a walk of
 * what is stored (200 + 200 state versions, 201 manifests and in-flight
 * records) a few per stored record. The bound is generous (8 reads per
 * record) and needs no clock. */
static void
test_verify_reads_what_is_stored(void **state)
{
    fx_t *fx = *state;
    size_t executors = 200, steps = 200;
    s_build_wide_run(fx->store, "WIDE", executors, steps);
    fx_reopen(fx);
    size_t records = 1 + (executors + steps) + 2 * (steps + 1);
    s_problems_t p;
    size_t reads = s_verify_reads(fx->store, &p);
    if (reads > 8 * records)
        fail_msg("verify made %zu backend reads for %zu stored records", reads,
                 records);
    /* and it still reads every value: a damaged one is found */
    cairn__key_t key = {0};
    cairn__key_state_group(&key, "WIDE", "e7", "k");
    cairn__key_add_u64(&key, ~(uint64_t)0);
    const cairn__backend_ops_t *ops = fx->store->backend->ops;
    cairn__batch_t *batch = ops->batch_new(fx->store->backend);
    ops->batch_put(batch, CAIRN__CF_STATE, key.data, key.len,
                   (const uint8_t *)"junk", 4);
    cairn_error_t err;
    assert_int_equal(ops->batch_commit(fx->store->backend, batch, true, &err),
                     CAIRN_OK);
    ops->batch_free(batch);
    cairn__key_free(&key);
    assert_int_equal(s_verify(fx->store, "WIDE", &p), 1);
    /* e7's key is rewritten at superstep 7: the entry version serves
     * WIDE@0..WIDE@6 */
    s_assert_reported(&p, (const char *const[]){
                              "state value 'k' of executor e7",
                              "read by WIDE@0..WIDE@6", NULL});
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_verify_reused_run_id, rocksdb),
        FX_TEST(test_verify_reused_run_id, memory),
        FX_TEST(test_verify_checkpoint_disagrees_with_run, rocksdb),
        FX_TEST(test_verify_checkpoint_disagrees_with_run, memory),
        FX_TEST(test_verify_forced_resume_is_clean, rocksdb),
        FX_TEST(test_verify_forced_resume_is_clean, memory),
        FX_TEST(test_verify_reads_what_is_stored, rocksdb),
        FX_TEST(test_verify_reads_what_is_stored, memory),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
