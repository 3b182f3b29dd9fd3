/* test_fork - cairn_store_fork: forking a run at a checkpoint with
 * changes, without an engine, then resuming the fork.
 *
 * Every case runs on a RocksDB store and on a memory store. The workflow
 * is the counter cycle of store_fixture.h, whose state at every
 * superstep is known exactly, so the result a modification implies can
 * be written down. The storage cases measure the store itself through
 * the backend vtable (storage/store_internal.h): every key and value of
 * every column family, before and after.
 */
#include "store_fixture.h"

#include "storage/store_internal.h"

/* ---- measuring the store ---------------------------------------------------
 */

/* Every key and value of the store: how many, how many bytes, and an
 * FNV-1a over all of them (so "unchanged" means byte for byte). */
typedef struct {
    size_t keys;
    size_t bytes;
    uint64_t hash;
} s_census_t;

static void
s_hash(uint64_t *h, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        *h = (*h ^ data[i]) * 1099511628211ull;
    *h = (*h ^ 0xffu) * 1099511628211ull; /* separator */
}

static s_census_t
s_census(cairn_store_t *store)
{
    s_census_t c = {0, 0, 14695981039346656037ull};
    const cairn__backend_ops_t *ops = store->backend->ops;
    for (int cf = 0; cf < CAIRN__CF_COUNT; cf++) {
        cairn__iter_t *it = ops->iter_new(store->backend, (cairn__cf_t)cf);
        assert_non_null(it);
        for (ops->iter_seek(it, (const uint8_t *)"", 0); ops->iter_valid(it);
             ops->iter_next(it)) {
            size_t key_len, value_len;
            const uint8_t *key = ops->iter_key(it, &key_len);
            const uint8_t *value = ops->iter_value(it, &value_len);
            c.keys++;
            c.bytes += key_len + value_len;
            s_hash(&c.hash, key, key_len);
            s_hash(&c.hash, value, value_len);
        }
        ops->iter_free(it);
    }
    return c;
}

static void
s_assert_unchanged(cairn_store_t *store, const s_census_t *before)
{
    s_census_t now = s_census(store);
    assert_int_equal(now.keys, before->keys);
    assert_int_equal(now.bytes, before->bytes);
    assert_true(now.hash == before->hash);
}

/* ---- helpers
 * ------------------------------------------------------------------ */

/* Forks, asserting success; returns the new checkpoint id (static). */
static const char *
s_fork(cairn_store_t *store, const char *checkpoint, const char *run_id,
       const cairn_fork_changes_t *changes)
{
    static char id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    int rc = cairn_store_fork(store, checkpoint, run_id, changes, id, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_store_fork(%s) = %s: %s", checkpoint,
                 cairn_err_name(rc), err.message);
    return id;
}

/* Resumes run to its end with the plain cycle to 10. */
static cairn_result_t *
s_resume(cairn_store_t *store, const char *target)
{
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(store, NULL);
    cairn_result_t *result = fx_resume_opts(fx_env.engine, wf, target, &opts);
    cairn_workflow_destroy(&wf);
    return result;
}

