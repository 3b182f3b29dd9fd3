/* run_internal.h - one run as the coordinator drives it.
 *
 * Shared by the parts of the superstep loop (coordinator_internal.h) and
 * checkpointer.c, which writes the run as checkpoints and restores it;
 * the checkpointer's own state is behind run->ckpt (checkpointer.h).
 * Everything here lives on the coordinator's thread.
 */
#ifndef CAIRN_RUN_INTERNAL_H_INCLUDED
#define CAIRN_RUN_INTERNAL_H_INCLUDED

#include "cairn.pb-c.h"
#include "actors/control.h"
#include "engine/checkpointer.h"
#include "engine/host_table.h"
#include "engine/events.h"
#include "base/kv.h"
#include "engine/router.h"
#include "base/util.h"
#include "graph/workflow_internal.h"
#include "proto/pbutil.h"
#include "checkpoint.pb-c.h"

/* What one superstep's mailboxes borrow from. */
typedef struct {
    cairn__ptrs_t envelopes; /* Cairn__Envelope* (Dones) */
    cairn__ptrs_t messages;  /* Cairn__Message* owned by the coordinator */
} cairn__pool_t;

typedef struct {
    cairn_engine_t *engine;
    const cairn_workflow_t *wf;
    cairn_run_options_t opts;
    char run_id[80];
    size_t max_message_size;
    uint64_t max_supersteps;
    uint64_t superstep;
    cairn_status_t status;    /* how the run ended (RUNNING while it runs) */
    cairn_error_t error;      /* why it failed */
    const char *reason;       /* "max_supersteps", ... or NULL */
    cairn_result_t *result;
    cairn__router_t *router;
    cairn__kv_t **states;     /* authoritative executor states */
    cairn__kv_t *shared;      /* authoritative shared state */
    cairn__ptrs_t *inbox;     /* per executor: this superstep's mail */
    cairn__ptrs_t *next_inbox; /* per executor: next superstep's mail */
    cairn__pool_t pool;       /* owns what inbox borrows */
    cairn__pool_t next_pool;  /* owns what next_inbox borrows */
    Cairn__Envelope **done;   /* per executor: its Done this superstep */
    size_t *placement;        /* executor -> host */
    size_t placement_turn;    /* spreads executors over workers */
    size_t accepted_aside;    /* Dones accepted while waiting for a
                                 worker (placement), not yet counted by
                                 the collect loop */
    uint64_t next_heartbeat_us; /* when workers get the next heartbeat */
    uint64_t next_liveness_us;  /* when silent workers are looked for */
    uint64_t last_liveness_us;  /* when they were last looked for (0: not
                                   yet in this run) */
    uint64_t next_control_us;   /* when the control endpoint is read */
    bool *host_current;       /* executor's copy at its host is current */
    cairn__kv_t **shared_dirty; /* per host: shared keys not yet shipped */
    bool *shared_reset;       /* per host: ship the whole shared state */
    bool *host_used;          /* per host: took part in this run */
    cairn__ptrs_t requests;   /* Cairn__Request*, owned: waiting for a
                                 response, in the order they were made */
    cairn__ptrs_t answered;   /* char*, owned: ids of answered requests */
    cairn__ptrs_t dead_letters; /* Cairn__DeadLetter*, owned, oldest first */
    uint32_t *attempts;       /* per executor: attempt of this superstep */
    uint64_t *deadline_us;    /* per executor: when the attempt times out
                                 (monotonic), 0 = no limit */
    bool *timed_out;          /* per executor: its failure is a timeout */
    bool *lost;               /* per executor: its failure is the loss of
                                 the worker it was running on */
    size_t *silent_on;        /* per executor: 1 + the worker lost for its
                                 silence while it ran this attempt (0:
                                 none): held off in-process meanwhile;
                                 if that worker turns out dead, the
                                 attempt fails (worker_loss.c) */
    uint32_t *silent_attempt; /* ... the attempt it was running */
    bool *crashed;            /* per executor: was running on a worker
                                 that was lost, in this run: it runs only
                                 on workers from then on (placement.c),
                                 unless CAIRN_WORKER_LOSS_IN_PROCESS */
    uint64_t *sent_seq;       /* per executor: when its work of this
                                 attempt went out (send_count then), 0 =
                                 not sent. A host runs its items in this
                                 order, so the earliest unanswered one is
                                 the one it was running */
    uint64_t send_count;      /* work items sent in this run */
    size_t *moved_from;       /* per executor: the lost host it left while
                                 it has none (CAIRN__UNPLACED) */
    Cairn__WorkItem *items;   /* scratch, per executor */
    Cairn__WorkItem **item_ptrs;
    cairn__entry_view_t *state_views;
    cairn__events_t *events;  /* numbers, stores, publishes events */
    cairn__ctl_t ctl;         /* pause / cancel and the control endpoint */

    cairn__ckpt_t *ckpt;      /* durability (checkpointer.h), owned; NULL:
                                 no store, the run writes no checkpoints */
} cairn__run_t;

