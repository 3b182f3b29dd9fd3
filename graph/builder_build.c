/* builder_build.c - validates what the builder collected and resolves it
 * into a workflow (cairn_builder_build).
 *
 * Names become indices here: executors are sorted by id, edges resolved
 * against them, predicates and configs checked against the registry,
 * retry/timeout/label settings applied, the start checked and
 * unreachable executors warned about. The first problem wins.
 *
 * Every validation problem is reported twice, in words (err) and as a
 * cairn_build_problem_t (kind, subject, index in add order, field), so
 * that callers such as the spec loader never parse the words.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "graph/builder_internal.h"

/* Where build problems go: the words into err (may be NULL), the
 * structured description into problem (never NULL). */
typedef struct {
    cairn_error_t *err;
    cairn_build_problem_t *problem;
} s_report_t;

static int s_invalid(s_report_t *report, cairn_build_problem_t problem,
                     const char *fmt, ...) CAIRN_PRINTF(3, 4);

/* Reports a validation problem: fills *report->problem and err's
 * message; returns CAIRN_EVALIDATION. */
static int
s_invalid(s_report_t *report, cairn_build_problem_t problem, const char *fmt,
          ...)
{
    *report->problem = problem;
    char text[sizeof report->err->message];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    return cairn_error_set(report->err, CAIRN_EVALIDATION, "%s", text);
}

/* The add-order index of the first executor added with id: what a
 * problem about that executor reports (wf holds them sorted by id). The
 * caller knows id was added. */
static size_t
s_added_index(const cairn_builder_t *self, const char *id)
{
    for (size_t i = 0; i < self->executor_count; i++)
        if (strcmp(self->executors[i].id, id) == 0)
            return i;
    return 0;
}

/* A label is 1-64 printable characters without spaces: it is compared
 * with what workers announce, and shown in messages. */
static bool
s_valid_label(const char *label)
{
    size_t len = strlen(label);
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (label[i] <= ' ' || label[i] > '~')
            return false;
    return true;
}

/* Gives executors the labels set for them, the last one winning. */
static int
s_build_labels(const cairn_builder_t *self, cairn_workflow_t *wf,
               s_report_t *report)
{
    for (size_t i = 0; i < self->label_count; i++) {
        const cairn__builder_label_t *spec = &self->labels[i];
        long x = cairn__workflow_find(wf, spec->executor);
        if (x < 0)
            return s_invalid(report,
                             (cairn_build_problem_t){
                                 CAIRN_BUILD_UNKNOWN_EXECUTOR,
                                 CAIRN_BUILD_AT_LABEL, i, "id", 0},
                             "label: unknown executor '%s'", spec->executor);
        if (spec->label && !s_valid_label(spec->label))
            return s_invalid(report,
                             (cairn_build_problem_t){
                                 CAIRN_BUILD_BAD_LABEL,
                                 CAIRN_BUILD_AT_EXECUTOR,
                                 s_added_index(self, spec->executor), "label",
                                 0},
                             "executor '%s': label '%s' must be 1-64 "
                             "printable characters without spaces",
                             spec->executor, spec->label);
        cairn__executor_t *exec = &wf->executors[x];
        free(exec->label);
        exec->label = NULL;
        if (spec->label && !(exec->label = strdup(spec->label)))
            return cairn_error_set(report->err, CAIRN_ENOMEM,
                                   "out of memory");
    }
    return CAIRN_OK;
}

/* Resolves every executor's retry policy, timeout and on_failure: the default
 * settings first, then its own, each later setting winning. */
