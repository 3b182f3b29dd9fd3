/* test_cli - the real `cairn` command, run as a subprocess.
 *
 * Every test gets a fresh mkdtemp directory for its stores, specs and
 * files, and runs the binary the build produced (CAIRN_BIN) with an argv,
 * optional stdin bytes, and a bounded wait (S_TIMEOUT_S, then SIGKILL and
 * fail). stdout and stderr go to files in that directory and are read
 * back whole, so a test can assert exact stdout, stderr substrings and
 * the exit code. A few tests keep a run going in the background (a spec
 * paced by util.sleep) to inspect a store while its writer holds it, to
 * find it locked, or to kill it with SIGKILL and resume it.
 *
 * The children are the same build as this test: under ASan/UBSan a
 * sanitizer report in a child's stderr fails the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "cairn.pb-c.h"
#include "tests/test_util.h"

#ifndef CAIRN_BIN
#error "CAIRN_BIN must name the cairn binary (tests/CMakeLists.txt)"
#endif

#define S_TIMEOUT_S 60
/* --worker-wait-ms for runs that must get all their workers: a bound on a
 * condition, not a pace, so as long as a test may wait at all. */
#define S_WORKER_WAIT_MS "60000"
#define S_MAX_ARGS 32

/* ---- the per-test directory ---- */

static char s_dir[64];  /* this test's mkdtemp directory */
static unsigned s_seq;  /* names capture files */
static pid_t s_live[8]; /* started, not yet waited for */
/* Runs in the next children before exec (set by a test, cleared at
 * teardown): what only the child's own pid can name. */
static void (*s_before_exec)(void);

/* What a test allocates is kept until teardown, so a failing assertion
 * (a longjmp out of the test) leaks nothing and tests free nothing. */
typedef struct {
    void *ptr;
    bool json;
} s_kept_t;
static s_kept_t *s_kept;
static size_t s_kept_count;

static void
s_keep_any(void *ptr, bool json)
{
    s_kept_t *grown = realloc(s_kept, (s_kept_count + 1) * sizeof *grown);
    if (!grown) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    s_kept = grown;
    s_kept[s_kept_count++] = (s_kept_t){ptr, json};
}

/* Keeps malloc'd memory until teardown; returns it. */
static void *
s_keep(void *ptr)
{
    assert_non_null(ptr);
    s_keep_any(ptr, false);
    return ptr;
}

static int
s_setup(void **state)
{
    (void)state;
    /* runs keep their sockets in /tmp/cairn-UID, as tests expect, unless
     * a test says otherwise (sockets_io_cases.h) */
    unsetenv("TMPDIR");
    unsetenv("LSAN_OPTIONS"); /* sockets_io_cases.h may set it */
    snprintf(s_dir, sizeof s_dir, "/tmp/cairn-cli-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int
s_teardown(void **state)
{
    (void)state;
    s_before_exec = NULL;
    /* A test that failed with a run in the background: end it. */
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++)
        if (s_live[i] > 0) {
            kill(s_live[i], SIGKILL);
            waitpid(s_live[i], NULL, 0);
            s_live[i] = 0;
        }
    test_remove_tree(s_dir);
    for (size_t i = 0; i < s_kept_count; i++) {
        if (s_kept[i].json)
            json_decref(s_kept[i].ptr);
        else
            free(s_kept[i].ptr);
    }
    free(s_kept);
    s_kept = NULL;
    s_kept_count = 0;
    return 0;
}

/* DIR/name in this test's directory; valid until teardown. */
static const char *
s_path(const char *name)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", s_dir, name) > 0);
    return s_keep(path);
}

static void
s_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Writes a spec file named name into the test directory. */
static const char *
s_spec(const char *name, const char *json)
{
    const char *path = s_path(name);
    s_write(path, json, strlen(json));
    return path;
}

/* A whole file, NUL-terminated, kept until teardown; *len without the
 * NUL. */
static char *
s_slurp(const char *path, size_t *len)
{
    char *buf = test_read_file(path, len);
    assert_non_null(buf);
    s_keep(buf);
    return buf;
}

static bool
s_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- running cairn ---- */

/* A cairn process: started, then waited for. */
typedef struct {
    pid_t pid;
    char in_path[96];
    char out_path[96];
    char err_path[96];
} s_proc_t;

/* What a finished cairn printed and how it exited. */
typedef struct {
    int code;  /* exit status; 128 + N when killed by signal N */
    char *out; /* stdout, NUL-terminated (kept until teardown) */
    size_t out_len;
    char *err; /* stderr, NUL-terminated (kept until teardown) */
} s_result_t;

/* Starts cairn with args (NULL-terminated) and stdin bytes (NULL: empty
 * stdin); stdout and stderr go to files in the test directory. */
static void
s_vstart(s_proc_t *p, const void *in, size_t in_len, va_list args)
{
    const char *argv[S_MAX_ARGS + 2] = {CAIRN_BIN};
    size_t argc = 1;
    const char *arg;
    while ((arg = va_arg(args, const char *)) != NULL) {
        assert_true(argc < S_MAX_ARGS);
        argv[argc++] = arg;
    }
    argv[argc] = NULL;
    unsigned seq = s_seq++;
    snprintf(p->in_path, sizeof p->in_path, "%s/.in%u", s_dir, seq);
    snprintf(p->out_path, sizeof p->out_path, "%s/.out%u", s_dir, seq);
    snprintf(p->err_path, sizeof p->err_path, "%s/.err%u", s_dir, seq);
    s_write(p->in_path, in ? in : "", in ? in_len : 0);
    fflush(NULL);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        int fd_in = open(p->in_path, O_RDONLY);
        int fd_out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fd_err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd_in < 0 || fd_out < 0 || fd_err < 0 || dup2(fd_in, 0) < 0
            || dup2(fd_out, 1) < 0 || dup2(fd_err, 2) < 0)
            _exit(126);
        if (s_before_exec)
            s_before_exec();
        execv(CAIRN_BIN, (char *const *)argv);
        _exit(127);
    }
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++)
        if (s_live[i] == 0) {
            s_live[i] = p->pid;
            break;
        }
}

static void
s_start(s_proc_t *p, ...)
{
    va_list args;
    va_start(args, p);
    s_vstart(p, NULL, 0, args);
    va_end(args);
}

/* True while the process has not exited (not reaped). */
static bool
s_alive(const s_proc_t *p)
{
    siginfo_t info = {0};
    return waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0
           && info.si_pid == 0;
}

/* Sanitizer reports from a child fail the test. */
static void
s_check_sanitizers(const char *err)
{
    if (strstr(err, "Sanitizer") || strstr(err, "runtime error:"))
        fail_msg("cairn child reported a sanitizer error:\n%s", err);
}

/* Waits for p (at most S_TIMEOUT_S, then SIGKILL and fail) and reads
 * what it printed into r. */
static void
s_wait(s_proc_t *p, s_result_t *r)
{
    memset(r, 0, sizeof *r);
    uint64_t deadline = s_now_ms() + S_TIMEOUT_S * 1000;
    int status = 0;
    pid_t got;
    while ((got = waitpid(p->pid, &status, WNOHANG)) == 0) {
        if (s_now_ms() > deadline) {
            kill(p->pid, SIGKILL); /* teardown reaps it */
            fail_msg("cairn did not finish within %d s", S_TIMEOUT_S);
        }
        usleep(2000);
    }
    assert_int_equal(got, p->pid);
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++)
        if (s_live[i] == p->pid)
            s_live[i] = 0;
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = s_slurp(p->out_path, &r->out_len);
    r->err = s_slurp(p->err_path, NULL);
    unlink(p->in_path);
    unlink(p->out_path);
    unlink(p->err_path);
    s_check_sanitizers(r->err);
    if (r->code == 127 || r->code == 126)
        fail_msg("could not start %s", CAIRN_BIN);
}

/* Waits (bounded) until p's stderr so far holds text (the file may not
 * be there yet right after s_start). */
static void
s_wait_stderr(const s_proc_t *p, const char *text)
{
    uint64_t deadline = s_now_ms() + S_TIMEOUT_S * 1000;
    for (;;) {
        char *err = test_read_file(p->err_path, NULL);
        bool seen = err && strstr(err, text);
        free(err);
        if (seen)
            return;
        if (s_now_ms() > deadline)
            fail_msg("stderr never showed \"%s\"", text);
        usleep(10000);
    }
}

/* Runs cairn with args (NULL-terminated) and waits for it. */
static void
s_cairn(s_result_t *r, ...)
{
    s_proc_t p;
    va_list args;
    va_start(args, r);
    s_vstart(&p, NULL, 0, args);
    va_end(args);
    s_wait(&p, r);
}

/* The same with stdin bytes. */
static void
s_cairn_in(s_result_t *r, const char *in, size_t in_len, ...)
{
    s_proc_t p;
    va_list args;
    va_start(args, in_len);
    s_vstart(&p, in, in_len, args);
    va_end(args);
    s_wait(&p, r);
}

/* Asserts the exit code, stdout exactly (unless NULL) and that stderr
 * holds err_part (unless NULL); prints what was seen when not. */
static void
s_expect(const s_result_t *r, int code, const char *out, const char *err_part)
{
    if (r->code != code)
        fail_msg("exit code %d, expected %d\nstdout: %s\nstderr: %s", r->code,
                 code, r->out, r->err);
    if (out)
        assert_string_equal(r->out, out);
    if (err_part && !strstr(r->err, err_part))
        fail_msg("stderr lacks \"%s\"; it is:\n%s", err_part, r->err);
}

/* The id in the first stderr line "run ID". */
static void
s_run_id(const s_result_t *r, char *id, size_t size)
{
    if (strncmp(r->err, "run ", 4) != 0)
        fail_msg("first stderr line is not \"run ID\": %s", r->err);
    size_t n = strcspn(r->err + 4, "\n");
    assert_true(n > 0 && n < size);
    memcpy(id, r->err + 4, n);
    id[n] = '\0';
}

static json_t *
s_json(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    s_keep_any(doc, true);
    return doc;
}

/* The object with "id" == id in a JSON array (borrowed), or NULL. */
static json_t *
s_find_id(json_t *array, const char *id)
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

/* The entry for run in `cairn runs --db DB --json` (fails if absent). */
static json_t *
s_run_entry(const char *db, const char *run)
{
    s_result_t r = {0};
    s_cairn(&r, "runs", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *entry = s_find_id(s_json(r.out), run);
    if (!entry)
        fail_msg("`cairn runs` does not list %s:\n%s", run, r.out);
    return entry;
}

/* A run's status as `cairn runs --json` reports it. */
static const char *
s_run_status(const char *db, const char *run)
{
    const char *status =
        json_string_value(json_object_get(s_run_entry(db, run), "status"));
    assert_non_null(status);
    return status;
}

/* "a,b,c": the ids of `checkpoints RUN --json`, newest first (kept). */
static char *
s_checkpoint_ids(const char *db, const char *run)
{
    s_result_t r = {0};
    s_cairn(&r, "checkpoints", run, "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *list = s_json(r.out);
    assert_true(json_is_array(list));
    char *ids = s_keep(calloc(1, 1));
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char *grown = NULL;
        assert_true(asprintf(&grown, "%s%s%s", ids, i ? "," : "",
                             json_string_value(json_object_get(item, "id")))
                    > 0);
        ids = s_keep(grown);
    }
    return ids;
}

/* Polls `checkpoints RUN --json` until it lists at least n. */
static void
s_wait_checkpoints(const char *db, const char *run, size_t n)
{
    uint64_t deadline = s_now_ms() + S_TIMEOUT_S * 1000;
    s_result_t r = {0};
    for (;;) {
        s_cairn(&r, "checkpoints", run, "--db", db, "--json", NULL);
        if (r.code == 0) {
            json_t *list = s_json(r.out);
            size_t count = json_array_size(list);
            if (count >= n)
                break;
        }
        if (s_now_ms() > deadline)
            fail_msg("run %s never reached %zu checkpoints", run, n);
        usleep(20000);
    }
}

#define PIPELINE CAIRN_EXAMPLES "/text-pipeline.json"
#define GREET CAIRN_EXAMPLES "/plugin/greet.json"
#define GREET_SO CAIRN_PLUGIN_DIR "/libcairn_greet.so"
#define WRONG_ABI_SO CAIRN_PLUGIN_DIR "/libcairn_greet_wrong_abi.so"

/* Counts to LIMIT with 100 ms between steps: ~LIMIT/10 seconds,
 * 2 * LIMIT + 1 supersteps, output "LIMIT". */
#define SLOW_SPEC(limit)                                                       \
    "{\"name\": \"slow\", \"start\": \"ping\", \"max_supersteps\": 1000,\n"    \
    " \"executors\": [\n"                                                      \
    "   {\"id\": \"ping\", \"type\": \"count.inc\"},\n"                        \
    "   {\"id\": \"pace\", \"type\": \"util.sleep\", \"config\": {\"ms\": "    \
    "100}},\n"                                                                 \
    "   {\"id\": \"done\", \"type\": \"text.output\"}],\n"                     \
    " \"edges\": [\n"                                                          \
    "   {\"from\": \"ping\", \"to\": \"pace\"},\n"                             \
    "   {\"from\": \"pace\", \"switch\": [\n"                                  \
    "     {\"when\": {\"int_ge\": " #limit "}, \"to\": \"done\"},\n"           \
    "     {\"default\": true, \"to\": \"ping\"}]}]}\n"

/* SLOW_SPEC(LIMIT) that, once it has counted, waits at a gate before its
 * output: a util.exec shell that passes the count on once the file
 * s_path("gate") exists. A test that must act on a live run (inspect,
 * pause, signal, kill it) closes the gate first, so the run cannot end
 * before the test opens it again, however slow the machine: a run paced
 * only by util.sleep ended before the test acted on a loaded machine.
 * The gate is open when the spec is made (for the uninterrupted
 * reference run). Runs of it need --allow-exec. The shell gives up
 * after about a minute, or when the test directory is gone, so a killed
 * run leaves nothing behind. */
static void s_open_gate(void);

/* The config of a util.exec executor that passes its message on (cat)
 * once the file s_path("gate") exists; see s_gated_spec. */
static const char *
s_gate_config(void)
{
    const char *gate = s_path("gate");
    char *json = NULL;
    assert_true(
        asprintf(&json,
                 "{\"timeout_ms\": 120000, \"argv\": [\"/bin/sh\", \"-c\", "
                 "\"i=0; while [ ! -e '%s' ] && [ -d '%s' ] && "
                 "[ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; "
                 "exec cat\"]}",
                 gate, s_dir)
        > 0);
    return s_keep(json);
}

static const char *
s_gated_spec(const char *name, int limit)
{
    char *json = NULL;
    assert_true(
        asprintf(
            &json,
            "{\"name\": \"slow\", \"start\": \"ping\", "
            "\"max_supersteps\": 1000,\n"
            " \"executors\": [\n"
            "   {\"id\": \"ping\", \"type\": \"count.inc\"},\n"
            "   {\"id\": \"pace\", \"type\": \"util.sleep\", "
            "\"config\": {\"ms\": 100}},\n"
            "   {\"id\": \"gate\", \"type\": \"util.exec\", \"config\": %s},\n"
            "   {\"id\": \"done\", \"type\": \"text.output\"}],\n"
            " \"edges\": [\n"
            "   {\"from\": \"ping\", \"to\": \"pace\"},\n"
            "   {\"from\": \"pace\", \"switch\": [\n"
            "     {\"when\": {\"int_ge\": %d}, \"to\": \"gate\"},\n"
            "     {\"default\": true, \"to\": \"ping\"}]},\n"
            "   {\"from\": \"gate\", \"to\": \"done\"}]}\n",
            s_gate_config(), limit)
        > 0);
    const char *path = s_spec(name, s_keep(json));
    s_open_gate();
    return path;
}

/* Closes and opens s_gated_spec's gate. */
static void
s_close_gate(void)
{
    assert_int_equal(unlink(s_path("gate")), 0);
}

static void
s_open_gate(void)
{
    s_write(s_path("gate"), "", 0);
}

/* ---- run: output, input, --json, --events, stores ---- */

static void
test_cli_run_prints_outputs_only(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", s_path("db"),
            NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    char id[128];
    s_run_id(&r, id, sizeof id);
    /* The default id is usable as a run id. */
    assert_true(strspn(id,
                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789_-")
                == strlen(id));
}

/* --cpu-placement shared keeps every thread on one CPU: same output, and
 * the run resumes with it too; anything but any|shared is refused. */
static void
test_cli_run_cpu_placement(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "pinned", "--cpu-placement", "shared", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    s_cairn(&r, "resume", "pinned@2", "--db", db, "--cpu-placement", "shared",
            NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db,
            "--cpu-placement", "fast", NULL);
    s_expect(&r, 2, "", "--cpu-placement must be 'any' or 'shared', not 'fast'");
}

static void
test_cli_run_id_option(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "mine", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    assert_true(strncmp(r.err, "run mine\n", 9) == 0);
    json_t *run = s_run_entry(db, "mine");
    assert_string_equal(json_string_value(json_object_get(run, "status")),
                        "completed");
    assert_string_equal(
        json_string_value(json_object_get(run, "latest_checkpoint")), "mine@4");
}

static void
test_cli_run_input_sources(void **state)
{
    (void)state;
    s_result_t r = {0};
    /* --input-file */
    const char *file = s_path("input.txt");
    s_write(file, "Input File", 10);
    s_cairn(&r, "run", PIPELINE, "--input-file", file, "--durability", "none",
            NULL);
    s_expect(&r, 0, "elif tupni\n", NULL);
    /* stdin when it is not a terminal */
    s_cairn_in(&r, "From Stdin", 10, "run", PIPELINE, "--durability", "none",
               NULL);
    s_expect(&r, 0, "nidts morf\n", NULL);
    /* --input wins over stdin */
    s_cairn_in(&r, "ignored", 7, "run", PIPELINE, "--input", "abc",
               "--durability", "none", NULL);
    s_expect(&r, 0, "cba\n", NULL);
    /* empty stdin: empty input, one empty output line */
    s_cairn(&r, "run", PIPELINE, "--durability", "none", NULL);
    s_expect(&r, 0, "\n", NULL);
    /* both at once is a usage error */
    s_cairn(&r, "run", PIPELINE, "--input", "a", "--input-file", file,
            "--durability", "none", NULL);
    s_expect(&r, 2, "", "--input");
    /* a missing input file */
    s_cairn(&r, "run", PIPELINE, "--input-file", s_path("nope.txt"),
            "--durability", "none", NULL);
    s_expect(&r, 2, "", "nope.txt");
}

static void
test_cli_run_json(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", s_path("db"),
            "--run-id", "j1", "--json", NULL);
    s_expect(&r, 0, NULL, "run j1");
    /* one JSON object, one line, nothing else */
    assert_true(r.out_len > 0);
    assert_ptr_equal(strchr(r.out, '\n'), r.out + r.out_len - 1);
    json_t *doc = s_json(r.out);
    assert_true(json_is_object(doc));
    assert_string_equal(json_string_value(json_object_get(doc, "run_id")),
                        "j1");
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "completed");
    assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "supersteps")), 4);
    json_t *outputs = json_object_get(doc, "outputs");
    assert_int_equal(json_array_size(outputs), 1);
    assert_string_equal(json_string_value(json_array_get(outputs, 0)),
                        "dlrow olleh");
    json_t *requests = json_object_get(doc, "requests");
    assert_true(json_is_array(requests));
    assert_int_equal(json_array_size(requests), 0);
}

