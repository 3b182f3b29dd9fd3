/* registry.h - executor types, edge predicates and fan-out selectors by name.
 *
 * Workflows refer to executor types and predicates by name so that the same
 * workflow can be rebuilt in another process (a worker, a resumed run) from
 * names alone. A registry is filled once, then shared read-only: it is
 * safe to use from many threads as long as nobody adds to it meanwhile.
 *
 * cairn_registry_new() already holds the built-in predicates:
 *   always, never                       (argument ignored)
 *   eq, ne, prefix, contains            (argument: the text to compare with)
 *   int_lt, int_le, int_gt, int_ge      (argument: a decimal integer; a
 *                                        payload that is not an integer is
 *                                        false)
 */
#ifndef CAIRN_REGISTRY_H_INCLUDED
#define CAIRN_REGISTRY_H_INCLUDED

#include "common.h"
#include "error.h"
#include "message.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_registry_t cairn_registry_t;
typedef struct cairn_ctx_t cairn_ctx_t;

/* Called once per delivered message. Returns 0 on success; any other value
 * fails the executor for this superstep (set a reason with
 * cairn_ctx_fail). */
typedef int (*cairn_handler_fn)(cairn_ctx_t *ctx, const cairn_msg_t *msg);

/* Optional: turns an executor's config into an instance once, when the
 * executor is (re)started on a host, and when the workflow is built (to
 * validate the config). Returns 0 or a CAIRN_E* code with err filled. */
typedef int (*cairn_executor_init_fn)(void **instance, const uint8_t *config,
                                      size_t config_len, cairn_error_t *err);
typedef void (*cairn_executor_fini_fn)(void *instance);

/* Called, in the superstep after it was given, with the response to a
 * request this executor made (cairn_ctx_request); value is the answer.
 * Same return convention and context as a handler. */
typedef int (*cairn_response_fn)(cairn_ctx_t *ctx,
                                 const cairn_request_t *request,
                                 const uint8_t *value, size_t len);

typedef struct {
    const char *name;              /* type name, e.g. "text.upper" */
    cairn_handler_fn handle;       /* required */
    cairn_executor_init_fn init;   /* optional */
    cairn_executor_fini_fn fini;   /* optional; frees what init made */
    cairn_response_fn on_response; /* optional; required of a type whose
                                      handler makes requests */
} cairn_executor_type_t;

/* Decides whether a message takes an edge. arg is the predicate argument
 * stored with the edge. registry lets composite predicates evaluate
 * others by name. */
typedef bool (*cairn_predicate_fn)(const cairn_registry_t *registry,
                                   const cairn_msg_t *msg, const uint8_t *arg,
                                   size_t arg_len);

/* Optional: checks a predicate argument when the workflow is built. */
typedef int (*cairn_predicate_check_fn)(const cairn_registry_t *registry,
                                        const uint8_t *arg, size_t arg_len,
                                        cairn_error_t *err);

/* Picks the targets of a fan-out: sets chosen[i] for each of the n targets
 * that receive msg. */
typedef void (*cairn_selector_fn)(const cairn_msg_t *msg, const uint8_t *arg,
                                  size_t arg_len, const char *const *targets,
                                  size_t n, bool *chosen);

/* Creates a registry holding the built-in predicates. Returns NULL only on
 * out-of-memory. Caller owns the result. */
CAIRN_EXPORT cairn_registry_t *
cairn_registry_new(void);

/* Destroys the registry and nulls *self_p. Accepts NULL. Workflows built
 * from it must be destroyed first. */
CAIRN_EXPORT void
cairn_registry_destroy(cairn_registry_t **self_p);

/* Adds an executor type (the struct is copied, the name too). Fails with
 * CAIRN_EEXISTS when the name is taken, CAIRN_EINVAL when name or handle is
 * missing. */
