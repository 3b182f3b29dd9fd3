/* test_spec - the JSON workflow spec loader (graph/spec.c).
 *
 * Valid specs are loaded over a registry holding the built-in types and
 * predicates plus two test types (test.echo yields its config bytes,
 * test.strict rejects the config "bad"), then run through a real engine;
 * outputs are recorded from events as "EXECUTOR=PAYLOAD" so the test can
 * tell which executor produced what. Malformed specs each assert the
 * code and a message substring naming the file, the JSON path and what
 * was expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "cairn/spec.h"
#include "tests/harness/harness.h"

static cairn_registry_t *s_registry;
static cairn_engine_t *s_engine;

/* Yields the executor's config bytes as they reached it. */
static int
s_echo(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)msg;
    size_t len;
    const uint8_t *config = cairn_ctx_config(ctx, &len);
    return cairn_ctx_yield_output(ctx, config, len);
}

static int
s_group_setup(void **state)
{
    (void)state;
    const cairn_executor_type_t types[] = {
        {.name = "test.echo", .handle = s_echo},
        {.name = "test.strict", .handle = s_echo, .init = th_init_refuse_bad},
    };
    s_registry = th_registry_open(true, NULL, types, 2);
    if (!s_registry)
        return -1;
    cairn_engine_options_t opts = {.host_threads = 2};
    cairn_error_t err;
    if (cairn_engine_open(&s_engine, s_registry, &opts, &err) != CAIRN_OK)
        return -1;
    return 0;
}

static int
s_group_teardown(void **state)
{
    (void)state;
    cairn_engine_destroy(&s_engine);
    cairn_registry_destroy(&s_registry);
    return 0;
}

/* Loads text as "spec.json", failing the test with the message if the
 * loader refuses it. */
