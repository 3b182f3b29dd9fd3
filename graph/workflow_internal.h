/* workflow_internal.h - the validated, immutable workflow graph.
 *
 * Executors are stored sorted by id, so an executor's index is its rank
 * in "executor-id order", the order barriers apply effects in. Edges keep
 * the order they were added in; each executor lists the edges it is a
 * source of, in that order, which is the order messages are routed.
 */
#ifndef CAIRN_WORKFLOW_INTERNAL_H_INCLUDED
#define CAIRN_WORKFLOW_INTERNAL_H_INCLUDED

#include "base/ids.h"
#include "cairn/workflow.h"

typedef enum {
    CAIRN__EDGE_DIRECT = 0,
    CAIRN__EDGE_FAN_OUT,
    CAIRN__EDGE_SWITCH,
    CAIRN__EDGE_FAN_IN,
} cairn__edge_kind_t;

/* A named predicate or selector with its argument; name NULL = none. */
typedef struct {
    char *name;
    uint8_t *arg;
    size_t arg_len;
} cairn__pred_t;

/* One target of an edge; pred is the condition (direct) or the case
 * predicate (switch). */
typedef struct {
    size_t executor;  /* index of the target executor */
    cairn__pred_t pred;
    bool is_default;  /* switch default case */
} cairn__target_t;

typedef struct {
    cairn__edge_kind_t kind;
    size_t *sources;          /* executor indices; 1 except for fan-in */
    size_t source_count;
    cairn__target_t *targets; /* 1 for direct and fan-in */
    size_t target_count;
    cairn__pred_t selector;   /* fan-out only */
    size_t fan_in_slot;       /* fan-in only: index among fan-in edges */
} cairn__edge_t;

typedef struct {
    char *id;
    char *type;
    const cairn_executor_type_t *vtable; /* borrowed from the registry;
                                            NULL for a type only workers
                                            offer (allowed by
                                            cairn_builder_allow_worker_types) */
    char *label;         /* placement: only on a worker with this label,
                            or NULL; not part of the signature */
    uint8_t *config;
    size_t config_len;
    char **accepts;      /* accepted type tags, sorted; none = all */
    size_t accept_count;
    size_t *out_edges;   /* edges this executor is a source of */
    size_t out_edge_count;
    cairn_retry_policy_t retry; /* resolved: its own, else the default */
    uint32_t timeout_ms;        /* resolved; 0 = no limit */
    cairn_on_failure_t on_failure; /* resolved */
} cairn__executor_t;

struct cairn_workflow_t {
    const cairn_registry_t *registry; /* borrowed */
    char *name;
    uint64_t max_supersteps;
    cairn__executor_t *executors;     /* sorted by id */
    size_t executor_count;
    cairn__edge_t *edges;             /* in the order added */
    size_t edge_count;
    size_t fan_in_count;
    size_t start;                     /* executor index */
    uint8_t signature[CAIRN_SIGNATURE_SIZE];
    char signature_hex[2 * CAIRN_SIGNATURE_SIZE + 1];
    char **warnings;
    size_t warning_count;
};

/* Index of the executor with this id, or -1. Binary search. */
long
cairn__workflow_find(const cairn_workflow_t *self, const char *id);

/* True when executor `exec` accepts messages tagged `type`. */
bool
cairn__workflow_accepts(const cairn_workflow_t *self, size_t exec,
                        const char *type);

/* The canonical description of the graph as lines of text, one per
 * executor, edge and the start, in signature order, so two workflows can
 * be compared line by line. Caller frees each line and the array. 0 or
 * CAIRN_ENOMEM. */
int
cairn__workflow_describe(const cairn_workflow_t *self, char ***lines,
                         size_t *count);

/* Computes self->signature and signature_hex (signature.c). */
void
cairn__workflow_sign(cairn_workflow_t *self);

/* Sets pred to a copy of name (NULL = none) and arg. 0 or CAIRN_ENOMEM;
 * on failure pred is left empty. */
int
cairn__pred_init(cairn__pred_t *pred, const char *name, const void *arg,
                 size_t arg_len);
int
cairn__pred_copy(cairn__pred_t *dst, const cairn__pred_t *src);
void
cairn__pred_free(cairn__pred_t *pred);


#endif
