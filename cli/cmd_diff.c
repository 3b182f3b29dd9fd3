/* cmd_diff.c - `cairn diff RUN_A RUN_B` (placeholder until it lands). */
#include "cli/cli.h"

int
cli_cmd_diff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("diff: not yet implemented");
    return CLI_EXIT_USAGE;
}
