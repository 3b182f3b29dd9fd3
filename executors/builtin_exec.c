/* builtin_exec.c - util.exec: run a program with the payload on stdin
 * and send its stdout on (include/cairn/builtins.h).
 *
 * util.exec reaches outside the process on purpose; it runs only when the
 * registry was filled with allow_exec (the permission lives in which
 * handler is registered, cairn__builtin_exec or cairn__builtin_exec_refused,
 * not in any global). The child gets its own process group, default
 * signal dispositions and an empty signal mask; a timeout kills the
 * group.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "cairn/context.h"
#include "cairn/engine.h"
#include "executors/builtins_internal.h"

extern char **environ;

#define S_EXEC_DEFAULT_TIMEOUT_MS 10000
#define S_STDERR_KEEP 300 /* stderr bytes kept for the error */
#define S_IO_CHUNK 65536

static int64_t
s_now_ms(void)
{
    return (int64_t)(cairn__monotonic_us() / 1000);
}

/* ------------------------------------------------------------------ */
/* util.exec: configuration                                            */

typedef struct {
    char **argv;        /* owned, NULL-terminated, ${VAR} expanded */
    size_t argc;        /* >= 1 */
    int64_t timeout_ms; /* the child is killed after this long */
    int64_t max_output; /* stdout bytes allowed */
} s_exec_t;

static void
s_exec_fini(void *instance)
{
    s_exec_t *self = instance;
    if (!self)
        return;
    for (size_t i = 0; self->argv && i < self->argc; i++)
        free(self->argv[i]);
    free(self->argv);
    free(self);
}

/* Reads config field "argv": a non-empty array of strings. */
static int
s_exec_read_argv(s_exec_t *self, const cairn__config_t *cfg, cairn_error_t *err)
{
    json_t *argv = json_object_get(cfg->root, "argv");
    if (!json_is_array(argv) || json_array_size(argv) == 0)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "util.exec: config field 'argv' %s a "
                               "non-empty array of strings",
                               argv ? "must be" : "is required:");
    self->argv = calloc(json_array_size(argv) + 1, sizeof *self->argv);
    if (!self->argv)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    size_t i;
    json_t *item;
    json_array_foreach(argv, i, item)
    {
        char what[32];
        snprintf(what, sizeof what, "argv[%zu]", i);
        if (!json_is_string(item))
            return cairn_error_set(err, CAIRN_EINVAL,
                                   "util.exec: config field '%s' must be a "
                                   "string",
                                   what);
        int rc = cairn__config_expand(cfg, what, json_string_value(item),
                                      &self->argv[i], err);
        if (rc != CAIRN_OK)
            return rc;
        self->argc = i + 1;
    }
    return CAIRN_OK;
}

static int
s_exec_init(void **instance, const uint8_t *config, size_t len,
            cairn_error_t *err)
{
    *instance = NULL;
    s_exec_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__config_t cfg;
    int rc = cairn__config_open(&cfg, "util.exec", config, len, err);
    if (rc == CAIRN_OK)
        rc = s_exec_read_argv(self, &cfg, err);
    if (rc == CAIRN_OK)
        rc = cairn__config_int(&cfg, "timeout_ms", false,
                               S_EXEC_DEFAULT_TIMEOUT_MS, 1, CAIRN__MAX_MS,
                               &self->timeout_ms, err);
    if (rc == CAIRN_OK)
        rc = cairn__config_int(&cfg, "max_output_bytes", false,
                               (int64_t)CAIRN_DEFAULT_MAX_MESSAGE_SIZE, 0,
                               INT32_MAX, &self->max_output, err);
    cairn__config_close(&cfg);
    if (rc != CAIRN_OK) {
        s_exec_fini(self);
        return rc;
    }
    *instance = self;
    return CAIRN_OK;
}

/* ------------------------------------------------------------------ */
/* util.exec: running the child                                        */

/* One child process and the parent's ends of its pipes (-1 = closed). */
typedef struct {
    pid_t pid;
    int in_fd;  /* writes the payload to the child's stdin */
    int out_fd; /* reads the child's stdout */
    int err_fd; /* reads the child's stderr */
} s_child_t;