/* text with the first `from` replaced by `to` (text is freed). */
static char *
s_replace(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    if (!at)
        th_fail_showing(text, "\"%s\" not in", from);
    fx_str_t s = {0};
    fx_str_add(&s, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    free(text);
    return s.data;
}

/* ---- modifications
 * ------------------------------------------------------------ */

static void
test_fork_set_state_then_resume(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *base = fx_run_cycle(fx->store, "RUN", "10");
    /* a's count is 2 at RUN@4 (it ran at 1 and 3); set it to 100: it
     * runs three more times (5, 7, 9), so it ends at 103. */
    cairn_fork_state_t set = {"a", "count", (const uint8_t *)"100", 3};
    cairn_fork_changes_t changes = {.states = &set, .state_count = 1};
    assert_string_equal(s_fork(fx->store, "RUN@4", "F", &changes), "F@4");

    /* the fork checkpoint: parent RUN@4, trigger fork, paused, the
     * changed value and the parent's in-flight message */
    size_t count = 0;
    cairn_checkpoint_info_t *infos = fx_list(fx->store, "F", 0, NULL, &count);
    assert_int_equal(count, 1);
    assert_string_equal(infos[0].id, "F@4");
    assert_string_equal(infos[0].parent, "RUN@4");
    assert_string_equal(infos[0].trigger, "fork");
    assert_string_equal(infos[0].status, "paused");
    assert_string_equal(infos[0].workflow, "cycle");
    assert_int_equal(infos[0].pending_messages, 1);
    cairn_checkpoint_info_destroy(&infos, count);
    cairn_run_info_t *run = fx_get_run(fx->store, "F");
    assert_string_equal(run->status, "paused");
    assert_string_equal(run->parent, "RUN@4");
    assert_string_equal(run->latest_checkpoint, "F@4");
    assert_string_equal(run->workflow, "cycle");
    assert_int_equal(run->superstep, 4);
    cairn_run_info_destroy(&run, 1);
    char *dump = fx_load_dump(fx->store, "F@4");
    char *expected = fx_expect_checkpoint_as(10, 4, false, "paused");
    expected = s_replace(expected, "state a/count=2\n", "state a/count=100\n");
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);

    /* the parent is untouched */
    dump = fx_load_dump(fx->store, "RUN@4");
    assert_string_equal(dump, (expected = fx_expect_checkpoint(10, 4, false)));
    free(dump);
    free(expected);

    cairn_result_t *result = s_resume(fx->store, "F");
    assert_string_equal(cairn_result_run_id(result), "F");
    expected = s_replace(fx_expect_result(10), "state a/count=5\n",
                         "state a/count=103\n");
    fx_assert_result(result, expected);
    fx_assert_chain(fx->store, "F", "RUN@4");
    fx_assert_steps(fx->store, "F", NULL, "10 9 8 7 6 5 4");
    fx_reopen(fx);
    run = fx_get_run(fx->store, "F");
    assert_string_equal(run->status, "completed");
    cairn_run_info_destroy(&run, 1);
    cairn_result_destroy(&result);
    cairn_result_destroy(&base);
}

static void
test_fork_set_shared_then_resume(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *base = fx_run_cycle(fx->store, "RUN", "10");
    /* "phase" is written only at superstep 2; a new value at 6 stays. */
    cairn_fork_state_t set[] = {
        {NULL, "phase", (const uint8_t *)"first", 5},
        {NULL, "phase", (const uint8_t *)"custom", 6}, /* the later wins */
        {NULL, "note", (const uint8_t *)"a\0b", 3},    /* bytes as given */
    };
    cairn_fork_changes_t changes = {.states = set, .state_count = 3};
    s_fork(fx->store, "RUN@6", "S", &changes);
    cairn_result_t *result = s_resume(fx->store, "S");
    char *expected = s_replace(fx_expect_result(10), "state */phase=early\n",
                               "state */phase=custom\n");
    expected = s_replace(expected, "state */counter=10\n",
                         "state */counter=10\nstate */note=a\\x00b\n");
    fx_assert_result(result, expected);
    cairn_result_destroy(&result);
    cairn_result_destroy(&base);
}

