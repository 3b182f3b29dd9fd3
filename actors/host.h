/* host.h - an executor host: a czmq actor thread that runs handlers.
 *
 * A host connects a DEALER to the coordinator's ROUTER, says Hello, and
 * then answers every Deliver with one Done per work item. It keeps the
 * executors it was given (instance + state copy) and the shared state as
 * the coordinator last shipped it; it never decides anything itself.
 * Worker processes run the same loop over ipc:// or tcp://.
 */
#ifndef CAIRN_HOST_H_INCLUDED
#define CAIRN_HOST_H_INCLUDED

#include <czmq.h>
#include <stdatomic.h>

#include "cairn/registry.h"

/* Who frees a host thread's args (cairn__host_args_t.fate): the engine
 * when the thread finished in time, the thread itself when the engine
 * gave up waiting for it (a handler stuck past the engine's stop wait). */
enum {
    CAIRN__HOST_RUNNING = 0,
    CAIRN__HOST_FINISHED,  /* the thread is done with args */
    CAIRN__HOST_ABANDONED, /* the engine left; the thread frees args */
};

typedef struct {
    const cairn_registry_t *registry; /* borrowed; outlives the host */
    char endpoint[256];               /* coordinator ROUTER endpoint */
    char host_id[64];                 /* also the DEALER routing id */
    const char *const *labels;        /* borrowed; offered to placement */
    size_t label_count;
    bool pin;                         /* run the thread on cpu only */
    int cpu;
    uint64_t nonce;                   /* sent in every Hello: random per
                                         worker process, 0 in-process */
    atomic_bool busy;                 /* the thread is inside a Deliver
                                         (executor init and handlers) */
    atomic_int fate;                  /* CAIRN__HOST_*: who frees args
                                         (heap args of in-process hosts;
                                         a worker's never change) */
} cairn__host_args_t;

/* Process-wide set-up of czmq and libsodium, once, whichever thread
 * opens the first engine or worker: czmq's own first-use init is not
 * thread-safe, and the library must not take over the program's SIGINT
 * and SIGTERM (czmq installs handlers unless told not to before its first
 * socket; the cairn command handles signals itself). 0 or CAIRN_ENOMEM. */
int
cairn__process_init(void);

/* Sends a Hello on socket offering registry's types and the labels. */
int
cairn__hello_send(void *socket, const cairn__host_args_t *args);

/* zactor body of an executor host (in-process, or inside a worker
 * process). args must outlive the actor, unless its owner marks them
 * CAIRN__HOST_ABANDONED (malloc'd args only): then the thread frees them
 * when it ends. Stops on "$TERM" or Shutdown, and, once abandoned, as soon
 * as the handler it is stuck in returns (its pipe may be gone by then). */
void
cairn__host_actor(zsock_t *pipe, void *args);

#endif
