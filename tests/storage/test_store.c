/* test_store - checkpoints, loading, resume, corruption and locking of
 * cairn stores.
 *
 * Every case that applies to both backends runs twice: on a RocksDB store
 * in a fresh temporary directory and on a memory store (FX_TEST(fn,
 * rocksdb) / FX_TEST(fn, memory)). Cases about files, processes and the
 * on-disk format run on RocksDB only. The workflow is the counter cycle
 * of store_fixture.h, whose state at every superstep is known exactly.
 *
 * The corruption and format cases reach below the public API through
 * storage/store_internal.h (the backend vtable of an open store) to
 * damage stored values the way a disk would.
 */
#include "store_fixture.h"

#include <signal.h>
#include <sys/wait.h>

#include "cairn.pb-c.h"
#include "checkpoint.pb-c.h"
#include "storage/record.h"
#include "storage/store_internal.h"

/* ---- policy EVERY ---------------------------------------------------------- */

static void
test_every_policy(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    fx_events_t events = {0};
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.on_event = fx_on_event;
    opts.event_userdata = &events;
    uint64_t before = fx_now_ms();
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    uint64_t after = fx_now_ms();
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_supersteps(result), 10);
    fx_assert_result(result, fx_expect_result(10));

    /* supersteps + 1 checkpoints: the entry @0 and one per superstep */
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(fx->store, "RUN", 0, NULL,
                                             &count);
    assert_int_equal(count, 11);
    for (size_t i = 0; i < count; i++) {
        uint64_t step = 10 - i; /* newest first */
        char id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(id, sizeof id, "RUN@%" PRIu64, step);
        assert_string_equal(infos[i].id, id);
        assert_string_equal(infos[i].run_id, "RUN");
        assert_int_equal(infos[i].superstep, step);
        assert_string_equal(infos[i].workflow, "cycle");
        assert_int_equal(infos[i].tag_count, 0);
        assert_true(infos[i].size_bytes > 0);
        assert_true(infos[i].timestamp_ms >= before);
        assert_true(infos[i].timestamp_ms <= after);
        if (i + 1 < count)
            assert_true(infos[i].timestamp_ms >= infos[i + 1].timestamp_ms);
        char parent[CAIRN_CHECKPOINT_ID_MAX] = "";
        if (step > 0)
            snprintf(parent, sizeof parent, "RUN@%" PRIu64, step - 1);
        assert_string_equal(infos[i].parent, parent);
        assert_string_equal(infos[i].trigger, step == 0    ? "entry"
                                              : step == 10 ? "end"
                                                           : "policy");
        assert_string_equal(infos[i].status,
                            step == 10 ? "completed" : "running");
        assert_int_equal(infos[i].pending_messages, step == 10 ? 0 : 1);
    }
    cairn_checkpoint_info_destroy(&infos, count);

    /* every barrier checkpoint was announced, in order (the entry
     * checkpoint is written before run_started; announcing it is
     * optional) */
    size_t first = events.count == 11 ? 0 : 1;
    assert_int_equal(events.count + first, 11);
    for (size_t i = 0; i < events.count; i++) {
        char id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(id, sizeof id, "RUN@%zu", i + first);
        assert_string_equal(events.ids[i], id);
    }

    /* limit */
    infos = fx_list(fx->store, "RUN", 3, NULL, &count);
    assert_int_equal(count, 3);
    assert_string_equal(infos[0].id, "RUN@10");
    assert_string_equal(infos[1].id, "RUN@9");
    assert_string_equal(infos[2].id, "RUN@8");
    cairn_checkpoint_info_destroy(&infos, count);
    infos = fx_list(fx->store, "RUN", 100, NULL, &count);
    assert_int_equal(count, 11);
    cairn_checkpoint_info_destroy(&infos, count);
    fx_assert_chain(fx->store, "RUN", "");

    char latest[CAIRN_CHECKPOINT_ID_MAX];
    fx_latest(fx->store, "RUN", latest);
    assert_string_equal(latest, "RUN@10");

    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->id, "RUN");
    assert_string_equal(run->workflow, "cycle");
    assert_string_equal(run->status, "completed");
    assert_string_equal(run->latest_checkpoint, "RUN@10");
    assert_string_equal(run->parent, "");
    assert_string_equal(run->error, "");
    assert_string_equal(run->reason, "");
    assert_int_equal(run->superstep, 10);
    assert_int_equal(run->pid, (int64_t)getpid());
    assert_true(run->created_ms >= before && run->created_ms <= after);
    assert_true(run->updated_ms >= run->created_ms);
    cairn_run_info_destroy(&run, 1);

    /* a second run: list_runs holds both, sorted by id */
    cairn_result_t *other = fx_run_cycle(fx->store, "ANOTHER", "4");
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    cairn_error_t err;
    assert_int_equal(cairn_store_list_runs(fx->store, &runs, &run_count, &err),
                     CAIRN_OK);
    assert_int_equal(run_count, 2);
    assert_string_equal(runs[0].id, "ANOTHER");
    assert_string_equal(runs[1].id, "RUN");
    assert_string_equal(runs[1].status, "completed");
    assert_string_equal(runs[1].latest_checkpoint, "RUN@10");
    assert_string_equal(runs[0].latest_checkpoint, "ANOTHER@4");
    cairn_run_info_destroy(&runs, run_count);
    assert_int_equal(fx_count(fx->store, "RUN"), 11);
    assert_int_equal(fx_count(fx->store, "ANOTHER"), 5);

    /* the first run is still all there after a reopen (RocksDB) */
    fx_reopen(fx);
    assert_int_equal(fx_count(fx->store, "RUN"), 11);
    char *dump = fx_load_dump(fx->store, "RUN@10");
    char *expected = fx_expect_checkpoint(10, 10, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);

    cairn_result_destroy(&other);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* ---- the other policies --------------------------------------------------- */

