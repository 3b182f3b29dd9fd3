/* harness - the one harness of the tests that start real processes
 * (harness.h).
 *
 * Children are started with fork and exec; whatever the child needs
 * (argv, environment, file names) is made before the fork, so that a
 * threaded test process (an engine with host threads) only calls
 * async-signal-safe functions between fork and exec. Waits poll with
 * WNOHANG against a deadline and always reap what they kill.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/harness/harness.h"
#include "tests/test_util.h"

uint64_t
th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
th_poll(bool (*cond)(void *arg), void *arg, long timeout_ms, long interval_ms)
{
    uint64_t deadline = th_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (th_now_ms() > deadline)
            return false;
        test_sleep_ms(interval_ms);
    }
}

typedef struct {
    const char *path;
    const char *text;
} s_file_holds_t;

static bool
s_file_holds(void *arg)
{
    const s_file_holds_t *want = arg;
    char *text = test_read_file(want->path, NULL);
    bool seen = text && strstr(text, want->text);
    free(text);
    return seen;
}

bool
th_wait_file_holds(const char *path, const char *text, long timeout_ms)
{
    s_file_holds_t want = {path, text};
    return th_poll(s_file_holds, &want, timeout_ms, 10);
}

int
th_dir_make(char *dir, size_t size, const char *tag)
{
    int n = snprintf(dir, size, "/tmp/cairn-%s-XXXXXX", tag);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

char *
th_dir_new(const char *tag)
{
    char *dir = NULL;
    assert_true(asprintf(&dir, "/tmp/cairn-%s-XXXXXX", tag) > 0);
    assert_non_null(mkdtemp(dir));
    return dir;
}

void
th_dir_remove(const char *dir)
{
    chmod(dir, 0700); /* a case may have made it unwritable */
    test_remove_tree(dir);
}

void
th_dir_destroy(char **dir_p)
{
    if (!dir_p || !*dir_p)
        return;
    th_dir_remove(*dir_p);
    free(*dir_p);
    *dir_p = NULL;
}

/* In the child: fd onto target from path opened with flags; false when
 * it cannot be. */
static bool
s_redirect(const char *path, int flags, int target)
{
    if (!path)
        return true;
    int fd = open(path, flags, 0600);
    if (fd < 0 || dup2(fd, target) < 0)
        return false;
    if (fd != target)
        close(fd);
    return true;
}

pid_t
th_spawn(const th_spawn_t *spec)
{
    assert_non_null(spec->argv);
    fflush(NULL); /* the child must not print our buffers again */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    int out = O_WRONLY | O_CREAT | O_TRUNC;
    if (!s_redirect(spec->in_path, O_RDONLY, STDIN_FILENO)
        || !s_redirect(spec->out_path, out, STDOUT_FILENO)
        || !s_redirect(spec->err_path, out, STDERR_FILENO))
        _exit(126);
    if (spec->before_exec)
        spec->before_exec(spec->arg);
    char *const *argv = (char *const *)spec->argv;
    if (spec->envp)
        execve(argv[0], argv, spec->envp);
    else
        execv(argv[0], argv);
    _exit(127);
}

int
th_exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Prints every thread's stack of pid to stderr (gdb, bounded in time;
 * a machine without gdb says so): what a process that outlived its
 * deadline was doing is the cause to fix, not the deadline. */
static void
s_show_stacks(pid_t pid)
{
    char command[160];
    snprintf(command, sizeof command,
             "timeout 60 gdb -batch -nx -p %d -ex 'thread apply all bt' "
             "</dev/null 1>&2",
             (int)pid);
    fprintf(stderr, "--- stacks of pid %d, which outlived its deadline:\n",
            (int)pid);
    fflush(stderr);
    if (system(command) != 0)
        fprintf(stderr, "--- (gdb could not show them)\n");
}

/* th_wait, showing pid's stacks before it is killed when show_stacks. */
static int
s_wait(pid_t pid, long timeout_ms, bool show_stacks)
{
    uint64_t deadline = th_now_ms() + (uint64_t)timeout_ms;
    int status = 0;
    pid_t got;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
        if (th_now_ms() > deadline) {
            if (show_stacks)
                s_show_stacks(pid);
            th_kill(pid);
            return TH_TIMED_OUT;
        }
        test_sleep_ms(2);
    }
    assert_int_equal(got, pid);
    return th_exit_code(status);
}

