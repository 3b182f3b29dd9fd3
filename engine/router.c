/* router.c - edge semantics: direct, fan-out, switch, fan-in (router.h).
 *
 * Fan-in buffers hold copies, because the messages they hold outlive the
 * superstep that delivered them.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "graph/registry_internal.h"
#include "engine/router.h"
#include "base/util.h"
#include "proto/pbutil.h"

typedef struct {
    Cairn__Message **items; /* owned copies, oldest first */
    size_t head;            /* index of the oldest */
    size_t count;           /* items[0 .. count) allocated slots used */
} s_fifo_t;

typedef struct {
    const cairn__edge_t *edge;
    s_fifo_t *fifos;        /* one per source, in source order */
} s_fan_in_t;

struct cairn__router_t {
    const cairn_workflow_t *wf;
    s_fan_in_t *fan_ins;    /* indexed by edge->fan_in_slot */
};

cairn__router_t *
cairn__router_new(const cairn_workflow_t *wf)
{
    cairn__router_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->wf = wf;
    self->fan_ins = calloc(wf->fan_in_count ? wf->fan_in_count : 1,
                           sizeof *self->fan_ins);
    if (!self->fan_ins) {
        free(self);
        return NULL;
    }
    for (size_t e = 0; e < wf->edge_count; e++) {
        const cairn__edge_t *edge = &wf->edges[e];
        if (edge->kind != CAIRN__EDGE_FAN_IN)
            continue;
        s_fan_in_t *fan_in = &self->fan_ins[edge->fan_in_slot];
        fan_in->edge = edge;
        fan_in->fifos = calloc(edge->source_count, sizeof *fan_in->fifos);
        if (!fan_in->fifos) {
            cairn__router_destroy(&self);
            return NULL;
        }
    }
    return self;
}

static void
s_fifo_free(s_fifo_t *fifo)
{
    for (size_t i = fifo->head; i < fifo->count; i++)
        cairn__pb_message_free(fifo->items[i]);
    free(fifo->items);
}

void
cairn__router_destroy(cairn__router_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn__router_t *self = *self_p;
    for (size_t i = 0; i < self->wf->fan_in_count; i++) {
        s_fan_in_t *fan_in = &self->fan_ins[i];
        if (!fan_in->fifos)
            continue;
        for (size_t s = 0; s < fan_in->edge->source_count; s++)
            s_fifo_free(&fan_in->fifos[s]);
        free(fan_in->fifos);
    }
    free(self->fan_ins);
    free(self);
    *self_p = NULL;
}

static int
s_fifo_push(s_fifo_t *fifo, const Cairn__Message *msg)
{
    /* Drop consumed slots once they are half the array, so a source
     * that is always ahead does not grow the array forever. */
    if (fifo->head > 0 && fifo->head * 2 >= fifo->count) {
        memmove(fifo->items, fifo->items + fifo->head,
                (fifo->count - fifo->head) * sizeof *fifo->items);
        fifo->count -= fifo->head;
        fifo->head = 0;
    }
    Cairn__Message *copy = cairn__pb_message_clone(msg);
    if (!copy || !CAIRN__GROW(fifo->items, fifo->count)) {
        cairn__pb_message_free(copy);
        return CAIRN_ENOMEM;
    }
    fifo->items[fifo->count++] = copy;
    return CAIRN_OK;
}

static Cairn__Message *
s_fifo_pop(s_fifo_t *fifo)
{
    return fifo->head < fifo->count ? fifo->items[fifo->head++] : NULL;
}

static bool
s_fifo_empty(const s_fifo_t *fifo)
{
    return fifo->head >= fifo->count;
}

/* Delivers to target unless it does not accept msg's type tag. */
static int
s_deliver(const cairn__router_t *self, size_t target, Cairn__Message *msg,
          bool owned, const cairn__route_sink_t *sink)
{
    /* Edges were resolved against the workflow when it was built. */
    assert(target < self->wf->executor_count);
    if (!owned && !cairn__workflow_accepts(self->wf, target, msg->type)) {
        sink->drop(sink->userdata, target, msg);
        return CAIRN_OK;
    }
    return sink->deliver(sink->userdata, target, msg, owned);
}

static bool
s_pred_holds(const cairn__router_t *self, const cairn__pred_t *pred,
             const Cairn__Message *msg)
{
    if (!pred->name)
        return true;
    return cairn_registry_eval(self->wf->registry, pred->name,
                               (const cairn_msg_t *)(const void *)msg,
                               pred->arg, pred->arg_len);
}

