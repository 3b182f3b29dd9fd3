/* checkpoint_io.h - the checkpoint I/O the storage layer offers the
 * engine, and all of the store the engine sees besides the public
 * cairn/store.h.
 *
 * The engine decides what a checkpoint holds and when it is written
 * (engine/checkpointer.c, engine/events.c); storage decides how: keys,
 * column families, record frames, batches and the backend table stay in
 * storage/ (store_internal.h, backend.h, keys.h, store_events.h are
 * private to it; scripts/check-layers refuses an include of them from
 * another layer). Everything here names records by their protobuf
 * message and runs by their id, never a key or a column family.
 *
 * Every write of a run goes through one writer: a checkpoint
 * (cairn__ckpt_begin ... cairn__ckpt_commit, one atomic batch), or the
 * events left at the end of a run (cairn__ckpt_begin_events ...
 * cairn__ckpt_commit_events). Pending writes and the run record alone
 * are written by calls of their own.
 *
 * Threading: like the store handle they are given, one thread at a time.
 */
#ifndef CAIRN_CHECKPOINT_IO_H_INCLUDED
#define CAIRN_CHECKPOINT_IO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn.pb-c.h"
#include "cairn/engine.h"
#include "cairn/store.h"
#include "checkpoint.pb-c.h"
#include "base/kv.h"

/* ---- writing a checkpoint ------------------------------------------------ */

typedef struct cairn__ckpt_writer_t cairn__ckpt_writer_t;

/* Starts the write of checkpoint RUN@superstep. NULL on out-of-memory.
 * Caller owns the writer until commit or abort. */
cairn__ckpt_writer_t *
cairn__ckpt_begin(cairn_store_t *store, const char *run_id,
                  uint64_t superstep);

/* Marks the write as the first of a new run: commit fails with
 * CAIRN_EEXISTS, writing nothing, when the store already has a run under
 * the writer's run id (checked and written under the store's new-run
 * lock, so two threads cannot both create one id). */
void
cairn__ckpt_set_new_run(cairn__ckpt_writer_t *w);

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

/* Adds the mailboxes, fan-in buffers, requests and dead letters. */
void
cairn__ckpt_put_inflight(cairn__ckpt_writer_t *w,
                         const Cairn__InflightRecord *inflight);

/* Deletes the pending writes of a superstep (its barrier is stored). */
void
cairn__ckpt_drop_pending(cairn__ckpt_writer_t *w, uint64_t superstep);

/* Adds a block of the run's events (framed EventBlock bytes, see
 * record.h) whose first event is seq. false on out-of-memory (the block
 * is not in the write). */
bool
cairn__ckpt_put_events(cairn__ckpt_writer_t *w, uint64_t seq,
                       const uint8_t *framed, size_t len);

/* Adds the deletion of the run's event blocks that start in [from, to):
 * one range deletion, however many blocks. false on out-of-memory. */
bool
cairn__ckpt_drop_events(cairn__ckpt_writer_t *w, uint64_t from, uint64_t to);

/* Writes everything plus the manifest and the run record (if not NULL)
 * in one atomic batch (synced in machine durability). Fills
 * manifest->size_bytes. A failed write is CAIRN_ESTORE naming the
 * checkpoint (CAIRN_ENOMEM, CAIRN_EEXISTS as they are). Frees w on every
 * path. */
int
cairn__ckpt_commit(cairn__ckpt_writer_t *w, Cairn__CheckpointRecord *manifest,
                   const Cairn__RunRecord *run, cairn_error_t *err);

/* Drops what was added; nothing is written. Accepts NULL. */
void
cairn__ckpt_abort(cairn__ckpt_writer_t *w);

/* Starts a write of run_id's events alone, outside any checkpoint (what
 * is still buffered when the run ends): cairn__ckpt_put_events and
 * cairn__ckpt_drop_events only. NULL on out-of-memory. */
cairn__ckpt_writer_t *
cairn__ckpt_begin_events(cairn_store_t *store, const char *run_id);

/* Commits an events-only write with the store's durability (CAIRN_ESTATE
 * on a read-only store). Frees w on every path. */
int
cairn__ckpt_commit_events(cairn__ckpt_writer_t *w, cairn_error_t *err);

/* ---- runs ---------------------------------------------------------------- */

/* CAIRN_OK when the store has no run run_id, CAIRN_EEXISTS ("run 'x'
 * exists; resume it or choose another id") when it has one (even one
 * whose record does not decode), another error when it cannot tell. */
int
cairn__store_check_new_run(cairn_store_t *self, const char *run_id,
                           cairn_error_t *err);

/* Writes a run record on its own (sync per durability). */
int
cairn__store_put_run_record(cairn_store_t *self, const Cairn__RunRecord *run,
                            cairn_error_t *err);

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

/* ---- loading a checkpoint for resume ------------------------------------
 * cairn_store_get_latest_checkpoint and cairn_store_get_checkpoint
 * (cairn/store.h) find and load it; these read and take what a resume
 * needs from it. */

/* The checkpoint's manifest and its run's record. Borrowed; valid until
 * the checkpoint is destroyed. */
const Cairn__CheckpointRecord *
cairn__checkpoint_manifest(const cairn_checkpoint_t *self);
const Cairn__RunRecord *
cairn__checkpoint_run(const cairn_checkpoint_t *self);

/* Its in-flight record (never NULL once loaded), for the resumed run to
 * move messages out of. Borrowed; valid until the checkpoint is
 * destroyed. */
Cairn__InflightRecord *
cairn__checkpoint_inflight(cairn_checkpoint_t *self);

/* Takes executor id's resolved state out of a loaded checkpoint (NULL
 * when it has none; caller owns it). */
cairn__kv_t *
cairn__checkpoint_take_state(cairn_checkpoint_t *self, const char *executor);
cairn__kv_t *
cairn__checkpoint_take_shared(cairn_checkpoint_t *self);

/* ---- events -------------------------------------------------------------- */

/* The first seqs of the run's stored event blocks, ascending (*starts
 * malloc'd, caller frees). */
int
cairn__store_event_blocks(cairn_store_t *self, const char *run_id,
                          uint64_t **starts, size_t *count,
                          cairn_error_t *err);

/* The first seq of the run's oldest stored block and the seq of its last
 * stored event (both 0 when it has none): two seeks, whatever the number
 * of blocks. */
int
cairn__store_event_ends(cairn_store_t *self, const char *run_id,
                        uint64_t *first, uint64_t *last, cairn_error_t *err);

/* The event a record describes; borrows from record and run_id. */
void
cairn__event_from_record(const Cairn__EventRecord *record, const char *run_id,
                         cairn_event_t *out);

#endif
