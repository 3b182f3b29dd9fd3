/* test_cli_timetravel - the real `cairn` command: `cairn fork`, `cairn diff`
 * and `cairn checkpoints --tree`.
 *
 * The workflow is the harness's CYCLE_SPEC: ping and pong (count.inc) pass a
 * number back and forth, adding one each superstep; at 10 or more it goes to
 * done. From input 0: ping makes the odd numbers at the odd supersteps,
 * pong the even ones, ping makes 11 at superstep 11 and done prints it
 * at 12. Checkpoint c@4 has "4" in flight to ping; ping's state "count"
 * is 2 there and 6 at the end.
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

/* A state value of checkpoint id (executor NULL: shared), from `show
 * --json`; NULL when absent. */
static const char *
s_state_at(const char *db, const char *id, const char *executor,
           const char *key)
{
    tc_result_t r = {0};
    tc_cairn(&r, "show", id, "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *doc = tc_json(r.out);
    json_t *scope =
        executor ? json_object_get(json_object_get(doc, "state"), executor)
                 : json_object_get(doc, "shared");
    return json_string_value(json_object_get(scope, key));
}

/* The `checkpoints RUN --json` entry of checkpoint id (borrowed). */
static json_t *
s_checkpoint_entry(const char *db, const char *run, const char *id)
{
    tc_result_t r = {0};
    tc_cairn(&r, "checkpoints", run, "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *entry = th_json_find_id(tc_json(r.out), id);
    if (!entry)
        th_fail_showing(r.out, "checkpoints %s does not list %s", run, id);
    return entry;
}

/* ---- fork ---- */

static void
test_cli_fork_set_state(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "f", "--set-state",
             "ping.count=100", NULL);
    tc_expect(&r, 0, "f\n", "forked c@4 as run f");
    json_t *run = tc_run_entry(db, "f");
    assert_string_equal(json_string_value(json_object_get(run, "status")),
                        "paused");
    assert_string_equal(json_string_value(json_object_get(run, "parent")),
                        "c@4");
    json_t *cp = s_checkpoint_entry(db, "f", "f@4");
    assert_string_equal(json_string_value(json_object_get(cp, "trigger")),
                        "fork");
    assert_string_equal(json_string_value(json_object_get(cp, "parent")),
                        "c@4");
    assert_string_equal(s_state_at(db, "f@4", "ping", "count"), "100");
    assert_string_equal(s_state_at(db, "f@4", "pong", "count"), "2");
    assert_string_equal(s_state_at(db, "c@4", "ping", "count"), "2");

    /* ping runs four more times (5, 7, 9, 11): 104 instead of 6 */
    tc_cairn(&r, "resume", "f", "--db", db, NULL);
    tc_expect(&r, 0, "11\n", "run f");
    assert_string_equal(tc_run_status(db, "f"), "completed");
    assert_string_equal(s_state_at(db, "f@12", "ping", "count"), "104");
    assert_string_equal(s_state_at(db, "c@12", "ping", "count"), "6");

    /* a value the executor cannot read makes the resumed fork fail */
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "bad", "--set-state",
             "ping.count=abc", "--resume", NULL);
    tc_expect(&r, 1, NULL, "state 'count' is not a decimal integer");
}

static void
test_cli_fork_set_shared_and_send(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    /* replace the "4" in flight to ping with "20": ping makes 21, which
     * goes to done at once */
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "s", "--drop-messages",
             "--send", "ping=20", "--set-shared", "note=a=b.c", "--resume",
             NULL);
    tc_expect(&r, 0, "21\n", "run s");
    assert_string_equal(s_state_at(db, "s@6", NULL, "note"), "a=b.c");
    json_t *cp = s_checkpoint_entry(db, "s", "s@6");
    assert_string_equal(json_string_value(json_object_get(cp, "trigger")),
                        "end");

    /* --send without --drop-messages: both numbers go on, two outputs */
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "two", "--send",
             "ping=30", "--resume", "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *doc = tc_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "run_id")),
                        "two");
    json_t *outputs = json_object_get(doc, "outputs");
    assert_int_equal(json_array_size(outputs), 2);
    assert_string_equal(json_string_value(json_array_get(outputs, 0)), "31");
    assert_string_equal(json_string_value(json_array_get(outputs, 1)), "11");

    /* --drop-messages alone: nothing left to do, the fork is complete
     * with the outputs it had (none at superstep 4) */
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "d", "--drop-messages",
             "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    doc = tc_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "checkpoint")),
                        "d@4");
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "completed");
    tc_cairn(&r, "resume", "d", "--db", db, NULL);
    tc_expect(&r, 0, "", "already completed");

    /* a fork of RUN forks its latest checkpoint; without --run-id the id
     * is generated */
    tc_cairn(&r, "fork", "c", "--db", db, "--send", "ping=40", "--resume",
             NULL);
    tc_expect(&r, 0, "11\n41\n", "forked c@12 as run ");
}

