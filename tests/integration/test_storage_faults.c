/* test_storage_faults.c - the store's disk fails under a live run.
 *
 * Every case runs the real cairn binary in a child process on a real
 * RocksDB store in a mkdtemp directory, makes its disk fail, and checks
 * what the user is promised: the run stops with exit 1 and "checkpoint
 * RUN@N could not be written: <reason>" (never an abort), `cairn verify`
 * is clean, the run's latest checkpoint is the last one committed, and
 * once the fault is gone `cairn resume` (or, when not even the entry
 * checkpoint was stored, `cairn run` again) gives exactly the output of
 * an uninterrupted run.
 *
 * Faults, all below RocksDB (its C API has no custom Env):
 * - the fault shim (faultshim/faultshim.c, LD_PRELOAD): the K-th write to
 *   a write-ahead log file is cut in half, then every write fails with
 *   ENOSPC (or EROFS) - a disk that fills in the middle of a batch. On a
 *   new store WAL write 1 is the store's format record, 2 the entry
 *   checkpoint, 2 + s the checkpoint of superstep s of a chain (one
 *   write per batch, measured with CAIRN_FAULT_TRACE);
 * - RLIMIT_FSIZE set in the child between fork and exec, SIGXFSZ ignored
 *   (write() returns EFBIG);
 * - a 1 MiB tmpfs filled with a ballast file (needs mount; where the
 *   machine refuses it, the case says so and runs the shim instead);
 * - a store directory made unwritable (chmod 0500); as root chmod does
 *   not stop writes, so the children then run as uid/gid 65534.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/cairn.h>

#include "tests/harness/harness.h"
#include "tests/test_util.h"

#define WAIT_LIMIT_MS 60000
#define NOBODY 65534

/* A chain: ping counts, pace passes the count on, done outputs it at
 * LIMIT; 2 * LIMIT + 1 supersteps, one executor each (no pending
 * writes). */
#define LOOP_SPEC(limit)                                                       \
    "{\"name\": \"loop\", \"start\": \"ping\", \"max_supersteps\": 100000,\n"  \
    " \"executors\": [\n"                                                      \
    "   {\"id\": \"ping\", \"type\": \"count.inc\"},\n"                        \
    "   {\"id\": \"pace\", \"type\": \"text.upper\"},\n"                       \
    "   {\"id\": \"done\", \"type\": \"text.output\"}],\n"                     \
    " \"edges\": [\n"                                                          \
    "   {\"from\": \"ping\", \"to\": \"pace\"},\n"                             \
    "   {\"from\": \"pace\", \"switch\": [\n"                                  \
    "     {\"when\": {\"int_ge\": " #limit "}, \"to\": \"done\"},\n"           \
    "     {\"default\": true, \"to\": \"ping\"}]}]}\n"

/* A fan-out to three in superstep 2 (two pending writes before its
 * checkpoint) and their outputs in superstep 3. */
#define FAN_SPEC                                                               \
    "{\"name\": \"fan\", \"start\": \"a\", \"executors\": [\n"                 \
    " {\"id\": \"a\", \"type\": \"text.upper\"},\n"                            \
    " {\"id\": \"b\", \"type\": \"text.reverse\"},\n"                          \
    " {\"id\": \"c\", \"type\": \"text.lower\"},\n"                            \
    " {\"id\": \"d\", \"type\": \"text.upper\"},\n"                            \
    " {\"id\": \"o\", \"type\": \"text.output\"}],\n"                          \
    " \"edges\": [{\"from\": \"a\", \"to\": [\"b\", \"c\", \"d\"]},\n"         \
    "  {\"from\": \"b\", \"to\": \"o\"}, {\"from\": \"c\", \"to\": \"o\"},\n"  \
    "  {\"from\": \"d\", \"to\": \"o\"}]}\n"

static char s_dir[64]; /* this case's mkdtemp directory */
static unsigned s_seq; /* names capture files */

