/* context.h - what a handler can do while it handles one message.
 *
 * A context is borrowed by the handler for the duration of one call and
 * must not be kept. Nothing a handler does takes effect at once for
 * others: messages, outputs and state writes are collected and applied by
 * the coordinator at the barrier, in executor-id order, and only if the
 * whole superstep succeeds. Within a superstep an executor sees its own
 * state and shared-state writes immediately, and the shared state of
 * other executors as committed at the start of the superstep.
 *
 * Handlers run at least once (a retry or a lost worker re-runs them);
 * their effects apply exactly once. cairn_ctx_idempotency_key() is the
 * same on every attempt, for handlers that call the outside world.
 */
#ifndef CAIRN_CONTEXT_H_INCLUDED
#define CAIRN_CONTEXT_H_INCLUDED

#include "common.h"
#include "error.h"
#include "message.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_ctx_t cairn_ctx_t;

/* Sends a message along every outgoing edge of this executor (edge
 * conditions and target type filters apply at the barrier). type may be
 * NULL for "". Fails with CAIRN_ETOOLARGE when the payload exceeds the
 * run's maximum message size. The payload is copied. */
CAIRN_EXPORT int
cairn_ctx_send(cairn_ctx_t *self, const char *type, const void *payload,
               size_t len) CAIRN_WARN_UNUSED;

/* Sends a message to one target, which must be the target of one of this
 * executor's edges (conditions are not evaluated: the handler chose).
 * An unknown target fails the executor at the barrier. */
CAIRN_EXPORT int
cairn_ctx_send_to(cairn_ctx_t *self, const char *target, const char *type,
                  const void *payload, size_t len) CAIRN_WARN_UNUSED;

/* Yields a workflow output. The bytes are copied. */
CAIRN_EXPORT int
cairn_ctx_yield_output(cairn_ctx_t *self, const void *data, size_t len)
    CAIRN_WARN_UNUSED;

/* Per-executor state, key -> bytes. get returns NULL when the key is
 * absent. Borrowed; valid until the next set/del of that key or the end
 * of the handler call. */
CAIRN_EXPORT const uint8_t *
cairn_ctx_state_get(cairn_ctx_t *self, const char *key, size_t *len);
CAIRN_EXPORT int
cairn_ctx_state_set(cairn_ctx_t *self, const char *key, const void *value,
                    size_t len) CAIRN_WARN_UNUSED;
CAIRN_EXPORT int
cairn_ctx_state_del(cairn_ctx_t *self, const char *key) CAIRN_WARN_UNUSED;

/* Workflow-wide shared state, same rules as executor state. */
CAIRN_EXPORT const uint8_t *
cairn_ctx_shared_get(cairn_ctx_t *self, const char *key, size_t *len);
CAIRN_EXPORT int
cairn_ctx_shared_set(cairn_ctx_t *self, const char *key, const void *value,
                     size_t len) CAIRN_WARN_UNUSED;
CAIRN_EXPORT int
cairn_ctx_shared_del(cairn_ctx_t *self, const char *key) CAIRN_WARN_UNUSED;

/* Current superstep (the first is 1). */
CAIRN_EXPORT uint64_t
cairn_ctx_superstep(const cairn_ctx_t *self);

/* Run id and this executor's id. Borrowed; valid until the handler
 * returns. */
CAIRN_EXPORT const char *
cairn_ctx_run_id(const cairn_ctx_t *self);
CAIRN_EXPORT const char *
cairn_ctx_executor_id(const cairn_ctx_t *self);

/* Attempt number of this superstep's work for this executor (1 first). */
CAIRN_EXPORT uint32_t
cairn_ctx_attempt(const cairn_ctx_t *self);

/* "RUN/SUPERSTEP/EXECUTOR": the same on every attempt. Borrowed; valid
 * until the handler returns. */
CAIRN_EXPORT const char *
cairn_ctx_idempotency_key(const cairn_ctx_t *self);

/* The executor's config bytes as given to the builder. Borrowed; valid
 * until the handler returns. */
CAIRN_EXPORT const uint8_t *
cairn_ctx_config(const cairn_ctx_t *self, size_t *len);

/* What the type's init function made from the config (NULL without one). */
CAIRN_EXPORT void *
cairn_ctx_instance(const cairn_ctx_t *self);

/* Asks for a checkpoint at the end of this superstep, whatever the run's
 * policy, labelled with tag (may be NULL). */
CAIRN_EXPORT int
cairn_ctx_request_checkpoint(cairn_ctx_t *self, const char *tag)
    CAIRN_WARN_UNUSED;

/* Asks the outside world (a person, another system) for a response: a
 * human-in-the-loop request of a kind ("approve", ...) with a payload
 * (copied). The run goes on; once nothing else is left to do it ends
 * WAITING, with the request in its checkpoint, and the response given on
 * resume reaches this executor's on_response in the next superstep.
 * *id (may be NULL) receives the request's id (Borrowed; valid until
 * the handler returns). Fails with CAIRN_EINVAL for a NULL/empty kind and
 * CAIRN_ETOOLARGE like cairn_ctx_send. */
CAIRN_EXPORT int
cairn_ctx_request(cairn_ctx_t *self, const char *kind, const void *payload,
                  size_t len, const char **id) CAIRN_WARN_UNUSED;

/* Records why the handler fails; the handler then returns non-zero.
 * Returns CAIRN_EHANDLER for `return cairn_ctx_fail(ctx, ...)`. */
CAIRN_EXPORT int
cairn_ctx_fail(cairn_ctx_t *self, const char *fmt, ...) CAIRN_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif
#endif
