/* test_retention - cairn_store_retain, cairn_store_gc and
 * cairn_store_delete_run.
 *
 * Kept apart from test_store.c so that the rest builds while these
 * functions are being written. Every case runs on a RocksDB store in a
 * temporary directory and on a memory store; the read-only case on
 * RocksDB only. The workflow is the counter cycle of store_fixture.h.
 *
 * The central property: retention deletes checkpoints, gc then removes
 * the state versions no remaining checkpoint (or fork) resolves to, and
 * every checkpoint that remains loads exactly as before (same outputs,
 * same states, byte for byte).
 */
#include "store_fixture.h"

#include "storage/store_internal.h"

/* Dumps of checkpoints RUN@first..RUN@last (index k - first). */
typedef struct {
    char *dumps[64];
    long first;
    long last;
} s_snapshot_t;

static void
s_snapshot(cairn_store_t *store, const char *run_id, long first, long last,
           s_snapshot_t *snap)
{
    assert_true(last - first < 64);
    snap->first = first;
    snap->last = last;
    for (long k = first; k <= last; k++) {
        char id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(id, sizeof id, "%s@%ld", run_id, k);
        snap->dumps[k - first] = fx_load_dump(store, id);
    }
}

/* Asserts that every snapshot checkpoint loads as it did. */
static void
s_assert_snapshot(cairn_store_t *store, const char *run_id,
                  const s_snapshot_t *snap)
{
    for (long k = snap->first; k <= snap->last; k++) {
        char id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(id, sizeof id, "%s@%ld", run_id, k);
        char *dump = fx_load_dump(store, id);
        assert_string_equal(dump, snap->dumps[k - snap->first]);
        free(dump);
    }
}

static void
s_snapshot_free(s_snapshot_t *snap)
{
    for (long k = snap->first; k <= snap->last; k++)
        free(snap->dumps[k - snap->first]);
    memset(snap, 0, sizeof *snap);
}

static size_t
s_retain(cairn_store_t *store, size_t keep_last, uint64_t older_than_ms)
{
    size_t deleted = 12345;
    cairn_error_t err;
    int rc = cairn_store_retain(store, keep_last, older_than_ms, &deleted,
                                &err);
    if (rc != CAIRN_OK)
        fail_msg("retain = %s: %s", cairn_err_name(rc), err.message);
    return deleted;
}

static size_t
s_gc(cairn_store_t *store)
{
    size_t removed = 12345;
    cairn_error_t err;
    int rc = cairn_store_gc(store, &removed, &err);
    if (rc != CAIRN_OK)
        fail_msg("gc = %s: %s", cairn_err_name(rc), err.message);
    return removed;
}

static void
s_assert_gone(cairn_store_t *store, const char *id)
{
    cairn_checkpoint_t *cp = NULL;
    cairn_error_t err;
    int rc = cairn_store_get_checkpoint(store, id, &cp, &err);
    if (rc != CAIRN_ENOTFOUND)
        fail_msg("load(%s) = %s, expected CAIRN_ENOTFOUND", id,
                 cairn_err_name(rc));
    assert_null(cp);
}

/* Asserts that verify finds nothing, printing what it found. */
static void
s_print_problem(const char *run_id, const char *checkpoint,
                const char *problem, void *userdata)
{
    (void)userdata;
    print_message("verify: %s: %s\n", checkpoint ? checkpoint : run_id,
                  problem);
}

static void
s_assert_verified(cairn_store_t *store)
{
    size_t problems = 99;
    cairn_error_t err;
    int rc = cairn_store_verify(store, NULL, s_print_problem, NULL, &problems,
                                &err);
    if (rc != CAIRN_OK)
        fail_msg("verify = %s: %s", cairn_err_name(rc), err.message);
    if (problems)
        fail_msg("verify found %zu problem(s) in a sound store", problems);
}

/* ---- keep last N ------------------------------------------------------------- */