static void
test_every_n_policy(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.checkpoint.kind = CAIRN_CHECKPOINT_EVERY_N;
    opts.checkpoint.every_n = 3;
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    fx_assert_result(result, fx_expect_result(10));
    fx_assert_steps(fx->store, "RUN", NULL, "10 9 6 3 0");
    fx_assert_triggers(fx->store, "RUN", "end policy policy policy entry");
    fx_assert_chain(fx->store, "RUN", "");
    /* what is stored is still exact */
    for (long k = 0; k <= 9; k += 3) {
        char id[32];
        snprintf(id, sizeof id, "RUN@%ld", k);
        char *dump = fx_load_dump(fx->store, id);
        char *expected = fx_expect_checkpoint(10, k, false);
        assert_string_equal(dump, expected);
        free(dump);
        free(expected);
    }
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

static void
test_on_error_policy_success(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.checkpoint.kind = CAIRN_CHECKPOINT_ON_ERROR;
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    fx_assert_result(result, fx_expect_result(10));
    fx_assert_steps(fx->store, "RUN", NULL, "10 0");
    fx_assert_triggers(fx->store, "RUN", "end entry");
    fx_assert_chain(fx->store, "RUN", "");
    /* the end checkpoint holds everything, though only it was written
     * after the entry */
    char *dump = fx_load_dump(fx->store, "RUN@10");
    char *expected = fx_expect_checkpoint(10, 10, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

static void
test_on_error_policy_failure(void **state)
{
    fx_t *fx = *state;
    /* fails at superstep 4: the failure writes the barrier of 3 */
    cairn_workflow_t *wf = fx_build(fx_env.fail_registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.checkpoint.kind = CAIRN_CHECKPOINT_ON_ERROR;
    cairn_result_t *result = fx_run_opts(fx_env.fail_engine, wf, &opts);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_FAILED);
    fx_assert_steps(fx->store, "RUN", NULL, "3 0");
    fx_assert_triggers(fx->store, "RUN", "error entry");
    /* the barrier of 3, written when 4 failed: status failed, the mail
     * of 4 still in flight */
    char *dump = fx_load_dump(fx->store, "RUN@3");
    char *expected = fx_expect_checkpoint_as(10, 3, false, "failed");
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "failed");
    assert_string_equal(run->latest_checkpoint, "RUN@3");
    cairn_run_info_destroy(&run, 1);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

static void
test_manual_policy(void **state)
{
    fx_t *fx = *state;
    /* handlers ask for a checkpoint tagged FX_TAG at supersteps 4 and 8 */
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10:m4", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.checkpoint.kind = CAIRN_CHECKPOINT_MANUAL;
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    fx_assert_result(result, fx_expect_result(10));
    fx_assert_steps(fx->store, "RUN", NULL, "10 8 4 0");
    fx_assert_triggers(fx->store, "RUN", "end manual manual entry");
    fx_assert_chain(fx->store, "RUN", "");

    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(fx->store, "RUN", 0, FX_TAG,
                                             &count);
    assert_int_equal(count, 2);
    assert_string_equal(infos[0].id, "RUN@8");
    assert_string_equal(infos[1].id, "RUN@4");
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(infos[i].tag_count, 1);
        assert_string_equal(infos[i].tags[0], FX_TAG);
    }
    cairn_checkpoint_info_destroy(&infos, count);
    infos = fx_list(fx->store, "RUN", 1, FX_TAG, &count);
    assert_int_equal(count, 1);
    assert_string_equal(infos[0].id, "RUN@8");
    cairn_checkpoint_info_destroy(&infos, count);
    fx_assert_steps(fx->store, "RUN", "no-such-tag", "");

    /* the manual request also counts under another policy */
    cairn_run_options_t every_n = fx_options(fx->store, "RUN2");
    every_n.checkpoint.kind = CAIRN_CHECKPOINT_EVERY_N;
    every_n.checkpoint.every_n = 3;
    cairn_result_t *second = fx_run_opts(fx_env.engine, wf, &every_n);
    fx_assert_steps(fx->store, "RUN2", NULL, "10 9 8 6 4 3 0");
    fx_assert_steps(fx->store, "RUN2", FX_TAG, "8 4");
    cairn_result_destroy(&second);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

typedef struct {
    uint64_t supersteps[32];
    char executors[32][8];
    size_t pending[32];
    size_t calls;
    bool bad_shape; /* a barrier with executor_count != 1 */
} s_predicate_log_t;

static bool
s_when_b_ran(const cairn_barrier_t *barrier, void *userdata)
{
    s_predicate_log_t *log = userdata;
    bool b_ran = false;
    for (size_t i = 0; i < barrier->executor_count; i++)
        b_ran = b_ran || strcmp(barrier->executors_run[i], "b") == 0;
    if (barrier->executor_count != 1)
        log->bad_shape = true;
    if (log->calls < 32) {
        log->supersteps[log->calls] = barrier->superstep;
        snprintf(log->executors[log->calls], sizeof log->executors[0], "%s",
                 barrier->executor_count ? barrier->executors_run[0] : "");
        log->pending[log->calls] = barrier->pending_messages;
    }
    log->calls++;
    return b_ran;
}

static void
test_predicate_policy(void **state)
{
    fx_t *fx = *state;
    /* limit 9: b runs at even supersteps, the end (9) is a's */
    cairn_workflow_t *wf = fx_build(fx_env.registry, "9", FX_PLAIN);
    s_predicate_log_t log;
    memset(&log, 0, sizeof log);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.checkpoint.kind = CAIRN_CHECKPOINT_PREDICATE;
    opts.checkpoint.predicate = s_when_b_ran;
    opts.checkpoint.predicate_userdata = &log;
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    fx_assert_result(result, fx_expect_result(9));
    fx_assert_steps(fx->store, "RUN", NULL, "9 8 6 4 2 0");
    fx_assert_triggers(fx->store, "RUN",
                       "end policy policy policy policy entry");
    fx_assert_chain(fx->store, "RUN", "");
    /* the predicate saw barriers 1..8 (9 ends the run anyway) */
    assert_false(log.bad_shape);
    assert_true(log.calls >= 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(log.supersteps[i], i + 1);
        assert_string_equal(log.executors[i], (i + 1) % 2 ? "a" : "b");
        assert_int_equal(log.pending[i], 1);
    }
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* ---- incremental checkpoints --------------------------------------------- */

static void
test_incremental(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "8", FX_BIG);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_supersteps(result), 8);

    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(fx->store, "RUN", 0, NULL,
                                             &count);
    assert_int_equal(count, 9);
    uint8_t *blob = fx_blob_new();
    assert_non_null(blob);
    for (size_t i = 0; i < count; i++) {
        uint64_t step = infos[i].superstep;
        assert_int_equal(step, 8 - i);
        if (step == 1)
            /* the barrier that wrote the blob costs the blob */
            assert_true(infos[i].size_bytes >= FX_BLOB_SIZE);
        else if (step >= 2 && infos[i].size_bytes >= 2048)
            fail_msg("checkpoint %s stored %" PRIu64 " bytes; only a "
                     "counter changed since the previous one",
                     infos[i].id, infos[i].size_bytes);

        cairn_checkpoint_t *cp = fx_load(fx->store, infos[i].id);
        size_t len = 0;
        const uint8_t *value = cairn_checkpoint_state(cp, "big", "blob",
                                                      &len);
        if (step == 0) {
            assert_null(value);
        } else {
            assert_non_null(value);
            assert_int_equal(len, FX_BLOB_SIZE);
            assert_memory_equal(value, blob, FX_BLOB_SIZE);
        }
        value = cairn_checkpoint_state(cp, NULL, "counter", &len);
        if (step < 2) {
            assert_null(value);
        } else {
            char expected[32];
            snprintf(expected, sizeof expected, "%" PRIu64, step);
            assert_non_null(value);
            assert_int_equal(len, strlen(expected));
            assert_memory_equal(value, expected, len);
        }
        cairn_checkpoint_destroy(&cp);
    }
    cairn_checkpoint_info_destroy(&infos, count);

    /* the final state too */
    size_t len = 0;
    const uint8_t *value = cairn_result_state(result, "big", "blob", &len);
    assert_int_equal(len, FX_BLOB_SIZE);
    assert_memory_equal(value, blob, FX_BLOB_SIZE);
    free(blob);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
}

/* ---- loading ------------------------------------------------------------------- */

static void
test_load_each_superstep(void **state)
{
    fx_t *fx = *state;
    uint64_t before = fx_now_ms();
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    uint64_t after = fx_now_ms();
    for (long k = 0; k <= 10; k++) {
        char id[32];
        snprintf(id, sizeof id, "RUN@%ld", k);
        cairn_checkpoint_t *cp = fx_load(fx->store, id);
        char *dump = fx_dump_checkpoint(cp);
        char *expected = fx_expect_checkpoint(10, k, false);
        assert_string_equal(dump, expected);
        free(dump);
        free(expected);

        const cairn_checkpoint_info_t *info = cairn_checkpoint_info(cp);
        assert_string_equal(info->id, id);
        assert_string_equal(info->run_id, "RUN");
        assert_int_equal(info->superstep, k);
        char parent[32] = "";
        if (k > 0)
            snprintf(parent, sizeof parent, "RUN@%ld", k - 1);
        assert_string_equal(info->parent, parent);
        assert_string_equal(info->trigger, k == 0    ? "entry"
                                           : k == 10 ? "end"
                                                     : "policy");
        assert_string_equal(info->status, k == 10 ? "completed" : "running");
        assert_string_equal(info->workflow, "cycle");
        assert_int_equal(info->tag_count, 0);
        assert_true(info->size_bytes > 0);
        assert_true(info->timestamp_ms >= before && info->timestamp_ms <= after);
        assert_int_equal(info->pending_messages, k == 10 ? 0 : 1);

        /* point lookups agree with the dump */
        size_t len = 0;
        const uint8_t *value = cairn_checkpoint_state(cp, NULL, "counter",
                                                      &len);
        if (k == 0) {
            assert_null(value);
            assert_int_equal(len, 0);
        } else {
            char text[16];
            snprintf(text, sizeof text, "%ld", k);
            assert_int_equal(len, strlen(text));
            assert_memory_equal(value, text, len);
        }
        assert_null(cairn_checkpoint_state(cp, "nobody", "count", &len));
        assert_null(cairn_checkpoint_state(cp, "a", "nothing", &len));
        assert_null(cairn_checkpoint_output(cp, 99, &len));
        assert_int_equal(len, 0);
        cairn_checkpoint_destroy(&cp);
    }

    cairn_checkpoint_t *cp = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_store_get_checkpoint(fx->store, "RUN@11", &cp, &err),
                     CAIRN_ENOTFOUND);
    assert_null(cp);
    assert_int_equal(err.code, CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "RUN@11");
    assert_int_equal(
        cairn_store_get_checkpoint(fx->store, "nosuchrun@3", &cp, &err),
        CAIRN_ENOTFOUND);
    assert_null(cp);
    fx_assert_mentions(&err, "nosuchrun@3");

    static const char *const malformed[] = {
        "RUN", "RUN@", "RUN@x", "@3", "RUN@3x", "RUN@-1", "bad id@3",
        "RUN@99999999999999999999", "",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        int rc = cairn_store_get_checkpoint(fx->store, malformed[i], &cp, &err);
        if (rc != CAIRN_EINVAL)
            fail_msg("load('%s') = %s, expected CAIRN_EINVAL", malformed[i],
                     cairn_err_name(rc));
        assert_null(cp);
    }

    /* unknown runs elsewhere in the API */
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    assert_int_equal(
        cairn_store_get_latest_checkpoint(fx->store, "nosuchrun", latest, &err),
        CAIRN_ENOTFOUND);
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 7;
    assert_int_equal(cairn_store_list_checkpoints(fx->store, "nosuchrun", 0,
                                                  NULL, &infos, &count, &err),
                     CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "nosuchrun");
    cairn_run_info_t *run = NULL;
    assert_int_equal(cairn_store_get_run(fx->store, "nosuchrun", &run, &err),
                     CAIRN_ENOTFOUND);
    assert_null(run);
    fx_assert_mentions(&err, "nosuchrun");
    cairn_result_destroy(&result);
}

/* ---- resume ---------------------------------------------------------------------- */

static void
test_resume_after_max_supersteps(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "20", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 7;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_status(stopped), CAIRN_STATUS_FAILED);
    assert_int_equal(cairn_result_error(stopped)->code, CAIRN_EMAXSTEPS);
    assert_int_equal(cairn_result_supersteps(stopped), 7);

    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "failed");
    assert_string_equal(run->reason, "max_supersteps");
    assert_string_equal(run->latest_checkpoint, "RUN@7");
    assert_int_equal(run->superstep, 7);
    cairn_run_info_destroy(&run, 1);
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(fx->store, "RUN", 1, NULL,
                                             &count);
    assert_int_equal(count, 1);
    assert_string_equal(infos[0].id, "RUN@7");
    assert_string_equal(infos[0].trigger, "max_supersteps");
    assert_string_equal(infos[0].status, "failed");
    assert_int_equal(infos[0].pending_messages, 1);
    cairn_checkpoint_info_destroy(&infos, count);

    /* resume with a higher limit */
    cairn_run_options_t again = fx_options(fx->store, NULL);
    again.max_supersteps = 50;
    cairn_result_t *resumed = fx_resume_opts(fx_env.engine, wf, "RUN",
                                             &again);
    assert_int_equal(cairn_result_status(resumed), CAIRN_STATUS_COMPLETED);

    /* an uninterrupted run with the high limit, in a separate store */
    cairn_store_t *other = fx_aux_store(fx, "other");
    cairn_run_options_t straight_opts = fx_options(other, "RUN");
    straight_opts.max_supersteps = 50;
    cairn_result_t *straight = fx_run_opts(fx_env.engine, wf,
                                           &straight_opts);
    char *a = fx_dump_result(resumed);
    char *b = fx_dump_result(straight);
    assert_string_equal(a, b);
    free(a);
    free(b);
    fx_assert_result(resumed, fx_expect_result(20));

    /* the run continued in place: one lineage 0..20 */
    assert_int_equal(fx_count(fx->store, "RUN"), 21);
    fx_assert_chain(fx->store, "RUN", "");
    run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "completed");
    assert_string_equal(run->latest_checkpoint, "RUN@20");
    assert_string_equal(run->parent, "");
    cairn_run_info_destroy(&run, 1);
    for (long k = 0; k <= 20; k += 5) {
        char id[32];
        snprintf(id, sizeof id, "RUN@%ld", k);
        char *dump = fx_load_dump(fx->store, id);
        char *expected = fx_expect_checkpoint(20, k, false);
        assert_string_equal(dump, expected);
        free(dump);
        free(expected);
    }
    /* the result names the run it continued */
    assert_string_equal(cairn_result_run_id(resumed), "RUN");

    cairn_result_destroy(&straight);
    cairn_result_destroy(&resumed);
    cairn_result_destroy(&stopped);
    cairn_workflow_destroy(&wf);
}

