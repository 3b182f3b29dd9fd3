/* test_store_integrity - a cairn store's data and files under damage and
 * contention: corrupt manifests and state values (verify names them),
 * locking against this and other processes, read-only access beside a
 * writer, a store of a newer format, the basics of opening and closing.
 *
 * Cases about files, processes and the on-disk format run on RocksDB
 * only; the others on both backends (FX_TEST(fn, rocksdb) / FX_TEST(fn,
 * memory)). The corruption and format cases reach below the public API
 * through storage/store_internal.h (the backend vtable of an open store)
 * to damage stored values the way a disk would. Other processes are this
 * executable run again in a helper mode (see main).
 */
#include "tests/storage/store_fixture.h"

#include <signal.h>
#include <sys/wait.h>

#include "cairn.pb-c.h"
#include "checkpoint.pb-c.h"
#include "storage/record.h"
#include "storage/store_internal.h"

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
test_store_corrupt_manifest(void **state)
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
test_store_verify_reports_damage(void **state)
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
test_store_corrupt_state_value(void **state)
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
test_store_lock_same_process(void **state)
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
        execl("/proc/self/exe", "test_store_integrity", mode, dir, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *to_child = in[1];
    *from_child = out[0];
    return pid;
}

static void
test_store_lock_child_process(void **state)
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
test_store_lock_held_by_child(void **state)
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
test_store_read_only_beside_writer(void **state)
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
test_store_read_only_missing_dir(void **state)
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
test_store_newer_format(void **state)
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
        FX_TEST(test_store_corrupt_manifest, rocksdb),
        FX_TEST(test_store_corrupt_manifest, memory),
        FX_TEST(test_store_corrupt_state_value, rocksdb),
        FX_TEST(test_store_verify_reports_damage, rocksdb),
        FX_TEST(test_store_verify_reports_damage, memory),
        FX_TEST(test_store_corrupt_state_value, memory),
        FX_TEST(test_store_lock_same_process, rocksdb),
        FX_TEST(test_store_lock_child_process, rocksdb),
        FX_TEST(test_store_lock_held_by_child, rocksdb),
        FX_TEST(test_store_read_only_beside_writer, rocksdb),
        FX_TEST(test_store_read_only_missing_dir, rocksdb),
        FX_TEST(test_store_newer_format, rocksdb),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
