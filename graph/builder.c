/* builder.c - collects a workflow description (the add and set calls).
 *
 * The builder stores names, not indices: nothing is checked when things
 * are added (other than missing arguments), everything is checked in
 * cairn_builder_build() (builder_build.c), which reports the first
 * problem naming the executor or edge. That way the order of add calls
 * never matters.
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "graph/builder_internal.h"

cairn_builder_t *
cairn_builder_new(const cairn_registry_t *registry)
{
    cairn_builder_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->registry = registry;
    self->max_supersteps = CAIRN_DEFAULT_MAX_SUPERSTEPS;
    return self;
}

static void
s_edge_spec_free(cairn__builder_edge_t *edge)
{
    for (size_t i = 0; i < edge->source_count; i++)
        free(edge->sources[i]);
    free(edge->sources);
    for (size_t i = 0; i < edge->target_count; i++) {
        free(edge->targets[i].to);
        cairn__pred_free(&edge->targets[i].pred);
    }
    free(edge->targets);
    cairn__pred_free(&edge->selector);
}

void
cairn_builder_destroy(cairn_builder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_builder_t *self = *self_p;
    free(self->name);
    free(self->start);
    for (size_t i = 0; i < self->executor_count; i++) {
        free(self->executors[i].id);
        free(self->executors[i].type);
        free(self->executors[i].config);
    }
    free(self->executors);
    for (size_t i = 0; i < self->accept_count; i++) {
        free(self->accepts[i].executor);
        free(self->accepts[i].tag);
    }
    free(self->accepts);
    for (size_t i = 0; i < self->failure_count; i++)
        free(self->failures[i].executor);
    free(self->failures);
    for (size_t i = 0; i < self->label_count; i++) {
        free(self->labels[i].executor);
        free(self->labels[i].label);
    }
    free(self->labels);
    for (size_t i = 0; i < self->edge_count; i++)
        s_edge_spec_free(&self->edges[i]);
    free(self->edges);
    free(self);
    *self_p = NULL;
}

int
cairn_builder_set_name(cairn_builder_t *self, const char *name)
{
    if (!self || !name)
        return CAIRN_EINVAL;
    return cairn__replace_string(&self->name, name);
}

int
cairn_builder_set_start(cairn_builder_t *self, const char *id)
{
    if (!self || !id)
        return CAIRN_EINVAL;
    return cairn__replace_string(&self->start, id);
}

void
cairn_builder_set_max_supersteps(cairn_builder_t *self, uint64_t n)
{
    if (self)
        self->max_supersteps = n;
}

int
cairn_builder_add_executor(cairn_builder_t *self, const char *id,
                           const char *type, const void *config,
                           size_t config_len)
{
    if (!self || !id || !type || (config_len > 0 && !config))
        return CAIRN_EINVAL;
    if (!CAIRN__GROW(self->executors, self->executor_count))
        return CAIRN_ENOMEM;
    cairn__builder_executor_t *spec = &self->executors[self->executor_count];
    memset(spec, 0, sizeof *spec);
    spec->id = strdup(id);
    spec->type = strdup(type);
    spec->config = cairn__memdup(config, config_len);
    spec->config_len = config_len;
    if (!spec->id || !spec->type || (config_len > 0 && !spec->config)) {
        free(spec->id);
        free(spec->type);
        free(spec->config);
        return CAIRN_ENOMEM;
    }
    self->executor_count++;
    return CAIRN_OK;
}

int
cairn_builder_accept(cairn_builder_t *self, const char *id,
                     const char *type_tag)
{
    if (!self || !id || !type_tag)
        return CAIRN_EINVAL;
    if (!CAIRN__GROW(self->accepts, self->accept_count))
        return CAIRN_ENOMEM;
    cairn__builder_accept_t *spec = &self->accepts[self->accept_count];
    spec->executor = strdup(id);
    spec->tag = strdup(type_tag);
    if (!spec->executor || !spec->tag) {
        free(spec->executor);
        free(spec->tag);
        return CAIRN_ENOMEM;
    }
    self->accept_count++;
    return CAIRN_OK;
}

/* Appends a failure-handling setting for id (NULL: the default). */
static cairn__builder_failure_t *
s_add_failure_spec(cairn_builder_t *self, const char *id)
{
    char *copy = id ? strdup(id) : NULL;
    if ((id && !copy) || !CAIRN__GROW(self->failures, self->failure_count)) {
        free(copy);
        return NULL;
    }
    cairn__builder_failure_t *spec = &self->failures[self->failure_count++];
    memset(spec, 0, sizeof *spec);
    spec->executor = copy;
    return spec;
}