static cairn_workflow_t *
s_load(const char *text, cairn_spec_checkpoint_t *checkpoint)
{
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    int rc = cairn_spec_load(text, strlen(text), "spec.json", s_registry, &wf,
                             checkpoint, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_spec_load: %s (%s)", err.message, cairn_err_name(rc));
    assert_non_null(wf);
    return wf;
}

/* Outputs seen in events, "EXEC=PAYLOAD;EXEC=PAYLOAD;..." in event order. */
typedef struct {
    char text[1024];
    size_t len;
} s_outputs_t;

static void
s_on_event(const cairn_event_t *event, void *userdata)
{
    s_outputs_t *out = userdata;
    if (event->kind != CAIRN_EVENT_OUTPUT)
        return;
    int n = snprintf(out->text + out->len, sizeof out->text - out->len,
                     "%s%s=%.*s", out->len ? ";" : "", event->executor,
                     (int)event->data_len, (const char *)event->data);
    assert_true(n > 0 && (size_t)n < sizeof out->text - out->len);
    out->len += (size_t)n;
}

/* Loads spec, runs it on input, checks it completed and that the outputs
 * are exactly expected ("EXEC=PAYLOAD;..."). */
static void
s_run_expect(const char *spec, const char *input, const char *expected)
{
    cairn_workflow_t *wf = s_load(spec, NULL);
    s_outputs_t outputs = {.len = 0};
    outputs.text[0] = '\0';
    cairn_run_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.on_event = s_on_event;
    opts.event_userdata = &outputs;
    cairn_result_t *res = NULL;
    cairn_error_t err;
    int rc =
        cairn_engine_run(s_engine, wf, input, strlen(input), &opts, &res, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_engine_run: %s", err.message);
    if (cairn_result_status(res) != CAIRN_STATUS_COMPLETED)
        fail_msg("run %s: %s", cairn_status_name(cairn_result_status(res)),
                 cairn_result_error(res)->message);
    assert_string_equal(outputs.text, expected);
    cairn_result_destroy(&res);
    cairn_workflow_destroy(&wf);
}

/* The spec of DESIGN.md, verbatim. */
static const char s_text_pipeline[] =
    "{ \"name\": \"text-pipeline\", \"start\": \"upper\", "
    "\"max_supersteps\": 100,\n"
    "  \"executors\": [ {\"id\": \"upper\", \"type\": \"text.upper\"},\n"
    "                 {\"id\": \"reverse\", \"type\": \"text.reverse\"},\n"
    "                 {\"id\": \"lower\", \"type\": \"text.lower\"},\n"
    "                 {\"id\": \"finalize\", \"type\": \"text.output\"} ],\n"
    "  \"edges\": [ {\"from\": \"upper\", \"to\": \"reverse\"},\n"
    "             {\"from\": \"reverse\", \"to\": \"lower\"},\n"
    "             {\"from\": \"lower\", \"to\": \"finalize\"} ] }\n";

static void
test_spec_text_pipeline_runs(void **state)
{
    (void)state;
    cairn_spec_checkpoint_t cp;
    cairn_workflow_t *wf = s_load(s_text_pipeline, &cp);
    assert_string_equal(cairn_workflow_name(wf), "text-pipeline");
    assert_int_equal(cairn_workflow_max_supersteps(wf), 100);
    assert_int_equal(cairn_workflow_warning_count(wf), 0);
    assert_false(cp.has_policy);
    cairn_workflow_destroy(&wf);
    s_run_expect(s_text_pipeline, "hello world", "finalize=dlrow olleh");
}

static void
test_spec_defaults(void **state)
{
    (void)state;
    cairn_workflow_t *wf =
        s_load("{\"start\": \"a\", \"executors\": "
               "[{\"id\": \"a\", \"type\": \"text.output\"}]}",
               NULL);
    assert_string_equal(cairn_workflow_name(wf), "workflow");
    assert_int_equal(cairn_workflow_max_supersteps(wf),
                     CAIRN_DEFAULT_MAX_SUPERSTEPS);
    cairn_workflow_destroy(&wf);
}

static void
test_spec_direct_edge_with_condition(void **state)
{
    (void)state;
    const char *spec =
        "{\"start\": \"in\", \"executors\": ["
        " {\"id\": \"in\", \"type\": \"text.lower\"},"
        " {\"id\": \"hit\", \"type\": \"text.output\"},"
        " {\"id\": \"all\", \"type\": \"text.output\"}],"
        " \"edges\": ["
        " {\"from\": \"in\", \"to\": \"hit\", \"when\": {\"prefix\": \"go\"}},"
        " {\"from\": \"in\", \"to\": \"all\"}]}";
    s_run_expect(spec, "GO on", "all=go on;hit=go on");
    s_run_expect(spec, "stop", "all=stop");
}

static void
test_spec_fan_out_edge(void **state)
{
    (void)state;
    const char *spec = "{\"start\": \"in\", \"executors\": ["
                       " {\"id\": \"in\", \"type\": \"text.lower\"},"
                       " {\"id\": \"up\", \"type\": \"text.upper\"},"
                       " {\"id\": \"rev\", \"type\": \"text.reverse\"},"
                       " {\"id\": \"o_up\", \"type\": \"text.output\"},"
                       " {\"id\": \"o_rev\", \"type\": \"text.output\"}],"
                       " \"edges\": ["
                       " {\"from\": \"in\", \"to\": [\"up\", \"rev\"]},"
                       " {\"from\": \"up\", \"to\": \"o_up\"},"
                       " {\"from\": \"rev\", \"to\": \"o_rev\"}]}";
    s_run_expect(spec, "abc", "o_rev=cba;o_up=ABC");
}

static void
test_spec_switch_edge(void **state)
{
    (void)state;
    const char *spec =
        "{\"start\": \"in\", \"executors\": ["
        " {\"id\": \"in\", \"type\": \"text.lower\"},"
        " {\"id\": \"small\", \"type\": \"text.output\"},"
        " {\"id\": \"yes\", \"type\": \"text.output\"},"
        " {\"id\": \"other\", \"type\": \"text.output\"}],"
        " \"edges\": [{\"from\": \"in\", \"switch\": ["
        "  {\"when\": {\"int_lt\": 10}, \"to\": \"small\"},"
        "  {\"default\": true, \"to\": \"other\"},"
        "  {\"when\": {\"any\": [{\"eq\": \"yes\"}, {\"eq\": \"y\"}]},"
        "   \"to\": \"yes\", \"default\": false}]}]}";
    s_run_expect(spec, "7", "small=7");
    s_run_expect(spec, "Y", "yes=y");
    s_run_expect(spec, "42", "other=42");
}

static void
test_spec_fan_in_edge(void **state)
{
    (void)state;
    const char *spec =
        "{\"start\": \"in\", \"executors\": ["
        " {\"id\": \"in\", \"type\": \"text.lower\"},"
        " {\"id\": \"a\", \"type\": \"text.upper\"},"
        " {\"id\": \"b\", \"type\": \"text.reverse\"},"
        " {\"id\": \"j\", \"type\": \"text.join\", \"config\": {\"sep\": "
        "\"+\"}},"
        " {\"id\": \"out\", \"type\": \"text.output\"}],"
        " \"edges\": ["
        " {\"from\": \"in\", \"to\": [\"a\", \"b\"]},"
        " {\"from\": [\"b\", \"a\"], \"to\": \"j\", \"fan_in\": true},"
        " {\"from\": \"j\", \"to\": \"out\"}]}";
    s_run_expect(spec, "abc", "out=cba+ABC");
}

static void
test_spec_accepts_filters_messages(void **state)
{
    (void)state;
    /* text.upper sends with some tag; "nothing-sends-this" is never used,
     * so the filtered executor receives nothing. */
    const char *spec =
        "{\"start\": \"in\", \"executors\": ["
        " {\"id\": \"in\", \"type\": \"text.upper\"},"
        " {\"id\": \"picky\", \"type\": \"text.output\","
        "  \"accepts\": [\"nothing-sends-this\"]},"
        " {\"id\": \"easy\", \"type\": \"text.output\"}],"
        " \"edges\": [{\"from\": \"in\", \"to\": [\"picky\", \"easy\"]}]}";
    s_run_expect(spec, "x", "easy=X");
}

/* A label chooses where an executor runs, not what it does: it leaves the
 * signature alone. Without workers nothing can carry it: the run is
 * refused naming the executor and its label, rather than run here. A
 * type the registry lacks loads only when worker types are allowed. */
static void
test_spec_label_places_but_does_not_sign(void **state)
{
    (void)state;
    cairn_workflow_t *plain = s_load(s_text_pipeline, NULL);
    const char *labelled_text =
        "{\"name\": \"text-pipeline\", \"start\": \"upper\", "
        "\"max_supersteps\": 100, \"executors\": ["
        " {\"id\": \"upper\", \"type\": \"text.upper\", \"label\": \"gpu\"},"
        " {\"id\": \"reverse\", \"type\": \"text.reverse\"},"
        " {\"id\": \"lower\", \"type\": \"text.lower\"},"
        " {\"id\": \"finalize\", \"type\": \"text.output\"}],"
        " \"edges\": [{\"from\": \"upper\", \"to\": \"reverse\"},"
        " {\"from\": \"reverse\", \"to\": \"lower\"},"
        " {\"from\": \"lower\", \"to\": \"finalize\"}]}";
    cairn_workflow_t *labelled = s_load(labelled_text, NULL);
    assert_string_equal(cairn_workflow_signature_hex(plain),
                        cairn_workflow_signature_hex(labelled));
    cairn_result_t *res = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_engine_run(s_engine, labelled, "x", 1, NULL, &res,
                                      &err),
                     CAIRN_EVALIDATION);
    assert_null(res);
    assert_string_equal(err.message,
                        "executor 'upper' (type 'text.upper', label 'gpu') "
                        "can only run on a worker offering that type with "
                        "that label, and this engine does not listen for "
                        "workers");
    cairn_workflow_destroy(&plain);
    cairn_workflow_destroy(&labelled);

    const char *remote = "{\"start\": \"a\", \"executors\": [{\"id\": \"a\", "
                         "\"type\": \"test.elsewhere\"}]}";
    cairn_workflow_t *wf = NULL;
    assert_int_equal(cairn_spec_load(remote, strlen(remote), "spec.json",
                                     s_registry, &wf, NULL, &err),
                     CAIRN_EVALIDATION);
    assert_string_equal(err.message,
                        "spec.json: executors[0].type: executor 'a': unknown "
                        "executor type 'test.elsewhere'");
    cairn_spec_options_t options = {.worker_types = true};
    assert_int_equal(cairn_spec_load_with(remote, strlen(remote), "spec.json",
                                          s_registry, &options, &wf, NULL,
                                          &err),
                     CAIRN_OK);
    cairn_workflow_destroy(&wf);
}

/* Config reaches the executor as compact JSON with sorted keys, ${VAR}
 * untouched; no config is no bytes at all. */
static void
test_spec_config_is_compact_sorted_json(void **state)
{
    (void)state;
    s_run_expect("{\"start\": \"e\", \"executors\": [{\"id\": \"e\", "
                 "\"type\": \"test.echo\", \"config\": "
                 "{ \"z\": [1, {\"y\": true, \"x\": null}],\n"
                 "  \"a\": \"${SECRET}\", \"m\": \"\\u00e9\" }}]}",
                 "",
                 "e="
                 "{\"a\":\"${SECRET}\",\"m\":\"\xc3\xa9\","
                 "\"z\":[1,{\"x\":null,\"y\":true}]}");
    s_run_expect("{\"start\": \"e\", \"executors\": [{\"id\": \"e\", "
                 "\"type\": \"test.echo\", \"config\": \"text\"}]}",
                 "", "e=\"text\"");
    s_run_expect("{\"start\": \"e\", \"executors\": [{\"id\": \"e\", "
                 "\"type\": \"test.echo\"}]}",
                 "", "e=");
}

/* ${VAR} stays in the workflow as written (so the signature does not see
 * the value) and is resolved by the built-in type when it starts. */
static void
test_spec_env_vars_resolved_by_types(void **state)
{
    (void)state;
    const char *spec =
        "{\"start\": \"a\", \"executors\": ["
        " {\"id\": \"a\", \"type\": \"text.append\","
        "  \"config\": {\"suffix\": \"-${CAIRN_SPEC_TEST_SUFFIX}\"}},"
        " {\"id\": \"out\", \"type\": \"text.output\"}],"
        " \"edges\": [{\"from\": \"a\", \"to\": \"out\"}]}";
    assert_int_equal(setenv("CAIRN_SPEC_TEST_SUFFIX", "one", 1), 0);
    cairn_workflow_t *one = s_load(spec, NULL);
    s_run_expect(spec, "x", "out=x-one");
    assert_int_equal(setenv("CAIRN_SPEC_TEST_SUFFIX", "two", 1), 0);
    cairn_workflow_t *two = s_load(spec, NULL);
    s_run_expect(spec, "x", "out=x-two");
    assert_string_equal(cairn_workflow_signature_hex(one),
                        cairn_workflow_signature_hex(two));
    cairn_workflow_destroy(&one);
    cairn_workflow_destroy(&two);

    assert_int_equal(unsetenv("CAIRN_SPEC_TEST_SUFFIX"), 0);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_spec_load(spec, strlen(spec), "env.json", s_registry,
                                     &wf, NULL, &err),
                     CAIRN_EVALIDATION);
    assert_null(wf);
    assert_non_null(strstr(err.message, "env.json: executors[0].config: "));
    assert_non_null(strstr(err.message, "environment variable "
                                        "CAIRN_SPEC_TEST_SUFFIX is not set"));
}

