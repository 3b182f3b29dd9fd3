/* cli.h - what the cairn command's subcommands share.
 *
 * The command is the only part of cairn that prints: workflow outputs
 * (and --json objects) on stdout, everything else on stderr. Exit codes
 * follow docs/cli.md: 0 completed, 1 failed or internal/storage error,
 * 2 usage or bad input, 3 waiting, 4 max supersteps, 5 paused/cancelled.
 */
#ifndef CAIRN_CLI_H_INCLUDED
#define CAIRN_CLI_H_INCLUDED

#include <stdio.h>
#include <sys/types.h>

#include <cairn/cairn.h>
#include <jansson.h>

/* The store directory when --db is not given: $CAIRN_DB when set and not
 * empty, else ./.cairn (docs/cli.md). --db always wins. */
#define CLI_DEFAULT_DB cli_default_db()

const char *
cli_default_db(void);

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_WAITING = 3,
    CLI_EXIT_MAX_SUPERSTEPS = 4,
    CLI_EXIT_STOPPED = 5,
    /* Internal, never an exit status: cli_parse printed the command's
     * --help; main exits 0. */
    CLI_EXIT_HELP = -1,
};

/* Prints "cairn: MESSAGE" on stderr. */
void
cli_error(const char *fmt, ...) CAIRN_PRINTF(1, 2);

/* The exit code for a library error: 2 for what the user got wrong
 * (unknown ids, bad specs, a locked store), 1 for the rest. */
int
cli_exit_for(int code);

/* Prints err as "cairn: MESSAGE" and returns cli_exit_for(err->code). */
int
cli_fail(const cairn_error_t *err);

/* Ends the process with exit_code at once (_exit, after flushing stdio),
 * for a command whose engine left `left` host threads stuck in handlers
 * (cairn_engine_close): they still use the registry, so it is never
 * destroyed, and exit()'s clean-up would close their sockets under them.
 * Call it once the stores are closed. */
void
cli_exit_leaving(int exit_code, size_t left) __attribute__((noreturn));

/* Opens the store in dir for inspection (read-only, beside a live run). */
int
cli_open_inspect(const char *dir, cairn_store_t **store);

/* Opens the store in dir for inspection and reads run_id's record
 * (*info: free with cairn_run_info_destroy(&info, 1)). An exit code, after
 * saying what was wrong (an unknown run is 2). */
int
cli_open_run(const char *dir, const char *run_id, cairn_store_t **store,
             cairn_run_info_t **info);

/* Plugin paths given with --plugin (or stored with a run). */
typedef struct {
    const char **paths;
    size_t count;
} cli_plugins_t;

int
cli_plugins_add(cli_plugins_t *plugins, const char *path);
void
cli_plugins_free(cli_plugins_t *plugins);

/* A registry with the built-ins (util.exec allowed or not) and the
 * plugins loaded. NULL after printing why. */
cairn_registry_t *
cli_registry(const cli_plugins_t *plugins, bool allow_exec, int *exit_code);

/* ---- run_record.c: kept with a run, checked before it writes ---------- */

/* Parses a --checkpoint value (every, every:N, on-error, manual, none)
 * into policy; CLI_EXIT_USAGE after saying why. */
int
cli_parse_policy(const char *text, cairn_checkpoint_policy_t *policy);

/* The policy a resumed run goes on with: given (--checkpoint), else the
 * one its record keeps, else (older records) the spec's. */
int
cli_run_policy(const cairn_run_info_t *info, const char *given,
               const cairn_checkpoint_policy_t *from_spec,
               cairn_checkpoint_policy_t *out);

/* Makes store's handle write with the durability the run was started
 * with, unless --durability was given (the store was opened with it). */
int
cli_run_durability(cairn_store_t *store, const cairn_run_info_t *info,
                   const char *given);

/* CLI_EXIT_USAGE, naming the executor, when wf has a util.exec executor
 * and allow_exec is false: checked before a store is written. */
int
cli_check_exec(const cairn_workflow_t *wf, bool allow_exec, const char *what);

/* Plugins by absolute path with the SHA-256 (hex) of each file; owned. */
typedef struct {
    char **paths;
    char **sha256;
    size_t count;
} cli_plugin_ids_t;

