/* plugin.h - executor types and predicates from a shared object.
 *
 * A plugin is a shared object that exports two symbols:
 *
 *   const uint32_t cairn_plugin_abi = CAIRN_PLUGIN_ABI;
 *   int cairn_plugin_register(cairn_registry_t *registry);
 *
 * CAIRN_PLUGIN_DEFINE(fn) writes both. The ABI number changes whenever a
 * struct or function a plugin uses changes incompatibly; a plugin built
 * for another ABI is refused before any of its code runs.
 */
#ifndef CAIRN_PLUGIN_H_INCLUDED
#define CAIRN_PLUGIN_H_INCLUDED

#include "common.h"
#include "error.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_PLUGIN_ABI 2u

/* What a plugin defines (CAIRN_PLUGIN_DEFINE writes both). */
CAIRN_EXPORT extern const uint32_t cairn_plugin_abi;
CAIRN_EXPORT int
cairn_plugin_register(cairn_registry_t *registry);

#define CAIRN_PLUGIN_DEFINE(register_fn)                                       \
    CAIRN_EXPORT const uint32_t cairn_plugin_abi = CAIRN_PLUGIN_ABI;          \
    CAIRN_EXPORT int cairn_plugin_register(cairn_registry_t *registry)        \
    {                                                                          \
        return register_fn(registry);                                          \
    }

/* Loads the plugin at path and lets it register into registry. Fails with
 * CAIRN_ENOTFOUND (cannot be loaded, or lacks the symbols), CAIRN_EFORMAT
 * (other ABI) or what its registration returned, naming the path. The
 * shared object stays loaded for the life of the process. */
CAIRN_EXPORT int
cairn_plugin_load(cairn_registry_t *registry, const char *path,
                  cairn_error_t *err) CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
