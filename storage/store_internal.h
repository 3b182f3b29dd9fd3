/* store_internal.h - the store as the coordinator and its own modules
 * see it: checkpoint writing, pending writes, resume loading. */
#ifndef CAIRN_STORE_INTERNAL_H_INCLUDED
#define CAIRN_STORE_INTERNAL_H_INCLUDED

#include <czmq.h>
#include <pthread.h>

#include "cairn.pb-c.h"
#include "cairn/store.h"
#include "checkpoint.pb-c.h"
#include "base/kv.h"
#include "storage/backend.h"
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

/* Writes a run record on its own (sync per durability). */
int
cairn__store_put_run_record(cairn_store_t *self, const Cairn__RunRecord *run,
                            cairn_error_t *err);

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

typedef struct cairn__ckpt_writer_t cairn__ckpt_writer_t;

/* Starts the write of checkpoint RUN@superstep. NULL on out-of-memory. */
cairn__ckpt_writer_t *
cairn__ckpt_begin(cairn_store_t *self, const char *run_id,
                  uint64_t superstep);

/* The batch the checkpoint is built in, for records other modules add
 * to it (events). Borrowed; valid until commit or abort. */
cairn__batch_t *
cairn__ckpt_batch(cairn__ckpt_writer_t *w);

/* Adds the version of a state key changed since the last checkpoint
 * (scope NULL = shared). */
void
cairn__ckpt_put_state(cairn__ckpt_writer_t *w, const char *scope,
                      const char *key, const uint8_t *data, size_t len,
                      bool deleted);

/* Adds the outputs yielded in one superstep. */
void
cairn__ckpt_put_outputs(cairn__ckpt_writer_t *w, uint64_t superstep,
                        const Cairn__OutputRecord *outputs);

void
cairn__ckpt_put_inflight(cairn__ckpt_writer_t *w,
                         const Cairn__InflightRecord *inflight);

/* Deletes the pending writes of a superstep (its barrier is stored). */
void
cairn__ckpt_drop_pending(cairn__ckpt_writer_t *w, uint64_t superstep);

/* Marks the write as the first of a new run: commit fails with
 * CAIRN_EEXISTS, writing nothing, when the store already has a run under
 * the writer's run id (checked and written under the store's new-run
 * lock, so two threads cannot both create one id). */
void
cairn__ckpt_set_new_run(cairn__ckpt_writer_t *w);

/* CAIRN_OK when the store has no run run_id, CAIRN_EEXISTS ("run 'x'
 * exists; resume it or choose another id") when it has one (even one
 * whose record does not decode), another error when it cannot tell. */
int
cairn__store_check_new_run(cairn_store_t *self, const char *run_id,
                           cairn_error_t *err);

/* Writes everything plus the manifest and the run record (if not NULL)
 * in one atomic batch (synced in machine durability). Fills manifest->size_bytes.
 * Frees w on every path. */
int
cairn__ckpt_commit(cairn__ckpt_writer_t *w, Cairn__CheckpointRecord *manifest,
                   const Cairn__RunRecord *run, cairn_error_t *err);

void
cairn__ckpt_abort(cairn__ckpt_writer_t *w);

/* ---- pending writes ---------------------------------------------------- */

/* Stores one executor's Done of a superstep, unsynced. */
int
cairn__store_put_pending(cairn_store_t *self, const char *run_id,
                         uint64_t superstep, const Cairn__Done *done,
                         cairn_error_t *err);

/* Loads the stored Dones of a superstep, in executor-id order. *out is
 * a malloc'd array of decoded Dones (free each with
 * cairn__done__free_unpacked, then the array). A corrupt one is skipped
 * (it will simply run again) and logged. */
int
cairn__store_load_pending(cairn_store_t *self, const char *run_id,
                          uint64_t superstep, Cairn__Done ***out,
                          size_t *count, cairn_error_t *err);

/* ---- loading --------------------------------------------------------------- */

/* Takes executor id's resolved state out of a loaded checkpoint (NULL
 * when it has none; caller owns it). */
cairn__kv_t *
cairn__checkpoint_take_state(cairn_checkpoint_t *self, const char *executor);
cairn__kv_t *
cairn__checkpoint_take_shared(cairn_checkpoint_t *self);

/* Fills info from a manifest (copies). false on out-of-memory. */
bool
cairn__checkpoint_info_fill(cairn_checkpoint_info_t *info,
                            const Cairn__CheckpointRecord *record);
void
cairn__checkpoint_info_clear(cairn_checkpoint_info_t *info);

#endif
