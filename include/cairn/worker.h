/* worker.h - running executors in a worker process.
 *
 * A worker connects to a coordinator that listens (cairn run --listen, or
 * cairn_engine_options_t.listen) over tcp:// or ipc://, offers the executor
 * types of its registry and its labels, and runs the work it is given,
 * speaking the same protocol as the coordinator's in-process hosts. It
 * sends a heartbeat every heartbeat_ms; when the coordinator is silent for
 * three intervals it says Hello again (a resumed coordinator on the same
 * endpoint takes it back) and gives up after give_up_after_ms.
 */
#ifndef CAIRN_WORKER_H_INCLUDED
#define CAIRN_WORKER_H_INCLUDED

#include "common.h"
#include "error.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_DEFAULT_HEARTBEAT_MS 250
/* A coordinator loses a worker for its silence only after three
 * heartbeat intervals and at least this long: on a loaded machine a live
 * worker (or the coordinator) can go a second or two without running. A
 * worker that dies is found sooner, by its closed connection. */
#define CAIRN_MIN_SILENCE_MS 3000

typedef struct {
    const char *endpoint;        /* required: tcp://host:port or ipc://path */
    const char *worker_id;       /* NULL: worker-PID-RANDOM */
    const char *const *labels;   /* offered to placement */
    size_t label_count;
    uint32_t heartbeat_ms;       /* 0: CAIRN_DEFAULT_HEARTBEAT_MS */
    uint64_t give_up_after_ms;   /* 0: never */
    volatile int *stop;          /* optional: set non-zero to stop */
    const char *curve_secret;    /* with server_key: connect with CURVE,
                                    this worker's secret key file */
    const char *server_key;      /* ... and the coordinator's public key
                                    file (cairn/curve.h) */
} cairn_worker_options_t;

/* Runs a worker until the coordinator shuts it down (returns 0), *stop is
 * set (0), or it gave up on a silent coordinator (CAIRN_ETRANSPORT, with
 * err saying so). A worker whose handshake the coordinator refused (no
 * CURVE against a CURVE coordinator, a key not in its allow list) and
 * that has heard nothing from it for three heartbeats stops with
 * CAIRN_ETRANSPORT, err saying why. Bad key files: CAIRN_EINVAL, err
 * naming the file. registry is borrowed. */
CAIRN_EXPORT int
cairn_worker_run(const cairn_registry_t *registry,
                 const cairn_worker_options_t *opts, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
