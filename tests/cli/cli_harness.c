/* cli_harness - what every test_cli_* executable shares: the real
 * `cairn` command run as a subprocess (cli_harness.h).
 *
 * Every test gets a fresh mkdtemp directory for its stores, specs and
 * files, and runs the binary the build produced (CAIRN_BIN) with an argv,
 * optional stdin bytes, and a bounded wait (TC_TIMEOUT_S, then SIGKILL and
 * fail). stdout and stderr go to files in that directory and are read
 * back whole, so a test can assert exact stdout, stderr substrings and
 * the exit code. Processes are started, waited for and read through the
 * shared harness (tests/harness/harness.h); this file adds what is the
 * command's: its argv, the per-test directory, memory kept until teardown
 * and the JSON its subcommands print.
 *
 * The children are the same build as this test: under ASan/UBSan a
 * sanitizer report in a child's stderr fails the test.
 */
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/cli/cli_harness.h"
#include "tests/harness/harness.h"
#include "tests/test_util.h"

#ifndef CAIRN_BIN
#error "CAIRN_BIN must name the cairn binary (tests/CMakeLists.txt)"
#endif

#define S_MAX_ARGS 32

/* ---- the per-test directory ---- */

char tc_dir[64];        /* this test's mkdtemp directory */
static unsigned s_seq;  /* names capture files */
static pid_t s_live[8]; /* started, not yet waited for */
void (*tc_before_exec)(void);

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

void *
tc_keep(void *ptr)
{
    assert_non_null(ptr);
    s_keep_any(ptr, false);
    return ptr;
}

int
tc_setup(void **state)
{
    (void)state;
    /* runs keep their sockets in /tmp/cairn-UID, as tests expect, unless
     * a test says otherwise (test_cli_sockets_io.c) */
    unsetenv("TMPDIR");
    unsetenv("LSAN_OPTIONS"); /* test_cli_sockets_io.c may set it */
    /* every store a test names is its own, never one from the env */
    unsetenv("CAIRN_DB");
    return th_dir_make(tc_dir, sizeof tc_dir, "cli");
}

int
tc_teardown(void **state)
{
    (void)state;
    tc_before_exec = NULL;
    /* A test that failed with a run in the background: end it. */
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++) {
        th_kill(s_live[i]);
        s_live[i] = 0;
    }
    th_dir_remove(tc_dir);
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

int
tc_run_tests(const struct CMUnitTest *tests, size_t count)
{
    unsetenv("CAIRN_CLI_TEST_UNSET");
    if (getenv("CAIRN_TEST_FILTER")) /* run some cases only */
        cmocka_set_test_filter(getenv("CAIRN_TEST_FILTER"));
    return _cmocka_run_group_tests("tests", tests, count, NULL, NULL);
}

const char *
tc_path(const char *name)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", tc_dir, name) > 0);
    return tc_keep(path);
}

const char *
tc_spec(const char *name, const char *json)
{
    const char *path = tc_path(name);
    th_write(path, json, strlen(json));
    return path;
}

char *
tc_slurp(const char *path, size_t *len)
{
    return tc_keep(th_read(path, len));
}

bool
tc_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- running cairn ---- */

/* In the child, before exec: the test's hook, if any. */
static void
s_before_exec(void *arg)
{
    (void)arg;
    if (tc_before_exec)
        tc_before_exec();
}

void
tc_vstart(tc_proc_t *p, const void *in, size_t in_len, va_list args)
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
    snprintf(p->in_path, sizeof p->in_path, "%s/.in%u", tc_dir, seq);
    snprintf(p->out_path, sizeof p->out_path, "%s/.out%u", tc_dir, seq);
    snprintf(p->err_path, sizeof p->err_path, "%s/.err%u", tc_dir, seq);
    th_write(p->in_path, in ? in : "", in ? in_len : 0);
    th_spawn_t spec = {.argv = argv,
                       .in_path = p->in_path,
                       .out_path = p->out_path,
                       .err_path = p->err_path,
                       .before_exec = s_before_exec};
    p->pid = th_spawn(&spec);
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++)
        if (s_live[i] == 0) {
            s_live[i] = p->pid;
            break;
        }
}

void
tc_start(tc_proc_t *p, ...)
{
    va_list args;
    va_start(args, p);
    tc_vstart(p, NULL, 0, args);
    va_end(args);
}

bool
tc_alive(const tc_proc_t *p)
{
    return th_alive(p->pid);
}

