/* test_cli_run - `cairn run` as a subprocess: output, input, --json,
 * --events, durability and checkpoint policies, edges and predicates,
 * malformed specs, plugins, `cairn graph`, util.exec's --allow-exec.
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
test_cli_run_prints_outputs_only(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db",
             tc_path("db"), NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    char id[128];
    tc_run_id(&r, id, sizeof id);
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
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
             "--run-id", "pinned", "--cpu-placement", "shared", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    tc_cairn(&r, "resume", "pinned@2", "--db", db, "--cpu-placement", "shared",
             NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, "--cpu-placement",
             "fast", NULL);
    tc_expect(&r, 2, "",
              "--cpu-placement must be 'any' or 'shared', not 'fast'");
}

static void
test_cli_run_id_option(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
             "--run-id", "mine", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    assert_true(strncmp(r.err, "run mine\n", 9) == 0);
    json_t *run = tc_run_entry(db, "mine");
    assert_string_equal(json_string_value(json_object_get(run, "status")),
                        "completed");
    assert_string_equal(
        json_string_value(json_object_get(run, "latest_checkpoint")), "mine@4");
}

static void
test_cli_run_input_sources(void **state)
{
    (void)state;
    tc_result_t r = {0};
    /* --input-file */
    const char *file = tc_path("input.txt");
    th_write(file, "Input File", 10);
    tc_cairn(&r, "run", PIPELINE, "--input-file", file, "--durability", "none",
             NULL);
    tc_expect(&r, 0, "elif tupni\n", NULL);
    /* stdin when it is not a terminal */
    tc_cairn_in(&r, "From Stdin", 10, "run", PIPELINE, "--durability", "none",
                NULL);
    tc_expect(&r, 0, "nidts morf\n", NULL);
    /* --input wins over stdin */
    tc_cairn_in(&r, "ignored", 7, "run", PIPELINE, "--input", "abc",
                "--durability", "none", NULL);
    tc_expect(&r, 0, "cba\n", NULL);
    /* empty stdin: empty input, one empty output line */
    tc_cairn(&r, "run", PIPELINE, "--durability", "none", NULL);
    tc_expect(&r, 0, "\n", NULL);
    /* both at once is a usage error */
    tc_cairn(&r, "run", PIPELINE, "--input", "a", "--input-file", file,
             "--durability", "none", NULL);
    tc_expect(&r, 2, "", "--input");
    /* a missing input file */
    tc_cairn(&r, "run", PIPELINE, "--input-file", tc_path("nope.txt"),
             "--durability", "none", NULL);
    tc_expect(&r, 2, "", "nope.txt");
}

static void
test_cli_run_json(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db",
             tc_path("db"), "--run-id", "j1", "--json", NULL);
    tc_expect(&r, 0, NULL, "run j1");
    /* one JSON object, one line, nothing else */
    assert_true(r.out_len > 0);
    assert_ptr_equal(strchr(r.out, '\n'), r.out + r.out_len - 1);
    json_t *doc = tc_json(r.out);
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
        tc_spec("out.json",
                "{\"start\": \"o\", \"executors\": [{\"id\": \"o\", \"type\": "
                "\"text.output\"}]}");
    const char *file = tc_path("bin");
    th_write(file,
             "a\xff"
             "b\0c",
             5);
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input-file", file, "--durability", "none",
             "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *doc = tc_json(r.out);
    json_t *out = json_array_get(json_object_get(doc, "outputs"), 0);
    assert_true(json_is_object(out));
    assert_string_equal(json_string_value(json_object_get(out, "base64")),
                        "Yf9iAGM=");
    /* Without --json the bytes come out as they are. */
    tc_cairn(&r, "run", spec, "--input-file", file, "--durability", "none",
             NULL);
    tc_expect(&r, 0, NULL, NULL);
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
    char *names = tc_keep(calloc(1, 1));
    const char *line = strchr(err, '\n'); /* after "run ID" */
    assert_non_null(line);
    line++;
    while (*line) {
        size_t n = strcspn(line, "\n");
        char *text = tc_keep(strndup(line, n));
        json_t *ev = tc_json(text);
        assert_string_equal(json_string_value(json_object_get(ev, "run_id")),
                            run_id);
        char *grown = NULL;
        assert_true(asprintf(&grown, "%s%s\n", names,
                             json_string_value(json_object_get(ev, "event")))
                    > 0);
        names = tc_keep(grown);
        line += n + (line[n] == '\n');
    }
    return names;
}

