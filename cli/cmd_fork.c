/* cmd_fork.c - `cairn fork`: a new run from any checkpoint, with changes.
 *
 * The fork itself is cairn_store_fork (storage/store_fork.c): no spec,
 * plugin or engine is needed, and what is stored is only the changes.
 * With --resume the new run is continued at once by `cairn resume`'s own
 * code (cli_cmd_resume), so forked runs resume exactly like any other;
 * the options that only make sense for running are passed on to it.
 *
 * Arguments are checked in full before the store is opened for writing,
 * and the store checks the rest (ids, executors) before it writes
 * anything: a bad fork changes nothing and exits 2.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Everything fork accepts. */
typedef struct {
    const char *db;
    const char *run_id;
    cli_plugins_t set_state;  /* EXEC.KEY=VALUE */
    cli_plugins_t set_shared; /* KEY=VALUE */
    cli_plugins_t send;       /* EXEC=PAYLOAD */
    bool drop_messages;
    bool resume;
    bool json;
    /* passed on to `cairn resume` with --resume */
    bool events;
    bool allow_exec;
    bool insecure;
    const char *max_supersteps;
    const char *listen;
    const char *spawn_workers;
    const char *min_workers;
    const char *worker_wait_ms;
    const char *curve_secret;
    const char *allow_keys;
    const char *on_worker_loss;
} s_options_t;

/* The parsed changes; the strings are copies owned here. */
typedef struct {
    cairn_fork_state_t *states;
    size_t state_count;
    cairn_fork_message_t *sends;
    size_t send_count;
    char **owned;
    size_t owned_count;
} s_changes_t;

static void
s_changes_free(s_changes_t *c)
{
    for (size_t i = 0; i < c->owned_count; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->states);
    free(c->sends);
}