static void
test_cli_run_json_binary_output(void **state)
{
    (void)state;
    const char *spec =
        s_spec("out.json",
               "{\"start\": \"o\", \"executors\": [{\"id\": \"o\", \"type\": "
               "\"text.output\"}]}");
    const char *file = s_path("bin");
    s_write(file,
            "a\xff"
            "b\0c",
            5);
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input-file", file, "--durability", "none",
            "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *doc = s_json(r.out);
    json_t *out = json_array_get(json_object_get(doc, "outputs"), 0);
    assert_true(json_is_object(out));
    assert_string_equal(json_string_value(json_object_get(out, "base64")),
                        "Yf9iAGM=");
    /* Without --json the bytes come out as they are. */
    s_cairn(&r, "run", spec, "--input-file", file, "--durability", "none",
            NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_int_equal(r.out_len, 6);
    assert_memory_equal(r.out,
                        "a\xff"
                        "b\0c\n",
                        6);
}

/* The "event" names of the JSON lines in stderr, in order, one per line
 * of the returned text; fails on a line that is not JSON (after the
 * "run ID" line). */
static char *
s_event_names(const char *err, const char *run_id)
{
    char *names = s_keep(calloc(1, 1));
    const char *line = strchr(err, '\n'); /* after "run ID" */
    assert_non_null(line);
    line++;
    while (*line) {
        size_t n = strcspn(line, "\n");
        char *text = s_keep(strndup(line, n));
        json_t *ev = s_json(text);
        assert_string_equal(json_string_value(json_object_get(ev, "run_id")),
                            run_id);
        char *grown = NULL;
        assert_true(asprintf(&grown, "%s%s\n", names,
                             json_string_value(json_object_get(ev, "event")))
                    > 0);
        names = s_keep(grown);
        line += n + (line[n] == '\n');
    }
    return names;
}

static void
test_cli_run_events(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", s_path("db"),
            "--run-id", "ev", "--events", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    assert_true(strncmp(r.err, "run ev\n", 7) == 0);
    char *names = s_event_names(r.err, "ev");
    assert_true(strncmp(names, "run_started\n", 12) == 0);
    assert_non_null(strstr(names, "superstep_completed\n"));
    assert_non_null(strstr(names, "checkpoint_written\n"));
    assert_non_null(strstr(names, "output\n"));
    size_t len = strlen(names);
    assert_true(len >= 10 && strcmp(names + len - 10, "run_ended\n") == 0);
    /* The last line says how the run ended. */
    const char *last = strstr(r.err, "{\"event\":\"run_ended\"");
    assert_non_null(last);
    json_t *ev = s_json(last);
    assert_string_equal(json_string_value(json_object_get(ev, "status")),
                        "completed");
}

static void
test_cli_run_durability_none(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--durability", "none", NULL);
    s_expect(&r, 0, "dlrow olleh\n", "run ");
    assert_false(s_exists(db));
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "sometimes",
            "--db", db, NULL);
    s_expect(&r, 2, "", "--durability");
    assert_false(s_exists(db));
}

static void
test_cli_run_checkpoint_every_n(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    /* 4 supersteps: the entry, every 2nd barrier, and the end. */
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "e2", "--checkpoint", "every:2", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    char *ids = s_checkpoint_ids(db, "e2");
    assert_string_equal(ids, "e2@4,e2@2,e2@0");
    /* default: every superstep */
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "all", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    ids = s_checkpoint_ids(db, "all");
    assert_string_equal(ids, "all@4,all@3,all@2,all@1,all@0");
    /* on-error, and the run did not fail: the entry and the end */
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "oe", "--checkpoint", "on-error", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    ids = s_checkpoint_ids(db, "oe");
    assert_string_equal(ids, "oe@4,oe@0");
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, "--checkpoint",
            "every:0", NULL);
    s_expect(&r, 2, "", "--checkpoint");
}

static void
test_cli_run_checkpoint_none(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    /* No barrier checkpoints, but "whatever the policy, the entry
     * checkpoint and the checkpoint of every end state are written"
     * (docs/spec.md, Checkpoint policy; DESIGN.md, Contract details). */
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "nn", "--checkpoint", "none", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    char *ids = s_checkpoint_ids(db, "nn");
    assert_string_equal(ids, "nn@4,nn@0");
}

/* ---- exit codes ---- */

static void
test_cli_exit_failed_handler(void **state)
{
    (void)state;
    const char *spec = s_spec(
        "fail.json",
        "{\"start\": \"a\", \"executors\": [\n"
        " {\"id\": \"a\", \"type\": \"util.fail\", \"config\": {\"when\": "
        "{\"eq\": \"boom\"}}},\n"
        " {\"id\": \"o\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"a\", \"to\": \"o\"}]}");
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "boom", "--db", db, "--run-id", "f",
            NULL);
    s_expect(&r, 1, "", "executor 'a' failed");
    s_cairn(&r, "run", spec, "--input", "boom", "--db", db, "--run-id", "fj",
            "--json", NULL);
    s_expect(&r, 1, NULL, NULL);
    json_t *doc = s_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "failed");
    assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 1);
    assert_string_equal(s_run_status(db, "f"), "failed");
    s_cairn(&r, "run", spec, "--input", "fine", "--db", db, NULL);
    s_expect(&r, 0, "fine\n", NULL);
}

static void
test_cli_exit_storage_error(void **state)
{
    (void)state;
    const char *file = s_path("not-a-dir");
    s_write(file, "x", 1);
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--db", file, NULL);
    s_expect(&r, 1, "", "not-a-dir");
}

/* An input over the message limit (16 MiB) is refused before anything
 * is stored; a smaller one runs. */
static void
test_cli_exit_oversized_input(void **state)
{
    (void)state;
    const size_t limit = (size_t)16 << 20;
    char *big = malloc(limit + 1);
    assert_non_null(big);
    memset(big, 'a', limit + 1);
    const char *file = s_path("big.txt");
    s_write(file, big, limit + 1);
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input-file", file, "--db", db,
            "--run-id", "big", NULL);
    s_expect(&r, 2, "",
             "run input of 16777217 bytes exceeds the maximum message size "
             "of 16777216 bytes");
    /* refused while reading, before the store is even made */
    assert_false(s_exists(db));
    s_write(file, big, 1000);
    s_cairn(&r, "run", PIPELINE, "--input-file", file, "--db", db,
            "--run-id", "small", NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_int_equal(strlen(r.out), 1001);
    free(big);
}

/* A file that is not an export is refused and nothing is imported. */
static void
test_cli_import_garbage(void **state)
{
    (void)state;
    const char *file = s_path("garbage.exp");
    s_write(file, "garbage\n", 8);
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "import", file, "--db", db, NULL);
    s_expect(&r, 2, "", "export file: not a cairn export");
    s_cairn(&r, "runs", "--db", db, "--json", NULL);
    s_expect(&r, 0, "[]\n", NULL);
}

static void
test_cli_exit_usage(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "frobnicate", NULL);
    s_expect(&r, 2, "", "unknown command 'frobnicate'");
    s_cairn(&r, NULL);
    s_expect(&r, 2, "", "usage:");
    s_cairn(&r, "--help", NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "usage:"));
    s_cairn(&r, "run", PIPELINE, "--frob", NULL);
    s_expect(&r, 2, "", "--frob");
    s_cairn(&r, "run", NULL);
    s_expect(&r, 2, "", "expected 1 argument");
    s_cairn(&r, "run", s_path("missing.json"), "--durability", "none", NULL);
    s_expect(&r, 2, "", "missing.json: No such file or directory");
    s_cairn(&r, "run", s_dir, "--durability", "none", NULL);
    s_expect(&r, 2, "", "Is a directory");
    s_cairn(&r, "run", PIPELINE, "--max-supersteps", "lots", NULL);
    s_expect(&r, 2, "", "--max-supersteps");
    s_cairn(&r, "run", PIPELINE, "--max-supersteps", "0", NULL);
    s_expect(&r, 2, "", "--max-supersteps");
    s_cairn(&r, "run", PIPELINE, "--max-supersteps", "-3", NULL);
    s_expect(&r, 2, "", "--max-supersteps");
    s_cairn(&r, "checkpoints", "--db", s_path("db"), NULL);
    s_expect(&r, 2, "", "checkpoints");
    s_cairn(&r, "runs", "--bogus", NULL);
    s_expect(&r, 2, "", "--bogus");
    s_cairn(&r, "gc", "--keep-last", "many", "--db", s_path("db"), NULL);
    s_expect(&r, 2, "", "keep-last");
}

static void
test_cli_exit_usage_resume(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "resume", NULL);
    s_expect(&r, 2, "", "resume");
    s_cairn(&r, "resume", "x", "--frob", NULL);
    s_expect(&r, 2, "", "--frob");
    s_cairn(&r, "resume", "x", "--input", "y", NULL);
    s_expect(&r, 2, "", "--input");
}

static void
test_cli_exit_unknown_ids(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, "--run-id",
            "known", NULL);
    s_expect(&r, 0, "x\n", NULL);
    s_cairn(&r, "checkpoints", "nope", "--db", db, NULL);
    s_expect(&r, 2, "", "nope");
    s_cairn(&r, "show", "nope@1", "--db", db, NULL);
    s_expect(&r, 2, "", "nope@1");
    s_cairn(&r, "show", "known@99", "--db", db, NULL);
    s_expect(&r, 2, "", "known@99");
    s_cairn(&r, "show", "known", "--db", db, NULL);
    s_expect(&r, 2, "", "known");
    s_cairn(&r, "export", "nope", "--db", db, NULL);
    s_expect(&r, 2, "", "nope");
    s_cairn(&r, "resume", "nope", "--db", db, NULL);
    s_expect(&r, 2, "", "unknown run 'nope'");
    s_cairn(&r, "resume", "known@99", "--db", db, NULL);
    s_expect(&r, 2, "", "known@99");
}

static void
test_cli_exit_bad_spec(void **state)
{
    (void)state;
    const char *spec = s_spec("bad.json", "{\"start\": 1}");
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "x", "--db", s_path("db"), NULL);
    s_expect(&r, 2, "", "bad.json: start: expected a string");
    /* nothing was stored */
    assert_false(s_exists(s_path("db")));
}