static void
test_spec_config_key_order_keeps_signature(void **state)
{
    (void)state;
#define ECHO_SPEC(config)                                                      \
    "{\"start\": \"e\", \"executors\": [{\"id\": \"e\", "                      \
    "\"type\": \"test.echo\", \"config\": " config "}]}"
    const char *a = ECHO_SPEC("{\"b\": 1, \"a\": {\"y\": 2, \"x\": 3}}");
    const char *b = ECHO_SPEC("{\"a\": {\"x\": 3, \"y\": 2},\n \"b\": 1}");
    const char *c = ECHO_SPEC("{\"a\": {\"x\": 3, \"y\": 2}, \"b\": 2}");
#undef ECHO_SPEC
    cairn_workflow_t *wa = s_load(a, NULL);
    cairn_workflow_t *wb = s_load(b, NULL);
    cairn_workflow_t *wc = s_load(c, NULL);
    assert_string_equal(cairn_workflow_signature_hex(wa),
                        cairn_workflow_signature_hex(wb));
    assert_string_not_equal(cairn_workflow_signature_hex(wa),
                            cairn_workflow_signature_hex(wc));
    cairn_workflow_destroy(&wa);
    cairn_workflow_destroy(&wb);
    cairn_workflow_destroy(&wc);
}

static void
test_spec_checkpoint_policies(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        cairn_checkpoint_kind_t kind;
        uint64_t every_n;
    } cases[] = {
        {"every", CAIRN_CHECKPOINT_EVERY, 0},
        {"every:1", CAIRN_CHECKPOINT_EVERY_N, 1},
        {"every:25", CAIRN_CHECKPOINT_EVERY_N, 25},
        {"on-error", CAIRN_CHECKPOINT_ON_ERROR, 0},
        {"manual", CAIRN_CHECKPOINT_MANUAL, 0},
        {"none", CAIRN_CHECKPOINT_NONE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char spec[256];
        snprintf(spec, sizeof spec,
                 "{\"start\": \"a\", \"checkpoint\": \"%s\", \"executors\": "
                 "[{\"id\": \"a\", \"type\": \"text.output\"}]}",
                 cases[i].value);
        cairn_spec_checkpoint_t cp;
        memset(&cp, 0xff, sizeof cp);
        cairn_workflow_t *wf = s_load(spec, &cp);
        assert_true(cp.has_policy);
        assert_int_equal(cp.policy.kind, cases[i].kind);
        assert_int_equal(cp.policy.every_n, cases[i].every_n);
        assert_null(cp.policy.predicate);
        cairn_workflow_destroy(&wf);
    }
}

