/* backend_rocksdb.c - the backend on RocksDB (one column family per kind
 * of record, one WriteBatch per commit).
 *
 * The writer holds RocksDB's LOCK file, so a second writer fails to open;
 * readers open as a RocksDB secondary instance (with a private scratch
 * directory for its info log) and catch up with the writer on refresh,
 * so inspection works while a run is live.
 *
 * A store made by an older cairn may lack a family added since (events):
 * the writer creates it on open; a reader opens the families the store
 * has and treats a missing one as empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "storage/backend.h"
#include "storage/keys.h"

const char *const cairn__cf_names[CAIRN__CF_COUNT] = {
    "default", "runs", "checkpoints", "inflight", "state", "outputs",
    "pending", "events"};

typedef struct {
    cairn__backend_t base;
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_column_family_handle_t *cfs[CAIRN__CF_COUNT];
    rocksdb_readoptions_t *read;
    rocksdb_readoptions_t *read_none; /* iterators of a missing family */
    rocksdb_writeoptions_t *write_async;
    rocksdb_writeoptions_t *write_sync;
    char *secondary_dir; /* scratch dir of a secondary, removed at close */
    char *log_dir;       /* RocksDB's info LOG, off the store's disk */
    /* Writes from several threads (store handles of cairn_store_share)
     * go one at a time. RocksDB would merge them into one write group,
     * its leader reading the others' batches under synchronisation
     * ThreadSanitizer cannot see in Debian's uninstrumented library; it
     * serialises writes anyway, so the lock costs nothing measurable
     * (uncontended: tens of ns beside a ~9 µs write). */
    pthread_mutex_t write_lock;
    /* A write failed (disk full, I/O error): RocksDB refuses every later
     * write of this process until it is reopened, and Debian's build
     * asserts (aborts) in its log writer when asked to append after the
     * error. So nothing more is written, not even the flush on close:
     * what was committed is in the log already. Guarded by write_lock. */
    bool write_failed;
} s_rocks_t;

typedef struct {
    rocksdb_writebatch_t *wb;
    s_rocks_t *owner;
} s_batch_t;

static s_rocks_t *
s_self(cairn__backend_t *base)
{
    return (s_rocks_t *)(void *)base;
}