static void
test_cli_exit_max_supersteps_then_resume(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "m", "--max-supersteps", "2", NULL);
    s_expect(&r, 4, "", "--max-supersteps");
    assert_string_equal(s_run_status(db, "m"), "failed");
    /* the same limit again: still 4 */
    s_cairn(&r, "resume", "m", "--db", db, "--max-supersteps", "3", "--json",
            NULL);
    s_expect(&r, 4, NULL, NULL);
    json_t *doc = s_json(r.out);
    assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 4);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "failed");
    s_cairn(&r, "resume", "m", "--db", db, "--max-supersteps", "10", NULL);
    s_expect(&r, 0, "dlrow olleh\n", "run m");
}

static void
test_cli_resume_completed_is_noop(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "done", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    char *before = s_checkpoint_ids(db, "done");
    s_cairn(&r, "resume", "done", "--db", db, NULL);
    s_expect(&r, 0, "dlrow olleh\n", "already completed");
    char *after = s_checkpoint_ids(db, "done");
    assert_string_equal(before, after);
}

static void
test_cli_exit_store_locked(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 100);
    const char *db = s_path("db");
    s_proc_t writer;
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "live", "--allow-exec", NULL);
    s_wait_checkpoints(db, "live", 2);
    char in_use[64];
    snprintf(in_use, sizeof in_use, "is in use by pid %d", (int)writer.pid);
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, NULL);
    s_expect(&r, 2, "", in_use);
    s_cairn(&r, "gc", "--keep-last", "1", "--db", db, NULL);
    s_expect(&r, 2, "", in_use);
    assert_true(s_alive(&writer));
    kill(writer.pid, SIGKILL);
    s_wait(&writer, &r);
    /* the lock goes with the process */
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, NULL);
    s_expect(&r, 0, "x\n", NULL);
}

static void
test_cli_exit_store_locked_resume(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 100);
    const char *db = s_path("db");
    s_proc_t writer;
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "live", "--allow-exec", NULL);
    s_wait_checkpoints(db, "live", 2);
    char in_use[64];
    snprintf(in_use, sizeof in_use, "is in use by pid %d", (int)writer.pid);
    s_result_t r = {0};
    s_cairn(&r, "resume", "live", "--db", db, NULL);
    int code = r.code;
    char *err = r.err;
    kill(writer.pid, SIGKILL);
    s_wait(&writer, &r);
    if (code != 2 || !strstr(err, in_use))
        fail_msg("resume on a locked store: exit %d, stderr: %s", code, err);
}

/* ---- edges and predicates ---- */

/* Runs spec (no store) on input and asserts exit 0 and stdout. */
static void
s_run_expect(const char *spec, const char *input, const char *expected)
{
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", input, "--durability", "none", NULL);
    if (r.code != 0 || strcmp(r.out, expected) != 0)
        fail_msg("input '%s': exit %d, stdout:\n%s\nexpected:\n%s\n"
                 "stderr: %s",
                 input, r.code, r.out, expected, r.err);
}

static void
test_cli_edge_direct(void **state)
{
    (void)state;
    /* Two direct edges from one source both fire; one has a condition. */
    const char *spec = s_spec(
        "direct.json",
        "{\"start\": \"in\", \"executors\": [\n"
        " {\"id\": \"in\", \"type\": \"text.lower\"},\n"
        " {\"id\": \"up\", \"type\": \"text.upper\"},\n"
        " {\"id\": \"rev\", \"type\": \"text.reverse\"},\n"
        " {\"id\": \"o1\", \"type\": \"text.output\"},\n"
        " {\"id\": \"o2\", \"type\": \"text.output\"}],\n"
        " \"edges\": [\n"
        " {\"from\": \"in\", \"to\": \"up\"},\n"
        " {\"from\": \"in\", \"to\": \"rev\", \"when\": {\"prefix\": \"h\"}},\n"
        " {\"from\": \"up\", \"to\": \"o1\"},\n"
        " {\"from\": \"rev\", \"to\": \"o2\"}]}");
    s_run_expect(spec, "Hello", "HELLO\nolleh\n");
    s_run_expect(spec, "abc", "ABC\n");
}

static void
test_cli_edge_fan_out(void **state)
{
    (void)state;
    const char *spec = s_spec(
        "fanout.json",
        "{\"start\": \"in\", \"executors\": [\n"
        " {\"id\": \"in\", \"type\": \"text.lower\"},\n"
        " {\"id\": \"a\", \"type\": \"text.upper\"},\n"
        " {\"id\": \"b\", \"type\": \"text.reverse\"},\n"
        " {\"id\": \"c\", \"type\": \"text.append\", \"config\": {\"suffix\": "
        "\"!\"}},\n"
        " {\"id\": \"oa\", \"type\": \"text.output\"},\n"
        " {\"id\": \"ob\", \"type\": \"text.output\"},\n"
        " {\"id\": \"oc\", \"type\": \"text.output\"}],\n"
        " \"edges\": [\n"
        " {\"from\": \"in\", \"to\": [\"c\", \"a\", \"b\"]},\n"
        " {\"from\": \"a\", \"to\": \"oa\"},\n"
        " {\"from\": \"b\", \"to\": \"ob\"},\n"
        " {\"from\": \"c\", \"to\": \"oc\"}]}");
    /* outputs by executor id within the superstep */
    s_run_expect(spec, "abc", "ABC\ncba\nabc!\n");
}

static void
test_cli_edge_switch(void **state)
{
    (void)state;
    const char *spec =
        s_spec("switch.json",
               "{\"start\": \"triage\", \"executors\": [\n"
               " {\"id\": \"triage\", \"type\": \"text.lower\"},\n"
               " {\"id\": \"small\", \"type\": \"text.append\", \"config\": "
               "{\"suffix\": \" small\"}},\n"
               " {\"id\": \"approved\", \"type\": \"text.append\", \"config\": "
               "{\"suffix\": \" approved\"}},\n"
               " {\"id\": \"other\", \"type\": \"text.append\", \"config\": "
               "{\"suffix\": \" other\"}},\n"
               " {\"id\": \"out\", \"type\": \"text.output\"}],\n"
               " \"edges\": [\n"
               " {\"from\": \"triage\", \"switch\": [\n"
               "   {\"when\": {\"int_lt\": 10}, \"to\": \"small\"},\n"
               "   {\"when\": {\"any\": [{\"eq\": \"yes\"}, {\"eq\": \"y\"}]}, "
               "\"to\": "
               "\"approved\"},\n"
               "   {\"default\": true, \"to\": \"other\"}]},\n"
               " {\"from\": \"small\", \"to\": \"out\"},\n"
               " {\"from\": \"approved\", \"to\": \"out\"},\n"
               " {\"from\": \"other\", \"to\": \"out\"}]}");
    s_run_expect(spec, "5", "5 small\n");
    s_run_expect(spec, "-20", "-20 small\n");
    s_run_expect(spec, "YES", "yes approved\n");
    s_run_expect(spec, "y", "y approved\n");
    s_run_expect(spec, "42", "42 other\n");
    s_run_expect(spec, "maybe", "maybe other\n");
    /* The default may stand first; it is still the fallback. The first
     * matching case wins when several hold. */
    const char *first = s_spec(
        "switch-first.json",
        "{\"start\": \"in\", \"executors\": [\n"
        " {\"id\": \"in\", \"type\": \"text.lower\"},\n"
        " {\"id\": \"d\", \"type\": \"text.append\", \"config\": {\"suffix\": "
        "\" d\"}},\n"
        " {\"id\": \"x\", \"type\": \"text.append\", \"config\": {\"suffix\": "
        "\" x\"}},\n"
        " {\"id\": \"y\", \"type\": \"text.append\", \"config\": {\"suffix\": "
        "\" y\"}},\n"
        " {\"id\": \"out\", \"type\": \"text.output\"}],\n"
        " \"edges\": [\n"
        " {\"from\": \"in\", \"switch\": [\n"
        "   {\"default\": true, \"to\": \"d\"},\n"
        "   {\"when\": {\"contains\": \"x\"}, \"to\": \"x\"},\n"
        "   {\"when\": {\"contains\": \"y\"}, \"to\": \"y\"}]},\n"
        " {\"from\": \"d\", \"to\": \"out\"},\n"
        " {\"from\": \"x\", \"to\": \"out\"},\n"
        " {\"from\": \"y\", \"to\": \"out\"}]}");
    s_run_expect(first, "axy", "axy x\n");
    s_run_expect(first, "ay", "ay y\n");
    s_run_expect(first, "a", "a d\n");
}

static void
test_cli_edge_fan_in(void **state)
{
    (void)state;
    /* docs/spec.md's example: parts in the order "from" lists them */
    const char *spec = s_spec(
        "fanin.json",
        "{\"start\": \"in\", \"executors\": [\n"
        " {\"id\": \"in\", \"type\": \"text.lower\"},\n"
        " {\"id\": \"a\", \"type\": \"text.upper\"},\n"
        " {\"id\": \"b\", \"type\": \"text.reverse\"},\n"
        " {\"id\": \"j\", \"type\": \"text.join\", \"config\": {\"sep\": "
        "\"+\"}},\n"
        " {\"id\": \"out\", \"type\": \"text.output\"}],\n"
        " \"edges\": [\n"
        " {\"from\": \"in\", \"to\": [\"a\", \"b\"]},\n"
        " {\"from\": [\"b\", \"a\"], \"to\": \"j\", \"fan_in\": true},\n"
        " {\"from\": \"j\", \"to\": \"out\"}]}");
    s_run_expect(spec, "abc", "cba+ABC\n");
    /* Sources arriving in different supersteps; default sep " ". */
    const char *late = s_spec(
        "fanin-late.json",
        "{\"start\": \"in\", \"executors\": [\n"
        " {\"id\": \"in\", \"type\": \"text.lower\"},\n"
        " {\"id\": \"a\", \"type\": \"text.upper\"},\n"
        " {\"id\": \"b\", \"type\": \"text.reverse\"},\n"
        " {\"id\": \"b2\", \"type\": \"text.append\", \"config\": {\"suffix\": "
        "\"!\"}},\n"
        " {\"id\": \"j\", \"type\": \"text.join\"},\n"
        " {\"id\": \"out\", \"type\": \"text.output\"}],\n"
        " \"edges\": [\n"
        " {\"from\": \"in\", \"to\": [\"a\", \"b\"]},\n"
        " {\"from\": \"b\", \"to\": \"b2\"},\n"
        " {\"from\": [\"a\", \"b2\"], \"to\": \"j\", \"fan_in\": true},\n"
        " {\"from\": \"j\", \"to\": \"out\"}]}");
    s_run_expect(late, "abc", "ABC cba!\n");
}

/* One tagged output per predicate that holds: in -> t_NAME (appends
 * "|NAME") -> o_NAME, the first edge conditional. Outputs come out by
 * executor id, so in predicate-name order. */
static const char *const s_predicates[][2] = {
    {"eq", "{\"eq\": \"7\"}"},
    {"ne", "{\"ne\": \"7\"}"},
    {"prefix", "{\"prefix\": \"1\"}"},
    {"contains", "{\"contains\": \"5\"}"},
    {"int_lt", "{\"int_lt\": 10}"},
    {"int_le", "{\"int_le\": 10}"},
    {"int_gt", "{\"int_gt\": 10}"},
    {"int_ge", "{\"int_ge\": 10}"},
    {"not", "{\"not\": {\"eq\": \"7\"}}"},
    {"all", "{\"all\": [{\"int_ge\": 0}, {\"int_lt\": 10}]}"},
    {"any", "{\"any\": [{\"eq\": \"y\"}, {\"eq\": \"15\"}]}"},
    {"always", "{\"always\": null}"},
    {"never", "{\"never\": null}"},
};

static const char *
s_predicate_spec(void)
{
    size_t n = sizeof s_predicates / sizeof s_predicates[0];
    char *executors = strdup("{\"id\": \"in\", \"type\": \"text.lower\"}");
    char *edges = strdup("");
    for (size_t i = 0; i < n; i++) {
        const char *name = s_predicates[i][0], *when = s_predicates[i][1];
        char *e = NULL, *d = NULL;
        assert_true(asprintf(&e,
                             "%s,\n {\"id\": \"t_%s\", \"type\": "
                             "\"text.append\", \"config\": {\"suffix\": "
                             "\"|%s\"}},\n {\"id\": \"o_%s\", \"type\": "
                             "\"text.output\"}",
                             executors, name, name, name)
                    > 0);
        assert_true(asprintf(&d,
                             "%s%s\n {\"from\": \"in\", \"to\": \"t_%s\", "
                             "\"when\": %s},\n {\"from\": \"t_%s\", \"to\": "
                             "\"o_%s\"}",
                             edges, i ? "," : "", name, when, name, name)
                    > 0);
        free(executors);
        free(edges);
        executors = e;
        edges = d;
    }
    char *doc = NULL;
    assert_true(asprintf(&doc,
                         "{\"start\": \"in\", \"executors\": [\n %s],\n "
                         "\"edges\": [%s]}\n",
                         executors, edges)
                > 0);
    const char *path = s_spec("predicates.json", doc);
    free(executors);
    free(edges);
    free(doc);
    return path;
}

static void
test_cli_predicates(void **state)
{
    (void)state;
    const char *spec = s_predicate_spec();
    s_run_expect(spec, "7", "7|all\n7|always\n7|eq\n7|int_le\n7|int_lt\n");
    s_run_expect(spec, "10",
                 "10|always\n10|int_ge\n10|int_le\n10|ne\n10|not\n"
                 "10|prefix\n");
    s_run_expect(spec, "15",
                 "15|always\n15|any\n15|contains\n15|int_ge\n15|int_gt\n"
                 "15|ne\n15|not\n15|prefix\n");
    s_run_expect(spec, "-3",
                 "-3|always\n-3|int_le\n-3|int_lt\n-3|ne\n-3|not\n");
    /* not integers: every int_* is false */
    s_run_expect(spec, "abc", "abc|always\nabc|ne\nabc|not\n");
    s_run_expect(spec, "y", "y|always\ny|any\ny|ne\ny|not\n");
    s_run_expect(spec, "1.5",
                 "1.5|always\n1.5|contains\n1.5|ne\n1.5|not\n1.5|prefix\n");
}

/* ---- malformed specs ---- */

typedef struct {
    const char *json;
    const char *message; /* expected in stderr after "bad.json: " */
} s_bad_spec_t;

#define EXEC_A "{\"id\": \"a\", \"type\": \"text.output\"}"
#define EXEC_B "{\"id\": \"b\", \"type\": \"text.upper\"}"