/* How the conversation with a child ended. */
typedef enum {
    S_TALK_DONE = 0,  /* stdout and stderr reached end of file */
    S_TALK_TIMEOUT,   /* the deadline passed */
    S_TALK_TOO_LARGE, /* stdout exceeded max_output */
    S_TALK_IO_ERROR,  /* poll/read failed or out of memory */
} s_talk_t;

static void
s_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The environment of the child: ours plus CAIRN_RUN_ID, CAIRN_EXECUTOR_ID,
 * CAIRN_SUPERSTEP, CAIRN_ATTEMPT and CAIRN_IDEMPOTENCY_KEY (replacing any
 * inherited ones), so a program can deduplicate its side effects.
 * Returns a malloc'd array whose last 5 entries are malloc'd; NULL on
 * out-of-memory. */
static char **
s_child_env(cairn_ctx_t *ctx)
{
    static const char *const names[] = {
        "CAIRN_RUN_ID=", "CAIRN_EXECUTOR_ID=", "CAIRN_SUPERSTEP=",
        "CAIRN_ATTEMPT=", "CAIRN_IDEMPOTENCY_KEY="};
    size_t count = 0;
    while (environ[count])
        count++;
    char **env = calloc(count + 6, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        bool ours = false;
        for (size_t j = 0; j < 5; j++)
            ours = ours || strncmp(environ[i], names[j], strlen(names[j])) == 0;
        if (!ours)
            env[n++] = environ[i];
    }
    char **extra = env + n;
    extra[0] = cairn__strprintf("%s%s", names[0], cairn_ctx_run_id(ctx));
    extra[1] = cairn__strprintf("%s%s", names[1], cairn_ctx_executor_id(ctx));
    extra[2] = cairn__strprintf("%s%llu", names[2],
                                (unsigned long long)cairn_ctx_superstep(ctx));
    extra[3] =
        cairn__strprintf("%s%u", names[3], (unsigned)cairn_ctx_attempt(ctx));
    extra[4] =
        cairn__strprintf("%s%s", names[4], cairn_ctx_idempotency_key(ctx));
    bool ok = extra[0] && extra[1] && extra[2] && extra[3] && extra[4];
    if (!ok) {
        for (size_t j = 0; j < 5; j++)
            free(extra[j]);
        free(env);
        return NULL;
    }
    return env;
}

static void
s_child_env_free(char **env)
{
    if (!env)
        return;
    size_t n = 0;
    while (env[n])
        n++;
    for (size_t j = n - 5; j < n; j++)
        free(env[j]);
    free(env);
}

/* Spawns argv with three fresh pipes as stdin/stdout/stderr, in its own
 * process group (so a timeout kills what it started too), with default
 * signal dispositions and an empty signal mask. posix_spawn rather than
 * fork: we are on a host thread of a multi-threaded process, where only
 * async-signal-safe calls are allowed between fork and exec, and spawn
 * reports exec failures as a return code. The pipes are O_CLOEXEC so
 * children spawned concurrently by other threads do not inherit them.
 * Returns 0 or an errno value. */
static int
s_child_spawn(const s_exec_t *self, char **env, s_child_t *child)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0
        || pipe2(err, O_CLOEXEC) != 0) {
        int saved = errno;
        for (int i = 0; i < 2; i++) {
            s_close_fd(&in[i]);
            s_close_fd(&out[i]);
            s_close_fd(&err[i]);
        }
        return saved;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGHUP);
    sigaddset(&defaults, SIGQUIT);
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP
                                        | POSIX_SPAWN_SETSIGMASK
                                        | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    int rc = posix_spawnp(&child->pid, self->argv[0], &actions, &attr,
                          self->argv, env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    s_close_fd(&in[0]);
    s_close_fd(&out[1]);
    s_close_fd(&err[1]);
    child->in_fd = in[1];
    child->out_fd = out[0];
    child->err_fd = err[0];
    if (rc != 0) {
        s_close_fd(&child->in_fd);
        s_close_fd(&child->out_fd);
        s_close_fd(&child->err_fd);
    }
    return rc;
}

/* Writes the next chunk of input; closes stdin when all is written or
 * the child stopped reading (EPIPE is not an error: many programs do not
 * read their input). */