/* ---- malformed specs ---------------------------------------------------- */

/* A minimal valid executor list, for cases that break something else. */
#define EXECS                                                                  \
    "\"executors\": [{\"id\": \"a\", \"type\": \"text.lower\"},"               \
    " {\"id\": \"b\", \"type\": \"text.output\"},"                             \
    " {\"id\": \"c\", \"type\": \"text.output\"}]"

typedef struct {
    const char *spec;
    const char *expect;  /* substring of the message, after "bad.json: " */
    const char *expect2; /* a second substring, or NULL */
} s_bad_t;

static const s_bad_t s_bad[] = {
    /* JSON syntax, with line and column */
    {"{\n  \"start\": \"a\",\n  \"executors\" []\n}",
     "line 3, column 15: ':' expected near '['", NULL},
    {"", "line 1, column 0: ", "end of file"},
    {"{\"start\": \"a\", \"start\": \"b\", " EXECS "}",
     "line 1, column 22: duplicate object key near '\"start\"'", NULL},
    {"{\"start\": \"a\xff\", " EXECS "}", "line 1, column ",
     "unable to decode byte 0xff"},
    {"{\"start\": \"a\", \"name\": \"x\\u0000y\", " EXECS "}",
     "line 1, column ", "\\u0000 is not allowed"},
    /* top level */
    {"[1, 2]", "$: expected an object, found an array", NULL},
    {"\"spec\"", "$: expected an object, found a string", NULL},
    {"{" EXECS "}", "$: missing required key 'start'", NULL},
    {"{\"start\": 5, " EXECS "}", "start: expected a string, found an integer",
     NULL},
    {"{\"start\": \"a\", \"steps\": 3, " EXECS "}",
     "$: unknown key 'steps' (expected one of: name, start, max_supersteps, "
     "executors, edges, checkpoint, retry, timeout_ms, on_failure)",
     NULL},
    {"{\"start\": \"a\", \"retry\": 3, " EXECS "}",
     "retry: expected an object, found an integer", NULL},
    {"{\"start\": \"a\", \"retry\": {\"max_attempts\": 0}, " EXECS "}",
     "retry.max_attempts: expected an integer from 1 to 4294967295, found an "
     "integer",
     NULL},
    {"{\"start\": \"a\", \"retry\": {\"tries\": 2}, " EXECS "}",
     "retry: unknown key 'tries' (expected one of: max_attempts, backoff_ms, "
     "max_backoff_ms, on)",
     NULL},
    {"{\"start\": \"a\", \"retry\": {\"on\": [\"crash\"]}, " EXECS "}",
     "retry.on[0]: expected \"error\" or \"timeout\"", NULL},
    {"{\"start\": \"a\", \"timeout_ms\": \"1s\", " EXECS "}",
     "timeout_ms: expected an integer from 0 to 4294967295, found a string",
     NULL},
    {"{\"start\": \"a\", \"name\": [], " EXECS "}",
     "name: expected a string, found an empty array", NULL},
    {"{\"start\": \"zz\", " EXECS "}", "start: unknown executor 'zz'", NULL},
    {"{\"start\": \"a\", \"max_supersteps\": 0, " EXECS "}",
     "max_supersteps: must be a positive integer, found 0", NULL},
    {"{\"start\": \"a\", \"max_supersteps\": -1, " EXECS "}",
     "max_supersteps: must be a positive integer, found -1", NULL},
    {"{\"start\": \"a\", \"max_supersteps\": \"10\", " EXECS "}",
     "max_supersteps: must be a positive integer, found a string", NULL},
    {"{\"start\": \"a\", \"max_supersteps\": 2.5, " EXECS "}",
     "max_supersteps: must be a positive integer, found a number", NULL},
    {"{\"start\": \"a\", \"checkpoint\": \"sometimes\", " EXECS "}",
     "checkpoint: expected one of: every, every:N (N >= 1), on-error, manual, "
     "none; found 'sometimes'",
     NULL},
    {"{\"start\": \"a\", \"checkpoint\": \"every:0\", " EXECS "}",
     "checkpoint: expected one of: every, every:N (N >= 1)", "found 'every:0'"},
    {"{\"start\": \"a\", \"checkpoint\": \"every:x\", " EXECS "}",
     "checkpoint: expected one of: ", "found 'every:x'"},
    {"{\"start\": \"a\", \"checkpoint\": 5, " EXECS "}",
     "checkpoint: expected one of: ", "found an integer"},
    /* executors */
    {"{\"start\": \"a\"}", "$: missing required key 'executors'", NULL},
    {"{\"start\": \"a\", \"executors\": []}",
     "executors: expected a non-empty array of executors, found an empty "
     "array",
     NULL},
    {"{\"start\": \"a\", \"executors\": {}}",
     "executors: expected a non-empty array of executors, found an object",
     NULL},
    {"{\"start\": \"a\", \"executors\": [\"a\"]}",
     "executors[0]: expected an object, found a string", NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\"}, {\"type\": \"text.lower\"}]}",
     "executors[1]: missing required key 'id'", NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": 7, \"type\": "
     "\"text.lower\"}]}",
     "executors[0].id: expected a string, found an integer", NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\"}]}",
     "executors[0]: missing required key 'type'", NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\", \"colour\": \"red\"}]}",
     "executors[0]: unknown key 'colour' (expected one of: id, type, config, "
     "accepts, label, retry, timeout_ms, on_failure)",
     NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\", \"on_failure\": \"ignore\"}]}",
     "executors[0].on_failure: expected \"fail\" or \"dead-letter\", found "
     "'ignore'",
     NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\", \"retry\": {\"backoff_ms\": -5}}]}",
     "executors[0].retry.backoff_ms: expected an integer from 0 to "
     "4294967295, found an integer",
     NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\"}, {\"id\": \"b\", \"type\": \"text.nope\"}]}",
     "executors[1].type: executor 'b': unknown executor type 'text.nope'",
     NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\"}, {\"id\": \"b\", \"type\": \"text.lower\"}, "
     "{\"id\": \"a\", \"type\": \"text.output\"}]}",
     "executors[2].id: executor 'a': duplicate executor id", NULL},
    {"{\"start\": \"a b\", \"executors\": [{\"id\": \"a b\", \"type\": "
     "\"text.lower\"}]}",
     "executors[0].id: executor 'a b': id must match [A-Za-z0-9_-]{1,64}",
     NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\"}, {\"id\": \"b\", \"type\": \"test.strict\", "
     "\"config\": \"bad\"}]}",
     "executors[1].config: executor 'b' (type 'test.strict'): bad config: "
     "config is bad",
     NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\", \"accepts\": \"text\"}]}",
     "executors[0].accepts: expected an array of type tags, found a string",
     NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\", \"accepts\": [\"text\", 3]}]}",
     "executors[0].accepts[1]: expected a string, found an integer", NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\", \"label\": 5}]}",
     "executors[0].label: expected a string, found an integer", NULL},
    {"{\"start\": \"a\", \"executors\": [{\"id\": \"a\", \"type\": "
     "\"text.lower\", \"label\": \"two words\"}]}",
     "executors[0].label: executor 'a': label 'two words' must be 1-64 "
     "printable characters without spaces",
     NULL},
    /* edges */
    {"{\"start\": \"a\", " EXECS ", \"edges\": {}}",
     "edges: expected an array of edges, found an object", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [7]}",
     "edges[0]: expected an object, found an integer", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\", \"condition\": {\"eq\": \"x\"}}]}",
     "edges[0]: unknown key 'condition' (expected one of: from, to, when, "
     "switch, fan_in)",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"to\": \"b\"}]}",
     "edges[0]: missing required key 'from'", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\"}]}",
     "edges[0]: missing required key 'to' (or 'switch')", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\"}, {\"from\": \"b\", \"to\": \"zzz\"}]}",
     "edges[1].to: edge #2 from 'b': unknown executor 'zzz'", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"ghost\", \"to\": "
     "\"b\"}]}",
     "edges[0].from: edge #1 from 'ghost': unknown executor 'ghost'", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "[\"b\", \"zzz\"]}]}",
     "edges[0].to[1]: fan-out edge #1 from 'a': unknown executor 'zzz'", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "[\"b\", 4]}]}",
     "edges[0].to[1]: expected a string, found an integer", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "[]}]}",
     "edges[0].to: expected a non-empty array of executor ids, found an "
     "empty array",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "[\"b\", \"c\"], \"when\": {\"eq\": \"x\"}}]}",
     "edges[0].when: a fan-out edge (\"to\" is a list) cannot have a "
     "condition",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"when\": {\"eq\": \"x\"}, \"to\": \"b\"}]}]}",
     "edges[0].switch: exactly one case must be the default, found none", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"default\": true, \"to\": \"b\"}, {\"when\": {\"eq\": \"x\"}, "
     "\"to\": \"b\"}, {\"default\": true, \"to\": \"c\"}]}]}",
     "edges[0].switch[2]: exactly one case must be the default; switch[0] "
     "already is",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"when\": {\"eq\": \"x\"}, \"goto\": \"b\"}]}]}",
     "edges[0].switch[0]: unknown key 'goto' (expected one of: when, to, "
     "default)",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"when\": {\"eq\": \"x\"}}]}]}",
     "edges[0].switch[0]: missing required key 'to'", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"to\": \"b\"}, {\"default\": true, \"to\": \"c\"}]}]}",
     "edges[0].switch[0]: missing required key 'when' (or \"default\": true)",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"default\": true, \"when\": {\"eq\": \"x\"}, \"to\": \"c\"}]}]}",
     "edges[0].switch[0]: the default case cannot have a 'when'", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"default\": \"yes\", \"to\": \"c\"}]}]}",
     "edges[0].switch[0].default: expected true or false, found a string",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\", \"switch\": [{\"default\": true, \"to\": \"c\"}]}]}",
     "edges[0]: a switch edge names its targets and conditions in its cases",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"when\": {\"eq\": \"x\"}, \"to\": \"b\"}, {\"default\": true, "
     "\"to\": \"ghost\"}]}]}",
     "edges[0].switch[1].to: switch edge #1 from 'a': unknown executor "
     "'ghost'",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": [\"a\"], \"to\": "
     "\"c\", \"fan_in\": true}]}",
     "edges[0].from: a fan-in edge needs at least two sources, found 1", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"c\", \"fan_in\": true}]}",
     "edges[0].from: a fan-in edge needs an array of at least two source "
     "ids, found a string",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": [\"a\", \"b\"], "
     "\"to\": \"c\"}]}",
     "edges[0].from: several sources make a fan-in edge: add \"fan_in\": true",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": [\"a\", \"b\"], "
     "\"to\": \"c\", \"fan_in\": 1}]}",
     "edges[0].fan_in: expected true or false, found an integer", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": [\"a\", \"b\"], "
     "\"to\": \"c\", \"fan_in\": true, \"when\": {\"eq\": \"x\"}}]}",
     "edges[0].when: a fan-in edge cannot have a condition", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": [\"a\", \"a\"], "
     "\"to\": \"c\", \"fan_in\": true}]}",
     "edges[0].from: fan-in edge #1 to 'c': source 'a' is listed twice", NULL},
    /* predicates */
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\", \"when\": {\"bogus\": 1}}]}",
     "edges[0].when: unknown predicate 'bogus'", NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\", \"when\": {\"eq\": \"x\", \"ne\": \"y\"}}]}",
     "edges[0].when: a predicate must have exactly one member (its name), "
     "got 2",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\", \"when\": {}}]}",
     "edges[0].when: a predicate must have exactly one member (its name), "
     "got 0",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"switch\": "
     "[{\"when\": \"eq x\", \"to\": \"b\"}, {\"default\": true, \"to\": "
     "\"c\"}]}]}",
     "edges[0].switch[0].when: a predicate must be a JSON object with one "
     "member, like {\"eq\": \"x\"}; got a string",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\", \"when\": {\"int_lt\": \"ten\"}}]}",
     "edges[0].when: predicate 'int_lt': argument 'ten' is not a decimal "
     "integer",
     NULL},
    {"{\"start\": \"a\", " EXECS ", \"edges\": [{\"from\": \"a\", \"to\": "
     "\"b\", \"when\": {\"not\": {\"bogus\": 1}}}]}",
     "edges[0].when: predicate 'not': unknown predicate 'bogus'", NULL},
};