/* How a child is started. */
typedef struct {
    const char *fault_dir; /* CAIRN_FAULT_DIR: preload the shim */
    long wal_write;        /* CAIRN_FAULT_WAL_WRITE, 0 = none */
    const char *trigger;   /* CAIRN_FAULT_TRIGGER */
    int fault_errno;       /* CAIRN_FAULT_ERRNO, 0 = ENOSPC */
    rlim_t fsize;          /* RLIMIT_FSIZE in bytes, 0 = unlimited */
    bool as_nobody;        /* setgid/setuid 65534 before exec */
} s_fault_t;

typedef struct {
    int code; /* exit code; 128 + N when killed by signal N */
    char *out;
    char *err;
} s_result_t;

static int
s_setup(void **state)
{
    (void)state;
    return th_dir_make(s_dir, sizeof s_dir, "faults");
}

static int
s_teardown(void **state)
{
    (void)state;
    th_dir_remove(s_dir);
    return 0;
}

static const char *
s_path(const char *name)
{
    static char paths[32][256];
    static unsigned next;
    char *p = paths[next++ % 32];
    snprintf(p, 256, "%s/%s", s_dir, name);
    return p;
}

static void
s_write_file(const char *path, const char *text)
{
    th_write(path, text, strlen(text));
}

/* In the child, before exec: applies the fault (an s_fault_t). */
static void
s_apply_fault(void *arg)
{
    const s_fault_t *f = arg;
    if (f->fault_dir) {
        char n[32];
        setenv("LD_PRELOAD", CAIRN_FAULTSHIM, 1);
        /* the shim is preloaded ahead of the sanitizer runtime */
        setenv("ASAN_OPTIONS",
               "halt_on_error=1:detect_leaks=1:verify_asan_link_order=0", 1);
        setenv("CAIRN_FAULT_DIR", f->fault_dir, 1);
        snprintf(n, sizeof n, "%ld", f->wal_write);
        if (f->wal_write)
            setenv("CAIRN_FAULT_WAL_WRITE", n, 1);
        if (f->trigger)
            setenv("CAIRN_FAULT_TRIGGER", f->trigger, 1);
        snprintf(n, sizeof n, "%d", f->fault_errno);
        if (f->fault_errno)
            setenv("CAIRN_FAULT_ERRNO", n, 1);
    }
    if (f->fsize) {
        signal(SIGXFSZ, SIG_IGN); /* write() returns EFBIG instead */
        struct rlimit lim = {f->fsize, f->fsize};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(97);
    }
    if (f->as_nobody && (setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
        _exit(96);
}

/* Runs cairn with the NULL-terminated arguments under fault f (NULL =
 * none), bounded in time. */
static void
s_cairn(s_result_t *r, const s_fault_t *f, ...)
{
    const char *argv[32] = {CAIRN_BIN};
    size_t argc = 1;
    va_list args;
    va_start(args, f);
    for (const char *a; (a = va_arg(args, const char *)) && argc < 31;)
        argv[argc++] = a;
    va_end(args);
    char out[256], err[256], what[64];
    snprintf(out, sizeof out, "%s/out.%u", s_dir, s_seq);
    snprintf(err, sizeof err, "%s/err.%u", s_dir, s_seq++);
    snprintf(what, sizeof what, "cairn %s", argv[1]);
    th_spawn_t spec = {.argv = argv,
                       .out_path = out,
                       .err_path = err,
                       .before_exec = f ? s_apply_fault : NULL,
                       .arg = (void *)f};
    int code = th_finish(th_spawn(&spec), WAIT_LIMIT_MS, what);
    free(r->out);
    free(r->err);
    r->code = code;
    r->out = th_read(out, NULL);
    r->err = th_read(err, NULL);
    th_check_sanitizers(r->err, what);
}

static void
s_expect(const s_result_t *r, int code, const char *err_part)
{
    if (r->code != code || (err_part && !strstr(r->err, err_part)))
        fail_msg("expected exit %d and stderr with '%s'; got exit %d, "
                 "stderr:\n%s",
                 code, err_part ? err_part : "", r->code, r->err);
}

static void
s_free(s_result_t *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* The superstep of the run's newest checkpoint; -1 when the run is not
 * in the store (which must open). */
static long
s_latest(const char *db, const char *run_id)
{
    bool opened = false;
    long step = th_latest_superstep(db, run_id, &opened);
    assert_true(opened);
    return step;
}

/* `cairn verify` finds nothing wrong. */
static void
s_verify_clean(const char *db)
{
    s_result_t r = {0};
    s_cairn(&r, NULL, "verify", "--db", db, NULL);
    s_expect(&r, 0, "0 problem(s)");
    s_free(&r);
}

/* The superstep N of "checkpoint RUN@N could not be written" in err. */
static long
s_failed_step(const char *err, const char *run_id)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix, "checkpoint %s@", run_id);
    const char *at = strstr(err, prefix);
    if (!at || !strstr(at, " could not be written: "))
        th_fail_showing(err, "no 'checkpoint %s@N could not be written' in",
                        run_id);
    return atol(at + strlen(prefix));
}

/* The stdout of an uninterrupted run of spec on input (its own store). */
static char *
s_reference(const char *spec, const char *input)
{
    s_result_t r = {0};
    s_cairn(&r, NULL, "run", spec, "--input", input, "--db", s_path("ref"),
            "--run-id", "ref", NULL);
    s_expect(&r, 0, NULL);
    char *out = r.out;
    r.out = NULL;
    s_free(&r);
    return out;
}

/* The checks after a run stopped on a storage fault at checkpoint
 * RUN@failed: verify clean, the latest checkpoint the one before,
 * listed as interrupted; then resumes without the fault and compares
 * with the uninterrupted output and superstep count. */
static void
s_check_and_resume(const char *db, const char *run_id, long failed,
                   const char *expected, long last_step)
{
    s_verify_clean(db);
    assert_int_equal(s_latest(db, run_id), failed - 1);
    s_result_t r = {0};
    s_cairn(&r, NULL, "runs", "--db", db, NULL);
    s_expect(&r, 0, NULL);
    assert_non_null(strstr(r.out, "interrupted"));
    s_cairn(&r, NULL, "resume", run_id, "--db", db, NULL);
    s_expect(&r, 0, NULL);
    assert_string_equal(r.out, expected);
    assert_int_equal(s_latest(db, run_id), last_step);
    s_verify_clean(db);
    s_free(&r);
}

/* ---- the fault shim ---- */

static void
test_storage_faults_superstep_checkpoint(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(5));
    char *expected = s_reference(spec, "0");
    assert_string_equal(expected, "5\n");
    /* every checkpoint of the chain, one fresh store each */
    for (long step = 1; step <= 11; step++) {
        char db[64], id[16];
        snprintf(db, sizeof db, "db%ld", step);
        snprintf(id, sizeof id, "s%ld", step);
        const char *dir = s_path(db);
        s_fault_t f = {.fault_dir = dir, .wal_write = 2 + step};
        s_result_t r = {0};
        s_cairn(&r, &f, "run", spec, "--input", "0", "--db", dir, "--run-id",
                id, NULL);
        s_expect(&r, 1, "No space left on device");
        assert_int_equal(s_failed_step(r.err, id), step);
        assert_string_equal(r.out, "");
        s_check_and_resume(dir, id, step, expected, 11);
        s_free(&r);
    }
    free(expected);
}

