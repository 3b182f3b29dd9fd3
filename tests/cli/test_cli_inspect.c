/* test_cli_inspect - reading a store with the real `cairn` command: runs,
 * checkpoints and show beside a live run, gc, export and import,
 * verify.
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

static void
test_cli_inspect_live_run(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 30);
    const char *db = tc_path("db");
    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "live", "--allow-exec", NULL);
    tc_wait_checkpoints(db, "live", 3);
    tc_result_t r = {0};

    json_t *run = tc_run_entry(db, "live");
    assert_string_equal(json_string_value(json_object_get(run, "status")),
                        "running");
    assert_string_equal(json_string_value(json_object_get(run, "workflow")),
                        "slow");
    assert_int_equal(json_integer_value(json_object_get(run, "pid")),
                     writer.pid);

    tc_cairn(&r, "checkpoints", "live", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "live@0"));
    assert_non_null(strstr(r.out, "live@1"));

    tc_cairn(&r, "show", "live@1", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *cp = tc_json(r.out);
    assert_string_equal(json_string_value(json_object_get(cp, "id")), "live@1");
    assert_int_equal(json_integer_value(json_object_get(cp, "superstep")), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(cp, "state"), "ping"), "count")),
        "1");

    tc_cairn(&r, "show", "live@1", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "live@1"));

    tc_cairn(&r, "export", "live", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_true(r.out_len > 0);

    /* all of that while the writer still ran */
    assert_true(tc_alive(&writer));
    tc_open_gate();
    tc_wait(&writer, &r);
    tc_expect(&r, 0, "30\n", "run live");

    assert_string_equal(tc_run_status(db, "live"), "completed");
}

static void
test_cli_gc_keep_last(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
            "--run-id", "g", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    tc_cairn(&r, "gc", "--keep-last", "2", "--db", db, NULL);
    tc_expect(&r, 0, "", NULL);
    char *ids = tc_checkpoint_ids(db, "g");
    assert_string_equal(ids, "g@4,g@3");
    /* what is left still reads, and resuming the run is a no-op */
    tc_cairn(&r, "show", "g@3", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "resume", "g", "--db", db, NULL);
    tc_expect(&r, 0, "dlrow olleh\n", "already completed");
}

static void
test_cli_export_import(void **state)
{
    (void)state;
    const char *a = tc_path("a"), *b = tc_path("b"), *file = tc_path("run.exp");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", a,
            "--run-id", "p", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    tc_cairn(&r, "export", "p", "--db", a, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_true(r.out_len > 0);
    th_write(file, r.out, r.out_len);

    tc_cairn(&r, "import", file, "--db", b, NULL);
    tc_expect(&r, 0, "", "p");
    char *ids_a = tc_checkpoint_ids(a, "p");
    char *ids_b = tc_checkpoint_ids(b, "p");
    assert_string_equal(ids_a, ids_b);
    assert_string_equal(ids_a, "p@4,p@3,p@2,p@1,p@0");

    /* an older checkpoint resumes (as a fork) to the same output in both */
    tc_cairn(&r, "resume", "p@2", "--db", a, NULL);
    tc_expect(&r, 0, "dlrow olleh\n", "forked");
    tc_cairn(&r, "resume", "p@2", "--db", b, NULL);
    tc_expect(&r, 0, "dlrow olleh\n", "forked");

    /* again: the run exists, unless imported under another id */
    tc_cairn(&r, "import", file, "--db", b, NULL);
    tc_expect(&r, 2, "", "--as");
    tc_cairn(&r, "import", file, "--db", b, "--as", "copy", NULL);
    tc_expect(&r, 0, "", "copy");
    char *ids_copy = tc_checkpoint_ids(b, "copy");
    assert_string_equal(ids_copy, "copy@4,copy@3,copy@2,copy@1,copy@0");
    tc_cairn(&r, "resume", "copy@1", "--db", b, NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);

    tc_cairn(&r, "import", tc_path("missing.exp"), "--db", b, NULL);
    tc_expect(&r, 2, "", "missing.exp");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_inspect_live_run),
        TC_TEST(test_cli_gc_keep_last),
        TC_TEST(test_cli_export_import),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