static const s_bad_spec_t s_bad_specs[] = {
    {"{\"start\": \"a\",\n \"executors\" [" EXEC_A "]}",
     "line 2, column 14: ':' expected"},
    {"{\"start\": \"a\", \"start\": \"a\", \"executors\": [" EXEC_A "]}",
     "line 1, column 22: duplicate object key"},
    {"{\"start\": \"a\xff\", \"executors\": [" EXEC_A "]}",
     "line 1, column 12: unable to decode byte 0xff near '\"a'"},
    {"[1, 2]", "$: expected an object, found an array"},
    {"{\"executors\": [" EXEC_A "]}", "$: missing required key 'start'"},
    {"{\"start\": 5, \"executors\": [" EXEC_A "]}",
     "start: expected a string, found an integer"},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.output\", \"colour\": \"red\"}]}",
     "executors[0]: unknown key 'colour' (expected one of: id, type, "
     "config, accepts, label, retry, timeout_ms, on_failure)"},
    {"{\"start\": \"a\", \"executor\": [" EXEC_A "]}",
     "$: unknown key 'executor'"},
    {"{\"start\": \"a\", \"executors\": []}",
     "executors: expected a non-empty array of executors, found an empty "
     "array"},
    {"{\"start\": \"a\", \"max_supersteps\": 0, \"executors\": [" EXEC_A "]}",
     "max_supersteps: must be a positive integer, found 0"},
    {"{\"start\": \"a\", \"checkpoint\": \"every:0\", \"executors\": [" EXEC_A
     "]}",
     "checkpoint: expected one of: every, every:N (N >= 1), on-error, "
     "manual, none; found 'every:0'"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", {\"id\": \"b\", \"type\": "
     "\"text.nope\"}]}",
     "executors[1].type: executor 'b': unknown executor type 'text.nope'"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B ", " EXEC_A "]}",
     "executors[2].id: executor 'a': duplicate executor id"},
    {"{\"start\": \"a b\", \"executors\": [{\"id\": \"a b\", \"type\": "
     "\"text.output\"}]}",
     "executors[0].id: executor 'a b': id must match [A-Za-z0-9_-]{1,64}"},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.append\", \"config\": {\"suffx\": \"!\"}}]}",
     "executors[0].config: executor 'a' (type 'text.append'): bad config: "
     "text.append: unknown config field 'suffx'"},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.append\", \"config\": {\"suffix\": "
     "\"${CAIRN_CLI_TEST_UNSET}\"}}]}",
     "executors[0].config: executor 'a' (type 'text.append'): bad config: "
     "text.append: config field 'suffix': environment variable "
     "CAIRN_CLI_TEST_UNSET is not set"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"to\": \"b\"}, {\"from\": \"b\", "
     "\"to\": \"zzz\"}]}",
     "edges[1].to: edge #2 from 'b': unknown executor 'zzz'"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"to\": [\"b\", \"a\"], \"when\": "
     "{\"eq\": \"x\"}}]}",
     "edges[0].when: a fan-out edge (\"to\" is a list) cannot have a "
     "condition"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"switch\": [{\"when\": {\"eq\": "
     "\"x\"}, \"to\": \"b\"}]}]}",
     "edges[0].switch: exactly one case must be the default, found none"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"switch\": [{\"default\": true, "
     "\"to\": \"b\"}, {\"when\": {\"eq\": \"x\"}, \"to\": \"b\"}, "
     "{\"default\": true, \"to\": \"a\"}]}]}",
     "edges[0].switch[2]: exactly one case must be the default; switch[0] "
     "already is"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": [\"a\"], \"to\": \"b\", \"fan_in\": true}]}",
     "edges[0].from: a fan-in edge needs at least two sources, found 1"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"to\": \"b\", \"when\": {\"bogus\": "
     "1}}]}",
     "edges[0].when: unknown predicate 'bogus'"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"to\": \"b\", \"when\": {\"int_lt\": "
     "\"ten\"}}]}",
     "edges[0].when: predicate 'int_lt': argument 'ten' is not a decimal "
     "integer"},
    {"{\"start\": \"zz\", \"executors\": [" EXEC_A "]}",
     "start: unknown executor 'zz'"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"to\": \"b\", \"when\": {\"eq\": "
     "\"x\", \"ne\": \"y\"}}]}",
     "edges[0].when"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": [\"a\", \"b\"], \"to\": \"b\"}]}",
     "edges[0].from"},
    {"{\"start\": \"a\", \"executors\": [" EXEC_A ", " EXEC_B "],\n"
     " \"edges\": [{\"from\": \"a\", \"to\": \"b\", \"when\": {\"not\": "
     "{\"eqq\": \"x\"}}}]}",
     "edges[0].when"},
};

static void
test_cli_malformed_specs(void **state)
{
    (void)state;
    const char *spec = s_path("bad.json");
    s_result_t r = {0};
    size_t n = sizeof s_bad_specs / sizeof s_bad_specs[0];
    for (size_t i = 0; i < n; i++) {
        const s_bad_spec_t *bad = &s_bad_specs[i];
        s_write(spec, bad->json, strlen(bad->json));
        s_cairn(&r, "run", spec, "--input", "x", "--durability", "none", NULL);
        char expected[512];
        snprintf(expected, sizeof expected, "bad.json: %s", bad->message);
        if (r.code != 2 || r.out_len != 0 || !strstr(r.err, expected))
            fail_msg("spec #%zu: exit %d (expected 2), stdout '%s', "
                     "stderr:\n%s\nexpected in stderr: %s",
                     i, r.code, r.out, r.err, expected);
    }
}

/* ---- plugins ---- */

static void
test_cli_plugin_greet(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "run", GREET, "--plugin", GREET_SO, "--input", "please",
            "--durability", "none", NULL);
    s_expect(&r, 0, "hello, please\n", NULL);
    s_cairn(&r, "run", GREET, "--plugin", GREET_SO, "--input", "bob",
            "--durability", "none", NULL);
    s_expect(&r, 0, "HELLO, BOB\n", NULL);
    /* resume finds the plugin through the run record */
    const char *db = s_path("db");
    s_cairn(&r, "run", GREET, "--plugin", GREET_SO, "--input", "x, please",
            "--db", db, "--run-id", "g", "--max-supersteps", "1", NULL);
    s_expect(&r, 4, "", NULL);
    s_cairn(&r, "resume", "g", "--db", db, "--max-supersteps", "5", NULL);
    s_expect(&r, 0, "hello, x, please\n", NULL);
    /* without the plugin its predicate is unknown */
    s_cairn(&r, "run", GREET, "--input", "bob", "--durability", "none", NULL);
    s_expect(&r, 2, "", "unknown predicate 'greet.polite'");
}

static void
test_cli_plugin_wrong_abi(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "run", GREET, "--plugin", WRONG_ABI_SO, "--input", "bob",
            "--durability", "none", NULL);
    s_expect(&r, 2, "", "ABI");
    assert_non_null(strstr(r.err, "libcairn_greet_wrong_abi.so"));
}

static void
test_cli_plugin_missing(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "run", GREET, "--plugin", s_path("libnope.so"), "--input",
            "bob", "--durability", "none", NULL);
    s_expect(&r, 2, "", "libnope.so");
}

/* ---- inspection beside a live run, kill -9 and resume ---- */

static void
test_cli_inspect_live_run(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 30);
    const char *db = s_path("db");
    s_proc_t writer;
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "live", "--allow-exec", NULL);
    s_wait_checkpoints(db, "live", 3);
    s_result_t r = {0};

    json_t *run = s_run_entry(db, "live");
    assert_string_equal(json_string_value(json_object_get(run, "status")),
                        "running");
    assert_string_equal(json_string_value(json_object_get(run, "workflow")),
                        "slow");
    assert_int_equal(json_integer_value(json_object_get(run, "pid")),
                     writer.pid);

    s_cairn(&r, "checkpoints", "live", "--db", db, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "live@0"));
    assert_non_null(strstr(r.out, "live@1"));

    s_cairn(&r, "show", "live@1", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *cp = s_json(r.out);
    assert_string_equal(json_string_value(json_object_get(cp, "id")), "live@1");
    assert_int_equal(json_integer_value(json_object_get(cp, "superstep")), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(cp, "state"), "ping"), "count")),
        "1");

    s_cairn(&r, "show", "live@1", "--db", db, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "live@1"));

    s_cairn(&r, "export", "live", "--db", db, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_true(r.out_len > 0);

    /* all of that while the writer still ran */
    assert_true(s_alive(&writer));
    s_open_gate();
    s_wait(&writer, &r);
    s_expect(&r, 0, "30\n", "run live");

    assert_string_equal(s_run_status(db, "live"), "completed");
}

static void
test_cli_kill_and_resume(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 15);
    const char *db = s_path("db");
    s_result_t r = {0};
    /* what an uninterrupted run gives */
    s_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
            "--allow-exec", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *expected = s_json(r.out);

    s_proc_t victim;
    s_close_gate();
    s_start(&victim, "run", spec, "--input", "0", "--db", db, "--run-id", "k",
            "--allow-exec", NULL);
    s_wait_checkpoints(db, "k", 4);
    assert_int_equal(kill(victim.pid, SIGKILL), 0);
    s_wait(&victim, &r);
    assert_int_equal(r.code, 128 + SIGKILL);
    s_open_gate();

    assert_string_equal(s_run_status(db, "k"), "interrupted");
    s_cairn(&r, "runs", "--db", db, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "interrupted"));

    s_cairn(&r, "resume", "k", "--db", db, "--json", "--allow-exec", NULL);
    s_expect(&r, 0, NULL, "run k");
    json_t *got = s_json(r.out);
    assert_true(json_equal(json_object_get(got, "outputs"),
                           json_object_get(expected, "outputs")));
    assert_int_equal(
        json_integer_value(json_object_get(got, "supersteps")),
        json_integer_value(json_object_get(expected, "supersteps")));
    assert_string_equal(json_string_value(json_object_get(got, "status")),
                        "completed");

    assert_string_equal(s_run_status(db, "k"), "completed");
}

/* Three durable runs in one store, each SIGKILLed mid-run, are all
 * completed by one `cairn recover` with the uninterrupted result; a
 * completed run is left alone, and a second recover finds nothing. */
static void
test_cli_recover_three_runs(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 8);
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
            "--allow-exec", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *expected = s_json(r.out);
    s_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "done",
            "--allow-exec", NULL);
    s_expect(&r, 0, NULL, NULL);
    const char *ids[] = {"r1", "r2", "r3"};
    s_close_gate();
    for (int i = 0; i < 3; i++) {
        s_proc_t victim;
        s_start(&victim, "run", spec, "--input", "0", "--db", db, "--run-id",
                ids[i], "--allow-exec", NULL);
        s_wait_checkpoints(db, ids[i], 3 + (size_t)i);
        assert_int_equal(kill(victim.pid, SIGKILL), 0);
        s_wait(&victim, &r);
        assert_string_equal(s_run_status(db, ids[i]), "interrupted");
    }
    s_open_gate();
    s_cairn(&r, "recover", "--db", db, "--json", "--allow-exec", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *report = s_json(r.out);
    assert_int_equal(json_array_size(report), 3);
    for (int i = 0; i < 3; i++) {
        json_t *entry = json_array_get(report, (size_t)i);
        assert_string_equal(
            json_string_value(json_object_get(entry, "run_id")), ids[i]);
        assert_string_equal(
            json_string_value(json_object_get(entry, "status")), "completed");
        assert_int_equal(
            json_integer_value(json_object_get(entry, "supersteps")),
            json_integer_value(json_object_get(expected, "supersteps")));
        assert_string_equal(s_run_status(db, ids[i]), "completed");
        /* resuming a completed run prints all its outputs */
        s_cairn(&r, "resume", ids[i], "--db", db, "--json", "--allow-exec",
                NULL);
        s_expect(&r, 0, NULL, "already completed");
        assert_true(json_equal(json_object_get(s_json(r.out), "outputs"),
                               json_object_get(expected, "outputs")));
    }
    s_cairn(&r, "recover", "--db", db, NULL);
    s_expect(&r, 0, "", "no interrupted runs");
}

/* ---- graph, gc, export/import ---- */

static const char *
s_all_edges_spec(void)
{
    return s_spec(
        "graph.json",
        "{\"name\": \"shapes\", \"start\": \"in\", \"executors\": [\n"
        " {\"id\": \"in\", \"type\": \"text.lower\"},\n"
        " {\"id\": \"a\", \"type\": \"text.upper\"},\n"
        " {\"id\": \"b\", \"type\": \"text.reverse\"},\n"
        " {\"id\": \"j\", \"type\": \"text.join\"},\n"
        " {\"id\": \"sw\", \"type\": \"text.lower\"},\n"
        " {\"id\": \"hi\", \"type\": \"text.output\"},\n"
        " {\"id\": \"lo\", \"type\": \"text.output\"},\n"
        " {\"id\": \"bang\", \"type\": \"text.output\"}],\n"
        " \"edges\": [\n"
        " {\"from\": \"in\", \"to\": [\"a\", \"b\"]},\n"
        " {\"from\": [\"a\", \"b\"], \"to\": \"j\", \"fan_in\": true},\n"
        " {\"from\": \"j\", \"to\": \"sw\"},\n"
        " {\"from\": \"in\", \"to\": \"bang\", \"when\": {\"prefix\": "
        "\"!\"}},\n"
        " {\"from\": \"sw\", \"switch\": [\n"
        "   {\"when\": {\"contains\": \"z\"}, \"to\": \"hi\"},\n"
        "   {\"default\": true, \"to\": \"lo\"}]}]}");
}

static void
s_assert_contains_all(const char *text, const char *const *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strstr(text, parts[i]))
            fail_msg("graph lacks \"%s\":\n%s", parts[i], text);
}