/* A copy of n bytes of text, owned by c; NULL on out-of-memory. */
static char *
s_own(s_changes_t *c, const char *text, size_t n)
{
    char **grown = realloc(c->owned, (c->owned_count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    c->owned = grown;
    char *copy = strndup(text, n);
    if (copy)
        c->owned[c->owned_count++] = copy;
    return copy;
}

/* Splits "NAME=VALUE" at the first '='; with dotted, NAME is "EXEC.KEY"
 * split at its first dot. Says what is wrong and returns false when the
 * argument does not have that form. */
static bool
s_split(s_changes_t *c, const char *option, const char *arg, bool dotted,
        const char **exec, const char **key, const char **value, int *exit_code)
{
    const char *eq = strchr(arg, '=');
    const char *form = dotted                        ? "EXEC.KEY=VALUE"
                       : strcmp(option, "send") == 0 ? "EXEC=PAYLOAD"
                                                     : "KEY=VALUE";
    const char *dot =
        dotted && eq ? memchr(arg, '.', (size_t)(eq - arg)) : NULL;
    const char *name = dotted && dot ? dot + 1 : arg;
    if (!eq || (dotted && (!dot || dot == arg)) || name == eq) {
        cli_error("fork: --%s needs %s, not '%s'", option, form, arg);
        *exit_code = CLI_EXIT_USAGE;
        return false;
    }
    *exec = dotted ? s_own(c, arg, (size_t)(dot - arg)) : NULL;
    *key = s_own(c, name, (size_t)(eq - name));
    *value = eq + 1;
    if (!*key || (dotted && !*exec)) {
        cli_error("out of memory");
        *exit_code = CLI_EXIT_FAILED;
        return false;
    }
    return true;
}

/* Turns the --set-state, --set-shared and --send arguments into c. */
static int
s_parse_changes(const s_options_t *o, s_changes_t *c)
{
    memset(c, 0, sizeof *c);
    size_t states = o->set_state.count + o->set_shared.count;
    c->states = calloc(states + 1, sizeof *c->states);
    c->sends = calloc(o->send.count + 1, sizeof *c->sends);
    if (!c->states || !c->sends) {
        cli_error("out of memory");
        return CLI_EXIT_FAILED;
    }
    int exit_code = CLI_EXIT_OK;
    /* --set-state first, then --set-shared: different scopes, so their
     * order does not matter; within one option the last value wins. */
    for (size_t i = 0; i < states; i++) {
        bool dotted = i < o->set_state.count;
        const char *arg = dotted ? o->set_state.paths[i]
                                 : o->set_shared.paths[i - o->set_state.count];
        const char *exec, *key, *value;
        if (!s_split(c, dotted ? "set-state" : "set-shared", arg, dotted, &exec,
                     &key, &value, &exit_code))
            return exit_code;
        c->states[c->state_count++] = (cairn_fork_state_t){
            exec, key, (const uint8_t *)value, strlen(value)};
    }
    for (size_t i = 0; i < o->send.count; i++) {
        const char *exec, *ignored, *payload;
        if (!s_split(c, "send", o->send.paths[i], false, &ignored, &exec,
                     &payload, &exit_code))
            return exit_code;
        c->sends[c->send_count++] = (cairn_fork_message_t){
            exec, (const uint8_t *)payload, strlen(payload)};
    }
    return CLI_EXIT_OK;
}

static int
s_parse(int argc, char **argv, s_options_t *o, const char **target)
{
    memset(o, 0, sizeof *o);
    o->db = CLI_DEFAULT_DB;
    const cli_option_t options[] = {
        CLI_OPTION_DB(&o->db),
        {"run-id", CLI_OPT_TEXT, &o->run_id, "ID",
         "name the new run ID (default: a generated id)"},
        {"set-state", CLI_OPT_LIST, &o->set_state, "EXEC.KEY=VALUE",
         "set an executor's state in the fork"},
        {"set-shared", CLI_OPT_LIST, &o->set_shared, "KEY=VALUE",
         "set shared state in the fork"},
        {"send", CLI_OPT_LIST, &o->send, "EXEC=PAYLOAD",
         "add a message to EXEC in the fork"},
        {"drop-messages", CLI_OPT_FLAG, &o->drop_messages, NULL,
         "drop the messages pending in the checkpoint"},
        {"resume", CLI_OPT_FLAG, &o->resume, NULL,
         "resume the fork at once (takes resume's run options)"},
        {"json", CLI_OPT_FLAG, &o->json, NULL,
         "print JSON on stdout instead of text"},
        {"events", CLI_OPT_FLAG, &o->events, NULL,
         "with --resume: print every event as a JSON line on stderr"},
        {"allow-exec", CLI_OPT_FLAG, &o->allow_exec, NULL,
         "with --resume: permit util.exec executors"},
        {"insecure", CLI_OPT_FLAG, &o->insecure, NULL,
         "accept workers on a non-loopback endpoint without CURVE"},
        {"max-supersteps", CLI_OPT_TEXT, &o->max_supersteps, "N",
         "with --resume: stop after N supersteps"},
        {"listen", CLI_OPT_TEXT, &o->listen, "ENDPOINT",
         "accept remote workers on ENDPOINT (tcp://...)"},
        {"spawn-workers", CLI_OPT_TEXT, &o->spawn_workers, "N",
         "start N local worker processes"},
        {"min-workers", CLI_OPT_TEXT, &o->min_workers, "N",
         "wait for N workers before the first superstep"},
        {"worker-wait-ms", CLI_OPT_TEXT, &o->worker_wait_ms, "T",
         "wait at most T ms for --min-workers"},
        {"curve-secret", CLI_OPT_TEXT, &o->curve_secret, "FILE",
         "this side's CURVE secret key (cairn keygen)"},
        {"allow-keys", CLI_OPT_TEXT, &o->allow_keys, "DIR",
         "the CURVE public keys of the workers allowed"},
        {"on-worker-loss", CLI_OPT_TEXT, &o->on_worker_loss, "MODE",
         "worker or in-process: where a lost worker's executors go"},
    };
    int exit_code = cli_parse(argc, argv, options,
                              sizeof options / sizeof options[0], 1, target);
    if (exit_code != CLI_EXIT_OK || o->resume)
        return exit_code;
    if (o->events || o->allow_exec || o->insecure || o->max_supersteps
        || o->listen || o->spawn_workers || o->min_workers
        || o->worker_wait_ms || o->curve_secret || o->allow_keys
        || o->on_worker_loss) {
        cli_error("fork: --events, --allow-exec, --max-supersteps and the "
                  "worker options run the fork: they need --resume");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Continues the new run through `cairn resume` with the options given. */
static int
s_resume(const s_options_t *o, const char *run_id)
{
    const char *argv[32] = {"resume", run_id, "--db", o->db};
    int argc = 4;
    const struct {
        const char *name;
        const char *value;
    } texts[] = {
        {"--max-supersteps", o->max_supersteps},
        {"--listen", o->listen},
        {"--spawn-workers", o->spawn_workers},
        {"--min-workers", o->min_workers},
        {"--worker-wait-ms", o->worker_wait_ms},
        {"--curve-secret", o->curve_secret},
        {"--allow-keys", o->allow_keys},
        {"--on-worker-loss", o->on_worker_loss},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i].value) {
            argv[argc++] = texts[i].name;
            argv[argc++] = texts[i].value;
        }
    if (o->json)
        argv[argc++] = "--json";
    if (o->events)
        argv[argc++] = "--events";
    if (o->allow_exec)
        argv[argc++] = "--allow-exec";
    if (o->insecure)
        argv[argc++] = "--insecure";
    argv[argc] = NULL;
    return cli_cmd_resume(argc, (char **)argv);
}

/* The checkpoint a target names: RUN@N as it is, RUN its latest. */
static int
s_checkpoint_of(cairn_store_t *store, const char *target,
                char out[CAIRN_CHECKPOINT_ID_MAX])
{
    cairn_error_t err;
    if (strchr(target, '@')) {
        snprintf(out, CAIRN_CHECKPOINT_ID_MAX, "%s", target);
        return CLI_EXIT_OK;
    }
    cairn_run_info_t *info = NULL;
    int rc = cairn_store_get_run(store, target, &info, &err);
    cairn_run_info_destroy(&info, info ? 1 : 0);
    if (rc == CAIRN_OK)
        rc = cairn_store_get_latest_checkpoint(store, target, out, &err);
    return rc == CAIRN_OK ? CLI_EXIT_OK : cli_fail(&err);
}

/* Says what was made: the new run id on stdout (or one JSON object),
 * and how to continue on stderr. */
static int
s_announce(const s_options_t *o, cairn_store_t *store, const char *parent,
           const char *checkpoint)
{
    char run_id[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(run_id, sizeof run_id, "%s", checkpoint);
    *strrchr(run_id, '@') = '\0';
    cairn_run_info_t *info = NULL;
    cairn_error_t err;
    if (cairn_store_get_run(store, run_id, &info, &err) != CAIRN_OK)
        return cli_fail(&err);
    fprintf(stderr, "cairn: forked %s as run %s (checkpoint %s, %s)\n", parent,
            run_id, checkpoint, info->status);
    if (o->json) {
        json_t *doc =
            json_pack("{s:s, s:s, s:s, s:s}", "run_id", run_id, "checkpoint",
                      checkpoint, "parent", parent, "status", info->status);
        if (doc)
            cli_print_json(doc);
        json_decref(doc);
    } else if (!o->resume) {
        printf("%s\n", run_id);
        fflush(stdout);
    }
    cairn_run_info_destroy(&info, 1);
    return CLI_EXIT_OK;
}

int
cli_cmd_fork(int argc, char **argv)
{
    s_options_t o;
    const char *target = NULL;
    s_changes_t changes = {0};
    cairn_store_t *store = NULL;
    char parent[CAIRN_CHECKPOINT_ID_MAX];
    char made[CAIRN_CHECKPOINT_ID_MAX] = "";
    cairn_error_t err;
    int exit_code = s_parse(argc, argv, &o, &target);
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_parse_changes(&o, &changes);
    if (exit_code == CLI_EXIT_OK) {
        cairn_store_options_t opts = {.durability = CAIRN_DURABILITY_PROCESS};
        if (cairn_store_open(&store, o.db, &opts, &err) != CAIRN_OK)
            exit_code = cli_fail(&err);
    }
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_checkpoint_of(store, target, parent);
    if (exit_code == CLI_EXIT_OK && o.resume)
        exit_code = cli_check_stored_run(store, parent, o.allow_exec);
    cairn_fork_changes_t fork = {
        .states = changes.states,
        .state_count = changes.state_count,
        .drop_messages = o.drop_messages,
        .sends = changes.sends,
        .send_count = changes.send_count,
    };
    if (exit_code == CLI_EXIT_OK
        && cairn_store_fork(store, parent, o.run_id, &fork, made, &err)
               != CAIRN_OK)
        exit_code = cli_fail(&err);
    /* With --resume, resume prints the --json object. */
    bool json = o.json;
    o.json = o.json && !o.resume;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_announce(&o, store, parent, made);
    o.json = json;
    cairn_store_destroy(&store); /* resume opens it again */
    if (exit_code == CLI_EXIT_OK && o.resume) {
        char run_id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(run_id, sizeof run_id, "%s", made);
        *strrchr(run_id, '@') = '\0';
        exit_code = s_resume(&o, run_id);
    }
    s_changes_free(&changes);
    cli_plugins_free(&o.set_state);
    cli_plugins_free(&o.set_shared);
    cli_plugins_free(&o.send);
    return exit_code;
}