CAIRN_EXPORT int
cairn_registry_add_executor(cairn_registry_t *self,
                            const cairn_executor_type_t *type)
    CAIRN_WARN_UNUSED;

/* Adds a named predicate; check may be NULL. Same failures as above. */
CAIRN_EXPORT int
cairn_registry_add_predicate(cairn_registry_t *self, const char *name,
                             cairn_predicate_fn eval,
                             cairn_predicate_check_fn check)
    CAIRN_WARN_UNUSED;

/* Adds a named fan-out selector. Same failures as above. */
CAIRN_EXPORT int
cairn_registry_add_selector(cairn_registry_t *self, const char *name,
                            cairn_selector_fn select) CAIRN_WARN_UNUSED;

/* The executor type registered under name, or NULL. Borrowed; valid until
 * the registry is destroyed. */
CAIRN_EXPORT const cairn_executor_type_t *
cairn_registry_executor(const cairn_registry_t *self, const char *name);

/* True when a predicate / selector of that name is registered. */
CAIRN_EXPORT bool
cairn_registry_has_predicate(const cairn_registry_t *self, const char *name);
CAIRN_EXPORT bool
cairn_registry_has_selector(const cairn_registry_t *self, const char *name);

/* Evaluates the named predicate on msg. An unknown name is false. */
CAIRN_EXPORT bool
cairn_registry_eval(const cairn_registry_t *self, const char *name,
                    const cairn_msg_t *msg, const uint8_t *arg,
                    size_t arg_len);

/* Number of executor types and the name of type i (sorted by name), so a
 * host can announce what it offers. Borrowed; valid until the registry
 * is destroyed. */
CAIRN_EXPORT size_t
cairn_registry_executor_count(const cairn_registry_t *self);
CAIRN_EXPORT const char *
cairn_registry_executor_name(const cairn_registry_t *self, size_t index);

/* Declares the config keys executor type `type` accepts (NULL-terminated;
 * copied; an empty list: it takes no config), for tools that list them
 * (`cairn types`). Optional: a type without a declaration still works.
 * Replaces an earlier declaration. CAIRN_ENOTFOUND when no such type is
 * registered, CAIRN_EINVAL for NULL arguments. */
CAIRN_EXPORT int
cairn_registry_set_config_keys(cairn_registry_t *self, const char *type,
                               const char *const *keys) CAIRN_WARN_UNUSED;

/* The config keys declared for type (NULL-terminated), or NULL when none
 * were declared. Borrowed; valid until the registry is destroyed or the
 * keys are declared again. */
CAIRN_EXPORT const char *const *
cairn_registry_config_keys(const cairn_registry_t *self, const char *type);

/* Number of predicates and the name of predicate i (sorted by name).
 * Borrowed; valid until the registry is destroyed. */
CAIRN_EXPORT size_t
cairn_registry_predicate_count(const cairn_registry_t *self);
CAIRN_EXPORT const char *
cairn_registry_predicate_name(const cairn_registry_t *self, size_t index);

/* ---- predicates written as JSON ---------------------------------------- */

/* How deep not / all / any may nest in one predicate ({"not": {"eq": 1}}
 * is 1 deep): deeper is refused when the workflow is built. */
#define CAIRN_PREDICATE_MAX_DEPTH 64

/* Reads a JSON predicate: an object with exactly one member whose name is
 * a registered predicate and whose value is its argument:
 *   {"eq": "x"} {"prefix": "x"} {"int_lt": 10} {"not": P}
 *   {"all": [P, ...]} {"any": [P, ...]} {"my.plugin.pred": ARG}
 * A string argument is passed as its bytes, a number as its decimal text,
 * anything else as compact JSON. Caller owns the result: on success
 * *name and *arg are malloc'd, free both. Errors name what was expected. */
CAIRN_EXPORT int
cairn_predicate_from_json(const cairn_registry_t *registry, const char *json,
                          size_t len, char **name, uint8_t **arg,
                          size_t *arg_len, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