static void
test_cli_graph(void **state)
{
    (void)state;
    const char *spec = s_all_edges_spec();
    s_result_t r = {0};
    s_cairn(&r, "graph", spec, "--format", "dot", NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_true(strncmp(r.out, "digraph", 7) == 0);
    static const char *const dot[] = {
        "\"in\" [",         "\"a\" [",
        "\"b\" [",          "\"j\" [",
        "\"sw\" [",         "\"hi\" [",
        "\"lo\" [",         "\"bang\" [",
        "\"in\" -> \"a\"",  "\"in\" -> \"b\"",
        "\"a\" -> \"j\"",   "\"b\" -> \"j\"",
        "\"j\" -> \"sw\"",  "\"in\" -> \"bang\"",
        "\"sw\" -> \"hi\"", "\"sw\" -> \"lo\"",
        "prefix",           "default",
    };
    s_assert_contains_all(r.out, dot, sizeof dot / sizeof dot[0]);
    /* dot is the default */
    char *dot_text = s_keep(strdup(r.out));
    s_cairn(&r, "graph", spec, NULL);
    s_expect(&r, 0, dot_text, NULL);

    s_cairn(&r, "graph", spec, "--format", "mermaid", NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_true(strncmp(r.out, "flowchart", 9) == 0);
    static const char *const mermaid[] = {
        "  in",     "  a[",    "  b[",     "  j[",     "  sw[",  "  hi[",
        "  lo[",    "  bang[", "in --> a", "in --> b", "a -.->", "b -.->",
        "j --> sw", "in -->|", "| bang",   "sw -->|",  "| hi",   "| lo",
    };
    s_assert_contains_all(r.out, mermaid, sizeof mermaid / sizeof mermaid[0]);

    s_cairn(&r, "graph", spec, "--format", "svg", NULL);
    s_expect(&r, 2, "", "svg");
    const char *bad = s_spec("bad.json", "{\"start\": \"x\"}");
    s_cairn(&r, "graph", bad, NULL);
    s_expect(&r, 2, "", "bad.json: $: missing required key 'executors'");
    s_cairn(&r, "graph", GREET, NULL);
    s_expect(&r, 2, "", "greet.polite");
    s_cairn(&r, "graph", GREET, "--plugin", GREET_SO, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "\"greet\" -> \"polite\""));
}

static void
test_cli_gc_keep_last(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "g", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    s_cairn(&r, "gc", "--keep-last", "2", "--db", db, NULL);
    s_expect(&r, 0, "", NULL);
    char *ids = s_checkpoint_ids(db, "g");
    assert_string_equal(ids, "g@4,g@3");
    /* what is left still reads, and resuming the run is a no-op */
    s_cairn(&r, "show", "g@3", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    s_cairn(&r, "resume", "g", "--db", db, NULL);
    s_expect(&r, 0, "dlrow olleh\n", "already completed");
}

static void
test_cli_export_import(void **state)
{
    (void)state;
    const char *a = s_path("a"), *b = s_path("b"), *file = s_path("run.exp");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", a,
            "--run-id", "p", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    s_cairn(&r, "export", "p", "--db", a, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_true(r.out_len > 0);
    s_write(file, r.out, r.out_len);

    s_cairn(&r, "import", file, "--db", b, NULL);
    s_expect(&r, 0, "", "p");
    char *ids_a = s_checkpoint_ids(a, "p");
    char *ids_b = s_checkpoint_ids(b, "p");
    assert_string_equal(ids_a, ids_b);
    assert_string_equal(ids_a, "p@4,p@3,p@2,p@1,p@0");

    /* an older checkpoint resumes (as a fork) to the same output in both */
    s_cairn(&r, "resume", "p@2", "--db", a, NULL);
    s_expect(&r, 0, "dlrow olleh\n", "forked");
    s_cairn(&r, "resume", "p@2", "--db", b, NULL);
    s_expect(&r, 0, "dlrow olleh\n", "forked");

    /* again: the run exists, unless imported under another id */
    s_cairn(&r, "import", file, "--db", b, NULL);
    s_expect(&r, 2, "", "--as");
    s_cairn(&r, "import", file, "--db", b, "--as", "copy", NULL);
    s_expect(&r, 0, "", "copy");
    char *ids_copy = s_checkpoint_ids(b, "copy");
    assert_string_equal(ids_copy, "copy@4,copy@3,copy@2,copy@1,copy@0");
    s_cairn(&r, "resume", "copy@1", "--db", b, NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);

    s_cairn(&r, "import", s_path("missing.exp"), "--db", b, NULL);
    s_expect(&r, 2, "", "missing.exp");
}

/* ---- util.exec ---- */

static void
test_cli_exec_needs_allow_exec(void **state)
{
    (void)state;
    const char *spec = s_spec(
        "exec.json",
        "{\"start\": \"cat\", \"executors\": [\n"
        " {\"id\": \"cat\", \"type\": \"util.exec\", \"config\": {\"argv\": "
        "[\"/bin/cat\"]}},\n"
        " {\"id\": \"o\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"cat\", \"to\": \"o\"}]}");
    const char *db = s_path("db");
    s_result_t r = {0};
    /* refused before anything is stored (runrecord_cases.h has more) */
    s_cairn(&r, "run", spec, "--input", "meow", "--db", db, "--run-id", "x",
            NULL);
    s_expect(&r, 2, "", "--allow-exec");
    /* the permission is not stored: resume needs it too */
    s_cairn(&r, "run", spec, "--input", "meow", "--db", db, "--run-id", "x",
            "--allow-exec", "--max-supersteps", "1", NULL);
    s_expect(&r, 4, "", NULL);
    s_cairn(&r, "resume", "x", "--db", db, "--max-supersteps", "5", NULL);
    s_expect(&r, 2, "", "--allow-exec");
    s_cairn(&r, "resume", "x", "--db", db, "--allow-exec", "--max-supersteps",
            "5", NULL);
    s_expect(&r, 0, "meow\n", NULL);
    s_cairn(&r, "run", spec, "--input", "purr", "--durability", "none",
            "--allow-exec", NULL);
    s_expect(&r, 0, "purr\n", NULL);
}

/* The distinct pids of the spawned workers (their ids are worker-PID-...)
 * that joined, from --events output, into pids (room for 16). A worker
 * taken for lost on a slow machine may join twice: counted once. */
static int
s_spawned_pids(const char *events, long *pids)
{
    int distinct = 0;
    for (const char *line = events; line && *line;) {
        const char *end = strchr(line, '\n');
        const char *detail = strstr(line, "\"detail\":\"worker-");
        if (strstr(line, "\"event\":\"worker_joined\"") && detail
            && (!end || detail < end)) {
            long pid = strtol(detail + strlen("\"detail\":\"worker-"), NULL,
                              10);
            assert_true(pid > 0);
            bool seen = false;
            for (int i = 0; i < distinct; i++)
                seen = seen || pids[i] == pid;
            if (!seen && distinct < 16)
                pids[distinct++] = pid;
        }
        line = end ? end + 1 : NULL;
    }
    return distinct;
}

/* --spawn-workers 2: the run uses two local worker processes (their
 * pids are in their ids, announced by worker_joined events) and none of
 * them is left once cairn exits. */
static void
test_cli_spawn_workers_leave_nothing_behind(void **state)
{
    (void)state;
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db",
            s_path("db"), "--spawn-workers", "2", "--events", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    long pids[16];
    int distinct = s_spawned_pids(r.err, pids);
    assert_int_equal(distinct, 2);
    /* Reaped by cairn before it exited: no such process now. */
    for (int i = 0; i < distinct; i++)
        assert_int_equal(kill((pid_t)pids[i], 0), -1);
    assert_non_null(strstr(r.err, "\"event\":\"worker_joined\""));
}

/* --spawn-workers 2 beside a CURVE --listen: the spawned workers join
 * over their private ipc endpoint, which asks for no key, and a remote
 * worker with a listed key over tcp; a remote worker without a key is
 * refused (and says so), the output is the in-process one, and no
 * spawned worker or socket file is left behind. */
static void
test_cli_spawn_workers_with_curve(void **state)
{
    (void)state;
    const char *spec = s_spec("slow.json", SLOW_SPEC(30));
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
            NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *expected = s_json(r.out);

    const char *server = s_path("server"), *listed = s_path("listed");
    s_cairn(&r, "keygen", server, NULL);
    s_expect(&r, 0, NULL, NULL);
    s_cairn(&r, "keygen", listed, NULL);
    s_expect(&r, 0, NULL, NULL);
    const char *allow = s_path("allow");
    assert_int_equal(mkdir(allow, 0700), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/key.pub", listed);
    size_t len;
    const char *listed_public = s_slurp(path, &len);
    snprintf(path, sizeof path, "%s/listed.pub", allow);
    s_write(path, listed_public, len);
    char secret[256], listed_secret[256], server_public[256];
    snprintf(secret, sizeof secret, "%s/key", server);
    snprintf(listed_secret, sizeof listed_secret, "%s/key", listed);
    snprintf(server_public, sizeof server_public, "%s/key.pub", server);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_port());

    /* The workers are up and connecting before the coordinator starts,
     * and it waits for all three as long as it takes (bounded): on a
     * loaded machine their start-up alone could outlast the default 10 s
     * wait, or the whole run, and the run went on without them. */
    s_proc_t coordinator, remote, rogue;
    s_start(&remote, "worker", "--connect", endpoint, "--id", "remote",
            "--curve-secret", listed_secret, "--server-key", server_public,
            "--give-up-after", "30", NULL);
    s_start(&rogue, "worker", "--connect", endpoint, "--id", "rogue",
            "--give-up-after", "30", NULL);
    s_wait_stderr(&remote, "worker connecting to");
    s_wait_stderr(&rogue, "worker connecting to");
    s_start(&coordinator, "run", spec, "--input", "0", "--durability", "none",
            "--json", "--events", "--spawn-workers", "2", "--min-workers", "3",
            "--worker-wait-ms", S_WORKER_WAIT_MS, "--listen", endpoint,
            "--curve-secret", secret, "--allow-keys", allow, NULL);
    s_wait(&rogue, &r);
    s_expect(&r, 1, "", "refused the connection");
    s_wait(&coordinator, &r);
    s_expect(&r, 0, NULL, "refused a worker connection");
    json_t *got = s_json(r.out);
    assert_true(json_equal(json_object_get(got, "outputs"),
                           json_object_get(expected, "outputs")));
    assert_int_equal(
        json_integer_value(json_object_get(got, "supersteps")),
        json_integer_value(json_object_get(expected, "supersteps")));
    assert_non_null(strstr(r.err, "\"detail\":\"remote\""));
    assert_null(strstr(r.err, "\"detail\":\"rogue\""));
    long pids[16];
    int distinct = s_spawned_pids(r.err, pids);
    assert_int_equal(distinct, 2);
    for (int i = 0; i < distinct; i++)
        assert_int_equal(kill((pid_t)pids[i], 0), -1);
    snprintf(path, sizeof path, "/tmp/cairn-%lu/workers-%ld.ipc",
             (unsigned long)getuid(), (long)coordinator.pid);
    assert_false(s_exists(path));

    assert_int_equal(kill(remote.pid, SIGTERM), 0);
    s_wait(&remote, &r);
    assert_int_equal(r.code, 0);
}

/* The coordinator is SIGKILLed mid-run; resumed on the same endpoint, it
 * gets its two workers back (they say Hello again once it is silent) and
 * the run ends as an uninterrupted one does. */
static void
test_cli_coordinator_killed_workers_rejoin(void **state)
{
    (void)state;
    const char *spec = s_spec("slow.json", SLOW_SPEC(12));
    const char *db = s_path("db");
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_port());
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
            NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *expected = s_json(r.out);

    s_proc_t w1, w2, coordinator;
    s_start(&w1, "worker", "--connect", endpoint, "--give-up-after", "30",
            NULL);
    s_start(&w2, "worker", "--connect", endpoint, "--give-up-after", "30",
            NULL);
    s_start(&coordinator, "run", spec, "--input", "0", "--db", db,
            "--run-id", "c", "--listen", endpoint, "--min-workers", "2",
            NULL);
    s_wait_checkpoints(db, "c", 4);
    assert_int_equal(kill(coordinator.pid, SIGKILL), 0);
    s_wait(&coordinator, &r);
    assert_int_equal(r.code, 128 + SIGKILL);

    s_cairn(&r, "resume", "c", "--db", db, "--listen", endpoint,
            "--min-workers", "2", "--json", "--events", NULL);
    s_expect(&r, 0, NULL, "worker_joined");
    json_t *got = s_json(r.out);
    assert_true(json_equal(json_object_get(got, "outputs"),
                           json_object_get(expected, "outputs")));
    assert_int_equal(
        json_integer_value(json_object_get(got, "supersteps")),
        json_integer_value(json_object_get(expected, "supersteps")));
    /* Both workers came back. */
    const char *second = strstr(r.err, "worker_joined");
    assert_non_null(second);
    assert_non_null(strstr(second + 1, "worker_joined"));

    /* Workers stop cleanly on SIGTERM. */
    assert_int_equal(kill(w1.pid, SIGTERM), 0);
    assert_int_equal(kill(w2.pid, SIGTERM), 0);
    s_wait(&w1, &r);
    assert_int_equal(r.code, 0);
    s_wait(&w2, &r);
    assert_int_equal(r.code, 0);
}

static json_t **
s_json_lines(const char *text, size_t *count);

/* An ipc endpoint of this test process's own, with a tag. */
static const char *
s_ipc_endpoint(const char *tag)
{
    static char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "ipc:///tmp/cairn-test-%s-%ld.ipc",
             tag, (long)getpid());
    return endpoint;
}

/* Placement from the spec: an executor type no registry here knows is
 * refused without --listen as before (exit 2), and with --listen fails
 * after --worker-wait-ms naming the executor and its type, writing no
 * run; a labelled executor does not run on a worker without its label,
 * nor in-process, and runs once a worker carries it. --on-worker-loss
 * takes worker or in-process, and only with workers. */
static void
test_cli_placement_labels_and_worker_only_types(void **state)
{
    (void)state;
    const char *db = s_path("db");
    const char *remote = s_spec(
        "remote.json",
        "{\"name\": \"remote\", \"start\": \"far\",\n"
        " \"executors\": [{\"id\": \"far\", \"type\": \"test.nowhere\"}],\n"
        " \"edges\": []}\n");
    s_result_t r = {0};
    s_cairn(&r, "run", remote, "--input", "x", "--db", db, NULL);
    s_expect(&r, 2, "",
             "executors[0].type: executor 'far': unknown executor type "
             "'test.nowhere'");
    const char *endpoint = s_ipc_endpoint("place");
    uint64_t started = s_now_ms();
    s_cairn(&r, "run", remote, "--input", "x", "--db", db, "--listen",
            endpoint, "--worker-wait-ms", "400", NULL);
    s_expect(&r, 2, "",
             "executor 'far' (type 'test.nowhere'): no worker offering that "
             "type joined within 400 ms");
    assert_true(s_now_ms() - started >= 400);
    s_cairn(&r, "runs", "--db", db, "--json", NULL);
    s_expect(&r, 0, "[]\n", NULL);

    const char *labelled = s_spec(
        "labelled.json",
        "{\"name\": \"labelled\", \"start\": \"up\",\n"
        " \"executors\": [\n"
        "   {\"id\": \"up\", \"type\": \"text.upper\", \"label\": \"gpu\"},\n"
        "   {\"id\": \"out\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"up\", \"to\": \"out\"}]}\n");
    s_proc_t plain, gpu;
    s_start(&plain, "worker", "--connect", endpoint, "--id", "plain",
            "--give-up-after", "30", NULL);
    /* up before the 1500 ms wait starts: its start-up alone may take
     * that long on a loaded machine */
    s_wait_stderr(&plain, "worker connecting to");
    s_cairn(&r, "run", labelled, "--input", "hi", "--db", db, "--listen",
            endpoint, "--min-workers", "1", "--worker-wait-ms", "1500",
            "--events", NULL);
    s_expect(&r, 2, "",
             "executor 'up' (type 'text.upper', label 'gpu'): no worker "
             "offering that type with that label joined within 1500 ms");
    assert_non_null(strstr(r.err, "\"event\":\"worker_joined\""));
    s_start(&gpu, "worker", "--connect", endpoint, "--id", "gpu-box",
            "--label", "gpu", "--give-up-after", "30", NULL);
    s_cairn(&r, "run", labelled, "--input", "hi", "--db", db, "--listen",
            endpoint, "--worker-wait-ms", "10000", "--run-id", "l", NULL);
    s_expect(&r, 0, "HI\n", NULL);
    s_cairn(&r, "runs", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_int_equal(json_array_size(s_json(r.out)), 1);
    assert_int_equal(kill(plain.pid, SIGTERM), 0);
    assert_int_equal(kill(gpu.pid, SIGTERM), 0);
    s_wait(&plain, &r);
    assert_int_equal(r.code, 0);
    s_wait(&gpu, &r);
    assert_int_equal(r.code, 0);

    s_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "none",
            "--listen", endpoint, "--on-worker-loss", "nowhere", NULL);
    s_expect(&r, 2, "",
             "--on-worker-loss must be worker or in-process, not 'nowhere'");
    s_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "none",
            "--on-worker-loss", "in-process", NULL);
    s_expect(&r, 2, "", "--on-worker-loss needs --listen or --spawn-workers");
}

