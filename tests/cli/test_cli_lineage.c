/* test_cli_lineage - the real `cairn` command: what a store keeps of a lineage:
 * `cairn gc` against verify, diff, fork and export/import (the
 * pruned-lineage rule of docs/storage.md), verify of a run id used by two
 * runs, and state keys that are not UTF-8 in JSON output. The workflow
 * is the harness's CYCLE_SPEC (tc_run_cycle: run c, 12 supersteps,
 * prints 11).
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

/* c and c2 (the same run twice), a fork f of c@4, then gc keeping 3 of
 * each run: c keeps c@10..c@12 and its fork point c@4. */
static const char *
s_gc_store(void)
{
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    const char *spec = tc_spec("cycle.json", CYCLE_SPEC);
    tc_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "c2",
             NULL);
    tc_expect(&r, 0, "11\n", NULL);
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "f", NULL);
    tc_expect(&r, 0, "f\n", NULL);
    tc_cairn(&r, "gc", "--db", db, "--keep-last", "3", NULL);
    tc_expect(&r, 0, "", "deleted 19 checkpoint(s)");
    assert_string_equal(tc_checkpoint_ids(db, "c"), "c@12,c@11,c@10,c@4");
    assert_string_equal(tc_checkpoint_ids(db, "c2"), "c2@12,c2@11,c2@10");
    return db;
}

static void
s_expect_verified(const char *db)
{
    tc_result_t r = {0};
    tc_cairn(&r, "verify", "--db", db, NULL);
    tc_expect(&r, 0, "", "verify: 0 problem(s)");
}

static void
test_cli_gc_then_verify(void **state)
{
    (void)state;
    const char *db = s_gc_store();
    s_expect_verified(db);
    tc_result_t r = {0};
    tc_cairn(&r, "verify", "c", "--db", db, NULL);
    tc_expect(&r, 0, "", "verify: 0 problem(s)");
    /* what retention did not do is still damage: gc again deletes
     * nothing and keeps it clean */
    tc_cairn(&r, "gc", "--db", db, "--keep-last", "3", NULL);
    tc_expect(&r, 0, "", "deleted 0 checkpoint(s)");
    s_expect_verified(db);
}

static void
test_cli_gc_then_diff(void **state)
{
    (void)state;
    const char *db = s_gc_store();
    tc_result_t r = {0};
    tc_cairn(&r, "diff", "c", "c2", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *doc = tc_json(r.out);
    assert_true(json_is_true(json_object_get(doc, "identical")));
    assert_true(json_is_null(json_object_get(doc, "divergence")));
    /* the fork (paused at 4) against its parent: they part at 5 */
    tc_cairn(&r, "diff", "c", "f", "--db", db, "--json", NULL);
    tc_expect(&r, 1, NULL, NULL);
    doc = tc_json(r.out);
    json_t *d = json_object_get(doc, "divergence");
    assert_int_equal(json_integer_value(json_object_get(d, "superstep")), 5);
    assert_string_equal(json_string_value(json_object_get(d, "what")),
                        "superstep count");
}

static void
test_cli_gc_then_fork(void **state)
{
    (void)state;
    const char *db = s_gc_store();
    tc_result_t r = {0};
    /* a kept checkpoint forks and the fork finishes the run */
    tc_cairn(&r, "fork", "c@10", "--db", db, "--run-id", "g", NULL);
    tc_expect(&r, 0, "g\n", NULL);
    tc_cairn(&r, "resume", "g", "--db", db, NULL);
    tc_expect(&r, 0, "11\n", NULL);
    /* a pruned one is refused, saying why and what is kept */
    tc_cairn(&r, "fork", "c@7", "--db", db, "--run-id", "h", NULL);
    tc_expect(&r, 2, "",
              "checkpoint 'c@7' was deleted by retention (gc); the next kept "
              "checkpoint of run c is c@10");
    tc_cairn(&r, "show", "c@2", "--db", db, NULL);
    tc_expect(&r, 2, "", "the next kept checkpoint of run c is c@4");
    /* the fork made before gc still reads c's history */
    tc_cairn(&r, "resume", "f", "--db", db, NULL);
    tc_expect(&r, 0, "11\n", NULL);
    s_expect_verified(db);
}

static void
test_cli_gc_export_import_verify(void **state)
{
    (void)state;
    const char *db = s_gc_store();
    tc_result_t r = {0};
    const char *runs[] = {"c", "f"};
    for (size_t i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "export-%s", runs[i]);
        const char *file = tc_path(name);
        tc_cairn(&r, "export", runs[i], "--db", db, NULL);
        tc_expect(&r, 0, NULL, NULL);
        th_write(file, r.out, r.out_len);
        snprintf(name, sizeof name, "db-%s", runs[i]);
        const char *other = tc_path(name);
        tc_cairn(&r, "import", file, "--db", other, NULL);
        tc_expect(&r, 0, "", "imported run");
        s_expect_verified(other);
        /* the oldest kept checkpoint shows as it did */
        tc_result_t here = {0}, there = {0};
        tc_cairn(&here, "show", "c@10", "--db", db, "--json", NULL);
        tc_cairn(&there, "show", "c@10", "--db", other, "--json", NULL);
        tc_expect(&there, 0, here.out, NULL);
    }
}

