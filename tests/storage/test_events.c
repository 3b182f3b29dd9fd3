/* test_events - a run's stored events through the engine and the store
 * API (cairn_store_foreach_event, verify), on both backends.
 *
 * The counter cycle of store_fixture.h emits a known number of events;
 * the run's callback sees every event with its seq, and the store must
 * give back exactly those it keeps: all of them, or the newest N.
 */
#include "store_fixture.h"

#include "base/util.h"
#include "storage/backend.h"
#include "storage/store_internal.h"

#define S_MAX 2048

typedef struct {
    uint64_t seq[S_MAX];
    cairn_event_kind_t kind[S_MAX];
    uint64_t superstep[S_MAX];
    size_t count;
} s_seen_t;

static void
s_collect(const cairn_event_t *event, void *userdata)
{
    s_seen_t *seen = userdata;
    if (seen->count < S_MAX) {
        seen->seq[seen->count] = event->seq;
        seen->kind[seen->count] = event->kind;
        seen->superstep[seen->count] = event->superstep;
    }
    seen->count++;
}

/* Runs the cycle to limit with keep_events and policy, collecting every
 * event the callback sees into live. */
static void
s_run(fx_t *fx, const char *run_id, const char *limit, size_t keep,
      cairn_checkpoint_kind_t policy, s_seen_t *live)
{
    cairn_workflow_t *wf = fx_build(fx_env.registry, limit, FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, run_id);
    opts.keep_events = keep;
    opts.checkpoint.kind = policy;
    opts.on_event = s_collect;
    opts.event_userdata = live;
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
    assert_true(live->count < S_MAX);
}

static void
s_replay(fx_t *fx, const char *run_id, uint64_t after, s_seen_t *stored)
{
    memset(stored, 0, sizeof *stored);
    cairn_error_t err;
    int rc = cairn_store_foreach_event(fx->store, run_id, after, s_collect,
                                       stored, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_store_foreach_event = %s: %s", cairn_err_name(rc),
                 err.message);
}

/* stored is exactly the last n of live. */
static void
s_assert_tail(const s_seen_t *live, const s_seen_t *stored, size_t n)
{
    assert_int_equal(stored->count, n);
    size_t skip = live->count - n;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(stored->seq[i], live->seq[skip + i]);
        assert_int_equal(stored->kind[i], live->kind[skip + i]);
        assert_int_equal(stored->superstep[i], live->superstep[skip + i]);
    }
}

static size_t
s_problems(fx_t *fx, const char *run_id)
{
    size_t problems = 0;
    cairn_error_t err;
    assert_int_equal(
        cairn_store_verify(fx->store, run_id, NULL, NULL, &problems, &err),
        CAIRN_OK);
    return problems;
}

static size_t
s_blocks(fx_t *fx)
{
    const cairn__backend_ops_t *ops = fx->store->backend->ops;
    cairn__iter_t *it = ops->iter_new(fx->store->backend, CAIRN__CF_EVENTS);
    size_t n = 0;
    for (ops->iter_seek(it, (const uint8_t *)"", 0); ops->iter_valid(it);
         ops->iter_next(it))
        n++;
    ops->iter_free(it);
    return n;
}

static void
test_events_all_stored(void **state)
{
    fx_t *fx = *state;
    s_seen_t live = {0}, stored;
    s_run(fx, "R", "20", 0, CAIRN_CHECKPOINT_EVERY, &live);
    for (size_t i = 0; i < live.count; i++)
        assert_int_equal(live.seq[i], i + 1);
    assert_int_equal(live.kind[0], CAIRN_EVENT_RUN_STARTED);
    assert_int_equal(live.kind[live.count - 1], CAIRN_EVENT_RUN_ENDED);
    s_replay(fx, "R", 0, &stored);
    s_assert_tail(&live, &stored, live.count);
    /* from a seq on */
    s_replay(fx, "R", 10, &stored);
    s_assert_tail(&live, &stored, live.count - 10);
    s_replay(fx, "R", live.count, &stored);
    assert_int_equal(stored.count, 0);
    /* one block per write, not one key per event */
    assert_true(s_blocks(fx) <= 20 + 2);
    assert_int_equal(s_problems(fx, "R"), 0);

    cairn_error_t err;
    assert_int_equal(cairn_store_foreach_event(fx->store, "nope", 0, s_collect,
                                               &stored, &err),
                     CAIRN_ENOTFOUND);
    assert_non_null(strstr(err.message, "nope"));
}