static void
test_retention_retain_keep_last(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "30");
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(fx_count(fx->store, "RUN"), 31);
    s_snapshot_t kept;
    s_snapshot(fx->store, "RUN", 26, 30, &kept);

    assert_int_equal(s_retain(fx->store, 5, 0), 26);
    fx_assert_steps(fx->store, "RUN", NULL, "30 29 28 27 26");
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    fx_latest(fx->store, "RUN", latest);
    assert_string_equal(latest, "RUN@30");
    s_assert_gone(fx->store, "RUN@25");
    s_assert_gone(fx->store, "RUN@0");
    /* the oldest kept checkpoint records that retention took its parent */
    cairn_error_t err;
    cairn_checkpoint_t *cp = NULL;
    assert_int_equal(cairn_store_get_checkpoint(fx->store, "RUN@3", &cp, &err),
                     CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "checkpoint 'RUN@3' was deleted by retention");
    fx_assert_mentions(&err, "next kept checkpoint of run RUN is RUN@26");
    s_assert_verified(fx->store);
    /* retention alone changes nothing the kept ones read */
    s_assert_snapshot(fx->store, "RUN", &kept);

    /* Versions written: counter at 1..30, a/count at odd, b/count at even
     * supersteps, phase at 2: 61. RUN@26..30 resolve to counter 26..30,
     * a/count 25 27 29, b/count 26 28 30 and phase 2: 12 stay. */
    assert_int_equal(s_gc(fx->store), 49);
    s_assert_snapshot(fx->store, "RUN", &kept);
    s_assert_verified(fx->store);
    for (long k = 26; k <= 30; k++) {
        char id[32];
        snprintf(id, sizeof id, "RUN@%ld", k);
        char *dump = fx_load_dump(fx->store, id);
        char *expected = fx_expect_checkpoint(30, k, false);
        assert_string_equal(dump, expected);
        free(dump);
        free(expected);
    }
    /* nothing more to collect; retaining again deletes nothing */
    assert_int_equal(s_gc(fx->store), 0);
    assert_int_equal(s_retain(fx->store, 5, 0), 0);
    fx_assert_steps(fx->store, "RUN", NULL, "30 29 28 27 26");

    /* it all survives a reopen */
    fx_reopen(fx);
    s_assert_snapshot(fx->store, "RUN", &kept);
    fx_assert_chain(fx->store, "RUN", "RUN@25");
    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "completed");
    assert_string_equal(run->latest_checkpoint, "RUN@30");
    cairn_run_info_destroy(&run, 1);

    s_snapshot_free(&kept);
    cairn_result_destroy(&result);
}

