/* workflow.h - building and validating a workflow graph.
 *
 * A builder collects executors and edges; cairn_builder_build() validates
 * them and produces an immutable cairn_workflow_t that can be run any
 * number of times, from any thread, concurrently.
 *
 * Edge kinds:
 *   direct   from -> to, optionally only when a predicate holds
 *   fan-out  from -> every target (or the subset a named selector picks)
 *   switch   from -> the first case whose predicate holds, else the default
 *   fan-in   several sources -> one target; fires when every source has
 *            delivered at least once and passes ONE message whose parts
 *            are the oldest message of each source, in source order
 */
#ifndef CAIRN_WORKFLOW_H_INCLUDED
#define CAIRN_WORKFLOW_H_INCLUDED

#include "common.h"
#include "error.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_builder_t cairn_builder_t;
typedef struct cairn_workflow_t cairn_workflow_t;

#define CAIRN_DEFAULT_MAX_SUPERSTEPS 100
#define CAIRN_SIGNATURE_SIZE 32 /* SHA-256 */

/* One case of a switch edge: go to `to` when predicate(arg) holds. The
 * default case has is_default set and no predicate. */
typedef struct {
    const char *to;
    const char *predicate; /* NULL for the default case */
    const void *arg;
    size_t arg_len;
    bool is_default;
} cairn_switch_case_t;

/* Creates a builder over a registry (borrowed; must outlive every workflow
 * built from it). Returns NULL only on out-of-memory. */
CAIRN_EXPORT cairn_builder_t *
cairn_builder_new(const cairn_registry_t *registry);

CAIRN_EXPORT void
cairn_builder_destroy(cairn_builder_t **self_p);

/* Sets the workflow name (default "workflow"). */
CAIRN_EXPORT int
cairn_builder_set_name(cairn_builder_t *self, const char *name)
    CAIRN_WARN_UNUSED;

/* Adds an executor. config (may be NULL) is copied. Problems (duplicate id,
 * unknown type, bad id) are reported by build, naming the executor. */
CAIRN_EXPORT int
cairn_builder_add_executor(cairn_builder_t *self, const char *id,
                           const char *type, const void *config,
                           size_t config_len) CAIRN_WARN_UNUSED;

/* Declares that executor id accepts messages of this type tag. An
 * executor that declares none accepts every message; one that declares
 * some drops the others (counted in a message-dropped event). */
CAIRN_EXPORT int
cairn_builder_accept(cairn_builder_t *self, const char *id,
                     const char *type_tag) CAIRN_WARN_UNUSED;

/* Direct edge; predicate NULL means unconditional. */
CAIRN_EXPORT int
cairn_builder_add_edge(cairn_builder_t *self, const char *from,
                       const char *to, const char *predicate, const void *arg,
                       size_t arg_len) CAIRN_WARN_UNUSED;

/* Fan-out edge to n targets; selector NULL means all targets. */
CAIRN_EXPORT int
cairn_builder_add_fan_out(cairn_builder_t *self, const char *from,
                          const char *const *targets, size_t n,
                          const char *selector, const void *arg,
                          size_t arg_len) CAIRN_WARN_UNUSED;

/* Switch edge with ordered cases; exactly one must be the default. */
CAIRN_EXPORT int
cairn_builder_add_switch(cairn_builder_t *self, const char *from,
                         const cairn_switch_case_t *cases, size_t n)
    CAIRN_WARN_UNUSED;

/* Fan-in edge from n >= 2 sources to one target. */
CAIRN_EXPORT int
cairn_builder_add_fan_in(cairn_builder_t *self, const char *const *sources,
                         size_t n, const char *to) CAIRN_WARN_UNUSED;

/* The executor that receives the run input in superstep 1. */
CAIRN_EXPORT int
cairn_builder_set_start(cairn_builder_t *self, const char *id)
    CAIRN_WARN_UNUSED;

/* Supersteps 1..n are allowed (default CAIRN_DEFAULT_MAX_SUPERSTEPS). */
CAIRN_EXPORT void
cairn_builder_set_max_supersteps(cairn_builder_t *self, uint64_t n);

/* How a failing executor is retried. A failed attempt applies nothing;
 * the next one runs the same input on the barrier state of its superstep
 * after a delay of backoff_ms * 2^(attempt-2), capped at max_backoff_ms,
 * with jitter (a uniformly random 50-100 % of it). After max_attempts the
 * superstep fails as without a policy. */
#define CAIRN_RETRY_ON_ERROR 1u   /* the handler failed */
#define CAIRN_RETRY_ON_TIMEOUT 2u /* it ran past its timeout */
typedef struct {
    uint32_t max_attempts;   /* >= 1; 1 = never retried */
    uint32_t backoff_ms;     /* delay before the second attempt */
    uint32_t max_backoff_ms; /* cap on the delay; 0 = no cap */
    uint32_t on;             /* CAIRN_RETRY_ON_* bits; 0 = every kind */
} cairn_retry_policy_t;

