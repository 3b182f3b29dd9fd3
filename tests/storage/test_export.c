/* test_export - exporting runs to a file and importing them into
 * another store (storage/store_export.c).
 *
 * Every case runs on a RocksDB store in a fresh temporary directory and
 * on a memory store (FX_TEST(fn, rocksdb) / FX_TEST(fn, memory)); the
 * read-only case needs RocksDB. The workflow is the counter cycle of
 * store_fixture.h, whose state at every superstep is known exactly, so an
 * imported run is checked against both the original store and the
 * expected values. Export files are tmpfile()s; damaged variants are fed
 * back through fmemopen().
 *
 * The corrupt-store case reaches below the public API through
 * storage/store_internal.h to damage a stored value the way a disk would.
 */
#include "store_fixture.h"

#include "cairn.pb-c.h"
#include "checkpoint.pb-c.h"
#include "storage/record.h"
#include "storage/store_internal.h"

/* ---- helpers ------------------------------------------------------------- */

/* The export file layout, as docs/storage.md describes it. */
#define S_HEADER_FIXED 13 /* "CAIRNEXP", format byte, run id length */
#define S_ENTRY_HEAD 9    /* family, key length, value length */
#define S_CRC 4

typedef struct {
    uint8_t *data;
    size_t len;
} s_bytes_t;

/* Exports run_id from store into a tmpfile, asserting success, and
 * returns the file rewound. */
static FILE *
s_export_file(cairn_store_t *store, const char *run_id)
{
    FILE *file = tmpfile();
    assert_non_null(file);
    cairn_error_t err;
    int rc = cairn_store_export(store, run_id, file, &err);
    if (rc != CAIRN_OK)
        fail_msg("export(%s) = %s: %s", run_id, cairn_err_name(rc),
                 err.message);
    rewind(file);
    return file;
}

/* The bytes of an export of run_id. */
static s_bytes_t
s_export_bytes(cairn_store_t *store, const char *run_id)
{
    FILE *file = s_export_file(store, run_id);
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    long size = ftell(file);
    assert_true(size > 0);
    rewind(file);
    s_bytes_t bytes = {malloc((size_t)size), (size_t)size};
    assert_non_null(bytes.data);
    assert_int_equal(fread(bytes.data, 1, bytes.len, file), bytes.len);
    fclose(file);
    return bytes;
}

/* Imports file into store, asserting success and the id it got. */
static void
s_import(cairn_store_t *store, FILE *file, const char *as_id,
         const char *expected_id)
{
    char id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    rewind(file);
    int rc = cairn_store_import(store, file, as_id, id, &err);
    if (rc != CAIRN_OK)
        fail_msg("import(as %s) = %s: %s", as_id ? as_id : "-",
                 cairn_err_name(rc), err.message);
    assert_string_equal(id, expected_id);
}

/* Imports len bytes of data; returns the code and fills err. */
static int
s_import_bytes(cairn_store_t *store, const uint8_t *data, size_t len,
               const char *as_id, cairn_error_t *err)
{
    FILE *file = tmpfile();
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, len, file), len);
    rewind(file);
    char id[CAIRN_CHECKPOINT_ID_MAX] = "unchanged";
    int rc = cairn_store_import(store, file, as_id, id, err);
    fclose(file);
    if (rc != CAIRN_OK)
        assert_string_equal(id, "");
    return rc;
}

static size_t
s_run_count(cairn_store_t *store)
{
    cairn_run_info_t *runs = NULL;
    size_t count = 0;
    cairn_error_t err;
    assert_int_equal(cairn_store_list_runs(store, &runs, &count, &err),
                     CAIRN_OK);
    cairn_run_info_destroy(&runs, count);
    return count;
}

/* "RUN@N" of run with its run id replaced by as (NULL: kept). */
static const char *
s_renamed(const char *id, const char *from, const char *as, char *out,
          size_t size)
{
    size_t n = strlen(from);
    if (as && strncmp(id, from, n) == 0 && id[n] == '@')
        snprintf(out, size, "%s%s", as, id + n);
    else
        snprintf(out, size, "%s", id);
    return out;
}

/* The listing of run in b equals that of run in a (ids and parents of
 * a's run renamed to as, when as is not NULL), and every checkpoint loads
 * to the same dump. */
