/* run_record.c - what the CLI keeps with a run and checks before a run
 * writes anything.
 *
 * A run's record keeps what a resume must not silently change: the
 * checkpoint policy it was given (the engine keeps the superstep limit
 * itself) and its plugins, by absolute path with the SHA-256 of each
 * file, so `cairn resume` and `cairn recover` load the same code from any
 * working directory, and refuse, naming both hashes, a library that was
 * replaced since. What may never be stored (the util.exec permission) is
 * checked here too, before the store is touched: a run that could only
 * fail in superstep 1 is refused with exit 2 and leaves nothing behind.
 */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int
cli_parse_policy(const char *text, cairn_checkpoint_policy_t *policy)
{
    memset(policy, 0, sizeof *policy);
    uint64_t n = 0;
    if (strcmp(text, "every") == 0)
        policy->kind = CAIRN_CHECKPOINT_EVERY;
    else if (strncmp(text, "every:", 6) == 0 && cli_parse_u64(text + 6, &n)
             && n > 0) {
        policy->kind = CAIRN_CHECKPOINT_EVERY_N;
        policy->every_n = n;
    } else if (strcmp(text, "on-error") == 0)
        policy->kind = CAIRN_CHECKPOINT_ON_ERROR;
    else if (strcmp(text, "manual") == 0)
        policy->kind = CAIRN_CHECKPOINT_MANUAL;
    else if (strcmp(text, "none") == 0)
        policy->kind = CAIRN_CHECKPOINT_NONE;
    else {
        cli_error("--checkpoint must be every, every:N, on-error, manual or "
                  "none, not '%s'",
                  text);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int
cli_run_policy(const cairn_run_info_t *info, const char *given,
               const cairn_checkpoint_policy_t *from_spec,
               cairn_checkpoint_policy_t *out)
{
    if (given)
        return cli_parse_policy(given, out);
    /* A record from before the policy was kept (""), or one of the C
     * API's predicates, which no text can bring back: the spec's. */
    const char *stored = info ? info->checkpoint_policy : "";
    if (!stored[0] || strcmp(stored, "predicate") == 0) {
        *out = *from_spec;
        return CLI_EXIT_OK;
    }
    return cli_parse_policy(stored, out);
}

int
cli_run_durability(cairn_store_t *store, const cairn_run_info_t *info,
                   const char *given)
{
    cairn_durability_t durability;
    if (given || !info->durability[0]
        || cairn_durability_parse(info->durability, &durability) != CAIRN_OK
        || durability == cairn_store_durability(store))
        return CLI_EXIT_OK; /* as opened: given, or nothing to keep */
    cairn_error_t err;
    return cairn_store_set_durability(store, durability, &err) == CAIRN_OK
               ? CLI_EXIT_OK
               : cli_fail(&err);
}

int
cli_check_exec(const cairn_workflow_t *wf, bool allow_exec, const char *what)
{
    for (size_t i = 0; !allow_exec && i < cairn_workflow_executor_count(wf);
         i++) {
        const char *id = NULL;
        const char *type = cairn_workflow_executor_type(wf, i, &id);
        if (type && strcmp(type, "util.exec") == 0) {
            cli_error("%s: executor '%s' is util.exec, which runs programs: "
                      "give --allow-exec to let it (the permission is never "
                      "stored); nothing was run",
                      what, id);
            return CLI_EXIT_USAGE;
        }
    }
    return CLI_EXIT_OK;
}

/* ---- plugin identity ------------------------------------------------------ */

/* The SHA-256 of the file at path as hex into hex; false (errno set)
 * when it cannot be read. */
static bool
s_file_sha256(const char *path, char hex[2 * crypto_hash_sha256_BYTES + 1])
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return false;
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    unsigned char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, file)) > 0)
        crypto_hash_sha256_update(&state, buffer, n);
    bool ok = !ferror(file);
    int saved = errno;
    fclose(file);
    errno = saved;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state, digest);
    sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, digest,
                   sizeof digest);
    return ok;
}