int
cairn_builder_set_retry(cairn_builder_t *self, const char *id,
                        const cairn_retry_policy_t *policy)
{
    if (!self || !policy || policy->max_attempts == 0)
        return CAIRN_EINVAL;
    cairn__builder_failure_t *spec = s_add_failure_spec(self, id);
    if (!spec)
        return CAIRN_ENOMEM;
    spec->has_retry = true;
    spec->retry = *policy;
    return CAIRN_OK;
}

int
cairn_builder_set_timeout(cairn_builder_t *self, const char *id,
                          uint32_t timeout_ms)
{
    if (!self)
        return CAIRN_EINVAL;
    cairn__builder_failure_t *spec = s_add_failure_spec(self, id);
    if (!spec)
        return CAIRN_ENOMEM;
    spec->has_timeout = true;
    spec->timeout_ms = timeout_ms;
    return CAIRN_OK;
}

int
cairn_builder_set_on_failure(cairn_builder_t *self, const char *id,
                             cairn_on_failure_t on_failure)
{
    if (!self || (on_failure != CAIRN_ON_FAILURE_FAIL
                  && on_failure != CAIRN_ON_FAILURE_DEAD_LETTER))
        return CAIRN_EINVAL;
    cairn__builder_failure_t *spec = s_add_failure_spec(self, id);
    if (!spec)
        return CAIRN_ENOMEM;
    spec->has_on_failure = true;
    spec->on_failure = on_failure;
    return CAIRN_OK;
}

int
cairn_builder_set_label(cairn_builder_t *self, const char *id,
                        const char *label)
{
    if (!self || !id)
        return CAIRN_EINVAL;
    char *executor = strdup(id);
    char *copy = label ? strdup(label) : NULL;
    if (!executor || (label && !copy)
        || !CAIRN__GROW(self->labels, self->label_count)) {
        free(executor);
        free(copy);
        return CAIRN_ENOMEM;
    }
    self->labels[self->label_count++] = (cairn__builder_label_t){executor, copy};
    return CAIRN_OK;
}

void
cairn_builder_allow_worker_types(cairn_builder_t *self, bool allow)
{
    if (self)
        self->worker_types = allow;
}

/* Appends an edge; takes ownership of *edge's contents on every path. */
static int
s_push_edge(cairn_builder_t *self, cairn__builder_edge_t *edge)
{
    if (!CAIRN__GROW(self->edges, self->edge_count)) {
        s_edge_spec_free(edge);
        return CAIRN_ENOMEM;
    }
    self->edges[self->edge_count++] = *edge;
    return CAIRN_OK;
}

/* Starts an edge spec with copies of the sources and room for n targets. */
static int
s_edge_init(cairn__builder_edge_t *edge, cairn__edge_kind_t kind,
            const char *const *sources, size_t source_count,
            size_t target_count)
{
    memset(edge, 0, sizeof *edge);
    edge->kind = kind;
    edge->sources = calloc(source_count ? source_count : 1, sizeof(char *));
    edge->targets = calloc(target_count ? target_count : 1,
                           sizeof(cairn__builder_target_t));
    if (!edge->sources || !edge->targets)
        goto fail;
    for (size_t i = 0; i < source_count; i++) {
        edge->source_count++;
        edge->sources[i] = sources[i] ? strdup(sources[i]) : NULL;
        if (!edge->sources[i])
            goto fail;
    }
    return CAIRN_OK;
fail:
    s_edge_spec_free(edge);
    return CAIRN_ENOMEM;
}

