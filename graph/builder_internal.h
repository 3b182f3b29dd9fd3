/* builder_internal.h - what the builder collected, shared by the two
 * halves of the builder: builder.c (collecting: the add and set calls)
 * and builder_build.c (validation and resolution into a workflow).
 *
 * Everything is kept as given, by name and in add order; nothing is
 * checked or resolved until cairn_builder_build.
 */
#ifndef CAIRN_BUILDER_INTERNAL_H_INCLUDED
#define CAIRN_BUILDER_INTERNAL_H_INCLUDED

#include "graph/registry_internal.h"
#include "graph/workflow_internal.h"

typedef struct {
    char *id;
    char *type;
    uint8_t *config;
    size_t config_len;
} cairn__builder_executor_t;

typedef struct {
    char *executor;
    char *tag;
} cairn__builder_accept_t;

/* A retry policy or timeout for one executor, or (executor NULL) the
 * workflow's default. */
typedef struct {
    char *executor;
    bool has_retry;
    cairn_retry_policy_t retry;
    bool has_timeout;
    uint32_t timeout_ms;
    bool has_on_failure;
    cairn_on_failure_t on_failure;
} cairn__builder_failure_t;

/* The worker label one executor asks for. */
typedef struct {
    char *executor;
    char *label;
} cairn__builder_label_t;

typedef struct {
    char *to;
    cairn__pred_t pred;
    bool is_default;
} cairn__builder_target_t;

typedef struct {
    cairn__edge_kind_t kind;
    char **sources;
    size_t source_count;
    cairn__builder_target_t *targets;
    size_t target_count;
    cairn__pred_t selector;
} cairn__builder_edge_t;

struct cairn_builder_t {
    const cairn_registry_t *registry;
    char *name;
    char *start;
    uint64_t max_supersteps;
    cairn__builder_executor_t *executors;
    size_t executor_count;
    cairn__builder_accept_t *accepts;
    size_t accept_count;
    cairn__builder_edge_t *edges;
    size_t edge_count;
    cairn__builder_failure_t *failures; /* in the order set; later ones win */
    size_t failure_count;
    cairn__builder_label_t *labels;     /* in the order set; later ones win */
    size_t label_count;
    bool worker_types;          /* types not in the registry are allowed:
                                   a worker must offer them at run time */
};

#endif
