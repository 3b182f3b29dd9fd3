/* builtins.c - the executor types cairn ships (include/cairn/builtins.h):
 * registration of every family.
 *
 * Every type reads its config once, in its init function, into an
 * instance struct: the config is JSON object text (NULL, empty or null
 * means {}), unknown members are errors, string values have ${VAR}
 * replaced from the environment (cairn_expand_env), and every error names
 * the type, the field and what was expected. The builder runs init to
 * validate, and each host runs it again when it (re)starts the executor,
 * so environment variables are read where the executor runs and never
 * stored.
 *
 * Instances are read-only once made, and handlers keep nothing between
 * calls except through the context (state "count" of count.inc): a
 * handler may run more than once for the same superstep (retries, lost
 * workers) and its effects still apply exactly once. util.crash and
 * util.exec reach outside the process on purpose; util.exec runs only
 * when the registry was filled with allow_exec (the permission lives in
 * which handler function is registered, not in any global).
 *
 * Text transforms are bytewise ASCII and locale-independent, so a resumed
 * run in another process produces the same bytes.
 *
 * One file per family, sharing builtins_internal.h: builtin_config.c
 * (reading configs), builtin_text.c (text.*), builtin_util.c (count.inc,
 * util.sleep, util.fail, util.crash), builtin_exec.c (util.exec),
 * builtin_hitl.c (hitl.approve).
 */
#include "cairn/builtins.h"
#include "executors/builtins_internal.h"
#include "graph/registry_internal.h"

/* Adds count types in order; stops at the first that fails. */
static int
s_add(cairn_registry_t *registry, const cairn_executor_type_t *types,
      size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int rc = cairn_registry_add_executor(registry, &types[i]);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

int
cairn_builtins_register(cairn_registry_t *registry,
                        const cairn_builtins_options_t *opts)
{
    if (!registry)
        return CAIRN_EINVAL;
    bool allow_exec = opts && opts->allow_exec;
    int rc = s_add(registry, cairn__builtins_text, cairn__builtins_text_count);
    if (rc == CAIRN_OK)
        rc = s_add(registry, cairn__builtins_util, cairn__builtins_util_count);
    if (rc == CAIRN_OK)
        rc = s_add(registry,
                   allow_exec ? &cairn__builtin_exec
                              : &cairn__builtin_exec_refused,
                   1);
    if (rc == CAIRN_OK)
        rc = s_add(registry, &cairn__builtin_approve, 1);
    if (rc == CAIRN_OK)
        rc = cairn__builtin_config_keys_declare(registry);
    if (rc != CAIRN_OK)
        return rc;
    return cairn__predicate_composites_register(registry);
}
