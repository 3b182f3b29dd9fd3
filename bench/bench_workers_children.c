/* bench_workers_children.c - the child processes of cairn-bench-workers.
 *
 * The program starts its children by re-executing itself (/proc/self/exe
 * --echo / --worker ...); this file holds both sides of that: spawning,
 * the table of children not yet reaped and reaping them (SIGTERM, a
 * bounded wait, then SIGKILL), the child modes themselves, and what the
 * two sides must agree on, the endpoints and the CURVE keys. Children die
 * with the coordinator (PR_SET_PDEATHSIG). The table is touched from the
 * coordinator's main thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include <cairn/cairn.h>

#include "bench_util.h"
#include "bench_workers_internal.h"

#define S_MAX_CHILDREN 64     /* children alive at once, at most */
#define S_REAP_MS 3000        /* wait this long after SIGTERM, then SIGKILL */

/* --curve: every worker connection uses CURVE. Keys go to a fresh
 * directory named in CAIRN_BENCH_CURVE, which the worker processes
 * inherit. */
char bw_curve_paths[4][300]; /* server secret, allow dir, worker
                              secret, server public */

static int
s_curve_paths_fill(const char *dir)
{
    snprintf(bw_curve_paths[0], sizeof bw_curve_paths[0], "%s/server/key", dir);
    snprintf(bw_curve_paths[1], sizeof bw_curve_paths[1], "%s/worker", dir);
    snprintf(bw_curve_paths[2], sizeof bw_curve_paths[2], "%s/worker/key", dir);
    snprintf(bw_curve_paths[3], sizeof bw_curve_paths[3], "%s/server/key.pub",
             dir);
    return 0;
}

int
bw_curve_setup(void)
{
    static char dir[] = "/tmp/cairn-bench-curve-XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char sub[300];
    cairn_error_t err;
    snprintf(sub, sizeof sub, "%s/server", dir);
    if (cairn_curve_keygen(sub, &err) != 0)
        return -1;
    snprintf(sub, sizeof sub, "%s/worker", dir);
    if (cairn_curve_keygen(sub, &err) != 0)
        return -1;
    /* worker/ holds key and key.pub (the same key twice): allow only
     * the .pub, from its own directory. */
    snprintf(sub, sizeof sub, "%s/allow", dir);
    char from[300], to[300];
    snprintf(from, sizeof from, "%s/worker/key.pub", dir);
    snprintf(to, sizeof to, "%s/allow/worker.pub", dir);
    if (mkdir(sub, 0700) != 0 || link(from, to) != 0)
        return -1;
    setenv("CAIRN_BENCH_CURVE", dir, 1);
    return 0;
}

/* The CURVE key paths when --curve was given (here or in the parent). */
bool
bw_curve(void)
{
    const char *dir = getenv("CAIRN_BENCH_CURVE");
    if (!dir)
        return false;
    s_curve_paths_fill(dir);
    snprintf(bw_curve_paths[1], sizeof bw_curve_paths[1], "%s/allow", dir);
    return true;
}

/* Child processes this program started and has not reaped. */
static pid_t s_children[S_MAX_CHILDREN];
static size_t s_child_count;

/* Set by SIGTERM in a --worker child: cairn_worker_run returns. */
static volatile int s_worker_stop;

/* --------------------------------------------------------------------- */
/* Endpoints and child processes                                         */

/* A fresh endpoint for transport t: an ipc path under /tmp, or a free
 * loopback TCP port (asked from the kernel, then released). */
int
bw_endpoint(const char *t, const char *tag, char *out, size_t size)
{
    if (strcmp(t, "ipc") == 0) {
        snprintf(out, size, "ipc:///tmp/cairn-bench-workers-%ld-%s.sock",
                 (long)getpid(), tag);
        unlink(out + strlen("ipc://"));
        return 0;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0
        || getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    snprintf(out, size, "tcp://127.0.0.1:%u", ntohs(addr.sin_port));
    return 0;
}

/* Removes an ipc endpoint's file (nothing for tcp). */
void
bw_endpoint_cleanup(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0)
        unlink(endpoint + 6);
}

/* Starts `self_exe args...` as a child that dies with this process;
 * keep_fd (>= 0) stays open across exec. Returns its pid or -1. Only
 * async-signal-safe calls between fork and exec (this process has
 * threads). */