static void
test_storage_faults_entry_checkpoint(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(5));
    char *expected = s_reference(spec, "0");
    const char *db = s_path("db");
    s_fault_t f = {.fault_dir = db, .wal_write = 2};
    s_result_t r = {0};
    s_cairn(&r, &f, "run", spec, "--input", "0", "--db", db, "--run-id", "e",
            NULL);
    s_expect(&r, 1, "checkpoint e@0 could not be written: ");
    s_expect(&r, 1, "No space left on device");
    s_expect(&r, 1, "nothing of run 'e' was stored: run it again");
    /* nothing of the run was stored: it is unknown, and runs again */
    s_verify_clean(db);
    assert_int_equal(s_latest(db, "e"), -1);
    s_cairn(&r, NULL, "resume", "e", "--db", db, NULL);
    s_expect(&r, 2, "unknown run 'e'");
    s_cairn(&r, NULL, "run", spec, "--input", "0", "--db", db, "--run-id", "e",
            NULL);
    s_expect(&r, 0, NULL);
    assert_string_equal(r.out, expected);
    assert_int_equal(s_latest(db, "e"), 11);
    s_verify_clean(db);
    s_free(&r);
    free(expected);
}

static void
test_storage_faults_pending_write(void **state)
{
    (void)state;
    const char *spec = s_path("fan.json");
    s_write_file(spec, FAN_SPEC);
    char *expected = s_reference(spec, "Hello");
    assert_string_equal(expected, "OLLEH\nhello\nHELLO\n");
    /* WAL writes: 1 format, 2 entry, 3 superstep 1, 4 and 5 the first
     * two Dones of superstep 2, 6 its checkpoint */
    for (long k = 4; k <= 5; k++) {
        char name[16];
        snprintf(name, sizeof name, "db%ld", k);
        const char *db = s_path(name);
        s_fault_t f = {.fault_dir = db, .wal_write = k};
        s_result_t r = {0};
        s_cairn(&r, &f, "run", spec, "--input", "Hello", "--db", db, "--run-id",
                "p", NULL);
        s_expect(&r, 1, "could not store the result of");
        assert_int_equal(s_failed_step(r.err, "p"), 2);
        s_check_and_resume(db, "p", 2, expected, 3);
        s_free(&r);
    }
    free(expected);
}

