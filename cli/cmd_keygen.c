/* cmd_keygen.c - `cairn keygen DIR`: a CURVE key pair for a coordinator
 * or a worker (cairn/curve.h, docs/workers.md). */
#include <stdio.h>

#include "cli/cli.h"

int
cli_cmd_keygen(int argc, char **argv)
{
    const char *dir = NULL;
    int exit_code = cli_parse(argc, argv, NULL, 0, 1, &dir);
    if (exit_code != CLI_EXIT_OK)
        return exit_code;
    cairn_error_t err;
    if (cairn_curve_keygen(dir, &err) != CAIRN_OK)
        return cli_fail(&err);
    printf("%s/key\n%s/key.pub\n", dir, dir);
    fprintf(stderr,
            "cairn: wrote the secret key %s/key (keep it private) and the "
            "public key %s/key.pub (give it to the other side)\n",
            dir, dir);
    return CLI_EXIT_OK;
}