static void
test_fork_drop_and_send_then_resume(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *base = fx_run_cycle(fx->store, "RUN", "10");
    /* RUN@4 has "4" in flight to a; replace it with "6": a makes 7 at
     * superstep 5, b 8, a 9 (yields a:9), b 10 (done) at superstep 8. */
    cairn_fork_message_t send = {"a", (const uint8_t *)"6", 1};
    cairn_fork_changes_t changes = {
        .drop_messages = true, .sends = &send, .send_count = 1};
    s_fork(fx->store, "RUN@4", "D", &changes);
    cairn_checkpoint_t *cp = fx_load(fx->store, "D@4");
    assert_int_equal(cairn_checkpoint_info(cp)->pending_messages, 1);
    cairn_checkpoint_destroy(&cp);
    cairn_result_t *result = s_resume(fx->store, "D");
    fx_str_t want = {0};
    fx_str_add(&want,
               "status=completed supersteps=8 error=%s\n"
               "out a:3\nout a:9\nout done:10\n"
               "state a/count=4\nstate b/count=4\n"
               "state */counter=10\nstate */phase=early\n",
               cairn_err_name(CAIRN_OK));
    fx_assert_result(result, want.data);
    cairn_result_destroy(&result);

    /* send without drop: the parent's "4" and a second "8" both go on;
     * the "8" chain reaches 10 first (at superstep 6) and the "4" chain at
     * superstep 10, so done:10 comes twice */
    cairn_fork_message_t second = {"a", (const uint8_t *)"8", 1};
    cairn_fork_changes_t both = {.sends = &second, .send_count = 1};
    s_fork(fx->store, "RUN@4", "B", &both);
    cp = fx_load(fx->store, "B@4");
    assert_int_equal(cairn_checkpoint_info(cp)->pending_messages, 2);
    cairn_checkpoint_destroy(&cp);
    result = s_resume(fx->store, "B");
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_supersteps(result), 10);
    size_t done = 0;
    for (size_t i = 0; i < cairn_result_output_count(result); i++) {
        size_t len;
        const uint8_t *out = cairn_result_output(result, i, &len);
        done += len == 7 && memcmp(out, "done:10", 7) == 0;
    }
    assert_int_equal(done, 2);
    cairn_result_destroy(&result);

    /* drop only: nothing in flight, so the fork has already ended */
    cairn_fork_changes_t drop = {.drop_messages = true};
    s_fork(fx->store, "RUN@4", "E", &drop);
    cairn_run_info_t *run = fx_get_run(fx->store, "E");
    assert_string_equal(run->status, "completed");
    cairn_run_info_destroy(&run, 1);
    result = s_resume(fx->store, "E");
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_supersteps(result), 4);
    assert_int_equal(cairn_result_output_count(result), 1); /* a:3 */
    cairn_result_destroy(&result);
    cairn_result_destroy(&base);
}

static void
test_fork_of_fork(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *base = fx_run_cycle(fx->store, "RUN", "10");
    cairn_fork_state_t a = {"a", "count", (const uint8_t *)"100", 3};
    cairn_fork_changes_t first = {.states = &a, .state_count = 1};
    s_fork(fx->store, "RUN@4", "F1", &first);
    cairn_result_t *r1 = s_resume(fx->store, "F1");
    /* b's count is 3 at F1@7 (it ran at 2, 4, 6); 50 then 8 and 10 */
    cairn_fork_state_t b = {"b", "count", (const uint8_t *)"50", 2};
    cairn_fork_changes_t second = {.states = &b, .state_count = 1};
    s_fork(fx->store, "F1@7", "F2", &second);
    /* and a fork of a fork checkpoint itself, unchanged */
    s_fork(fx->store, "F1@4", "F3", NULL);
    fx_reopen(fx);
    char *dump = fx_load_dump(fx->store, "F2@7");
    char *expected = fx_expect_checkpoint_as(10, 7, false, "paused");
    expected = s_replace(expected, "state a/count=4\n", "state a/count=102\n");
    expected = s_replace(expected, "state b/count=3\n", "state b/count=50\n");
    assert_string_equal(dump, expected);
    free(dump);
    free(expected);
    cairn_result_t *r2 = s_resume(fx->store, "F2");
    expected = s_replace(fx_expect_result(10), "state a/count=5\n",
                         "state a/count=103\n");
    expected = s_replace(expected, "state b/count=5\n", "state b/count=52\n");
    fx_assert_result(r2, expected);
    fx_assert_chain(fx->store, "F2", "F1@7");
    cairn_result_t *r3 = s_resume(fx->store, "F3");
    fx_assert_result(r3, fx_dump_result(r1));
    cairn_result_destroy(&r3);
    cairn_result_destroy(&r2);
    cairn_result_destroy(&r1);
    cairn_result_destroy(&base);
}