static void
test_storage_faults_during_resume(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(20));
    char *expected = s_reference(spec, "0");
    const char *db = s_path("db");
    s_fault_t f = {.fault_dir = db, .wal_write = 2 + 7};
    s_result_t r = {0};
    s_cairn(&r, &f, "run", spec, "--input", "0", "--db", db, "--run-id", "r",
            NULL);
    s_expect(&r, 1, NULL);
    assert_int_equal(s_failed_step(r.err, "r"), 7);
    /* the resume's disk fills too, a few checkpoints further on */
    f.wal_write = 8;
    s_cairn(&r, &f, "resume", "r", "--db", db, NULL);
    s_expect(&r, 1, "No space left on device");
    long failed = s_failed_step(r.err, "r");
    assert_true(failed > 7 && failed < 15);
    s_check_and_resume(db, "r", failed, expected, 41);
    s_free(&r);
    free(expected);
}

/* The store's file system turns read-only: under a live run (EROFS in
 * the middle of a checkpoint), and before a resume (the shim's trigger
 * file: every write fails from the start). */
static void
test_storage_faults_read_only(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(20));
    char *expected = s_reference(spec, "0");
    const char *db = s_path("db");
    s_fault_t f = {.fault_dir = db, .wal_write = 2 + 4, .fault_errno = EROFS};
    s_result_t r = {0};
    s_cairn(&r, &f, "run", spec, "--input", "0", "--db", db, "--run-id", "ro",
            NULL);
    s_expect(&r, 1, "Read-only file system");
    assert_int_equal(s_failed_step(r.err, "ro"), 4);
    s_verify_clean(db);
    assert_int_equal(s_latest(db, "ro"), 3);
    const char *trigger = s_path("read-only");
    s_write_file(trigger, "");
    s_fault_t g = {.fault_dir = db, .trigger = trigger, .fault_errno = EROFS};
    s_cairn(&r, &g, "resume", "ro", "--db", db, NULL);
    s_expect(&r, 1, "cannot open store");
    s_expect(&r, 1, "Read-only file system");
    unlink(trigger);
    s_check_and_resume(db, "ro", 4, expected, 41);
    s_free(&r);
    free(expected);
}

/* ---- the kernel's faults ---- */

