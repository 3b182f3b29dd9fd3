/* test_builtins - the built-in executor types, JSON predicates, the
 * composite predicates and ${VAR} expansion.
 *
 * Executor types run through a real engine (builder, engine, run) and the
 * tests assert on the result: outputs, final states and failure reasons.
 * util.crash kills its whole process, so it runs in a helper program
 * (child_crash) started with posix_spawn. util.exec starts real programs
 * (/bin/cat, /bin/false, /bin/sleep, /bin/sh); after each run the test
 * process must have no child left, reaped or not.
 */
#include <errno.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "tests/harness/harness.h"

#define CHILD_CRASH CAIRN_TEST_BIN_DIR "/child_crash"

extern char **environ;

static cairn_registry_t *s_registry; /* builtins (exec allowed) + test types */
static cairn_registry_t *s_no_exec;  /* builtins, exec not allowed */

/* Predicates test.eval evaluates on each message, in order. */
static const char *const s_eval_cases[] = {
    "{\"not\": {\"eq\": \"abc\"}}",                            /* 0 */
    "{\"all\": [{\"prefix\": \"a\"}, {\"contains\": \"b\"}]}", /* 1 */
    "{\"any\": [{\"eq\": \"zzz\"}, {\"prefix\": \"ab\"}]}",    /* 2 */
    "{\"all\": []}",                                           /* 3 */
    "{\"any\": []}",                                           /* 4 */
    "{\"not\": {\"all\": [{\"always\": null}, {\"never\": null}]}}",
    "{\"any\": [{\"not\": {\"int_lt\": 5}}, {\"eq\": \"7\"}]}", /* 6 */
};

/* ---- test executor types ---------------------------------------- */

/* Sends its input on with the type tag "greeting". */
static int
s_tagger(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_send(ctx, "greeting", payload, len);
}

/* Yields "TAG:PAYLOAD". */
static int
s_show_tag(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[256];
    int n = snprintf(text, sizeof text, "%s:%.*s", cairn_msg_type(msg),
                     (int)len, (const char *)payload);
    return cairn_ctx_yield_output(ctx, text, (size_t)n);
}

/* Yields one '1' or '0' per predicate in s_eval_cases. */
static int
s_eval(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t n = sizeof s_eval_cases / sizeof s_eval_cases[0];
    char bits[16];
    for (size_t i = 0; i < n; i++) {
        char *name;
        uint8_t *arg;
        size_t arg_len;
        cairn_error_t err;
        if (cairn_predicate_from_json(s_registry, s_eval_cases[i],
                                      strlen(s_eval_cases[i]), &name, &arg,
                                      &arg_len, &err)
            != CAIRN_OK)
            return cairn_ctx_fail(ctx, "case %zu: %s", i, err.message);
        bits[i] = cairn_registry_eval(s_registry, name, msg, arg, arg_len)
                      ? '1'
                      : '0';
        free(name);
        free(arg);
    }
    return cairn_ctx_yield_output(ctx, bits, n);
}

static int
s_group_setup(void **state)
{
    (void)state;
    const cairn_builtins_options_t allow = {.allow_exec = true};
    const cairn_executor_type_t types[] = {
        {.name = "test.tagger", .handle = s_tagger},
        {.name = "test.show_tag", .handle = s_show_tag},
        {"test.eval", s_eval, NULL, NULL, NULL},
    };
    s_registry = th_registry_open(true, &allow, types, 3);
    s_no_exec = th_registry_open(true, NULL, NULL, 0);
    return s_registry && s_no_exec ? 0 : -1;
}

static int
s_group_teardown(void **state)
{
    (void)state;
    cairn_registry_destroy(&s_registry);
    cairn_registry_destroy(&s_no_exec);
    return 0;
}

/* ---- helpers ------------------------------------------------------ */

static void
s_add(cairn_builder_t *b, const char *id, const char *type, const char *config)
{
    assert_int_equal(cairn_builder_add_executor(b, id, type, config,
                                                config ? strlen(config) : 0),
                     CAIRN_OK);
}

static void
s_edge(cairn_builder_t *b, const char *from, const char *to)
{
    assert_int_equal(cairn_builder_add_edge(b, from, to, NULL, NULL, 0),
                     CAIRN_OK);
}

/* Builds b (must succeed), runs it on input in a fresh engine over
 * registry and returns the result (caller owns it). */
static cairn_result_t *
s_run(const cairn_registry_t *registry, cairn_builder_t *b, const char *input,
      size_t input_len)
{
    cairn_workflow_t *wf = NULL;
    cairn_engine_t *engine = NULL;
    cairn_result_t *res = NULL;
    cairn_error_t err;
    cairn_error_clear(&err);
    int rc = cairn_builder_build(b, &wf, &err);
    if (rc != CAIRN_OK)
        fail_msg("build failed: %s", err.message);
    assert_int_equal(cairn_engine_open(&engine, registry, NULL, &err),
                     CAIRN_OK);
    rc = cairn_engine_run(engine, wf, input, input_len, NULL, &res, &err);
    if (rc != CAIRN_OK)
        fail_msg("run failed: %s", err.message);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    return res;
}

/* Runs "t" (type, config) -> "out" (text.output) on input. */
static cairn_result_t *
s_run_single(const cairn_registry_t *registry, const char *type,
             const char *config, const char *input)
{
    cairn_builder_t *b = cairn_builder_new(registry);
    assert_non_null(b);
    s_add(b, "t", type, config);
    s_add(b, "out", "text.output", NULL);
    s_edge(b, "t", "out");
    assert_int_equal(cairn_builder_set_start(b, "t"), CAIRN_OK);
    cairn_result_t *res = s_run(registry, b, input, strlen(input));
    cairn_builder_destroy(&b);
    return res;
}

/* Asserts a completed run with exactly one output, equal to expected
 * (expected_len bytes), then destroys the result. */
static void
s_expect_output_n(cairn_result_t **res, const char *expected,
                  size_t expected_len)
{
    const cairn_error_t *err = cairn_result_error(*res);
    if (cairn_result_status(*res) != CAIRN_STATUS_COMPLETED)
        fail_msg("run %s: %s", cairn_status_name(cairn_result_status(*res)),
                 err->message);
    assert_int_equal(cairn_result_output_count(*res), 1);
    size_t len;
    const uint8_t *out = cairn_result_output(*res, 0, &len);
    assert_int_equal(len, expected_len);
    assert_memory_equal(out, expected, len);
    cairn_result_destroy(res);
}