/* ---- storage cost
 * -------------------------------------------------------------- */

static void
test_fork_stores_only_its_changes(void **state)
{
    fx_t *fx = *state;
    /* big writes a 1 MiB value at superstep 1; fork at 3 */
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_BIG);
    cairn_run_options_t opts = fx_options(fx->store, "BIG");
    cairn_result_t *base = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_status(base), CAIRN_STATUS_COMPLETED);
    s_census_t before = s_census(fx->store);
    assert_true(before.bytes > FX_BLOB_SIZE);

    cairn_fork_state_t set = {"a", "count", (const uint8_t *)"7", 1};
    cairn_fork_changes_t changes = {.states = &set, .state_count = 1};
    s_fork(fx->store, "BIG@3", "CHEAP", &changes);
    s_census_t after = s_census(fx->store);
    /* a run record, a manifest, an in-flight record, one state value */
    assert_int_equal(after.keys, before.keys + 4);
    size_t added = after.bytes - before.bytes;
    if (added > 4096)
        fail_msg("the fork added %zu bytes to the store", added);
    size_t count = 0;
    cairn_checkpoint_info_t *infos =
        fx_list(fx->store, "CHEAP", 0, NULL, &count);
    assert_int_equal(count, 1);
    assert_true(infos[0].size_bytes > 0 && infos[0].size_bytes < 1024);
    cairn_checkpoint_info_destroy(&infos, count);

    /* yet the fork sees the blob, read from the parent */
    cairn_checkpoint_t *cp = fx_load(fx->store, "CHEAP@3");
    size_t len = 0;
    const uint8_t *blob = cairn_checkpoint_state(cp, "big", "blob", &len);
    assert_non_null(blob);
    assert_int_equal(len, FX_BLOB_SIZE);
    uint8_t *want = fx_blob_new();
    assert_memory_equal(blob, want, FX_BLOB_SIZE);
    free(want);
    const uint8_t *a = cairn_checkpoint_state(cp, "a", "count", &len);
    assert_int_equal(len, 1);
    assert_memory_equal(a, "7", 1);
    cairn_checkpoint_destroy(&cp);

    cairn_run_options_t again = fx_options(fx->store, NULL);
    cairn_result_t *result = fx_resume_opts(fx_env.engine, wf, "CHEAP", &again);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    cairn_result_destroy(&result);
    cairn_result_destroy(&base);
    cairn_workflow_destroy(&wf);
}

/* ---- bad input
 * ----------------------------------------------------------------- */

/* A fork that must fail with code, mentioning what, changing nothing. */
static void
s_refused(fx_t *fx, const char *checkpoint, const char *run_id,
          const cairn_fork_changes_t *changes, int code, const char *what)
{
    s_census_t before = s_census(fx->store);
    char id[CAIRN_CHECKPOINT_ID_MAX] = "x";
    cairn_error_t err;
    int rc = cairn_store_fork(fx->store, checkpoint, run_id, changes, id, &err);
    if (rc != code)
        fail_msg("fork(%s) = %s (%s), expected %s", checkpoint,
                 cairn_err_name(rc), err.message, cairn_err_name(code));
    fx_assert_mentions(&err, what);
    assert_string_equal(id, "");
    s_assert_unchanged(fx->store, &before);
}

