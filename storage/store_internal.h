/* store_internal.h - the store as its own modules see it: the handle,
 * a loaded checkpoint, record reads and writes over the backend.
 *
 * Private to storage/ (scripts/check-layers): the engine sees the store
 * through checkpoint_io.h, which this header includes. */
#ifndef CAIRN_STORE_INTERNAL_H_INCLUDED
#define CAIRN_STORE_INTERNAL_H_INCLUDED

#include <czmq.h>
#include <pthread.h>

#include "cairn.pb-c.h"
#include "cairn/store.h"
#include "checkpoint.pb-c.h"
#include "base/kv.h"
#include "storage/backend.h"
#include "storage/checkpoint_io.h"
#include "storage/keys.h"

struct cairn_store_t {
    cairn__backend_t *backend;
    cairn_durability_t durability;
    bool read_only;
    char *dir;       /* NULL for a memory store */
    char *pid_path;  /* DIR/cairn.pid while we write it */
    cairn_store_t *shared_from; /* a handle of cairn_store_share: the
                                   backend is that store's, not ours */
    cairn__key_t key; /* scratch key */
    pthread_mutex_t new_run_lock; /* the root handle's (not a share's):
                                     makes "no such run yet" and the
                                     write of its first checkpoint one
                                     step for every thread of the
                                     process, the store's one writer */
};

struct cairn_checkpoint_t {
    cairn_checkpoint_info_t info;
    Cairn__CheckpointRecord *record;
    Cairn__InflightRecord *inflight; /* never NULL once loaded */
    Cairn__RunRecord *run;           /* the checkpoint's run */
    char **executors;                /* sorted executor ids with state */
    cairn__kv_t **states;            /* parallel to executors */
    size_t executor_count;
    cairn__kv_t *shared;
    uint8_t **outputs;
    size_t *output_lens;
    size_t output_count;
};

/* ---- records -------------------------------------------------------------- */

/* Splits checkpoint id "RUN@N" into run_id and *superstep;
 * CAIRN_EINVAL naming it when it is NULL or malformed. */
int
cairn__store_parse_checkpoint_id(const char *checkpoint_id, char *run_id,
                                 size_t size, uint64_t *superstep,
                                 cairn_error_t *err);

/* Reads and checks one record; CAIRN_ENOTFOUND when absent. */
int
cairn__store_read(cairn_store_t *self, cairn__cf_t cf, const cairn__key_t *key,
                  const ProtobufCMessageDescriptor *desc, const char *what,
                  ProtobufCMessage **out, cairn_error_t *err);

/* Frees it (may be NULL) after a walk over it and returns rc, the
 * walk's result; when that is CAIRN_OK, the read error that may have
 * ended the walk instead: an iterator that hits a bad block looks
 * finished (backend.h iter_status). */
int
cairn__store_iter_end(cairn_store_t *self, cairn__iter_t *it, int rc,
                      cairn_error_t *err);

/* Frames msg and adds it to batch; false on out-of-memory. */
bool
cairn__store_batch_record(cairn_store_t *self, cairn__batch_t *batch,
                          cairn__cf_t cf, const cairn__key_t *key,
                          const ProtobufCMessage *msg);

int
cairn__store_get_run_record(cairn_store_t *self, const char *run_id,
                            Cairn__RunRecord **out, cairn_error_t *err);

/* Reads the manifest and in-flight record of checkpoint_id (run_id at
 * superstep): CAIRN_ENOTFOUND "unknown checkpoint" without a manifest,
 * CAIRN_ECORRUPT when its in-flight record is missing. Caller owns both. */
int
cairn__store_read_checkpoint(cairn_store_t *self, const char *checkpoint_id,
                             const char *run_id, uint64_t superstep,
                             Cairn__CheckpointRecord **manifest,
                             Cairn__InflightRecord **inflight,
                             cairn_error_t *err);

/* ---- checkpoint writing ---------------------------------------------------- */

/* A write in progress (checkpoint_io.h): store_write.c adds records,
 * store_events.c event blocks. */
struct cairn__ckpt_writer_t {
    cairn_store_t *store;
    cairn__batch_t *batch;
    char *run_id;
    uint64_t superstep;
    cairn__key_t key;         /* scratch for the records of this write */
    bool out_of_memory;
    cairn_error_t read_error; /* a read the batch depends on failed */
    bool new_run;             /* the run's first write: its id must be free */
};

/* ---- loading --------------------------------------------------------------- */

/* Fills info from a manifest (copies). false on out-of-memory. */
bool
cairn__checkpoint_info_fill(cairn_checkpoint_info_t *info,
                            const Cairn__CheckpointRecord *record);
void
cairn__checkpoint_info_clear(cairn_checkpoint_info_t *info);

#endif