static void
test_spec_malformed_specs_name_path_and_expectation(void **state)
{
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad[0]; i++) {
        cairn_workflow_t *wf = (cairn_workflow_t *)&wf; /* must be reset */
        cairn_spec_checkpoint_t cp;
        memset(&cp, 0xff, sizeof cp);
        cairn_error_t err;
        int rc = cairn_spec_load(s_bad[i].spec, strlen(s_bad[i].spec),
                                 "bad.json", s_registry, &wf, &cp, &err);
        char expected[600];
        snprintf(expected, sizeof expected, "bad.json: %s", s_bad[i].expect);
        if (rc != CAIRN_EVALIDATION || !strstr(err.message, expected)
            || strncmp(err.message, "bad.json: ", 10) != 0
            || (s_bad[i].expect2 && !strstr(err.message, s_bad[i].expect2))) {
            print_error("case %zu: rc %s, message \"%s\"\n  expected "
                        "\"%s\"%s%s\n",
                        i, cairn_err_name(rc), err.message, expected,
                        s_bad[i].expect2 ? " and " : "",
                        s_bad[i].expect2 ? s_bad[i].expect2 : "");
            failures++;
        }
        assert_int_equal(err.code, rc);
        assert_null(wf);
        assert_false(cp.has_policy);
        cairn_workflow_destroy(&wf);
    }
    assert_int_equal(failures, 0);
}