static void
test_cli_run_events(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db",
             tc_path("db"), "--run-id", "ev", "--events", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
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
    json_t *ev = tc_json(last);
    assert_string_equal(json_string_value(json_object_get(ev, "status")),
                        "completed");
}

static void
test_cli_run_durability_none(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
             "--durability", "none", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", "run ");
    assert_false(tc_exists(db));
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "sometimes",
             "--db", db, NULL);
    tc_expect(&r, 2, "", "--durability");
    assert_false(tc_exists(db));
}

static void
test_cli_run_checkpoint_every_n(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    /* 4 supersteps: the entry, every 2nd barrier, and the end. */
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
             "--run-id", "e2", "--checkpoint", "every:2", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    char *ids = tc_checkpoint_ids(db, "e2");
    assert_string_equal(ids, "e2@4,e2@2,e2@0");
    /* default: every superstep */
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
             "--run-id", "all", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    ids = tc_checkpoint_ids(db, "all");
    assert_string_equal(ids, "all@4,all@3,all@2,all@1,all@0");
    /* on-error, and the run did not fail: the entry and the end */
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
             "--run-id", "oe", "--checkpoint", "on-error", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    ids = tc_checkpoint_ids(db, "oe");
    assert_string_equal(ids, "oe@4,oe@0");
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--db", db, "--checkpoint",
             "every:0", NULL);
    tc_expect(&r, 2, "", "--checkpoint");
}

static void
test_cli_run_checkpoint_none(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    /* No barrier checkpoints, but "whatever the policy, the entry
     * checkpoint and the checkpoint of every end state are written"
     * (docs/spec.md, Checkpoint policy; DESIGN.md, Contract details). */
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db", db,
             "--run-id", "nn", "--checkpoint", "none", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    char *ids = tc_checkpoint_ids(db, "nn");
    assert_string_equal(ids, "nn@4,nn@0");
}

/* ---- edges and predicates ---- */

