/* plugin.c - loading executor types and predicates from shared objects.
 *
 * The ABI symbol is checked before the registration function is called,
 * so a plugin built against another cairn never runs. Plugins stay loaded
 * (no dlclose): the registry points at their functions for the life of
 * the process.
 */
#include <dlfcn.h>
#include <stdint.h>

#include "cairn/plugin.h"

typedef int (*s_register_fn)(cairn_registry_t *registry);

int
cairn_plugin_load(cairn_registry_t *registry, const char *path,
                  cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!registry || !path)
        return cairn_error_set(err, CAIRN_EINVAL, "plugin path required");
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return cairn_error_set(err, CAIRN_ENOTFOUND,
                               "cannot load plugin %s: %s", path, dlerror());
    const uint32_t *abi = dlsym(handle, "cairn_plugin_abi");
    void *symbol = dlsym(handle, "cairn_plugin_register");
    if (!abi || !symbol) {
        dlclose(handle);
        return cairn_error_set(err, CAIRN_ENOTFOUND,
                               "%s is not a cairn plugin: it does not "
                               "export cairn_plugin_abi and "
                               "cairn_plugin_register",
                               path);
    }
    if (*abi != CAIRN_PLUGIN_ABI) {
        uint32_t found = *abi;
        dlclose(handle);
        return cairn_error_set(err, CAIRN_EFORMAT,
                               "plugin %s was built for plugin ABI %u; this "
                               "cairn loads ABI %u: rebuild it",
                               path, found, CAIRN_PLUGIN_ABI);
    }
    /* dlsym returns an object pointer; the conversion is what POSIX
     * documents for function symbols. */
    s_register_fn register_fn;
    *(void **)(&register_fn) = symbol;
    int rc = register_fn(registry);
    if (rc != 0)
        return cairn_error_set(err, rc < 0 ? rc : CAIRN_EINVAL,
                               "plugin %s failed to register: %s", path,
                               cairn_strerror(rc));
    return CAIRN_OK;
}
