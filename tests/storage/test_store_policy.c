/* test_store_policy - when cairn stores checkpoints and what they hold:
 * the policies EVERY, EVERY_N, ON_ERROR, MANUAL and a predicate,
 * incremental checkpoints, and loading every superstep's checkpoint.
 *
 * Every case runs twice: on a RocksDB store in a fresh temporary
 * directory and on a memory store (FX_TEST(fn, rocksdb) / FX_TEST(fn,
 * memory)). The workflow is the counter cycle of store_fixture.h, whose
 * state at every superstep is known exactly.
 */
#include "tests/storage/store_fixture.h"


/* ---- policy EVERY ---------------------------------------------------------- */

static void
test_store_every_policy(void **state)
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
test_store_every_n_policy(void **state)
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
test_store_on_error_policy_success(void **state)
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
test_store_on_error_policy_failure(void **state)
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
test_store_manual_policy(void **state)
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
test_store_predicate_policy(void **state)
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
test_store_incremental(void **state)
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
test_store_load_each_superstep(void **state)
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
    assert_int_equal(cairn_store_get_checkpoint(fx->store, "nosuchrun@3", &cp, &err),
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
    assert_int_equal(cairn_store_get_latest_checkpoint(fx->store, "nosuchrun", latest, &err),
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_store_every_policy, rocksdb),
        FX_TEST(test_store_every_policy, memory),
        FX_TEST(test_store_every_n_policy, rocksdb),
        FX_TEST(test_store_every_n_policy, memory),
        FX_TEST(test_store_on_error_policy_success, rocksdb),
        FX_TEST(test_store_on_error_policy_success, memory),
        FX_TEST(test_store_on_error_policy_failure, rocksdb),
        FX_TEST(test_store_on_error_policy_failure, memory),
        FX_TEST(test_store_manual_policy, rocksdb),
        FX_TEST(test_store_manual_policy, memory),
        FX_TEST(test_store_predicate_policy, rocksdb),
        FX_TEST(test_store_predicate_policy, memory),
        FX_TEST(test_store_incremental, rocksdb),
        FX_TEST(test_store_incremental, memory),
        FX_TEST(test_store_load_each_superstep, rocksdb),
        FX_TEST(test_store_load_each_superstep, memory),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