static int
s_remove_entry(const char *path, const struct stat *sb, int flag,
               struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* A writer flushes its memtables when it closes, so the next open (a
 * resume, often) does not replay the write-ahead log of every checkpoint
 * since the last flush. Failure only costs that replay. */
static void
s_flush(s_rocks_t *self)
{
    rocksdb_flushoptions_t *flush = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(flush, 1);
    for (int i = 0; i < CAIRN__CF_COUNT; i++) {
        char *rocks_err = NULL;
        rocksdb_flush_cf(self->db, flush, self->cfs[i], &rocks_err);
        free(rocks_err);
    }
    rocksdb_flushoptions_destroy(flush);
}

/* Whether RocksDB is compacting, or has a compaction to do. */
static bool
s_compacting(s_rocks_t *self, bool *running)
{
    uint64_t value = 0;
    *running = rocksdb_property_int(self->db, "rocksdb.num-running-compactions",
                                    &value) == 0
               && value > 0;
    bool pending = false;
    for (int i = 0; i < CAIRN__CF_COUNT && !pending; i++)
        pending = rocksdb_property_int_cf(self->db, self->cfs[i],
                                          "rocksdb.compaction-pending", &value)
                      == 0
                  && value > 0;
    return *running || pending;
}

/* Lets the compactions the closing flush started finish. Every writer
 * flushes a table file per family it wrote to when it closes, and
 * RocksDB compacts them in the background once a family has four; a
 * short-lived writer (one `cairn run` of a few steps) closed before that
 * finished, so nothing was ever compacted: 1,101 files after 220 runs,
 * each kept open by every reader, until "Too many open files". RocksDB
 * picks the compaction (the level-0 files and what they overlap), so it
 * costs what the next writer would have paid. The C API has no wait for
 * it (RocksDB 7.8), hence the poll; bounded, and given up when a
 * compaction stays pending with none running. */
static void
s_settle(s_rocks_t *self)
{
    const struct timespec tick = {0, 1000000}; /* 1 ms */
    int idle_ms = 0;
    for (int ms = 0; ms < 30000 && idle_ms < 500; ms++) {
        bool running;
        if (!s_compacting(self, &running))
            return;
        idle_ms = running ? 0 : idle_ms + 1;
        nanosleep(&tick, NULL);
    }
}

static void
s_close(cairn__backend_t *base)
{
    s_rocks_t *self = s_self(base);
    if (self->db && !self->secondary_dir && !self->write_failed) {
        s_flush(self);
        s_settle(self);
    }
    for (int i = 0; i < CAIRN__CF_COUNT; i++)
        if (self->cfs[i])
            rocksdb_column_family_handle_destroy(self->cfs[i]);
    if (self->db)
        rocksdb_close(self->db);
    if (self->options)
        rocksdb_options_destroy(self->options);
    if (self->read)
        rocksdb_readoptions_destroy(self->read);
    if (self->read_none)
        rocksdb_readoptions_destroy(self->read_none);
    if (self->write_async)
        rocksdb_writeoptions_destroy(self->write_async);
    if (self->write_sync)
        rocksdb_writeoptions_destroy(self->write_sync);
    if (self->secondary_dir) {
        nftw(self->secondary_dir, s_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(self->secondary_dir);
    }
    if (self->log_dir) {
        nftw(self->log_dir, s_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(self->log_dir);
    }
    pthread_mutex_destroy(&self->write_lock);
    free(self);
}

static cairn__batch_t *
s_batch_new(cairn__backend_t *base)
{
    s_batch_t *batch = calloc(1, sizeof *batch);
    if (!batch)
        return NULL;
    batch->wb = rocksdb_writebatch_create();
    batch->owner = s_self(base);
    return batch;
}

static void
s_batch_put(cairn__batch_t *handle, cairn__cf_t cf, const uint8_t *key,
            size_t key_len, const uint8_t *value, size_t value_len)
{
    s_batch_t *batch = handle;
    rocksdb_writebatch_put_cf(batch->wb, batch->owner->cfs[cf],
                              (const char *)key, key_len,
                              (const char *)value, value_len);
}

static void
s_batch_delete(cairn__batch_t *handle, cairn__cf_t cf, const uint8_t *key,
               size_t key_len)
{
    s_batch_t *batch = handle;
    rocksdb_writebatch_delete_cf(batch->wb, batch->owner->cfs[cf],
                                 (const char *)key, key_len);
}

static void
s_batch_delete_range(cairn__batch_t *handle, cairn__cf_t cf,
                     const uint8_t *begin, size_t begin_len,
                     const uint8_t *end, size_t end_len)
{
    s_batch_t *batch = handle;
    rocksdb_writebatch_delete_range_cf(batch->wb, batch->owner->cfs[cf],
                                       (const char *)begin, begin_len,
                                       (const char *)end, end_len);
}

static size_t
s_batch_size(const cairn__batch_t *handle)
{
    const s_batch_t *batch = handle;
    size_t size = 0;
    rocksdb_writebatch_data(batch->wb, &size);
    return size;
}

static void
s_batch_free(cairn__batch_t *handle)
{
    s_batch_t *batch = handle;
    if (!batch)
        return;
    rocksdb_writebatch_destroy(batch->wb);
    free(batch);
}

/* The cairn error for a RocksDB status. The C API gives a status only
 * as its text, "<code>: <message>", so the code is its prefix; only a
 * checksum mismatch or a malformed block ("Corruption") is data damage,
 * everything else (I/O, resources) a storage failure. */
static int
s_status_code(const char *rocks_err)
{
    return strncmp(rocks_err, "Corruption:", 11) == 0 ? CAIRN_ECORRUPT
                                                      : CAIRN_ESTORE;
}

/* Writes key printably into out: text as is, other bytes as \xNN (keys
 * mix ids with NUL separators and big-endian numbers; keys.h). */
static void
s_key_text(const uint8_t *key, size_t len, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < len && n + 5 < size; i++) {
        if (key[i] >= 0x20 && key[i] < 0x7f && key[i] != '\\')
            out[n++] = (char)key[i];
        else
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", key[i]);
    }
    out[n] = '\0';
}

/* Turns a RocksDB error string from a read or write of family cf (at key,
 * when there is one) into a cairn error, and frees it. RocksDB's text
 * names the file ("... in DIR/000012.sst offset 4096 size 1200"). */
static int
s_fail(char *rocks_err, const char *what, cairn__cf_t cf, const uint8_t *key,
       size_t key_len, cairn_error_t *err)
{
    int code = s_status_code(rocks_err);
    char at[256];
    s_key_text(key, key ? key_len : 0, at, sizeof at);
    if (key)
        cairn_error_set(err, code, "%s key '%s' of family '%s': %s", what, at,
                        cairn__cf_names[cf], rocks_err);
    else
        cairn_error_set(err, code, "%s family '%s': %s", what,
                        cairn__cf_names[cf], rocks_err);
    free(rocks_err);
    return code;
}

/* The same for an error with no family (open, catch-up). */
static int
s_fail_store(char *rocks_err, const char *what, cairn_error_t *err)
{
    int code = s_status_code(rocks_err);
    cairn_error_set(err, code, "%s: %s", what, rocks_err);
    free(rocks_err);
    return code;
}

static int
s_batch_commit(cairn__backend_t *base, cairn__batch_t *handle, bool sync,
               cairn_error_t *err)
{
    s_rocks_t *self = s_self(base);
    s_batch_t *batch = handle;
    char *rocks_err = NULL;
    pthread_mutex_lock(&self->write_lock);
    bool refused = self->write_failed;
    if (!refused)
        rocksdb_write(self->db, sync ? self->write_sync : self->write_async,
                      batch->wb, &rocks_err);
    if (rocks_err)
        self->write_failed = true;
    pthread_mutex_unlock(&self->write_lock);
    if (refused)
        return cairn_error_set(err, CAIRN_ESTORE,
                               "write refused: an earlier write to this "
                               "store failed (reopen it once the cause is "
                               "fixed)");
    if (rocks_err)
        return s_fail_store(rocks_err, "write failed", err);
    return CAIRN_OK;
}

static int
s_get(cairn__backend_t *base, cairn__cf_t cf, const uint8_t *key,
      size_t key_len, uint8_t **value, size_t *value_len, cairn_error_t *err)
{
    s_rocks_t *self = s_self(base);
    char *rocks_err = NULL;
    *value = NULL;
    *value_len = 0;
    if (!self->cfs[cf])
        return CAIRN_ENOTFOUND;
    *value = (uint8_t *)rocksdb_get_cf(self->db, self->read, self->cfs[cf],
                                       (const char *)key, key_len, value_len,
                                       &rocks_err);
    if (rocks_err)
        return s_fail(rocks_err, "reading", cf, key, key_len, err);
    return *value ? CAIRN_OK : CAIRN_ENOTFOUND;
}

/* An iterator remembers its family and the key it last stood on, so a
 * read error can say where it happened: once RocksDB hits a bad block
 * the iterator is invalid and has no key any more. */
typedef struct {
    rocksdb_iterator_t *it;
    cairn__cf_t cf;
    cairn__key_t at; /* the key last read or sought */
} s_iter_t;

static cairn__iter_t *
s_iter_new(cairn__backend_t *base, cairn__cf_t cf)
{
    s_rocks_t *self = s_self(base);
    s_iter_t *iter = calloc(1, sizeof *iter);
    if (!iter)
        return NULL;
    iter->cf = cf;
    if (!self->cfs[cf]) /* an empty upper bound: never valid */
        iter->it = rocksdb_create_iterator_cf(self->db, self->read_none,
                                              self->cfs[CAIRN__CF_META]);
    else
        iter->it =
            rocksdb_create_iterator_cf(self->db, self->read, self->cfs[cf]);
    return iter;
}

static void
s_iter_remember(s_iter_t *iter, const uint8_t *key, size_t len)
{
    cairn__key_reset(&iter->at);
    cairn__key_add_bytes(&iter->at, key, len);
}

/* Remembers the current key before the iterator moves off it. */
static void
s_iter_leave(s_iter_t *iter)
{
    size_t len;
    const char *key = rocksdb_iter_key(iter->it, &len);
    s_iter_remember(iter, (const uint8_t *)key, len);
}

static void
s_iter_seek(cairn__iter_t *handle, const uint8_t *key, size_t len)
{
    s_iter_t *iter = handle;
    s_iter_remember(iter, key, len);
    rocksdb_iter_seek(iter->it, (const char *)key, len);
}

static void
s_iter_seek_for_prev(cairn__iter_t *handle, const uint8_t *key, size_t len)
{
    s_iter_t *iter = handle;
    s_iter_remember(iter, key, len);
    rocksdb_iter_seek_for_prev(iter->it, (const char *)key, len);
}

static bool
s_iter_valid(const cairn__iter_t *handle)
{
    const s_iter_t *iter = handle;
    return rocksdb_iter_valid(iter->it) != 0;
}

static void
s_iter_next(cairn__iter_t *handle)
{
    s_iter_t *iter = handle;
    s_iter_leave(iter);
    rocksdb_iter_next(iter->it);
}

static void
s_iter_prev(cairn__iter_t *handle)
{
    s_iter_t *iter = handle;
    s_iter_leave(iter);
    rocksdb_iter_prev(iter->it);
}

static const uint8_t *
s_iter_key(const cairn__iter_t *handle, size_t *len)
{
    const s_iter_t *iter = handle;
    return (const uint8_t *)rocksdb_iter_key(iter->it, len);
}

static const uint8_t *
s_iter_value(const cairn__iter_t *handle, size_t *len)
{
    const s_iter_t *iter = handle;
    return (const uint8_t *)rocksdb_iter_value(iter->it, len);
}

static int
s_iter_status(const cairn__iter_t *handle, cairn_error_t *err)
{
    const s_iter_t *iter = handle;
    char *rocks_err = NULL;
    rocksdb_iter_get_error(iter->it, &rocks_err);
    if (!rocks_err)
        return CAIRN_OK;
    if (iter->at.out_of_memory)
        return s_fail(rocks_err, "reading", iter->cf, NULL, 0, err);
    return s_fail(rocks_err, "reading", iter->cf, iter->at.data, iter->at.len,
                  err);
}

static void
s_iter_free(cairn__iter_t *handle)
{
    s_iter_t *iter = handle;
    if (!iter)
        return;
    rocksdb_iter_destroy(iter->it);
    cairn__key_free(&iter->at);
    free(iter);
}

static int
s_refresh(cairn__backend_t *base, cairn_error_t *err)
{
    s_rocks_t *self = s_self(base);
    if (!self->secondary_dir)
        return CAIRN_OK;
    char *rocks_err = NULL;
    rocksdb_try_catch_up_with_primary(self->db, &rocks_err);
    if (rocks_err)
        return s_fail_store(rocks_err, "catching up with the writer", err);
    return CAIRN_OK;
}

static const cairn__backend_ops_t s_ops = {
    .close = s_close,
    .batch_new = s_batch_new,
    .batch_put = s_batch_put,
    .batch_delete = s_batch_delete,
    .batch_delete_range = s_batch_delete_range,
    .batch_size = s_batch_size,
    .batch_commit = s_batch_commit,
    .batch_free = s_batch_free,
    .get = s_get,
    .iter_new = s_iter_new,
    .iter_seek = s_iter_seek,
    .iter_seek_for_prev = s_iter_seek_for_prev,
    .iter_valid = s_iter_valid,
    .iter_next = s_iter_next,
    .iter_prev = s_iter_prev,
    .iter_key = s_iter_key,
    .iter_value = s_iter_value,
    .iter_status = s_iter_status,
    .iter_free = s_iter_free,
    .refresh = s_refresh,
};

/* Which of our families a store has (a reader must not ask for one it
 * lacks). All of them when the list cannot be read: the open then says
 * what is wrong. */
static void
s_present_families(s_rocks_t *self, const char *dir, bool present[])
{
    for (int i = 0; i < CAIRN__CF_COUNT; i++)
        present[i] = true;
    size_t count = 0;
    char *rocks_err = NULL;
    char **names =
        rocksdb_list_column_families(self->options, dir, &count, &rocks_err);
    if (rocks_err || !names) {
        /* It allocates the (empty) list even when it fails. */
        if (names)
            rocksdb_list_column_families_destroy(names, count);
        free(rocks_err);
        return;
    }
    for (int i = 0; i < CAIRN__CF_COUNT; i++) {
        present[i] = false;
        for (size_t k = 0; k < count && !present[i]; k++)
            present[i] = strcmp(names[k], cairn__cf_names[i]) == 0;
    }
    rocksdb_list_column_families_destroy(names, count);
}

static bool
s_starts(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* The pid of another process holding RocksDB's lock on dir/LOCK (a POSIX
 * record lock, fcntl F_SETLK), -1 when one holds it but its pid is not
 * visible (another pid namespace), 0 when nobody else does. Only called
 * after RocksDB refused the lock for another reason than this process
 * holding it: closing a descriptor of LOCK drops every lock this
 * process has on it. */
static long
s_lock_holder(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long holder = 0;
    if (fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK)
        holder = lock.l_pid > 0 ? (long)lock.l_pid : -1;
    close(fd);
    return holder;
}

static bool
s_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Says why RocksDB could not open dir, and frees rocks_err. The status
 * is classified by its code (the C API gives only its text, "<code>:
 * <message>"), and a lock conflict is checked on the lock itself: the
 * message of a checksum mismatch ("block checksum mismatch") or of an
 * unwritable LOCK file also contains "lock". A writer that cannot write
 * dir (another user's store, a read-only file system) is told so. */
static int
s_open_error(const char *dir, cairn__open_mode_t mode, char *rocks_err,
             cairn_error_t *err)
{
    bool writer = mode == CAIRN__OPEN_WRITE;
    long holder = 0;
    int rc;
    if (writer && s_starts(rocks_err, "IO error: lock hold by current process"))
        rc = cairn_error_set(err, CAIRN_ELOCKED,
                             "store %s is in use by pid %ld (this process)",
                             dir, (long)getpid());
    else if (writer && (holder = s_lock_holder(dir)) > 0)
        rc = cairn_error_set(err, CAIRN_ELOCKED,
                             "store %s is in use by pid %ld", dir, holder);
    else if (writer && holder < 0)
        rc = cairn_error_set(err, CAIRN_ELOCKED,
                             "store %s is in use by another process", dir);
    else if (s_status_code(rocks_err) == CAIRN_ECORRUPT)
        rc = cairn_error_set(err, CAIRN_ECORRUPT, "store %s is corrupt: %s",
                             dir, rocks_err);
    else if (s_is_dir(dir)
             && access(dir, writer ? R_OK | W_OK | X_OK : R_OK | X_OK) != 0)
        rc = cairn_error_set(err, CAIRN_ESTORE,
                             "cannot open store %s for %s: %s", dir,
                             writer ? "writing" : "reading", strerror(errno));
    else
        rc = cairn_error_set(err, CAIRN_ESTORE, "cannot open store %s: %s",
                             dir, rocks_err);
    free(rocks_err);
    return rc;
}

static int
s_open_db(s_rocks_t *self, const char *dir, cairn__open_mode_t mode,
          cairn_error_t *err)
{
    const rocksdb_options_t *cf_options[CAIRN__CF_COUNT];
    const char *names[CAIRN__CF_COUNT];
    rocksdb_column_family_handle_t *handles[CAIRN__CF_COUNT];
    bool present[CAIRN__CF_COUNT];
    int opened = 0;
    for (int i = 0; i < CAIRN__CF_COUNT; i++)
        present[i] = true;
    if (mode != CAIRN__OPEN_WRITE)
        s_present_families(self, dir, present);
    for (int i = 0; i < CAIRN__CF_COUNT; i++)
        if (present[i]) {
            cf_options[opened] = self->options;
            names[opened++] = cairn__cf_names[i];
        }
    char *rocks_err = NULL;
    if (mode == CAIRN__OPEN_WRITE) {
        self->db = rocksdb_open_column_families(self->options, dir, opened,
                                                names, cf_options, handles,
                                                &rocks_err);
    } else {
        char scratch[] = "/tmp/cairn-secondary-XXXXXX";
        if (!mkdtemp(scratch))
            return cairn_error_set(err, CAIRN_ESTORE,
                                   "cannot create a scratch directory for "
                                   "reading store %s",
                                   dir);
        self->secondary_dir = strdup(scratch);
        if (!self->secondary_dir)
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        self->db = rocksdb_open_as_secondary_column_families(
            self->options, dir, scratch, opened, names, cf_options, handles,
            &rocks_err);
    }
    if (!rocks_err) {
        for (int i = 0, k = 0; i < CAIRN__CF_COUNT; i++)
            self->cfs[i] = present[i] ? handles[k++] : NULL;
        return CAIRN_OK;
    }
    return s_open_error(dir, mode, rocks_err, err);
}

/* Keeps RocksDB's info LOG off the store's disk, in a scratch directory
 * (memory-backed /dev/shm where there is one) removed at close. Debian's
 * RocksDB is built with assertions, and its info logger appends again
 * after a failed write, which aborts the process
 * (WritableFileWriter::AssertFalseAndGetStatusForPrevError) as soon as
 * the store's disk is full: found with a full tmpfs and the fault shim
 * (tests/integration/test_storage_faults.c). cairn reports every RocksDB
 * error itself; the LOG only held warnings. Without a scratch directory
 * the LOG stays in the store. */
static void
s_move_info_log(s_rocks_t *self)
{
    char shm[] = "/dev/shm/cairn-log-XXXXXX";
    char tmp[] = "/tmp/cairn-log-XXXXXX";
    const char *dir = mkdtemp(shm);
    if (!dir)
        dir = mkdtemp(tmp);
    if (!dir || !(self->log_dir = strdup(dir)))
        return;
    rocksdb_options_set_db_log_dir(self->options, self->log_dir);
}

/* Table files a writer keeps open: a quarter of RLIMIT_NOFILE, between
 * 32 and 1024 (sockets, the log and the write-ahead log need the rest). */
static int
s_max_open_files(void)
{
    struct rlimit limit;
    rlim_t files = 256;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        files = limit.rlim_cur / 4;
    return files < 32 ? 32 : files > 1024 ? 1024 : (int)files;
}

int
cairn__backend_open_rocksdb(cairn__backend_t **out, const char *dir,
                            cairn__open_mode_t mode, cairn_error_t *err)
{
    *out = NULL;
    s_rocks_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    self->base.ops = &s_ops;
    pthread_mutex_init(&self->write_lock, NULL);
    self->options = rocksdb_options_create();
    self->read = rocksdb_readoptions_create();
    self->read_none = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_upper_bound(self->read_none, "", 0);
    self->write_async = rocksdb_writeoptions_create();
    self->write_sync = rocksdb_writeoptions_create();
    rocksdb_options_set_create_if_missing(self->options,
                                          mode == CAIRN__OPEN_WRITE);
    rocksdb_options_set_create_missing_column_families(
        self->options, mode == CAIRN__OPEN_WRITE);
    /* Both are RocksDB's defaults; set so that no reader ever trusts a
     * block whose checksum it did not check, and an open that finds a
     * damaged file fails instead of serving around it. */
    rocksdb_options_set_paranoid_checks(self->options, 1);
    rocksdb_readoptions_set_verify_checksums(self->read, 1);
    /* Secondaries must keep every file open to follow the writer (RocksDB
     * refuses to open one otherwise), so the number of table files is
     * kept small by compaction (s_settle); the writer keeps at most a
     * share of the process's descriptors. */
    rocksdb_options_set_max_open_files(
        self->options, mode == CAIRN__OPEN_WRITE ? s_max_open_files() : -1);
    /* RocksDB opens table files with up to 16 threads per column family
     * by default: ~110 thread starts per open here, most of the open time
     * of a small store. Our stores have few files per family. */
    rocksdb_options_set_max_file_opening_threads(self->options, 1);
    rocksdb_options_set_info_log_level(self->options, 2 /* WARN */);
    /* Memtables of all column families together stay under 16 MiB: a
     * long run would otherwise grow by its checkpoints' bytes until each
     * of the 7 families reached RocksDB's default 64 MiB (measured:
     * +22 MB of RSS over 100,000 supersteps, still climbing). */
    rocksdb_options_set_db_write_buffer_size(self->options, (size_t)16 << 20);
    rocksdb_options_set_keep_log_file_num(self->options, 2);
    /* Universal compaction: every writer adds a small table file per
     * family, each for new keys (a new run id sorts apart from the
     * others). Level compaction moves such files to level 1 as they are
     * (a "trivial move", nothing overlaps) and merges them only once the
     * level holds 256 MB, so their number grew with every process.
     * Universal compaction merges sorted runs of similar size once there
     * are four: the number of files stays logarithmic in the data. */
    rocksdb_options_set_compaction_style(self->options,
                                         rocksdb_universal_compaction);
    rocksdb_writeoptions_set_sync(self->write_sync, 1);
    s_move_info_log(self);
    int rc = s_open_db(self, dir, mode, err);
    if (rc != CAIRN_OK) {
        s_close(&self->base);
        return rc;
    }
    *out = &self->base;
    return CAIRN_OK;
}
