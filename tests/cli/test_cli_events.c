/* test_cli_events - a run's events as the real `cairn` command stores and
 * shows them: replayed, bounded, across kill -9 and resume, followed
 * live, carried by export and import.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/cli/cli_harness.h"
#include "tests/test_util.h"

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
    const char *db = tc_path("db");
    tc_result_t r = {0}, stored = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "ev", "--events", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    size_t live_n = 0, n = 0;
    json_t **live = tc_json_lines(r.err, &live_n);

    tc_cairn(&stored, "events", "ev", "--db", db, "--json", NULL);
    tc_expect(&stored, 0, NULL, NULL);
    json_t **lines = tc_json_lines(stored.out, &n);
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
    tc_cairn(&r, "events", "ev", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    size_t text_lines = 0;
    for (const char *p = r.out; *p; p++)
        text_lines += *p == '\n';
    assert_int_equal(text_lines, n);
    assert_non_null(strstr(r.out, "run_ended"));
    assert_non_null(strstr(r.out, "\"dlrow olleh\""));

    tc_cairn(&r, "events", "nope", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    tc_cairn(&r, "events", "--db", db, NULL);
    tc_expect(&r, 2, "", NULL);
    tc_cairn(&r, "verify", "--db", db, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
}

static void
test_cli_events_bound(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "all", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "events", "all", "--db", db, "--json", NULL);
    size_t total = 0;
    json_t **all = tc_json_lines(r.out, &total);
    assert_true(total > 5);

    tc_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "five", "--keep-events", "5", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "events", "five", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    size_t n = 0;
    json_t **lines = tc_json_lines(r.out, &n);
    /* the newest five: the oldest are trimmed */
    assert_int_equal(n, 5);
    s_assert_contiguous(lines, n, total - 4);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(s_ev_kind(lines[i]),
                            s_ev_kind(all[total - 5 + i]));
    assert_string_equal(s_ev_kind(lines[4]), "run_ended");

    /* across processes: a resume continues the numbering and trims what
     * the first process stored */
    tc_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "two", "--max-supersteps", "2", NULL);
    tc_expect(&r, 4, "", NULL);
    tc_cairn(&r, "events", "two", "--db", db, "--json", NULL);
    size_t first_n = 0;
    tc_json_lines(r.out, &first_n);
    assert_true(first_n > 5);
    tc_cairn(&r, "resume", "two", "--db", db, "--max-supersteps", "10",
            "--keep-events", "5", NULL);
    tc_expect(&r, 0, "ih\n", NULL);
    tc_cairn(&r, "events", "two", "--db", db, "--json", NULL);
    lines = tc_json_lines(r.out, &n);
    assert_int_equal(n, 5);
    assert_true(s_ev_int(lines[0], "seq") > first_n);
    s_assert_contiguous(lines, n, s_ev_int(lines[0], "seq"));
    assert_string_equal(s_ev_kind(lines[4]), "run_ended");

    tc_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id",
            "none", "--keep-events", "0", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "events", "none", "--db", db, "--json", NULL);
    tc_expect(&r, 0, "", NULL);
    tc_cairn(&r, "verify", "--db", db, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
}

/* Stored events after kill -9 say no more than the checkpoints; resume
 * continues their numbering. */
static void
test_cli_events_kill_and_resume(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 15);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_proc_t victim;
    tc_close_gate();
    tc_start(&victim, "run", spec, "--input", "0", "--db", db, "--run-id", "k",
            "--allow-exec", NULL);
    tc_wait_checkpoints(db, "k", 5);
    assert_int_equal(kill(victim.pid, SIGKILL), 0);
    tc_wait(&victim, &r);
    assert_int_equal(r.code, 128 + SIGKILL);
    tc_open_gate();

    char *ids = tc_checkpoint_ids(db, "k");
    uint64_t latest = strtoull(strchr(ids, '@') + 1, NULL, 10);
    tc_cairn(&r, "events", "k", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    size_t n = 0;
    json_t **before = tc_json_lines(r.out, &n);
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
            tc_keep(needle);
            tc_keep(haystack);
            if (!strstr(haystack, needle))
                fail_msg("event names %s, not among %s", cp, ids);
        }
        assert_string_not_equal(s_ev_kind(before[i]), "run_ended");
    }
    /* the events of the latest barrier are there up to its completion */
    assert_int_equal(s_ev_int(before[n - 1], "superstep"), latest);

    tc_cairn(&r, "resume", "k", "--db", db, "--allow-exec", NULL);
    tc_expect(&r, 0, "15\n", NULL);
    tc_cairn(&r, "events", "k", "--db", db, "--json", NULL);
    size_t m = 0;
    json_t **after = tc_json_lines(r.out, &m);
    assert_true(m > n);
    s_assert_contiguous(after, m, 1);
    for (size_t i = 0; i < n; i++)
        assert_true(json_equal(after[i], before[i]));
    /* the resume starts right after what was stored, from that barrier */
    assert_string_equal(s_ev_kind(after[n]), "run_started");
    assert_int_equal(s_ev_int(after[n], "superstep"), latest);
    assert_string_equal(s_ev_kind(after[m - 1]), "run_ended");
    tc_cairn(&r, "verify", "k", "--db", db, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
}