/* Loads text, expects CAIRN_EVALIDATION with a message starting with
 * "long.json: " + prefix. */
static void
s_expect_prefix(const char *text, const char *prefix)
{
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    int rc = cairn_spec_load(text, strlen(text), "long.json", s_registry, &wf,
                             NULL, &err);
    assert_int_equal(rc, CAIRN_EVALIDATION);
    assert_null(wf);
    char expected[128];
    snprintf(expected, sizeof expected, "long.json: %s", prefix);
    if (strncmp(err.message, expected, strlen(expected)) != 0)
        fail_msg("message \"%.120s...\" does not start with \"%s\"",
                 err.message, expected);
}

/* The JSON path of a build problem does not depend on the builder's
 * message: a name so long that the message is cut short still gets the
 * path of the field it came from. */
static void
test_spec_build_problem_path_survives_long_names(void **state)
{
    (void)state;
    char name[601];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char *text = NULL;
    assert_true(asprintf(&text,
                         "{\"start\": \"a\", \"executors\": ["
                         "{\"id\": \"a\", \"type\": \"text.lower\"}, "
                         "{\"id\": \"%s\", \"type\": \"text.lower\"}]}",
                         name)
                > 0);
    s_expect_prefix(text, "executors[1].id: executor 'nnn");
    free(text);
    assert_true(asprintf(&text,
                         "{\"start\": \"a\", \"executors\": ["
                         "{\"id\": \"a\", \"type\": \"text.lower\"}], "
                         "\"edges\": [{\"from\": \"%s\", \"to\": \"a\"}]}",
                         name)
                > 0);
    s_expect_prefix(text, "edges[0].from: edge #1 from 'nnn");
    free(text);
}

