/* engine.h - running workflows: the coordinator and its executor hosts.
 *
 * An engine owns the coordinator's ROUTER socket and a pool of executor
 * host threads (czmq actors) connected to it over inproc://. Every
 * exchange between them is a protobuf Envelope, the same protocol worker
 * processes speak. cairn_engine_run() drives one run in the calling
 * thread, superstep by superstep, until it ends.
 *
 * Threading: an engine is used by one thread at a time (it owns ZeroMQ
 * sockets). Handlers run on host threads, concurrently with each other.
 * Events are delivered on the thread that called cairn_engine_run(), in a
 * deterministic order.
 */
#ifndef CAIRN_ENGINE_H_INCLUDED
#define CAIRN_ENGINE_H_INCLUDED

#include "common.h"
#include "control.h"
#include "error.h"
#include "registry.h"
#include "store.h"
#include "workflow.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_engine_t cairn_engine_t;
typedef struct cairn_result_t cairn_result_t;

#define CAIRN_DEFAULT_MAX_MESSAGE_SIZE ((size_t)16 * 1024 * 1024)

typedef enum {
    CAIRN_STATUS_RUNNING = 0,
    CAIRN_STATUS_COMPLETED,
    CAIRN_STATUS_WAITING,
    CAIRN_STATUS_FAILED,
    CAIRN_STATUS_PAUSED,
    CAIRN_STATUS_CANCELLED,
} cairn_status_t;

/* "running", "completed", ...; never NULL. */
CAIRN_EXPORT const char *
cairn_status_name(cairn_status_t status);

typedef enum {
    CAIRN_EVENT_RUN_STARTED = 0,
    CAIRN_EVENT_RUN_ENDED,
    CAIRN_EVENT_SUPERSTEP_STARTED,
    CAIRN_EVENT_SUPERSTEP_COMPLETED,
    CAIRN_EVENT_EXECUTOR_INVOKED,
    CAIRN_EVENT_EXECUTOR_COMPLETED,
    CAIRN_EVENT_EXECUTOR_FAILED,
    CAIRN_EVENT_OUTPUT,
    CAIRN_EVENT_MESSAGE_DROPPED,
    CAIRN_EVENT_STATE_CONFLICT,
    CAIRN_EVENT_CHECKPOINT_WRITTEN,
    CAIRN_EVENT_WORKER_JOINED,
    CAIRN_EVENT_WORKER_LOST,
    CAIRN_EVENT_REQUEST, /* a handler asked for a response (detail: the
                            request id, data: its payload) */
    CAIRN_EVENT_EXECUTOR_RETRY, /* a failed attempt is retried (detail:
                                   why it failed; count: the attempt
                                   about to run) */
    CAIRN_EVENT_DEAD_LETTER,    /* a message was set aside (detail: why;
                                   data: its payload) */
    CAIRN_EVENT_EXECUTOR_MOVED, /* an executor left a lost worker (or a
                                   replaced host) for another host
                                   (detail: "from HOST to HOST", or "from
                                   HOST to in-process") */
} cairn_event_kind_t;

/* "run_started", "executor_failed", ...; never NULL. */
CAIRN_EXPORT const char *
cairn_event_kind_name(cairn_event_kind_t kind);

/* One event, as a callback gets it. Borrowed; valid until the callback
 * returns. */
typedef struct {
    cairn_event_kind_t kind;
    const char *run_id;
    uint64_t superstep;    /* 0 for run events before superstep 1 */
    const char *executor;  /* NULL when not about one executor */
    const char *detail;    /* error text, drop reason, conflicting key,
                              checkpoint id, or NULL */
    const uint8_t *data;   /* output bytes (OUTPUT), else NULL */
    size_t data_len;
    uint64_t count;        /* messages handed to an executor (INVOKED),
                              executors run (SUPERSTEP_COMPLETED), bytes
                              written (CHECKPOINT_WRITTEN) */
    cairn_status_t status; /* RUN_ENDED */
    uint64_t seq;          /* 1, 2, ... within the run, across resumes */
    uint64_t time_ms;      /* wall clock (ms since 1970) when emitted */
} cairn_event_t;