void
tc_wait(tc_proc_t *p, tc_result_t *r)
{
    memset(r, 0, sizeof *r);
    int code = th_finish(p->pid, TC_TIMEOUT_S * 1000L, CAIRN_BIN);
    for (size_t i = 0; i < sizeof s_live / sizeof s_live[0]; i++)
        if (s_live[i] == p->pid)
            s_live[i] = 0;
    r->code = code;
    r->out = tc_slurp(p->out_path, &r->out_len);
    r->err = tc_slurp(p->err_path, NULL);
    unlink(p->in_path);
    unlink(p->out_path);
    unlink(p->err_path);
    th_check_sanitizers(r->err, "cairn child");
}

void
tc_wait_stderr(const tc_proc_t *p, const char *text)
{
    if (!th_wait_file_holds(p->err_path, text, TC_TIMEOUT_S * 1000L))
        fail_msg("stderr never showed \"%s\"", text);
}

void
tc_cairn(tc_result_t *r, ...)
{
    tc_proc_t p;
    va_list args;
    va_start(args, r);
    tc_vstart(&p, NULL, 0, args);
    va_end(args);
    tc_wait(&p, r);
}

void
tc_cairn_in(tc_result_t *r, const char *in, size_t in_len, ...)
{
    tc_proc_t p;
    va_list args;
    va_start(args, in_len);
    tc_vstart(&p, in, in_len, args);
    va_end(args);
    tc_wait(&p, r);
}

void
tc_expect(const tc_result_t *r, int code, const char *out, const char *err_part)
{
    if (r->code != code) {
        fprintf(stderr, "stdout:\n%s\n", r->out);
        th_fail_showing(r->err, "exit code %d, expected %d; stderr", r->code,
                        code);
    }
    if (out)
        assert_string_equal(r->out, out);
    if (err_part && !strstr(r->err, err_part))
        th_fail_showing(r->err, "stderr lacks \"%s\"; it is", err_part);
}

void
tc_run_id(const tc_result_t *r, char *id, size_t size)
{
    if (strncmp(r->err, "run ", 4) != 0)
        th_fail_showing(r->err, "first stderr line is not \"run ID\"");
    size_t n = strcspn(r->err + 4, "\n");
    assert_true(n > 0 && n < size);
    memcpy(id, r->err + 4, n);
    id[n] = '\0';
}

json_t *
tc_json(const char *text)
{
    json_t *doc = th_json(text);
    s_keep_any(doc, true);
    return doc;
}

/* The entry for run in `cairn runs --db DB --json` (fails if absent). */
json_t *
tc_run_entry(const char *db, const char *run)
{
    tc_result_t r = {0};
    tc_cairn(&r, "runs", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *entry = th_json_find_id(tc_json(r.out), run);
    if (!entry)
        th_fail_showing(r.out, "`cairn runs` does not list %s", run);
    return entry;
}

/* A run's status as `cairn runs --json` reports it. */
const char *
tc_run_status(const char *db, const char *run)
{
    const char *status =
        json_string_value(json_object_get(tc_run_entry(db, run), "status"));
    assert_non_null(status);
    return status;
}

/* "a,b,c": the ids of `checkpoints RUN --json`, newest first (kept). */
char *
tc_checkpoint_ids(const char *db, const char *run)
{
    tc_result_t r = {0};
    tc_cairn(&r, "checkpoints", run, "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *list = tc_json(r.out);
    assert_true(json_is_array(list));
    char *ids = tc_keep(calloc(1, 1));
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char *grown = NULL;
        assert_true(asprintf(&grown, "%s%s%s", ids, i ? "," : "",
                             json_string_value(json_object_get(item, "id")))
                    > 0);
        ids = tc_keep(grown);
    }
    return ids;
}

/* Polls `checkpoints RUN --json` until it lists at least n. */
void
tc_wait_checkpoints(const char *db, const char *run, size_t n)
{
    uint64_t deadline = th_now_ms() + TC_TIMEOUT_S * 1000;
    tc_result_t r = {0};
    for (;;) {
        tc_cairn(&r, "checkpoints", run, "--db", db, "--json", NULL);
        if (r.code == 0) {
            json_t *list = tc_json(r.out);
            size_t count = json_array_size(list);
            if (count >= n)
                break;
        }
        if (th_now_ms() > deadline)
            fail_msg("run %s never reached %zu checkpoints", run, n);
        usleep(20000);
    }
}

const char *
tc_gate_config(void)
{
    return tc_named_gate_config("gate");
}

const char *
tc_named_gate_config(const char *name)
{
    const char *gate = tc_path(name);
    char *json = NULL;
    assert_true(
        asprintf(&json,
                 "{\"timeout_ms\": 120000, \"argv\": [\"/bin/sh\", \"-c\", "
                 "\"i=0; while [ ! -e '%s' ] && [ -d '%s' ] && "
                 "[ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; "
                 "exec cat\"]}",
                 gate, tc_dir)
        > 0);
    return tc_keep(json);
}

const char *
tc_gated_spec(const char *name, int limit)
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
            tc_gate_config(), limit)
        > 0);
    const char *path = tc_spec(name, tc_keep(json));
    tc_open_gate();
    return path;
}