/* A worker SIGKILLed mid-run: its executors move, each move is an
 * executor_moved event (in `cairn events` too) saying from where to
 * where, and the run ends as an uninterrupted one does; with
 * --on-worker-loss in-process they move into the coordinator. The run
 * waits at its gate until the coordinator has seen the loss, so it
 * cannot end first on a loaded machine. */
static void
test_cli_lost_worker_executors_moved_events(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 12);
    const char *db = s_path("db");
    s_result_t r = {0};
    for (int round = 0; round < 2; round++) {
        bool in_process = round == 1;
        const char *endpoint = s_ipc_endpoint(in_process ? "lossb" : "lossa");
        const char *run = in_process ? "m2" : "m1";
        s_proc_t a, b, coordinator;
        s_start(&a, "worker", "--connect", endpoint, "--id", "w-a",
                "--give-up-after", "30", "--allow-exec", NULL);
        s_start(&b, "worker", "--connect", endpoint, "--id", "w-b",
                "--give-up-after", "30", "--allow-exec", NULL);
        s_close_gate();
        s_start(&coordinator, "run", spec, "--input", "0", "--db", db,
                "--run-id", run, "--listen", endpoint, "--min-workers", "2",
                "--on-worker-loss", in_process ? "in-process" : "worker",
                "--allow-exec", "--events", NULL);
        s_wait_checkpoints(db, run, 4);
        assert_int_equal(kill(a.pid, SIGKILL), 0);
        s_wait(&a, &r);
        s_wait_stderr(&coordinator, "\"worker_lost\"");
        s_open_gate();
        s_wait(&coordinator, &r);
        s_expect(&r, 0, "12\n", NULL);
        s_cairn(&r, "events", run, "--db", db, "--json", NULL);
        s_expect(&r, 0, NULL, NULL);
        size_t count = 0, moved = 0, lost = 0;
        json_t **lines = s_json_lines(r.out, &count);
        for (size_t i = 0; i < count; i++) {
            const char *kind =
                json_string_value(json_object_get(lines[i], "event"));
            const char *detail =
                json_string_value(json_object_get(lines[i], "detail"));
            lost += strcmp(kind, "worker_lost") == 0;
            if (strcmp(kind, "executor_moved") != 0)
                continue;
            moved++;
            assert_string_equal(detail, in_process ? "from w-a to in-process"
                                                   : "from w-a to w-b");
            assert_non_null(json_string_value(
                json_object_get(lines[i], "executor")));
        }
        assert_int_equal(lost, 1);
        /* w-a held some of the four executors, w-b the others */
        assert_true(moved >= 1 && moved <= 3);
        s_cairn(&r, "events", run, "--db", db, NULL);
        s_expect(&r, 0, NULL, NULL);
        assert_non_null(strstr(r.out, "executor_moved"));
        assert_int_equal(kill(b.pid, SIGTERM), 0);
        s_wait(&b, &r);
        assert_int_equal(r.code, 0);
    }
}

/* verify: a sound store exits 0; an unknown run exits 2. */
static void
test_cli_verify(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id", "v",
            NULL);
    s_expect(&r, 0, NULL, NULL);
    s_cairn(&r, "verify", "--db", db, NULL);
    s_expect(&r, 0, "", "0 problem(s)");
    s_cairn(&r, "verify", "v", "--db", db, NULL);
    s_expect(&r, 0, "", "0 problem(s)");
    s_cairn(&r, "verify", "nope", "--db", db, NULL);
    s_expect(&r, 2, NULL, "unknown run 'nope'");
}

/* ---- events: stored, bounded, replayed, followed ---- */

/* The JSON lines of text, parsed (kept); *count of them. */
static json_t **
s_json_lines(const char *text, size_t *count)
{
    json_t **lines = s_keep(calloc(strlen(text) + 1, sizeof *lines));
    size_t n = 0;
    while (*text) {
        size_t len = strcspn(text, "\n");
        char *line = s_keep(strndup(text, len));
        if (line[0] == '{')
            lines[n++] = s_json(line);
        text += len + (text[len] == '\n');
    }
    *count = n;
    return lines;
}

static const char *
s_ev_kind(json_t *ev)
{
    return json_string_value(json_object_get(ev, "event"));
}

static uint64_t
s_ev_int(json_t *ev, const char *field)
{
    return (uint64_t)json_integer_value(json_object_get(ev, field));
}

/* Asserts the seqs of lines are first, first+1, ... */
static void
s_assert_contiguous(json_t **lines, size_t n, uint64_t first)
{
    for (size_t i = 0; i < n; i++)
        if (s_ev_int(lines[i], "seq") != first + i)
            fail_msg("event %zu has seq %llu, expected %llu", i,
                     (unsigned long long)s_ev_int(lines[i], "seq"),
                     (unsigned long long)(first + i));
}

static void
test_cli_events_replay(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0}, stored = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "ev", "--events", NULL);
    s_expect(&r, 0, "dlrow olleh\n", NULL);
    size_t live_n = 0, n = 0;
    json_t **live = s_json_lines(r.err, &live_n);

    s_cairn(&stored, "events", "ev", "--db", db, "--json", NULL);
    s_expect(&stored, 0, NULL, NULL);
    json_t **lines = s_json_lines(stored.out, &n);
    /* exactly what run --events printed, in the same order */
    assert_int_equal(n, live_n);
    for (size_t i = 0; i < n; i++)
        assert_true(json_equal(lines[i], live[i]));
    s_assert_contiguous(lines, n, 1);
    /* 4 supersteps of one executor each: the kinds, in order */
    static const char *const step[] = {
        "superstep_started", "executor_invoked", "executor_completed",
        "superstep_completed", "checkpoint_written"};
    assert_string_equal(s_ev_kind(lines[0]), "run_started");
    assert_string_equal(s_ev_kind(lines[1]), "checkpoint_written");
    size_t at = 2;
    for (uint64_t superstep = 1; superstep <= 4; superstep++)
        for (size_t k = 0; k < 5; k++, at++) {
            if (superstep == 4 && k == 3) {
                assert_string_equal(s_ev_kind(lines[at]), "output");
                assert_string_equal(json_string_value(json_object_get(
                                        lines[at], "data")),
                                    "dlrow olleh");
                at++;
            }
            assert_string_equal(s_ev_kind(lines[at]), step[k]);
            assert_int_equal(s_ev_int(lines[at], "superstep"), superstep);
        }
    assert_string_equal(s_ev_kind(lines[at]), "run_ended");
    assert_string_equal(
        json_string_value(json_object_get(lines[at], "status")), "completed");
    assert_int_equal(at + 1, n);

    /* the readable form: one line per event */
    s_cairn(&r, "events", "ev", "--db", db, NULL);
    s_expect(&r, 0, NULL, NULL);
    size_t text_lines = 0;
    for (const char *p = r.out; *p; p++)
        text_lines += *p == '\n';
    assert_int_equal(text_lines, n);
    assert_non_null(strstr(r.out, "run_ended"));
    assert_non_null(strstr(r.out, "\"dlrow olleh\""));

    s_cairn(&r, "events", "nope", "--db", db, NULL);
    s_expect(&r, 2, "", "unknown run 'nope'");
    s_cairn(&r, "events", "--db", db, NULL);
    s_expect(&r, 2, "", NULL);
    s_cairn(&r, "verify", "--db", db, NULL);
    s_expect(&r, 0, "", "0 problem(s)");
}

static void
test_cli_events_bound(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "all", NULL);
    s_expect(&r, 0, NULL, NULL);
    s_cairn(&r, "events", "all", "--db", db, "--json", NULL);
    size_t total = 0;
    json_t **all = s_json_lines(r.out, &total);
    assert_true(total > 5);

    s_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "five", "--keep-events", "5", NULL);
    s_expect(&r, 0, NULL, NULL);
    s_cairn(&r, "events", "five", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    size_t n = 0;
    json_t **lines = s_json_lines(r.out, &n);
    /* the newest five: the oldest are trimmed */
    assert_int_equal(n, 5);
    s_assert_contiguous(lines, n, total - 4);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(s_ev_kind(lines[i]),
                            s_ev_kind(all[total - 5 + i]));
    assert_string_equal(s_ev_kind(lines[4]), "run_ended");

    /* across processes: a resume continues the numbering and trims what
     * the first process stored */
    s_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "two", "--max-supersteps", "2", NULL);
    s_expect(&r, 4, "", NULL);
    s_cairn(&r, "events", "two", "--db", db, "--json", NULL);
    size_t first_n = 0;
    s_json_lines(r.out, &first_n);
    assert_true(first_n > 5);
    s_cairn(&r, "resume", "two", "--db", db, "--max-supersteps", "10",
            "--keep-events", "5", NULL);
    s_expect(&r, 0, "ih\n", NULL);
    s_cairn(&r, "events", "two", "--db", db, "--json", NULL);
    lines = s_json_lines(r.out, &n);
    assert_int_equal(n, 5);
    assert_true(s_ev_int(lines[0], "seq") > first_n);
    s_assert_contiguous(lines, n, s_ev_int(lines[0], "seq"));
    assert_string_equal(s_ev_kind(lines[4]), "run_ended");

    s_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "none", "--keep-events", "0", NULL);
    s_expect(&r, 0, NULL, NULL);
    s_cairn(&r, "events", "none", "--db", db, "--json", NULL);
    s_expect(&r, 0, "", NULL);
    s_cairn(&r, "verify", "--db", db, NULL);
    s_expect(&r, 0, "", "0 problem(s)");
}

/* Stored events after kill -9 say no more than the checkpoints; resume
 * continues their numbering. */
static void
test_cli_events_kill_and_resume(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 15);
    const char *db = s_path("db");
    s_result_t r = {0};
    s_proc_t victim;
    s_close_gate();
    s_start(&victim, "run", spec, "--input", "0", "--db", db, "--run-id", "k",
            "--allow-exec", NULL);
    s_wait_checkpoints(db, "k", 5);
    assert_int_equal(kill(victim.pid, SIGKILL), 0);
    s_wait(&victim, &r);
    assert_int_equal(r.code, 128 + SIGKILL);
    s_open_gate();

    char *ids = s_checkpoint_ids(db, "k");
    uint64_t latest = strtoull(strchr(ids, '@') + 1, NULL, 10);
    s_cairn(&r, "events", "k", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    size_t n = 0;
    json_t **before = s_json_lines(r.out, &n);
    assert_true(n > 0);
    s_assert_contiguous(before, n, 1);
    assert_string_equal(s_ev_kind(before[0]), "run_started");
    for (size_t i = 0; i < n; i++) {
        /* nothing beyond the latest checkpoint's barrier */
        assert_true(s_ev_int(before[i], "superstep") <= latest);
        if (strcmp(s_ev_kind(before[i]), "checkpoint_written") == 0) {
            const char *cp =
                json_string_value(json_object_get(before[i], "detail"));
            char *needle = NULL;
            assert_true(asprintf(&needle, ",%s,", cp) > 0);
            char *haystack = NULL;
            assert_true(asprintf(&haystack, ",%s,", ids) > 0);
            s_keep(needle);
            s_keep(haystack);
            if (!strstr(haystack, needle))
                fail_msg("event names %s, not among %s", cp, ids);
        }
        assert_string_not_equal(s_ev_kind(before[i]), "run_ended");
    }
    /* the events of the latest barrier are there up to its completion */
    assert_int_equal(s_ev_int(before[n - 1], "superstep"), latest);

    s_cairn(&r, "resume", "k", "--db", db, "--allow-exec", NULL);
    s_expect(&r, 0, "15\n", NULL);
    s_cairn(&r, "events", "k", "--db", db, "--json", NULL);
    size_t m = 0;
    json_t **after = s_json_lines(r.out, &m);
    assert_true(m > n);
    s_assert_contiguous(after, m, 1);
    for (size_t i = 0; i < n; i++)
        assert_true(json_equal(after[i], before[i]));
    /* the resume starts right after what was stored, from that barrier */
    assert_string_equal(s_ev_kind(after[n]), "run_started");
    assert_int_equal(s_ev_int(after[n], "superstep"), latest);
    assert_string_equal(s_ev_kind(after[m - 1]), "run_ended");
    s_cairn(&r, "verify", "k", "--db", db, NULL);
    s_expect(&r, 0, "", "0 problem(s)");
}

/* --follow against a live run that stores events only at its end: the
 * live ones come over the events endpoint. */
