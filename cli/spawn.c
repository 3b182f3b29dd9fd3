/* spawn.c - `--spawn-workers N`: local worker processes for one run.
 *
 * The multi-process deployment on one machine: N copies of this program
 * run `cairn worker` over an ipc endpoint private to the run, and are
 * stopped and reaped when the run ends, so nothing is left behind.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define S_STOP_WAIT_MS 2000

/* Builds the worker command line: worker --connect E --give-up-after 10
 * [--plugin P]... [--allow-exec], NULL-terminated. Caller frees. */
static char **
s_worker_argv(const char *endpoint, const char *const *plugins,
              size_t plugin_count, bool allow_exec)
{
    size_t n = 6 + 2 * plugin_count + 2;
    char **argv = calloc(n, sizeof *argv);
    if (!argv)
        return NULL;
    size_t i = 0;
    argv[i++] = (char *)"cairn";
    argv[i++] = (char *)"worker";
    argv[i++] = (char *)"--connect";
    argv[i++] = (char *)endpoint;
    argv[i++] = (char *)"--give-up-after";
    argv[i++] = (char *)"10";
    for (size_t p = 0; p < plugin_count; p++) {
        argv[i++] = (char *)"--plugin";
        argv[i++] = (char *)plugins[p];
    }
    if (allow_exec)
        argv[i++] = (char *)"--allow-exec";
    return argv;
}

int
cli_spawn_workers(size_t count, const char *endpoint,
                  const char *const *plugins, size_t plugin_count,
                  bool allow_exec, pid_t *pids)
{
    char **argv = s_worker_argv(endpoint, plugins, plugin_count, allow_exec);
    if (!argv)
        return CLI_EXIT_FAILED;
    fflush(NULL);
    int exit_code = CLI_EXIT_OK;
    for (size_t i = 0; i < count; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            execv("/proc/self/exe", argv);
            _exit(127);
        }
        if (pids[i] < 0) {
            cli_error("cannot start worker process %zu", i + 1);
            exit_code = CLI_EXIT_FAILED;
            break;
        }
    }
    free(argv);
    return exit_code;
}

void
cli_reap_workers(pid_t *pids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    /* Bounded: a worker that does not stop in time is killed. */
    for (size_t i = 0; i < count; i++) {
        if (pids[i] <= 0)
            continue;
        int waited = 0;
        while (waitpid(pids[i], NULL, WNOHANG) == 0) {
            if (waited >= S_STOP_WAIT_MS) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], NULL, 0);
                break;
            }
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
            waited += 10;
        }
        pids[i] = 0;
    }
}