static int
s_build_failures(const cairn_builder_t *self, cairn_workflow_t *wf,
                 s_report_t *report)
{
    for (size_t x = 0; x < wf->executor_count; x++)
        wf->executors[x].retry.max_attempts = 1;
    for (int own = 0; own <= 1; own++)
        for (size_t i = 0; i < self->failure_count; i++) {
            const cairn__builder_failure_t *spec = &self->failures[i];
            if ((spec->executor != NULL) != own)
                continue;
            long x = spec->executor ? cairn__workflow_find(wf, spec->executor)
                                    : -1;
            if (spec->executor && x < 0)
                return s_invalid(report,
                                 (cairn_build_problem_t){
                                     CAIRN_BUILD_UNKNOWN_EXECUTOR,
                                     CAIRN_BUILD_AT_FAILURE, i, "id", 0},
                                 "retry/timeout/on_failure: unknown "
                                 "executor '%s'",
                                 spec->executor);
            size_t first = x < 0 ? 0 : (size_t)x;
            size_t end = x < 0 ? wf->executor_count : (size_t)x + 1;
            for (size_t k = first; k < end; k++) {
                if (spec->has_retry)
                    wf->executors[k].retry = spec->retry;
                if (spec->has_timeout)
                    wf->executors[k].timeout_ms = spec->timeout_ms;
                if (spec->has_on_failure)
                    wf->executors[k].on_failure = spec->on_failure;
            }
        }
    return CAIRN_OK;
}
/* ---- build ------------------------------------------------------------ */

/* By id, then in add order (the specs are one array), so that of two
 * executors with one id the later one is reported as the duplicate. */
static int
s_compare_specs(const void *a, const void *b)
{
    const cairn__builder_executor_t *x = *(const cairn__builder_executor_t *const *)a;
    const cairn__builder_executor_t *y = *(const cairn__builder_executor_t *const *)b;
    int order = strcmp(x->id, y->id);
    return order ? order : (x > y) - (x < y);
}

/* Checks one executor spec (sorted after previous, which may be NULL). */
static int
s_check_executor(const cairn_builder_t *self, const cairn__builder_executor_t *spec,
                 const cairn__builder_executor_t *previous, s_report_t *report)
{
    size_t index = (size_t)(spec - self->executors);
    if (!cairn__valid_id(spec->id))
        return s_invalid(report,
                         (cairn_build_problem_t){CAIRN_BUILD_BAD_ID,
                                                 CAIRN_BUILD_AT_EXECUTOR,
                                                 index, "id", 0},
                         "executor '%s': id must match [A-Za-z0-9_-]{1,64}",
                         spec->id);
    if (previous && strcmp(spec->id, previous->id) == 0)
        return s_invalid(report,
                         (cairn_build_problem_t){CAIRN_BUILD_DUPLICATE_ID,
                                                 CAIRN_BUILD_AT_EXECUTOR,
                                                 index, "id", 0},
                         "executor '%s': duplicate executor id", spec->id);
    if (!cairn_registry_executor(self->registry, spec->type)
        && !self->worker_types)
        return s_invalid(report,
                         (cairn_build_problem_t){CAIRN_BUILD_UNKNOWN_TYPE,
                                                 CAIRN_BUILD_AT_EXECUTOR,
                                                 index, "type", 0},
                         "executor '%s': unknown executor type '%s'",
                         spec->id, spec->type);
    return CAIRN_OK;
}