/* Adds target `to` with an optional predicate to edge. */
static int
s_edge_add_target(cairn__builder_edge_t *edge, const char *to, const char *predicate,
                  const void *arg, size_t arg_len, bool is_default)
{
    cairn__builder_target_t *target = &edge->targets[edge->target_count];
    target->is_default = is_default;
    target->to = strdup(to);
    if (!target->to)
        return CAIRN_ENOMEM;
    edge->target_count++;
    return cairn__pred_init(&target->pred, predicate, arg, arg_len);
}

int
cairn_builder_add_edge(cairn_builder_t *self, const char *from,
                       const char *to, const char *predicate, const void *arg,
                       size_t arg_len)
{
    if (!self || !from || !to || (arg_len > 0 && !arg))
        return CAIRN_EINVAL;
    cairn__builder_edge_t edge;
    int rc = s_edge_init(&edge, CAIRN__EDGE_DIRECT, &from, 1, 1);
    if (rc == CAIRN_OK)
        rc = s_edge_add_target(&edge, to, predicate, arg, arg_len, false);
    if (rc != CAIRN_OK) {
        s_edge_spec_free(&edge);
        return rc;
    }
    return s_push_edge(self, &edge);
}

int
cairn_builder_add_fan_out(cairn_builder_t *self, const char *from,
                          const char *const *targets, size_t n,
                          const char *selector, const void *arg,
                          size_t arg_len)
{
    if (!self || !from || (n > 0 && !targets) || (arg_len > 0 && !arg))
        return CAIRN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!targets[i])
            return CAIRN_EINVAL;
    cairn__builder_edge_t edge;
    int rc = s_edge_init(&edge, CAIRN__EDGE_FAN_OUT, &from, 1, n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = s_edge_add_target(&edge, targets[i], NULL, NULL, 0, false);
    if (rc == CAIRN_OK)
        rc = cairn__pred_init(&edge.selector, selector, arg, arg_len);
    if (rc != CAIRN_OK) {
        s_edge_spec_free(&edge);
        return rc;
    }
    return s_push_edge(self, &edge);
}

int
cairn_builder_add_switch(cairn_builder_t *self, const char *from,
                         const cairn_switch_case_t *cases, size_t n)
{
    if (!self || !from || (n > 0 && !cases))
        return CAIRN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!cases[i].to || (cases[i].arg_len > 0 && !cases[i].arg))
            return CAIRN_EINVAL;
    cairn__builder_edge_t edge;
    int rc = s_edge_init(&edge, CAIRN__EDGE_SWITCH, &from, 1, n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = s_edge_add_target(&edge, cases[i].to,
                               cases[i].is_default ? NULL : cases[i].predicate,
                               cases[i].arg, cases[i].arg_len,
                               cases[i].is_default);
    if (rc != CAIRN_OK) {
        s_edge_spec_free(&edge);
        return rc;
    }
    return s_push_edge(self, &edge);
}

int
cairn_builder_add_fan_in(cairn_builder_t *self, const char *const *sources,
                         size_t n, const char *to)
{
    if (!self || !to || (n > 0 && !sources))
        return CAIRN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!sources[i])
            return CAIRN_EINVAL;
    cairn__builder_edge_t edge;
    int rc = s_edge_init(&edge, CAIRN__EDGE_FAN_IN, sources, n, 1);
    if (rc == CAIRN_OK)
        rc = s_edge_add_target(&edge, to, NULL, NULL, 0, false);
    if (rc != CAIRN_OK) {
        s_edge_spec_free(&edge);
        return rc;
    }
    return s_push_edge(self, &edge);
}
