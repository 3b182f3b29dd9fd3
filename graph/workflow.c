/* workflow.c - the immutable workflow: accessors, lookups, destruction.
 *
 * A built workflow is never modified, so any number of threads and runs
 * may read it at once.
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "graph/workflow_internal.h"

int
cairn__pred_init(cairn__pred_t *pred, const char *name, const void *arg,
                 size_t arg_len)
{
    memset(pred, 0, sizeof *pred);
    if (!name)
        return CAIRN_OK;
    pred->name = strdup(name);
    pred->arg = cairn__memdup(arg, arg_len);
    pred->arg_len = arg_len;
    if (!pred->name || (arg_len > 0 && !pred->arg)) {
        cairn__pred_free(pred);
        return CAIRN_ENOMEM;
    }
    return CAIRN_OK;
}

int
cairn__pred_copy(cairn__pred_t *dst, const cairn__pred_t *src)
{
    return cairn__pred_init(dst, src->name, src->arg, src->arg_len);
}

void
cairn__pred_free(cairn__pred_t *pred)
{
    free(pred->name);
    free(pred->arg);
    memset(pred, 0, sizeof *pred);
}

static void
s_executor_free(cairn__executor_t *exec)
{
    free(exec->id);
    free(exec->type);
    free(exec->label);
    free(exec->config);
    for (size_t i = 0; i < exec->accept_count; i++)
        free(exec->accepts[i]);
    free(exec->accepts);
    free(exec->out_edges);
}

static void
s_edge_free(cairn__edge_t *edge)
{
    free(edge->sources);
    if (edge->targets)
        for (size_t i = 0; i < edge->target_count; i++)
            cairn__pred_free(&edge->targets[i].pred);
    free(edge->targets);
    cairn__pred_free(&edge->selector);
}

void
cairn_workflow_destroy(cairn_workflow_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_workflow_t *self = *self_p;
    for (size_t i = 0; i < self->executor_count; i++)
        s_executor_free(&self->executors[i]);
    free(self->executors);
    for (size_t i = 0; i < self->edge_count; i++)
        s_edge_free(&self->edges[i]);
    free(self->edges);
    for (size_t i = 0; i < self->warning_count; i++)
        free(self->warnings[i]);
    free(self->warnings);
    free(self->name);
    free(self);
    *self_p = NULL;
}

const char *
cairn_workflow_name(const cairn_workflow_t *self)
{
    return self->name;
}

size_t
cairn_workflow_executor_count(const cairn_workflow_t *self)
{
    return self->executor_count;
}

const char *
cairn_workflow_executor_type(const cairn_workflow_t *self, size_t index,
                             const char **id)
{
    if (index >= self->executor_count)
        return NULL;
    if (id)
        *id = self->executors[index].id;
    return self->executors[index].type;
}

uint64_t
cairn_workflow_max_supersteps(const cairn_workflow_t *self)
{
    return self->max_supersteps;
}

const uint8_t *
cairn_workflow_signature(const cairn_workflow_t *self)
{
    return self->signature;
}

const char *
cairn_workflow_signature_hex(const cairn_workflow_t *self)
{
    return self->signature_hex;
}

size_t
cairn_workflow_warning_count(const cairn_workflow_t *self)
{
    return self->warning_count;
}

const char *
cairn_workflow_warning(const cairn_workflow_t *self, size_t index)
{
    return index < self->warning_count ? self->warnings[index] : NULL;
}

long
cairn__workflow_find(const cairn_workflow_t *self, const char *id)
{
    size_t low = 0, high = self->executor_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        const char *mid_id = self->executors[mid].id;
        int order = mid_id ? strcmp(mid_id, id) : -1;
        if (order == 0)
            return (long)mid;
        if (order < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return -1;
}

bool
cairn__workflow_accepts(const cairn_workflow_t *self, size_t exec,
                        const char *type)
{
    const cairn__executor_t *executor = &self->executors[exec];
    if (executor->accept_count == 0)
        return true;
    for (size_t i = 0; i < executor->accept_count; i++)
        if (strcmp(executor->accepts[i], type) == 0)
            return true;
    return false;
}
