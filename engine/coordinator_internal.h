/* coordinator_internal.h - the parts of the superstep loop, by job.
 *
 * One run (cairn__run_t, run_internal.h) is driven by these files, all on
 * the caller's thread:
 *   coordinator.c  set-up, the superstep loop, the end of a run, events
 *   dispatch.c     Delivers out, frames in: the one ROUTER poll loop
 *   worker_loss.c  placement waits, lost workers and timed-out attempts
 *   recovery.c     retries and dead letters of failed executors
 *   barrier.c      applying a successful superstep, the mail pools
 *   pause_policy.c whether a barrier is checkpointed or pauses the run
 * The calls go one way: coordinator.c calls the others; barrier.c calls
 * pause_policy.c; recovery.c and worker_loss.c call dispatch.c to send
 * work again and to wait, dispatch.c calls worker_loss.c on what its
 * waits find (a silent worker, a deadline passed).
 */
#ifndef CAIRN_COORDINATOR_INTERNAL_H_INCLUDED
#define CAIRN_COORDINATOR_INTERNAL_H_INCLUDED

#include "engine/run_internal.h"

/* ---- coordinator.c ------------------------------------------------------- */

/* Reports an event of the run to the events store/publisher and the
 * caller's callback (both optional). */
void cairn__run_emit(cairn__run_t *run, cairn_event_kind_t kind,
                     const char *executor, const char *detail,
                     const uint8_t *data, size_t len, uint64_t count);

/* ---- dispatch.c ---------------------------------------------------------- */

/* Announces and sends this superstep's work (first attempts); *sent is
 * how many Dones to wait for. */
int cairn__dispatch(cairn__run_t *run, size_t *sent, cairn_error_t *err);

/* Sends every host one Deliver with the work of its executors that have
 * mail and no result yet (only those marked in only, when not NULL);
 * *sent is how many Dones to wait for. Unreachable workers are lost. */
int cairn__dispatch_send_work(cairn__run_t *run, const bool *only, size_t *sent,
                              cairn_error_t *err);

/* Receives one frame; stores it in run->done when it is an expected
 * Done. Returns the executor whose Done was accepted, or -1. */
long cairn__dispatch_receive(cairn__run_t *run);

/* What a wait on the ROUTER waits for (cairn__dispatch_wait). */
typedef enum {
    CAIRN__WAIT_DONES,   /* `expected` Dones counted, or a cancel */
    CAIRN__WAIT_WORKERS, /* live workers fit `only` (all executors when
                            NULL) and, `starting`, min_workers are there;
                            or `until` passed */
    CAIRN__WAIT_TIME,    /* `until` passed (a retry's backoff) */
} cairn__wait_kind_t;

typedef struct {
    cairn__wait_kind_t kind;
    uint64_t until;   /* WORKERS, TIME: monotonic µs when the wait ends */
    size_t expected;  /* DONES: how many Dones */
    const bool *only; /* WORKERS: the executors that need a worker */
    bool starting;    /* WORKERS: before the run starts (min_workers
                         counts; no Done is expected) */
} cairn__wait_t;

/* Waits on the ROUTER for what says, the one loop every phase of a run
 * waits in: collecting Dones, waiting for workers, a retry's backoff.
 * While it waits it reads every frame (Dones are checked and kept in
 * run->done, Hellos register workers), keeps workers' heartbeats going,
 * and (collecting) serves the control endpoint, times out attempts and
 * loses silent workers. A cancel ends a DONES wait with run->status
 * CANCELLED. 0, or < 0 when the run cannot go on (transport, memory, a
 * lost worker's executor finds no host). */
int cairn__dispatch_wait(cairn__run_t *run, const cairn__wait_t *what,
                         cairn_error_t *err);

/* ---- worker_loss.c ------------------------------------------------------- */

/* Before a run starts: waits (bounded) for the workers it needs, then
 * places every executor. */
int cairn__loss_place_all(cairn__run_t *run, cairn_error_t *err);

/* Places executors a loss left without a host that now have work. */
int cairn__loss_place_unplaced(cairn__run_t *run, const bool *only,
                               cairn_error_t *err);

/* Why a worker is lost: what it means for the executor it was running. */
typedef enum {
    CAIRN__LOSS_GONE,      /* its connection is gone (it died): that
                              attempt fails, and it runs only on workers */
    CAIRN__LOSS_SILENT,    /* silent too long: no attempt is lost, but it
                              runs only on workers (the worker may be
                              dying of it) */
    CAIRN__LOSS_ABANDONED, /* given up for a timed-out attempt, already
                              failed: nothing more */
} cairn__loss_why_t;

/* Host `lost` is lost (why says what for the executor it was running):
 * its executors move and their unfinished work is sent again. */
int cairn__loss_lose_worker(cairn__run_t *run, size_t lost,
                            cairn__loss_why_t why, cairn_error_t *err);

/* Reports (worker_joined) that worker h joined; every worker once. */
void cairn__loss_report_joined(cairn__run_t *run, size_t h);

/* Worker h, lost for its silence, spoke again: it is taken back (a
 * fresh slot, a worker_joined event) and blamed for nothing. Returns its
 * new index, or -1 when the host table is full. */
long cairn__loss_take_back(cairn__run_t *run, size_t h);

/* Whether x, whose attempt the loss of its worker failed, gets another. */
bool cairn__loss_runs_again(const cairn__run_t *run, size_t x);

/* Times out every attempt past its deadline; *received counts them. */
int cairn__loss_check_timeouts(cairn__run_t *run, size_t *received,
                               cairn_error_t *err);

/* Loses workers whose connection is gone (blaming what they ran) or
 * that went silent (blaming nothing: they may be alive). */
int cairn__loss_check_workers(cairn__run_t *run, cairn_error_t *err);

/* ---- recovery.c ---------------------------------------------------------- */

/* Collects the superstep's Dones, recovering failed executors (retry,
 * dead letter) while their policies allow. */
int cairn__recovery_collect(cairn__run_t *run, size_t sent, cairn_error_t *err);

/* ---- barrier.c ----------------------------------------------------------- */

void cairn__pool_clear(cairn__pool_t *pool);
void cairn__pool_free(cairn__pool_t *pool);

/* Why executor x failed this superstep, or NULL when it did not. */
const char *cairn__barrier_failure_of(const cairn__run_t *run, size_t x);

/* The first executor (in id order) that failed, or -1. */
long cairn__barrier_first_failure(const cairn__run_t *run);

/* A superstep failed (first failure: failed): nothing is applied. */
void cairn__barrier_fail(cairn__run_t *run, long failed);

/* Messages in this superstep's mailboxes. */
size_t cairn__barrier_pending(const cairn__run_t *run);

/* After a barrier (or on resume): sets run->status when the run ended. */
void cairn__barrier_decide_end(cairn__run_t *run);

/* The barrier of a successful superstep in which `ran` executors ran. */
int cairn__barrier_commit(cairn__run_t *run, size_t ran, cairn_error_t *err);

/* ---- pause_policy.c ------------------------------------------------------ */

/* Pauses a running run when asked to or when the pause predicate says. */
void cairn__policy_maybe_pause(cairn__run_t *run, size_t ran);

/* Stores the barrier if an end state, a handler or the policy asks. */
int cairn__policy_maybe_checkpoint(cairn__run_t *run, size_t ran,
                                   cairn_error_t *err);

#endif
