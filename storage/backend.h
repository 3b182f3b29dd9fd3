/* backend.h - the ordered key-value interface a store is built on.
 *
 * A backend is a set of column families, each an ordered map of byte
 * keys to byte values, written only through atomic batches. The
 * checkpoint logic (store.c) is written once against this vtable; the
 * RocksDB backend (on disk) and the memory backend (tests, durability
 * none) implement it. Backends do not know what the bytes mean.
 *
 * Threading: a backend is used by one thread at a time.
 */
#ifndef CAIRN_BACKEND_H_INCLUDED
#define CAIRN_BACKEND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/error.h"

typedef enum {
    CAIRN__CF_META = 0,    /* store format */
    CAIRN__CF_RUNS,        /* run id -> RunRecord */
    CAIRN__CF_CHECKPOINTS, /* run, superstep -> CheckpointRecord */
    CAIRN__CF_INFLIGHT,    /* run, superstep -> InflightRecord */
    CAIRN__CF_STATE,       /* run, scope, key, ~superstep -> ValueRecord */
    CAIRN__CF_OUTPUTS,     /* run, superstep -> OutputRecord */
    CAIRN__CF_PENDING,     /* run, superstep, executor -> Done */
    CAIRN__CF_EVENTS,      /* run, seq -> EventRecord */
    CAIRN__CF_COUNT
} cairn__cf_t;

/* The column family names, as RocksDB stores them. */
extern const char *const cairn__cf_names[CAIRN__CF_COUNT];

typedef struct cairn__backend_t cairn__backend_t;
typedef void cairn__batch_t;
typedef void cairn__iter_t;

typedef struct {
    void (*close)(cairn__backend_t *self);

    cairn__batch_t *(*batch_new)(cairn__backend_t *self);
    /* put/delete never fail: a batch that ran out of memory fails at
     * commit. */
    void (*batch_put)(cairn__batch_t *batch, cairn__cf_t cf,
                      const uint8_t *key, size_t key_len,
                      const uint8_t *value, size_t value_len);
    void (*batch_delete)(cairn__batch_t *batch, cairn__cf_t cf,
                         const uint8_t *key, size_t key_len);
    /* Deletes every key in [begin, end). */
    void (*batch_delete_range)(cairn__batch_t *batch, cairn__cf_t cf,
                               const uint8_t *begin, size_t begin_len,
                               const uint8_t *end, size_t end_len);
    size_t (*batch_size)(const cairn__batch_t *batch); /* bytes */
    /* Applies every operation or none. sync: fsync before returning. */
    int (*batch_commit)(cairn__backend_t *self, cairn__batch_t *batch,
                        bool sync, cairn_error_t *err);
    void (*batch_free)(cairn__batch_t *batch);

    /* *value is malloc'd (caller frees). CAIRN_ENOTFOUND when absent;
     * CAIRN_ECORRUPT / CAIRN_ESTORE naming the key and the file when the
     * read failed. */
    int (*get)(cairn__backend_t *self, cairn__cf_t cf, const uint8_t *key,
               size_t key_len, uint8_t **value, size_t *value_len,
               cairn_error_t *err);

    cairn__iter_t *(*iter_new)(cairn__backend_t *self, cairn__cf_t cf);
    void (*iter_seek)(cairn__iter_t *it, const uint8_t *key, size_t len);
    void (*iter_seek_for_prev)(cairn__iter_t *it, const uint8_t *key,
                               size_t len);
    bool (*iter_valid)(const cairn__iter_t *it);
    void (*iter_next)(cairn__iter_t *it);
    void (*iter_prev)(cairn__iter_t *it);
    /* Borrowed until the iterator moves. */
    const uint8_t *(*iter_key)(const cairn__iter_t *it, size_t *len);
    const uint8_t *(*iter_value)(const cairn__iter_t *it, size_t *len);
    /* Why an iterator stopped being valid: CAIRN_OK at the end of the
     * data, else the read error (CAIRN_ECORRUPT for a checksum mismatch,
     * CAIRN_ESTORE for I/O) naming the family, the key and the file. An
     * iterator that hits a bad block just looks finished, so every walk
     * asks this before trusting what it did not see. */
    int (*iter_status)(const cairn__iter_t *it, cairn_error_t *err);
    void (*iter_free)(cairn__iter_t *it);

    /* Read-only/secondary backends: see what the writer wrote since. */
    int (*refresh)(cairn__backend_t *self, cairn_error_t *err);
} cairn__backend_ops_t;

struct cairn__backend_t {
    const cairn__backend_ops_t *ops;
};

typedef enum {
    CAIRN__OPEN_WRITE = 0,  /* the one writer */
    CAIRN__OPEN_READ_ONLY,  /* a secondary: works while a writer is live */
} cairn__open_mode_t;

/* Opens (creating if needed, in write mode) a RocksDB store in dir.
 * A store held by another writer fails with CAIRN_ELOCKED. */
int
cairn__backend_open_rocksdb(cairn__backend_t **out, const char *dir,
                            cairn__open_mode_t mode, cairn_error_t *err);

/* A new, empty in-memory backend. */
int
cairn__backend_open_memory(cairn__backend_t **out, cairn_error_t *err);

#endif