/* The events of every superstep after the resume point, as text. */
typedef struct {
    uint64_t after; /* record supersteps > after */
    fx_str_t text;
} s_event_log_t;

static void
s_log_event(const cairn_event_t *event, void *userdata)
{
    s_event_log_t *log = userdata;
    if (event->superstep <= log->after
        || event->kind == CAIRN_EVENT_RUN_STARTED)
        return;
    fx_str_add(&log->text, "%s %llu %s %s %llu\n",
               cairn_event_kind_name(event->kind),
               (unsigned long long)event->superstep,
               event->executor ? event->executor : "-",
               event->detail ? event->detail : "-",
               (unsigned long long)event->count);
}

/* The events after the resume point equal an uninterrupted run's. */
static void
test_resume_events_match_uninterrupted(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "12", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 5;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_supersteps(stopped), 5);

    s_event_log_t resumed_log = {.after = 5};
    cairn_run_options_t again = fx_options(fx->store, NULL);
    again.max_supersteps = 100; /* past the limit the run keeps */
    again.on_event = s_log_event;
    again.event_userdata = &resumed_log;
    cairn_result_t *resumed = fx_resume_opts(fx_env.engine, wf, "RUN",
                                             &again);

    s_event_log_t straight_log = {.after = 5};
    cairn_store_t *other = fx_aux_store(fx, "other");
    cairn_run_options_t straight_opts = fx_options(other, "RUN");
    straight_opts.on_event = s_log_event;
    straight_opts.event_userdata = &straight_log;
    cairn_result_t *straight = fx_run_opts(fx_env.engine, wf,
                                           &straight_opts);
    assert_non_null(resumed_log.text.data);
    assert_non_null(strstr(resumed_log.text.data, "superstep_started 6"));
    assert_string_equal(resumed_log.text.data, straight_log.text.data);
    free(resumed_log.text.data);
    free(straight_log.text.data);
    cairn_result_destroy(&stopped);
    cairn_result_destroy(&resumed);
    cairn_result_destroy(&straight);
    cairn_workflow_destroy(&wf);
}