static void
s_expect_output(cairn_result_t **res, const char *expected)
{
    s_expect_output_n(res, expected, strlen(expected));
}

/* Asserts a failed run whose reason contains every one of the (NULL-
 * terminated) texts and that yielded no output; destroys the result. */
static void
s_expect_failure(cairn_result_t **res, ...)
{
    assert_int_equal(cairn_result_status(*res), CAIRN_STATUS_FAILED);
    assert_int_equal(cairn_result_output_count(*res), 0);
    const char *message = cairn_result_error(*res)->message;
    va_list args;
    va_start(args, res);
    for (const char *text = va_arg(args, const char *); text;
         text = va_arg(args, const char *))
        if (!strstr(message, text))
            fail_msg("reason '%s' does not contain '%s'", message, text);
    va_end(args);
    cairn_result_destroy(res);
}

/* The test process must have no child processes left (no zombies). */
static void
s_expect_no_children(void)
{
    int status;
    errno = 0;
    assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* True when process pid is gone or a zombie within a second (an orphan
 * is reaped by whatever adopted it, which may take a moment). */
static bool
s_process_gone(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        char state = '?';
        int matched = fscanf(f, "%*d (%*[^)]) %c", &state);
        fclose(f);
        if (matched == 1 && state == 'Z')
            return true;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

static int64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- text.* --------------------------------------------------------- */

static void
test_builtins_text_transforms(void **state)
{
    (void)state;
    cairn_result_t *res =
        s_run_single(s_registry, "text.upper", NULL, "Hello, World 42!");
    s_expect_output(&res, "HELLO, WORLD 42!");
    res = s_run_single(s_registry, "text.lower", "{}", "MiXeD Case 7");
    s_expect_output(&res, "mixed case 7");
    res = s_run_single(s_registry, "text.reverse", NULL, "abc de");
    s_expect_output(&res, "ed cba");
    /* Bytewise ASCII: bytes >= 0x80 are left alone, in any locale. */
    res = s_run_single(s_registry, "text.upper", NULL, "\xc3\xa9t\xc3\xa9");
    s_expect_output(&res, "\xc3\xa9T\xc3\xa9");
    res = s_run_single(s_registry, "text.reverse", NULL, "");
    s_expect_output(&res, "");
}

/* upper -> reverse -> lower -> output, as in the DESIGN example. */
static void
test_builtins_text_pipeline(void **state)
{
    (void)state;
    cairn_builder_t *b = cairn_builder_new(s_registry);
    s_add(b, "upper", "text.upper", NULL);
    s_add(b, "reverse", "text.reverse", NULL);
    s_add(b, "lower", "text.lower", NULL);
    s_add(b, "finalize", "text.output", NULL);
    s_edge(b, "upper", "reverse");
    s_edge(b, "reverse", "lower");
    s_edge(b, "lower", "finalize");
    assert_int_equal(cairn_builder_set_start(b, "upper"), CAIRN_OK);
    cairn_result_t *res = s_run(s_registry, b, "Hello", 5);
    assert_int_equal(cairn_result_supersteps(res), 4);
    s_expect_output(&res, "olleh");
    cairn_builder_destroy(&b);
}

/* Transforms keep the incoming type tag. */
static void
test_builtins_text_keeps_type_tag(void **state)
{
    (void)state;
    const char *types[] = {"text.upper", "text.reverse", "text.append",
                           "count.inc"};
    const char *configs[] = {NULL, NULL, "{\"suffix\": \"!\"}", NULL};
    const char *expected[] = {"greeting:12", "greeting:21", "greeting:12!",
                              "greeting:13"};
    for (size_t i = 0; i < 4; i++) {
        cairn_builder_t *b = cairn_builder_new(s_registry);
        s_add(b, "tag", "test.tagger", NULL);
        s_add(b, "t", types[i], configs[i]);
        s_add(b, "show", "test.show_tag", NULL);
        s_edge(b, "tag", "t");
        s_edge(b, "t", "show");
        assert_int_equal(cairn_builder_set_start(b, "tag"), CAIRN_OK);
        cairn_result_t *res = s_run(s_registry, b, "12", 2);
        s_expect_output(&res, expected[i]);
        cairn_builder_destroy(&b);
    }
}

static void
test_builtins_text_append(void **state)
{
    (void)state;
    cairn_result_t *res =
        s_run_single(s_registry, "text.append", "{\"suffix\": \"!?\"}", "hi");
    s_expect_output(&res, "hi!?");
    assert_int_equal(setenv("CAIRN_TEST_SUFFIX", "-secret", 1), 0);
    res = s_run_single(s_registry, "text.append",
                       "{\"suffix\": \"<${CAIRN_TEST_SUFFIX}>\"}", "x");
    s_expect_output(&res, "x<-secret>");
    unsetenv("CAIRN_TEST_SUFFIX");
}

static void
test_builtins_text_output_yields_payload(void **state)
{
    (void)state;
    cairn_builder_t *b = cairn_builder_new(s_registry);
    s_add(b, "out", "text.output", NULL);
    assert_int_equal(cairn_builder_set_start(b, "out"), CAIRN_OK);
    cairn_result_t *res = s_run(s_registry, b, "a\0b", 3);
    assert_int_equal(cairn_result_supersteps(res), 1);
    s_expect_output_n(&res, "a\0b", 3);
    cairn_builder_destroy(&b);
}

/* src fans out to a and b; a fan-in edge joins them in source order. */
static cairn_builder_t *
s_join_graph(const char *join_config, bool b_first)
{
    const char *ab[] = {"a", "b"};
    const char *sources[] = {b_first ? "b" : "a", b_first ? "a" : "b"};
    cairn_builder_t *b = cairn_builder_new(s_registry);
    s_add(b, "src", "text.lower", NULL);
    s_add(b, "a", "text.append", "{\"suffix\": \"-a\"}");
    s_add(b, "b", "text.upper", NULL);
    s_add(b, "join", "text.join", join_config);
    s_add(b, "out", "text.output", NULL);
    assert_int_equal(cairn_builder_add_fan_out(b, "src", ab, 2, NULL, NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_fan_in(b, sources, 2, "join"), CAIRN_OK);
    s_edge(b, "join", "out");
    assert_int_equal(cairn_builder_set_start(b, "src"), CAIRN_OK);
    return b;
}

static void
test_builtins_text_join_fan_in(void **state)
{
    (void)state;
    cairn_builder_t *b = s_join_graph("{\"sep\": \" + \"}", false);
    cairn_result_t *res = s_run(s_registry, b, "Hi", 2);
    s_expect_output(&res, "hi-a + HI");
    cairn_builder_destroy(&b);
    b = s_join_graph(NULL, true); /* default separator, other order */
    res = s_run(s_registry, b, "Hi", 2);
    s_expect_output(&res, "HI hi-a");
    cairn_builder_destroy(&b);
    b = s_join_graph("{\"sep\": \"\"}", false);
    res = s_run(s_registry, b, "Hi", 2);
    s_expect_output(&res, "hi-aHI");
    cairn_builder_destroy(&b);
    /* Not a fan-in message: its own payload goes on. */
    res = s_run_single(s_registry, "text.join", "{\"sep\": \",\"}", "solo");
    s_expect_output(&res, "solo");
}

/* ---- count.inc ------------------------------------------------------ */

static void
test_builtins_count_inc(void **state)
{
    (void)state;
    cairn_result_t *res =
        s_run_single(s_registry, "count.inc", "{\"by\": 5}", " 37\n");
    size_t len;
    const uint8_t *count = cairn_result_state(res, "t", "count", &len);
    assert_non_null(count);
    assert_int_equal(len, 1);
    assert_memory_equal(count, "1", 1);
    s_expect_output(&res, "42");
    res = s_run_single(s_registry, "count.inc", NULL, "-1");
    s_expect_output(&res, "0");
    res = s_run_single(s_registry, "count.inc", "{\"by\": -10}", "3");
    s_expect_output(&res, "-7");
}

/* count loops to itself while the value is < 3: it handles 3 messages
 * and keeps that number in state "count". */
static void
test_builtins_count_inc_counts_messages(void **state)
{
    (void)state;
    cairn_builder_t *b = cairn_builder_new(s_registry);
    s_add(b, "count", "count.inc", NULL);
    s_add(b, "out", "text.output", NULL);
    assert_int_equal(
        cairn_builder_add_edge(b, "count", "count", "int_lt", "3", 1),
        CAIRN_OK);
    assert_int_equal(
        cairn_builder_add_edge(b, "count", "out", "int_ge", "3", 1), CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, "count"), CAIRN_OK);
    cairn_result_t *res = s_run(s_registry, b, "0", 1);
    size_t len;
    const uint8_t *count = cairn_result_state(res, "count", "count", &len);
    assert_non_null(count);
    assert_int_equal(len, 1);
    assert_memory_equal(count, "3", 1);
    assert_int_equal(cairn_result_supersteps(res), 4);
    s_expect_output(&res, "3");
    cairn_builder_destroy(&b);
}

static void
test_builtins_count_inc_rejects_non_integers(void **state)
{
    (void)state;
    cairn_result_t *res =
        s_run_single(s_registry, "count.inc", NULL, "twelve apples");
    s_expect_failure(&res, "executor 't'", "count.inc",
                     "payload 'twelve apples' is not a decimal integer", NULL);
    res = s_run_single(s_registry, "count.inc", "{\"by\": 1}",
                       "9223372036854775807");
    s_expect_failure(&res, "count.inc", "overflows", NULL);
}

/* ---- bad configs ---------------------------------------------------- */

typedef struct {
    const char *type;
    const char *config;
    const char *expected; /* must appear in the build error */
} s_bad_config_t;

static void
test_builtins_bad_configs_fail_build(void **state)
{
    (void)state;
    static const s_bad_config_t cases[] = {
        {"text.append", NULL, "text.append: config field 'suffix' is required"},
        {"text.append", "{\"suffix\": 1}",
         "text.append: config field 'suffix' must be a string"},
        {"text.append", "{\"suffix\": \"x\", \"extra\": 1}",
         "text.append: unknown config field 'extra'"},
        {"text.upper", "{\"x\": 1}",
         "text.upper: unknown config field 'x' (this type takes no config)"},
        {"text.output", "{\"x\": 1}", "text.output: unknown config field 'x'"},
        {"text.join", "{\"sep\": []}",
         "text.join: config field 'sep' must be a string"},
        {"text.join", "{\"sep\": \"${CAIRN_TEST_SURELY_UNSET}\"}",
         "text.join: config field 'sep': environment variable "
         "CAIRN_TEST_SURELY_UNSET is not set"},
        {"count.inc", "{\"by\": \"2\"}",
         "count.inc: config field 'by' must be an integer"},
        {"count.inc", "{\"by\": 1.5}",
         "count.inc: config field 'by' must be an integer"},
        {"util.sleep", "{}", "util.sleep: config field 'ms' is required"},
        {"util.sleep", "{\"ms\": -1}",
         "util.sleep: config field 'ms' must be an integer from 0"},
        {"util.fail", "{\"when\": {\"nope\": 1}}",
         "util.fail: config field 'when': unknown predicate 'nope'"},
        {"util.fail", "{\"when\": {\"int_lt\": \"abc\"}}",
         "util.fail: config field 'when': predicate 'int_lt': argument "
         "'abc' is not a decimal integer"},
        {"util.fail", "{\"when\": \"eq\"}",
         "util.fail: config field 'when': a predicate must be a JSON object"},
        {"util.fail", "{\"first_attempts\": -1}",
         "util.fail: config field 'first_attempts' must be an integer"},
        {"util.crash", "{\"marker\": \"/tmp/x\"}",
         "util.crash: config field 'at_superstep' is required"},
        {"util.crash", "{\"at_superstep\": 0, \"marker\": \"/tmp/x\"}",
         "util.crash: config field 'at_superstep' must be an integer from 1"},
        {"util.crash", "{\"at_superstep\": 2}",
         "util.crash: config field 'marker' is required"},
        {"util.exec", "{}", "util.exec: config field 'argv' is required"},
        {"util.exec", "{\"argv\": []}",
         "util.exec: config field 'argv' must be a non-empty array"},
        {"util.exec", "{\"argv\": [\"/bin/echo\", 1]}",
         "util.exec: config field 'argv[1]' must be a string"},
        {"util.exec", "{\"argv\": [\"${CAIRN_TEST_SURELY_UNSET}\"]}",
         "util.exec: config field 'argv[0]': environment variable "
         "CAIRN_TEST_SURELY_UNSET is not set"},
        {"util.exec", "{\"argv\": [\"/bin/true\"], \"timeout_ms\": 0}",
         "util.exec: config field 'timeout_ms' must be an integer from 1"},
        {"text.lower", "{", "text.lower: config is not valid JSON"},
        {"text.lower", "[1]", "text.lower: config must be a JSON object"},
        {"text.append", "{\"suffix\": \"a\", \"suffix\": \"b\"}",
         "text.append: config is not valid JSON: duplicate object key"},
    };
    unsetenv("CAIRN_TEST_SURELY_UNSET");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cairn_builder_t *b = cairn_builder_new(s_registry);
        s_add(b, "victim", cases[i].type, cases[i].config);
        assert_int_equal(cairn_builder_set_start(b, "victim"), CAIRN_OK);
        cairn_workflow_t *wf = NULL;
        cairn_error_t err;
        cairn_error_clear(&err);
        assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
        assert_null(wf);
        if (!strstr(err.message, "executor 'victim'")
            || !strstr(err.message, cases[i].expected))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err.message,
                     cases[i].expected);
        cairn_builder_destroy(&b);
    }
}