typedef void (*cairn_event_fn)(const cairn_event_t *event, void *userdata);

/* Where the engine's threads run. */
typedef enum {
    CAIRN_CPU_ANY = 0, /* the OS scheduler decides (default) */
    CAIRN_CPU_SHARED,  /* the coordinator (the thread calling
                          cairn_engine_run / _resume, for the length of
                          the call) and every executor host thread share
                          the CPU the engine was opened on: every hand-off
                          is a same-CPU wake-up, several times cheaper
                          than a cross-CPU one, but handlers no longer run
                          in parallel. For sequential workflows and
                          handlers that wait (I/O, remote calls); keep
                          CAIRN_CPU_ANY for CPU-heavy fan-outs. */
} cairn_cpu_placement_t;
/* Where the executors of a lost worker go (cairn_engine_options_t). An
 * executor with a label, or of a type only workers offer, can only go to
 * another worker that fits it, whatever the choice.
 *
 * The executor the lost worker was running (the first of its work items
 * without a Done: a host runs them in order) loses that attempt, with the
 * error "worker W was lost while running it (attempt N)": it is retried
 * while its retry policy's max_attempts allows (3 attempts when the
 * policy has 1; the policy's `on` is not consulted), then its messages
 * of the superstep are dead-lettered (CAIRN_ON_FAILURE_DEAD_LETTER) or
 * the run fails (CAIRN_EHANDLER). Its handler may be what killed the
 * worker, so under CAIRN_WORKER_LOSS_WORKER it runs only on workers for
 * the rest of the run (waiting, bounded by worker_wait_ms, for one). */
typedef enum {
    CAIRN_WORKER_LOSS_WORKER = 0, /* another worker offering the type
                                     (spread over them), else in-process,
                                     except the executor it was running */
    CAIRN_WORKER_LOSS_IN_PROCESS, /* in-process when the coordinator knows
                                     the type, else another worker; also
                                     the executor it was running (a
                                     crashing handler then crashes the
                                     coordinator) */
} cairn_worker_loss_t;

typedef struct {
    size_t host_threads;     /* executor host threads; 0 = number of cores */
    cairn_cpu_placement_t cpu_placement;
    const char *listen;      /* also accept worker processes on this
                                endpoint (tcp://IP:PORT, ipc://PATH), or
                                NULL */
    uint32_t heartbeat_ms;   /* 0: CAIRN_DEFAULT_HEARTBEAT_MS (worker.h);
                                a worker silent for 3, and at least
                                CAIRN_MIN_SILENCE_MS, is lost */
    size_t min_workers;      /* a run first waits for this many workers */
    uint32_t worker_wait_ms; /* ... at most this long (0: 10 s) */
    const char *curve_secret; /* with allow_keys: CURVE on the listen
                                 endpoint, this coordinator's secret key
                                 file (cairn/curve.h) */
    const char *allow_keys;   /* ... and the directory of the public keys
                                 of the workers let in */
    cairn_worker_loss_t on_worker_loss; /* where a lost worker's executors
                                           go (default: another worker) */
    const char *local_listen; /* also accept workers on this ipc://PATH,
                                 never with CURVE (even when listen has
                                 it): for worker processes of this user
                                 on this machine. PATH must be in a
                                 directory only the user can enter; the
                                 socket file is made 0600. NULL: none */
    size_t max_message_size;  /* the largest run max_message_size this
                                 engine serves when it listens for
                                 workers (0: CAIRN_DEFAULT_MAX_MESSAGE_SIZE):
                                 ZeroMQ refuses, before reading it, any
                                 frame from a peer larger than a Done of
                                 such a run may be (4 x this + 1 MiB) and
                                 drops that peer's connection */
} cairn_engine_options_t;