static void
test_resume_after_max_supersteps_reopened(void **state)
{
    /* the same across a close and reopen of the store (a new process) */
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "12", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 5;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_error(stopped)->code, CAIRN_EMAXSTEPS);
    fx_reopen(fx);
    cairn_run_options_t again = fx_options(fx->store, NULL);
    again.max_supersteps = 12; /* the run keeps its limit of 5 otherwise */
    cairn_result_t *resumed = fx_resume_opts(fx_env.engine, wf, "RUN",
                                             &again);
    fx_assert_result(resumed, fx_expect_result(12));
    assert_int_equal(fx_count(fx->store, "RUN"), 13);
    cairn_result_destroy(&resumed);
    cairn_result_destroy(&stopped);
    cairn_workflow_destroy(&wf);
}

static void
test_resume_completed_changes_nothing(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    cairn_result_t *first = fx_run_opts(fx_env.engine, wf, &opts);
    size_t before = fx_count(fx->store, "RUN");
    assert_int_equal(before, 11);
    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    uint64_t updated = run->updated_ms;
    cairn_run_info_destroy(&run, 1);

    cairn_run_options_t again = fx_options(fx->store, NULL);
    cairn_result_t *resumed = fx_resume_opts(fx_env.engine, wf, "RUN",
                                             &again);
    assert_int_equal(cairn_result_status(resumed), CAIRN_STATUS_COMPLETED);
    char first_id[80];
    snprintf(first_id, sizeof first_id, "%s", cairn_result_run_id(resumed));
    const char *note = cairn_result_note(resumed);
    assert_non_null(note);
    if (!strstr(note, "already completed"))
        fail_msg("note \"%s\" does not say already completed", note);
    /* it returns the run's result */
    fx_assert_result(resumed, fx_expect_result(10));

    assert_int_equal(fx_count(fx->store, "RUN"), before);
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    fx_latest(fx->store, "RUN", latest);
    assert_string_equal(latest, "RUN@10");
    run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "completed");
    assert_int_equal(run->updated_ms, updated);
    cairn_run_info_destroy(&run, 1);
    cairn_result_destroy(&resumed);

    /* naming the latest checkpoint is the same as naming the run */
    resumed = fx_resume_opts(fx_env.engine, wf, "RUN@10", &again);
    assert_int_equal(cairn_result_status(resumed), CAIRN_STATUS_COMPLETED);
    fx_assert_result(resumed, fx_expect_result(10));
    assert_int_equal(fx_count(fx->store, "RUN"), before);
    size_t runs = 0;
    cairn_run_info_t *all = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_store_list_runs(fx->store, &all, &runs, &err),
                     CAIRN_OK);
    assert_int_equal(runs, 1);
    cairn_run_info_destroy(&all, runs);
    /* the results name the run */
    assert_string_equal(first_id, "RUN");
    assert_string_equal(cairn_result_run_id(resumed), "RUN");

    cairn_result_destroy(&resumed);
    cairn_result_destroy(&first);
    cairn_workflow_destroy(&wf);
}

static void
test_resume_from_older_forks(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    cairn_result_t *original = fx_run_opts(fx_env.engine, wf, &opts);
    size_t before = fx_count(fx->store, "RUN");
    char *original_at_10 = fx_load_dump(fx->store, "RUN@10");

    cairn_run_options_t again = fx_options(fx->store, NULL);
    cairn_result_t *fork = fx_resume_opts(fx_env.engine, wf, "RUN@3",
                                          &again);
    const char *fork_id = cairn_result_run_id(fork);
    assert_non_null(fork_id);
    assert_string_not_equal(fork_id, "RUN");
    const char *note = cairn_result_note(fork);
    assert_non_null(note);
    if (!strstr(note, "fork"))
        fail_msg("note \"%s\" does not say it forked", note);
    fx_assert_result(fork, fx_expect_result(10));
    char *a = fx_dump_result(fork);
    char *b = fx_dump_result(original);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* the original is untouched */
    assert_int_equal(fx_count(fx->store, "RUN"), before);
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    fx_latest(fx->store, "RUN", latest);
    assert_string_equal(latest, "RUN@10");
    char *dump = fx_load_dump(fx->store, "RUN@10");
    assert_string_equal(dump, original_at_10);
    free(dump);
    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "completed");
    assert_string_equal(run->parent, "");
    cairn_run_info_destroy(&run, 1);

    /* the fork: parent RUN@3, lineage from its fork point, same state */
    run = fx_get_run(fx->store, fork_id);
    assert_string_equal(run->parent, "RUN@3");
    assert_string_equal(run->status, "completed");
    char fork_latest[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(fork_latest, sizeof fork_latest, "%s@10", fork_id);
    assert_string_equal(run->latest_checkpoint, fork_latest);
    cairn_run_info_destroy(&run, 1);
    fx_assert_steps(fx->store, fork_id, NULL, "10 9 8 7 6 5 4 3");
    fx_assert_chain(fx->store, fork_id, "RUN@3");
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(fx->store, fork_id, 0, NULL,
                                             &count);
    assert_string_equal(infos[count - 1].trigger, "fork");
    cairn_checkpoint_info_destroy(&infos, count);
    for (long k = 3; k <= 10; k++) {
        char id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(id, sizeof id, "%s@%ld", fork_id, k);
        dump = fx_load_dump(fx->store, id);
        char *expected = fx_expect_checkpoint(10, k, false);
        assert_string_equal(dump, expected);
        free(dump);
        free(expected);
    }

    /* a fork under a chosen id; an existing id is refused */
    again.run_id = "FORK2";
    cairn_result_t *named = fx_resume_opts(fx_env.engine, wf, "RUN@6",
                                           &again);
    assert_string_equal(cairn_result_run_id(named), "FORK2");
    fx_assert_result(named, fx_expect_result(10));
    run = fx_get_run(fx->store, "FORK2");
    assert_string_equal(run->parent, "RUN@6");
    cairn_run_info_destroy(&run, 1);
    cairn_result_t *refused = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_resume(fx_env.engine, wf, "RUN@5", &again,
                                         &refused, &err),
                     CAIRN_EEXISTS);
    assert_null(refused);
    assert_int_equal(fx_count(fx->store, "FORK2"), 5);

    free(original_at_10);
    cairn_result_destroy(&named);
    cairn_result_destroy(&fork);
    cairn_result_destroy(&original);
    cairn_workflow_destroy(&wf);
}

