/* test_store_resume - resuming runs from a cairn store: after the
 * superstep limit (also from a reopened store), events as an
 * uninterrupted run's, completed runs unchanged, older checkpoints and
 * forks, unknown targets, a changed workflow refused, a failure resumed
 * once fixed.
 *
 * Every case that applies to both backends runs twice: on a RocksDB store
 * in a fresh temporary directory and on a memory store (FX_TEST(fn,
 * rocksdb) / FX_TEST(fn, memory)). The workflow is the counter cycle of
 * store_fixture.h.
 */
#include "tests/storage/store_fixture.h"


/* ---- resume ---------------------------------------------------------------------- */

static void
test_store_resume_after_max_supersteps(void **state)
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
test_store_resume_events_match_uninterrupted(void **state)
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
test_store_resume_after_max_supersteps_reopened(void **state)
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
test_store_resume_completed_changes_nothing(void **state)
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
test_store_resume_from_older_forks(void **state)
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
test_store_resume_unknown(void **state)
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
test_store_signature_mismatch(void **state)
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
test_store_failure_then_resume_fixed(void **state)
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_store_resume_after_max_supersteps, rocksdb),
        FX_TEST(test_store_resume_after_max_supersteps, memory),
        FX_TEST(test_store_resume_after_max_supersteps_reopened, rocksdb),
        FX_TEST(test_store_resume_events_match_uninterrupted, rocksdb),
        FX_TEST(test_store_resume_events_match_uninterrupted, memory),
        FX_TEST(test_store_resume_completed_changes_nothing, rocksdb),
        FX_TEST(test_store_resume_completed_changes_nothing, memory),
        FX_TEST(test_store_resume_from_older_forks, rocksdb),
        FX_TEST(test_store_resume_from_older_forks, memory),
        FX_TEST(test_store_resume_unknown, rocksdb),
        FX_TEST(test_store_resume_unknown, memory),
        FX_TEST(test_store_signature_mismatch, rocksdb),
        FX_TEST(test_store_signature_mismatch, memory),
        FX_TEST(test_store_failure_then_resume_fixed, rocksdb),
        FX_TEST(test_store_failure_then_resume_fixed, memory),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
