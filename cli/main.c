/* main.c - the cairn command: dispatch to subcommands.
 *
 * See docs/cli.md for every command, its options and its exit codes.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} s_command_t;

static const s_command_t s_commands[] = {
    {"run", cli_cmd_run,
     "run SPEC.json [--input TEXT | --input-file F] [--db DIR] [--run-id ID]\n"
     "      [--json] [--events] [--checkpoint every|every:N|on-error|manual|none]\n"
     "      [--durability none|process|machine] [--max-supersteps N]\n"
     "      [--plugin LIB.so]... [--allow-exec]\n"
     "      [--listen ENDPOINT [--min-workers N] [--worker-wait-ms T] "
     "[--insecure]]\n"
     "      [--curve-secret FILE --allow-keys DIR]\n"
     "      [--spawn-workers N] [--auto-resume N] [--keep-events N]\n"
     "      [--events-endpoint E|none] [--cpu-placement any|shared]\n"
     "      [--on-worker-loss worker|in-process]"},
    {"resume", cli_cmd_resume,
     "resume RUN|CHECKPOINT [--db DIR] [--max-supersteps N]\n"
     "      [--respond REQUEST_ID=VALUE]... [--auto-resume N]\n"
     "      [--spec F [--force-signature]] [--allow-exec] [--json] [--events]\n"
     "      [--checkpoint POLICY] [--durability process|machine]\n"
     "      [--plugin LIB.so]... [--keep-events N] [--events-endpoint E|none]\n"
     "      [--listen ENDPOINT [--min-workers N] [--worker-wait-ms T] "
     "[--insecure]]\n"
     "      [--curve-secret FILE --allow-keys DIR] [--spawn-workers N]\n"
     "      [--cpu-placement any|shared] [--on-worker-loss worker|in-process]"},
    {"fork", cli_cmd_fork,
     "fork CHECKPOINT|RUN [--db DIR] [--run-id ID] [--set-state EXEC.KEY=VALUE]...\n"
     "      [--set-shared KEY=VALUE]... [--drop-messages] [--send EXEC=PAYLOAD]...\n"
     "      [--json] [--resume [--allow-exec] [--events] [--max-supersteps N]\n"
     "      [worker options of resume]]"},
    {"diff", cli_cmd_diff, "diff RUN_A RUN_B [--db DIR] [--json]"},
    {"runs", cli_cmd_runs, "runs [--db DIR] [--json]"},
    {"pause", cli_cmd_pause, "pause RUN [--db DIR]"},
    {"cancel", cli_cmd_cancel, "cancel RUN [--db DIR]"},
    {"checkpoints", cli_cmd_checkpoints,
     "checkpoints RUN [--db DIR] [--limit N] [--tag T] [--tree] [--json]"},
    {"show", cli_cmd_show, "show CHECKPOINT [--db DIR] [--json]"},
    {"graph", cli_cmd_graph,
     "graph SPEC.json [--format dot|mermaid] [--plugin LIB.so]..."},
    {"gc", cli_cmd_gc, "gc [--db DIR] [--keep-last N] [--older-than DAYS]"},
    {"export", cli_cmd_export, "export RUN [--db DIR] > FILE"},
    {"import", cli_cmd_import, "import FILE [--db DIR] [--as ID]"},
    {"verify", cli_cmd_verify, "verify [RUN] [--db DIR]"},
    {"events", cli_cmd_events, "events RUN [--db DIR] [--json] [--follow]"},
    {"recover", cli_cmd_recover,
     "recover [--db DIR] [--allow-exec] [--jobs N] [--json]"},
    {"worker", cli_cmd_worker,
     "worker --connect ENDPOINT [--plugin LIB.so]... [--label L]...\n"
     "      [--id ID] [--give-up-after S] [--heartbeat-ms MS] [--allow-exec]\n"
     "      [--curve-secret FILE --server-key FILE]"},
    {"keygen", cli_cmd_keygen, "keygen DIR"},
};

static const size_t s_command_count = sizeof s_commands / sizeof s_commands[0];

static int
s_usage(FILE *out)
{
    fprintf(out, "usage: cairn COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < s_command_count; i++)
        fprintf(out, "  cairn %s\n", s_commands[i].usage);
    fprintf(out, "\nexit codes: 0 completed, 1 failed, 2 usage or bad input, "
                 "3 waiting,\n            4 max supersteps, 5 paused or "
                 "cancelled\n");
    return out == stdout ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static void
s_log_sink(cairn_log_level_t level, const char *module, const char *message,
           void *userdata)
{
    (void)userdata;
    if (level <= CAIRN_LOG_WARN)
        fprintf(stderr, "cairn: %s: %s\n", module, message);
}

int
main(int argc, char **argv)
{
    if (argc < 2)
        return s_usage(stderr);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0
        || strcmp(argv[1], "-h") == 0)
        return s_usage(stdout);
    cairn_log_set_sink(s_log_sink, NULL);
    for (size_t i = 0; i < s_command_count; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    return s_usage(stderr);
}
