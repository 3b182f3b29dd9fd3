/* cmd_control.c - `cairn pause`, `cairn cancel`, the control endpoint a
 * CLI run serves, and what SIGINT / SIGTERM do to it.
 *
 * pause and cancel find a live run's control endpoint in its run record
 * (the store opened read-only, beside the writer) and send it one Control
 * request with a bounded wait. `cairn run` and `cairn resume` serve one
 * at ipc:///tmp/cairn-UID/ctl-PID.ipc: one run per process, in a
 * directory only its user may enter (private_dir.c).
 *
 * Signals: the first SIGINT, SIGTERM or SIGHUP (a closed terminal) asks
 * the run to pause at its next barrier (an atomic store:
 * async-signal-safe); the second stops the process at once with the
 * signal's default action (exit status 128+N): the socket files are
 * removed first, and the last checkpoint stands, so the run resumes like
 * after a kill.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

#define S_REQUEST_TIMEOUT_MS 3000
#define S_STATUS_TIMEOUT_MS 250

/* What the signal handler may touch: set before it is installed. */
static cairn_run_control_t *s_control;
static char s_socket_paths[2][CAIRN_CONTROL_ENDPOINT_MAX];
static volatile sig_atomic_t s_signals;
static const int s_caught[] = {SIGINT, SIGTERM, SIGHUP};
#define S_CAUGHT (sizeof s_caught / sizeof s_caught[0])
static struct sigaction s_old[S_CAUGHT];

bool
cli_control_endpoint(char *out, size_t size)
{
    char why[128];
    if (cli_private_endpoint(out, size, "ctl", why, sizeof why))
        return true;
    cli_error("warning: %s: the run has no control endpoint", why);
    return false;
}

static void
s_on_signal(int sig)
{
    if (s_signals++ == 0 && s_control) {
        cairn_run_control_pause(s_control);
        static const char note[] =
            "\ncairn: pausing at the next barrier (interrupt again to stop "
            "at once)\n";
        ssize_t ignored = write(STDERR_FILENO, note, sizeof note - 1);
        (void)ignored;
        return;
    }
    for (size_t i = 0; i < 2; i++)
        if (s_socket_paths[i][0])
            unlink(s_socket_paths[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The file of an ipc:// endpoint (NULL: none) into path. */
static void
s_socket_path(char *path, size_t size, const char *endpoint)
{
    bool ipc = endpoint && strncmp(endpoint, "ipc://", 6) == 0;
    snprintf(path, size, "%s", ipc ? endpoint + 6 : "");
}

void
cli_signals_install(cairn_run_control_t *control, const char *ctl_endpoint,
                    const char *events_endpoint)
{
    s_control = control;
    s_socket_path(s_socket_paths[0], sizeof s_socket_paths[0], ctl_endpoint);
    s_socket_path(s_socket_paths[1], sizeof s_socket_paths[1],
                  events_endpoint);
    s_signals = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < S_CAUGHT; i++)
        sigaction(s_caught[i], &action, &s_old[i]);
}

void
cli_signals_restore(void)
{
    for (size_t i = 0; i < S_CAUGHT; i++)
        sigaction(s_caught[i], &s_old[i], NULL);
    s_control = NULL;
    s_socket_paths[0][0] = s_socket_paths[1][0] = '\0';
}

bool
cli_live_superstep(const cairn_run_info_t *run, uint64_t *superstep,
                   const char **status)
{
    static char live_status[16];
    if (strcmp(run->status, "running") != 0 || !run->control_endpoint[0]
        || !cairn_run_process_alive(run))
        return false;
    cairn_control_reply_t reply;
    cairn_error_t err;
    if (cairn_control_send(run->control_endpoint, run->id, CAIRN_CONTROL_STATUS,
                           S_STATUS_TIMEOUT_MS, &reply, &err)
        != CAIRN_OK)
        return false;
    *superstep = reply.superstep;
    snprintf(live_status, sizeof live_status, "%s", reply.status);
    *status = live_status;
    return true;
}

/* pause and cancel: one request to the run's endpoint. */
static int
s_request(int argc, char **argv, cairn_control_op_t op)
{
    const char *db = CLI_DEFAULT_DB;
    const char *run_id = NULL;
    const cli_option_t options[] = {CLI_OPTION_DB(&db)};
    int exit_code = cli_parse(argc, argv, options, 1, 1, &run_id);
    cairn_store_t *store = NULL;
    cairn_run_info_t *info = NULL;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_run(db, run_id, &store, &info);
    if (exit_code != CLI_EXIT_OK)
        goto done;
    bool running = strcmp(info->status, "running") == 0;
    if (!running || !cairn_run_process_alive(info)) {
        cli_error("run %s is not live (%s): nothing to %s", run_id,
                  running ? "its process is gone" : info->status, argv[0]);
        exit_code = CLI_EXIT_FAILED;
    } else if (!info->control_endpoint[0]) {
        cli_error("run %s has no control endpoint (its driver did not ask "
                  "for one)",
                  run_id);
        exit_code = CLI_EXIT_FAILED;
    } else {
        cairn_control_reply_t reply;
        if (cairn_control_send(info->control_endpoint, run_id, op,
                               S_REQUEST_TIMEOUT_MS, &reply, &err)
            != CAIRN_OK) {
            cli_error("%s", err.message);
            exit_code = CLI_EXIT_FAILED;
        } else {
            fprintf(stderr, "run %s: %s\n", run_id, reply.text);
        }
    }
done:
    cairn_run_info_destroy(&info, info ? 1 : 0);
    cairn_store_destroy(&store);
    return exit_code;
}

int
cli_cmd_pause(int argc, char **argv)
{
    return s_request(argc, argv, CAIRN_CONTROL_PAUSE);
}

int
cli_cmd_cancel(int argc, char **argv)
{
    return s_request(argc, argv, CAIRN_CONTROL_CANCEL);
}