/* Closes and opens tc_gated_spec's gate. */
void
tc_close_gate(void)
{
    assert_int_equal(unlink(tc_path("gate")), 0);
}

void
tc_open_gate(void)
{
    tc_open_named_gate("gate");
}

void
tc_open_named_gate(const char *name)
{
    th_write(tc_path(name), "", 0);
}

/* The JSON lines of text, parsed (kept); *count of them. */
json_t **
tc_json_lines(const char *text, size_t *count)
{
    json_t **lines = tc_keep(calloc(strlen(text) + 1, sizeof *lines));
    size_t n = 0;
    while (*text) {
        size_t len = strcspn(text, "\n");
        char *line = tc_keep(strndup(text, len));
        if (line[0] == '{')
            lines[n++] = tc_json(line);
        text += len + (text[len] == '\n');
    }
    *count = n;
    return lines;
}

void
tc_assert_same_run(json_t *got, json_t *expected)
{
    assert_true(json_equal(json_object_get(got, "outputs"),
                           json_object_get(expected, "outputs")));
    assert_int_equal(
        json_integer_value(json_object_get(got, "supersteps")),
        json_integer_value(json_object_get(expected, "supersteps")));
}

/* The --json object of an uninterrupted run of spec (memory store). */
json_t *
tc_uninterrupted(const char *spec)
{
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
             "--allow-exec", NULL);
    tc_expect(&r, 0, NULL, NULL);
    return tc_json(r.out);
}

/* Resumes run and asserts it gives what the uninterrupted run gave. */
void
tc_resume_matches(const char *db, const char *run, json_t *expected)
{
    tc_result_t r = {0};
    tc_cairn(&r, "resume", run, "--db", db, "--json", "--allow-exec", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *got = tc_json(r.out);
    tc_assert_same_run(got, expected);
    assert_string_equal(tc_run_status(db, run), "completed");
}

/* The trigger of a run's latest checkpoint. */
const char *
tc_latest_trigger(const char *db, const char *run)
{
    tc_result_t r = {0};
    tc_cairn(&r, "checkpoints", run, "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    const char *trigger = json_string_value(
        json_object_get(json_array_get(tc_json(r.out), 0), "trigger"));
    assert_non_null(trigger);
    return trigger;
}

void
tc_signal_pauses(int sig)
{
    const char *spec = tc_gated_spec("slow.json", 15);
    const char *db = tc_path("db");
    json_t *expected = tc_uninterrupted(spec);
    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
             "sig", "--allow-exec", NULL);
    tc_wait_checkpoints(db, "sig", 3);
    assert_int_equal(kill(writer.pid, sig), 0);
    tc_open_gate(); /* it may be in the gate's superstep */
    tc_result_t r = {0};
    tc_wait(&writer, &r);
    tc_expect(&r, 5, NULL, "pausing at the next barrier");
    assert_string_equal(tc_run_status(db, "sig"), "paused");
    assert_string_equal(tc_latest_trigger(db, "sig"), "pause");
    tc_resume_matches(db, "sig", expected);
}

/* Runs the cycle into db as run c, asserting its output. */
void
tc_run_cycle(const char *db)
{
    tc_result_t r = {0};
    const char *spec = tc_spec("cycle.json", CYCLE_SPEC);
    tc_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "c",
             NULL);
    tc_expect(&r, 0, "11\n", NULL);
}

/* Every listing the store offers, as text, to see that nothing changed. */
char *
tc_store_listing(const char *db)
{
    tc_result_t r = {0};
    tc_cairn(&r, "runs", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    char *all = tc_keep(strdup(r.out));
    json_t *runs = tc_json(r.out);
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run)
    {
        const char *id = json_string_value(json_object_get(run, "id"));
        tc_cairn(&r, "checkpoints", id, "--db", db, "--json", NULL);
        tc_expect(&r, 0, NULL, NULL);
        char *grown = NULL;
        assert_true(asprintf(&grown, "%s%s", all, r.out) > 0);
        all = tc_keep(grown);
    }
    return all;
}