/* Buffers msg at source's position in a fan-in edge. */
static int
s_buffer_fan_in(cairn__router_t *self, const cairn__edge_t *edge,
                size_t source, const Cairn__Message *msg)
{
    s_fan_in_t *fan_in = &self->fan_ins[edge->fan_in_slot];
    for (size_t s = 0; s < edge->source_count; s++)
        if (edge->sources[s] == source)
            return s_fifo_push(&fan_in->fifos[s], msg);
    return CAIRN_OK;
}

static int
s_route_fan_out(cairn__router_t *self, const cairn__edge_t *edge,
                Cairn__Message *msg, const cairn__route_sink_t *sink)
{
    bool *chosen = calloc(edge->target_count, sizeof *chosen);
    const char **names = calloc(edge->target_count, sizeof *names);
    int rc = (chosen && names) ? CAIRN_OK : CAIRN_ENOMEM;
    if (rc == CAIRN_OK && edge->selector.name) {
        for (size_t t = 0; t < edge->target_count; t++)
            names[t] = self->wf->executors[edge->targets[t].executor].id;
        cairn_selector_fn select =
            cairn__registry_selector(self->wf->registry, edge->selector.name);
        select((const cairn_msg_t *)(const void *)msg, edge->selector.arg,
               edge->selector.arg_len, names, edge->target_count, chosen);
    } else if (rc == CAIRN_OK) {
        for (size_t t = 0; t < edge->target_count; t++)
            chosen[t] = true;
    }
    for (size_t t = 0; rc == CAIRN_OK && t < edge->target_count; t++)
        if (chosen[t])
            rc = s_deliver(self, edge->targets[t].executor, msg, false, sink);
    free(chosen);
    free(names);
    return rc;
}

static int
s_route_edge(cairn__router_t *self, const cairn__edge_t *edge, size_t source,
             Cairn__Message *msg, const cairn__route_sink_t *sink)
{
    switch (edge->kind) {
    case CAIRN__EDGE_DIRECT:
        if (!s_pred_holds(self, &edge->targets[0].pred, msg))
            return CAIRN_OK;
        return s_deliver(self, edge->targets[0].executor, msg, false, sink);
    case CAIRN__EDGE_FAN_OUT:
        return s_route_fan_out(self, edge, msg, sink);
    case CAIRN__EDGE_SWITCH:
        /* First matching case wins; the default matches last. */
        for (size_t t = 0; t < edge->target_count; t++)
            if (!edge->targets[t].is_default
                && s_pred_holds(self, &edge->targets[t].pred, msg))
                return s_deliver(self, edge->targets[t].executor, msg, false,
                                 sink);
        for (size_t t = 0; t < edge->target_count; t++)
            if (edge->targets[t].is_default)
                return s_deliver(self, edge->targets[t].executor, msg, false,
                                 sink);
        return CAIRN_OK;
    case CAIRN__EDGE_FAN_IN:
        return s_buffer_fan_in(self, edge, source, msg);
    }
    return CAIRN_OK;
}

/* The first edge of source that leads to target, or NULL. */
static const cairn__edge_t *
s_edge_to(const cairn__router_t *self, size_t source, size_t target)
{
    const cairn__executor_t *exec = &self->wf->executors[source];
    for (size_t i = 0; i < exec->out_edge_count; i++) {
        const cairn__edge_t *edge = &self->wf->edges[exec->out_edges[i]];
        for (size_t t = 0; t < edge->target_count; t++)
            if (edge->targets[t].executor == target)
                return edge;
    }
    return NULL;
}

const char *
cairn__router_check_target(const cairn__router_t *self, size_t source,
                           const Cairn__Message *msg)
{
    if (!msg->target || !*msg->target)
        return NULL;
    long target = cairn__workflow_find(self->wf, msg->target);
    if (target < 0)
        return "send_to names an unknown executor";
    if (!s_edge_to(self, source, (size_t)target))
        return "send_to names an executor this one has no edge to";
    return NULL;
}

