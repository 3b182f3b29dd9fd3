/* main.c - the cairn command: dispatch to subcommands.
 *
 * See docs/cli.md for every command, its options and its exit codes. A
 * command's options are described where they are parsed (its
 * cli_option_t table), so `cairn help COMMAND`, `cairn COMMAND --help`
 * and the man page list exactly what the parser accepts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command_t s_commands[] = {
    {"run", cli_cmd_run, "SPEC.json", "Runs a workflow spec durably."},
    {"resume", cli_cmd_resume, "RUN|CHECKPOINT",
     "Resumes a run from its latest checkpoint or from RUN@N."},
    {"fork", cli_cmd_fork, "CHECKPOINT|RUN",
     "Starts a new run from a checkpoint, optionally edited."},
    {"diff", cli_cmd_diff, "RUN_A RUN_B", "Compares two runs."},
    {"runs", cli_cmd_runs, "", "Lists the runs of a store."},
    {"pause", cli_cmd_pause, "RUN", "Asks a live run to pause."},
    {"cancel", cli_cmd_cancel, "RUN", "Asks a live run to stop."},
    {"checkpoints", cli_cmd_checkpoints, "RUN", "Lists a run's checkpoints."},
    {"show", cli_cmd_show, "CHECKPOINT", "Shows one checkpoint."},
    {"types", cli_cmd_types, "",
     "Lists executor types (with config keys) and predicates."},
    {"graph", cli_cmd_graph, "SPEC.json",
     "Draws a spec's graph (dot or mermaid) on stdout."},
    {"gc", cli_cmd_gc, "",
     "Deletes old checkpoints and the values nothing reads any more."},
    {"export", cli_cmd_export, "RUN",
     "Writes a run (binary) to -o FILE or stdout, to import elsewhere."},
    {"import", cli_cmd_import, "FILE", "Imports a run that export wrote."},
    {"delete", cli_cmd_delete, "RUN",
     "Deletes a run: its record, checkpoints, state and outputs."},
    {"verify", cli_cmd_verify, "[RUN]",
     "Checks a store (or one run) for corrupt or missing data."},
    {"events", cli_cmd_events, "RUN", "Prints a run's events."},
    {"recover", cli_cmd_recover, "",
     "Resumes every run whose process is gone."},
    {"worker", cli_cmd_worker, "",
     "Runs executors for a coordinator (run --listen)."},
    {"keygen", cli_cmd_keygen, "DIR", "Makes a CURVE key pair in DIR."},
};

static const size_t s_command_count = sizeof s_commands / sizeof s_commands[0];

const cli_command_t *
cli_command_find(const char *name)
{
    for (size_t i = 0; i < s_command_count; i++)
        if (strcmp(name, s_commands[i].name) == 0)
            return &s_commands[i];
    return NULL;
}

static int
s_usage(FILE *out)
{
    fprintf(out, "usage: cairn COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < s_command_count; i++)
        fprintf(out, "  %-12s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(out, "  %-12s %s\n", "help",
            "help [COMMAND]: this list, or a "
            "command's usage and options");
    fprintf(out, "  %-12s %s\n", "version", "Prints cairn's version.");
    fprintf(out, "\n`cairn help COMMAND` or `cairn COMMAND --help` describes "
                 "a command.\n");
    fprintf(out, "\nexit codes: 0 completed, 1 failed, 2 usage or bad input, "
                 "3 waiting,\n            4 max supersteps, 5 paused or "
                 "cancelled\n");
    return out == stdout ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* "unknown command 'rn'; did you mean run?", then the list: exit 2. */
static int
s_unknown_command(const char *given)
{
    const char *nearest = NULL;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < s_command_count; i++)
        if (cli_nearer(given, s_commands[i].name, &best))
            nearest = s_commands[i].name;
    static const char *const builtin[] = {"help", "version"};
    for (size_t i = 0; i < 2; i++)
        if (cli_nearer(given, builtin[i], &best))
            nearest = builtin[i];
    if (nearest)
        cli_error("unknown command '%s'; did you mean %s?", given, nearest);
    else
        cli_error("unknown command '%s'", given);
    return s_usage(stderr);
}

