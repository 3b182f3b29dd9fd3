/* result.c - what a run produced: status, outputs, final states.
 *
 * Built by the coordinator on its thread and then handed to the caller;
 * immutable from then on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/result_internal.h"
#include "base/util.h"
#include "proto/pbutil.h"

typedef struct {
    uint8_t *data;
    size_t len;
} s_blob_t;

struct cairn_result_t {
    char *run_id;
    char note[512];        /* "" when there is nothing to say */
    cairn_status_t status;
    uint64_t supersteps;
    cairn_error_t error;
    s_blob_t *outputs;
    size_t output_count;
    char **executor_ids;   /* sorted, parallel to states */
    cairn__kv_t **states;
    size_t executor_count;
    cairn__kv_t *shared;
    cairn__ptrs_t requests; /* Cairn__Request*: still waiting */
};

cairn_result_t *
cairn__result_new(const char *run_id)
{
    cairn_result_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->run_id = strdup(run_id);
    if (!self->run_id) {
        free(self);
        return NULL;
    }
    self->status = CAIRN_STATUS_RUNNING;
    return self;
}

void
cairn_result_destroy(cairn_result_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_result_t *self = *self_p;
    for (size_t i = 0; i < self->output_count; i++)
        free(self->outputs[i].data);
    free(self->outputs);
    for (size_t i = 0; i < self->executor_count; i++) {
        free(self->executor_ids[i]);
        cairn__kv_destroy(&self->states[i]);
    }
    free(self->executor_ids);
    free(self->states);
    cairn__kv_destroy(&self->shared);
    for (size_t i = 0; i < self->requests.count; i++)
        cairn__pb_request_free(self->requests.items[i]);
    free(self->requests.items);
    free(self->run_id);
    free(self);
    *self_p = NULL;
}

int
cairn__result_add_output(cairn_result_t *self, const void *data, size_t len)
{
    if (!CAIRN__GROW(self->outputs, self->output_count))
        return CAIRN_ENOMEM;
    s_blob_t *blob = &self->outputs[self->output_count];
    blob->data = cairn__memdup(data, len);
    blob->len = len;
    if (len > 0 && !blob->data)
        return CAIRN_ENOMEM;
    self->output_count++;
    return CAIRN_OK;
}

int
cairn__result_set_run_id(cairn_result_t *self, const char *run_id)
{
    return cairn__replace_string(&self->run_id, run_id);
}

void
cairn__result_set_note(cairn_result_t *self, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->note, sizeof self->note, fmt, args);
    va_end(args);
}

const char *
cairn_result_note(const cairn_result_t *self)
{
    return self->note[0] ? self->note : NULL;
}

void
cairn__result_end(cairn_result_t *self, cairn_status_t status,
                  uint64_t supersteps, const cairn_error_t *err)
{
    self->status = status;
    self->supersteps = supersteps;
    if (err)
        self->error = *err;
    else
        cairn_error_clear(&self->error);
}

void
cairn__result_take_requests(cairn_result_t *self, cairn__ptrs_t *requests)
{
    for (size_t i = 0; i < self->requests.count; i++)
        cairn__pb_request_free(self->requests.items[i]);
    free(self->requests.items);
    self->requests = *requests;
    memset(requests, 0, sizeof *requests);
}

int
cairn__result_take_states(cairn_result_t *self, const cairn_workflow_t *wf,
                          cairn__kv_t **states, cairn__kv_t **shared)
{
    size_t n = wf->executor_count;
    char **ids = calloc(n, sizeof *ids);
    cairn__kv_t **taken = calloc(n, sizeof *taken);
    bool ok = ids && taken;
    for (size_t i = 0; ok && i < n; i++)
        ok = (ids[i] = strdup(wf->executors[i].id)) != NULL;
    if (!ok) {
        for (size_t i = 0; ids && i < n; i++)
            free(ids[i]);
        free(ids);
        free(taken);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        taken[i] = states[i];
        states[i] = NULL;
    }
    self->executor_ids = ids;
    self->states = taken;
    self->executor_count = n;
    self->shared = *shared;
    *shared = NULL;
    return CAIRN_OK;
}

const char *
cairn_result_run_id(const cairn_result_t *self)
{
    return self->run_id;
}

cairn_status_t
cairn_result_status(const cairn_result_t *self)
{
    return self->status;
}

uint64_t
cairn_result_supersteps(const cairn_result_t *self)
{
    return self->supersteps;
}

const cairn_error_t *
cairn_result_error(const cairn_result_t *self)
{
    return &self->error;
}

size_t
cairn_result_output_count(const cairn_result_t *self)
{
    return self->output_count;
}

const uint8_t *
cairn_result_output(const cairn_result_t *self, size_t index, size_t *len)
{
    if (index >= self->output_count) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = self->outputs[index].len;
    return self->outputs[index].data ? self->outputs[index].data
                                     : (const uint8_t *)"";
}

size_t
cairn_result_request_count(const cairn_result_t *self)
{
    return self->requests.count;
}

int
cairn_result_request(const cairn_result_t *self, size_t index,
                     cairn_request_t *out)
{
    if (index >= self->requests.count)
        return CAIRN_EINVAL;
    cairn__pb_request_view(self->requests.items[index], out);
    return CAIRN_OK;
}

static const cairn__kv_t *
s_state_map(const cairn_result_t *self, const char *executor)
{
    if (!executor)
        return self->shared;
    for (size_t i = 0; i < self->executor_count; i++)
        if (strcmp(self->executor_ids[i], executor) == 0)
            return self->states[i];
    return NULL;
}

const uint8_t *
cairn_result_state(const cairn_result_t *self, const char *executor,
                   const char *key, size_t *len)
{
    const cairn__kv_t *map = s_state_map(self, executor);
    return cairn__kv_get(map, key, len);
}

void
cairn_result_foreach_state(const cairn_result_t *self,
                           cairn_state_visit_fn fn, void *userdata)
{
    for (size_t i = 0; i < self->executor_count; i++)
        cairn__kv_visit(self->states[i], self->executor_ids[i], fn, userdata);
    cairn__kv_visit(self->shared, NULL, fn, userdata);
}