/* Sets the retry policy of executor id, or the workflow's default for
 * executors without one when id is NULL (default: max_attempts 1).
 * CAIRN_EINVAL for max_attempts 0; an unknown id is reported by build. */
CAIRN_EXPORT int
cairn_builder_set_retry(cairn_builder_t *self, const char *id,
                        const cairn_retry_policy_t *policy) CAIRN_WARN_UNUSED;

/* Sets how long one attempt of executor id may take (id NULL: the
 * workflow's default; 0 = no limit, the default). An attempt that takes
 * longer fails with a timeout (see docs/concepts.md for what happens to
 * the handler still running). */
CAIRN_EXPORT int
cairn_builder_set_timeout(cairn_builder_t *self, const char *id,
                          uint32_t timeout_ms) CAIRN_WARN_UNUSED;

/* What happens when executor id (NULL: every executor without its own
 * setting) still fails after its retries: FAIL fails the superstep (the
 * default); DEAD_LETTER sets the message that failed it aside in the
 * run's dead-letter list (kept in checkpoints) and lets the superstep and
 * the rest of the workflow go on without it. */
typedef enum {
    CAIRN_ON_FAILURE_FAIL = 0,
    CAIRN_ON_FAILURE_DEAD_LETTER,
} cairn_on_failure_t;

CAIRN_EXPORT int
cairn_builder_set_on_failure(cairn_builder_t *self, const char *id,
                             cairn_on_failure_t on_failure) CAIRN_WARN_UNUSED;

/* Asks that executor id run only on a worker process that announced
 * this label (`cairn worker --label L`) as well as its type; label NULL
 * removes the request. A labelled executor never runs in-process: a run
 * waits (bounded, cairn_engine_options_t.worker_wait_ms) for such a
 * worker and fails naming the executor when none comes. Labels are 1-64
 * printable characters without spaces. They choose where an executor
 * runs, not what it computes, so they are not part of the signature.
 * An unknown id or a bad label is reported by build. */
CAIRN_EXPORT int
cairn_builder_set_label(cairn_builder_t *self, const char *id,
                        const char *label) CAIRN_WARN_UNUSED;

/* Allows executor types the registry does not know (default: refused by
 * build). They are types only worker processes offer: run on an engine
 * that listens for workers (cairn_engine_options_t.listen), which waits
 * for a worker offering each of them and fails naming the executor when
 * none comes; an engine that does not listen refuses such a workflow.
 * Their configs are checked by the worker that runs them. */
CAIRN_EXPORT void
cairn_builder_allow_worker_types(cairn_builder_t *self, bool allow);

/* Validates and builds. On success *out is a new workflow (caller owns
 * the result); on failure *out is NULL and err names the offending executor or
 * edge: CAIRN_EVALIDATION for duplicate ids, unknown ids or types, a
 * missing start, a switch without exactly one default, a fan-in with
 * fewer than two sources, an unknown predicate or selector, a rejected
 * config or predicate argument. Executors that can never be reached from
 * the start are not an error: see cairn_workflow_warning(). The builder
 * is left unchanged and may be built again. */
CAIRN_EXPORT int
cairn_builder_build(const cairn_builder_t *self, cairn_workflow_t **out,
                    cairn_error_t *err) CAIRN_WARN_UNUSED;

/* What cairn_builder_build_with() found wrong, beside err's message: for
 * a program that names the place in its own terms (the spec loader turns
 * it into a JSON path) without reading the message. */
typedef enum {
    CAIRN_BUILD_OK = 0,            /* no problem (or not a validation one) */
    CAIRN_BUILD_NO_EXECUTORS,      /* workflow: nothing was added */
    CAIRN_BUILD_MAX_SUPERSTEPS,    /* workflow: max supersteps is 0 */
    CAIRN_BUILD_BAD_ID,            /* executor "id": not [A-Za-z0-9_-]{1,64} */
    CAIRN_BUILD_DUPLICATE_ID,      /* executor "id": the later of two */
    CAIRN_BUILD_UNKNOWN_TYPE,      /* executor "type": not in the registry */
    CAIRN_BUILD_BAD_CONFIG,        /* executor "config": its type's init
                                      refused it */
    CAIRN_BUILD_BAD_LABEL,         /* executor "label": not 1-64 printable
                                      characters without spaces */
    CAIRN_BUILD_UNKNOWN_EXECUTOR,  /* a name that is no executor's id: edge
                                      "from"/"to", "start", or a setting */
    CAIRN_BUILD_UNKNOWN_PREDICATE, /* edge "when": not in the registry */
    CAIRN_BUILD_BAD_PREDICATE_ARG, /* edge "when": its check refused it */
    CAIRN_BUILD_UNKNOWN_SELECTOR,  /* edge "selector": not in the registry */
    CAIRN_BUILD_DUPLICATE_SOURCE,  /* edge "from": a fan-in lists one twice */
    CAIRN_BUILD_TOO_FEW_SOURCES,   /* edge "from": a fan-in with fewer than 2 */
    CAIRN_BUILD_NO_TARGETS,        /* edge "to": an edge without targets */
    CAIRN_BUILD_CASE_NO_PREDICATE, /* edge "when": a switch case that is not
                                      the default has none */
    CAIRN_BUILD_DEFAULT_COUNT,     /* edge: a switch without exactly one
                                      default case */
    CAIRN_BUILD_NO_START           /* start: cairn_builder_set_start() was
                                      never called */
} cairn_build_kind_t;