/* --follow against a live run that stores events only at its end: the
 * live ones come over the events endpoint. */
static void
test_cli_events_follow(void **state)
{
    (void)state;
    /* the gate holds the run at its first step until the follower is
     * there: all of its counting happens while it follows; the second
     * one holds its end until the test has read the store, so the run
     * cannot have stored its events by then, however slow the machine */
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
                 "   {\"id\": \"last\", \"type\": \"util.exec\", "
                 "\"config\": %s},\n"
                 "   {\"id\": \"done\", \"type\": \"text.output\"}],\n"
                 " \"edges\": [\n"
                 "   {\"from\": \"hold\", \"to\": \"ping\"},\n"
                 "   {\"from\": \"ping\", \"to\": \"pace\"},\n"
                 "   {\"from\": \"pace\", \"switch\": [\n"
                 "     {\"when\": {\"int_ge\": 25}, \"to\": \"last\"},\n"
                 "     {\"default\": true, \"to\": \"ping\"}]},\n"
                 "   {\"from\": \"last\", \"to\": \"done\"}]}\n",
                 tc_gate_config(), tc_named_gate_config("end-gate"))
        > 0);
    const char *spec = tc_spec("held.json", tc_keep(json));
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_proc_t writer, follower;
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "f", "--checkpoint", "none", "--allow-exec", NULL);
    tc_wait_checkpoints(db, "f", 1);
    json_t *run = tc_run_entry(db, "f");
    assert_string_equal(json_string_value(json_object_get(run, "status")),
                        "running");
    tc_start(&follower, "events", "f", "--db", db, "--follow", "--json", NULL);
    /* it subscribes before it prints what is stored */
    uint64_t deadline = th_now_ms() + TC_TIMEOUT_S * 1000;
    while (!tc_exists(follower.out_path) || !*tc_slurp(follower.out_path, NULL)) {
        if (th_now_ms() > deadline)
            fail_msg("the follower printed nothing");
        usleep(20000);
    }
    tc_open_gate();
    /* live events arrive while the store holds only the entry's */
    size_t seen = 0;
    while (seen < 30) {
        if (th_now_ms() > deadline)
            fail_msg("the follower printed %zu live events", seen);
        assert_true(tc_alive(&writer));
        seen = 0;
        if (!tc_exists(follower.out_path))
            continue;
        for (const char *p = tc_slurp(follower.out_path, NULL); *p; p++)
            seen += *p == '\n';
        usleep(20000);
    }
    tc_cairn(&r, "events", "f", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    size_t stored_n = 0;
    tc_json_lines(r.out, &stored_n);
    assert_true(stored_n < seen);

    tc_open_named_gate("end-gate");
    tc_wait(&writer, &r);
    tc_expect(&r, 0, "25\n", NULL);
    tc_result_t followed = {0};
    tc_wait(&follower, &followed);
    tc_expect(&followed, 0, NULL, NULL);
    /* all of them, once each, in order, through run_ended */
    tc_cairn(&r, "events", "f", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_string_equal(followed.out, r.out);
    size_t n = 0;
    json_t **lines = tc_json_lines(followed.out, &n);
    s_assert_contiguous(lines, n, 1);
    assert_string_equal(s_ev_kind(lines[n - 1]), "run_ended");
    /* the endpoint was recorded while live and its socket is gone */
    char path[96];
    snprintf(path, sizeof path, "/tmp/cairn-%u/events-%ld.ipc",
             (unsigned)getuid(), (long)writer.pid);
    assert_false(tc_exists(path));
    /* following a finished run replays it and ends */
    tc_cairn(&r, "events", "f", "--db", db, "--follow", "--json", NULL);
    tc_expect(&r, 0, followed.out, NULL);
}

static void
test_cli_events_export_import(void **state)
{
    (void)state;
    const char *a = tc_path("a"), *b = tc_path("b"), *file = tc_path("ev.exp");
    tc_result_t r = {0}, ra = {0}, rb = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", a, "--run-id", "x",
            NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "export", "x", "--db", a, NULL);
    tc_expect(&r, 0, NULL, NULL);
    th_write(file, r.out, r.out_len);
    tc_cairn(&r, "import", file, "--db", b, NULL);
    tc_expect(&r, 0, "", NULL);
    tc_cairn(&ra, "events", "x", "--db", a, "--json", NULL);
    tc_cairn(&rb, "events", "x", "--db", b, "--json", NULL);
    tc_expect(&rb, 0, NULL, NULL);
    assert_true(strlen(ra.out) > 0);
    assert_string_equal(ra.out, rb.out);
    /* renamed: the checkpoints the events name are renamed too */
    tc_cairn(&r, "import", file, "--db", b, "--as", "y", NULL);
    tc_expect(&r, 0, "", NULL);
    tc_cairn(&r, "events", "y", "--db", b, "--json", NULL);
    assert_non_null(strstr(r.out, "\"detail\":\"y@4\""));
    assert_null(strstr(r.out, "\"detail\":\"x@"));
    tc_cairn(&r, "verify", "--db", b, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_events_replay),
        TC_TEST(test_cli_events_bound),
        TC_TEST(test_cli_events_kill_and_resume),
        TC_TEST(test_cli_events_follow),
        TC_TEST(test_cli_events_export_import),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