static void
test_resume_unknown(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_result_t *original = fx_run_cycle(fx->store, "RUN", "10");
    cairn_run_options_t opts = fx_options(fx->store, NULL);
    cairn_result_t *result = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_resume(fx_env.engine, wf, "NOPE", &opts,
                                         &result, &err),
                     CAIRN_ENOTFOUND);
    assert_null(result);
    fx_assert_mentions(&err, "NOPE");
    assert_int_equal(cairn_engine_resume(fx_env.engine, wf, "RUN@42", &opts,
                                         &result, &err),
                     CAIRN_ENOTFOUND);
    assert_null(result);
    fx_assert_mentions(&err, "RUN@42");
    assert_int_equal(cairn_engine_resume(fx_env.engine, wf, "NOPE@1", &opts,
                                         &result, &err),
                     CAIRN_ENOTFOUND);
    assert_null(result);
    fx_assert_mentions(&err, "NOPE@1");
    assert_int_equal(cairn_engine_resume(fx_env.engine, wf, "RUN@x", &opts,
                                         &result, &err),
                     CAIRN_EINVAL);
    assert_null(result);
    /* no store: refused */
    cairn_run_options_t none = fx_options(NULL, NULL);
    assert_int_equal(cairn_engine_resume(fx_env.engine, wf, "RUN", &none,
                                         &result, &err),
                     CAIRN_EINVAL);
    assert_null(result);
    /* nothing was created */
    cairn_run_info_t *runs = NULL;
    size_t count = 0;
    assert_int_equal(cairn_store_list_runs(fx->store, &runs, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, 1);
    cairn_run_info_destroy(&runs, count);
    assert_int_equal(fx_count(fx->store, "RUN"), 11);
    cairn_result_destroy(&original);
    cairn_workflow_destroy(&wf);
}

static void
test_signature_mismatch(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "20", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 5;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_error(stopped)->code, CAIRN_EMAXSTEPS);
    size_t before = fx_count(fx->store, "RUN");

    cairn_run_options_t again = fx_options(fx->store, NULL);
    again.max_supersteps = 100; /* past the limit the run keeps */
    cairn_result_t *result = NULL;
    cairn_error_t err;

    /* one executor more */
    cairn_workflow_t *extra = fx_build(fx_env.registry, "20",
                                       FX_EXTRA_EXECUTOR);
    assert_int_equal(cairn_engine_resume(fx_env.engine, extra, "RUN", &again,
                                         &result, &err),
                     CAIRN_ESIGNATURE);
    assert_null(result);
    fx_assert_mentions(&err, "added:");
    fx_assert_mentions(&err, "executor c ");
    if (strstr(err.message, "removed:"))
        fail_msg("only an executor was added: \"%s\"", err.message);

    /* an edge that got a predicate */
    cairn_workflow_t *edge = fx_build(fx_env.registry, "20",
                                      FX_EDGE_PREDICATE);
    assert_int_equal(cairn_engine_resume(fx_env.engine, edge, "RUN", &again,
                                         &result, &err),
                     CAIRN_ESIGNATURE);
    assert_null(result);
    fx_assert_mentions(&err, "removed:");
    fx_assert_mentions(&err, "added:");
    fx_assert_mentions(&err, "always");

    /* the config of an executor changed */
    cairn_workflow_t *config = fx_build(fx_env.registry, "21", FX_PLAIN);
    assert_int_equal(cairn_engine_resume(fx_env.engine, config, "RUN",
                                         &again, &result, &err),
                     CAIRN_ESIGNATURE);
    assert_null(result);

    /* also when resuming from a checkpoint id */
    assert_int_equal(cairn_engine_resume(fx_env.engine, extra, "RUN@2",
                                         &again, &result, &err),
                     CAIRN_ESIGNATURE);
    assert_null(result);

    /* nothing was written by the refusals */
    assert_int_equal(fx_count(fx->store, "RUN"), before);
    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "failed");
    cairn_run_info_destroy(&run, 1);
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    assert_int_equal(cairn_store_list_runs(fx->store, &runs, &run_count,
                                           &err),
                     CAIRN_OK);
    assert_int_equal(run_count, 1);
    cairn_run_info_destroy(&runs, run_count);

    /* forced: proceeds and ends as an uninterrupted run would */
    again.force_signature = true;
    result = fx_resume_opts(fx_env.engine, edge, "RUN", &again);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    fx_assert_result(result, fx_expect_result(20));
    assert_int_equal(fx_count(fx->store, "RUN"), 21);

    cairn_result_destroy(&result);
    cairn_result_destroy(&stopped);
    cairn_workflow_destroy(&config);
    cairn_workflow_destroy(&edge);
    cairn_workflow_destroy(&extra);
    cairn_workflow_destroy(&wf);
}

static void
test_failure_then_resume_fixed(void **state)
{
    fx_t *fx = *state;
    /* same type name, a handler that fails at superstep 4 */
    cairn_workflow_t *failing = fx_build(fx_env.fail_registry, "10",
                                         FX_PLAIN);
    cairn_workflow_t *fixed = fx_build(fx_env.registry, "10", FX_PLAIN);
    assert_string_equal(cairn_workflow_signature_hex(failing),
                        cairn_workflow_signature_hex(fixed));
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    cairn_result_t *failed = fx_run_opts(fx_env.fail_engine, failing, &opts);
    assert_int_equal(cairn_result_status(failed), CAIRN_STATUS_FAILED);
    const cairn_error_t *why = cairn_result_error(failed);
    assert_int_equal(why->code, CAIRN_EHANDLER);
    fx_assert_mentions(why, "deliberate failure");
    fx_assert_mentions(why, "'b'");

    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "failed");
    if (!strstr(run->error, "deliberate failure at superstep 4"))
        fail_msg("run error \"%s\" lacks the handler's reason", run->error);
    assert_string_equal(run->latest_checkpoint, "RUN@3");
    cairn_run_info_destroy(&run, 1);
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    fx_latest(fx->store, "RUN", latest);
    assert_string_equal(latest, "RUN@3");
    assert_int_equal(fx_count(fx->store, "RUN"), 4);
    /* the failed superstep applied nothing */
    char *dump = fx_load_dump(fx->store, "RUN@3");
    char *expected = fx_expect_checkpoint(10, 3, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);

    /* resumed with the fixed handler: the uninterrupted result */
    fx_reopen(fx);
    cairn_run_options_t again = fx_options(fx->store, NULL);
    cairn_result_t *resumed = fx_resume_opts(fx_env.engine, fixed, "RUN",
                                             &again);
    cairn_store_t *other = fx_aux_store(fx, "other");
    cairn_run_options_t straight_opts = fx_options(other, "RUN");
    cairn_result_t *straight = fx_run_opts(fx_env.engine, fixed,
                                           &straight_opts);
    char *a = fx_dump_result(resumed);
    char *b = fx_dump_result(straight);
    assert_string_equal(a, b);
    free(a);
    free(b);
    fx_assert_result(resumed, fx_expect_result(10));
    run = fx_get_run(fx->store, "RUN");
    assert_string_equal(run->status, "completed");
    assert_string_equal(run->error, "");
    cairn_run_info_destroy(&run, 1);
    assert_int_equal(fx_count(fx->store, "RUN"), 11);
    fx_assert_chain(fx->store, "RUN", "");
    assert_string_equal(cairn_result_run_id(resumed), "RUN");

    cairn_result_destroy(&straight);
    cairn_result_destroy(&resumed);
    cairn_result_destroy(&failed);
    cairn_workflow_destroy(&fixed);
    cairn_workflow_destroy(&failing);
}

/* ---- corruption ---------------------------------------------------------------- */

/* RUN \0 SUPERSTEP(8, big endian) */
static size_t
s_step_key(uint8_t *out, const char *run_id, uint64_t superstep)
{
    size_t n = strlen(run_id) + 1;
    memcpy(out, run_id, n);
    for (int i = 0; i < 8; i++)
        out[n + (size_t)i] = (uint8_t)(superstep >> (56 - 8 * i));
    return n + 8;
}

/* RUN \0 SCOPE \0 NAME \0 ~SUPERSTEP */
static size_t
s_state_key(uint8_t *out, const char *run_id, const char *scope,
            const char *name, uint64_t superstep)
{
    size_t n = 0;
    const char *parts[] = {run_id, scope, name};
    for (size_t p = 0; p < 3; p++) {
        size_t len = strlen(parts[p]) + 1;
        memcpy(out + n, parts[p], len);
        n += len;
    }
    uint64_t inverted = ~superstep;
    for (int i = 0; i < 8; i++)
        out[n + (size_t)i] = (uint8_t)(inverted >> (56 - 8 * i));
    return n + 8;
}

