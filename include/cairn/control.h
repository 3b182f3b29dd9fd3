/* control.h - pausing and cancelling a live run.
 *
 * A run control handle is how a program stops a run it drives: it is
 * passed in cairn_run_options_t.control, and cairn_run_control_pause()
 * and cairn_run_control_cancel() may then be called from any thread, and
 * from a signal handler, while the run goes on in the thread that called
 * cairn_engine_run() or cairn_engine_resume(). The handle holds nothing
 * but lock-free atomics, so those two calls are async-signal-safe.
 *
 * Semantics (docs/concepts.md, "Pause and cancel"):
 * - Pause takes effect at the next barrier: the superstep in progress
 *   finishes and is applied, its checkpoint is written whatever the
 *   checkpoint policy (trigger "pause"), the run ends PAUSED and the call
 *   returns. Resuming it continues exactly where it stopped: the result
 *   equals that of an uninterrupted run.
 * - Cancel takes effect at once (within about 50 ms, even while handlers
 *   are busy): the superstep in progress is abandoned (nothing of it is
 *   applied or stored; handlers still running finish on their threads and
 *   their results are dropped), the last checkpoint stays the latest, and
 *   the run ends CANCELLED. A cancelled run cannot be resumed; fork from
 *   one of its checkpoints to continue from there.
 * - A request made while no run uses the handle applies to the next run
 *   that does (so a signal during start-up is not lost); a run consumes
 *   the request it acts on and drops the ones it did not act on when it
 *   ends, so a handle can be reused for the next run.
 * - The pause predicate (cairn_run_options_t.pause_when) pauses exactly
 *   like a request, at the barriers where it is true.
 *
 * Another process reaches a live run through its control endpoint
 * (cairn_run_options_t.control_endpoint, recorded in the run record) with
 * cairn_control_send(); see docs/protocol.md.
 */
#ifndef CAIRN_CONTROL_H_INCLUDED
#define CAIRN_CONTROL_H_INCLUDED

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_run_control_t cairn_run_control_t;

/* A new handle with no request. NULL only when out of memory. */
CAIRN_EXPORT cairn_run_control_t *cairn_run_control_new(void);

/* Frees the handle; no run may still use it. Accepts NULL; nulls
 * *self_p. */
CAIRN_EXPORT void cairn_run_control_destroy(cairn_run_control_t **self_p);

/* Asks the run to pause at its next barrier. Thread-safe and
 * async-signal-safe; returns at once. */
CAIRN_EXPORT void cairn_run_control_pause(cairn_run_control_t *self);

/* Asks the run to stop at once, abandoning the superstep in progress.
 * Thread-safe and async-signal-safe; returns at once. */
CAIRN_EXPORT void cairn_run_control_cancel(cairn_run_control_t *self);

/* The superstep the run using the handle is in (0 before the first, or
 * when no run uses it). Thread-safe and async-signal-safe. */
CAIRN_EXPORT uint64_t
cairn_run_control_superstep(const cairn_run_control_t *self);

/* ---- talking to a run in another process --------------------------------- */

/* ipc endpoints are limited to 107 bytes of path, plus "ipc://". */
#define CAIRN_CONTROL_ENDPOINT_MAX 114

typedef enum {
    CAIRN_CONTROL_STATUS = 0, /* what superstep the run is in */
    CAIRN_CONTROL_PAUSE,      /* pause at the next barrier */
    CAIRN_CONTROL_CANCEL,     /* stop at once */
} cairn_control_op_t;

/* A live run's answer. */
typedef struct {
    char run_id[80];
    char status[16];    /* "running", or "pausing" / "cancelling" once
                           asked to stop */
    uint64_t superstep; /* the superstep in progress */
    char text[256];     /* what the run did with the request */
} cairn_control_reply_t;

/* Sends op to the run run_id whose control endpoint is endpoint and waits
 * at most timeout_ms for its answer. Returns 0 with *reply filled;
 * CAIRN_ETRANSPORT when nothing answered in time (the run ended, or the
 * endpoint is not there); CAIRN_EPROTO when the answer was malformed or a
 * refusal (the run is another one, ...; err says why); CAIRN_EINVAL for a
 * bad endpoint. Thread-safe (uses its own socket). */
CAIRN_EXPORT int cairn_control_send(const char *endpoint, const char *run_id,
                                    cairn_control_op_t op, uint32_t timeout_ms,
                                    cairn_control_reply_t *reply,
                                    cairn_error_t *err) CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