/* Runs spec (no store) on input and asserts exit 0 and stdout. */
static void
s_run_expect(const char *spec, const char *input, const char *expected)
{
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", input, "--durability", "none", NULL);
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
    const char *spec = tc_spec(
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
    const char *spec = tc_spec(
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
    const char *spec = tc_spec(
        "switch.json",
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
    const char *first = tc_spec(
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
    const char *spec = tc_spec(
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
    const char *late = tc_spec(
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
    const char *path = tc_spec("predicates.json", doc);
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
    const char *spec = tc_path("bad.json");
    tc_result_t r = {0};
    size_t n = sizeof s_bad_specs / sizeof s_bad_specs[0];
    for (size_t i = 0; i < n; i++) {
        const s_bad_spec_t *bad = &s_bad_specs[i];
        th_write(spec, bad->json, strlen(bad->json));
        tc_cairn(&r, "run", spec, "--input", "x", "--durability", "none", NULL);
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
    tc_result_t r = {0};
    tc_cairn(&r, "run", GREET, "--plugin", GREET_SO, "--input", "please",
             "--durability", "none", NULL);
    tc_expect(&r, 0, "hello, please\n", NULL);
    tc_cairn(&r, "run", GREET, "--plugin", GREET_SO, "--input", "bob",
             "--durability", "none", NULL);
    tc_expect(&r, 0, "HELLO, BOB\n", NULL);
    /* resume finds the plugin through the run record */
    const char *db = tc_path("db");
    tc_cairn(&r, "run", GREET, "--plugin", GREET_SO, "--input", "x, please",
             "--db", db, "--run-id", "g", "--max-supersteps", "1", NULL);
    tc_expect(&r, 4, "", NULL);
    tc_cairn(&r, "resume", "g", "--db", db, "--max-supersteps", "5", NULL);
    tc_expect(&r, 0, "hello, x, please\n", NULL);
    /* without the plugin its predicate is unknown */
    tc_cairn(&r, "run", GREET, "--input", "bob", "--durability", "none", NULL);
    tc_expect(&r, 2, "", "unknown predicate 'greet.polite'");
}

static void
test_cli_plugin_wrong_abi(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", GREET, "--plugin", WRONG_ABI_SO, "--input", "bob",
             "--durability", "none", NULL);
    tc_expect(&r, 2, "", "ABI");
    assert_non_null(strstr(r.err, "libcairn_greet_wrong_abi.so"));
}

static void
test_cli_plugin_missing(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", GREET, "--plugin", tc_path("libnope.so"), "--input",
             "bob", "--durability", "none", NULL);
    tc_expect(&r, 2, "", "libnope.so");
}

/* ---- graph, gc, export/import ---- */

static const char *
s_all_edges_spec(void)
{
    return tc_spec(
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
            th_fail_showing(text, "graph lacks \"%s\"", parts[i]);
}

static void
test_cli_graph(void **state)
{
    (void)state;
    const char *spec = s_all_edges_spec();
    tc_result_t r = {0};
    tc_cairn(&r, "graph", spec, "--format", "dot", NULL);
    tc_expect(&r, 0, NULL, NULL);
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
    char *dot_text = tc_keep(strdup(r.out));
    tc_cairn(&r, "graph", spec, NULL);
    tc_expect(&r, 0, dot_text, NULL);

    tc_cairn(&r, "graph", spec, "--format", "mermaid", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_true(strncmp(r.out, "flowchart", 9) == 0);
    static const char *const mermaid[] = {
        "  in",     "  a[",    "  b[",     "  j[",     "  sw[",  "  hi[",
        "  lo[",    "  bang[", "in --> a", "in --> b", "a -.->", "b -.->",
        "j --> sw", "in -->|", "| bang",   "sw -->|",  "| hi",   "| lo",
    };
    s_assert_contains_all(r.out, mermaid, sizeof mermaid / sizeof mermaid[0]);

    tc_cairn(&r, "graph", spec, "--format", "svg", NULL);
    tc_expect(&r, 2, "", "svg");
    const char *bad = tc_spec("bad.json", "{\"start\": \"x\"}");
    tc_cairn(&r, "graph", bad, NULL);
    tc_expect(&r, 2, "", "bad.json: $: missing required key 'executors'");
    tc_cairn(&r, "graph", GREET, NULL);
    tc_expect(&r, 2, "", "greet.polite");
    tc_cairn(&r, "graph", GREET, "--plugin", GREET_SO, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "\"greet\" -> \"polite\""));
}

/* ---- util.exec ---- */

static void
test_cli_exec_needs_allow_exec(void **state)
{
    (void)state;
    const char *spec = tc_spec(
        "exec.json",
        "{\"start\": \"cat\", \"executors\": [\n"
        " {\"id\": \"cat\", \"type\": \"util.exec\", \"config\": {\"argv\": "
        "[\"/bin/cat\"]}},\n"
        " {\"id\": \"o\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"cat\", \"to\": \"o\"}]}");
    const char *db = tc_path("db");
    tc_result_t r = {0};
    /* refused before anything is stored (test_cli_runrecord.c has more) */
    tc_cairn(&r, "run", spec, "--input", "meow", "--db", db, "--run-id", "x",
             NULL);
    tc_expect(&r, 2, "", "--allow-exec");
    /* the permission is not stored: resume needs it too */
    tc_cairn(&r, "run", spec, "--input", "meow", "--db", db, "--run-id", "x",
             "--allow-exec", "--max-supersteps", "1", NULL);
    tc_expect(&r, 4, "", NULL);
    tc_cairn(&r, "resume", "x", "--db", db, "--max-supersteps", "5", NULL);
    tc_expect(&r, 2, "", "--allow-exec");
    tc_cairn(&r, "resume", "x", "--db", db, "--allow-exec", "--max-supersteps",
             "5", NULL);
    tc_expect(&r, 0, "meow\n", NULL);
    tc_cairn(&r, "run", spec, "--input", "purr", "--durability", "none",
             "--allow-exec", NULL);
    tc_expect(&r, 0, "purr\n", NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_run_prints_outputs_only),
        TC_TEST(test_cli_run_id_option),
        TC_TEST(test_cli_run_input_sources),
        TC_TEST(test_cli_run_json),
        TC_TEST(test_cli_run_json_binary_output),
        TC_TEST(test_cli_run_events),
        TC_TEST(test_cli_run_durability_none),
        TC_TEST(test_cli_run_checkpoint_every_n),
        TC_TEST(test_cli_run_checkpoint_none),
        TC_TEST(test_cli_run_cpu_placement),
        TC_TEST(test_cli_edge_direct),
        TC_TEST(test_cli_edge_fan_out),
        TC_TEST(test_cli_edge_switch),
        TC_TEST(test_cli_edge_fan_in),
        TC_TEST(test_cli_predicates),
        TC_TEST(test_cli_malformed_specs),
        TC_TEST(test_cli_plugin_greet),
        TC_TEST(test_cli_plugin_wrong_abi),
        TC_TEST(test_cli_plugin_missing),
        TC_TEST(test_cli_graph),
        TC_TEST(test_cli_exec_needs_allow_exec),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