static void
s_assert_same_run(cairn_store_t *a, const char *run, cairn_store_t *b,
                  const char *as)
{
    const char *b_run = as ? as : run;
    size_t a_count = 0, b_count = 0;
    cairn_checkpoint_info_t *ai = fx_list(a, run, 0, NULL, &a_count);
    cairn_checkpoint_info_t *bi = fx_list(b, b_run, 0, NULL, &b_count);
    assert_int_equal(a_count, b_count);
    assert_true(a_count > 0);
    char want[CAIRN_CHECKPOINT_ID_MAX];
    for (size_t i = 0; i < a_count; i++) {
        assert_string_equal(bi[i].id,
                            s_renamed(ai[i].id, run, as, want, sizeof want));
        assert_string_equal(
            bi[i].parent, s_renamed(ai[i].parent, run, as, want, sizeof want));
        assert_string_equal(bi[i].run_id, b_run);
        assert_int_equal(bi[i].superstep, ai[i].superstep);
        assert_string_equal(bi[i].trigger, ai[i].trigger);
        assert_string_equal(bi[i].status, ai[i].status);
        assert_string_equal(bi[i].workflow, ai[i].workflow);
        assert_int_equal(bi[i].size_bytes, ai[i].size_bytes);
        assert_int_equal(bi[i].timestamp_ms, ai[i].timestamp_ms);
        assert_int_equal(bi[i].pending_messages, ai[i].pending_messages);
        assert_int_equal(bi[i].tag_count, ai[i].tag_count);
        char *da = fx_load_dump(a, ai[i].id);
        char *db = fx_load_dump(b, bi[i].id);
        assert_string_equal(db, da);
        free(da);
        free(db);
    }
    cairn_checkpoint_info_destroy(&ai, a_count);
    cairn_checkpoint_info_destroy(&bi, b_count);

    cairn_run_info_t *ra = fx_get_run(a, run);
    cairn_run_info_t *rb = fx_get_run(b, b_run);
    assert_string_equal(rb->id, b_run);
    assert_string_equal(rb->status, ra->status);
    assert_string_equal(rb->workflow, ra->workflow);
    assert_string_equal(
        rb->latest_checkpoint,
        s_renamed(ra->latest_checkpoint, run, as, want, sizeof want));
    assert_string_equal(rb->parent, ra->parent);
    assert_int_equal(rb->superstep, ra->superstep);
    assert_int_equal(rb->created_ms, ra->created_ms);
    cairn_run_info_destroy(&ra, 1);
    cairn_run_info_destroy(&rb, 1);
}

/* Resumes target in store (a fork under fork_id, or NULL) with the cycle
 * of config; asserts it completes like an uninterrupted run to 10 and
 * returns the result's dump. */
static char *
s_resume_dump(cairn_store_t *store, const char *target, const char *fork_id,
              const char *config)
{
    cairn_workflow_t *wf = fx_build(fx_env.registry, config, FX_PLAIN);
    cairn_run_options_t opts = fx_options(store, fork_id);
    opts.max_supersteps = 100; /* past the limit the run keeps */
    cairn_result_t *result = fx_resume_opts(fx_env.engine, wf, target, &opts);
    if (fork_id)
        assert_string_equal(cairn_result_run_id(result), fork_id);
    char *dump = fx_dump_result(result);
    char *expected = fx_expect_result(10);
    assert_string_equal(dump, expected);
    free(expected);
    cairn_result_destroy(&result);
    cairn_workflow_destroy(&wf);
    return dump;
}

/* Number of keys in one column family of store. */
static size_t
s_key_count(cairn_store_t *store, cairn__cf_t cf)
{
    const cairn__backend_ops_t *ops = store->backend->ops;
    cairn__iter_t *it = ops->iter_new(store->backend, cf);
    assert_non_null(it);
    size_t count = 0;
    for (ops->iter_seek(it, (const uint8_t *)"", 0); ops->iter_valid(it);
         ops->iter_next(it))
        count++;
    ops->iter_free(it);
    return count;
}

/* ---- round trip ---------------------------------------------------------- */

