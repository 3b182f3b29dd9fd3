/* control.h - run control inside the engine: the handle's atomics and
 * the control endpoint one run serves (actors/control.c).
 *
 * Threading: the handle (cairn_run_control_t) is shared between the run's
 * thread and whoever pauses or cancels, and holds lock-free atomics only.
 * Everything else here lives on the run's thread.
 */
#ifndef CAIRN_ENGINE_CONTROL_H_INCLUDED
#define CAIRN_ENGINE_CONTROL_H_INCLUDED

#include <stdatomic.h>

#include <czmq.h>

#include "cairn/control.h"
#include "cairn/engine.h"

#define CAIRN__CONTROL_PAUSE 1u
#define CAIRN__CONTROL_CANCEL 2u

struct cairn_run_control_t {
    atomic_uint requests;            /* CAIRN__CONTROL_* bits not yet acted
                                        on */
    atomic_uint_least64_t superstep; /* published by the run */
};

/* One run's view of its control. */
typedef struct {
    cairn_run_control_t *handle;               /* opts.control, or &own */
    cairn_run_control_t own;                   /* when the options have none */
    zsock_t *socket;                           /* ROUTER on endpoint, or NULL */
    char endpoint[CAIRN_CONTROL_ENDPOINT_MAX]; /* "" without one */
    uint64_t refused; /* malformed or refused requests */
} cairn__ctl_t;

/* Sets up ctl for a run with opts (may be NULL) and binds the control
 * endpoint when opts names one. CAIRN_EINVAL for an endpoint that is not
 * ipc:// or too long, CAIRN_ETRANSPORT when it cannot be bound, with err
 * filled. ctl is always safe to close. */
int cairn__ctl_open(cairn__ctl_t *ctl, const cairn_run_options_t *opts,
                    cairn_error_t *err);

/* Unbinds the endpoint, removes its socket file and drops the requests
 * the run did not act on. */
void cairn__ctl_close(cairn__ctl_t *ctl);

/* The endpoint's socket for zmq_poll, or NULL. */
void *cairn__ctl_pollable(const cairn__ctl_t *ctl);

/* Answers every request waiting on the endpoint, without blocking. */
void cairn__ctl_serve(cairn__ctl_t *ctl, const char *run_id);

/* Publishes the superstep in progress. */
void cairn__ctl_publish(cairn__ctl_t *ctl, uint64_t superstep);

/* Whether a cancel (or, with CAIRN__CONTROL_PAUSE, a pause) is
 * requested; consumes it when it is. */
bool cairn__ctl_take(cairn__ctl_t *ctl, unsigned request);

#endif
