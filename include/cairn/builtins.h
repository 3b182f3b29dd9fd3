/* builtins.h - the executor types and predicates cairn ships.
 *
 * Executor types (config is JSON text; missing config = {}):
 *   text.upper, text.lower, text.reverse   transform the payload, send it on
 *   text.append   {"suffix": "..."}        append, send on
 *   text.output                            yield the payload as an output
 *   text.join     {"sep": " "}             fan-in target: join the parts'
 *                                          payloads in source order, send
 *   count.inc     {"by": 1}                payload as integer + by, send;
 *                                          keeps the number of messages it
 *                                          handled in state "count" (text)
 *   util.sleep    {"ms": N}                wait, then forward unchanged
 *   util.fail     {"when": PREDICATE, "first_attempts": N}
 *                                          fail when the payload matches
 *                                          (and, with first_attempts, only
 *                                          on attempts 1..N), else forward
 *   util.crash    {"at_superstep": K, "marker": PATH}
 *                                          the first time superstep K runs
 *                                          and PATH does not exist: create
 *                                          PATH, SIGKILL the own process
 *   util.exec     {"argv": [...], "timeout_ms": N}
 *                                          run argv with the payload on
 *                                          stdin, send its stdout; non-zero
 *                                          exit or timeout fails; only when
 *                                          registered with allow_exec
 *
 * Predicates, besides the registry's built-ins (eq, ne, prefix, contains,
 * int_lt, int_le, int_gt, int_ge, always, never):
 *   not, all, any   argument: JSON text of a predicate / array of them,
 *                   in the form cairn_predicate_from_json() reads
 */
#ifndef CAIRN_BUILTINS_H_INCLUDED
#define CAIRN_BUILTINS_H_INCLUDED

#include "common.h"
#include "error.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    bool allow_exec; /* util.exec fails every call unless set */
} cairn_builtins_options_t;

/* Registers every built-in executor type and the composite predicates.
 * opts may be NULL (exec not allowed). Fails with CAIRN_EEXISTS if a name
 * is taken. */
CAIRN_EXPORT int
cairn_builtins_register(cairn_registry_t *registry,
                        const cairn_builtins_options_t *opts)
    CAIRN_WARN_UNUSED;

/* How deep not / all / any may nest in one predicate ({"not": {"eq": 1}}
 * is 1 deep): deeper is refused when the workflow is built. */
#define CAIRN_PREDICATE_MAX_DEPTH 64

/* Reads a JSON predicate: an object with exactly one member whose name is
 * a registered predicate and whose value is its argument:
 *   {"eq": "x"} {"prefix": "x"} {"int_lt": 10} {"not": P}
 *   {"all": [P, ...]} {"any": [P, ...]} {"my.plugin.pred": ARG}
 * A string argument is passed as its bytes, a number as its decimal text,
 * anything else as compact JSON. On success *name and *arg are malloc'd
 * (caller frees both). Errors name what was expected. */
CAIRN_EXPORT int
cairn_predicate_from_json(const cairn_registry_t *registry, const char *json,
                          size_t len, char **name, uint8_t **arg,
                          size_t *arg_len, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Replaces every ${NAME} in text with the environment variable NAME
 * (unset: error naming it). Built-in types apply it to their string
 * config values when they start, so secrets stay out of stored specs and
 * signatures. *out is malloc'd. */
CAIRN_EXPORT int
cairn_expand_env(const char *text, char **out, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
