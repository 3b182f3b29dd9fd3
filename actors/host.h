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

#include "cairn/registry.h"

typedef struct {
    const cairn_registry_t *registry; /* borrowed; outlives the actor */
    char endpoint[256];               /* coordinator ROUTER endpoint */
    char host_id[64];                 /* also the DEALER routing id */
} cairn__host_args_t;

/* zactor body. args is copied before the actor signals that it runs, so
 * it may live on the caller's stack. Stops on "$TERM" or Shutdown. */
void
cairn__host_actor(zsock_t *pipe, void *args);

#endif