int
cairn__router_route(cairn__router_t *self, size_t source,
                    Cairn__Message *msg, const cairn__route_sink_t *sink)
{
    if (msg->target && *msg->target) {
        long target = cairn__workflow_find(self->wf, msg->target);
        const cairn__edge_t *edge =
            target < 0 ? NULL : s_edge_to(self, source, (size_t)target);
        if (!edge)
            return CAIRN_OK; /* refused earlier by check_target */
        if (edge->kind == CAIRN__EDGE_FAN_IN)
            return s_buffer_fan_in(self, edge, source, msg);
        return s_deliver(self, (size_t)target, msg, false, sink);
    }
    const cairn__executor_t *exec = &self->wf->executors[source];
    for (size_t i = 0; i < exec->out_edge_count; i++) {
        int rc = s_route_edge(self, &self->wf->edges[exec->out_edges[i]],
                              source, msg, sink);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* Builds the message of one firing from the oldest of each source. */
static Cairn__Message *
s_assemble(s_fan_in_t *fan_in)
{
    size_t n = fan_in->edge->source_count;
    Cairn__Message *msg = cairn__pb_message_new(NULL, NULL, NULL, NULL, 0);
    Cairn__Message **parts = calloc(n, sizeof *parts);
    if (!msg || !parts) {
        cairn__pb_message_free(msg);
        free(parts);
        return NULL;
    }
    for (size_t s = 0; s < n; s++)
        parts[s] = s_fifo_pop(&fan_in->fifos[s]);
    msg->parts = parts;
    msg->n_parts = n;
    return msg;
}

static bool
s_ready(const s_fan_in_t *fan_in)
{
    for (size_t s = 0; s < fan_in->edge->source_count; s++)
        if (s_fifo_empty(&fan_in->fifos[s]))
            return false;
    return true;
}

int
cairn__router_fire_fan_ins(cairn__router_t *self,
                           const cairn__route_sink_t *sink)
{
    for (size_t i = 0; i < self->wf->fan_in_count; i++) {
        s_fan_in_t *fan_in = &self->fan_ins[i];
        while (s_ready(fan_in)) {
            Cairn__Message *msg = s_assemble(fan_in);
            if (!msg)
                return CAIRN_ENOMEM;
            int rc = s_deliver(self, fan_in->edge->targets[0].executor, msg,
                               true, sink);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    return CAIRN_OK;
}

int
cairn__router_export(const cairn__router_t *self, Cairn__FanInBuffer ***out,
                     size_t *count)
{
    *out = NULL;
    *count = 0;
    Cairn__FanInBuffer **buffers = NULL;
    size_t n = 0;
    for (size_t i = 0; i < self->wf->fan_in_count; i++) {
        const s_fan_in_t *fan_in = &self->fan_ins[i];
        for (size_t s = 0; s < fan_in->edge->source_count; s++) {
            const s_fifo_t *fifo = &fan_in->fifos[s];
            if (s_fifo_empty(fifo))
                continue;
            Cairn__FanInBuffer *buffer = malloc(sizeof *buffer);
            if (!buffer || !CAIRN__GROW(buffers, n)) {
                free(buffer);
                cairn__router_export_free(buffers, n);
                return CAIRN_ENOMEM;
            }
            cairn__fan_in_buffer__init(buffer);
            buffer->slot = (uint32_t)i;
            buffer->source = (uint32_t)s;
            buffer->messages = &fifo->items[fifo->head];
            buffer->n_messages = fifo->count - fifo->head;
            buffers[n++] = buffer;
        }
    }
    *out = buffers;
    *count = n;
    return CAIRN_OK;
}

void
cairn__router_export_free(Cairn__FanInBuffer **buffers, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(buffers[i]);
    free(buffers);
}

int
cairn__router_import(cairn__router_t *self,
                     Cairn__FanInBuffer *const *buffers, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const Cairn__FanInBuffer *buffer = buffers[i];
        if (buffer->slot >= self->wf->fan_in_count
            || buffer->source
                   >= self->fan_ins[buffer->slot].edge->source_count)
            return CAIRN_ECORRUPT;
        s_fifo_t *fifo = &self->fan_ins[buffer->slot].fifos[buffer->source];
        for (size_t m = 0; m < buffer->n_messages; m++) {
            int rc = s_fifo_push(fifo, buffer->messages[m]);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    return CAIRN_OK;
}

void
cairn__router_foreach_waiting(const cairn__router_t *self,
                              void (*fn)(void *userdata, size_t target,
                                         size_t source, size_t count),
                              void *userdata)
{
    for (size_t i = 0; i < self->wf->fan_in_count; i++) {
        const s_fan_in_t *fan_in = &self->fan_ins[i];
        for (size_t s = 0; s < fan_in->edge->source_count; s++) {
            const s_fifo_t *fifo = &fan_in->fifos[s];
            if (!s_fifo_empty(fifo))
                fn(userdata, fan_in->edge->targets[0].executor,
                   fan_in->edge->sources[s], fifo->count - fifo->head);
        }
    }
}
