/* cmd_types.c - `cairn types`: the executor types (with their config
 * keys) and edge predicates a spec may name, built in and from --plugin.
 * Keys come from the registry (cairn_registry_config_keys), where the
 * built-ins declare the same table their config validation reads. */
#include <string.h>

#include "cli/cli.h"

/* The keys as a JSON array, or null when the type declared none. */
static json_t *
s_keys_json(const char *const *keys)
{
    if (!keys)
        return json_null();
    json_t *array = json_array();
    for (size_t i = 0; array && keys[i]; i++)
        json_array_append_new(array, json_string(keys[i]));
    return array;
}

/* {"executor_types": [{"name", "builtin", "config_keys"}],
 *  "predicates": [NAME...]}; builtins tells which types are built in. */
static json_t *
s_types_json(const cairn_registry_t *registry, const cairn_registry_t *builtins)
{
    json_t *types = json_array(), *predicates = json_array();
    for (size_t i = 0; i < cairn_registry_executor_count(registry); i++) {
        const char *name = cairn_registry_executor_name(registry, i);
        json_array_append_new(
            types,
            json_pack("{s:s, s:b, s:o}", "name", name, "builtin",
                      cairn_registry_executor(builtins, name) != NULL,
                      "config_keys",
                      s_keys_json(cairn_registry_config_keys(registry, name))));
    }
    for (size_t i = 0; i < cairn_registry_predicate_count(registry); i++)
        json_array_append_new(
            predicates,
            json_string(cairn_registry_predicate_name(registry, i)));
    return json_pack("{s:o, s:o}", "executor_types", types, "predicates",
                     predicates);
}

static void
s_print_text(json_t *doc)
{
    size_t i;
    json_t *type, *name;
    printf("executor types (config keys):\n");
    json_array_foreach(json_object_get(doc, "executor_types"), i, type)
    {
        json_t *keys = json_object_get(type, "config_keys");
        printf("  %-16s", json_string_value(json_object_get(type, "name")));
        if (json_is_null(keys))
            printf(" (keys not declared)");
        else if (json_array_size(keys) == 0)
            printf(" (no config)");
        size_t k;
        json_t *key;
        json_array_foreach(keys, k, key)
            printf("%s%s", k ? ", " : " ", json_string_value(key));
        printf("%s\n", json_is_true(json_object_get(type, "builtin"))
                           ? ""
                           : "  [plugin]");
    }
    printf("predicates:\n");
    json_array_foreach(json_object_get(doc, "predicates"), i, name)
        printf("  %s\n", json_string_value(name));
    fflush(stdout);
}

int
cli_cmd_types(int argc, char **argv)
{
    cli_plugins_t plugins = {0};
    bool json = false;
    const cli_option_t options[] = {
        {"plugin", CLI_OPT_LIST, &plugins, "LIB.so",
         "also list the types and predicates of a plugin"},
        {"json", CLI_OPT_FLAG, &json, NULL,
         "print one JSON object: executor_types (name, builtin, "
         "config_keys or null), predicates"},
    };
    int exit_code = cli_parse(argc, argv, options,
                              sizeof options / sizeof options[0], 0, NULL);
    cairn_registry_t *registry = NULL, *builtins = NULL;
    if (exit_code == CLI_EXIT_OK)
        builtins = cli_registry(NULL, false, &exit_code);
    if (builtins)
        registry = cli_registry(&plugins, false, &exit_code);
    json_t *doc = registry ? s_types_json(registry, builtins) : NULL;
    if (registry && !doc) {
        cli_error("out of memory");
        exit_code = CLI_EXIT_FAILED;
    }
    if (doc && json)
        cli_print_json(doc);
    else if (doc)
        s_print_text(doc);
    json_decref(doc);
    cairn_registry_destroy(&registry);
    cairn_registry_destroy(&builtins);
    cli_plugins_free(&plugins);
    return exit_code;
}