static void
s_talk_write(s_child_t *child, const uint8_t *input, size_t len,
             size_t *written)
{
    size_t chunk = len - *written < S_IO_CHUNK ? len - *written : S_IO_CHUNK;
    ssize_t n = write(child->in_fd, input + *written, chunk);
    if (n > 0)
        *written += (size_t)n;
    if (*written == len || (n < 0 && errno != EAGAIN && errno != EINTR))
        s_close_fd(&child->in_fd);
}

/* Reads what is there from *fd into buf, keeping at most keep bytes
 * (the rest is read and dropped). Closes *fd at end of file. Returns
 * false on a read error or out-of-memory. */
static bool
s_talk_read(int *fd, cairn__buf_t *buf, size_t keep)
{
    uint8_t chunk[S_IO_CHUNK];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n == 0)
        s_close_fd(fd);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    size_t take = (size_t)n;
    if (buf->len + take > keep)
        take = keep > buf->len ? keep - buf->len : 0;
    return cairn__buf_append(buf, chunk, take);
}

/* Feeds input to the child and collects stdout (up to max_output + 1
 * bytes, to notice overflow) and the start of stderr, until both reach
 * end of file, the deadline passes or stdout grows too large. */
static s_talk_t
s_child_talk(s_child_t *child, const uint8_t *input, size_t len,
             int64_t deadline, size_t max_output, cairn__buf_t *out,
             cairn__buf_t *err)
{
    size_t written = 0;
    if (len == 0)
        s_close_fd(&child->in_fd);
    int *fds[3] = {&child->in_fd, &child->out_fd, &child->err_fd};
    for (int i = 0; i < 3; i++)
        if (*fds[i] >= 0)
            fcntl(*fds[i], F_SETFL, fcntl(*fds[i], F_GETFL) | O_NONBLOCK);
    while (child->out_fd >= 0 || child->err_fd >= 0) {
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            return S_TALK_TIMEOUT;
        struct pollfd polls[3];
        for (int i = 0; i < 3; i++)
            polls[i] = (struct pollfd){*fds[i], i == 0 ? POLLOUT : POLLIN, 0};
        if (poll(polls, 3, left > 1000 ? 1000 : (int)left) < 0) {
            if (errno == EINTR)
                continue;
            return S_TALK_IO_ERROR;
        }
        if (polls[0].revents)
            s_talk_write(child, input, len, &written);
        if (polls[1].revents
            && !s_talk_read(&child->out_fd, out, max_output + 1))
            return S_TALK_IO_ERROR;
        if (out->len > max_output)
            return S_TALK_TOO_LARGE;
        if (polls[2].revents
            && !s_talk_read(&child->err_fd, err, S_STDERR_KEEP))
            return S_TALK_IO_ERROR;
    }
    return S_TALK_DONE;
}

/* Waits for the child to exit; kills its process group at the deadline
 * (or at once when kill_now). Always reaps, so no zombie is left. Returns
 * true when it had to kill. */
static bool
s_child_reap(const s_child_t *child, int64_t deadline, bool kill_now,
             int *status)
{
    long pause_us = 100;
    bool killed = false;
    for (;;) {
        if (kill_now || s_now_ms() >= deadline) {
            kill(-child->pid, SIGKILL);
            kill(child->pid, SIGKILL); /* in case setpgid did not happen */
            killed = true;
        }
        pid_t got = waitpid(child->pid, status, killed ? 0 : WNOHANG);
        if (got == child->pid || (got < 0 && errno != EINTR))
            return killed;
        if (got == 0) {
            struct timespec ts = {0, pause_us * 1000};
            nanosleep(&ts, NULL);
            pause_us = pause_us < 10000 ? pause_us * 2 : pause_us;
        }
    }
}

/* Blocks SIGPIPE for this thread while we write to a child's stdin: a
 * child that exits without reading must give us EPIPE, not kill the
 * process. */
static bool
s_sigpipe_block(sigset_t *old)
{
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, old);
    return sigismember(old, SIGPIPE) == 1;
}