/* Configs that are valid in unusual ways: null config, defaults. */
static void
test_builtins_config_null_means_empty(void **state)
{
    (void)state;
    cairn_result_t *res = s_run_single(s_registry, "text.upper", "null", "a");
    s_expect_output(&res, "A");
    res = s_run_single(s_registry, "count.inc", "null", "1");
    s_expect_output(&res, "2");
}

/* ---- util.fail ------------------------------------------------------ */

static void
test_builtins_util_fail_when(void **state)
{
    (void)state;
    const char *config = "{\"when\": {\"eq\": \"bad\"}}";
    cairn_result_t *res = s_run_single(s_registry, "util.fail", config, "bad");
    s_expect_failure(&res, "executor 't'", "util.fail: failing as configured",
                     "payload 'bad'", NULL);
    res = s_run_single(s_registry, "util.fail", config, "good");
    s_expect_output(&res, "good");
    /* No "when": every payload fails. */
    res = s_run_single(s_registry, "util.fail", NULL, "anything");
    s_expect_failure(&res, "util.fail", NULL);
}

static void
test_builtins_util_fail_composite_when(void **state)
{
    (void)state;
    const char *config = "{\"when\": {\"any\": [{\"eq\": \"a\"}, "
                         "{\"all\": [{\"prefix\": \"zz\"}, "
                         "{\"not\": {\"contains\": \"ok\"}}]}]}}";
    cairn_result_t *res = s_run_single(s_registry, "util.fail", config, "a");
    s_expect_failure(&res, "util.fail", NULL);
    res = s_run_single(s_registry, "util.fail", config, "zzz");
    s_expect_failure(&res, "util.fail", NULL);
    res = s_run_single(s_registry, "util.fail", config, "zz ok");
    s_expect_output(&res, "zz ok");
    res = s_run_single(s_registry, "util.fail", config, "b");
    s_expect_output(&res, "b");
}

