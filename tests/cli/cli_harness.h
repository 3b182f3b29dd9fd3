/* cli_harness.h - what the test_cli_* executables share: the real
 * `cairn` command (CAIRN_BIN) run as a subprocess in a per-test
 * directory, its output read back, and the specs and store look-ups many
 * of them use.
 *
 * Each test_cli_<feature>.c lists its cases with TC_TEST (a fresh
 * directory per case) and runs them with tc_run_tests. What a test gets
 * from these functions (paths, results, JSON) is kept until teardown, so
 * a failing assertion leaks nothing and tests free nothing. They assert
 * (cmocka) and run on the test thread only. The tc_ prefix is the CLI
 * harness's; process handling is tests/harness/harness.h's.
 */
#ifndef CAIRN_TEST_CLI_HARNESS_H_INCLUDED
#define CAIRN_TEST_CLI_HARNESS_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/harness/harness.h"

/* How long one cairn process may take before it is killed and the test
 * fails, and the bound of every poll here, in seconds. */
#define TC_TIMEOUT_S 60

/* --worker-wait-ms for runs that must get all their workers: a bound on a
 * condition, not a pace, so as long as a test may wait at all. */
#define TC_WORKER_WAIT_MS "60000"

/* A case with a fresh directory (tc_setup, tc_teardown). */
#define TC_TEST(f) cmocka_unit_test_setup_teardown(f, tc_setup, tc_teardown)

/* ---- the per-test directory ---- */

/* This test's mkdtemp directory (/tmp/cairn-cli-XXXXXX). */
extern char tc_dir[64];

/* Runs in the next children before exec (set by a test, cleared at
 * teardown): what only the child's own pid can name. */
extern void (*tc_before_exec)(void);

/* Makes the case's directory; unsets TMPDIR and LSAN_OPTIONS, which
 * some cases set. */
int
tc_setup(void **state);

/* Kills what a failed case left running, removes its directory and frees
 * what it kept. */
int
tc_teardown(void **state);

/* Runs the cases (CAIRN_TEST_FILTER=GLOB: only those that match);
 * cmocka's exit code. */
int
tc_run_tests(const struct CMUnitTest *tests, size_t count);

/* Keeps malloc'd memory until teardown; returns it. */
void *
tc_keep(void *ptr);

/* DIR/name in this test's directory; valid until teardown. */
const char *
tc_path(const char *name);

/* Writes a spec file named name into the test directory. */
const char *
tc_spec(const char *name, const char *json);

/* A whole file, NUL-terminated, kept until teardown; *len without the
 * NUL (unless NULL). */
char *
tc_slurp(const char *path, size_t *len);

bool
tc_exists(const char *path);

/* ---- running cairn ---- */

/* A cairn process: started, then waited for. */
typedef struct {
    pid_t pid;
    char in_path[96];
    char out_path[96];
    char err_path[96];
} tc_proc_t;

/* What a finished cairn printed and how it exited. */
typedef struct {
    int code;  /* exit status; 128 + N when killed by signal N */
    char *out; /* stdout, NUL-terminated (kept until teardown) */
    size_t out_len;
    char *err; /* stderr, NUL-terminated (kept until teardown) */
} tc_result_t;

/* Starts cairn with the NULL-terminated args and stdin bytes (NULL:
 * empty stdin); stdout and stderr go to files in the test directory. */
void
tc_vstart(tc_proc_t *p, const void *in, size_t in_len, va_list args);

/* tc_vstart with args and empty stdin. */
void
tc_start(tc_proc_t *p, ...);

/* True while the process has not exited (not reaped). */
bool
tc_alive(const tc_proc_t *p);

/* Waits for p (at most TC_TIMEOUT_S, then SIGKILL and fail) and reads
 * what it printed into r. */
void
tc_wait(tc_proc_t *p, tc_result_t *r);

/* Waits (bounded) until p's stderr so far holds text (the file may not
 * be there yet right after tc_start). */
void
tc_wait_stderr(const tc_proc_t *p, const char *text);

/* Runs cairn with args (NULL-terminated) and waits for it. */
void
tc_cairn(tc_result_t *r, ...);