/* What a checkpoint predicate sees at a barrier. Borrowed; valid until
 * the predicate returns. */
typedef struct {
    uint64_t superstep;
    const char *const *executors_run; /* ids, in id order */
    size_t executor_count;
    size_t pending_messages;          /* in flight for the next superstep */
} cairn_barrier_t;

typedef bool (*cairn_checkpoint_predicate_fn)(const cairn_barrier_t *barrier,
                                              void *userdata);

typedef enum {
    CAIRN_CHECKPOINT_EVERY = 0, /* every superstep (default) */
    CAIRN_CHECKPOINT_EVERY_N,   /* every n-th superstep */
    CAIRN_CHECKPOINT_ON_ERROR,  /* only when the run fails */
    CAIRN_CHECKPOINT_MANUAL,    /* only when a handler asks */
    CAIRN_CHECKPOINT_PREDICATE, /* when predicate(barrier) is true */
    CAIRN_CHECKPOINT_NONE,      /* no barrier checkpoints, not even those
                                   handlers ask for */
} cairn_checkpoint_kind_t;

/* When barriers are checkpointed. Whatever the policy, a store gets the
 * entry checkpoint (superstep 0, holding the input), every checkpoint a
 * handler asks for (cairn_ctx_request_checkpoint), and one for every end
 * state. */
typedef struct {
    cairn_checkpoint_kind_t kind;
    uint64_t every_n;
    cairn_checkpoint_predicate_fn predicate;
    void *predicate_userdata;
} cairn_checkpoint_policy_t;

/* Events a store keeps per run unless told otherwise (the newest). */
#define CAIRN_DEFAULT_KEEP_EVENTS 10000
/* keep_events value that stores no events. */
#define CAIRN_KEEP_NO_EVENTS SIZE_MAX

/* The answer to a pending request, given when a run is resumed. */
typedef struct {
    const char *request_id;
    const void *value; /* bytes, copied */
    size_t len;
} cairn_response_t;

typedef struct {
    const char *run_id;       /* NULL: a new time-ordered unique id */
    size_t max_message_size;  /* 0: CAIRN_DEFAULT_MAX_MESSAGE_SIZE */
    uint64_t max_supersteps;  /* 0: the workflow's limit; on resume, the
                                 run's own (kept in its record), so a
                                 run stopped at its limit stays within
                                 it until a resume gives a new one */
    cairn_event_fn on_event;  /* may be NULL */
    void *event_userdata;
    cairn_store_t *store;     /* borrowed; NULL: no checkpoints */
    cairn_checkpoint_policy_t checkpoint;
    bool force_signature;     /* resume even if the workflow changed */
    const void *spec;         /* kept in the run record (the CLI's spec) */
    size_t spec_len;
    const char *const *plugins; /* kept in the run record too */
    const char *const *plugin_sha256; /* per plugin: the SHA-256 (hex) of
                                         its file, kept with it, or NULL */
    size_t plugin_count;
    size_t keep_events;       /* events the store keeps for the run, the
                                 newest: 0 = CAIRN_DEFAULT_KEEP_EVENTS
                                 (on resume: the run's own, as kept in
                                 its record), CAIRN_KEEP_NO_EVENTS = none */
    const char *events_endpoint; /* publish every event on this endpoint
                                    (ipc://PATH, tcp://127.0.0.1:PORT), a
                                    PUB socket bound for the run and kept
                                    in its run record; NULL: do not */

    const cairn_response_t *responses; /* resume: answers to pending
                                          requests (borrowed) */
    size_t response_count;
    cairn_run_control_t *control; /* borrowed; pause / cancel from any
                                     thread or a signal handler
                                     (control.h), or NULL */
    cairn_checkpoint_predicate_fn pause_when; /* pause at a barrier where
                                                 it is true, or NULL */
    void *pause_userdata;
    const char *control_endpoint; /* ipc://PATH: answer Control requests
                                     from other processes there while the
                                     run lives (recorded in the run
                                     record; the socket file is removed
                                     at the end), or NULL */
} cairn_run_options_t;