/* The first attempt is 1: first_attempts 1 fails it, 0 lets it through. */
static void
test_builtins_util_fail_first_attempts(void **state)
{
    (void)state;
    cairn_result_t *res =
        s_run_single(s_registry, "util.fail", "{\"first_attempts\": 1}", "x");
    s_expect_failure(&res, "util.fail", "attempt 1", NULL);
    res = s_run_single(s_registry, "util.fail", "{\"first_attempts\": 0}", "x");
    s_expect_output(&res, "x");
    /* Both conditions must hold. */
    res =
        s_run_single(s_registry, "util.fail",
                     "{\"first_attempts\": 3, \"when\": {\"eq\": \"y\"}}", "x");
    s_expect_output(&res, "x");
    res =
        s_run_single(s_registry, "util.fail",
                     "{\"first_attempts\": 3, \"when\": {\"eq\": \"y\"}}", "y");
    s_expect_failure(&res, "util.fail", NULL);
}

/* ---- util.sleep ----------------------------------------------------- */

static void
test_builtins_util_sleep(void **state)
{
    (void)state;
    int64_t start = s_now_ms();
    cairn_result_t *res =
        s_run_single(s_registry, "util.sleep", "{\"ms\": 150}", "later");
    int64_t elapsed = s_now_ms() - start;
    s_expect_output(&res, "later");
    if (elapsed < 150)
        fail_msg("util.sleep 150 ms took only %lld ms", (long long)elapsed);
    start = s_now_ms();
    res = s_run_single(s_registry, "util.sleep", "{\"ms\": 0}", "now");
    s_expect_output(&res, "now");
    assert_true(s_now_ms() - start < 1000);
}

/* ---- util.exec ------------------------------------------------------ */

static void
test_builtins_util_exec_cat(void **state)
{
    (void)state;
    cairn_result_t *res = s_run_single(
        s_registry, "util.exec", "{\"argv\": [\"/bin/cat\"]}", "hello exec");
    s_expect_output(&res, "hello exec");
    /* Empty input: stdin is closed at once. */
    res = s_run_single(s_registry, "util.exec", "{\"argv\": [\"cat\"]}", "");
    s_expect_output(&res, "");
    s_expect_no_children();
}

/* 4 MiB through cat: more than any pipe buffer both ways, so writing
 * the input without reading the output would deadlock. */
static void
test_builtins_util_exec_large_payload(void **state)
{
    (void)state;
    size_t len = (size_t)4 << 20;
    char *input = malloc(len + 1);
    assert_non_null(input);
    for (size_t i = 0; i < len; i++)
        input[i] = (char)('a' + i % 26);
    input[len] = '\0';
    cairn_builder_t *b = cairn_builder_new(s_registry);
    s_add(b, "t", "util.exec", "{\"argv\": [\"/bin/cat\"]}");
    s_add(b, "out", "text.output", NULL);
    s_edge(b, "t", "out");
    assert_int_equal(cairn_builder_set_start(b, "t"), CAIRN_OK);
    cairn_result_t *res = s_run(s_registry, b, input, len);
    s_expect_output_n(&res, input, len);
    cairn_builder_destroy(&b);
    /* A program that exits without reading its input: writing the rest
     * gets EPIPE, which must neither kill the process (SIGPIPE) nor fail
     * the run. */
    b = cairn_builder_new(s_registry);
    s_add(b, "t", "util.exec", "{\"argv\": [\"/bin/true\"]}");
    s_add(b, "out", "text.output", NULL);
    s_edge(b, "t", "out");
    assert_int_equal(cairn_builder_set_start(b, "t"), CAIRN_OK);
    res = s_run(s_registry, b, input, len);
    s_expect_output(&res, "");
    cairn_builder_destroy(&b);
    free(input);
    s_expect_no_children();
}