static void
test_retention_retain_applies_to_every_run(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *a = fx_run_cycle(fx->store, "A", "8");
    cairn_result_t *b = fx_run_cycle(fx->store, "B", "3");
    assert_int_equal(s_retain(fx->store, 2, 0), 7 + 2);
    fx_assert_steps(fx->store, "A", NULL, "8 7");
    fx_assert_steps(fx->store, "B", NULL, "3 2");
    assert_true(s_gc(fx->store) > 0);
    s_assert_verified(fx->store);
    char *dump = fx_load_dump(fx->store, "A@7");
    char *expected = fx_expect_checkpoint(8, 7, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    dump = fx_load_dump(fx->store, "B@2");
    expected = fx_expect_checkpoint(3, 2, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    cairn_result_destroy(&b);
    cairn_result_destroy(&a);
}

static void
test_retention_retain_newest_always_kept(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    /* no limits: nothing goes */
    assert_int_equal(s_retain(fx->store, 0, 0), 0);
    assert_int_equal(fx_count(fx->store, "RUN"), 11);
    /* every checkpoint is older than 1 ms: all but the newest go */
    fx_sleep_ms(20);
    assert_int_equal(s_retain(fx->store, 0, 1), 10);
    fx_assert_steps(fx->store, "RUN", NULL, "10");
    /* keep_last 1 and the same again: the newest stays */
    assert_int_equal(s_retain(fx->store, 1, 1), 0);
    fx_assert_steps(fx->store, "RUN", NULL, "10");
    assert_true(s_gc(fx->store) > 0);
    s_assert_verified(fx->store);
    char *dump = fx_load_dump(fx->store, "RUN@10");
    char *expected = fx_expect_checkpoint(10, 10, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    fx_latest(fx->store, "RUN", latest);
    assert_string_equal(latest, "RUN@10");
    cairn_result_destroy(&result);
}

static void
test_retention_retain_older_than(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *old = fx_run_cycle(fx->store, "OLD", "6");
    fx_sleep_ms(2000);
    uint64_t started = fx_now_ms();
    cairn_result_t *fresh = fx_run_cycle(fx->store, "NEW", "6");
    /* OLD's checkpoints were all written before started - 2 s, NEW's after
     * started. An age that puts the cutoff at started - 1 s, however long
     * NEW took, splits them; only a stall of a second between this line
     * and retention reading its clock could move it past NEW's first. */
    uint64_t age_ms = fx_now_ms() - started + 1000;
    size_t deleted = s_retain(fx->store, 0, age_ms);
    assert_int_equal(deleted, 6);
    fx_assert_steps(fx->store, "OLD", NULL, "6");
    fx_assert_steps(fx->store, "NEW", NULL, "6 5 4 3 2 1 0");
    assert_true(s_gc(fx->store) > 0);
    s_assert_verified(fx->store);
    char *dump = fx_load_dump(fx->store, "OLD@6");
    char *expected = fx_expect_checkpoint(6, 6, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    for (long k = 0; k <= 6; k++) {
        char id[32];
        snprintf(id, sizeof id, "NEW@%ld", k);
        dump = fx_load_dump(fx->store, id);
        expected = fx_expect_checkpoint(6, k, false);
        assert_string_equal(dump, expected);
        free(dump);
        free(expected);
    }
    cairn_result_destroy(&fresh);
    cairn_result_destroy(&old);
}

/* ---- gc and forks ------------------------------------------------------------ */

/* P: the cycle to 10 with ":phase" (shared phase = early at 2, late at
 * 6). F: forked from P@3 with the workflow without ":phase" (forced), so
 * F never rewrites phase and reads P's version of superstep 2, which P
 * itself superseded at 6. Once P keeps only P@10, that version is needed
 * by F alone. */
static cairn_result_t *
s_run_parent_and_fork(fx_t *fx, cairn_result_t **parent)
{
    cairn_workflow_t *with_phase = fx_build(fx_env.registry, "10:phase",
                                            FX_PLAIN);
    cairn_workflow_t *without = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "P");
    *parent = fx_run_opts(fx_env.engine, with_phase, &opts);
    size_t len = 0;
    const uint8_t *phase = cairn_result_state(*parent, NULL, "phase", &len);
    assert_int_equal(len, 4);
    assert_memory_equal(phase, "late", 4);
    cairn_run_options_t fork_opts = fx_options(fx->store, "F");
    fork_opts.force_signature = true;
    cairn_result_t *fork = fx_resume_opts(fx_env.engine, without, "P@3",
                                          &fork_opts);
    assert_string_equal(cairn_result_run_id(fork), "F");
    assert_int_equal(cairn_result_status(fork), CAIRN_STATUS_COMPLETED);
    phase = cairn_result_state(fork, NULL, "phase", &len);
    assert_int_equal(len, 5);
    assert_memory_equal(phase, "early", 5);
    cairn_workflow_destroy(&without);
    cairn_workflow_destroy(&with_phase);
    return fork;
}

static void
test_retention_gc_keeps_what_a_fork_reads(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *parent = NULL;
    cairn_result_t *fork = s_run_parent_and_fork(fx, &parent);
    char *fork_latest = fx_load_dump(fx->store, "F@10");
    char *parent_latest = fx_load_dump(fx->store, "P@10");
    /* the premise: F@10 reads phase from P's history */
    char *expected = fx_expect_checkpoint(10, 10, false);
    assert_string_equal(fork_latest, expected);
    free(expected);
    expected = fx_expect_checkpoint(10, 10, true);
    assert_string_equal(parent_latest, expected);
    free(expected);

    /* P keeps P@10 and its fork point P@3 (F keeps F@10): P: 9 deleted,
     * F (3..10): 7 */
    assert_int_equal(s_retain(fx->store, 1, 0), 16);
    fx_assert_steps(fx->store, "P", NULL, "10 3");
    fx_assert_steps(fx->store, "F", NULL, "10");
    assert_true(s_gc(fx->store) > 0);
    s_assert_verified(fx->store);
    char *dump = fx_load_dump(fx->store, "F@10");
    assert_string_equal(dump, fork_latest);
    free(dump);
    dump = fx_load_dump(fx->store, "P@10");
    assert_string_equal(dump, parent_latest);
    free(dump);
    cairn_checkpoint_t *cp = fx_load(fx->store, "F@10");
    size_t len = 0;
    const uint8_t *phase = cairn_checkpoint_state(cp, NULL, "phase", &len);
    assert_non_null(phase);
    assert_int_equal(len, 5);
    assert_memory_equal(phase, "early", 5);
    cairn_checkpoint_destroy(&cp);

    /* and again after a reopen and a second gc */
    fx_reopen(fx);
    assert_int_equal(s_gc(fx->store), 0);
    dump = fx_load_dump(fx->store, "F@10");
    assert_string_equal(dump, fork_latest);
    free(dump);
    cairn_run_info_t *run = fx_get_run(fx->store, "F");
    assert_string_equal(run->parent, "P@3");
    cairn_run_info_destroy(&run, 1);

    free(fork_latest);
    free(parent_latest);
    cairn_result_destroy(&fork);
    cairn_result_destroy(&parent);
}

static void
test_retention_resume_after_gc(void **state)
{
    /* a run stopped by max_supersteps, trimmed to its last 2 checkpoints
     * and collected, still resumes to the uninterrupted result */
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "20", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 9;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_error(stopped)->code, CAIRN_EMAXSTEPS);
    assert_int_equal(s_retain(fx->store, 2, 0), 8);
    assert_true(s_gc(fx->store) > 0);
    fx_reopen(fx);
    cairn_run_options_t again = fx_options(fx->store, NULL);
    again.max_supersteps = 100; /* past the limit the run keeps */
    cairn_result_t *resumed = fx_resume_opts(fx_env.engine, wf, "RUN",
                                             &again);
    fx_assert_result(resumed, fx_expect_result(20));
    fx_assert_steps(fx->store, "RUN", NULL,
                    "20 19 18 17 16 15 14 13 12 11 10 9 8");
    /* and a fork from the older kept checkpoint too */
    cairn_run_options_t fork_opts = fx_options(fx->store, "FORK");
    cairn_result_t *fork = fx_resume_opts(fx_env.engine, wf, "RUN@8",
                                          &fork_opts);
    fx_assert_result(fork, fx_expect_result(20));
    cairn_result_destroy(&fork);
    cairn_result_destroy(&resumed);
    cairn_result_destroy(&stopped);
    cairn_workflow_destroy(&wf);
}

/* The pruned-lineage rule end to end: after retention, the oldest kept
 * checkpoint is where the run's history starts; verify, fork, load and
 * export/import agree on that, and a checkpoint lost otherwise is still
 * reported. */
static void
test_retention_pruned_lineage(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    cairn_error_t err;
    char id[CAIRN_CHECKPOINT_ID_MAX];
    /* a fork at RUN@3 before retention: its fork point stays */
    assert_int_equal(cairn_store_fork(fx->store, "RUN@3", "EARLY", NULL, id,
                                      &err),
                     CAIRN_OK);
    char *early = fx_load_dump(fx->store, "EARLY@3");
    assert_int_equal(s_retain(fx->store, 3, 0), 10 - 3);
    fx_assert_steps(fx->store, "RUN", NULL, "10 9 8 3");
    assert_true(s_gc(fx->store) > 0);
    fx_reopen(fx);
    s_assert_verified(fx->store);
    char *dump = fx_load_dump(fx->store, "EARLY@3");
    assert_string_equal(dump, early);
    free(dump);

    /* a fork of a kept checkpoint works and verifies */
    assert_int_equal(cairn_store_fork(fx->store, "RUN@8", "LATE", NULL, id,
                                      &err),
                     CAIRN_OK);
    s_assert_verified(fx->store);
    dump = fx_load_dump(fx->store, "LATE@8");
    char *expected = fx_expect_checkpoint_as(10, 8, false, "paused");
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    /* of a pruned one it fails, saying why */
    assert_int_equal(cairn_store_fork(fx->store, "RUN@5", "NOPE", NULL, id,
                                      &err),
                     CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "'RUN@5' was deleted by retention");
    fx_assert_mentions(&err, "next kept checkpoint of run RUN is RUN@8");
    /* never existed: the plain message */
    assert_int_equal(cairn_store_fork(fx->store, "RUN@50", "NOPE", NULL, id,
                                      &err),
                     CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "unknown checkpoint 'RUN@50'");

    /* exported and imported, the pruned run verifies in the new store */
    FILE *file = tmpfile();
    assert_non_null(file);
    assert_int_equal(cairn_store_export(fx->store, "LATE", file, &err),
                     CAIRN_OK);
    rewind(file);
    cairn_store_t *other = fx_aux_store(fx, "imported");
    assert_int_equal(cairn_store_import(other, file, NULL, id, &err),
                     CAIRN_OK);
    fclose(file);
    s_assert_verified(other);
    char *there = fx_load_dump(other, "RUN@9");
    char *here = fx_load_dump(fx->store, "RUN@9");
    assert_string_equal(there, here);
    free(there);
    free(here);

    /* a checkpoint lost without retention is still damage */
    cairn_store_t *store = fx->store;
    const cairn__backend_ops_t *ops = store->backend->ops;
    cairn__key_t key = {0};
    cairn__key_step(&key, "RUN", 9);
    cairn__batch_t *batch = ops->batch_new(store->backend);
    ops->batch_delete(batch, CAIRN__CF_CHECKPOINTS, key.data, key.len);
    ops->batch_delete(batch, CAIRN__CF_INFLIGHT, key.data, key.len);
    assert_int_equal(ops->batch_commit(store->backend, batch, true, &err),
                     CAIRN_OK);
    ops->batch_free(batch);
    cairn__key_free(&key);
    size_t problems = 0;
    assert_int_equal(cairn_store_verify(store, "RUN", NULL, NULL, &problems,
                                        &err),
                     CAIRN_OK);
    assert_int_equal(problems, 1);

    free(early);
    cairn_result_destroy(&result);
}

/* ---- deleting runs ------------------------------------------------------------- */

static void
test_retention_delete_run(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *parent = NULL;
    cairn_result_t *fork = s_run_parent_and_fork(fx, &parent);
    char *fork_latest = fx_load_dump(fx->store, "F@10");
    char *parent_latest = fx_load_dump(fx->store, "P@10");
    cairn_error_t err;

    /* P has a fork */
    assert_int_equal(cairn_store_delete_run(fx->store, "P", &err),
                     CAIRN_ESTATE);
    fx_assert_mentions(&err, "F");
    char *dump = fx_load_dump(fx->store, "P@10");
    assert_string_equal(dump, parent_latest);
    free(dump);
    assert_int_equal(fx_count(fx->store, "P"), 11);

    assert_int_equal(cairn_store_delete_run(fx->store, "NOPE", &err),
                     CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "NOPE");

    /* F has none */
    assert_int_equal(cairn_store_delete_run(fx->store, "F", &err), CAIRN_OK);
    cairn_run_info_t *run = NULL;
    assert_int_equal(cairn_store_get_run(fx->store, "F", &run, &err),
                     CAIRN_ENOTFOUND);
    assert_null(run);
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    assert_int_equal(cairn_store_list_checkpoints(fx->store, "F", 0, NULL,
                                                  &infos, &count, &err),
                     CAIRN_ENOTFOUND);
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    assert_int_equal(
        cairn_store_get_latest_checkpoint(fx->store, "F", latest, &err),
        CAIRN_ENOTFOUND);
    s_assert_gone(fx->store, "F@10");
    s_assert_gone(fx->store, "F@3");
    cairn_run_info_t *runs = NULL;
    assert_int_equal(cairn_store_list_runs(fx->store, &runs, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, 1);
    assert_string_equal(runs[0].id, "P");
    cairn_run_info_destroy(&runs, count);
    /* P is untouched */
    dump = fx_load_dump(fx->store, "P@10");
    assert_string_equal(dump, parent_latest);
    free(dump);
    dump = fx_load_dump(fx->store, "P@3");
    char *expected = fx_expect_checkpoint(10, 3, true);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);

    /* now P can go */
    assert_int_equal(cairn_store_delete_run(fx->store, "P", &err), CAIRN_OK);
    assert_int_equal(cairn_store_get_run(fx->store, "P", &run, &err),
                     CAIRN_ENOTFOUND);
    s_assert_gone(fx->store, "P@10");
    assert_int_equal(cairn_store_list_runs(fx->store, &runs, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, 0);
    cairn_run_info_destroy(&runs, count);
    assert_int_equal(cairn_store_delete_run(fx->store, "P", &err),
                     CAIRN_ENOTFOUND);
    /* deleting left nothing for gc */
    assert_int_equal(s_gc(fx->store), 0);

    /* a new run under the old id starts clean: in the big variant "a"
     * does not run in superstep 1, so any state of the deleted P at
     * superstep 1 (a/count, counter) would show at P@1 */
    cairn_workflow_t *wf = fx_build(fx_env.registry, "4", FX_BIG);
    cairn_run_options_t opts = fx_options(fx->store, "P");
    cairn_result_t *again = fx_run_opts(fx_env.engine, wf, &opts);
    cairn_checkpoint_t *cp = fx_load(fx->store, "P@1");
    size_t len = 0;
    assert_null(cairn_checkpoint_state(cp, "a", "count", &len));
    assert_null(cairn_checkpoint_state(cp, NULL, "counter", &len));
    assert_int_equal(cairn_checkpoint_output_count(cp), 0);
    assert_string_equal(cairn_checkpoint_info(cp)->parent, "P@0");
    cairn_checkpoint_destroy(&cp);
    run = fx_get_run(fx->store, "P");
    assert_string_equal(run->parent, "");
    cairn_run_info_destroy(&run, 1);
    assert_int_equal(fx_count(fx->store, "P"), 5);

    cairn_result_destroy(&again);
    cairn_workflow_destroy(&wf);
    free(fork_latest);
    free(parent_latest);
    cairn_result_destroy(&fork);
    cairn_result_destroy(&parent);
}

/* ---- read-only stores ------------------------------------------------------------ */

static void
test_retention_read_only_refuses(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "5");
    cairn_store_t *reader = fx_open_dir(fx->dir, true);
    size_t n = 0;
    cairn_error_t err;
    assert_int_equal(cairn_store_retain(reader, 1, 0, &n, &err),
                     CAIRN_ESTATE);
    assert_int_equal(cairn_store_gc(reader, &n, &err), CAIRN_ESTATE);
    assert_int_equal(cairn_store_delete_run(reader, "RUN", &err),
                     CAIRN_ESTATE);
    cairn_store_destroy(&reader);
    assert_int_equal(fx_count(fx->store, "RUN"), 6);
    cairn_result_destroy(&result);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_retention_retain_keep_last, rocksdb),
        FX_TEST(test_retention_retain_keep_last, memory),
        FX_TEST(test_retention_retain_applies_to_every_run, rocksdb),
        FX_TEST(test_retention_retain_applies_to_every_run, memory),
        FX_TEST(test_retention_retain_newest_always_kept, rocksdb),
        FX_TEST(test_retention_retain_newest_always_kept, memory),
        FX_TEST(test_retention_retain_older_than, rocksdb),
        FX_TEST(test_retention_retain_older_than, memory),
        FX_TEST(test_retention_gc_keeps_what_a_fork_reads, rocksdb),
        FX_TEST(test_retention_gc_keeps_what_a_fork_reads, memory),
        FX_TEST(test_retention_resume_after_gc, rocksdb),
        FX_TEST(test_retention_resume_after_gc, memory),
        FX_TEST(test_retention_pruned_lineage, rocksdb),
        FX_TEST(test_retention_pruned_lineage, memory),
        FX_TEST(test_retention_delete_run, rocksdb),
        FX_TEST(test_retention_delete_run, memory),
        FX_TEST(test_retention_read_only_refuses, rocksdb),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