/* Discards a SIGPIPE our writes raised, then restores the mask. */
static void
s_sigpipe_restore(const sigset_t *old, bool was_blocked)
{
    if (!was_blocked) {
        sigset_t pending, pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        struct timespec zero = {0, 0};
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
            sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Fails the handler with why the child did not succeed; stderr's start
 * is quoted when there is some. */
static int
s_exec_failure(cairn_ctx_t *ctx, const s_exec_t *self, s_talk_t talk,
               int status, const cairn__buf_t *err)
{
    const char *prog = self->argv[0];
    char stderr_text[S_STDERR_KEEP + 1];
    size_t n = err->len;
    while (n > 0 && (err->data[n - 1] == '\n' || err->data[n - 1] == '\r'))
        n--;
    for (size_t i = 0; i < n; i++)
        stderr_text[i] = err->data[i] == '\n' ? ' ' : (char)err->data[i];
    stderr_text[n] = '\0';
    const char *sep = n ? ": " : "";
    if (talk == S_TALK_TIMEOUT)
        return cairn_ctx_fail(ctx,
                              "util.exec: '%s' timed out after %lld ms "
                              "and was killed%s%s",
                              prog, (long long)self->timeout_ms, sep,
                              stderr_text);
    if (talk == S_TALK_TOO_LARGE)
        return cairn_ctx_fail(ctx,
                              "util.exec: '%s' wrote more than %lld "
                              "bytes to stdout and was killed",
                              prog, (long long)self->max_output);
    if (talk == S_TALK_IO_ERROR)
        return cairn_ctx_fail(ctx, "util.exec: talking to '%s' failed", prog);
    if (WIFSIGNALED(status))
        return cairn_ctx_fail(ctx,
                              "util.exec: '%s' was killed by signal %d "
                              "(SIG%s)%s%s",
                              prog, WTERMSIG(status),
                              sigabbrev_np(WTERMSIG(status))
                                  ? sigabbrev_np(WTERMSIG(status))
                                  : "?",
                              sep, stderr_text);
    return cairn_ctx_fail(ctx, "util.exec: '%s' exited with status %d%s%s",
                          prog, WEXITSTATUS(status), sep, stderr_text);
}

/* Runs the child to its end and reports: sends stdout on success. */
static int
s_exec_child(cairn_ctx_t *ctx, const cairn_msg_t *msg, const s_exec_t *self,
             s_child_t *child)
{
    size_t len;
    const uint8_t *input = cairn_msg_payload(msg, &len);
    int64_t deadline = s_now_ms() + self->timeout_ms;
    cairn__buf_t out = {0}, err = {0};
    s_talk_t talk = s_child_talk(child, input, len, deadline,
                                 (size_t)self->max_output, &out, &err);
    s_close_fd(&child->in_fd);
    s_close_fd(&child->out_fd);
    s_close_fd(&child->err_fd);
    int status = 0;
    if (s_child_reap(child, deadline, talk != S_TALK_DONE, &status)
        && talk == S_TALK_DONE)
        talk = S_TALK_TIMEOUT;
    int rc =
        talk == S_TALK_DONE && WIFEXITED(status) && WEXITSTATUS(status) == 0
            ? cairn__send_on(ctx, msg, out.data, out.len)
            : s_exec_failure(ctx, self, talk, status, &err);
    cairn__buf_free(&out);
    cairn__buf_free(&err);
    return rc;
}

static int
s_exec(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const s_exec_t *self = cairn_ctx_instance(ctx);
    char **env = s_child_env(ctx);
    if (!env)
        return cairn_ctx_fail(ctx, "out of memory");
    sigset_t old_mask;
    bool was_blocked = s_sigpipe_block(&old_mask);
    s_child_t child = {-1, -1, -1, -1};
    int spawn_rc = s_child_spawn(self, env, &child);
    int rc;
    if (spawn_rc != 0) {
        char why[128];
        rc = cairn_ctx_fail(ctx, "util.exec: cannot start '%s': %s",
                            self->argv[0],
                            cairn__errno_text(spawn_rc, why, sizeof why));
    } else {
        rc = s_exec_child(ctx, msg, self, &child);
    }
    s_sigpipe_restore(&old_mask, was_blocked);
    s_child_env_free(env);
    return rc;
}

/* The handler registered when exec is not allowed. */
static int
s_exec_refused(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)msg;
    return cairn_ctx_fail(ctx, "util.exec is not allowed: start the run with "
                               "--allow-exec");
}

const cairn_executor_type_t cairn__builtin_exec = {
    "util.exec", s_exec, s_exec_init, s_exec_fini, NULL};
const cairn_executor_type_t cairn__builtin_exec_refused = {
    "util.exec", s_exec_refused, s_exec_init, s_exec_fini, NULL};