pid_t
bw_spawn(const bench_cfg_t *cfg, char *const args[], int keep_fd)
{
    if (s_child_count == S_MAX_CHILDREN)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        if (keep_fd >= 0)
            fcntl(keep_fd, F_SETFD, 0);
        execv(cfg->self_exe, args);
        _exit(127);
    }
    if (pid > 0)
        s_children[s_child_count++] = pid;
    return pid;
}

/* Forgets a child that has been waited for. */
static void
s_forget_child(pid_t pid)
{
    for (size_t i = 0; i < s_child_count; i++)
        if (s_children[i] == pid) {
            s_children[i] = s_children[--s_child_count];
            return;
        }
}

/* Waits for a child that is known to be dead (SIGKILLed). */
void
bw_reap_dead(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s_forget_child(pid);
}

/* Ends every child: SIGTERM, up to S_REAP_MS for them to exit, then
 * SIGKILL for the rest; waits for all of them. */
void
bw_reap_all(void)
{
    for (size_t i = 0; i < s_child_count; i++)
        kill(s_children[i], SIGTERM);
    double deadline = bench_now() + S_REAP_MS / 1000.0;
    while (s_child_count > 0 && bench_now() < deadline) {
        for (size_t i = 0; i < s_child_count;)
            if (waitpid(s_children[i], NULL, WNOHANG) == s_children[i])
                s_children[i] = s_children[--s_child_count];
            else
                i++;
        if (s_child_count > 0)
            usleep(10000);
    }
    for (size_t i = 0; i < s_child_count; i++) {
        fprintf(stderr, "cairn-bench-workers: child %ld ignored SIGTERM; "
                        "killing it\n", (long)s_children[i]);
        kill(s_children[i], SIGKILL);
        while (waitpid(s_children[i], NULL, 0) < 0 && errno == EINTR)
            ;
    }
    s_child_count = 0;
}

/* --------------------------------------------------------------------- */
/* Child modes                                                           */

/* --echo ENDPOINT: a DEALER that says hello and echoes every frame. */
int
bw_echo_main(const char *endpoint)
{
    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
    if (!sock || zmq_connect(sock, endpoint) != 0
        || zmq_send(sock, "hello", 5, 0) != 5)
        return 1;
    uint8_t frame[BENCH_FRAME_BYTES];
    for (;;) {
        int n = zmq_recv(sock, frame, sizeof frame, 0);
        if (n < 0 && zmq_errno() != EINTR)
            break;
        if (n >= 0)
            zmq_send(sock, frame, (size_t)n, 0);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}

static void
s_on_sigterm(int sig)
{
    (void)sig;
    s_worker_stop = 1;
}

/* --worker ENDPOINT HEARTBEAT_MS [TOKEN FD]: a cairn worker offering the
 * bench types until SIGTERM (or 60 s without a coordinator). */
int
bw_worker_main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = s_on_sigterm};
    sigaction(SIGTERM, &sa, NULL);
    cairn_log_set_sink(bw_log_sink, NULL);
    if (argc >= 6)
        bw_kill_step_arm(argv[4], atoi(argv[5]));
    cairn_registry_t *registry = cairn_registry_new();
    if (!registry || bw_registry_fill(registry) < 0)
        return 1;
    cairn_worker_options_t opts = {.endpoint = argv[2],
                                   .heartbeat_ms = (uint32_t)atoi(argv[3]),
                                   .give_up_after_ms = 60000,
                                   .stop = &s_worker_stop};
    if (bw_curve()) {
        opts.curve_secret = bw_curve_paths[2];
        opts.server_key = bw_curve_paths[3];
    }
    cairn_error_t err;
    int rc = cairn_worker_run(registry, &opts, &err);
    if (rc != 0)
        fprintf(stderr, "cairn-bench-workers: worker: %s\n", err.message);
    cairn_registry_destroy(&registry);
    return rc == 0 ? 0 : 1;
}

/* Starts one worker process on endpoint; token/fd only for the kill
 * scenario (NULL / -1). */
pid_t
bw_spawn_worker(const bench_cfg_t *cfg, const char *endpoint,
                uint32_t heartbeat_ms, const char *token, int fd)
{
    char beat[16], fdtext[16];
    snprintf(beat, sizeof beat, "%u", heartbeat_ms);
    snprintf(fdtext, sizeof fdtext, "%d", fd);
    char *args[] = {(char *)cfg->self_exe, "--worker", (char *)endpoint,
                    beat, (char *)token, fdtext, NULL};
    if (!token)
        args[4] = NULL;
    return bw_spawn(cfg, args, fd);
}