static void
test_cli_events_follow(void **state)
{
    (void)state;
    /* the gate holds the run at its first step until the follower is
     * there: all of its counting happens while it follows */
    char *json = NULL;
    assert_true(
        asprintf(&json,
                 "{\"name\": \"slow\", \"start\": \"hold\",\n"
                 " \"executors\": [\n"
                 "   {\"id\": \"hold\", \"type\": \"util.exec\", "
                 "\"config\": %s},\n"
                 "   {\"id\": \"ping\", \"type\": \"count.inc\"},\n"
                 "   {\"id\": \"pace\", \"type\": \"util.sleep\", "
                 "\"config\": {\"ms\": 20}},\n"
                 "   {\"id\": \"done\", \"type\": \"text.output\"}],\n"
                 " \"edges\": [\n"
                 "   {\"from\": \"hold\", \"to\": \"ping\"},\n"
                 "   {\"from\": \"ping\", \"to\": \"pace\"},\n"
                 "   {\"from\": \"pace\", \"switch\": [\n"
                 "     {\"when\": {\"int_ge\": 25}, \"to\": \"done\"},\n"
                 "     {\"default\": true, \"to\": \"ping\"}]}]}\n",
                 s_gate_config())
        > 0);
    const char *spec = s_spec("held.json", s_keep(json));
    const char *db = s_path("db");
    s_result_t r = {0};
    s_proc_t writer, follower;
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "f", "--checkpoint", "none", "--allow-exec", NULL);
    s_wait_checkpoints(db, "f", 1);
    json_t *run = s_run_entry(db, "f");
    assert_string_equal(json_string_value(json_object_get(run, "status")),
                        "running");
    s_start(&follower, "events", "f", "--db", db, "--follow", "--json", NULL);
    /* it subscribes before it prints what is stored */
    uint64_t deadline = s_now_ms() + S_TIMEOUT_S * 1000;
    while (!s_exists(follower.out_path) || !*s_slurp(follower.out_path, NULL)) {
        if (s_now_ms() > deadline)
            fail_msg("the follower printed nothing");
        usleep(20000);
    }
    s_open_gate();
    /* live events arrive while the store holds only the entry's */
    size_t seen = 0;
    while (seen < 30) {
        if (s_now_ms() > deadline)
            fail_msg("the follower printed %zu live events", seen);
        assert_true(s_alive(&writer));
        seen = 0;
        if (!s_exists(follower.out_path))
            continue;
        for (const char *p = s_slurp(follower.out_path, NULL); *p; p++)
            seen += *p == '\n';
        usleep(20000);
    }
    s_cairn(&r, "events", "f", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    size_t stored_n = 0;
    s_json_lines(r.out, &stored_n);
    assert_true(stored_n < seen);

    s_wait(&writer, &r);
    s_expect(&r, 0, "25\n", NULL);
    s_result_t followed = {0};
    s_wait(&follower, &followed);
    s_expect(&followed, 0, NULL, NULL);
    /* all of them, once each, in order, through run_ended */
    s_cairn(&r, "events", "f", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_string_equal(followed.out, r.out);
    size_t n = 0;
    json_t **lines = s_json_lines(followed.out, &n);
    s_assert_contiguous(lines, n, 1);
    assert_string_equal(s_ev_kind(lines[n - 1]), "run_ended");
    /* the endpoint was recorded while live and its socket is gone */
    char path[96];
    snprintf(path, sizeof path, "/tmp/cairn-%u/events-%ld.ipc",
             (unsigned)getuid(), (long)writer.pid);
    assert_false(s_exists(path));
    /* following a finished run replays it and ends */
    s_cairn(&r, "events", "f", "--db", db, "--follow", "--json", NULL);
    s_expect(&r, 0, followed.out, NULL);
}

static void
test_cli_events_export_import(void **state)
{
    (void)state;
    const char *a = s_path("a"), *b = s_path("b"), *file = s_path("ev.exp");
    s_result_t r = {0}, ra = {0}, rb = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", a, "--run-id", "x",
            NULL);
    s_expect(&r, 0, NULL, NULL);
    s_cairn(&r, "export", "x", "--db", a, NULL);
    s_expect(&r, 0, NULL, NULL);
    s_write(file, r.out, r.out_len);
    s_cairn(&r, "import", file, "--db", b, NULL);
    s_expect(&r, 0, "", NULL);
    s_cairn(&ra, "events", "x", "--db", a, "--json", NULL);
    s_cairn(&rb, "events", "x", "--db", b, "--json", NULL);
    s_expect(&rb, 0, NULL, NULL);
    assert_true(strlen(ra.out) > 0);
    assert_string_equal(ra.out, rb.out);
    /* renamed: the checkpoints the events name are renamed too */
    s_cairn(&r, "import", file, "--db", b, "--as", "y", NULL);
    s_expect(&r, 0, "", NULL);
    s_cairn(&r, "events", "y", "--db", b, "--json", NULL);
    assert_non_null(strstr(r.out, "\"detail\":\"y@4\""));
    assert_null(strstr(r.out, "\"detail\":\"x@"));
    s_cairn(&r, "verify", "--db", b, NULL);
    s_expect(&r, 0, "", "0 problem(s)");
}

/* ---- retries ---- */

#define RETRY_SPEC(ATTEMPTS)                                                   \
    "{\"start\": \"flaky\", \"retry\": {\"max_attempts\": 9},"                  \
    " \"executors\": [{\"id\": \"flaky\", \"type\": \"util.fail\","             \
    " \"config\": {\"first_attempts\": 2}, \"retry\": {\"max_attempts\": "      \
    #ATTEMPTS ", \"backoff_ms\": 5}},"                                        \
    " {\"id\": \"out\", \"type\": \"text.output\"}],"                           \
    " \"edges\": [{\"from\": \"flaky\", \"to\": \"out\"}]}"

/* util.fail failing its first two attempts: three attempts (the
 * executor's own policy, not the default of 9) succeed with two
 * executor_retry events; two attempts fail the run. */
static void
test_cli_retry_from_spec(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", s_spec("three.json", RETRY_SPEC(3)), "--db", db,
            "--input", "ok", "--events", NULL);
    s_expect(&r, 0, "ok\n", "\"event\":\"executor_retry\"");
    size_t retries = 0;
    for (const char *p = r.err; (p = strstr(p, "executor_retry")); p++)
        retries++;
    assert_int_equal(retries, 2);
    assert_non_null(strstr(r.err, "\"detail\":\"attempt 2 failed: util.fail"));
    s_cairn(&r, "run", s_spec("two.json", RETRY_SPEC(2)), "--db", db,
            "--input", "ok", NULL);
    s_expect(&r, 1, "", "failing as configured (attempt 2");
}

/* A spec whose "fragile" step (util.exec) fails while the file at marker
 * does not exist, creating it (a fault that goes away); with always it
 * fails every time. */
static const char *
s_fragile_spec(const char *name, const char *marker, bool always)
{
    char *json = NULL;
    assert_true(
        asprintf(&json,
                 "{\"start\": \"fragile\", \"executors\": ["
                 "{\"id\": \"fragile\", \"type\": \"util.exec\", \"config\":"
                 " {\"argv\": [\"sh\", \"-c\", \"%s\", \"%s\"]}},"
                 "{\"id\": \"out\", \"type\": \"text.output\"}],"
                 "\"edges\": [{\"from\": \"fragile\", \"to\": \"out\"}]}",
                 always ? "exit 3"
                        : "test -e $0 && cat || { touch $0; exit 3; }",
                 marker)
        > 0);
    return s_spec(name, s_keep(json));
}

/* --auto-resume: a transient failure is resumed past; a permanent one
 * gives up after N resumes with the failure's exit code. */
static void
test_cli_auto_resume(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", s_fragile_spec("once.json", s_path("m1"), false),
            "--db", db, "--input", "hi", "--allow-exec", "--auto-resume", "2",
            NULL);
    s_expect(&r, 0, "hi\n", "(auto-resume 1 of 2)");
    assert_null(strstr(r.err, "auto-resume 2 of 2"));
    s_cairn(&r, "run", s_fragile_spec("once2.json", s_path("m2"), false),
            "--db", db, "--input", "hi", "--allow-exec", NULL);
    s_expect(&r, 1, "", "exited with status 3");
    s_cairn(&r, "run", s_fragile_spec("always.json", s_path("m3"), true),
            "--db", db, "--input", "hi", "--allow-exec", "--auto-resume", "2",
            "--run-id", "always", NULL);
    s_expect(&r, 1, "", "(auto-resume 2 of 2)");
    assert_string_equal(s_run_status(db, "always"), "failed");
}

/* on_failure dead-letter: the poison message is set aside (shown in the
 * checkpoint) and the other branch's output is produced. */
static void
test_cli_dead_letter(void **state)
{
    (void)state;
    const char *spec = s_spec(
        "dl.json",
        "{\"start\": \"split\", \"executors\": ["
        "{\"id\": \"split\", \"type\": \"text.upper\"},"
        "{\"id\": \"poison\", \"type\": \"util.fail\", \"config\": "
        "{\"when\": {\"eq\": \"BAD\"}}, \"on_failure\": \"dead-letter\"},"
        "{\"id\": \"good\", \"type\": \"text.output\"}],"
        "\"edges\": [{\"from\": \"split\", \"to\": [\"poison\", \"good\"]}]}");
    const char *db = s_path("db");
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--db", db, "--input", "bad", "--run-id", "d",
            NULL);
    s_expect(&r, 0, "BAD\n", NULL);
    s_cairn(&r, "show", "d@2", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *letters = json_object_get(s_json(r.out), "dead_letters");
    assert_int_equal(json_array_size(letters), 1);
    json_t *letter = json_array_get(letters, 0);
    assert_string_equal(
        json_string_value(json_object_get(letter, "executor")), "poison");
    assert_string_equal(json_string_value(json_object_get(letter, "payload")),
                        "BAD");
}

/* ---- human in the loop ---- */

#define APPROVE_SPEC                                                           \
    "{\"name\": \"approval\", \"start\": \"draft\", \"executors\": ["           \
    "{\"id\": \"draft\", \"type\": \"text.upper\"},"                           \
    "{\"id\": \"approve\", \"type\": \"hitl.approve\","                        \
    " \"config\": {\"prompt\": \"Publish?\"}},"                                \
    "{\"id\": \"publish\", \"type\": \"text.output\"}],"                       \
    "\"edges\": [{\"from\": \"draft\", \"to\": \"approve\"},"                  \
    "{\"from\": \"approve\", \"to\": \"publish\"}]}"

/* Runs the approval spec on input into db as run id; it must wait. */
static void
s_run_approval(const char *db, const char *id, const char *input)
{
    const char *spec = s_spec("approve.json", APPROVE_SPEC);
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--db", db, "--run-id", id, "--input", input,
            NULL);
    s_expect(&r, 3, "", "request approve.2.1 from approve (approve): ");
    s_expect(&r, 3, NULL, "\"prompt\":\"Publish?\"");
    assert_string_equal(s_run_status(db, id), "waiting");
}

/* Approval in a later process forwards the payload; the requests are
 * shown again (exit 3) until then, and --json lists them for scripts. */
static void
test_cli_hitl_approve_forwards(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_run_approval(db, "ok", "draft one");
    s_result_t r = {0};
    s_cairn(&r, "resume", "ok", "--db", db, "--json", NULL);
    s_expect(&r, 3, NULL, "request approve.2.1");
    json_t *doc = s_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "waiting");
    json_t *requests = json_object_get(doc, "requests");
    assert_int_equal(json_array_size(requests), 1);
    json_t *request = json_array_get(requests, 0);
    assert_string_equal(json_string_value(json_object_get(request, "id")),
                        "approve.2.1");
    assert_string_equal(
        json_string_value(json_object_get(request, "executor")), "approve");
    assert_string_equal(json_string_value(json_object_get(request, "kind")),
                        "approve");
    json_t *question = s_json(
        json_string_value(json_object_get(request, "payload")));
    assert_string_equal(
        json_string_value(json_object_get(question, "payload")),
        "DRAFT ONE");
    /* The waiting checkpoint holds the request. */
    s_cairn(&r, "show", "ok@2", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *shown = json_object_get(s_json(r.out), "requests");
    assert_int_equal(json_array_size(shown), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(shown, 0), "id")),
        "approve.2.1");
    s_cairn(&r, "resume", "ok", "--db", db, "--respond", "approve.2.1= YES ",
            NULL);
    s_expect(&r, 0, "DRAFT ONE\n", NULL);
    assert_string_equal(s_run_status(db, "ok"), "completed");
}

/* Anything but yes rejects. A fork of the waiting run waits too, with
 * the same request, and is answered on its own. */
static void
test_cli_hitl_reject(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_run_approval(db, "no", "draft two");
    s_result_t r = {0};
    s_cairn(&r, "fork", "no@2", "--db", db, "--run-id", "other", NULL);
    s_expect(&r, 0, "other\n", NULL);
    assert_string_equal(s_run_status(db, "other"), "waiting");
    s_cairn(&r, "resume", "no", "--db", db, "--respond",
            "approve.2.1=not yet", NULL);
    s_expect(&r, 0, "rejected: DRAFT TWO\n", NULL);
    s_cairn(&r, "resume", "other", "--db", db, "--respond", "approve.2.1=yes",
            NULL);
    s_expect(&r, 0, "DRAFT TWO\n", NULL);
}

/* Unknown ids, an id given twice, a malformed --respond and an id
 * answered before exit 2 and change nothing. */
static void
test_cli_hitl_bad_responses(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_run_approval(db, "bad", "x");
    const char *before = s_checkpoint_ids(db, "bad");
    s_result_t r = {0};
    s_cairn(&r, "resume", "bad", "--db", db, "--respond", "nope.1.1=yes",
            NULL);
    s_expect(&r, 2, "", "no pending request 'nope.1.1'");
    s_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1=yes",
            "--respond", "approve.2.1=no", NULL);
    s_expect(&r, 2, "", "answered twice");
    s_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1",
            NULL);
    s_expect(&r, 2, "", "--respond wants REQUEST_ID=VALUE");
    assert_string_equal(s_checkpoint_ids(db, "bad"), before);
    assert_string_equal(s_run_status(db, "bad"), "waiting");
    s_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1=yes",
            NULL);
    s_expect(&r, 0, "X\n", NULL);
    s_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1=yes",
            NULL);
    s_expect(&r, 2, "", "already answered");
}

#include "timetravel_cases.h"
#include "storage_cases.h"
#include "runrecord_cases.h"
#include "lineage_cases.h"
#include "listen_cases.h"
#include "worker_loss_cases.h"

/* ---- run control: pause, cancel, signals, the control endpoint ---- */

/* The --json object of an uninterrupted run of spec (memory store). */
static json_t *
s_uninterrupted(const char *spec)
{
    s_result_t r = {0};
    s_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
            "--allow-exec", NULL);
    s_expect(&r, 0, NULL, NULL);
    return s_json(r.out);
}

/* Resumes run and asserts it gives what the uninterrupted run gave. */
static void
s_resume_matches(const char *db, const char *run, json_t *expected)
{
    s_result_t r = {0};
    s_cairn(&r, "resume", run, "--db", db, "--json",
            "--allow-exec", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *got = s_json(r.out);
    assert_true(json_equal(json_object_get(got, "outputs"),
                           json_object_get(expected, "outputs")));
    assert_int_equal(
        json_integer_value(json_object_get(got, "supersteps")),
        json_integer_value(json_object_get(expected, "supersteps")));
    assert_string_equal(s_run_status(db, run), "completed");
}

/* The trigger of a run's latest checkpoint. */
static const char *
s_latest_trigger(const char *db, const char *run)
{
    s_result_t r = {0};
    s_cairn(&r, "checkpoints", run, "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    const char *trigger = json_string_value(
        json_object_get(json_array_get(s_json(r.out), 0), "trigger"));
    assert_non_null(trigger);
    return trigger;
}

/* The socket file of the control endpoint of `cairn run` process pid. */
static const char *
s_control_socket(pid_t pid)
{
    char *path = NULL;
    assert_true(asprintf(&path, "/tmp/cairn-%lu/ctl-%ld.ipc",
                         (unsigned long)getuid(), (long)pid)
                > 0);
    return s_keep(path);
}

static void
test_cli_pause_and_cancel_live_run(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 15);
    const char *db = s_path("db");
    json_t *expected = s_uninterrupted(spec);
    s_result_t r = {0};

    s_proc_t writer;
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "p",
            "--allow-exec", NULL);
    s_wait_checkpoints(db, "p", 3);
    assert_true(s_exists(s_control_socket(writer.pid)));
    s_cairn(&r, "pause", "p", "--db", db, NULL);
    s_expect(&r, 0, "", "run p: pausing at the barrier of superstep");
    s_open_gate(); /* it may be in the gate's superstep */
    s_wait(&writer, &r);
    s_expect(&r, 5, NULL, "paused at superstep");
    assert_false(s_exists(s_control_socket(writer.pid)));
    assert_string_equal(s_run_status(db, "p"), "paused");
    assert_string_equal(s_latest_trigger(db, "p"), "pause");
    /* not live any more; unknown runs are bad input */
    s_cairn(&r, "pause", "p", "--db", db, NULL);
    s_expect(&r, 1, "", "run p is not live (paused)");
    s_cairn(&r, "cancel", "nope", "--db", db, NULL);
    s_expect(&r, 2, "", "unknown run 'nope'");
    s_resume_matches(db, "p", expected);

    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "c",
            "--allow-exec", NULL);
    s_wait_checkpoints(db, "c", 3);
    s_cairn(&r, "cancel", "c", "--db", db, NULL);
    s_expect(&r, 0, "", "run c: cancelling");
    s_open_gate();
    s_wait(&writer, &r);
    s_expect(&r, 5, NULL, "run c cancelled after superstep");
    assert_string_equal(s_run_status(db, "c"), "cancelled");
    /* no checkpoint for the cancel: the last one stays the latest */
    assert_string_equal(s_latest_trigger(db, "c"), "policy");
    s_cairn(&r, "resume", "c", "--db", db, "--allow-exec", NULL);
    s_expect(&r, 2, NULL, "run c was cancelled and cannot be resumed");
    assert_false(s_exists(s_control_socket(writer.pid)));
}