static void
test_storage_faults_rlimit_fsize(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(300));
    char *expected = s_reference(spec, "0");
    const char *db = s_path("db");
    /* the WAL of one process reaches 64 KiB after ~200 checkpoints */
    s_fault_t f = {.fsize = 64 * 1024};
    s_result_t r = {0};
    s_cairn(&r, &f, "run", spec, "--input", "0", "--db", db, "--run-id", "big",
            NULL);
    s_expect(&r, 1, "File too large");
    long failed = s_failed_step(r.err, "big");
    assert_true(failed > 10 && failed < 601);
    s_verify_clean(db);
    assert_int_equal(s_latest(db, "big"), failed - 1);
    /* resumed under the same limit: a new WAL, further, then again */
    s_cairn(&r, &f, "resume", "big", "--db", db, NULL);
    s_expect(&r, 1, "File too large");
    long again = s_failed_step(r.err, "big");
    assert_true(again > failed);
    s_check_and_resume(db, "big", again, expected, 601);
    s_free(&r);
    free(expected);
}

static void
test_storage_faults_full_filesystem(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(300));
    char *expected = s_reference(spec, "0");
    const char *mnt = s_path("mnt");
    assert_int_equal(mkdir(mnt, 0700), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        /* Not silently skipped: the same disk-full stop through the shim
         * (the superstep and pending-write cases cover it exactly). */
        print_message("mount refused (%s): filling the disk through the "
                      "fault shim instead\n",
                      strerror(errno));
        const char *db = s_path("db");
        s_fault_t f = {.fault_dir = db, .wal_write = 2 + 100};
        s_result_t r = {0};
        s_cairn(&r, &f, "run", spec, "--input", "0", "--db", db, "--run-id",
                "full", NULL);
        s_expect(&r, 1, "No space left on device");
        assert_int_equal(s_failed_step(r.err, "full"), 100);
        s_check_and_resume(db, "full", 100, expected, 601);
        s_free(&r);
        free(expected);
        return;
    }
    char db[256], ballast[256];
    snprintf(db, sizeof db, "%s/db", mnt);
    snprintf(ballast, sizeof ballast, "%s/ballast", mnt);
    /* the store exists, then a ballast leaves ~100 KiB free */
    s_result_t r = {0};
    s_cairn(&r, NULL, "run", spec, "--input", "0", "--db", db,
            "--max-supersteps", "3", "--run-id", "full", NULL);
    s_expect(&r, 4, NULL);
    FILE *b = fopen(ballast, "w");
    assert_non_null(b);
    static char block[4096];
    size_t blocks = 0;
    while (fwrite(block, sizeof block, 1, b) == 1 && fflush(b) == 0)
        blocks++;
    fclose(b);
    assert_int_equal(truncate(ballast, (off_t)(blocks - 25) * 4096), 0);
    /* a new limit (the run keeps its 3), kept for the resumes after */
    s_cairn(&r, NULL, "resume", "full", "--db", db, "--max-supersteps", "1000",
            NULL);
    s_expect(&r, 1, "No space left on device");
    long failed = s_failed_step(r.err, "full");
    assert_true(failed > 3);
    /* space freed */
    unlink(ballast);
    s_check_and_resume(db, "full", failed, expected, 601);
    s_free(&r);
    umount(mnt);
    free(expected);
}

static void
test_storage_faults_unwritable_dir(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(20));
    char *expected = s_reference(spec, "0");
    const char *db = s_path("db");
    /* as root chmod stops nothing: the cairn processes run as nobody */
    bool root = geteuid() == 0;
    s_fault_t f = {.as_nobody = root};
    if (root) {
        assert_int_equal(chown(s_dir, NOBODY, NOBODY), 0);
        assert_int_equal(chmod(s_dir, 0755), 0);
    }
    s_result_t r = {0};
    s_cairn(&r, &f, "run", spec, "--input", "0", "--db", db, "--max-supersteps",
            "9", "--run-id", "u", NULL);
    s_expect(&r, 4, NULL);
    assert_int_equal(chmod(db, 0500), 0);
    /* a new limit (the run keeps its 9); refused, so not kept */
    s_cairn(&r, &f, "resume", "u", "--db", db, "--max-supersteps", "1000",
            NULL);
    s_expect(&r, 1, "Permission denied");
    s_expect(&r, 1, db);
    assert_int_equal(chmod(db, 0700), 0);
    s_verify_clean(db);
    assert_int_equal(s_latest(db, "u"), 9);
    s_cairn(&r, &f, "resume", "u", "--db", db, "--max-supersteps", "1000",
            NULL);
    s_expect(&r, 0, NULL);
    assert_string_equal(r.out, expected);
    assert_int_equal(s_latest(db, "u"), 41);
    s_free(&r);
    free(expected);
}