/* Whether endpoint is tcp://HOST:PORT whose HOST resolves (getaddrinfo)
 * to loopback addresses only: 127.0.0.0/8 and ::1. A wildcard (*,
 * 0.0.0.0, ::), an interface name, a name that does not resolve or
 * resolves to any other address, and every endpoint that is not tcp://
 * are not. Plain TCP that is not loopback lets anyone who can reach the
 * machine connect: use CURVE there. Thread-safe; may consult DNS. */
CAIRN_EXPORT bool
cairn_endpoint_is_loopback(const char *endpoint);

/* Starts the host threads and waits until each has said Hello. registry
 * is borrowed and must outlive the engine. opts may be NULL. */
CAIRN_EXPORT int
cairn_engine_open(cairn_engine_t **out, const cairn_registry_t *registry,
                  const cairn_engine_options_t *opts, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Stops the hosts and frees everything. Accepts NULL; nulls *self_p.
 * Waits for every host thread, also one stuck in a handler that ran past
 * its timeout_ms (see cairn_engine_close to bound that wait). */
CAIRN_EXPORT void
cairn_engine_destroy(cairn_engine_t **self_p);

/* cairn_engine_close's wait_ms for "as long as it takes". */
#define CAIRN_WAIT_FOREVER UINT32_MAX
/* The wait the cairn command gives handlers stuck at its end. */
#define CAIRN_ENGINE_STOP_WAIT_MS 500

/* cairn_engine_destroy with a bounded wait, for a caller that must end
 * (a command whose run is over). Returns how many host threads it left
 * behind. Accepts NULL (returns 0); nulls *self_p.
 *
 * A C handler cannot be interrupted: one that ran past its timeout_ms
 * (its host was replaced) or was still running when a run was cancelled
 * keeps its host thread busy. Hosts that are not inside a handler stop
 * at once; those that are get wait_ms in all, then are left running,
 * detached. What a thread left behind keeps (leaked on purpose; it frees
 * it itself once its handler returns, sending nothing): its host (a
 * DEALER socket, the executor instances and state copies it held) and,
 * borrowed, the registry the engine was opened with and the code of its
 * plugins. So when this returns > 0: do NOT destroy that registry (nor
 * unload its plugins) while the process lives, and end the process
 * soon, after closing stores (their lock) and flushing output, with
 * _exit(): exit() runs czmq's atexit clean-up, which closes the sockets
 * of a thread still running (a libzmq assertion may abort it). Side
 * effects of the stuck handler outside the engine still happen. `cairn
 * run`, `resume` and `recover` do exactly that (docs/concepts.md §6b).
 * Not thread-safe; no run of this engine may be in progress. */
CAIRN_EXPORT size_t
cairn_engine_close(cairn_engine_t **self_p, uint32_t wait_ms);

/* Number of host threads the engine runs. */
CAIRN_EXPORT size_t
cairn_engine_host_count(const cairn_engine_t *self);

/* Handshakes refused on a CURVE listen endpoint so far (a worker without
 * CURVE, with a key not in the allow list, or expecting another server
 * key); each is also logged. 0 without CURVE. Safe from any thread. */
CAIRN_EXPORT uint64_t
cairn_engine_refused_peers(const cairn_engine_t *self);

/* Runs workflow on input until it ends. Returns 0 when the run reached an
 * end state, whatever that state is (completed, failed, ...): read it from
 * *result (caller owns the result). Returns < 0 with err filled, and
 * *result NULL, when the run could not be driven at all (bad options,
 * transport failure). opts may be NULL. */
CAIRN_EXPORT int
cairn_engine_run(cairn_engine_t *self, const cairn_workflow_t *workflow,
                 const void *input, size_t input_len,
                 const cairn_run_options_t *opts, cairn_result_t **result,
                 cairn_error_t *err) CAIRN_WARN_UNUSED;

/* Resumes a run from the store in opts (required): from its latest
 * checkpoint (target "RUN") or from any checkpoint (target "RUN@N").
 * State, shared state, in-flight messages, fan-in buffers, outputs and
 * the superstep counter are restored; executors whose results of the
 * interrupted superstep were already stored are not run again. Resuming
 * from a checkpoint that is not its run's latest creates a fork: a new
 * run (opts->run_id or a fresh id) whose parent is that checkpoint.
 * Resuming a completed run changes nothing and returns its result (see
 * cairn_result_note). opts->responses answer pending requests: each is
 * delivered to the executor that asked, in the next superstep; requests
 * left unanswered stay pending (the run ends WAITING again once nothing
 * else is left). Fails with CAIRN_ENOTFOUND for an unknown run,
 * checkpoint or request id, CAIRN_EINVAL for a request answered twice
 * (in opts or already before), and CAIRN_ESIGNATURE, listing what
 * differs, when workflow is not the one the run was made with (unless
 * opts->force_signature); nothing is written when it fails. */
CAIRN_EXPORT int
cairn_engine_resume(cairn_engine_t *self, const cairn_workflow_t *workflow,
                    const char *target, const cairn_run_options_t *opts,
                    cairn_result_t **result, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

CAIRN_EXPORT void
cairn_result_destroy(cairn_result_t **self_p);

CAIRN_EXPORT const char *
cairn_result_run_id(const cairn_result_t *self);

/* Something the caller may want to tell the user about how the run was
 * driven ("run R is already completed; nothing to do", "resumed as a
 * fork of R@3"), or NULL. Borrowed; valid until the result is
 * destroyed. */
CAIRN_EXPORT const char *
cairn_result_note(const cairn_result_t *self);
CAIRN_EXPORT cairn_status_t
cairn_result_status(const cairn_result_t *self);

/* Number of supersteps that ran (a failed superstep counts). */
CAIRN_EXPORT uint64_t
cairn_result_supersteps(const cairn_result_t *self);

/* CAIRN_OK, or why the run failed (CAIRN_EHANDLER, CAIRN_EMAXSTEPS, ...)
 * with a message naming the executor. Borrowed; valid until the result
 * is destroyed. */
CAIRN_EXPORT const cairn_error_t *
cairn_result_error(const cairn_result_t *self);

/* Outputs in order of superstep, then executor id, then yield order.
 * Borrowed; valid until the result is destroyed. */
CAIRN_EXPORT size_t
cairn_result_output_count(const cairn_result_t *self);
CAIRN_EXPORT const uint8_t *
cairn_result_output(const cairn_result_t *self, size_t index, size_t *len);

/* Requests still waiting for a response (a WAITING run's reason for
 * waiting), in the order they were made. *out's pointers: Borrowed;
 * valid until the result is destroyed. CAIRN_EINVAL when index is out of
 * range. */
CAIRN_EXPORT size_t
cairn_result_request_count(const cairn_result_t *self);
CAIRN_EXPORT int
cairn_result_request(const cairn_result_t *self, size_t index,
                     cairn_request_t *out) CAIRN_WARN_UNUSED;

/* Final committed state of an executor (executor != NULL) or the shared
 * state (executor == NULL); NULL when absent. Borrowed; valid until the
 * result is destroyed. */
CAIRN_EXPORT const uint8_t *
cairn_result_state(const cairn_result_t *self, const char *executor,
                   const char *key, size_t *len);

/* Calls fn for every final state entry: executors in id order, then the
 * shared state (executor NULL), keys in bytewise order
 * (cairn_state_visit_fn: store.h). */
CAIRN_EXPORT void
cairn_result_foreach_state(const cairn_result_t *self,
                           cairn_state_visit_fn fn, void *userdata);

#ifdef __cplusplus
}
#endif
#endif