/* Resolves the --plugin paths given (realpath) and hashes their files. */
int
cli_plugins_identify(const cli_plugins_t *given, cli_plugin_ids_t *out);

/* The plugins a run's record keeps, each checked against the SHA-256 kept
 * with it: a file replaced since is CLI_EXIT_USAGE naming both hashes. */
int
cli_plugins_stored(const cairn_run_info_t *info, cli_plugin_ids_t *out);

void
cli_plugin_ids_free(cli_plugin_ids_t *ids);

/* Before a fork of checkpoint (RUN@N) is written to run at once: what
 * resume would refuse (a replaced plugin, util.exec without allow_exec)
 * is refused now, so the refusal leaves no fork behind. */
int
cli_check_stored_run(cairn_store_t *store, const char *checkpoint,
                     bool allow_exec);

/* cli_registry over identified plugins. */
cairn_registry_t *
cli_plugin_registry(const cli_plugin_ids_t *ids, bool allow_exec,
                    int *exit_code);

/* A payload as JSON: a string when it is valid UTF-8, else
 * {"base64": "..."}. */
json_t *
cli_payload_json(const uint8_t *data, size_t len);

/* Text that comes from a handler or a store (a state key, a request id
 * or kind, an error, a tag, an event's detail) as JSON, like a payload:
 * a string when it is valid UTF-8, else {"base64": "..."}; "" for NULL.
 * jansson refuses invalid UTF-8, and a refused string would silently drop
 * the field, or with json_pack the whole object. */
json_t *
cli_text_json(const char *text);

/* An event as one JSON object (cmd_events.c): event, run_id, superstep,
 * seq, time, and executor, detail, count, data, status when it has them.
 * `run --events` and `events --json` print the same. Caller owns it. */
json_t *
cli_event_json(const cairn_event_t *event);

/* Prints cli_event_json(event) as one line on out. */
void
cli_print_event_json(FILE *out, const cairn_event_t *event);

/* {id, executor, kind, payload} of a request (payload as above). */
json_t *
cli_request_json(const cairn_request_t *request);

/* Adds one state entry (from cairn_checkpoint_foreach_state) to
 * executors ({executor: {key: value}}) or, for shared state (executor
 * NULL), to shared ({key: value}); values as cli_payload_json. A key
 * that is not valid UTF-8 cannot be a JSON member name: it goes to
 * binary_keys instead, as {"executor": ID or null, "key": {"base64":
 * ...}, "value": ...} (docs/cli.md, "JSON output"). */
void
cli_state_json_add(json_t *executors, json_t *shared, json_t *binary_keys,
                   const char *executor, const char *key,
                   const uint8_t *value, size_t len);

/* Prints a JSON value on stdout, compact, one line. */
void
cli_print_json(json_t *value);

/* Command-line options, declared as a table each command owns. */
typedef enum {
    CLI_OPT_FLAG,   /* target: bool *, set when present */
    CLI_OPT_TEXT,   /* target: const char **, the argument */
    CLI_OPT_NUMBER, /* target: uint64_t *, a non-negative integer */
    CLI_OPT_LIST,   /* target: cli_plugins_t *, every occurrence */
} cli_option_kind_t;

/* One table per command: the parser and the --help text (and the man
 * page) both come from it, so an option cannot be accepted without being
 * described. */
typedef struct {
    const char *name; /* without the leading "--" */
    cli_option_kind_t kind;
    void *target;
    const char *arg;  /* the value's name in the help ("DIR"); NULL: flag */
    const char *help; /* one line for --help, never NULL or empty */
} cli_option_t;

/* --db DIR, which every command that opens a store takes. */
#define CLI_OPTION_DB(target)                                                  \
    {"db", CLI_OPT_TEXT, (target), "DIR",                                      \
     "the store directory (default: $CAIRN_DB, else ./.cairn)"}

/* The commands (main.c): what `cairn help` lists and what heads a
 * command's --help. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args;    /* the positional arguments ("SPEC.json") */
    const char *summary; /* one line */
} cli_command_t;

/* The command named name, or NULL. */
const cli_command_t *
cli_command_find(const char *name);

/* The Levenshtein distance between a and b (SIZE_MAX out of memory). */
size_t
cli_distance(const char *a, const char *b);

/* For "did you mean": true when candidate is close to given (a typo or
 * two) and closer than *best, which it then becomes (start at SIZE_MAX). */
