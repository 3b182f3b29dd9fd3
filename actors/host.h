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
    const cairn_registry_t *registry; /* borrowed; outlives the host */
    char endpoint[256];               /* coordinator ROUTER endpoint */
    char host_id[64];                 /* also the DEALER routing id */
    const char *const *labels;        /* borrowed; offered to placement */
    size_t label_count;
} cairn__host_args_t;

typedef struct cairn__host_t cairn__host_t;

/* Connects a host to args->endpoint and says Hello. args is copied (the
 * labels array is borrowed). 0, CAIRN_ENOMEM or CAIRN_ETRANSPORT. */
int
cairn__host_open(cairn__host_t **out, const cairn__host_args_t *args);
void
cairn__host_destroy(cairn__host_t **self_p);

/* The DEALER, for polling. */
zsock_t *
cairn__host_socket(cairn__host_t *self);

/* Handles the frame waiting on the socket. Returns false when the
 * coordinator said Shutdown; *reason (if not NULL) then gets a malloc'd
 * copy of why. */
bool
cairn__host_handle_frame(cairn__host_t *self, char **reason);

/* Sends a Hello on socket offering registry's types and the labels. */
int
cairn__hello_send(void *socket, const cairn__host_args_t *args);

/* Hello (again: a restarted coordinator does not know us) and Heartbeat. */
int
cairn__host_send_hello(cairn__host_t *self);
int
cairn__host_send_heartbeat(cairn__host_t *self);

/* Monotonic time (us) of the last frame from the coordinator. */
uint64_t
cairn__host_last_heard(const cairn__host_t *self);

/* zactor body of an in-process host. args must outlive the actor. Stops
 * on "$TERM" or Shutdown. */
void
cairn__host_actor(zsock_t *pipe, void *args);

#endif