/* The newest N are shown; old blocks go once they hold N/4. */
static void
test_events_bound(void **state)
{
    fx_t *fx = *state;
    s_seen_t live = {0}, stored;
    s_run(fx, "B", "80", 40, CAIRN_CHECKPOINT_EVERY, &live);
    assert_true(live.count > 200);
    s_replay(fx, "B", 0, &stored);
    s_assert_tail(&live, &stored, 40);
    /* storage stays bounded: at most N + N/4 events plus one write's */
    assert_true(s_blocks(fx) <= 40 + 10 + 2);
    assert_int_equal(s_problems(fx, "B"), 0);
    /* asking from before the bound gives the same */
    s_replay(fx, "B", 3, &stored);
    s_assert_tail(&live, &stored, 40);

    /* a policy that never checkpoints keeps its buffer bounded too */
    s_seen_t sparse = {0};
    s_run(fx, "N", "80", 7, CAIRN_CHECKPOINT_NONE, &sparse);
    s_replay(fx, "N", 0, &stored);
    s_assert_tail(&sparse, &stored, 7);

    s_seen_t none = {0};
    s_run(fx, "Z", "10", CAIRN_KEEP_NO_EVENTS, CAIRN_CHECKPOINT_EVERY, &none);
    assert_int_equal(none.seq[none.count - 1], none.count);
    s_replay(fx, "Z", 0, &stored);
    assert_int_equal(stored.count, 0);
}

/* A resume numbers on and trims what the first run stored. */
static void
test_events_resume_continues(void **state)
{
    fx_t *fx = *state;
    cairn_workflow_t *wf = fx_build(fx_env.registry, "30", FX_PLAIN);
    s_seen_t first = {0}, second = {0}, stored;
    cairn_run_options_t opts = fx_options(fx->store, "C");
    opts.max_supersteps = 10;
    opts.on_event = s_collect;
    opts.event_userdata = &first;
    cairn_result_t *result = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_FAILED);
    cairn_result_destroy(&result);
    opts.max_supersteps = 100; /* else the run keeps its limit of 10 */
    opts.keep_events = 25;
    opts.event_userdata = &second;
    result = fx_resume_opts(fx_env.engine, wf, "C", &opts);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    cairn_result_destroy(&result);
    assert_int_equal(second.seq[0], first.count + 1);
    s_replay(fx, "C", 0, &stored);
    s_assert_tail(&second, &stored, 25);
    assert_int_equal(s_problems(fx, "C"), 0);
    /* The resumed run trimmed the first run's blocks too (it reads their
     * list only at its first trim): about one block a superstep would be
     * left otherwise. */
    assert_true(s_blocks(fx) <= 12);

    /* resuming the completed run stores nothing */
    s_seen_t third = {0};
    opts.event_userdata = &third;
    result = fx_resume_opts(fx_env.engine, wf, "C", &opts);
    cairn_result_destroy(&result);
    assert_true(third.count > 0);
    s_replay(fx, "C", 0, &stored);
    s_assert_tail(&second, &stored, 25);

    /* deleting the run deletes its events */
    cairn_error_t err;
    assert_int_equal(cairn_store_delete_run(fx->store, "C", &err), CAIRN_OK);
    assert_int_equal(s_blocks(fx), 0);
    cairn_workflow_destroy(&wf);
}

/* A damaged block: replay fails naming it, verify reports it. */
static void
test_events_damage(void **state)
{
    fx_t *fx = *state;
    s_seen_t live = {0}, stored;
    s_run(fx, "D", "6", 0, CAIRN_CHECKPOINT_EVERY, &live);
    const cairn__backend_ops_t *ops = fx->store->backend->ops;
    cairn__iter_t *it = ops->iter_new(fx->store->backend, CAIRN__CF_EVENTS);
    ops->iter_seek(it, (const uint8_t *)"", 0);
    assert_true(ops->iter_valid(it));
    size_t key_len, len;
    const uint8_t *key = ops->iter_key(it, &key_len);
    const uint8_t *value = ops->iter_value(it, &len);
    uint8_t *bad_key = cairn__memdup(key, key_len);
    uint8_t *bad = cairn__memdup(value, len);
    ops->iter_free(it);
    bad[len - 1] ^= 0x5a;
    cairn__batch_t *batch = ops->batch_new(fx->store->backend);
    ops->batch_put(batch, CAIRN__CF_EVENTS, bad_key, key_len, bad, len);
    cairn_error_t err;
    assert_int_equal(ops->batch_commit(fx->store->backend, batch, false, &err),
                     CAIRN_OK);
    ops->batch_free(batch);
    free(bad_key);
    free(bad);

    memset(&stored, 0, sizeof stored);
    assert_int_equal(
        cairn_store_foreach_event(fx->store, "D", 0, s_collect, &stored, &err),
        CAIRN_ECORRUPT);
    assert_non_null(strstr(err.message, "event block 1 of run 'D'"));
    assert_int_equal(s_problems(fx, "D"), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_events_all_stored, rocksdb),
        FX_TEST(test_events_all_stored, memory),
        FX_TEST(test_events_bound, rocksdb),
        FX_TEST(test_events_bound, memory),
        FX_TEST(test_events_resume_continues, rocksdb),
        FX_TEST(test_events_resume_continues, memory),
        FX_TEST(test_events_damage, rocksdb),
        FX_TEST(test_events_damage, memory),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