bool
cli_nearer(const char *given, const char *candidate, size_t *best);

/* Prints command's usage, summary and every option of options on out. */
void
cli_print_usage(FILE *out, const char *command, const cli_option_t *options,
                size_t count);

/* Prints command's section of the cairn(1) man page (roff) from the same
 * table: `cairn help --man`, through the unlisted option --help-man. */
void
cli_print_man(FILE *out, const char *command, const cli_option_t *options,
              size_t count);

/* Parses argv (argv[0] is the command's name) against options, and
 * expects exactly `want` positional arguments (at most -want when want is
 * negative), stored in positional[]. --help prints the command's usage
 * on stdout (cli_print_usage) and returns CLI_EXIT_HELP.
 * Returns CLI_EXIT_OK, CLI_EXIT_HELP, or CLI_EXIT_USAGE after saying what
 * was wrong: an unknown option (naming the nearest one) and an option
 * without its value are different messages. */
int
cli_parse(int argc, char **argv, const cli_option_t *options, size_t count,
          int want, const char **positional);

/* Parses a non-negative decimal number; false when it is not one. */
bool
cli_parse_u64(const char *text, uint64_t *out);

/* Starts count local `cairn worker --connect endpoint` processes (their
 * pids into pids) / stops and reaps them, bounded in time. */
int
cli_spawn_workers(size_t count, const char *endpoint,
                  const char *const *plugins, size_t plugin_count,
                  bool allow_exec, pid_t *pids);
void
cli_reap_workers(pid_t *pids, size_t count);

/* Prints run_id's lineage with every fork as a tree (cmd_tree.c), as
 * text or one JSON object; returns the exit code. */
int
cli_checkpoints_tree(cairn_store_t *store, const char *run_id, bool json);
/* Run control (cmd_control.c). The control endpoint of this process's
 * run into out (CAIRN_CONTROL_ENDPOINT_MAX), or false after a warning
 * when there can be none. */
bool
cli_control_endpoint(char *out, size_t size);

/* ipc://$TMPDIR/cairn-UID/NAME-PID.ipc (TMPDIR defaults to /tmp) into
 * out: in a directory only this user can enter (made 0700 when missing),
 * so only the user's processes can connect. The first call in a process
 * removes the sockets there whose process is gone (private_dir.c). false
 * with why (a sentence) when the directory is missing, cannot be made or
 * is not ours alone. */
bool
cli_private_endpoint(char *out, size_t size, const char *name, char *why,
                     size_t why_size);

/* SIGINT/SIGTERM/SIGHUP pause the run through control; a second one
 * stops the process at once (removing the socket files of the ipc
 * endpoints given, either may be NULL). Restore undoes it. */
void
cli_signals_install(cairn_run_control_t *control, const char *ctl_endpoint,
                    const char *events_endpoint);
void
cli_signals_restore(void);

/* The superstep (and status) a live run reports on its control endpoint,
 * asked with a short timeout; false when it is not live or does not
 * answer. *status is valid until the next call. */
bool
cli_live_superstep(const cairn_run_info_t *run, uint64_t *superstep,
                   const char **status);

/* The subcommands; argv[0] is the subcommand's name. */
int
cli_cmd_run(int argc, char **argv);
int
cli_cmd_resume(int argc, char **argv);
int
cli_cmd_runs(int argc, char **argv);
int
cli_cmd_checkpoints(int argc, char **argv);
int
cli_cmd_show(int argc, char **argv);
int
cli_cmd_graph(int argc, char **argv);
int
cli_cmd_gc(int argc, char **argv);
int
cli_cmd_export(int argc, char **argv);
int
cli_cmd_delete(int argc, char **argv);
int
cli_cmd_types(int argc, char **argv);
int
cli_cmd_import(int argc, char **argv);
int
cli_cmd_worker(int argc, char **argv);

int
cli_cmd_keygen(int argc, char **argv);
int
cli_cmd_verify(int argc, char **argv);
int
cli_cmd_events(int argc, char **argv);
int
cli_cmd_recover(int argc, char **argv);
int
cli_cmd_fork(int argc, char **argv);
int
cli_cmd_diff(int argc, char **argv);
int
cli_cmd_pause(int argc, char **argv);
int
cli_cmd_cancel(int argc, char **argv);

#endif