static void
test_export_round_trip(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *original = fx_run_cycle(fx->store, "RUN", "10:m4");
    /* a pending write (a Done stored before its barrier) stays behind */
    Cairn__Done done = CAIRN__DONE__INIT;
    done.run_id = "RUN";
    done.executor_id = "a";
    done.superstep = 11;
    cairn_error_t err;
    assert_int_equal(
        cairn__store_put_pending(fx->store, "RUN", 11, &done, &err), CAIRN_OK);
    FILE *file = s_export_file(fx->store, "RUN");
    cairn_store_t *b = fx_aux_store(fx, "b");
    s_import(b, file, NULL, "RUN");
    assert_int_equal(s_run_count(b), 1);
    /* every record came along, as stored; pending writes did not */
    for (cairn__cf_t cf = CAIRN__CF_RUNS; cf < CAIRN__CF_PENDING; cf++)
        assert_int_equal(s_key_count(b, cf), s_key_count(fx->store, cf));
    assert_int_equal(s_key_count(fx->store, CAIRN__CF_PENDING), 1);
    assert_int_equal(s_key_count(b, CAIRN__CF_PENDING), 0);
    s_assert_same_run(fx->store, "RUN", b, NULL);
    fx_assert_chain(b, "RUN", "");
    fx_assert_steps(b, "RUN", FX_TAG, "8 4");

    /* an older checkpoint resumes as a fork in both stores alike */
    char *in_a = s_resume_dump(fx->store, "RUN@4", "FORK_A", "10:m4");
    char *in_b = s_resume_dump(b, "RUN@4", "FORK_B", "10:m4");
    assert_string_equal(in_b, in_a);
    char *whole = fx_dump_result(original);
    assert_string_equal(in_b, whole);
    free(whole);
    free(in_a);
    free(in_b);
    fx_assert_chain(b, "FORK_B", "RUN@4");

    fclose(file);
    cairn_result_destroy(&original);
}

static void
test_export_existing_and_rename(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *original = fx_run_cycle(fx->store, "RUN", "10");
    FILE *file = s_export_file(fx->store, "RUN");
    cairn_store_t *b = fx_aux_store(fx, "b");
    s_import(b, file, NULL, "RUN");

    /* again under the same id: refused, nothing added */
    char id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    rewind(file);
    assert_int_equal(cairn_store_import(b, file, NULL, id, &err),
                     CAIRN_EEXISTS);
    fx_assert_mentions(&err, "run 'RUN' already exists in the store");
    fx_assert_mentions(&err, "--as ID");
    assert_string_equal(id, "");
    assert_int_equal(s_run_count(b), 1);
    /* nor under an id that exists, nor under a malformed one */
    rewind(file);
    assert_int_equal(cairn_store_import(b, file, "RUN", id, &err),
                     CAIRN_EEXISTS);
    rewind(file);
    assert_int_equal(cairn_store_import(b, file, "not an id", id, &err),
                     CAIRN_EINVAL);
    fx_assert_mentions(&err, "not an id");
    assert_int_equal(s_run_count(b), 1);

    /* renamed: every checkpoint is COPY@N, parents too */
    s_import(b, file, "COPY", "COPY");
    assert_int_equal(s_run_count(b), 2);
    s_assert_same_run(fx->store, "RUN", b, "COPY");
    fx_assert_chain(b, "COPY", "");
    fx_assert_steps(b, "COPY", NULL, "10 9 8 7 6 5 4 3 2 1 0");
    /* the original is untouched by the copy */
    s_assert_same_run(fx->store, "RUN", b, NULL);

    /* and resumable: from an older checkpoint (a fork of COPY) */
    char *dump = s_resume_dump(b, "COPY@5", "COPY_FORK", "10");
    free(dump);
    fx_assert_chain(b, "COPY_FORK", "COPY@5");

    fclose(file);
    cairn_result_destroy(&original);
}

static void
test_export_rename_then_continue(void **state)
{
    fx_t *fx = *state;
    /* stopped at the superstep limit: resuming continues the latest
     * checkpoint under the same id, which must be the new one */
    cairn_workflow_t *wf = fx_build(fx_env.registry, "10", FX_PLAIN);
    cairn_run_options_t opts = fx_options(fx->store, "RUN");
    opts.max_supersteps = 6;
    cairn_result_t *stopped = fx_run_opts(fx_env.engine, wf, &opts);
    assert_int_equal(cairn_result_error(stopped)->code, CAIRN_EMAXSTEPS);
    FILE *file = s_export_file(fx->store, "RUN");
    cairn_store_t *b = fx_aux_store(fx, "b");
    s_import(b, file, "COPY", "COPY");
    cairn_run_info_t *run = fx_get_run(b, "COPY");
    assert_string_equal(run->latest_checkpoint, "COPY@6");
    assert_string_equal(run->reason, "max_supersteps");
    cairn_run_info_destroy(&run, 1);

    char *dump = s_resume_dump(b, "COPY", NULL, "10");
    free(dump);
    fx_assert_steps(b, "COPY", NULL, "10 9 8 7 6 5 4 3 2 1 0");
    fx_assert_chain(b, "COPY", "");
    assert_int_equal(s_run_count(b), 1);

    fclose(file);
    cairn_result_destroy(&stopped);
    cairn_workflow_destroy(&wf);
}