/* Another user's store: a writer is told it may not write there, naming
 * the store; before, RocksDB's "While open a file for lock: DIR/LOCK:
 * Permission denied" contained "lock" and read as "store DIR is in use
 * by another process" (exit 2). Readers still read it. */
static void
test_storage_faults_other_users_store(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("not root: no other user's store to open (the "
                      "unwritable_dir case covers a store we may not "
                      "write)\n");
        return;
    }
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(20));
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, NULL, "run", spec, "--input", "0", "--db", db,
            "--max-supersteps", "3", "--run-id", "o", NULL);
    s_expect(&r, 4, NULL);
    assert_int_equal(chmod(s_dir, 0755), 0);
    assert_int_equal(chmod(spec, 0644), 0);
    s_fault_t nobody = {.as_nobody = true};
    s_cairn(&r, &nobody, "resume", "o", "--db", db, NULL);
    s_expect(&r, 1, "Permission denied");
    s_expect(&r, 1, db);
    if (strstr(r.err, "in use"))
        th_fail_showing(r.err, "another user's store reported as locked");
    s_cairn(&r, &nobody, "runs", "--db", db, NULL);
    s_expect(&r, 0, NULL);
    assert_non_null(strstr(r.out, "o "));
    s_free(&r);
}

/* The store's file system is mounted read-only: writers say so, naming
 * the store, exit 1 (it read as a lock conflict too); readers work. */
static void
test_storage_faults_read_only_mount(void **state)
{
    (void)state;
    const char *spec = s_path("loop.json");
    s_write_file(spec, LOOP_SPEC(20));
    const char *mnt = s_path("mnt");
    assert_int_equal(mkdir(mnt, 0700), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=4m") != 0) {
        /* EROFS from the first write on is the read_only case's resume */
        print_message("mount refused (%s): the read_only case's shim "
                      "covers a read-only store\n",
                      strerror(errno));
        return;
    }
    char db[256];
    snprintf(db, sizeof db, "%s/db", mnt);
    s_result_t r = {0};
    s_cairn(&r, NULL, "run", spec, "--input", "0", "--db", db,
            "--max-supersteps", "3", "--run-id", "m", NULL);
    s_expect(&r, 4, NULL);
    int rc = mount("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL);
    if (rc == 0) {
        s_cairn(&r, NULL, "resume", "m", "--db", db, NULL);
        s_expect(&r, 1, "Read-only file system");
        s_expect(&r, 1, db);
        if (strstr(r.err, "in use"))
            th_fail_showing(r.err, "a read-only store reported as locked");
        s_cairn(&r, NULL, "runs", "--db", db, NULL);
        s_expect(&r, 0, NULL);
    }
    s_free(&r);
    umount(mnt);
    assert_int_equal(rc, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define CASE(name)                                                             \
    cmocka_unit_test_setup_teardown(test_storage_faults_##name, s_setup,       \
                                    s_teardown)
        CASE(superstep_checkpoint),
        CASE(entry_checkpoint),
        CASE(pending_write),
        CASE(during_resume),
        CASE(read_only),
        CASE(rlimit_fsize),
        CASE(full_filesystem),
        CASE(unwritable_dir),
        CASE(other_users_store),
        CASE(read_only_mount),
#undef CASE
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
