/* lineage_cases.h - test_cli cases for what a store keeps of a lineage:
 * `cairn gc` against verify, diff, fork and export/import (the
 * pruned-lineage rule of docs/storage.md), verify of a run id used by two
 * runs, and state keys that are not UTF-8 in JSON output. Included by
 * test_cli.c after timetravel_cases.h (they use its s_run_cycle and
 * CYCLE_SPEC: run c, 12 supersteps, prints 11).
 */

/* c and c2 (the same run twice), a fork f of c@4, then gc keeping 3 of
 * each run: c keeps c@10..c@12 and its fork point c@4. */
static const char *
s_gc_store(void)
{
    const char *db = s_path("db");
    s_run_cycle(db);
    s_result_t r = {0};
    const char *spec = s_spec("cycle.json", CYCLE_SPEC);
    s_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "c2",
            NULL);
    s_expect(&r, 0, "11\n", NULL);
    s_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "f", NULL);
    s_expect(&r, 0, "f\n", NULL);
    s_cairn(&r, "gc", "--db", db, "--keep-last", "3", NULL);
    s_expect(&r, 0, "", "deleted 19 checkpoint(s)");
    assert_string_equal(s_checkpoint_ids(db, "c"), "c@12,c@11,c@10,c@4");
    assert_string_equal(s_checkpoint_ids(db, "c2"), "c2@12,c2@11,c2@10");
    return db;
}

static void
s_expect_verified(const char *db)
{
    s_result_t r = {0};
    s_cairn(&r, "verify", "--db", db, NULL);
    s_expect(&r, 0, "", "verify: 0 problem(s)");
}

static void
test_cli_gc_then_verify(void **state)
{
    (void)state;
    const char *db = s_gc_store();
    s_expect_verified(db);
    s_result_t r = {0};
    s_cairn(&r, "verify", "c", "--db", db, NULL);
    s_expect(&r, 0, "", "verify: 0 problem(s)");
    /* what retention did not do is still damage: gc again deletes
     * nothing and keeps it clean */
    s_cairn(&r, "gc", "--db", db, "--keep-last", "3", NULL);
    s_expect(&r, 0, "", "deleted 0 checkpoint(s)");
    s_expect_verified(db);
}

static void
test_cli_gc_then_diff(void **state)
{
    (void)state;
    const char *db = s_gc_store();
    s_result_t r = {0};
    s_cairn(&r, "diff", "c", "c2", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *doc = s_json(r.out);
    assert_true(json_is_true(json_object_get(doc, "identical")));
    assert_true(json_is_null(json_object_get(doc, "divergence")));
    /* the fork (paused at 4) against its parent: they part at 5 */
    s_cairn(&r, "diff", "c", "f", "--db", db, "--json", NULL);
    s_expect(&r, 1, NULL, NULL);
    doc = s_json(r.out);
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
    s_result_t r = {0};
    /* a kept checkpoint forks and the fork finishes the run */
    s_cairn(&r, "fork", "c@10", "--db", db, "--run-id", "g", NULL);
    s_expect(&r, 0, "g\n", NULL);
    s_cairn(&r, "resume", "g", "--db", db, NULL);
    s_expect(&r, 0, "11\n", NULL);
    /* a pruned one is refused, saying why and what is kept */
    s_cairn(&r, "fork", "c@7", "--db", db, "--run-id", "h", NULL);
    s_expect(&r, 2, "",
             "checkpoint 'c@7' was deleted by retention (gc); the next kept "
             "checkpoint of run c is c@10");
    s_cairn(&r, "show", "c@2", "--db", db, NULL);
    s_expect(&r, 2, "", "the next kept checkpoint of run c is c@4");
    /* the fork made before gc still reads c's history */
    s_cairn(&r, "resume", "f", "--db", db, NULL);
    s_expect(&r, 0, "11\n", NULL);
    s_expect_verified(db);
}

static void
test_cli_gc_export_import_verify(void **state)
{
    (void)state;
    const char *db = s_gc_store();
    s_result_t r = {0};
    const char *runs[] = {"c", "f"};
    for (size_t i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "export-%s", runs[i]);
        const char *file = s_path(name);
        s_cairn(&r, "export", runs[i], "--db", db, NULL);
        s_expect(&r, 0, NULL, NULL);
        s_write(file, r.out, r.out_len);
        snprintf(name, sizeof name, "db-%s", runs[i]);
        const char *other = s_path(name);
        s_cairn(&r, "import", file, "--db", other, NULL);
        s_expect(&r, 0, "", "imported run");
        s_expect_verified(other);
        /* the oldest kept checkpoint shows as it did */
        s_result_t here = {0}, there = {0};
        s_cairn(&here, "show", "c@10", "--db", db, "--json", NULL);
        s_cairn(&there, "show", "c@10", "--db", other, "--json", NULL);
        s_expect(&there, 0, here.out, NULL);
    }
}