static void
test_fork_refuses_bad_input(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *base = fx_run_cycle(fx->store, "RUN", "6");
    s_refused(fx, "RUN@99", NULL, NULL, CAIRN_ENOTFOUND, "RUN@99");
    s_refused(fx, "NOPE@1", NULL, NULL, CAIRN_ENOTFOUND, "NOPE");
    s_refused(fx, "RUN", NULL, NULL, CAIRN_EINVAL, "RUN@SUPERSTEP");
    s_refused(fx, "RUN@x", NULL, NULL, CAIRN_EINVAL, "RUN@x");
    s_refused(fx, "RUN@2", "RUN", NULL, CAIRN_EEXISTS, "'RUN'");
    s_refused(fx, "RUN@2", "bad id", NULL, CAIRN_EINVAL, "bad id");
    cairn_fork_state_t ghost = {"ghost", "k", (const uint8_t *)"v", 1};
    cairn_fork_changes_t c1 = {.states = &ghost, .state_count = 1};
    s_refused(fx, "RUN@2", "N", &c1, CAIRN_EINVAL, "'ghost'");
    cairn_fork_state_t empty = {NULL, "", (const uint8_t *)"v", 1};
    cairn_fork_changes_t c2 = {.states = &empty, .state_count = 1};
    s_refused(fx, "RUN@2", "N", &c2, CAIRN_EINVAL, "empty");
    /* a valid change beside an invalid send: nothing at all is written */
    cairn_fork_state_t good = {"a", "count", (const uint8_t *)"1", 1};
    cairn_fork_message_t to_ghost = {"ghost", (const uint8_t *)"1", 1};
    cairn_fork_changes_t c3 = {
        .states = &good, .state_count = 1, .sends = &to_ghost, .send_count = 1};
    s_refused(fx, "RUN@2", "N", &c3, CAIRN_EINVAL, "'ghost'");
    /* an executor id that is only a prefix of one in the graph */
    cairn_fork_message_t prefix = {"", (const uint8_t *)"1", 1};
    cairn_fork_changes_t c4 = {.sends = &prefix, .send_count = 1};
    s_refused(fx, "RUN@2", "N", &c4, CAIRN_EINVAL, "no executor");
    cairn_result_destroy(&base);
}

static void
test_fork_read_only_store(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *base = fx_run_cycle(fx->store, "RUN", "4");
    cairn_store_t *reader = fx_open_dir(fx->dir, true);
    char id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    assert_int_equal(cairn_store_fork(reader, "RUN@2", "N", NULL, id, &err),
                     CAIRN_ESTATE);
    cairn_store_destroy(&reader);
    cairn_run_info_t *info = NULL;
    assert_int_equal(cairn_store_get_run(fx->store, "N", &info, &err),
                     CAIRN_ENOTFOUND);
    cairn_result_destroy(&base);
}

static void
test_fork_generated_id(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *base = fx_run_cycle(fx->store, "RUN", "4");
    char first[CAIRN_CHECKPOINT_ID_MAX], second[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(first, sizeof first, "%s", s_fork(fx->store, "RUN@2", NULL, NULL));
    snprintf(second, sizeof second, "%s",
             s_fork(fx->store, "RUN@2", NULL, NULL));
    assert_string_not_equal(first, second);
    /* YYYYMMDD-HHMMSS-mmm-xxxxxx@2, like engine-made run ids */
    assert_int_equal(strlen(first), 8 + 1 + 6 + 1 + 3 + 1 + 6 + 2);
    assert_int_equal(first[8], '-');
    assert_string_equal(first + strlen(first) - 2, "@2");
    cairn_result_destroy(&base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_fork_set_state_then_resume, rocksdb),
        FX_TEST(test_fork_set_state_then_resume, memory),
        FX_TEST(test_fork_set_shared_then_resume, rocksdb),
        FX_TEST(test_fork_set_shared_then_resume, memory),
        FX_TEST(test_fork_drop_and_send_then_resume, rocksdb),
        FX_TEST(test_fork_drop_and_send_then_resume, memory),
        FX_TEST(test_fork_of_fork, rocksdb),
        FX_TEST(test_fork_of_fork, memory),
        FX_TEST(test_fork_stores_only_its_changes, rocksdb),
        FX_TEST(test_fork_stores_only_its_changes, memory),
        FX_TEST(test_fork_refuses_bad_input, rocksdb),
        FX_TEST(test_fork_refuses_bad_input, memory),
        FX_TEST(test_fork_read_only_store, rocksdb),
        FX_TEST(test_fork_generated_id, rocksdb),
        FX_TEST(test_fork_generated_id, memory),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
