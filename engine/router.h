/* router.h - routes the messages an executor sent along its edges.
 *
 * The router is the only place that knows edge semantics. It owns the
 * fan-in buffers (one FIFO per source of each fan-in edge), which are part
 * of a run's state between supersteps. Routing is deterministic: the
 * coordinator feeds messages in executor-id order, then send order, and
 * the router walks edges in the order they were added.
 */
#ifndef CAIRN_ROUTER_H_INCLUDED
#define CAIRN_ROUTER_H_INCLUDED

#include "cairn.pb-c.h"
#include "checkpoint.pb-c.h"
#include "graph/workflow_internal.h"

typedef struct cairn__router_t cairn__router_t;

/* Where routed messages go. deliver gets msg borrowed from the caller
 * (owned == false) or, for fan-in messages the router assembled, handed
 * over (owned == true; deliver then owns it on every path). drop reports a message the target does not
 * accept. */
typedef struct {
    int (*deliver)(void *userdata, size_t target, Cairn__Message *msg,
                   bool owned);
    void (*drop)(void *userdata, size_t target, const Cairn__Message *msg);
    void *userdata;
} cairn__route_sink_t;

/* NULL on out-of-memory. wf is borrowed and must outlive the router. */
cairn__router_t *
cairn__router_new(const cairn_workflow_t *wf);
void
cairn__router_destroy(cairn__router_t **self_p);

/* When msg names a target (send_to), checks that source has an edge to
 * it. Returns NULL when fine, else a static reason. */
const char *
cairn__router_check_target(const cairn__router_t *self, size_t source,
                           const Cairn__Message *msg);

/* Routes msg, sent by executor source. Fan-in edges keep a copy in their
 * buffer. Returns 0, CAIRN_ENOMEM, or what sink->deliver returned. */
int
cairn__router_route(cairn__router_t *self, size_t source,
                    Cairn__Message *msg, const cairn__route_sink_t *sink);

/* Fires every fan-in edge whose sources all have a buffered message, as
 * often as possible, delivering one assembled message per firing. */
int
cairn__router_fire_fan_ins(cairn__router_t *self,
                           const cairn__route_sink_t *sink);

/* The fan-in buffers that hold messages, as records that borrow the
 * buffered messages (valid until the router next changes). Free the
 * array with cairn__router_export_free. 0 or CAIRN_ENOMEM. */
int
cairn__router_export(const cairn__router_t *self, Cairn__FanInBuffer ***out,
                     size_t *count);
void
cairn__router_export_free(Cairn__FanInBuffer **buffers, size_t count);

/* Refills the fan-in buffers from stored records (copies). Records that
 * do not fit this workflow are CAIRN_ECORRUPT. */
int
cairn__router_import(cairn__router_t *self,
                     Cairn__FanInBuffer *const *buffers, size_t count);

/* Calls fn for every fan-in source buffer that holds messages: the
 * edge's target, the source executor and how many wait. */
void
cairn__router_foreach_waiting(const cairn__router_t *self,
                              void (*fn)(void *userdata, size_t target,
                                         size_t source, size_t count),
                              void *userdata);

#endif