/* ---- requests.c ---------------------------------------------------------- */

/* Takes the requests of one executor's Done into the run's pending
 * list (copies), calling emit for each. 0 or CAIRN_ENOMEM. */
int
cairn__requests_note_done(cairn__run_t *run, const Cairn__Done *done,
                          void (*emit)(cairn__run_t *run,
                                       const Cairn__Request *request));

/* Restores the pending and answered requests of a checkpoint. */
int
cairn__requests_restore(cairn__run_t *run,
                        const Cairn__InflightRecord *inflight);

/* Checks opts.responses against the pending requests, then delivers each
 * into the mailbox of the executor that asked. Nothing changes when any
 * is wrong (unknown id, answered before or twice, too large). */
int
cairn__requests_answer(cairn__run_t *run, cairn_error_t *err);

/* Frees the run's request bookkeeping. */
void
cairn__requests_fini(cairn__run_t *run);

/* ---- dead_letter.c ------------------------------------------------------- */

/* Sets message m (an index into executor x's inbox) aside as a dead
 * letter with why; it leaves the inbox. 0 or CAIRN_ENOMEM. */
int
cairn__dead_letter_take(cairn__run_t *run, size_t x, size_t m,
                        const char *why);

/* Restores the dead letters of a checkpoint (copies). */
int
cairn__dead_letter_restore(cairn__run_t *run,
                           const Cairn__InflightRecord *inflight);

void
cairn__dead_letter_fini(cairn__run_t *run);

/* ---- checkpointer.c ------------------------------------------------------ */

/* A checkpoint is a snapshot of the run: these read it (write) or fill
 * it (restore), besides run->ckpt, which must not be NULL. */

/* Writes the run record and the entry checkpoint (superstep 0). */
int
cairn__ckpt_write_entry(cairn__run_t *run, cairn_error_t *err);

/* Writes a checkpoint of the barrier of run->superstep (mail in
 * run->inbox), with trigger, the current status, and tags. */
int
cairn__ckpt_write_barrier(cairn__run_t *run, const char *trigger,
                          const char *const *tags, size_t tag_count,
                          cairn_error_t *err);

/* Makes sure the failed run's last committed barrier is stored and the
 * run record says why it failed. */
int
cairn__ckpt_write_failure(cairn__run_t *run, cairn_error_t *err);

/* Restores run from a checkpoint target ("RUN" or "RUN@N"). Sets
 * *finished when the run had already ended (nothing to do). */
int
cairn__ckpt_restore(cairn__run_t *run, const char *target, bool *finished,
                    cairn_error_t *err);

/* Rewrites the run record alone (a status change without a checkpoint). */
int
cairn__ckpt_write_record(cairn__run_t *run, cairn_error_t *err);

#endif