/* ---- forks --------------------------------------------------------------- */

static void
test_export_fork_carries_lineage(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *original = fx_run_cycle(fx->store, "RUN", "10");
    free(s_resume_dump(fx->store, "RUN@3", "FORK", "10"));
    /* a fork of the fork: two ancestors */
    free(s_resume_dump(fx->store, "FORK@6", "FORK2", "10"));

    /* alone into an empty store: the parent history comes along */
    FILE *file = s_export_file(fx->store, "FORK");
    cairn_store_t *c = fx_aux_store(fx, "c");
    s_import(c, file, NULL, "FORK");
    assert_int_equal(s_run_count(c), 2);
    s_assert_same_run(fx->store, "FORK", c, NULL);
    s_assert_same_run(fx->store, "RUN", c, NULL);
    for (long k = 3; k <= 10; k++) {
        char id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(id, sizeof id, "FORK@%ld", k);
        char *dump = fx_load_dump(c, id);
        char *expected = fx_expect_checkpoint(10, k, false);
        assert_string_equal(dump, expected);
        free(dump);
        free(expected);
    }
    free(s_resume_dump(c, "FORK@5", "AGAIN", "10"));
    fx_assert_chain(c, "AGAIN", "FORK@5");

    /* a fork of a fork carries both ancestors */
    FILE *file2 = s_export_file(fx->store, "FORK2");
    cairn_store_t *d = fx_aux_store(fx, "d");
    s_import(d, file2, NULL, "FORK2");
    assert_int_equal(s_run_count(d), 3);
    s_assert_same_run(fx->store, "FORK2", d, NULL);
    free(s_resume_dump(d, "FORK2@8", "AGAIN", "10"));

    /* renamed into the store it came from: the ancestor is there already
     * and is not imported again; the copy keeps its fork point */
    size_t before = s_run_count(fx->store);
    size_t run_checkpoints = fx_count(fx->store, "RUN");
    s_import(fx->store, file, "F2", "F2");
    assert_int_equal(s_run_count(fx->store), before + 1);
    assert_int_equal(fx_count(fx->store, "RUN"), run_checkpoints);
    s_assert_same_run(fx->store, "FORK", fx->store, "F2");
    fx_assert_chain(fx->store, "F2", "RUN@3");
    free(s_resume_dump(fx->store, "F2@4", "F2_FORK", "10"));

    /* an id that is an ancestor in the file is not a free name */
    cairn_store_t *e = fx_aux_store(fx, "e");
    char id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    rewind(file);
    assert_int_equal(cairn_store_import(e, file, "RUN", id, &err),
                     CAIRN_EEXISTS);
    fx_assert_mentions(&err, "ancestor");
    assert_int_equal(s_run_count(e), 0);
    /* a different run under the ancestor's id is not the ancestor */
    fx_sleep_ms(5);
    cairn_result_t *stranger = fx_run_cycle(e, "RUN", "10");
    rewind(file);
    assert_int_equal(cairn_store_import(e, file, NULL, id, &err),
                     CAIRN_EEXISTS);
    fx_assert_mentions(&err, "'RUN'");
    assert_int_equal(s_run_count(e), 1);

    fclose(file);
    fclose(file2);
    cairn_result_destroy(&stranger);
    cairn_result_destroy(&original);
}

/* ---- damaged files ------------------------------------------------------- */

static size_t
s_u32(const uint8_t *p)
{
    return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16
           | (size_t)p[3] << 24;
}

/* Finds the entry holding byte offset of an export: its index (from 1),
 * where it starts and its key + value size; returns its whole size. */