/* Validates the executors and copies them, sorted by id, into wf. */
static int
s_build_executors(const cairn_builder_t *self, cairn_workflow_t *wf,
                  s_report_t *report)
{
    size_t n = self->executor_count;
    if (n == 0)
        return s_invalid(report,
                         (cairn_build_problem_t){CAIRN_BUILD_NO_EXECUTORS,
                                                 CAIRN_BUILD_AT_WORKFLOW, 0,
                                                 "", 0},
                         "workflow has no executors");
    const cairn__builder_executor_t **sorted = malloc(n * sizeof *sorted);
    wf->executors = calloc(n, sizeof *wf->executors);
    if (!sorted || !wf->executors) {
        free(sorted);
        return cairn_error_set(report->err, CAIRN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &self->executors[i];
    qsort(sorted, n, sizeof *sorted, s_compare_specs);
    int rc = CAIRN_OK;
    for (size_t i = 0; i < n && rc == CAIRN_OK; i++) {
        const cairn__builder_executor_t *spec = sorted[i];
        rc = s_check_executor(self, spec, i > 0 ? sorted[i - 1] : NULL,
                              report);
        if (rc != CAIRN_OK)
            break;
        cairn__executor_t *exec = &wf->executors[i];
        wf->executor_count++;
        exec->vtable = cairn_registry_executor(self->registry, spec->type);
        exec->id = strdup(spec->id);
        exec->type = strdup(spec->type);
        exec->config = cairn__memdup(spec->config, spec->config_len);
        exec->config_len = spec->config_len;
        if (!exec->id || !exec->type
            || (spec->config_len > 0 && !exec->config))
            rc = cairn_error_set(report->err, CAIRN_ENOMEM, "out of memory");
    }
    free(sorted);
    return rc;
}

/* Runs each executor type's init on its config, so a bad config is found
 * when the workflow is built, not in the middle of a run. */
static int
s_check_configs(const cairn_builder_t *self, cairn_workflow_t *wf,
                s_report_t *report)
{
    for (size_t i = 0; i < wf->executor_count; i++) {
        cairn__executor_t *exec = &wf->executors[i];
        /* A type only workers know: the worker checks its config. */
        if (!exec->vtable || !exec->vtable->init)
            continue;
        void *instance = NULL;
        cairn_error_t init_err;
        cairn_error_clear(&init_err);
        int rc = exec->vtable->init(&instance, exec->config, exec->config_len,
                                    &init_err);
        if (rc != CAIRN_OK)
            return s_invalid(report,
                             (cairn_build_problem_t){
                                 CAIRN_BUILD_BAD_CONFIG,
                                 CAIRN_BUILD_AT_EXECUTOR,
                                 s_added_index(self, exec->id), "config", 0},
                             "executor '%s' (type '%s'): bad config: %s",
                             exec->id, exec->type,
                             init_err.message[0] ? init_err.message
                                                 : cairn_strerror(rc));
        if (exec->vtable->fini)
            exec->vtable->fini(instance);
    }
    return CAIRN_OK;
}

static int
s_compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
s_build_accepts(const cairn_builder_t *self, cairn_workflow_t *wf,
                s_report_t *report)
{
    for (size_t i = 0; i < self->accept_count; i++) {
        const cairn__builder_accept_t *spec = &self->accepts[i];
        long index = cairn__workflow_find(wf, spec->executor);
        if (index < 0)
            return s_invalid(report,
                             (cairn_build_problem_t){
                                 CAIRN_BUILD_UNKNOWN_EXECUTOR,
                                 CAIRN_BUILD_AT_ACCEPT, i, "id", 0},
                             "accepted type '%s': unknown executor '%s'",
                             spec->tag, spec->executor);
        cairn__executor_t *exec = &wf->executors[index];
        char *tag = strdup(spec->tag);
        if (!tag || !CAIRN__GROW(exec->accepts, exec->accept_count)) {
            free(tag);
            return cairn_error_set(report->err, CAIRN_ENOMEM,
                                   "out of memory");
        }
        exec->accepts[exec->accept_count++] = tag;
    }
    for (size_t i = 0; i < wf->executor_count; i++)
        if (wf->executors[i].accept_count > 1)
            qsort(wf->executors[i].accepts, wf->executors[i].accept_count,
                  sizeof(char *), s_compare_strings);
    return CAIRN_OK;
}

static const char *
s_edge_kind_name(cairn__edge_kind_t kind)
{
    switch (kind) {
    case CAIRN__EDGE_DIRECT:
        return "edge";
    case CAIRN__EDGE_FAN_OUT:
        return "fan-out edge";
    case CAIRN__EDGE_SWITCH:
        return "switch edge";
    case CAIRN__EDGE_FAN_IN:
        return "fan-in edge";
    }
    return "edge";
}

/* A problem with field (item) of edge e. */
static cairn_build_problem_t
s_edge_problem(cairn_build_kind_t kind, size_t e, const char *field,
               size_t item)
{
    return (cairn_build_problem_t){kind, CAIRN_BUILD_AT_EDGE, e, field, item};
}

/* Resolves name, the executor in field (item) of edge e, or reports it. */
static int
s_resolve(const cairn_workflow_t *wf, const cairn__builder_edge_t *spec, size_t e,
          const char *field, size_t item, const char *name, size_t *out,
          s_report_t *report)
{
    long index = cairn__workflow_find(wf, name);
    if (index < 0)
        return s_invalid(report,
                         s_edge_problem(CAIRN_BUILD_UNKNOWN_EXECUTOR, e,
                                        field, item),
                         "%s #%zu from '%s': unknown executor '%s'",
                         s_edge_kind_name(spec->kind), e + 1,
                         spec->sources[0], name);
    *out = (size_t)index;
    return CAIRN_OK;
}

/* Checks that the predicate of target item of edge e exists and accepts
 * its argument. */
static int
s_check_pred(const cairn_registry_t *registry, const cairn__builder_edge_t *spec,
             size_t e, size_t item, s_report_t *report)
{
    const cairn__pred_t *pred = &spec->targets[item].pred;
    if (!pred->name)
        return CAIRN_OK;
    if (!cairn_registry_has_predicate(registry, pred->name))
        return s_invalid(report,
                         s_edge_problem(CAIRN_BUILD_UNKNOWN_PREDICATE, e,
                                        "when", item),
                         "%s #%zu from '%s': unknown predicate '%s'",
                         s_edge_kind_name(spec->kind), e + 1,
                         spec->sources[0], pred->name);
    cairn_predicate_check_fn check =
        cairn__registry_predicate_check(registry, pred->name);
    cairn_error_t check_err;
    cairn_error_clear(&check_err);
    if (check && check(registry, pred->arg, pred->arg_len, &check_err) != 0)
        return s_invalid(report,
                         s_edge_problem(CAIRN_BUILD_BAD_PREDICATE_ARG, e,
                                        "when", item),
                         "%s #%zu from '%s': predicate '%s': %s",
                         s_edge_kind_name(spec->kind), e + 1,
                         spec->sources[0], pred->name, check_err.message);
    return CAIRN_OK;
}

/* Checks the sources of fan-in edge e: at least two, none twice. */
static int
s_check_fan_in(const cairn__builder_edge_t *spec, size_t e, s_report_t *report)
{
    const char *kind = s_edge_kind_name(spec->kind);
    for (size_t i = 0; i < spec->source_count; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(spec->sources[i], spec->sources[k]) == 0)
                return s_invalid(report,
                                 s_edge_problem(CAIRN_BUILD_DUPLICATE_SOURCE,
                                                e, "from", i),
                                 "%s #%zu to '%s': source '%s' is listed "
                                 "twice",
                                 kind, e + 1, spec->targets[0].to,
                                 spec->sources[i]);
    if (spec->source_count < 2)
        return s_invalid(report,
                         s_edge_problem(CAIRN_BUILD_TOO_FEW_SOURCES, e,
                                        "from", 0),
                         "%s #%zu to '%s': needs at least two sources, "
                         "has %zu",
                         kind, e + 1, spec->targets[0].to,
                         spec->source_count);
    return CAIRN_OK;
}

/* Checks the cases of switch edge e: each has a predicate or is the
 * default, and exactly one is. */
static int
s_check_switch(const cairn__builder_edge_t *spec, size_t e, s_report_t *report)
{
    const char *kind = s_edge_kind_name(spec->kind);
    size_t defaults = 0;
    for (size_t i = 0; i < spec->target_count; i++) {
        defaults += spec->targets[i].is_default;
        if (!spec->targets[i].is_default && !spec->targets[i].pred.name)
            return s_invalid(report,
                             s_edge_problem(CAIRN_BUILD_CASE_NO_PREDICATE, e,
                                            "when", i),
                             "%s #%zu from '%s': case %zu has no predicate "
                             "and is not the default",
                             kind, e + 1, spec->sources[0], i + 1);
    }
    if (defaults != 1)
        return s_invalid(report,
                         s_edge_problem(CAIRN_BUILD_DEFAULT_COUNT, e, "", 0),
                         "%s #%zu from '%s': needs exactly one default case, "
                         "has %zu",
                         kind, e + 1, spec->sources[0], defaults);
    return CAIRN_OK;
}

/* Checks the shape rules of edge e's kind. */
static int
s_check_edge_shape(const cairn_builder_t *self, const cairn__builder_edge_t *spec,
                   size_t e, s_report_t *report)
{
    const char *kind = s_edge_kind_name(spec->kind);
    int rc = spec->kind == CAIRN__EDGE_FAN_IN ? s_check_fan_in(spec, e, report)
                                              : CAIRN_OK;
    if (rc != CAIRN_OK)
        return rc;
    if (spec->target_count == 0)
        return s_invalid(report,
                         s_edge_problem(CAIRN_BUILD_NO_TARGETS, e, "to", 0),
                         "%s #%zu from '%s': has no targets", kind, e + 1,
                         spec->sources[0]);
    if (spec->kind == CAIRN__EDGE_SWITCH
        && (rc = s_check_switch(spec, e, report)) != CAIRN_OK)
        return rc;
    if (spec->selector.name
        && !cairn_registry_has_selector(self->registry, spec->selector.name))
        return s_invalid(report,
                         s_edge_problem(CAIRN_BUILD_UNKNOWN_SELECTOR, e,
                                        "selector", 0),
                         "%s #%zu from '%s': unknown selector '%s'", kind,
                         e + 1, spec->sources[0], spec->selector.name);
    return CAIRN_OK;
}

/* Validates edge spec e and fills edge with resolved indices. */
static int
s_build_edge(const cairn_builder_t *self, cairn_workflow_t *wf,
             const cairn__builder_edge_t *spec, size_t e, cairn__edge_t *edge,
             s_report_t *report)
{
    cairn_error_t *err = report->err;
    int rc = s_check_edge_shape(self, spec, e, report);
    if (rc != CAIRN_OK)
        return rc;
    edge->kind = spec->kind;
    edge->sources = calloc(spec->source_count, sizeof *edge->sources);
    edge->targets = calloc(spec->target_count, sizeof *edge->targets);
    if (!edge->sources || !edge->targets)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    for (size_t i = 0; i < spec->source_count; i++) {
        rc = s_resolve(wf, spec, e, "from", i, spec->sources[i],
                       &edge->sources[i], report);
        if (rc != CAIRN_OK)
            return rc;
        edge->source_count++;
    }
    for (size_t i = 0; i < spec->target_count; i++) {
        const cairn__builder_target_t *target = &spec->targets[i];
        rc = s_resolve(wf, spec, e, "to", i, target->to,
                       &edge->targets[i].executor, report);
        if (rc == CAIRN_OK)
            rc = s_check_pred(self->registry, spec, e, i, report);
        if (rc == CAIRN_OK)
            rc = cairn__pred_copy(&edge->targets[i].pred, &target->pred);
        if (rc != CAIRN_OK)
            return rc == CAIRN_ENOMEM
                       ? cairn_error_set(err, rc, "out of memory")
                       : rc;
        edge->targets[i].is_default = target->is_default;
        edge->target_count++;
    }
    if (cairn__pred_copy(&edge->selector, &spec->selector) != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (edge->kind == CAIRN__EDGE_FAN_IN)
        edge->fan_in_slot = wf->fan_in_count++;
    return CAIRN_OK;
}

/* Records edge e in the out-edge list of each of its sources. */
static int
s_link_out_edges(cairn_workflow_t *wf, size_t e)
{
    const cairn__edge_t *edge = &wf->edges[e];
    for (size_t i = 0; i < edge->source_count; i++) {
        cairn__executor_t *exec = &wf->executors[edge->sources[i]];
        if (!CAIRN__GROW(exec->out_edges, exec->out_edge_count))
            return CAIRN_ENOMEM;
        exec->out_edges[exec->out_edge_count++] = e;
    }
    return CAIRN_OK;
}

static int
s_build_edges(const cairn_builder_t *self, cairn_workflow_t *wf,
              s_report_t *report)
{
    wf->edges = calloc(self->edge_count ? self->edge_count : 1,
                       sizeof *wf->edges);
    if (!wf->edges)
        return cairn_error_set(report->err, CAIRN_ENOMEM, "out of memory");
    for (size_t e = 0; e < self->edge_count; e++) {
        wf->edge_count++;
        int rc = s_build_edge(self, wf, &self->edges[e], e, &wf->edges[e],
                              report);
        if (rc != CAIRN_OK)
            return rc;
        if (s_link_out_edges(wf, e) != CAIRN_OK)
            return cairn_error_set(report->err, CAIRN_ENOMEM,
                                   "out of memory");
    }
    return CAIRN_OK;
}

static int
s_add_warning(cairn_workflow_t *wf, char *text)
{
    if (!text || !CAIRN__GROW(wf->warnings, wf->warning_count)) {
        free(text);
        return CAIRN_ENOMEM;
    }
    wf->warnings[wf->warning_count++] = text;
    return CAIRN_OK;
}

/* Warns about executors no path from the start leads to. */
static int
s_find_unreachable(cairn_workflow_t *wf)
{
    size_t n = wf->executor_count;
    bool *seen = calloc(n, sizeof *seen);
    size_t *queue = malloc(n * sizeof *queue);
    int rc = (seen && queue) ? CAIRN_OK : CAIRN_ENOMEM;
    size_t head = 0, tail = 0;
    if (rc == CAIRN_OK) {
        seen[wf->start] = true;
        queue[tail++] = wf->start;
    }
    while (rc == CAIRN_OK && head < tail) {
        const cairn__executor_t *exec = &wf->executors[queue[head++]];
        for (size_t i = 0; i < exec->out_edge_count; i++) {
            const cairn__edge_t *edge = &wf->edges[exec->out_edges[i]];
            for (size_t t = 0; t < edge->target_count; t++) {
                size_t target = edge->targets[t].executor;
                if (!seen[target]) {
                    seen[target] = true;
                    queue[tail++] = target;
                }
            }
        }
    }
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        if (!seen[i])
            rc = s_add_warning(
                wf, cairn__strprintf("executor '%s' can never be reached "
                                     "from start '%s'",
                                     wf->executors[i].id,
                                     wf->executors[wf->start].id));
    free(seen);
    free(queue);
    return rc;
}

static int
s_build_start(const cairn_builder_t *self, cairn_workflow_t *wf,
              s_report_t *report)
{
    if (!self->start)
        return s_invalid(report,
                         (cairn_build_problem_t){CAIRN_BUILD_NO_START,
                                                 CAIRN_BUILD_AT_START, 0, "",
                                                 0},
                         "workflow has no start executor");
    long start = cairn__workflow_find(wf, self->start);
    if (start < 0)
        return s_invalid(report,
                         (cairn_build_problem_t){CAIRN_BUILD_UNKNOWN_EXECUTOR,
                                                 CAIRN_BUILD_AT_START, 0, "",
                                                 0},
                         "start: unknown executor '%s'", self->start);
    wf->start = (size_t)start;
    return CAIRN_OK;
}

int
cairn_builder_build(const cairn_builder_t *self, cairn_workflow_t **out,
                    cairn_error_t *err)
{
    return cairn_builder_build_with(self, out, err, NULL);
}

int
cairn_builder_build_with(const cairn_builder_t *self, cairn_workflow_t **out,
                         cairn_error_t *err, cairn_build_problem_t *problem)
{
    cairn_build_problem_t unwanted;
    s_report_t report = {err, problem ? problem : &unwanted};
    *report.problem =
        (cairn_build_problem_t){CAIRN_BUILD_OK, CAIRN_BUILD_AT_WORKFLOW, 0, "",
                                0};
    cairn_error_clear(err);
    if (!out)
        return cairn_error_set(err, CAIRN_EINVAL, "no output pointer");
    *out = NULL;
    if (!self)
        return cairn_error_set(err, CAIRN_EINVAL, "no builder");
    cairn_workflow_t *wf = calloc(1, sizeof *wf);
    if (!wf)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    wf->registry = self->registry;
    wf->max_supersteps = self->max_supersteps;
    wf->name = strdup(self->name ? self->name : "workflow");
    int rc = wf->name ? CAIRN_OK
                      : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc == CAIRN_OK && self->max_supersteps == 0)
        rc = s_invalid(&report,
                       (cairn_build_problem_t){CAIRN_BUILD_MAX_SUPERSTEPS,
                                               CAIRN_BUILD_AT_WORKFLOW, 0, "",
                                               0},
                       "max supersteps must be at least 1");
    if (rc == CAIRN_OK)
        rc = s_build_executors(self, wf, &report);
    if (rc == CAIRN_OK)
        rc = s_build_accepts(self, wf, &report);
    if (rc == CAIRN_OK)
        rc = s_build_failures(self, wf, &report);
    if (rc == CAIRN_OK)
        rc = s_build_labels(self, wf, &report);
    if (rc == CAIRN_OK)
        rc = s_build_edges(self, wf, &report);
    if (rc == CAIRN_OK)
        rc = s_build_start(self, wf, &report);
    if (rc == CAIRN_OK)
        rc = s_check_configs(self, wf, &report);
    if (rc == CAIRN_OK && s_find_unreachable(wf) != CAIRN_OK)
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc != CAIRN_OK) {
        cairn_workflow_destroy(&wf);
        return rc;
    }
    cairn__workflow_sign(wf);
    *out = wf;
    return CAIRN_OK;
}