/* Runs command with argv; --help's CLI_EXIT_HELP is a success. */
static int
s_dispatch(const cli_command_t *command, int argc, char **argv)
{
    int exit_code = command->run(argc, argv);
    return exit_code == CLI_EXIT_HELP ? CLI_EXIT_OK : exit_code;
}

/* `cairn help --man`: cairn(1) in roff, every command's section printed
 * by the command's own parser from its option table. */
static int
s_man(void)
{
    printf(".TH CAIRN 1 \"\" \"cairn %s\" \"User Commands\"\n"
           ".SH NAME\ncairn \\- run durable workflows and manage their "
           "checkpoints\n"
           ".SH SYNOPSIS\n.B cairn\n.I COMMAND\n.RI [ OPTIONS ]\n"
           ".br\n.B cairn help\n.RI [ COMMAND ]\n"
           ".br\n.B cairn \\-\\-version\n"
           ".SH DESCRIPTION\n"
           "cairn runs workflow specs (JSON) durably: every superstep can "
           "leave a checkpoint in a RocksDB store, and an interrupted run "
           "resumes from it. Workflow outputs and \\-\\-json objects go to "
           "stdout, everything else to stderr. Each command below takes "
           "\\fB\\-\\-help\\fR.\n"
           ".SH COMMANDS\n",
           CAIRN_CLI_VERSION);
    fflush(stdout);
    for (size_t i = 0; i < s_command_count; i++) {
        char *man_argv[] = {(char *)s_commands[i].name, "--help-man", NULL};
        if (s_dispatch(&s_commands[i], 2, man_argv) != CLI_EXIT_OK)
            return CLI_EXIT_FAILED;
    }
    printf(".SH ENVIRONMENT\n.TP\n.B CAIRN_DB\n"
           "The store directory of a command given no \\fB\\-\\-db\\fR "
           "(when set and not empty); \\fB\\-\\-db\\fR wins. Default: "
           "\\fI./.cairn\\fR.\n"
           ".SH EXIT STATUS\n"
           "0 completed, 1 failed (or an internal or storage error), 2 usage "
           "or bad input, 3 waiting for responses, 4 max supersteps reached, "
           "5 paused or cancelled.\n"
           ".SH SEE ALSO\n"
           "docs/cli.md in the cairn sources: every command in detail.\n");
    return CLI_EXIT_OK;
}

/* `cairn help --commands`: every command's name, one a line (what bash
 * completes after `cairn `). */
static int
s_command_names(void)
{
    for (size_t i = 0; i < s_command_count; i++)
        printf("%s\n", s_commands[i].name);
    printf("help\nversion\n");
    return CLI_EXIT_OK;
}

/* `cairn help [COMMAND]`, `cairn help --man`, `cairn help --commands`. */
static int
s_help(int argc, char **argv)
{
    if (argc < 3)
        return s_usage(stdout);
    if (strcmp(argv[2], "--man") == 0)
        return s_man();
    if (strcmp(argv[2], "--commands") == 0)
        return s_command_names();
    if (strcmp(argv[2], "help") == 0 || strcmp(argv[2], "version") == 0)
        return s_usage(stdout);
    const cli_command_t *command = cli_command_find(argv[2]);
    if (!command)
        return s_unknown_command(argv[2]);
    char *help_argv[] = {(char *)command->name, "--help", NULL};
    return s_dispatch(command, 2, help_argv);
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
    if (strcmp(argv[1], "help") == 0)
        return s_help(argc, argv);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return s_usage(stdout);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("cairn %s\n", CAIRN_CLI_VERSION);
        return CLI_EXIT_OK;
    }
    cairn_log_set_sink(s_log_sink, NULL);
    const cli_command_t *command = cli_command_find(argv[1]);
    if (!command)
        return s_unknown_command(argv[1]);
    return s_dispatch(command, argc - 1, argv + 1);
}