static size_t
s_entry_at(const s_bytes_t *bytes, size_t offset, size_t *index, size_t *start,
           size_t *body)
{
    size_t pos = S_HEADER_FIXED + s_u32(bytes->data + 9) + S_CRC;
    for (size_t i = 1; pos + S_ENTRY_HEAD <= bytes->len; i++) {
        const uint8_t *d = bytes->data + pos;
        size_t key_len = s_u32(d + 1), value_len = s_u32(d + 5);
        size_t size = S_ENTRY_HEAD + key_len + value_len + S_CRC;
        if (offset < pos + size) {
            *index = i;
            *start = pos;
            *body = key_len + value_len;
            return size;
        }
        pos += size;
    }
    fail_msg("offset %zu is not in an entry", offset);
    return 0;
}

/* Asserts that importing data fails with code and a message that
 * mentions what, and that the store gains nothing. */
static void
s_assert_refused(cairn_store_t *store, const uint8_t *data, size_t len,
                 int code, const char *what)
{
    size_t before = s_run_count(store);
    cairn_error_t err;
    int rc = s_import_bytes(store, data, len, "DAMAGED", &err);
    if (rc != code)
        fail_msg("import = %s (%s), expected %s", cairn_err_name(rc),
                 err.message, cairn_err_name(code));
    fx_assert_mentions(&err, what);
    assert_int_equal(s_run_count(store), before);
    cairn_run_info_t *info = NULL;
    assert_int_equal(cairn_store_get_run(store, "DAMAGED", &info, &err),
                     CAIRN_ENOTFOUND);
}

static void
test_export_damaged_file(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *original = fx_run_cycle(fx->store, "RUN", "10");
    s_bytes_t good = s_export_bytes(fx->store, "RUN");
    cairn_store_t *b = fx_aux_store(fx, "b");
    /* b already holds a run of its own, which stays as it is */
    cairn_result_t *other = fx_run_cycle(b, "OTHER", "4");
    assert_int_equal(s_run_count(b), 1);
    uint8_t *bad = malloc(good.len + 1);
    assert_non_null(bad);
    char what[96];

    /* a flipped byte in the middle: the entry holding it */
    size_t index, start, body;
    s_entry_at(&good, good.len / 2, &index, &start, &body);
    assert_true(body > 0);
    memcpy(bad, good.data, good.len);
    bad[start + S_ENTRY_HEAD + body / 2] ^= 0x10;
    snprintf(what, sizeof what, "export file: entry %zu: checksum mismatch",
             index);
    s_assert_refused(b, bad, good.len, CAIRN_ECORRUPT, what);

    /* a flipped byte in the header */
    memcpy(bad, good.data, good.len);
    bad[S_HEADER_FIXED] ^= 0x01;
    s_assert_refused(b, bad, good.len, CAIRN_ECORRUPT,
                     "header: checksum mismatch");

    /* truncated: inside an entry, at an entry boundary (no trailer), in
     * the header, empty */
    s_assert_refused(b, good.data, good.len - 7, CAIRN_ECORRUPT, "truncated");
    size_t trailer_size =
        s_entry_at(&good, good.len - 1, &index, &start, &body);
    snprintf(what, sizeof what, "export file: entry %zu: truncated", index);
    s_assert_refused(b, good.data, good.len - trailer_size, CAIRN_ECORRUPT,
                     what);
    s_assert_refused(b, good.data, 11, CAIRN_ECORRUPT,
                     "export file: header: truncated");
    s_assert_refused(b, good.data, 0, CAIRN_EINVAL, "not a cairn export");

    /* data after the trailer */
    memcpy(bad, good.data, good.len);
    bad[good.len] = 0;
    s_assert_refused(b, bad, good.len + 1, CAIRN_ECORRUPT, "after the trailer");

    /* not an export at all */
    memcpy(bad, good.data, good.len);
    memcpy(bad, "CAIRNEXQ", 8);
    s_assert_refused(b, bad, good.len, CAIRN_EINVAL,
                     "export file: not a cairn export");
    s_assert_refused(b, (const uint8_t *)"{\"run\": 1}\n", 11, CAIRN_EINVAL,
                     "not a cairn export");

    /* a newer format */
    memcpy(bad, good.data, good.len);
    bad[8] = 3;
    s_assert_refused(b, bad, good.len, CAIRN_EFORMAT,
                     "export format 3 is newer than this cairn reads (1)");

    /* the good file still imports */
    FILE *file = tmpfile();
    assert_non_null(file);
    assert_int_equal(fwrite(good.data, 1, good.len, file), good.len);
    s_import(b, file, NULL, "RUN");
    assert_int_equal(s_run_count(b), 2);
    s_assert_same_run(fx->store, "RUN", b, NULL);
    fclose(file);

    free(bad);
    free(good.data);
    cairn_result_destroy(&other);
    cairn_result_destroy(&original);
}