/* Two runs under one id: today's `run` refuses the second; before it did,
 * the second overwrote c@0..c@4 and the record, and verify said nothing.
 * Either way verify must tell the truth. */
static void
test_cli_verify_reused_run_id(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_run_cycle(db);
    s_result_t r = {0};
    s_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id", "c",
            NULL);
    if (r.code == 2) { /* refused: nothing was mixed */
        s_expect_verified(db);
        return;
    }
    s_expect(&r, 0, "ih\n", NULL);
    s_cairn(&r, "verify", "--db", db, NULL);
    s_expect(&r, 1, NULL, "verify: 2 problem(s)");
    if (!strstr(r.out, "c@5: 8 checkpoint(s) c@5..c@12 are of workflow "
                       "'cycle'")
        || !strstr(r.out, "not of run c's workflow 'text-pipeline'")
        || !strstr(r.out, "c@12: run c ended (completed) at checkpoint c@4"))
        fail_msg("verify does not name the run and its checkpoints:\n%s",
                 r.out);
}

/* A state key that is not UTF-8 (set by a fork) shows in every form. */
static void
test_cli_json_binary_state_key(void **state)
{
    (void)state;
    const char *db = s_path("db");
    s_run_cycle(db);
    s_result_t r = {0};
    s_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "f", "--set-state",
            "ping.k\xff\xfe=v", "--set-shared", "s\xc3=3", "--set-state",
            "ping.ok=w", NULL);
    s_expect(&r, 0, "f\n", NULL);
    s_cairn(&r, "show", "f@4", "--db", db, "--json", NULL);
    s_expect(&r, 0, NULL, NULL);
    json_t *doc = s_json(r.out);
    json_t *ping = json_object_get(json_object_get(doc, "state"), "ping");
    assert_string_equal(json_string_value(json_object_get(ping, "ok")), "w");
    assert_string_equal(json_string_value(json_object_get(ping, "count")),
                        "2");
    json_t *binary = json_object_get(doc, "binary_keys");
    assert_int_equal(json_array_size(binary), 2);
    json_t *first = json_array_get(binary, 0);
    assert_string_equal(
        json_string_value(json_object_get(first, "executor")), "ping");
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
    s_cairn(&r, "diff", "c", "f", "--db", db, "--json", NULL);
    s_expect(&r, 1, NULL, NULL);
    doc = s_json(r.out);
    json_t *diffs = json_object_get(doc, "state");
    bool found = false;
    size_t i;
    json_t *entry;
    json_array_foreach(diffs, i, entry)
    {
        json_t *key = json_object_get(json_object_get(entry, "key"), "base64");
        found = found
                || (key && strcmp(json_string_value(key), "a//+") == 0
                    && json_is_null(json_object_get(entry, "a"))
                    && strcmp(json_string_value(json_object_get(entry, "b")),
                              "v")
                           == 0);
    }
    if (!found)
        fail_msg("diff --json lacks the binary key:\n%s", r.out);
    json_t *shared = json_array_get(json_object_get(doc, "shared"), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(shared, "key"), "base64")),
                        "c8M=");
}

#define LINEAGE_TESTS                                                          \
    T(test_cli_gc_then_verify), T(test_cli_gc_then_diff),                      \
        T(test_cli_gc_then_fork), T(test_cli_gc_export_import_verify),         \
        T(test_cli_verify_reused_run_id), T(test_cli_json_binary_state_key)