/* Two runs under one id: today's `run` refuses the second; before it did,
 * the second overwrote c@0..c@4 and the record, and verify said nothing.
 * Either way verify must tell the truth. */
static void
test_cli_verify_reused_run_id(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id", "c",
             NULL);
    if (r.code == 2) { /* refused: nothing was mixed */
        s_expect_verified(db);
        return;
    }
    tc_expect(&r, 0, "ih\n", NULL);
    tc_cairn(&r, "verify", "--db", db, NULL);
    tc_expect(&r, 1, NULL, "verify: 2 problem(s)");
    if (!strstr(r.out, "c@5: 8 checkpoint(s) c@5..c@12 are of workflow "
                       "'cycle'")
        || !strstr(r.out, "not of run c's workflow 'text-pipeline'")
        || !strstr(r.out, "c@12: run c ended (completed) at checkpoint c@4"))
        th_fail_showing(r.out,
                        "verify does not name the run and its checkpoints");
}

/* A state key that is not UTF-8 (set by a fork) shows in every form. */
static void
test_cli_json_binary_state_key(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "f", "--set-state",
             "ping.k\xff\xfe=v", "--set-shared", "s\xc3=3", "--set-state",
             "ping.ok=w", NULL);
    tc_expect(&r, 0, "f\n", NULL);
    tc_cairn(&r, "show", "f@4", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *doc = tc_json(r.out);
    json_t *ping = json_object_get(json_object_get(doc, "state"), "ping");
    assert_string_equal(json_string_value(json_object_get(ping, "ok")), "w");
    assert_string_equal(json_string_value(json_object_get(ping, "count")), "2");
    json_t *binary = json_object_get(doc, "binary_keys");
    assert_int_equal(json_array_size(binary), 2);
    json_t *first = json_array_get(binary, 0);
    assert_string_equal(json_string_value(json_object_get(first, "executor")),
                        "ping");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(first, "key"), "base64")),
                        "a//+"); /* "k\xff\xfe" */
    assert_string_equal(json_string_value(json_object_get(first, "value")),
                        "v");
    json_t *second = json_array_get(binary, 1);
    assert_true(json_is_null(json_object_get(second, "executor")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(second, "key"), "base64")),
                        "c8M="); /* "s\xc3" */
    /* diff --json names it the same way, and compares it */
    tc_cairn(&r, "diff", "c", "f", "--db", db, "--json", NULL);
    tc_expect(&r, 1, NULL, NULL);
    doc = tc_json(r.out);
    json_t *diffs = json_object_get(doc, "state");
    bool found = false;
    size_t i;
    json_t *entry;
    json_array_foreach(diffs, i, entry)
    {
        json_t *key = json_object_get(json_object_get(entry, "key"), "base64");
        found =
            found
            || (key && strcmp(json_string_value(key), "a//+") == 0
                && json_is_null(json_object_get(entry, "a"))
                && strcmp(json_string_value(json_object_get(entry, "b")), "v")
                       == 0);
    }
    if (!found)
        th_fail_showing(r.out, "diff --json lacks the binary key");
    json_t *shared = json_array_get(json_object_get(doc, "shared"), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(shared, "key"), "base64")),
                        "c8M=");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_gc_then_verify),
        TC_TEST(test_cli_gc_then_diff),
        TC_TEST(test_cli_gc_then_fork),
        TC_TEST(test_cli_gc_export_import_verify),
        TC_TEST(test_cli_verify_reused_run_id),
        TC_TEST(test_cli_json_binary_state_key),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