/* runs shows the superstep a live run is in, not only what is stored. */
static void
test_cli_runs_live_superstep(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 30);
    const char *db = s_path("db");
    s_proc_t writer;
    /* manual: nothing but the entry checkpoint is stored while it runs */
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "l", "--checkpoint", "manual", "--allow-exec", NULL);
    s_wait_checkpoints(db, "l", 1);
    uint64_t deadline = s_now_ms() + S_TIMEOUT_S * 1000;
    json_int_t superstep = 0;
    while (superstep < 3) {
        json_t *run = s_run_entry(db, "l");
        assert_string_equal(
            json_string_value(json_object_get(run, "latest_checkpoint")),
            "l@0");
        superstep = json_integer_value(json_object_get(run, "superstep"));
        if (s_now_ms() > deadline)
            fail_msg("runs never showed the live superstep");
        usleep(50000);
    }
    s_result_t r = {0};
    s_cairn(&r, "runs", "--db", db, NULL);
    s_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "running"));
    s_open_gate();
    s_wait(&writer, &r);
    s_expect(&r, 0, "30\n", NULL);
}

static void
s_signal_pauses(int sig)
{
    const char *spec = s_gated_spec("slow.json", 15);
    const char *db = s_path("db");
    json_t *expected = s_uninterrupted(spec);
    s_proc_t writer;
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "sig", "--allow-exec", NULL);
    s_wait_checkpoints(db, "sig", 3);
    assert_int_equal(kill(writer.pid, sig), 0);
    s_open_gate(); /* it may be in the gate's superstep */
    s_result_t r = {0};
    s_wait(&writer, &r);
    s_expect(&r, 5, NULL, "pausing at the next barrier");
    assert_string_equal(s_run_status(db, "sig"), "paused");
    assert_string_equal(s_latest_trigger(db, "sig"), "pause");
    s_resume_matches(db, "sig", expected);
}

static void
test_cli_sigint_pauses(void **state)
{
    (void)state;
    s_signal_pauses(SIGINT);
}

static void
test_cli_sigterm_pauses(void **state)
{
    (void)state;
    s_signal_pauses(SIGTERM);
}

/* A second SIGINT does not wait for the barrier; the last checkpoint
 * resumes. */
static void
test_cli_second_sigint_stops_at_once(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("paced.json", 1);
    const char *db = s_path("db");
    json_t *expected = s_uninterrupted(spec);
    s_proc_t writer;
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "x",
            "--allow-exec", NULL);
    /* entry, ping and pace stored: superstep 3 waits at the closed gate,
     * so its barrier cannot come, and a run that waited for it would
     * exit 5 (paused) only after the gate opened */
    s_wait_checkpoints(db, "x", 3);
    assert_int_equal(kill(writer.pid, SIGINT), 0);
    s_wait_stderr(&writer, "interrupt again to stop at once");
    assert_int_equal(kill(writer.pid, SIGINT), 0);
    s_result_t r = {0};
    s_wait(&writer, &r);
    assert_int_equal(r.code, 128 + SIGINT);
    s_open_gate();
    assert_false(s_exists(s_control_socket(writer.pid)));
    assert_string_equal(s_run_status(db, "x"), "interrupted");
    assert_string_equal(s_checkpoint_ids(db, "x"), "x@2,x@1,x@0");
    s_resume_matches(db, "x", expected);
}

/* One frame (or a multipart message) to the endpoint on dealer. */
static void
s_send_frames(void *dealer, const void *const *frames, const size_t *lens,
              size_t count)
{
    for (size_t i = 0; i < count; i++)
        assert_true(zmq_send(dealer, frames[i], lens[i],
                             i + 1 < count ? ZMQ_SNDMORE : 0)
                    >= 0);
}

/* Packs a Control envelope (protocol version given) into buf. */
static size_t
s_pack_control(uint8_t *buf, uint32_t protocol, Cairn__Control__Kind kind,
               const char *run_id)
{
    Cairn__Control control = CAIRN__CONTROL__INIT;
    control.kind = kind;
    control.run_id = (char *)run_id;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.protocol = protocol;
    env.body_case = CAIRN__ENVELOPE__BODY_CONTROL;
    env.control = &control;
    assert_true(cairn__envelope__get_packed_size(&env) < 256);
    return cairn__envelope__pack(&env, buf);
}

/* Receives one answer (bounded) and returns its Control kind. */
static int
s_answer_kind(void *dealer)
{
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, S_TIMEOUT_S * 1000) != 1)
        fail_msg("the control endpoint did not answer");
    uint8_t buf[4096];
    int n = zmq_recv(dealer, buf, sizeof buf, 0);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    Cairn__Envelope *env = cairn__envelope__unpack(NULL, (size_t)n, buf);
    assert_non_null(env);
    assert_int_equal(env->body_case, CAIRN__ENVELOPE__BODY_CONTROL);
    int kind = env->control->kind;
    cairn__envelope__free_unpacked(env, NULL);
    return kind;
}

/* Garbage on the control endpoint is refused and the run goes on to the
 * right result. */
static void
test_cli_control_hostile_frames(void **state)
{
    (void)state;
    const char *spec = s_gated_spec("slow.json", 15);
    const char *db = s_path("db");
    s_proc_t writer;
    s_close_gate();
    s_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "h",
            "--allow-exec", NULL);
    s_wait_checkpoints(db, "h", 2);
    char endpoint[160];
    snprintf(endpoint, sizeof endpoint, "ipc://%s",
             s_control_socket(writer.pid));
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(dealer, endpoint), 0);

    static uint8_t big[10000];
    uint8_t ok[256], old[256], other[256], resume[256];
    size_t ok_len = s_pack_control(ok, 2, CAIRN__CONTROL__KIND__STATUS, "h");
    size_t old_len = s_pack_control(old, 1, CAIRN__CONTROL__KIND__CANCEL, "h");
    size_t other_len =
        s_pack_control(other, 2, CAIRN__CONTROL__KIND__CANCEL, "other");
    size_t resume_len =
        s_pack_control(resume, 2, CAIRN__CONTROL__KIND__RESUME, "h");
    const char garbage[] = "\xff\xfe not protobuf \x01";
    const void *three[] = {ok, garbage, ok};
    const size_t three_lens[] = {ok_len, sizeof garbage, ok_len};
    const void *one[1];
    size_t one_len[1];
    /* each refused, answered with kind NONE */
    one[0] = garbage, one_len[0] = sizeof garbage;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = "", one_len[0] = 0; /* empty: an envelope without a body */
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    s_send_frames(dealer, three, three_lens, 3);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = old, one_len[0] = old_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = other, one_len[0] = other_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = resume, one_len[0] = resume_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    /* too large: libzmq drops the connection, nothing is answered */
    one[0] = big, one_len[0] = sizeof big;
    s_send_frames(dealer, one, one_len, 1);
    zmq_close(dealer);

    /* a fresh client still gets answers */
    dealer = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(dealer, endpoint), 0);
    one[0] = ok, one_len[0] = ok_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__STATUS);
    zmq_close(dealer);
    zmq_ctx_term(ctx);

    s_result_t r = {0};
    s_open_gate();
    s_wait(&writer, &r);
    s_expect(&r, 0, "15\n", "refused control request");
    assert_string_equal(s_run_status(db, "h"), "completed");
}

/* cairn keygen writes a pair that run and worker load; bad key files and
 * half the options are usage errors naming what is wrong; CURVE lets a
 * run listen beyond loopback without --insecure (the key is checked before
 * anything is bound). */
static void
test_cli_keygen_and_curve_options(void **state)
{
    (void)state;
    const char *dir = s_path("keys");
    s_result_t r = {0};
    s_cairn(&r, "keygen", dir, NULL);
    char secret[256], public_key[256];
    snprintf(secret, sizeof secret, "%s/key", dir);
    snprintf(public_key, sizeof public_key, "%s/key.pub", dir);
    char listing[600];
    snprintf(listing, sizeof listing, "%s\n%s\n", secret, public_key);
    s_expect(&r, 0, listing, "keep it private");
    struct stat st;
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    s_cairn(&r, "keygen", dir, NULL);
    s_expect(&r, 2, "", "already holds a key");
    s_cairn(&r, "keygen", NULL);
    s_expect(&r, 2, "", NULL);

    const char *spec = PIPELINE;
    s_cairn(&r, "run", spec, "--input", "x", "--listen", "tcp://0.0.0.0:1",
            NULL);
    s_expect(&r, 2, "", "--insecure");
    s_cairn(&r, "run", spec, "--input", "x", "--listen", "tcp://0.0.0.0:1",
            "--curve-secret", secret, NULL);
    s_expect(&r, 2, "", "go together");
    /* CURVE satisfies the check; a public key as secret is refused. */
    s_cairn(&r, "run", spec, "--input", "x", "--durability", "none",
            "--listen", "tcp://0.0.0.0:1", "--curve-secret", public_key,
            "--allow-keys", dir, NULL);
    s_expect(&r, 2, "", "holds no CURVE secret key");
    s_cairn(&r, "worker", "--connect", "tcp://127.0.0.1:1", "--curve-secret",
            s_path("nope"), "--server-key", public_key, NULL);
    s_expect(&r, 2, "", s_path("nope"));
    s_cairn(&r, "worker", "--connect", "tcp://127.0.0.1:1", "--server-key",
            public_key, NULL);
    s_expect(&r, 2, "", "go together");
}

#include "sockets_io_cases.h"

/* CTest runs this executable as several tests (tests/CMakeLists.txt), so
 * that no single one holds most of the suite's time: with
 * CAIRN_TEST_SHARD=K/N, only every Nth case from the Kth on is copied
 * into mine. Returns how many were; 0 (after saying why) when the
 * variable is malformed. */
static size_t
s_shard(const struct CMUnitTest *tests, size_t count, struct CMUnitTest *mine)
{
    const char *shard = getenv("CAIRN_TEST_SHARD");
    unsigned k = 0, n = 1;
    char end;
    if (shard && (sscanf(shard, "%u/%u%c", &k, &n, &end) != 2 || n == 0
                  || k >= n || k >= count)) {
        fprintf(stderr, "CAIRN_TEST_SHARD=%s: want K/N with K < N\n", shard);
        return 0;
    }
    size_t taken = 0;
    for (size_t i = k; i < count; i += n)
        mine[taken++] = tests[i];
    return taken;
}

int
main(void)
{
    unsetenv("CAIRN_CLI_TEST_UNSET");
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_cli_run_prints_outputs_only),
        T(test_cli_spawn_workers_leave_nothing_behind),
        T(test_cli_spawn_workers_with_curve),
        T(test_cli_keygen_and_curve_options),
        T(test_cli_verify),
        T(test_cli_coordinator_killed_workers_rejoin),
        T(test_cli_placement_labels_and_worker_only_types),
        T(test_cli_lost_worker_executors_moved_events),
        T(test_cli_run_id_option),
        T(test_cli_run_input_sources),
        T(test_cli_run_json),
        T(test_cli_run_json_binary_output),
        T(test_cli_run_events),
        T(test_cli_run_durability_none),
        T(test_cli_run_checkpoint_every_n),
        T(test_cli_run_checkpoint_none),
        T(test_cli_exit_failed_handler),
        T(test_cli_exit_storage_error),
        T(test_cli_exit_oversized_input),
        T(test_cli_import_garbage),
        T(test_cli_run_cpu_placement),
        T(test_cli_exit_usage),
        T(test_cli_exit_usage_resume),
        T(test_cli_exit_unknown_ids),
        T(test_cli_exit_bad_spec),
        T(test_cli_exit_max_supersteps_then_resume),
        T(test_cli_resume_completed_is_noop),
        T(test_cli_exit_store_locked),
        T(test_cli_exit_store_locked_resume),
        T(test_cli_edge_direct),
        T(test_cli_edge_fan_out),
        T(test_cli_edge_switch),
        T(test_cli_edge_fan_in),
        T(test_cli_predicates),
        T(test_cli_malformed_specs),
        T(test_cli_plugin_greet),
        T(test_cli_plugin_wrong_abi),
        T(test_cli_plugin_missing),
        T(test_cli_inspect_live_run),
        T(test_cli_kill_and_resume),
        T(test_cli_graph),
        T(test_cli_gc_keep_last),
        T(test_cli_export_import),
        T(test_cli_exec_needs_allow_exec),
        T(test_cli_events_replay),
        T(test_cli_events_bound),
        T(test_cli_events_kill_and_resume),
        T(test_cli_events_follow),
        T(test_cli_events_export_import),
        T(test_cli_retry_from_spec),
        T(test_cli_auto_resume),
        T(test_cli_recover_three_runs),
        T(test_cli_dead_letter),
        T(test_cli_hitl_approve_forwards),
        T(test_cli_hitl_reject),
        T(test_cli_hitl_bad_responses),
        TIMETRAVEL_TESTS,
        STORAGE_TESTS,
        RUNRECORD_TESTS,
        LINEAGE_TESTS,
        LISTEN_TESTS,
        WORKER_LOSS_TESTS,
        T(test_cli_pause_and_cancel_live_run),
        T(test_cli_runs_live_superstep),
        T(test_cli_sigint_pauses),
        T(test_cli_sigterm_pauses),
        T(test_cli_second_sigint_stops_at_once),
        T(test_cli_control_hostile_frames),
        SOCKETS_IO_TESTS,
    };
#undef T
    if (getenv("CAIRN_TEST_FILTER")) /* run some cases only */
        cmocka_set_test_filter(getenv("CAIRN_TEST_FILTER"));
    size_t count = sizeof tests / sizeof tests[0];
    struct CMUnitTest mine[sizeof tests / sizeof tests[0]];
    size_t n = s_shard(tests, count, mine);
    if (n == 0)
        return 2;
    return _cmocka_run_group_tests("tests", mine, n, NULL, NULL);
}