/* ---- export errors ------------------------------------------------------- */

static void
test_export_unknown_run(void **state)
{
    fx_t *fx = *state;
    FILE *file = tmpfile();
    assert_non_null(file);
    cairn_error_t err;
    assert_int_equal(cairn_store_export(fx->store, "NOPE", file, &err),
                     CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "'NOPE'");
    assert_int_equal(ftell(file), 0);
    assert_int_equal(cairn_store_export(fx->store, "no such/run", file, &err),
                     CAIRN_ENOTFOUND);
    fx_assert_mentions(&err, "no such/run");
    fclose(file);
}

static void
test_export_corrupt_store(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    /* flip a bit of a's "count" as written at superstep 9 */
    const cairn__backend_ops_t *ops = fx->store->backend->ops;
    cairn__key_t key = {0};
    cairn__key_state_group(&key, "RUN", "a", "count");
    cairn__key_add_u64(&key, ~(uint64_t)9);
    assert_false(key.out_of_memory);
    uint8_t *value = NULL;
    size_t len = 0;
    cairn_error_t err;
    assert_int_equal(ops->get(fx->store->backend, CAIRN__CF_STATE, key.data,
                              key.len, &value, &len, &err),
                     CAIRN_OK);
    value[len - 1] ^= 0x01;
    cairn__batch_t *batch = ops->batch_new(fx->store->backend);
    assert_non_null(batch);
    ops->batch_put(batch, CAIRN__CF_STATE, key.data, key.len, value, len);
    assert_int_equal(ops->batch_commit(fx->store->backend, batch, true, &err),
                     CAIRN_OK);
    ops->batch_free(batch);
    free(value);
    cairn__key_free(&key);

    FILE *file = tmpfile();
    assert_non_null(file);
    assert_int_equal(cairn_store_export(fx->store, "RUN", file, &err),
                     CAIRN_ECORRUPT);
    fx_assert_mentions(&err, "state value 'count' of executor a in run 'RUN'");
    fx_assert_mentions(&err, "checksum mismatch");
    /* what was written has no trailer: import refuses it */
    rewind(file);
    cairn_store_t *b = fx_aux_store(fx, "b");
    char id[CAIRN_CHECKPOINT_ID_MAX];
    assert_int_equal(cairn_store_import(b, file, NULL, id, &err),
                     CAIRN_ECORRUPT);
    assert_int_equal(s_run_count(b), 0);
    fclose(file);
    cairn_result_destroy(&result);
}

static void
test_export_read_only(void **state)
{
    fx_t *fx = *state;
    cairn_result_t *result = fx_run_cycle(fx->store, "RUN", "10");
    /* a reader beside the writer exports... */
    cairn_store_t *reader = fx_open_dir(fx->dir, true);
    FILE *file = s_export_file(reader, "RUN");
    /* ...but cannot import */
    char id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t err;
    assert_int_equal(cairn_store_import(reader, file, "COPY", id, &err),
                     CAIRN_ESTATE);
    fx_assert_mentions(&err, "read-only");
    cairn_store_destroy(&reader);
    /* the reader's export is the run */
    cairn_store_t *b = fx_aux_store(fx, "b");
    s_import(b, file, NULL, "RUN");
    s_assert_same_run(fx->store, "RUN", b, NULL);
    fclose(file);
    cairn_result_destroy(&result);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_export_round_trip, rocksdb),
        FX_TEST(test_export_round_trip, memory),
        FX_TEST(test_export_existing_and_rename, rocksdb),
        FX_TEST(test_export_existing_and_rename, memory),
        FX_TEST(test_export_rename_then_continue, rocksdb),
        FX_TEST(test_export_rename_then_continue, memory),
        FX_TEST(test_export_fork_carries_lineage, rocksdb),
        FX_TEST(test_export_fork_carries_lineage, memory),
        FX_TEST(test_export_damaged_file, rocksdb),
        FX_TEST(test_export_damaged_file, memory),
        FX_TEST(test_export_unknown_run, rocksdb),
        FX_TEST(test_export_unknown_run, memory),
        FX_TEST(test_export_corrupt_store, rocksdb),
        FX_TEST(test_export_corrupt_store, memory),
        FX_TEST(test_export_read_only, rocksdb),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
