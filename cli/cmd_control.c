/* cmd_control.c - `cairn pause`, `cairn cancel`, the control endpoint a
 * CLI run serves, and what SIGINT / SIGTERM do to it.
 *
 * pause and cancel find a live run's control endpoint in its run record
 * (the store opened read-only, beside the writer) and send it one Control
 * request with a bounded wait. `cairn run` and `cairn resume` serve one
 * at ipc:///tmp/cairn-UID/ctl-PID.ipc: one run per process, in a
 * directory only its user may enter, well under the 107-byte ipc limit.
 *
 * Signals: the first SIGINT or SIGTERM asks the run to pause at its next
 * barrier (an atomic store: async-signal-safe); the second stops the
 * process at once with the signal's default action (exit status 128+N):
 * the socket file is removed first, and the last checkpoint stands, so
 * the run resumes like after a kill.
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
static char s_socket_path[CAIRN_CONTROL_ENDPOINT_MAX];
static volatile sig_atomic_t s_signals;
static struct sigaction s_old_int, s_old_term;

bool
cli_private_endpoint(char *out, size_t size, const char *name, char *why,
                     size_t why_size)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/cairn-%lu", (unsigned long)getuid());
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, why_size, "cannot create %s (%s)", dir, strerror(errno));
        return false;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()
        || (st.st_mode & 0077) != 0) {
        snprintf(why, why_size, "%s is not a directory only we own", dir);
        return false;
    }
    snprintf(out, size, "ipc://%s/%s-%ld.ipc", dir, name, (long)getpid());
    return true;
}

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
    if (s_socket_path[0])
        unlink(s_socket_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

void
cli_signals_install(cairn_run_control_t *control, const char *endpoint)
{
    s_control = control;
    snprintf(s_socket_path, sizeof s_socket_path, "%s",
             endpoint ? endpoint + strlen("ipc://") : "");
    s_signals = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &s_old_int);
    sigaction(SIGTERM, &action, &s_old_term);
}

void
cli_signals_restore(void)
{
    sigaction(SIGINT, &s_old_int, NULL);
    sigaction(SIGTERM, &s_old_term, NULL);
    s_control = NULL;
    s_socket_path[0] = '\0';
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
    const cli_option_t options[] = {{"db", CLI_OPT_TEXT, &db}};
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
    cairn_run_infos_free(info, info ? 1 : 0);
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