static void
test_cli_fork_of_fork(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "f1", "--set-state",
             "ping.count=100", "--resume", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    /* pong's count is 4 at f1@8; 50, then pong runs once more (10) */
    tc_cairn(&r, "fork", "f1@8", "--db", db, "--run-id", "f2", "--set-state",
             "pong.count=50", "--resume", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    assert_string_equal(s_state_at(db, "f2@12", "pong", "count"), "51");
    assert_string_equal(s_state_at(db, "f2@12", "ping", "count"), "104");
    assert_string_equal(s_state_at(db, "f1@12", "pong", "count"), "5");
    assert_string_equal(
        json_string_value(json_object_get(tc_run_entry(db, "f2"), "parent")),
        "f1@8");
    tc_cairn(&r, "verify", "--db", db, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
}

static void
test_cli_fork_stores_only_changes(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    /* a 100 KiB shared value (an argument can hold at most 128 KiB) */
    size_t big_len = 100 * 1024;
    char *big = tc_keep(malloc(big_len + 16));
    memcpy(big, "big=", 4);
    memset(big + 4, 'x', big_len);
    big[4 + big_len] = '\0';
    tc_result_t r = {0};
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "heavy", "--set-shared",
             big, NULL);
    tc_expect(&r, 0, "heavy\n", NULL);
    json_t *cp = s_checkpoint_entry(db, "heavy", "heavy@4");
    json_int_t heavy = json_integer_value(json_object_get(cp, "size_bytes"));
    assert_true(heavy > (json_int_t)big_len);
    /* a fork of it reads the value from it and stores only its own */
    tc_cairn(&r, "fork", "heavy@4", "--db", db, "--run-id", "light",
             "--set-state", "pong.count=9", NULL);
    tc_expect(&r, 0, "light\n", NULL);
    cp = s_checkpoint_entry(db, "light", "light@4");
    json_int_t light = json_integer_value(json_object_get(cp, "size_bytes"));
    if (light <= 0 || light > 1024)
        fail_msg("the fork of a 100 KiB checkpoint stored %lld bytes",
                 (long long)light);
    assert_int_equal(strlen(s_state_at(db, "light@4", NULL, "big")), big_len);
    assert_string_equal(s_state_at(db, "light@4", "pong", "count"), "9");
    /* an unmodified fork stores no state at all: its in-flight record */
    tc_cairn(&r, "fork", "heavy@4", "--db", db, "--run-id", "same", NULL);
    tc_expect(&r, 0, "same\n", NULL);
    cp = s_checkpoint_entry(db, "same", "same@4");
    assert_true(json_integer_value(json_object_get(cp, "size_bytes")) < 256);
}

static void
test_cli_fork_bad_input(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "taken", NULL);
    tc_expect(&r, 0, "taken\n", NULL);
    const char *before = tc_store_listing(db);
    static const struct {
        const char *args[6];
        const char *says;
    } cases[] = {
        {{"c@99"}, "unknown checkpoint 'c@99'"},
        {{"nope@1"}, "unknown run 'nope'"},
        {{"nope"}, "unknown run 'nope'"},
        {{"c@x"}, "not a checkpoint id"},
        {{"c@4", "--run-id", "taken"}, "run 'taken' already exists"},
        {{"c@4", "--run-id", "a b"}, "must match"},
        {{"c@4", "--set-state", "ghost.count=1"}, "no executor 'ghost'"},
        {{"c@4", "--send", "ghost=1"}, "no executor 'ghost'"},
        {{"c@4", "--set-state", "ping.count=1", "--send", "ghost=1"},
         "no executor 'ghost'"},
        {{"c@4", "--set-state", "ping=1"}, "needs EXEC.KEY=VALUE"},
        {{"c@4", "--set-state", "ping.=1"}, "needs EXEC.KEY=VALUE"},
        {{"c@4", "--set-state", ".count=1"}, "needs EXEC.KEY=VALUE"},
        {{"c@4", "--set-state", "ping.count"}, "needs EXEC.KEY=VALUE"},
        {{"c@4", "--set-shared", "=v"}, "needs KEY=VALUE"},
        {{"c@4", "--send", "ping"}, "needs EXEC=PAYLOAD"},
        {{"c@4", "--send", "=1"}, "needs EXEC=PAYLOAD"},
        {{"c@4", "--events"}, "need --resume"},
        {{"c@4", "--bogus"}, "unknown option"},
        {{"c@4", "c@5"}, "expected 1 argument"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        tc_cairn(&r, "fork", "--db", db, a[0], a[1], a[2], a[3], a[4], a[5],
                 NULL);
        tc_expect(&r, 2, "", cases[i].says);
        assert_string_equal(tc_store_listing(db), before);
    }
    tc_cairn(&r, "fork", "--db", db, NULL);
    tc_expect(&r, 2, "", "expected 1 argument");
    assert_string_equal(tc_store_listing(db), before);
}

/* ---- diff ---- */

/* `cairn diff a b --db db --json`, asserting the exit code. */
static json_t *
s_diff(const char *db, const char *a, const char *b, int code)
{
    tc_result_t r = {0};
    tc_cairn(&r, "diff", a, b, "--db", db, "--json", NULL);
    tc_expect(&r, code, NULL, NULL);
    return tc_json(r.out);
}

static void
test_cli_diff_unmodified_fork(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "same", "--resume",
             NULL);
    tc_expect(&r, 0, "11\n", NULL);
    json_t *doc = s_diff(db, "c", "same", 0);
    assert_true(json_is_true(json_object_get(doc, "identical")));
    assert_true(json_is_null(json_object_get(doc, "divergence")));
    assert_int_equal(json_array_size(json_object_get(doc, "state")), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "shared")), 0);
    json_t *steps = json_object_get(doc, "supersteps");
    assert_int_equal(json_integer_value(json_object_get(steps, "a")), 12);
    assert_int_equal(json_integer_value(json_object_get(steps, "b")), 12);
    assert_true(json_is_true(
        json_object_get(json_object_get(doc, "outputs"), "equal")));
    tc_cairn(&r, "diff", "same", "c", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    if (!strstr(r.out, "no divergence"))
        th_fail_showing(r.out, "diff output lacks \"no divergence\"");
    /* unknown runs */
    tc_cairn(&r, "diff", "c", "nope", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    tc_cairn(&r, "diff", "nope", "c", "--db", db, "--json", NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    tc_cairn(&r, "diff", "c", "--db", db, NULL);
    tc_expect(&r, 2, "", "expected 2 argument");
}

static void
test_cli_diff_modified_fork(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    /* changed at superstep 6: ping's count and a new shared key */
    tc_cairn(&r, "fork", "c@6", "--db", db, "--run-id", "mod", "--set-state",
             "ping.count=100", "--set-shared", "note=hi", "--resume", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    json_t *doc = s_diff(db, "c", "mod", 1);
    assert_true(json_is_false(json_object_get(doc, "identical")));
    json_t *st = json_object_get(doc, "state");
    assert_int_equal(json_array_size(st), 1);
    json_t *e = json_array_get(st, 0);
    assert_string_equal(json_string_value(json_object_get(e, "executor")),
                        "ping");
    assert_string_equal(json_string_value(json_object_get(e, "key")), "count");
    assert_string_equal(json_string_value(json_object_get(e, "a")), "6");
    assert_string_equal(json_string_value(json_object_get(e, "b")), "103");
    json_t *sh = json_object_get(doc, "shared");
    assert_int_equal(json_array_size(sh), 1);
    e = json_array_get(sh, 0);
    assert_string_equal(json_string_value(json_object_get(e, "key")), "note");
    assert_true(json_is_null(json_object_get(e, "a")));
    assert_string_equal(json_string_value(json_object_get(e, "b")), "hi");
    json_t *d = json_object_get(doc, "divergence");
    assert_int_equal(json_integer_value(json_object_get(d, "superstep")), 6);
    assert_int_equal(json_integer_value(json_object_get(d, "after")), 5);
    assert_true(json_is_true(json_object_get(d, "exact")));
    assert_string_equal(json_string_value(json_object_get(d, "what")),
                        "executor state");
    tc_cairn(&r, "diff", "c", "mod", "--db", db, NULL);
    tc_expect(&r, 1, NULL, NULL);
    if (!strstr(r.out, "ping.count") || !strstr(r.out, "103")
        || !strstr(r.out, "diverged at superstep 6"))
        th_fail_showing(r.out, "diff output lacks the key or the divergence");

    /* a different message: fewer supersteps, other outputs */
    tc_cairn(&r, "fork", "c@4", "--db", db, "--run-id", "snd",
             "--drop-messages", "--send", "ping=20", "--resume", NULL);
    tc_expect(&r, 0, "21\n", NULL);
    doc = s_diff(db, "c", "snd", 1);
    json_t *steps = json_object_get(doc, "supersteps");
    assert_int_equal(json_integer_value(json_object_get(steps, "b")), 6);
    json_t *out = json_object_get(doc, "outputs");
    assert_true(json_is_false(json_object_get(out, "equal")));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(out, "b"), 0)), "21");
    d = json_object_get(doc, "divergence");
    assert_int_equal(json_integer_value(json_object_get(d, "superstep")), 4);
    assert_string_equal(json_string_value(json_object_get(d, "what")),
                        "messages in flight");

    /* sparse checkpoints: the divergence is bounded, not exact */
    const char *spec = tc_spec("cycle.json", CYCLE_SPEC);
    tc_cairn(&r, "run", spec, "--input", "0", "--db", db, "--run-id", "sp",
             "--checkpoint", "every:4", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    tc_cairn(&r, "fork", "sp@8", "--db", db, "--run-id", "sp2", "--set-shared",
             "x=1", "--resume", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    doc = s_diff(db, "sp", "sp2", 1);
    d = json_object_get(doc, "divergence");
    assert_int_equal(json_integer_value(json_object_get(d, "superstep")), 8);
    assert_int_equal(json_integer_value(json_object_get(d, "after")), 4);
    assert_true(json_is_false(json_object_get(d, "exact")));
}

/* ---- checkpoints --tree ---- */

/* The checkpoint with this id among a tree node's checkpoints. */
static json_t *
s_tree_checkpoint(json_t *node, const char *id)
{
    json_t *cp = th_json_find_id(json_object_get(node, "checkpoints"), id);
    if (!cp)
        fail_msg("tree node of run %s has no checkpoint %s",
                 json_string_value(json_object_get(node, "run")), id);
    return cp;
}

/* The run ids of a checkpoint's forks, as "a,b". */
static const char *
s_fork_ids(json_t *cp)
{
    char *ids = tc_keep(calloc(1, 1));
    size_t i;
    json_t *sub;
    json_array_foreach(json_object_get(cp, "forks"), i, sub)
    {
        char *grown = NULL;
        assert_true(asprintf(&grown, "%s%s%s", ids, i ? "," : "",
                             json_string_value(json_object_get(sub, "run")))
                    > 0);
        ids = tc_keep(grown);
    }
    return ids;
}

static json_t *
s_tree_json(const char *db, const char *run)
{
    tc_result_t r = {0};
    tc_cairn(&r, "checkpoints", run, "--tree", "--json", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    return tc_json(r.out);
}

static void
test_cli_checkpoints_tree(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_run_cycle(db);
    tc_result_t r = {0};
    /* two forks of c (one by cairn fork, one by resuming an older
     * checkpoint) and a fork of the first */
    tc_cairn(&r, "fork", "c@3", "--db", db, "--run-id", "f1", "--resume", NULL);
    tc_expect(&r, 0, "11\n", NULL);
    tc_cairn(&r, "resume", "c@8", "--db", db, NULL);
    tc_expect(&r, 0, "11\n", "forked from it");
    char f2[80];
    tc_run_id(&r, f2, sizeof f2);
    tc_cairn(&r, "fork", "f1@5", "--db", db, "--run-id", "f11", NULL);
    tc_expect(&r, 0, "f11\n", NULL);

    json_t *tree = s_tree_json(db, "c");
    assert_string_equal(json_string_value(json_object_get(tree, "run")), "c");
    assert_true(json_is_true(json_object_get(tree, "this")));
    assert_int_equal(json_array_size(json_object_get(tree, "checkpoints")), 13);
    assert_string_equal(s_fork_ids(s_tree_checkpoint(tree, "c@3")), "f1");
    assert_string_equal(s_fork_ids(s_tree_checkpoint(tree, "c@8")), f2);
    assert_string_equal(s_fork_ids(s_tree_checkpoint(tree, "c@4")), "");
    json_t *f1 = json_array_get(
        json_object_get(s_tree_checkpoint(tree, "c@3"), "forks"), 0);
    assert_int_equal(json_array_size(json_object_get(f1, "checkpoints")), 10);
    assert_string_equal(s_fork_ids(s_tree_checkpoint(f1, "f1@5")), "f11");
    json_t *f11 = json_array_get(
        json_object_get(s_tree_checkpoint(f1, "f1@5"), "forks"), 0);
    assert_string_equal(json_string_value(json_object_get(
                            s_tree_checkpoint(f11, "f11@5"), "trigger")),
                        "fork");
    assert_string_equal(json_string_value(json_object_get(f11, "status")),
                        "paused");

    /* from the fork of the fork: its ancestors up to the fork points,
     * with only the way down to it */
    tree = s_tree_json(db, "f11");
    assert_string_equal(json_string_value(json_object_get(tree, "run")), "c");
    assert_true(json_is_false(json_object_get(tree, "this")));
    assert_int_equal(json_array_size(json_object_get(tree, "checkpoints")), 4);
    assert_string_equal(s_fork_ids(s_tree_checkpoint(tree, "c@3")), "f1");
    f1 = json_array_get(
        json_object_get(s_tree_checkpoint(tree, "c@3"), "forks"), 0);
    assert_int_equal(json_array_size(json_object_get(f1, "checkpoints")), 3);
    f11 = json_array_get(
        json_object_get(s_tree_checkpoint(f1, "f1@5"), "forks"), 0);
    assert_true(json_is_true(json_object_get(f11, "this")));

    /* the table nests each fork under its checkpoint */
    tc_cairn(&r, "checkpoints", "c", "--tree", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    const char *c3 = strstr(r.out, "  c@3 ");
    const char *run_f1 = strstr(r.out, "\n    run f1  completed  forked from "
                                       "c@3");
    const char *run_f11 = strstr(r.out, "\n        run f11  paused  forked "
                                        "from f1@5");
    const char *c4 = strstr(r.out, "  c@4 ");
    if (!c3 || !run_f1 || !run_f11 || !c4 || !(c3 < run_f1)
        || !(run_f1 < run_f11) || !(run_f11 < c4))
        th_fail_showing(r.out, "tree is not nested as expected");

    tc_cairn(&r, "checkpoints", "nope", "--tree", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    tc_cairn(&r, "checkpoints", "c", "--tree", "--limit", "2", "--db", db,
             NULL);
    tc_expect(&r, 2, "", "--tree");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_fork_set_state),
        TC_TEST(test_cli_fork_set_shared_and_send),
        TC_TEST(test_cli_fork_of_fork),
        TC_TEST(test_cli_fork_stores_only_changes),
        TC_TEST(test_cli_fork_bad_input),
        TC_TEST(test_cli_diff_unmodified_fork),
        TC_TEST(test_cli_diff_modified_fork),
        TC_TEST(test_cli_checkpoints_tree),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