/* Reads a stored value through the store's backend, applies damage and
 * writes it back. */
static void
s_damage(cairn_store_t *store, cairn__cf_t cf, const uint8_t *key,
         size_t key_len, void (*damage)(uint8_t *value, size_t *len))
{
    const cairn__backend_ops_t *ops = store->backend->ops;
    uint8_t *value = NULL;
    size_t len = 0;
    cairn_error_t err;
    int rc = ops->get(store->backend, cf, key, key_len, &value, &len, &err);
    if (rc != CAIRN_OK)
        fail_msg("the value to damage is not there (%s in %s)",
                 cairn_err_name(rc), cairn__cf_names[cf]);
    assert_true(len > CAIRN__RECORD_HEADER);
    damage(value, &len);
    cairn__batch_t *batch = ops->batch_new(store->backend);
    assert_non_null(batch);
    ops->batch_put(batch, cf, key, key_len, value, len);
    assert_int_equal(ops->batch_commit(store->backend, batch, true, &err),
                     CAIRN_OK);
    ops->batch_free(batch);
    free(value);
}

static void
s_flip_payload(uint8_t *value, size_t *len)
{
    for (size_t i = CAIRN__RECORD_HEADER; i < *len && i < 24; i++)
        value[i] ^= 0x5a;
}

static void
s_flip_last_byte(uint8_t *value, size_t *len)
{
    value[*len - 1] ^= 0x01;
}

static void
s_truncate(uint8_t *value, size_t *len)
{
    (void)value;
    *len = 3;
}

static void
test_corrupt_manifest(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    char *good_9 = fx_load_dump(fx->store, "RUN@9");
    fx_reopen(fx);

    uint8_t key[128];
    size_t key_len = s_step_key(key, "RUN", 10);
    s_damage(fx->store, CAIRN__CF_CHECKPOINTS, key, key_len, s_flip_payload);

    cairn_checkpoint_t *cp = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_store_get_checkpoint(fx->store, "RUN@10", &cp, &err),
                     CAIRN_ECORRUPT);
    assert_null(cp);
    fx_assert_mentions(&err, "RUN@10");
    /* the previous checkpoint still loads, unchanged */
    char *dump = fx_load_dump(fx->store, "RUN@9");
    assert_string_equal(dump, good_9);
    free(dump);
    /* listing decodes manifests: the damage is reported, not skipped */
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    assert_int_equal(cairn_store_list_checkpoints(fx->store, "RUN", 0, NULL,
                                                  &infos, &count, &err),
                     CAIRN_ECORRUPT);
    fx_assert_mentions(&err, "RUN@10");

    /* a torn (short) manifest too */
    key_len = s_step_key(key, "RUN", 8);
    s_damage(fx->store, CAIRN__CF_CHECKPOINTS, key, key_len, s_truncate);
    assert_int_equal(cairn_store_get_checkpoint(fx->store, "RUN@8", &cp, &err),
                     CAIRN_ECORRUPT);
    fx_assert_mentions(&err, "RUN@8");
    dump = fx_load_dump(fx->store, "RUN@9");
    assert_string_equal(dump, good_9);
    free(dump);

    /* resuming from the damaged checkpoint fails cleanly */
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, NULL);
    cairn_result_t *resumed = NULL;
    assert_int_equal(cairn_engine_resume(fx_env.engine, wf, "RUN", &opts,
                                         &resumed, &err),
                     CAIRN_ECORRUPT);
    assert_null(resumed);

    free(good_9);
    cairn_workflow_destroy(&wf);
    cairn_result_destroy(&result);
}

/* verify reports nothing on a sound store, and a damaged state version
 * once, naming the checkpoints that read it (and only those). */
typedef struct {
    size_t count;
    char first[256];
} s_problems_t;

static void
s_note_problem(const char *run_id, const char *checkpoint,
               const char *problem, void *userdata)
{
    (void)run_id;
    s_problems_t *problems = userdata;
    if (problems->count++ == 0)
        snprintf(problems->first, sizeof problems->first, "%s: %s",
                 checkpoint ? checkpoint : "-", problem);
}