/* The same with stdin bytes. */
void
tc_cairn_in(tc_result_t *r, const char *in, size_t in_len, ...);

/* Asserts the exit code, stdout exactly (unless NULL) and that stderr
 * holds err_part (unless NULL); prints what was seen when not. */
void
tc_expect(const tc_result_t *r, int code, const char *out, const char *err_part);

/* The id in the first stderr line "run ID". */
void
tc_run_id(const tc_result_t *r, char *id, size_t size);

json_t *
tc_json(const char *text);

/* The object with "id" == id in a JSON array (borrowed), or NULL. */
json_t *
th_json_find_id(json_t *array, const char *id);

/* The entry for run in `cairn runs --db DB --json` (fails if absent). */
json_t *
tc_run_entry(const char *db, const char *run);

/* A run's status as `cairn runs --json` reports it. */
const char *
tc_run_status(const char *db, const char *run);

/* "a,b,c": the ids of `checkpoints RUN --json`, newest first (kept). */
char *
tc_checkpoint_ids(const char *db, const char *run);

/* Polls `checkpoints RUN --json` until it lists at least n. */
void
tc_wait_checkpoints(const char *db, const char *run, size_t n);

/* Example specs and plugins of the build. */
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

/* The config of a util.exec executor that passes its message on (cat)
 * once the file tc_path("gate") exists; see tc_gated_spec. */
const char *
tc_gate_config(void);

/* The same with the file tc_path(name): a spec with two gates. */
const char *
tc_named_gate_config(const char *name);

/* SLOW_SPEC(LIMIT) that, once it has counted, waits at a gate before its
 * output: a util.exec shell that passes the count on once the file
 * tc_path("gate") exists. A test that must act on a live run (inspect,
 * pause, signal, kill it) closes the gate first, so the run cannot end
 * before the test opens it again, however slow the machine: a run paced
 * only by util.sleep ended before the test acted on a loaded machine.
 * The gate is open when the spec is made (for the uninterrupted
 * reference run). Runs of it need --allow-exec. The shell gives up
 * after about a minute, or when the test directory is gone, so a killed
 * run leaves nothing behind. Returns the spec's path. */
const char *
tc_gated_spec(const char *name, int limit);

/* Closes and opens tc_gated_spec's gate. */
void
tc_close_gate(void);

void
tc_open_gate(void);

void
tc_open_named_gate(const char *name);

/* The JSON lines of text, parsed (kept); *count of them. */
json_t **
tc_json_lines(const char *text, size_t *count);

/* Asserts that two `--json` run objects have the same outputs and
 * superstep count. */
void
tc_assert_same_run(json_t *got, json_t *expected);

/* The --json object of an uninterrupted run of spec (memory store). */
json_t *
tc_uninterrupted(const char *spec);

/* Resumes run and asserts it gives what the uninterrupted run gave. */
void
tc_resume_matches(const char *db, const char *run, json_t *expected);

/* The trigger of a run's latest checkpoint. */
const char *
tc_latest_trigger(const char *db, const char *run);

/* A gated run paused by signal sig resumes to the uninterrupted result. */
void
tc_signal_pauses(int sig);

#define CYCLE_SPEC                                                             \
    "{\"name\": \"cycle\", \"start\": \"ping\",\n"                             \
    " \"executors\": [\n"                                                      \
    "   {\"id\": \"ping\", \"type\": \"count.inc\"},\n"                        \
    "   {\"id\": \"pong\", \"type\": \"count.inc\"},\n"                        \
    "   {\"id\": \"done\", \"type\": \"text.output\"}],\n"                     \
    " \"edges\": [\n"                                                          \
    "   {\"from\": \"ping\", \"switch\": [\n"                                  \
    "     {\"when\": {\"int_ge\": 10}, \"to\": \"done\"},\n"                   \
    "     {\"default\": true, \"to\": \"pong\"}]},\n"                          \
    "   {\"from\": \"pong\", \"to\": \"ping\"}]}\n"

/* Runs the cycle into db as run c, asserting its output. */
void
tc_run_cycle(const char *db);

/* Every listing the store offers, as text, to see that nothing changed. */
char *
tc_store_listing(const char *db);

#endif