void
cli_plugin_ids_free(cli_plugin_ids_t *ids)
{
    for (size_t i = 0; i < ids->count; i++) {
        free(ids->paths[i]);
        free(ids->sha256[i]);
    }
    free(ids->paths);
    free(ids->sha256);
    memset(ids, 0, sizeof *ids);
}

/* Appends path (resolved) and the SHA-256 of its file to ids. */
static int
s_identify(cli_plugin_ids_t *ids, const char *path)
{
    char resolved[PATH_MAX], hex[2 * crypto_hash_sha256_BYTES + 1];
    if (!realpath(path, resolved) || !s_file_sha256(resolved, hex)) {
        cli_error("cannot read plugin %s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char **paths = realloc(ids->paths, (ids->count + 1) * sizeof *paths);
    if (paths)
        ids->paths = paths;
    char **sums = realloc(ids->sha256, (ids->count + 1) * sizeof *sums);
    if (sums)
        ids->sha256 = sums;
    char *copy = paths && sums ? strdup(resolved) : NULL;
    char *sum = copy ? strdup(hex) : NULL;
    if (!sum) {
        free(copy);
        cli_error("out of memory");
        return CLI_EXIT_FAILED;
    }
    ids->paths[ids->count] = copy;
    ids->sha256[ids->count++] = sum;
    return CLI_EXIT_OK;
}

int
cli_plugins_identify(const cli_plugins_t *given, cli_plugin_ids_t *out)
{
    memset(out, 0, sizeof *out);
    int exit_code = CLI_EXIT_OK;
    for (size_t i = 0; exit_code == CLI_EXIT_OK && i < given->count; i++)
        exit_code = s_identify(out, given->paths[i]);
    return exit_code;
}

int
cli_plugins_stored(const cairn_run_info_t *info, cli_plugin_ids_t *out)
{
    memset(out, 0, sizeof *out);
    int exit_code = CLI_EXIT_OK;
    for (size_t i = 0; exit_code == CLI_EXIT_OK && i < info->plugin_count;
         i++) {
        exit_code = s_identify(out, info->plugins[i]);
        const char *was = info->plugin_sha256[i];
        if (exit_code == CLI_EXIT_OK && was[0]
            && strcmp(was, out->sha256[i]) != 0) {
            cli_error("plugin %s has changed since run %s started: its "
                      "SHA-256 was %s and is now %s; give --plugin %s to "
                      "resume with it anyway",
                      info->plugins[i], info->id, was, out->sha256[i],
                      info->plugins[i]);
            exit_code = CLI_EXIT_USAGE;
        }
    }
    return exit_code;
}

cairn_registry_t *
cli_plugin_registry(const cli_plugin_ids_t *ids, bool allow_exec,
                    int *exit_code)
{
    cli_plugins_t paths = {(const char **)ids->paths, ids->count};
    return cli_registry(&paths, allow_exec, exit_code);
}

int
cli_check_stored_run(cairn_store_t *store, const char *checkpoint,
                     bool allow_exec)
{
    char run_id[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(run_id, sizeof run_id, "%s", checkpoint);
    char *at = strrchr(run_id, '@');
    if (at)
        *at = '\0';
    cairn_run_info_t *info = NULL;
    cli_plugin_ids_t plugins = {0};
    cairn_registry_t *registry = NULL;
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    int exit_code = cairn_store_get_run(store, run_id, &info, &err) == CAIRN_OK
                        ? cli_plugins_stored(info, &plugins)
                        : cli_fail(&err);
    if (exit_code == CLI_EXIT_OK && info->spec_len > 0
        && (registry = cli_plugin_registry(&plugins, allow_exec, &exit_code))
        && cairn_spec_load_with((const char *)info->spec, info->spec_len,
                                "stored spec", registry,
                                &(cairn_spec_options_t){.worker_types = true},
                                &wf, NULL, &err)
               == CAIRN_OK)
        exit_code = cli_check_exec(wf, allow_exec, run_id);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    cli_plugin_ids_free(&plugins);
    cairn_run_info_destroy(&info, info ? 1 : 0);
    return exit_code;
}