static void
test_verify_reports_damage(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    cairn_result_t *other = fx_run_cycle(fx->store, "OTHER", "4");
    fx_reopen(fx);
    s_problems_t problems = {0};
    size_t count = 99;
    cairn_error_t err;
    assert_int_equal(cairn_store_verify(fx->store, NULL, s_note_problem,
                                        &problems, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, 0);
    assert_int_equal(problems.count, 0);

    /* a's "count" written at superstep 9 is read by RUN@9 and RUN@10 */
    uint8_t key[128];
    size_t key_len = s_state_key(key, "RUN", "a", "count", 9);
    s_damage(fx->store, CAIRN__CF_STATE, key, key_len, s_flip_last_byte);
    assert_int_equal(cairn_store_verify(fx->store, NULL, s_note_problem,
                                        &problems, &count, &err),
                     CAIRN_OK);
    /* reported once, naming the value and the checkpoints that read it */
    assert_int_equal(count, 1);
    if (!strstr(problems.first, "RUN@9: state value 'count' of executor a")
        || !strstr(problems.first, "read by RUN@9..RUN@10"))
        fail_msg("problem \"%s\" does not name the value and its readers",
                 problems.first);
    /* the other run is sound */
    problems.count = 0;
    assert_int_equal(cairn_store_verify(fx->store, "OTHER", s_note_problem,
                                        &problems, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, 0);
    assert_int_equal(cairn_store_verify(fx->store, "NOPE", NULL, NULL, &count,
                                        &err),
                     CAIRN_ENOTFOUND);
    cairn_result_destroy(&result);
    cairn_result_destroy(&other);
}

static void
test_corrupt_state_value(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    fx_reopen(fx);

    /* a's "count" was last written at superstep 9 (a runs at odd ones):
     * RUN@9 and RUN@10 resolve to that version, RUN@8 to the one of 7 */
    uint8_t key[128];
    size_t key_len = s_state_key(key, "RUN", "a", "count", 9);
    s_damage(fx->store, CAIRN__CF_STATE, key, key_len, s_flip_last_byte);

    cairn_checkpoint_t *cp = NULL;
    cairn_error_t err;
    for (int k = 9; k <= 10; k++) {
        char id[32];
        snprintf(id, sizeof id, "RUN@%d", k);
        int rc = cairn_store_get_checkpoint(fx->store, id, &cp, &err);
        if (rc != CAIRN_ECORRUPT)
            fail_msg("load(%s) = %s, expected CAIRN_ECORRUPT", id,
                     cairn_err_name(rc));
        assert_null(cp);
        fx_assert_mentions(&err, "count");
    }
    char *dump = fx_load_dump(fx->store, "RUN@8");
    char *expected = fx_expect_checkpoint(10, 8, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);

    /* shared state as well: "phase" has one version (superstep 2) */
    key_len = s_state_key(key, "RUN", "", "phase", 2);
    s_damage(fx->store, CAIRN__CF_STATE, key, key_len, s_flip_payload);
    assert_int_equal(cairn_store_get_checkpoint(fx->store, "RUN@5", &cp, &err),
                     CAIRN_ECORRUPT);
    fx_assert_mentions(&err, "phase");
    /* before the version existed nothing reads it */
    dump = fx_load_dump(fx->store, "RUN@1");
    expected = fx_expect_checkpoint(10, 1, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    cairn_result_destroy(&result);
}

/* ---- locking and read-only access ------------------------------------------- */

static void
test_lock_same_process(void **state)
{
    fx_t *fx = *state;
    cairn_store_t *second = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_store_open(&second, fx->dir, NULL, &err),
                     CAIRN_ELOCKED);
    assert_null(second);
    char pid[64];
    snprintf(pid, sizeof pid, "in use by pid %ld", (long)getpid());
    fx_assert_mentions(&err, pid);
    fx_assert_mentions(&err, fx->dir);
    /* the refused open did not disturb the holder */
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "4");
    assert_int_equal(fx_count(fx->store, "RUN"), 5);
    /* released on close: the next writer gets in */
    cairn_store_destroy(&fx->store);
    fx->store = fx_open_dir(fx->dir, false);
    assert_int_equal(fx_count(fx->store, "RUN"), 5);
    cairn_result_destroy(&result);
}

/* Waits for pid; returns its exit status or fails the test on a signal. */
static int
s_wait_exit(pid_t pid)
{
    int status = 0;
    pid_t got;
    do
        got = waitpid(pid, &status, 0);
    while (got < 0 && errno == EINTR);
    assert_int_equal(got, pid);
    if (!WIFEXITED(status))
        fail_msg("child %ld died of signal %d", (long)pid,
                 WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return WEXITSTATUS(status);
}

static void
s_read_all(int fd, char *out, size_t size)
{
    size_t used = 0;
    ssize_t n;
    while (used + 1 < size
           && (n = read(fd, out + used, size - 1 - used)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        used += (size_t)n;
    }
    out[used] = '\0';
}

/* Starts this test binary again as a helper process (see main): a fresh
 * process, not a fork of one that has RocksDB open. *to_child and
 * *from_child are its stdin and stdout. */
static pid_t
s_spawn_helper(const char *mode, const char *dir, int *to_child,
               int *from_child)
{
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl("/proc/self/exe", "test_store", mode, dir, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *to_child = in[1];
    *from_child = out[0];
    return pid;
}

static void
test_lock_child_process(void **state)
{
    fx_t *fx = *state;
    char expected[64];
    snprintf(expected, sizeof expected, "in use by pid %ld", (long)getpid());

    /* Another process is refused. It is exec'd: a plain fork() of this
     * multithreaded process (engine and RocksDB threads) may not call
     * into RocksDB before exec. */
    char message[600];
    int to_child, from_child;
    pid_t pid =
        s_spawn_helper("--open-store", fx->dir, &to_child, &from_child);
    close(to_child);
    s_read_all(from_child, message, sizeof message);
    close(from_child);
    int code = s_wait_exit(pid);
    if (code != -CAIRN_ELOCKED)
        fail_msg("other process's open returned %s (\"%s\"), expected "
                 "CAIRN_ELOCKED",
                 cairn_err_name(-code), message);
    if (!strstr(message, expected))
        fail_msg("other process's message \"%s\" lacks \"%s\"", message,
                 expected);

    /* still ours */
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "3");
    assert_int_equal(fx_count(fx->store, "RUN"), 4);
    cairn_result_destroy(&result);
}

static void
test_lock_held_by_child(void **state)
{
    /* the other way round: another process writes, we are refused,
     * naming it; reading works meanwhile */
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "4");
    cairn_result_destroy(&result);
    cairn_store_destroy(&fx->store);
    int to_child, from_child;
    pid_t pid = s_spawn_helper("--hold-store", fx->dir, &to_child,
                               &from_child);
    char ready[600];
    s_read_all(from_child, ready, 2);
    close(from_child);

    cairn_store_t *second = NULL;
    cairn_error_t err;
    int rc = ready[0] == 'y' ? cairn_store_open(&second, fx->dir, NULL, &err)
                             : CAIRN_OK;
    cairn_store_options_t ro = {CAIRN_DURABILITY_PROCESS, true};
    cairn_store_t *reader = NULL;
    cairn_error_t reader_err;
    int reader_rc = cairn_store_open(&reader, fx->dir, &ro, &reader_err);
    size_t visible = reader_rc == CAIRN_OK ? fx_count(reader, "RUN") : 0;
    cairn_store_destroy(&reader);
    close(to_child); /* lets the helper go */
    assert_int_equal(s_wait_exit(pid), 0);
    assert_int_equal(ready[0], 'y');

    char expected[64];
    snprintf(expected, sizeof expected, "in use by pid %ld", (long)pid);
    assert_int_equal(rc, CAIRN_ELOCKED);
    assert_null(second);
    fx_assert_mentions(&err, expected);
    if (reader_rc != CAIRN_OK)
        fail_msg("read-only open beside another writer: %s: %s",
                 cairn_err_name(reader_rc), reader_err.message);
    assert_int_equal(visible, 5);
    /* the helper is gone: we can write again */
    fx->store = fx_open_dir(fx->dir, false);
    assert_int_equal(fx_count(fx->store, "RUN"), 5);
}

static void
test_read_only_beside_writer(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *first = fx_run_cycle(fx->store, "RUN", "6");
    cairn_store_t *reader = fx_open_dir(fx->dir, true);

    /* the reader sees what was there */
    assert_int_equal(fx_count(reader, "RUN"), 7);
    char *dump = fx_load_dump(reader, "RUN@6");
    char *expected = fx_expect_checkpoint(6, 6, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    cairn_run_info_t *run = fx_get_run(reader, "RUN");
    assert_string_equal(run->status, "completed");
    cairn_run_info_destroy(&run, 1);

    cairn_error_t err;

    /* the writer commits more; after refresh the reader sees it */
    cairn_result_t *second = fx_run_cycle(fx->store, "LATER", "5");
    assert_int_equal(cairn_store_refresh(reader, &err), CAIRN_OK);
    assert_int_equal(fx_count(reader, "LATER"), 6);
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    fx_latest(reader, "LATER", latest);
    assert_string_equal(latest, "LATER@5");
    dump = fx_load_dump(reader, "LATER@5");
    expected = fx_expect_checkpoint(5, 5, false);
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    cairn_run_info_t *runs = NULL;
    size_t count = 0;
    assert_int_equal(cairn_store_list_runs(reader, &runs, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, 2);
    cairn_run_info_destroy(&runs, count);
    /* the reader's presence does not stop the writer */
    assert_int_equal(fx_count(fx->store, "LATER"), 6);
    /* nor does a reader take the write lock: two readers at once */
    cairn_store_t *reader2 = fx_open_dir(fx->dir, true);
    assert_int_equal(fx_count(reader2, "RUN"), 7);
    cairn_store_destroy(&reader2);
    cairn_store_destroy(&reader);
    cairn_result_destroy(&second);
    cairn_result_destroy(&first);
}

static void
test_read_only_missing_dir(void **state)
{
    fx_t *fx = *state;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-store", fx->tmp);
    cairn_store_options_t ro = {CAIRN_DURABILITY_PROCESS, true};
    cairn_store_t *store = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_store_open(&store, missing, &ro, &err),
                     CAIRN_ENOTFOUND);
    assert_null(store);
    fx_assert_mentions(&err, missing);
    /* and it was not created */
    struct stat st;
    assert_int_not_equal(stat(missing, &st), 0);
    /* an empty directory is no store either */
    assert_int_equal(mkdir(missing, 0755), 0);
    int rc = cairn_store_open(&store, missing, &ro, &err);
    if (rc != CAIRN_ENOTFOUND)
        fail_msg("read-only open of an empty dir = %s (%s), expected "
                 "CAIRN_ENOTFOUND",
                 cairn_err_name(rc), err.message);
    assert_null(store);
}

static void
test_newer_format(void **state)
{
    fx_t *fx = *state;
    Cairn__StoreMeta meta = CAIRN__STORE_META__INIT;
    meta.format = CAIRN__STORE_FORMAT + 1;
    meta.created_by = "cairn from the future";
    size_t len = 0;
    uint8_t *value = cairn__record_pack(&meta.base, &len);
    assert_non_null(value);
    const cairn__backend_ops_t *ops = fx->store->backend->ops;
    cairn__batch_t *batch = ops->batch_new(fx->store->backend);
    ops->batch_put(batch, CAIRN__CF_META, (const uint8_t *)"format", 6, value,
                   len);
    cairn_error_t err;
    assert_int_equal(ops->batch_commit(fx->store->backend, batch, true, &err),
                     CAIRN_OK);
    ops->batch_free(batch);
    free(value);
    cairn_store_destroy(&fx->store);

    cairn_store_t *store = NULL;
    assert_int_equal(cairn_store_open(&store, fx->dir, NULL, &err),
                     CAIRN_EFORMAT);
    assert_null(store);
    char format[32];
    snprintf(format, sizeof format, "format %d", CAIRN__STORE_FORMAT + 1);
    fx_assert_mentions(&err, format);
    cairn_store_options_t ro = {CAIRN_DURABILITY_PROCESS, true};
    assert_int_equal(cairn_store_open(&store, fx->dir, &ro, &err),
                     CAIRN_EFORMAT);
    assert_null(store);
    /* the refused writer left no pid file behind, and took no lock */
    char pid_path[200];
    snprintf(pid_path, sizeof pid_path, "%s/cairn.pid", fx->dir);
    struct stat st;
    assert_int_not_equal(stat(pid_path, &st), 0);
}

static void
test_store_basics(void **state)
{
    fx_t *fx = *state;
    cairn_durability_t durability;
    assert_int_equal(cairn_durability_parse("machine", &durability),
                     CAIRN_OK);
    assert_int_equal(durability, CAIRN_DURABILITY_MACHINE);
    assert_int_equal(cairn_durability_parse("disk", &durability),
                     CAIRN_EINVAL);
    assert_string_equal(cairn_durability_name(CAIRN_DURABILITY_PROCESS),
                        "process");
    assert_int_equal(cairn_store_durability(fx->store),
                     fx->backend->kind == FX_ROCKSDB
                         ? CAIRN_DURABILITY_PROCESS
                         : CAIRN_DURABILITY_NONE);
    /* an empty store has no runs */
    cairn_run_info_t *runs = NULL;
    size_t count = 9;
    cairn_error_t err;
    assert_int_equal(cairn_store_list_runs(fx->store, &runs, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, 0);
    cairn_run_info_destroy(&runs, count);
    if (fx->backend->kind == FX_ROCKSDB) {
        /* a machine-durability store works the same */
        cairn_store_destroy(&fx->store);
        cairn_store_options_t opts = {CAIRN_DURABILITY_MACHINE, false};
        assert_int_equal(cairn_store_open(&fx->store, fx->dir, &opts, &err),
                         CAIRN_OK);
        assert_int_equal(cairn_store_durability(fx->store),
                         CAIRN_DURABILITY_MACHINE);
        cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "3");
        assert_int_equal(fx_count(fx->store, "RUN"), 4);
        cairn_result_destroy(&result);
        cairn_store_t *bad = NULL;
        assert_int_equal(cairn_store_open(&bad, "", NULL, &err),
                         CAIRN_EINVAL);
        assert_null(bad);
    }
    cairn_store_destroy(&fx->store);
    cairn_store_destroy(&fx->store); /* NULL is fine */
}

/* Helper modes, run by s_spawn_helper in a fresh process:
 *   --open-store DIR  opens DIR for writing, prints the error message,
 *                     exits with -rc (0 when it opened)
 *   --hold-store DIR  opens DIR for writing, prints "y" (or "n"), holds
 *                     it until stdin closes, exits 0 (1 if not opened) */
static int
s_helper(const char *mode, const char *dir)
{
    alarm(60); /* never outlive a broken parent */
    cairn_store_t *store = NULL;
    cairn_error_t err;
    cairn_error_clear(&err);
    int rc = cairn_store_open(&store, dir, NULL, &err);
    if (strcmp(mode, "--open-store") == 0) {
        fputs(err.message, stdout);
        fflush(stdout);
        cairn_store_destroy(&store);
        return -rc;
    }
    fputs(rc == CAIRN_OK ? "y" : "n", stdout);
    fflush(stdout);
    char byte;
    while (read(0, &byte, 1) > 0)
        ;
    cairn_store_destroy(&store);
    return rc == CAIRN_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strncmp(argv[1], "--", 2) == 0)
        return s_helper(argv[1], argv[2]);
    const struct CMUnitTest tests[] = {
        FX_TEST(test_store_basics, rocksdb),
        FX_TEST(test_store_basics, memory),
        FX_TEST(test_every_policy, rocksdb),
        FX_TEST(test_every_policy, memory),
        FX_TEST(test_every_n_policy, rocksdb),
        FX_TEST(test_every_n_policy, memory),
        FX_TEST(test_on_error_policy_success, rocksdb),
        FX_TEST(test_on_error_policy_success, memory),
        FX_TEST(test_on_error_policy_failure, rocksdb),
        FX_TEST(test_on_error_policy_failure, memory),
        FX_TEST(test_manual_policy, rocksdb),
        FX_TEST(test_manual_policy, memory),
        FX_TEST(test_predicate_policy, rocksdb),
        FX_TEST(test_predicate_policy, memory),
        FX_TEST(test_incremental, rocksdb),
        FX_TEST(test_incremental, memory),
        FX_TEST(test_load_each_superstep, rocksdb),
        FX_TEST(test_load_each_superstep, memory),
        FX_TEST(test_resume_after_max_supersteps, rocksdb),
        FX_TEST(test_resume_after_max_supersteps, memory),
        FX_TEST(test_resume_after_max_supersteps_reopened, rocksdb),
        FX_TEST(test_resume_events_match_uninterrupted, rocksdb),
        FX_TEST(test_resume_events_match_uninterrupted, memory),
        FX_TEST(test_resume_completed_changes_nothing, rocksdb),
        FX_TEST(test_resume_completed_changes_nothing, memory),
        FX_TEST(test_resume_from_older_forks, rocksdb),
        FX_TEST(test_resume_from_older_forks, memory),
        FX_TEST(test_resume_unknown, rocksdb),
        FX_TEST(test_resume_unknown, memory),
        FX_TEST(test_signature_mismatch, rocksdb),
        FX_TEST(test_signature_mismatch, memory),
        FX_TEST(test_failure_then_resume_fixed, rocksdb),
        FX_TEST(test_failure_then_resume_fixed, memory),
        FX_TEST(test_corrupt_manifest, rocksdb),
        FX_TEST(test_corrupt_manifest, memory),
        FX_TEST(test_corrupt_state_value, rocksdb),
        FX_TEST(test_verify_reports_damage, rocksdb),
        FX_TEST(test_verify_reports_damage, memory),
        FX_TEST(test_corrupt_state_value, memory),
        FX_TEST(test_lock_same_process, rocksdb),
        FX_TEST(test_lock_child_process, rocksdb),
        FX_TEST(test_lock_held_by_child, rocksdb),
        FX_TEST(test_read_only_beside_writer, rocksdb),
        FX_TEST(test_read_only_missing_dir, rocksdb),
        FX_TEST(test_newer_format, rocksdb),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
