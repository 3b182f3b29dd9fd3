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
 *                   (registry.h)
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

#ifdef __cplusplus
}
#endif
#endif
