/* test_run_record.c - what a store keeps with a run, and that a run id
 * names one run: a second start under a taken id is refused before it
 * writes anything, from any number of threads at once (docs/storage.md,
 * "Run records"). Uses the counter cycle of store_fixture.h.
 */
#include <pthread.h>

#include "store_fixture.h"


/* Starts wf under run_id; returns what cairn_engine_run returned. */
static int
s_start(cairn_engine_t *engine, cairn_store_t *store, const char *run_id,
        uint64_t max_supersteps, cairn_error_t *err)
{
    cairn_workflow_t *wf = fx_build(fx_env.registry, "6", FX_PLAIN);
    cairn_run_options_t opts = fx_options(store, run_id);
    opts.max_supersteps = max_supersteps;
    cairn_result_t *result = NULL;
    int rc = cairn_engine_run(engine, wf, "0", 1, &opts, &result, err);
    if (rc != CAIRN_OK)
        assert_null(result);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
    return rc;
}

/* A second run under a run id that exists is CAIRN_EEXISTS and writes
 * nothing: the first run's checkpoints and record stay as they were. */
static void
test_run_record_run_id_taken(void **state)
{
    fx_t *fx = *state;
    cairn_error_t err;
    assert_int_equal(s_start(fx_env.engine, fx->store, "RUN", 0, &err),
                     CAIRN_OK);
    size_t before = fx_count(fx->store, "RUN");
    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    uint64_t updated = run->updated_ms;
    cairn_run_info_destroy(&run, 1);

    /* the same workflow or another one: both refused */
    assert_int_equal(s_start(fx_env.engine, fx->store, "RUN", 0, &err),
                     CAIRN_EEXISTS);
    assert_string_equal(err.message,
                        "run RUN exists; resume it or choose another id");
    assert_int_equal(s_start(fx_env.engine, fx->store, "RUN", 3, &err),
                     CAIRN_EEXISTS);
    assert_int_equal(fx_count(fx->store, "RUN"), before);
    run = fx_get_run(fx->store, "RUN");
    assert_int_equal(run->updated_ms, updated);
    assert_string_equal(run->status, "completed");
    assert_int_equal(run->superstep, 6);
    cairn_run_info_destroy(&run, 1);
}

/* ---- many threads, one id ---------------------------------------------- */

#define S_RACERS 4

typedef struct {
    cairn_store_t *store;      /* this thread's handle (cairn_store_share) */
    pthread_barrier_t *go;     /* every racer starts at once */
    int rc;
    cairn_error_t err;
} s_racer_t;

static void *
s_race(void *arg)
{
    s_racer_t *racer = arg;
    cairn_engine_t *engine = NULL;
    cairn_engine_options_t opts = {.host_threads = 1};
    racer->rc = cairn_engine_open(&engine, fx_env.registry, &opts,
                                  &racer->err);
    pthread_barrier_wait(racer->go);
    if (racer->rc == CAIRN_OK) {
        cairn_workflow_t *wf = fx_build(fx_env.registry, "6", FX_PLAIN);
        cairn_run_options_t run_opts = fx_options(racer->store, "SAME");
        cairn_result_t *result = NULL;
        racer->rc = cairn_engine_run(engine, wf, "0", 1, &run_opts, &result,
                                     &racer->err);
        cairn_result_destroy(&result);
        cairn_workflow_destroy(&wf);
    }
    cairn_engine_destroy(&engine);
    return NULL;
}

/* Threads of one process sharing a store (what `cairn recover` and the C
 * API do) start the same run id at once: exactly one run is made, and
 * its lineage is that of one run alone. */
static void
test_run_record_run_id_race(void **state)
{
    fx_t *fx = *state;
    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, S_RACERS), 0);
    s_racer_t racers[S_RACERS];
    pthread_t threads[S_RACERS];
    for (size_t i = 0; i < S_RACERS; i++) {
        racers[i] = (s_racer_t){.go = &go};
        assert_int_equal(cairn_store_share(&racers[i].store, fx->store,
                                           &racers[i].err),
                         CAIRN_OK);
        assert_int_equal(pthread_create(&threads[i], NULL, s_race,
                                        &racers[i]),
                         0);
    }
    size_t made = 0, refused = 0;
    for (size_t i = 0; i < S_RACERS; i++) {
        pthread_join(threads[i], NULL);
        cairn_store_destroy(&racers[i].store);
        made += racers[i].rc == CAIRN_OK;
        if (racers[i].rc == CAIRN_EEXISTS) {
            refused++;
            fx_assert_mentions(&racers[i].err, "run SAME exists");
        } else if (racers[i].rc != CAIRN_OK) {
            fail_msg("racer %zu: %s: %s", i, cairn_err_name(racers[i].rc),
                     racers[i].err.message);
        }
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(made, 1);
    assert_int_equal(refused, S_RACERS - 1);
    assert_int_equal(fx_count(fx->store, "SAME"), 7); /* 0..6, once */
    fx_assert_chain(fx->store, "SAME", "");
}

/* ---- the superstep limit belongs to the run ------------------------------ */

static uint64_t
s_resume(cairn_store_t *store, uint64_t max_supersteps, int *code)
{
    cairn_workflow_t *wf = fx_build(fx_env.registry, "20", FX_PLAIN);
    cairn_run_options_t opts = fx_options(store, NULL);
    opts.max_supersteps = max_supersteps;
    cairn_result_t *result = fx_resume_opts(fx_env.engine, wf, "RUN", &opts);
    *code = cairn_result_error(result)->code;
    uint64_t steps = cairn_result_supersteps(result);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
    return steps;
}

/* A run stopped at its limit stays within it when resumed without a new
 * one; a new limit is kept for the resumes after it. */
static void
test_run_record_max_supersteps_kept(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "20", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 5;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_error(stopped)->code, CAIRN_EMAXSTEPS);
    cairn_result_destroy(&stopped);
    cairn_workflow_destroy(&wf);
    cairn_run_info_t *run = fx_get_run(fx->store, "RUN");
    assert_int_equal(run->max_supersteps, 5);
    assert_string_equal(run->checkpoint_policy, "every");
    cairn_run_info_destroy(&run, 1);

    int code;
    assert_int_equal(s_resume(fx->store, 0, &code), 5);
    assert_int_equal(code, CAIRN_EMAXSTEPS);
    assert_int_equal(s_resume(fx->store, 9, &code), 9);
    assert_int_equal(code, CAIRN_EMAXSTEPS);
    run = fx_get_run(fx->store, "RUN");
    assert_int_equal(run->max_supersteps, 9);
    cairn_run_info_destroy(&run, 1);
    assert_int_equal(s_resume(fx->store, 0, &code), 9);
    assert_int_equal(code, CAIRN_EMAXSTEPS);
    assert_int_equal(s_resume(fx->store, 50, &code), 20);
    assert_int_equal(code, CAIRN_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_run_record_run_id_taken, rocksdb),
        FX_TEST(test_run_record_run_id_taken, memory),
        FX_TEST(test_run_record_run_id_race, rocksdb),
        FX_TEST(test_run_record_max_supersteps_kept, rocksdb),
        FX_TEST(test_run_record_max_supersteps_kept, memory),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