/* Which part of the description the problem is in. */
typedef enum {
    CAIRN_BUILD_AT_WORKFLOW = 0, /* the workflow as a whole */
    CAIRN_BUILD_AT_EXECUTOR,     /* index: cairn_builder_add_executor() calls,
                                    counted from 0 in the order made */
    CAIRN_BUILD_AT_EDGE,         /* index: edge-adding calls (add_edge,
                                    add_fan_out, add_switch, add_fan_in),
                                    counted from 0 in the order made */
    CAIRN_BUILD_AT_START,        /* the id given to cairn_builder_set_start() */
    CAIRN_BUILD_AT_ACCEPT,       /* index: cairn_builder_accept() calls */
    CAIRN_BUILD_AT_LABEL,        /* index: cairn_builder_set_label() calls */
    CAIRN_BUILD_AT_FAILURE       /* index: set_retry/set_timeout/
                                    set_on_failure calls, together */
} cairn_build_subject_t;

/* One build problem. field names the argument at fault, "" when none:
 * executor "id", "type", "config", "label"; edge "from" (a source),
 * "to" (a target; for a switch, a case's target), "when" (a target's or
 * case's predicate), "selector"; a setting's "id". item is the position
 * of that source, target or case within its edge call (0 for a direct
 * edge's single source and target), 0 when field is not a list. field is
 * a static string: never freed, valid forever. */
typedef struct {
    cairn_build_kind_t kind;
    cairn_build_subject_t subject;
    size_t index;
    const char *field;
    size_t item;
} cairn_build_problem_t;

/* cairn_builder_build() that also reports what it found wrong: when it
 * returns CAIRN_EVALIDATION, *problem (if not NULL) describes the problem
 * err's message names; for any other result problem->kind is
 * CAIRN_BUILD_OK and field is "". The messages are the same as
 * cairn_builder_build()'s. */
CAIRN_EXPORT int
cairn_builder_build_with(const cairn_builder_t *self, cairn_workflow_t **out,
                         cairn_error_t *err, cairn_build_problem_t *problem)
    CAIRN_WARN_UNUSED;

CAIRN_EXPORT void
cairn_workflow_destroy(cairn_workflow_t **self_p);

CAIRN_EXPORT const char *
cairn_workflow_name(const cairn_workflow_t *self);

CAIRN_EXPORT uint64_t
cairn_workflow_max_supersteps(const cairn_workflow_t *self);

/* Number of executors, and the type name of executor index (in id
 * workflow's order; *id gets its id when id is not NULL), NULL when index is out of
 * range: what a caller checks before it runs a workflow (e.g. which
 * executors reach outside the process). Borrowed; valid until the
 * workflow is destroyed. */
CAIRN_EXPORT size_t
cairn_workflow_executor_count(const cairn_workflow_t *self);
CAIRN_EXPORT const char *
cairn_workflow_executor_type(const cairn_workflow_t *self, size_t index,
                             const char **id);

/* SHA-256 over the canonical encoding of executors (id, type, config,
 * accepted tags), edges (kind, endpoints, predicates and their arguments,
 * case order) and start. Independent of the order things were added in
 * where order has no meaning (executors, edges of different sources). */
CAIRN_EXPORT const uint8_t *
cairn_workflow_signature(const cairn_workflow_t *self);

/* The signature as 64 lowercase hex characters. Borrowed; valid until
 * the workflow is destroyed (as is cairn_workflow_signature's). */
CAIRN_EXPORT const char *
cairn_workflow_signature_hex(const cairn_workflow_t *self);

/* Warnings found by build (e.g. "executor 'x' can never be reached from
 * start 'a'"). Borrowed; valid until the workflow is destroyed. */
CAIRN_EXPORT size_t
cairn_workflow_warning_count(const cairn_workflow_t *self);
CAIRN_EXPORT const char *
cairn_workflow_warning(const cairn_workflow_t *self, size_t index);

#ifdef __cplusplus
}
#endif
#endif
