/* harness.h - the one harness of the tests that start real processes.
 *
 * test_cli_*, test_crash, test_storage_faults, test_workers and
 * test_trust start child processes (the cairn binary, child_* helpers),
 * wait for them within a bound, read what they printed, keep their files
 * in a temporary directory and poll for conditions. They all do it
 * through these functions, so a fix (a bound, a reaped child, a
 * sanitizer report noticed) is made once.
 *
 * Every wait here is bounded and polls for a condition: the suite runs on
 * loaded machines (docs/testing.md, "Flakiness under load"). Functions
 * that assert (cmocka) say so; they run on the test thread only. The
 * th_ prefix is the harness's.
 */
#ifndef CAIRN_TEST_HARNESS_H_INCLUDED
#define CAIRN_TEST_HARNESS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include <cairn/cairn.h>

/* What th_wait returns for a process still running at its deadline. */
#define TH_TIMED_OUT (-1)

/* ---- time and polling ---- */

/* Milliseconds of the monotonic clock. */
uint64_t
th_now_ms(void);

/* Calls cond(arg) every interval_ms until it returns true (then returns
 * true) or timeout_ms have passed (then false, after one last call). */
bool
th_poll(bool (*cond)(void *arg), void *arg, long timeout_ms, long interval_ms);

/* Waits (at most timeout_ms) until the file at path holds text; false
 * when it never did (the file may appear late or never). */
bool
th_wait_file_holds(const char *path, const char *text, long timeout_ms);

/* ---- temporary directories ---- */

/* Makes a fresh directory /tmp/cairn-TAG-XXXXXX into dir (size bytes);
 * 0, or -1 when it cannot (usable from a cmocka setup). */
int
th_dir_make(char *dir, size_t size, const char *tag);

/* The same, malloc'd (caller frees, or th_dir_destroy); asserts. */
char *
th_dir_new(const char *tag);

/* Removes dir and everything below it, also where a test made it
 * unwritable (chmod 0500). */
void
th_dir_remove(const char *dir);

/* th_dir_remove, then frees *dir_p and nulls it; NULL is a no-op. */
void
th_dir_destroy(char **dir_p);

/* ---- processes ---- */

/* How th_spawn starts a process. Everything is borrowed for the call. */
typedef struct {
    const char *const *argv; /* argv[0] is the program path; NULL-ended */
    char *const *envp;       /* its environment; NULL: this process's */
    const char *in_path;     /* stdin from this file; NULL: ours */
    const char *out_path;    /* stdout into this file (truncated); NULL: ours */
    const char *err_path;    /* stderr the same way; NULL: ours */
    /* Runs in the child after the redirections, before exec (only
     * async-signal-safe calls when this process has threads); NULL: none */
    void (*before_exec)(void *arg);
    void *arg;
} th_spawn_t;

/* Starts a process as spec says; returns its pid (asserts the fork).
 * The child exits 126 when a redirection fails, 127 when exec does.
 * Nothing is allocated after the fork: safe in a threaded process. */
pid_t
th_spawn(const th_spawn_t *spec);

/* A wait status as one exit code: the exit status, or 128 + N when
 * killed by signal N (as a shell reports it). */
int
th_exit_code(int status);

/* Waits at most timeout_ms for pid; returns its th_exit_code, or
 * TH_TIMED_OUT after SIGKILLing and reaping it. */
int
th_wait(pid_t pid, long timeout_ms);

/* th_wait that fails the test (naming what) when pid outlives
 * timeout_ms, printing its threads' stacks (gdb) before killing it, or
 * could not be started (exit 126/127). */
int
th_finish(pid_t pid, long timeout_ms, const char *what);

/* True while pid has not exited (it is not reaped). */
bool
th_alive(pid_t pid);

/* SIGKILLs pid and reaps it; pid <= 0 is a no-op. */
void
th_kill(pid_t pid);

/* An environment: this process's plus the NULL-terminated extra entries
 * ("NAME=value", borrowed; NULL: none), made before a fork. Caller frees
 * the array, not the strings. */
char **
th_env_new(const char *const *extra);

/* ---- what a process printed ---- */

/* A whole file, NUL-terminated (malloc'd, caller frees), its length in
 * *len unless NULL; asserts that it can be read. */
char *
th_read(const char *path, size_t *len);

/* Writes len bytes of data to path (created or truncated); asserts. */
void
th_write(const char *path, const void *data, size_t len);

/* Fails the test with the message, printing text whole to stderr first:
 * cmocka cuts its own messages at about 1 KB, and a child's whole output
 * is what tells why a rare failure happened. */
void
th_fail_showing(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Fails the test when a child's stderr holds a sanitizer report: the
 * children are the same build as the test. */
void
th_check_sanitizers(const char *err, const char *who);

/* ---- JSON output ---- */

/* text parsed as one JSON document (caller decrefs); fails the test,
 * showing text, when it is not JSON. */
json_t *
th_json(const char *text);

/* The object with "id" == id in a JSON array (borrowed), or NULL. */
json_t *
th_json_find_id(json_t *array, const char *id);

/* ---- the registry fixture ---- */

/* A registry holding the built-in executors when builtins (with opts;
 * NULL: the defaults) and count more types (borrowed; NULL when count is
 * 0). NULL when a registration fails: a cmocka setup, which may not
 * assert, can use it. Caller owns the result. */
cairn_registry_t *
th_registry_open(bool builtins, const cairn_builtins_options_t *opts,
                 const cairn_executor_type_t *types, size_t count);

/* A handler that does nothing and succeeds: a type whose runs do not
 * matter (builder, signature tests). */
int
th_handler_noop(cairn_ctx_t *ctx, const cairn_msg_t *msg);

/* An executor init that refuses the config "bad" (raw bytes, or the JSON
 * string "\"bad\"" a spec gives) with CAIRN_EINVAL "config is bad" and
 * accepts any other; *instance = NULL. */
int
th_init_refuse_bad(void **instance, const uint8_t *config, size_t config_len,
                   cairn_error_t *err);

/* The superstep of run_id's newest checkpoint in the store at db, opened
 * read-only as a second process would; -1 when the run has none. Whether
 * the store could be opened goes to *opened (unless NULL); -1 when not. */
long
th_latest_superstep(const char *db, const char *run_id, bool *opened);

/* th_registry_open with the default built-ins, asserting that it
 * worked. Caller owns the result. */
cairn_registry_t *
th_registry_new(const cairn_executor_type_t *types, size_t count);

#endif