static void
test_builtins_util_exec_failures(void **state)
{
    (void)state;
    cairn_result_t *res = s_run_single(s_registry, "util.exec",
                                       "{\"argv\": [\"/bin/false\"]}", "x");
    s_expect_failure(&res, "util.exec: '/bin/false' exited with status 1",
                     NULL);
    res = s_run_single(s_registry, "util.exec",
                       "{\"argv\": [\"/bin/sh\", \"-c\", "
                       "\"echo oops >&2; exit 3\"]}",
                       "x");
    s_expect_failure(&res, "'/bin/sh' exited with status 3: oops", NULL);
    res = s_run_single(s_registry, "util.exec",
                       "{\"argv\": [\"/bin/sh\", \"-c\", \"kill -TERM $$\"]}",
                       "x");
    s_expect_failure(&res, "'/bin/sh' was killed by signal 15 (SIGTERM)", NULL);
    res = s_run_single(s_registry, "util.exec",
                       "{\"argv\": [\"/nonexistent/cairn-prog\"]}", "x");
    s_expect_failure(&res, "util.exec: cannot start '/nonexistent/cairn-prog'",
                     "No such file", NULL);
    res = s_run_single(s_registry, "util.exec",
                       "{\"argv\": [\"/bin/cat\"], \"max_output_bytes\": 3}",
                       "four");
    s_expect_failure(&res, "wrote more than 3 bytes", NULL);
    s_expect_no_children();
}

static void
test_builtins_util_exec_timeout(void **state)
{
    (void)state;
    int64_t start = s_now_ms();
    cairn_result_t *res = s_run_single(
        s_registry, "util.exec",
        "{\"argv\": [\"/bin/sleep\", \"60\"], \"timeout_ms\": 200}", "x");
    int64_t elapsed = s_now_ms() - start;
    s_expect_failure(&res, "'/bin/sleep' timed out after 200 ms", NULL);
    /* far below the sleep's 60 s, with room for a loaded machine */
    if (elapsed < 200 || elapsed >= 30000)
        fail_msg("timeout took %lld ms", (long long)elapsed);
    /* A grandchild is killed with its process group. */
    char dir[64];
    assert_int_equal(th_dir_make(dir, sizeof dir, "exec"), 0);
    char config[512], pid_path[128];
    snprintf(pid_path, sizeof pid_path, "%s/pid", dir);
    snprintf(config, sizeof config,
             "{\"argv\": [\"/bin/sh\", \"-c\", \"sleep 5 & echo $! > %s; "
             "wait\"], \"timeout_ms\": 300}",
             pid_path);
    start = s_now_ms();
    res = s_run_single(s_registry, "util.exec", config, "x");
    s_expect_failure(&res, "timed out", NULL);
    assert_true(s_now_ms() - start < 2000);
    s_expect_no_children();
    FILE *f = fopen(pid_path, "r");
    assert_non_null(f);
    int grandchild = 0;
    assert_int_equal(fscanf(f, "%d", &grandchild), 1);
    fclose(f);
    assert_true(grandchild > 0);
    assert_true(s_process_gone(grandchild));
    unlink(pid_path);
    rmdir(dir);
}

/* The child sees ${VAR}-expanded argv and the CAIRN_* variables. */
static void
test_builtins_util_exec_environment(void **state)
{
    (void)state;
    assert_int_equal(setenv("CAIRN_TEST_ARG", "from env", 1), 0);
    cairn_result_t *res =
        s_run_single(s_registry, "util.exec",
                     "{\"argv\": [\"/bin/sh\", \"-c\", "
                     "\"printf '%s|%s|%s|%s' \\\"$0\\\" "
                     "\\\"$CAIRN_EXECUTOR_ID\\\" \\\"$CAIRN_SUPERSTEP\\\" "
                     "\\\"$CAIRN_ATTEMPT\\\"\", \"${CAIRN_TEST_ARG}\"]}",
                     "x");
    s_expect_output(&res, "from env|t|1|1");
    unsetenv("CAIRN_TEST_ARG");
    s_expect_no_children();
}