int
th_wait(pid_t pid, long timeout_ms)
{
    return s_wait(pid, timeout_ms, false);
}

int
th_finish(pid_t pid, long timeout_ms, const char *what)
{
    int code = s_wait(pid, timeout_ms, true);
    if (code == TH_TIMED_OUT)
        fail_msg("%s did not finish within %ld ms (its stacks are above)",
                 what, timeout_ms);
    if (code == 126 || code == 127)
        fail_msg("could not start %s (exit %d)", what, code);
    return code;
}

bool
th_alive(pid_t pid)
{
    siginfo_t info = {0};
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0
           && info.si_pid == 0;
}

void
th_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

char **
th_env_new(const char *const *extra)
{
    extern char **environ;
    size_t n = 0, more = 0;
    while (environ[n])
        n++;
    while (extra && extra[more])
        more++;
    char **env = calloc(n + more + 1, sizeof *env);
    assert_non_null(env);
    memcpy(env, environ, n * sizeof *env);
    for (size_t i = 0; i < more; i++)
        env[n + i] = (char *)extra[i];
    return env;
}

char *
th_read(const char *path, size_t *len)
{
    char *text = test_read_file(path, len);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

void
th_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void
th_fail_showing(const char *text, const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    fprintf(stderr, "%s:\n-----\n%s%s-----\n", message, text ? text : "",
            text && *text && text[strlen(text) - 1] == '\n' ? "" : "\n");
    fflush(stderr);
    fail_msg("%s (shown above)", message);
    abort(); /* not reached: fail_msg does not return */
}

void
th_check_sanitizers(const char *err, const char *who)
{
    if (strstr(err, "Sanitizer") || strstr(err, "runtime error"))
        th_fail_showing(err, "%s reported a sanitizer error", who);
}

json_t *
th_json(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return doc;
}

json_t *
th_json_find_id(json_t *array, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item)
    {
        const char *item_id = json_string_value(json_object_get(item, "id"));
        if (item_id && strcmp(item_id, id) == 0)
            return item;
    }
    return NULL;
}

cairn_registry_t *
th_registry_open(bool builtins, const cairn_builtins_options_t *opts,
                 const cairn_executor_type_t *types, size_t count)
{
    cairn_registry_t *registry = cairn_registry_new();
    if (!registry)
        return NULL;
    bool ok = !builtins || cairn_builtins_register(registry, opts) == CAIRN_OK;
    for (size_t i = 0; ok && i < count; i++)
        ok = cairn_registry_add_executor(registry, &types[i]) == CAIRN_OK;
    if (!ok)
        cairn_registry_destroy(&registry);
    return registry;
}

int
th_handler_noop(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)ctx;
    (void)msg;
    return 0;
}

int
th_init_refuse_bad(void **instance, const uint8_t *config, size_t config_len,
                   cairn_error_t *err)
{
    *instance = NULL;
    if ((config_len == 3 && memcmp(config, "bad", 3) == 0)
        || (config_len == 5 && memcmp(config, "\"bad\"", 5) == 0))
        return cairn_error_set(err, CAIRN_EINVAL, "config is bad");
    return CAIRN_OK;
}

long
th_latest_superstep(const char *db, const char *run_id, bool *opened)
{
    cairn_store_t *store = NULL;
    cairn_error_t err;
    cairn_store_options_t opts = {.read_only = true};
    bool ok = cairn_store_open(&store, db, &opts, &err) == CAIRN_OK;
    if (opened)
        *opened = ok;
    if (!ok)
        return -1;
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    long step = -1;
    if (cairn_store_get_latest_checkpoint(store, run_id, latest, &err)
        == CAIRN_OK)
        step = atol(strchr(latest, '@') + 1);
    cairn_store_destroy(&store);
    return step;
}

cairn_registry_t *
th_registry_new(const cairn_executor_type_t *types, size_t count)
{
    cairn_registry_t *registry = th_registry_open(true, NULL, types, count);
    assert_non_null(registry);
    return registry;
}