static void
test_spec_load_rejects_bad_arguments(void **state)
{
    (void)state;
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_spec_load("{}", 2, "x", NULL, &wf, NULL, &err),
                     CAIRN_EINVAL);
    assert_int_equal(
        cairn_spec_load("{}", 2, "x", s_registry, NULL, NULL, &err),
        CAIRN_EINVAL);
    assert_int_equal(cairn_spec_load(NULL, 2, "x", s_registry, &wf, NULL, &err),
                     CAIRN_EINVAL);
    /* No text at all is a JSON error, named after "spec" without what. */
    assert_int_equal(
        cairn_spec_load(NULL, 0, NULL, s_registry, &wf, NULL, &err),
        CAIRN_EVALIDATION);
    assert_non_null(strstr(err.message, "spec: line 1, column 0: "));
    assert_null(wf);
}

/* ---- cairn_spec_read_file ----------------------------------------------- */

static void
test_spec_read_file(void **state)
{
    (void)state;
    char dir[64];
    assert_int_equal(th_dir_make(dir, sizeof dir, "spec"), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/spec.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(s_text_pipeline, f) >= 0);
    assert_int_equal(fclose(f), 0);

    char *text = NULL;
    size_t len = 0;
    cairn_error_t err;
    assert_int_equal(cairn_spec_read_file(path, &text, &len, &err), CAIRN_OK);
    assert_int_equal(len, strlen(s_text_pipeline));
    assert_string_equal(text, s_text_pipeline);
    cairn_workflow_t *wf = NULL;
    assert_int_equal(
        cairn_spec_load(text, len, path, s_registry, &wf, NULL, &err),
        CAIRN_OK);
    cairn_workflow_destroy(&wf);
    free(text);

    /* An empty file reads as "" (and is then a JSON error). */
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(cairn_spec_read_file(path, &text, &len, &err), CAIRN_OK);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);

    /* Not a regular file: read until end of file. */
    assert_int_equal(cairn_spec_read_file("/dev/null", &text, &len, &err),
                     CAIRN_OK);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);

    /* A missing file and a directory: CAIRN_ENOTFOUND, path + strerror. */
    char missing[80];
    snprintf(missing, sizeof missing, "%s/nope.json", dir);
    text = (char *)&text;
    assert_int_equal(cairn_spec_read_file(missing, &text, &len, &err),
                     CAIRN_ENOTFOUND);
    assert_null(text);
    char expected[160];
    snprintf(expected, sizeof expected, "%s: No such file or directory",
             missing);
    assert_string_equal(err.message, expected);
    assert_int_equal(cairn_spec_read_file(dir, &text, &len, &err),
                     CAIRN_ENOTFOUND);
    snprintf(expected, sizeof expected, "%s: Is a directory", dir);
    assert_string_equal(err.message, expected);
    assert_null(text);
    assert_int_equal(cairn_spec_read_file(NULL, &text, &len, &err),
                     CAIRN_EINVAL);

    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_text_pipeline_runs),
        cmocka_unit_test(test_spec_defaults),
        cmocka_unit_test(test_spec_label_places_but_does_not_sign),
        cmocka_unit_test(test_spec_direct_edge_with_condition),
        cmocka_unit_test(test_spec_fan_out_edge),
        cmocka_unit_test(test_spec_switch_edge),
        cmocka_unit_test(test_spec_fan_in_edge),
        cmocka_unit_test(test_spec_accepts_filters_messages),
        cmocka_unit_test(test_spec_config_is_compact_sorted_json),
        cmocka_unit_test(test_spec_env_vars_resolved_by_types),
        cmocka_unit_test(test_spec_config_key_order_keeps_signature),
        cmocka_unit_test(test_spec_checkpoint_policies),
        cmocka_unit_test(test_spec_malformed_specs_name_path_and_expectation),
        cmocka_unit_test(test_spec_build_problem_path_survives_long_names),
        cmocka_unit_test(test_spec_load_rejects_bad_arguments),
        cmocka_unit_test(test_spec_read_file),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