static void
test_builtins_util_exec_refused_without_allow(void **state)
{
    (void)state;
    cairn_result_t *res =
        s_run_single(s_no_exec, "util.exec", "{\"argv\": [\"/bin/cat\"]}", "x");
    s_expect_failure(&res,
                     "util.exec is not allowed: start the run with "
                     "--allow-exec",
                     NULL);
    /* The config is still checked at build time. */
    cairn_builder_t *b = cairn_builder_new(s_no_exec);
    s_add(b, "t", "util.exec", "{\"argv\": 1}");
    assert_int_equal(cairn_builder_set_start(b, "t"), CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
    assert_non_null(strstr(err.message, "'argv'"));
    cairn_builder_destroy(&b);
}

/* ---- util.crash ----------------------------------------------------- */

/* Runs child_crash MARKER and returns its th_exit_code. */
static int
s_run_child_crash(const char *marker)
{
    const char *argv[] = {CHILD_CRASH, marker, NULL};
    th_spawn_t spec = {.argv = argv};
    return th_finish(th_spawn(&spec), 60000, CHILD_CRASH);
}

static void
test_builtins_util_crash(void **state)
{
    (void)state;
    char *dir = th_dir_new("crash");
    char marker[128];
    snprintf(marker, sizeof marker, "%s/marker", dir);
    int code = s_run_child_crash(marker);
    if (code != 128 + SIGKILL)
        fail_msg("child was not SIGKILLed (exit code %d)", code);
    struct stat st;
    assert_int_equal(stat(marker, &st), 0);
    assert_true(st.st_size > 0);
    code = s_run_child_crash(marker); /* marker exists: no crash */
    assert_int_equal(code, 0);
    th_dir_destroy(&dir);
}

/* In-process: a superstep other than at_superstep just forwards. */
static void
test_builtins_util_crash_other_superstep_forwards(void **state)
{
    (void)state;
    cairn_result_t *res = s_run_single(
        s_registry, "util.crash",
        "{\"at_superstep\": 7, \"marker\": \"/nonexistent/dir/marker\"}", "x");
    s_expect_output(&res, "x");
    /* At the superstep, an uncreatable marker fails instead of crashing. */
    res = s_run_single(
        s_registry, "util.crash",
        "{\"at_superstep\": 1, \"marker\": \"/nonexistent/dir/marker\"}", "x");
    s_expect_failure(&res, "util.crash: cannot create marker", NULL);
}

/* ---- cairn_predicate_from_json ---------------------------------------- */

typedef struct {
    const char *json;
    const char *name;
    const char *arg;
    size_t arg_len; /* 0: strlen(arg) */
} s_pred_form_t;

static void
test_builtins_predicate_from_json_forms(void **state)
{
    (void)state;
    static const s_pred_form_t cases[] = {
        {"{\"eq\": \"x y\"}", "eq", "x y", 0},
        {"{\"prefix\": \"\"}", "prefix", "", 0},
        {"{\"eq\": \"\\u00e9\"}", "eq", "\xc3\xa9", 0},
        {"{\"eq\": \"a\\u0000b\"}", "eq", "a\0b", 3},
        {"{\"int_lt\": 10}", "int_lt", "10", 0},
        {"{\"int_ge\": -3}", "int_ge", "-3", 0},
        {"{\"eq\": 1.5}", "eq", "1.5", 0},
        {"{\"eq\": 2.0}", "eq", "2", 0},
        {"{\"eq\": 0.1}", "eq", "0.1", 0},
        {"{\"eq\": true}", "eq", "true", 0},
        {"{\"always\": null}", "always", "null", 0},
        {"{\"eq\": {\"b\": 1, \"a\": [1, \"x\"]}}", "eq",
         "{\"a\":[1,\"x\"],\"b\":1}", 0},
        {"{\"not\": {\"eq\":   \"x\"}}", "not", "{\"eq\":\"x\"}", 0},
        {"{\"all\": [{\"eq\": \"x\"}, {\"int_lt\": 3}]}", "all",
         "[{\"eq\":\"x\"},{\"int_lt\":3}]", 0},
        {" {\"any\": []} ", "any", "[]", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *name = NULL;
        uint8_t *arg = NULL;
        size_t arg_len = 99;
        cairn_error_t err;
        int rc = cairn_predicate_from_json(s_registry, cases[i].json,
                                           strlen(cases[i].json), &name, &arg,
                                           &arg_len, &err);
        if (rc != CAIRN_OK)
            fail_msg("case %zu (%s): %s", i, cases[i].json, err.message);
        size_t want =
            cases[i].arg_len ? cases[i].arg_len : strlen(cases[i].arg);
        assert_string_equal(name, cases[i].name);
        assert_int_equal(arg_len, want);
        assert_non_null(arg);
        assert_memory_equal(arg, cases[i].arg, want);
        free(name);
        free(arg);
    }
}

typedef struct {
    const char *json;
    const char *expected;
} s_pred_error_t;

static void
test_builtins_predicate_from_json_errors(void **state)
{
    (void)state;
    static const s_pred_error_t cases[] = {
        {"", "predicate is not valid JSON"},
        {"{\"eq\": ", "predicate is not valid JSON"},
        {"[{\"eq\": \"x\"}]", "a predicate must be a JSON object with one "
                              "member, like {\"eq\": \"x\"}; got an array"},
        {"\"eq\"", "got a string"},
        {"{}", "exactly one member (its name), got 0"},
        {"{\"eq\": \"a\", \"ne\": \"b\"}", "exactly one member (its name), "
                                           "got 2"},
        {"{\"eq\": \"a\", \"eq\": \"b\"}", "duplicate object key"},
        {"{\"nope\": 1}", "unknown predicate 'nope'"},
        {"{\"int_lt\": \"ten\"}",
         "predicate 'int_lt': argument 'ten' is not a decimal integer"},
        {"{\"not\": {\"nope\": 1}}",
         "predicate 'not': unknown predicate 'nope'"},
        {"{\"not\": [1]}", "predicate 'not': a predicate must be a JSON "
                           "object"},
        {"{\"all\": {\"eq\": \"x\"}}",
         "predicate 'all': argument must be an array of predicates, got an "
         "object"},
        {"{\"any\": [{\"eq\": \"x\"}, {\"nope\": 1}]}",
         "predicate 'any': element [1]: unknown predicate 'nope'"},
        {"{\"all\": [{\"not\": {\"int_gt\": \"z\"}}]}",
         "predicate 'all': element [0]: predicate 'not': predicate "
         "'int_gt': argument 'z' is not a decimal integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *name = (char *)"untouched";
        uint8_t *arg = (uint8_t *)"untouched";
        size_t arg_len = 5;
        cairn_error_t err;
        cairn_error_clear(&err);
        int rc = cairn_predicate_from_json(s_registry, cases[i].json,
                                           strlen(cases[i].json), &name, &arg,
                                           &arg_len, &err);
        assert_int_equal(rc, CAIRN_EINVAL);
        assert_int_equal(err.code, CAIRN_EINVAL);
        assert_null(name);
        assert_null(arg);
        if (!strstr(err.message, cases[i].expected))
            fail_msg("case %zu (%s): '%s' does not contain '%s'", i,
                     cases[i].json, err.message, cases[i].expected);
    }
    /* Without cairn_builtins_register there are no composites. */
    cairn_registry_t *plain = cairn_registry_new();
    assert_non_null(plain);
    char *name;
    uint8_t *arg;
    size_t arg_len;
    cairn_error_t err;
    assert_int_equal(cairn_predicate_from_json(plain, "{\"not\": {}}", 11,
                                               &name, &arg, &arg_len, &err),
                     CAIRN_EINVAL);
    assert_non_null(strstr(err.message, "unknown predicate 'not'"));
    cairn_registry_destroy(&plain);
    assert_int_equal(
        cairn_predicate_from_json(NULL, "{}", 2, &name, &arg, &arg_len, &err),
        CAIRN_EINVAL);
}

/* ---- composite predicates -------------------------------------------- */

/* test.eval evaluates every predicate of s_eval_cases on the payload. */
static void
test_builtins_composite_eval(void **state)
{
    (void)state;
    static const struct {
        const char *input;
        const char *bits;
    } cases[] = {
        /* not(eq abc), all(prefix a, contains b), any(eq zzz, prefix ab),
         * all[], any[], not(all(always, never)), any(not <5, eq 7) */
        {"abc", "0111011"}, {"abd", "1111011"}, {"axb", "1101011"},
        {"zzz", "1011011"}, {"3", "1001010"},   {"7", "1001011"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cairn_result_t *res =
            s_run_single(s_registry, "test.eval", NULL, cases[i].input);
        /* test.eval yields; "out" receives nothing. */
        assert_int_equal(cairn_result_status(res), CAIRN_STATUS_COMPLETED);
        assert_int_equal(cairn_result_output_count(res), 1);
        size_t len;
        const uint8_t *bits = cairn_result_output(res, 0, &len);
        if (len != strlen(cases[i].bits)
            || memcmp(bits, cases[i].bits, len) != 0)
            fail_msg("input '%s': got %.*s, want %s", cases[i].input, (int)len,
                     (const char *)bits, cases[i].bits);
        cairn_result_destroy(&res);
    }
}

/* n composites around {"eq": "x"}, cycling through kinds: "n" for not,
 * "a" for all, "y" for any (all and any with one element). malloc'd. */
static char *
s_nest(const char *kinds, size_t n)
{
    size_t size = n * 12 + 32, used = 0;
    char *text = malloc(size);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        char kind = kinds[i % strlen(kinds)];
        used += (size_t)snprintf(text + used, size - used, "%s",
                                 kind == 'n'   ? "{\"not\": "
                                 : kind == 'a' ? "{\"all\": ["
                                               : "{\"any\": [");
    }
    used += (size_t)snprintf(text + used, size - used, "{\"eq\": \"x\"}");
    for (size_t i = n; i-- > 0;) {
        char kind = kinds[i % strlen(kinds)];
        used += (size_t)snprintf(text + used, size - used, "%s",
                                 kind == 'n' ? "}" : "]}");
    }
    return text;
}

/* not / all / any nest at most CAIRN_PREDICATE_MAX_DEPTH deep; the
 * check refuses deeper ones at once, and 64 deep still evaluates. */
static void
test_builtins_composite_depth(void **state)
{
    (void)state;
    static const char *kinds[] = {"n", "a", "y", "nay"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t n = CAIRN_PREDICATE_MAX_DEPTH;
             n <= CAIRN_PREDICATE_MAX_DEPTH + 1; n++) {
            char *json = s_nest(kinds[k], n);
            char *name = NULL;
            uint8_t *arg = NULL;
            size_t arg_len;
            cairn_error_t err;
            int rc = cairn_predicate_from_json(s_registry, json, strlen(json),
                                               &name, &arg, &arg_len, &err);
            if (n <= CAIRN_PREDICATE_MAX_DEPTH && rc != CAIRN_OK)
                fail_msg("%s x%zu refused: %s", kinds[k], n, err.message);
            if (n > CAIRN_PREDICATE_MAX_DEPTH
                && (rc != CAIRN_EINVAL
                    || !strstr(err.message, "deeper than 64 levels")))
                fail_msg("%s x%zu: rc %d, %s", kinds[k], n, rc,
                         rc ? err.message : "accepted");
            free(name);
            free(arg);
            free(json);
        }
    }
    /* 2,000 deep: refused without walking it all (it took seconds) */
    char *json = s_nest("n", 2000);
    char *name = NULL;
    uint8_t *arg = NULL;
    size_t arg_len;
    cairn_error_t err;
    clock_t start = clock();
    assert_int_equal(cairn_predicate_from_json(s_registry, json, strlen(json),
                                               &name, &arg, &arg_len, &err),
                     CAIRN_EINVAL);
    assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
    free(json);
    /* 64 "not" (63 in the argument of the edge's): "x" takes the edge */
    char *inner = s_nest("n", CAIRN_PREDICATE_MAX_DEPTH - 1);
    const char *inputs[] = {"x", "y"};
    const char *expected[] = {"x-deep", "y-other"};
    for (size_t i = 0; i < 2; i++) {
        cairn_builder_t *b = cairn_builder_new(s_registry);
        s_add(b, "src", "text.lower", NULL);
        s_add(b, "deep", "text.append", "{\"suffix\": \"-deep\"}");
        s_add(b, "other", "text.append", "{\"suffix\": \"-other\"}");
        s_add(b, "out", "text.output", NULL);
        assert_int_equal(cairn_builder_add_edge(b, "src", "deep", "not", inner,
                                                strlen(inner)),
                         CAIRN_OK);
        assert_int_equal(cairn_builder_add_edge(b, "src", "other", "never",
                                                NULL, 0),
                         CAIRN_OK);
        s_edge(b, "deep", "out");
        s_edge(b, "other", "out");
        assert_int_equal(cairn_builder_set_start(b, "src"), CAIRN_OK);
        cairn_result_t *res = s_run(s_registry, b, inputs[i], 1);
        size_t len;
        const uint8_t *out = cairn_result_output_count(res) == 1
                                 ? cairn_result_output(res, 0, &len)
                                 : NULL;
        if (i == 0 && (!out || len != strlen(expected[0])
                       || memcmp(out, expected[0], len) != 0))
            fail_msg("64 deep: the edge was not taken");
        if (i == 1)
            assert_int_equal(cairn_result_output_count(res), 0);
        cairn_result_destroy(&res);
        cairn_builder_destroy(&b);
    }
    free(inner);
}

/* Composites on edges: routing, and nested errors at build time. */
static void
test_builtins_composite_on_edges(void **state)
{
    (void)state;
    const char *small = "[{\"int_ge\": 0}, {\"int_lt\": 10}]";
    const char *other = "{\"all\": [{\"int_ge\": 0}, {\"int_lt\": 10}]}";
    const char *inputs[] = {"5", "50", "x"};
    const char *expected[] = {"5-small", "50-other", "x-other"};
    for (size_t i = 0; i < 3; i++) {
        cairn_builder_t *b = cairn_builder_new(s_registry);
        s_add(b, "src", "text.lower", NULL);
        s_add(b, "small", "text.append", "{\"suffix\": \"-small\"}");
        s_add(b, "other", "text.append", "{\"suffix\": \"-other\"}");
        s_add(b, "out", "text.output", NULL);
        assert_int_equal(cairn_builder_add_edge(b, "src", "small", "all", small,
                                                strlen(small)),
                         CAIRN_OK);
        assert_int_equal(cairn_builder_add_edge(b, "src", "other", "not", other,
                                                strlen(other)),
                         CAIRN_OK);
        s_edge(b, "small", "out");
        s_edge(b, "other", "out");
        assert_int_equal(cairn_builder_set_start(b, "src"), CAIRN_OK);
        cairn_result_t *res =
            s_run(s_registry, b, inputs[i], strlen(inputs[i]));
        s_expect_output(&res, expected[i]);
        cairn_builder_destroy(&b);
    }
    cairn_builder_t *b = cairn_builder_new(s_registry);
    s_add(b, "src", "text.lower", NULL);
    s_add(b, "dst", "text.output", NULL);
    const char *bad = "[{\"eq\": \"x\"}, {\"int_lt\": \"many\"}]";
    assert_int_equal(
        cairn_builder_add_edge(b, "src", "dst", "any", bad, strlen(bad)),
        CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, "src"), CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
    if (!strstr(err.message, "predicate 'any': element [1]: predicate "
                             "'int_lt': argument 'many'"))
        fail_msg("unexpected: %s", err.message);
    cairn_builder_destroy(&b);
}

/* ---- cairn_expand_env ------------------------------------------------ */

static void
s_expect_expansion(const char *text, const char *expected)
{
    char *out = NULL;
    cairn_error_t err;
    int rc = cairn_expand_env(text, &out, &err);
    if (rc != CAIRN_OK)
        fail_msg("'%s': %s", text, err.message);
    assert_string_equal(out, expected);
    free(out);
}

static void
s_expect_expansion_error(const char *text, int code, const char *expected)
{
    char *out = (char *)"untouched";
    cairn_error_t err;
    assert_int_equal(cairn_expand_env(text, &out, &err), code);
    assert_null(out);
    if (!strstr(err.message, expected))
        fail_msg("'%s': '%s' does not contain '%s'", text, err.message,
                 expected);
}

static void
test_builtins_expand_env(void **state)
{
    (void)state;
    assert_int_equal(setenv("CAIRN_T_X", "1", 1), 0);
    assert_int_equal(setenv("CAIRN_T_Y", "two words", 1), 0);
    assert_int_equal(setenv("CAIRN_T_EMPTY", "", 1), 0);
    unsetenv("CAIRN_T_UNSET");
    s_expect_expansion("", "");
    s_expect_expansion("plain text", "plain text");
    s_expect_expansion("a${CAIRN_T_X}b", "a1b");
    s_expect_expansion("${CAIRN_T_X}${CAIRN_T_Y}", "1two words");
    s_expect_expansion("[${CAIRN_T_EMPTY}]", "[]");
    s_expect_expansion("$CAIRN_T_X costs $5 $", "$CAIRN_T_X costs $5 $");
    s_expect_expansion("$${CAIRN_T_X}", "$1");
    s_expect_expansion("{CAIRN_T_X}", "{CAIRN_T_X}");
    s_expect_expansion_error("key=${CAIRN_T_UNSET}", CAIRN_ENOTFOUND,
                             "environment variable CAIRN_T_UNSET is not set");
    s_expect_expansion_error("${", CAIRN_EINVAL,
                             "malformed variable reference at offset 0");
    s_expect_expansion_error("ab${CAIRN_T_X", CAIRN_EINVAL, "offset 2");
    s_expect_expansion_error("${1X}", CAIRN_EINVAL, "malformed");
    s_expect_expansion_error("${A-B}", CAIRN_EINVAL, "malformed");
    s_expect_expansion_error("${}", CAIRN_EINVAL, "malformed");
    char *out;
    cairn_error_t err;
    assert_int_equal(cairn_expand_env(NULL, &out, &err), CAIRN_EINVAL);
    unsetenv("CAIRN_T_X");
    unsetenv("CAIRN_T_Y");
    unsetenv("CAIRN_T_EMPTY");
}

/* ---- registration ----------------------------------------------------- */

static void
test_builtins_register(void **state)
{
    (void)state;
    static const char *const names[] = {
        "count.inc",    "hitl.approve", "text.append", "text.join",
        "text.lower",   "text.output",  "text.reverse", "text.upper",
        "util.crash",   "util.exec",    "util.fail",    "util.sleep"};
    cairn_registry_t *reg = cairn_registry_new();
    assert_non_null(reg);
    assert_int_equal(cairn_builtins_register(reg, NULL), CAIRN_OK);
    size_t count = sizeof names / sizeof names[0];
    assert_int_equal(cairn_registry_executor_count(reg), count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(cairn_registry_executor_name(reg, i), names[i]);
    assert_true(cairn_registry_has_predicate(reg, "not"));
    assert_true(cairn_registry_has_predicate(reg, "all"));
    assert_true(cairn_registry_has_predicate(reg, "any"));
    assert_int_equal(cairn_builtins_register(reg, NULL), CAIRN_EEXISTS);
    assert_int_equal(cairn_builtins_register(NULL, NULL), CAIRN_EINVAL);
    cairn_registry_destroy(&reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_text_transforms),
        cmocka_unit_test(test_builtins_text_pipeline),
        cmocka_unit_test(test_builtins_text_keeps_type_tag),
        cmocka_unit_test(test_builtins_text_append),
        cmocka_unit_test(test_builtins_text_output_yields_payload),
        cmocka_unit_test(test_builtins_text_join_fan_in),
        cmocka_unit_test(test_builtins_count_inc),
        cmocka_unit_test(test_builtins_count_inc_counts_messages),
        cmocka_unit_test(test_builtins_count_inc_rejects_non_integers),
        cmocka_unit_test(test_builtins_bad_configs_fail_build),
        cmocka_unit_test(test_builtins_config_null_means_empty),
        cmocka_unit_test(test_builtins_util_fail_when),
        cmocka_unit_test(test_builtins_util_fail_composite_when),
        cmocka_unit_test(test_builtins_util_fail_first_attempts),
        cmocka_unit_test(test_builtins_util_sleep),
        cmocka_unit_test(test_builtins_util_exec_cat),
        cmocka_unit_test(test_builtins_util_exec_large_payload),
        cmocka_unit_test(test_builtins_util_exec_failures),
        cmocka_unit_test(test_builtins_util_exec_timeout),
        cmocka_unit_test(test_builtins_util_exec_environment),
        cmocka_unit_test(test_builtins_util_exec_refused_without_allow),
        cmocka_unit_test(test_builtins_util_crash),
        cmocka_unit_test(test_builtins_util_crash_other_superstep_forwards),
        cmocka_unit_test(test_builtins_predicate_from_json_forms),
        cmocka_unit_test(test_builtins_predicate_from_json_errors),
        cmocka_unit_test(test_builtins_composite_eval),
        cmocka_unit_test(test_builtins_composite_on_edges),
        cmocka_unit_test(test_builtins_composite_depth),
        cmocka_unit_test(test_builtins_expand_env),
        cmocka_unit_test(test_builtins_register),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
