/* checkpointer.h - a run's durability: the checkpointer's own state and
 * the calls that need nothing else (checkpointer.c).
 *
 * A run with a store holds one cairn__ckpt_t (run->ckpt; NULL: the run
 * writes no checkpoints). It owns what the run does not need to know:
 * where checkpoints go, which one was written last, the lineage of the
 * run and what changed since the last checkpoint. Writing a checkpoint
 * and restoring one read or fill the run itself (a checkpoint is a
 * snapshot of it): those calls take the run and are in run_internal.h.
 *
 * Threading: the coordinator's thread only.
 */
#ifndef CAIRN_CHECKPOINTER_H_INCLUDED
#define CAIRN_CHECKPOINTER_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "cairn.pb-c.h"
#include "cairn/engine.h"

typedef struct cairn__ckpt_t cairn__ckpt_t;

/* Makes the checkpointer of a run of that many executors that writes to
 * store (borrowed; it outlives the run) under policy. *out is NULL on
 * failure. 0 or CAIRN_ENOMEM. Caller owns *out. */
int
cairn__ckpt_new(cairn__ckpt_t **out, cairn_store_t *store,
                const cairn_checkpoint_policy_t *policy, size_t executors);

/* Frees it. Accepts NULL; nulls *self_p. */
void
cairn__ckpt_destroy(cairn__ckpt_t **self_p);

/* The id of the last checkpoint written or restored ("RUN@N"), "" when
 * none. Borrowed; valid until the next write or the checkpointer's end. */
const char *
cairn__ckpt_last_id(const cairn__ckpt_t *self);

/* CAIRN_OK when the store has no run run_id yet, else CAIRN_EEXISTS or
 * the read error (checkpoint_io.h, cairn__store_check_new_run). */
int
cairn__ckpt_check_new_run(cairn__ckpt_t *self, const char *run_id,
                          cairn_error_t *err);

/* Notes the state and shared writes and the outputs (from first_output
 * on in the result) of an executor's Done that the barrier of superstep
 * applies, for the next checkpoint. 0 or CAIRN_ENOMEM. */
int
cairn__ckpt_note_done(cairn__ckpt_t *self, size_t executor,
                      const Cairn__Done *done, uint64_t superstep,
                      size_t first_output);

/* Stores a Done of run_id's superstep that arrived before its barrier,
 * when that helps a resume (the previous barrier is the last checkpoint,
 * and the store outlives the process); a failure is logged. */
void
cairn__ckpt_save_pending(cairn__ckpt_t *self, const char *run_id,
                         uint64_t superstep, const Cairn__Done *done);

#endif
