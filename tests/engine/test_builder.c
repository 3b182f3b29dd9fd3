/* test_builder - validation rules of cairn_builder_build().
 *
 * Every validation error has its own case: build must return
 * CAIRN_EVALIDATION, leave *out NULL and name the offending executor or
 * edge in err.message. The base graph is alpha -> beta -> gamma (start
 * alpha); each case adds exactly one problem to it, using ids that appear
 * nowhere else so that a strstr on the message is meaningful.
 * cairn_builder_build_with() reports the same problems as structured
 * fields (kind, subject, index, field, item): one table row each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "tests/harness/harness.h"

static cairn_registry_t *s_registry;

static int
s_group_setup(void **state)
{
    (void)state;
    const cairn_executor_type_t types[] = {
        {"t.noop", th_handler_noop, NULL, NULL, NULL},
        {.name = "t.strict", .handle = th_handler_noop,
         .init = th_init_refuse_bad},
    };
    s_registry = th_registry_open(false, NULL, types, 2);
    return s_registry ? 0 : -1;
}

static int
s_group_teardown(void **state)
{
    (void)state;
    cairn_registry_destroy(&s_registry);
    return 0;
}

/* A valid builder: alpha -> beta -> gamma, start alpha. */
static cairn_builder_t *
s_base(void)
{
    cairn_builder_t *b = cairn_builder_new(s_registry);
    assert_non_null(b);
    assert_int_equal(cairn_builder_add_executor(b, "alpha", "t.noop", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "beta", "t.noop", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "gamma", "t.noop", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "alpha", "beta", NULL, NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "beta", "gamma", NULL, NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, "alpha"), CAIRN_OK);
    return b;
}

/* Builds b, expects a validation error whose message contains needle
 * (and needle2 when not NULL), then destroys b. */
static void
s_expect_invalid(cairn_builder_t **b_p, const char *needle,
                 const char *needle2)
{
    static int sentinel;
    cairn_workflow_t *wf = (cairn_workflow_t *)(void *)&sentinel;
    cairn_error_t err;
    cairn_error_clear(&err);
    int rc = cairn_builder_build(*b_p, &wf, &err);
    assert_int_equal(rc, CAIRN_EVALIDATION);
    assert_null(wf);
    assert_int_equal(err.code, CAIRN_EVALIDATION);
    assert_true(err.message[0] != '\0');
    if (!strstr(err.message, needle))
        fail_msg("message '%s' does not name '%s'", err.message, needle);
    if (needle2 && !strstr(err.message, needle2))
        fail_msg("message '%s' does not name '%s'", err.message, needle2);
    cairn_builder_destroy(b_p);
    assert_null(*b_p);
}

static void
test_builder_duplicate_executor_id(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "dup_exec", "t.noop",
                                                NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "dup_exec", "t.noop",
                                                NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "gamma", "dup_exec", NULL,
                                            NULL, 0),
                     CAIRN_OK);
    s_expect_invalid(&b, "dup_exec", NULL);
}

static void
test_builder_unknown_edge_source(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    int rc = cairn_builder_add_edge(b, "ghost_from", "beta", NULL, NULL, 0);
    assert_int_equal(rc, CAIRN_OK);
    s_expect_invalid(&b, "ghost_from", NULL);
}

static void
test_builder_unknown_edge_target(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    int rc = cairn_builder_add_edge(b, "gamma", "ghost_to", NULL, NULL, 0);
    assert_int_equal(rc, CAIRN_OK);
    s_expect_invalid(&b, "ghost_to", NULL);
}

static void
test_builder_unknown_executor_type(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "typo_exec",
                                                "no.such.type", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "gamma", "typo_exec", NULL,
                                            NULL, 0),
                     CAIRN_OK);
    s_expect_invalid(&b, "typo_exec", "no.such.type");
}

static void
test_builder_no_start(void **state)
{
    (void)state;
    cairn_builder_t *b = cairn_builder_new(s_registry);
    assert_non_null(b);
    assert_int_equal(cairn_builder_add_executor(b, "alpha", "t.noop", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_executor(b, "beta", "t.noop", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "alpha", "beta", NULL, NULL, 0),
                     CAIRN_OK);
    s_expect_invalid(&b, "start", NULL);
}

static void
test_builder_unknown_start(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_set_start(b, "ghost_start"), CAIRN_OK);
    s_expect_invalid(&b, "ghost_start", NULL);
}

/* Adds executors sw_src (reached from gamma), sw_x and sw_y to the base
 * graph, for the switch cases. */
static cairn_builder_t *
s_base_with_switch_source(void)
{
    cairn_builder_t *b = s_base();
    const char *ids[] = {"sw_src", "sw_x", "sw_y"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(cairn_builder_add_executor(b, ids[i], "t.noop",
                                                    NULL, 0),
                         CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "gamma", "sw_src", NULL, NULL,
                                            0),
                     CAIRN_OK);
    return b;
}

static void
test_builder_switch_without_default(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base_with_switch_source();
    const cairn_switch_case_t cases[] = {
        {"sw_x", "eq", "x", 1, false},
        {"sw_y", "eq", "y", 1, false},
    };
    int rc = cairn_builder_add_switch(b, "sw_src", cases, 2);
    assert_int_equal(rc, CAIRN_OK);
    s_expect_invalid(&b, "sw_src", NULL);
}

static void
test_builder_switch_two_defaults(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base_with_switch_source();
    const cairn_switch_case_t cases[] = {
        {"sw_x", "eq", "x", 1, false},
        {"sw_y", NULL, NULL, 0, true},
        {"sw_x", NULL, NULL, 0, true},
    };
    int rc = cairn_builder_add_switch(b, "sw_src", cases, 3);
    assert_int_equal(rc, CAIRN_OK);
    s_expect_invalid(&b, "sw_src", NULL);
}

static void
test_builder_fan_in_one_source(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "fanin_target", "t.noop",
                                                NULL, 0),
                     CAIRN_OK);
    const char *sources[] = {"gamma"};
    int rc = cairn_builder_add_fan_in(b, sources, 1, "fanin_target");
    (void)rc; /* the header leaves the report to build */
    s_expect_invalid(&b, "fanin_target", NULL);
}

static void
test_builder_fan_in_duplicate_source(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "twice_target", "t.noop",
                                                NULL, 0),
                     CAIRN_OK);
    const char *sources[] = {"beta", "gamma", "beta"};
    assert_int_equal(cairn_builder_add_fan_in(b, sources, 3, "twice_target"),
                     CAIRN_OK);
    s_expect_invalid(&b, "twice_target", "listed twice");
}

static void
test_builder_zero_max_supersteps(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    cairn_builder_set_max_supersteps(b, 0);
    s_expect_invalid(&b, "max supersteps", NULL);
}

static void
test_builder_unknown_predicate(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    int rc = cairn_builder_add_edge(b, "gamma", "alpha", "no_such_pred", "1",
                                    1);
    assert_int_equal(rc, CAIRN_OK);
    s_expect_invalid(&b, "no_such_pred", "gamma");
}

static void
test_builder_unknown_selector(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    const char *targets[] = {"alpha", "beta"};
    int rc = cairn_builder_add_fan_out(b, "gamma", targets, 2,
                                       "no_such_selector", NULL, 0);
    assert_int_equal(rc, CAIRN_OK);
    s_expect_invalid(&b, "no_such_selector", "gamma");
}

static void
test_builder_rejected_predicate_argument(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    /* int_lt needs a decimal integer argument */
    int rc = cairn_builder_add_edge(b, "gamma", "alpha", "int_lt", "abc", 3);
    assert_int_equal(rc, CAIRN_OK);
    s_expect_invalid(&b, "int_lt", "gamma");
}

static void
test_builder_rejected_config(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "strict_exec", "t.strict",
                                                "bad", 3),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "gamma", "strict_exec", NULL,
                                            NULL, 0),
                     CAIRN_OK);
    s_expect_invalid(&b, "strict_exec", NULL);

    /* the same type with an acceptable config builds */
    b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "strict_exec", "t.strict",
                                                "good", 4),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "gamma", "strict_exec", NULL,
                                            NULL, 0),
                     CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    assert_non_null(wf);
    cairn_workflow_destroy(&wf);
    cairn_builder_destroy(&b);
}

static void
test_builder_invalid_executor_id(void **state)
{
    (void)state;
    char too_long[66];
    memset(too_long, 'a', 65);
    too_long[65] = '\0';
    const char *bad_ids[] = {"bad id", "bad.id", "bad/id", "bad:id",
                             "b\xc3\xa4" "d", too_long};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        cairn_builder_t *b = s_base();
        assert_int_equal(cairn_builder_add_executor(b, bad_ids[i], "t.noop",
                                                    NULL, 0),
                         CAIRN_OK);
        assert_int_equal(cairn_builder_add_edge(b, "gamma", bad_ids[i], NULL,
                                                NULL, 0),
                         CAIRN_OK);
        s_expect_invalid(&b, bad_ids[i], NULL);
    }

    /* the empty id is invalid too (the message cannot be searched for it) */
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "", "t.noop", NULL, 0),
                     CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_EVALIDATION);
    assert_null(wf);
    cairn_builder_destroy(&b);

    /* 64 characters from the whole alphabet are fine */
    char longest[65];
    const char alphabet[] = "ABCXYZabcxyz0189_-";
    for (size_t i = 0; i < 64; i++)
        longest[i] = alphabet[i % (sizeof alphabet - 1)];
    longest[64] = '\0';
    b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, longest, "t.noop", NULL, 0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_add_edge(b, "gamma", longest, NULL, NULL,
                                            0),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    assert_non_null(wf);
    assert_int_equal(cairn_workflow_warning_count(wf), 0);
    cairn_workflow_destroy(&wf);
    cairn_builder_destroy(&b);
}

static void
test_builder_unreachable_warns(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, "island", "t.noop", NULL,
                                                0),
                     CAIRN_OK);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    assert_non_null(wf);
    assert_int_equal(err.code, CAIRN_OK);
    assert_int_equal(cairn_workflow_warning_count(wf), 1);
    const char *warning = cairn_workflow_warning(wf, 0);
    assert_non_null(warning);
    if (!strstr(warning, "island"))
        fail_msg("warning '%s' does not name 'island'", warning);
    cairn_workflow_destroy(&wf);
    assert_null(wf);
    cairn_builder_destroy(&b);
}

static void
test_builder_valid_workflow(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    assert_non_null(wf);
    assert_int_equal(err.code, CAIRN_OK);
    assert_string_equal(err.message, "");
    assert_string_equal(cairn_workflow_name(wf), "workflow");
    assert_int_equal(cairn_workflow_max_supersteps(wf),
                     CAIRN_DEFAULT_MAX_SUPERSTEPS);
    assert_int_equal(cairn_workflow_warning_count(wf), 0);
    assert_non_null(cairn_workflow_signature(wf));
    assert_int_equal(strlen(cairn_workflow_signature_hex(wf)),
                     2 * CAIRN_SIGNATURE_SIZE);
    cairn_workflow_destroy(&wf);

    /* every edge kind together, with name and limit set */
    assert_int_equal(cairn_builder_set_name(b, "all-kinds"), CAIRN_OK);
    cairn_builder_set_max_supersteps(b, 7);
    assert_int_equal(cairn_builder_add_executor(b, "delta", "t.noop", NULL, 0),
                     CAIRN_OK);
    const char *targets[] = {"alpha", "delta"};
    assert_int_equal(cairn_builder_add_fan_out(b, "gamma", targets, 2, NULL,
                                               NULL, 0),
                     CAIRN_OK);
    const cairn_switch_case_t cases[] = {
        {"gamma", "int_lt", "5", 1, false},
        {"beta", NULL, NULL, 0, true},
    };
    assert_int_equal(cairn_builder_add_switch(b, "delta", cases, 2),
                     CAIRN_OK);
    const char *sources[] = {"alpha", "delta"};
    assert_int_equal(cairn_builder_add_fan_in(b, sources, 2, "beta"),
                     CAIRN_OK);
    assert_int_equal(cairn_builder_accept(b, "beta", "text"), CAIRN_OK);
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    assert_non_null(wf);
    assert_string_equal(cairn_workflow_name(wf), "all-kinds");
    assert_int_equal(cairn_workflow_max_supersteps(wf), 7);
    assert_int_equal(cairn_workflow_warning_count(wf), 0);
    cairn_workflow_destroy(&wf);
    cairn_builder_destroy(&b);
    assert_null(b);
}

static void
test_builder_build_twice(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    cairn_workflow_t *first = NULL;
    cairn_workflow_t *second = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &first, &err), CAIRN_OK);
    assert_int_equal(cairn_builder_build(b, &second, &err), CAIRN_OK);
    assert_non_null(first);
    assert_non_null(second);
    assert_ptr_not_equal(first, second);
    assert_string_equal(cairn_workflow_signature_hex(first),
                        cairn_workflow_signature_hex(second));
    /* the two workflows are independent of each other and of the builder */
    cairn_workflow_destroy(&first);
    cairn_builder_destroy(&b);
    assert_string_equal(cairn_workflow_name(second), "workflow");
    assert_int_equal(strlen(cairn_workflow_signature_hex(second)),
                     2 * CAIRN_SIGNATURE_SIZE);
    cairn_workflow_destroy(&second);
}

static void
test_builder_destroy_accepts_null(void **state)
{
    (void)state;
    cairn_builder_t *b = NULL;
    cairn_builder_destroy(&b);
    cairn_builder_destroy(NULL);
    cairn_workflow_t *wf = NULL;
    cairn_workflow_destroy(&wf);
    cairn_workflow_destroy(NULL);
    assert_null(b);
    assert_null(wf);
}

/* ---- structured problems ---------------------------------------------- */

/* Each setter adds exactly one problem to the base graph (executors
 * alpha 0, beta 1, gamma 2; edges 0 alpha->beta, 1 beta->gamma), or
 * builds from scratch when it needs the base to lack something. */
typedef cairn_builder_t *(*s_problem_setup_fn)(void);

static cairn_builder_t *
s_pb_no_executors(void)
{
    cairn_builder_t *b = cairn_builder_new(s_registry);
    assert_int_equal(cairn_builder_set_start(b, "alpha"), CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_max_supersteps(void)
{
    cairn_builder_t *b = s_base();
    cairn_builder_set_max_supersteps(b, 0);
    return b;
}

/* The base graph plus executor id (index 3) of type with config. */
static cairn_builder_t *
s_base_plus(const char *id, const char *type, const char *config)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_executor(b, id, type, config,
                                                config ? strlen(config) : 0),
                     CAIRN_OK);
    return b;
}

/* The base graph plus a switch edge (index 2) from gamma. */
static cairn_builder_t *
s_base_switch(const cairn_switch_case_t *cases, size_t n)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_switch(b, "gamma", cases, n), CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_bad_id(void)
{
    return s_base_plus("bad id", "t.noop", NULL);
}

/* Two executors "dup" at 3 and 5: the later one is the duplicate. */
static cairn_builder_t *
s_pb_duplicate_id(void)
{
    cairn_builder_t *b = s_base();
    const char *ids[] = {"dup", "other", "dup"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(cairn_builder_add_executor(b, ids[i], "t.noop", NULL,
                                                    0),
                         CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_unknown_type(void)
{
    return s_base_plus("typo", "no.such.type", NULL);
}

/* "aaa" sorts first by id, but was added fourth: index 3. */
static cairn_builder_t *
s_pb_bad_config(void)
{
    return s_base_plus("aaa", "t.strict", "bad");
}

static cairn_builder_t *
s_pb_bad_label(void)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_set_label(b, "beta", "two words"),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_edge_from(void)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_edge(b, "ghost", "beta", NULL, NULL, 0),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_fan_out_to(void)
{
    cairn_builder_t *b = s_base();
    const char *targets[] = {"alpha", "ghost"};
    assert_int_equal(cairn_builder_add_fan_out(b, "gamma", targets, 2, NULL,
                                               NULL, 0),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_fan_in_from(void)
{
    cairn_builder_t *b = s_base();
    const char *sources[] = {"alpha", "ghost"};
    assert_int_equal(cairn_builder_add_fan_in(b, sources, 2, "gamma"),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_switch_to(void)
{
    const cairn_switch_case_t cases[] = {{"alpha", "eq", "x", 1, false},
                                         {"ghost", NULL, NULL, 0, true}};
    return s_base_switch(cases, 2);
}

static cairn_builder_t *
s_pb_start(void)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_set_start(b, "ghost"), CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_accept(void)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_accept(b, "alpha", "tag"), CAIRN_OK);
    assert_int_equal(cairn_builder_accept(b, "ghost", "tag"), CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_label(void)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_set_label(b, "ghost", "gpu"), CAIRN_OK);
    return b;
}

/* The default timeout is call 0, the retry for ghost call 1. */
static cairn_builder_t *
s_pb_failure(void)
{
    cairn_builder_t *b = s_base();
    const cairn_retry_policy_t retry = {.max_attempts = 2};
    assert_int_equal(cairn_builder_set_timeout(b, NULL, 1000), CAIRN_OK);
    assert_int_equal(cairn_builder_set_retry(b, "ghost", &retry), CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_unknown_predicate(void)
{
    const cairn_switch_case_t cases[] = {{"alpha", "eq", "x", 1, false},
                                         {"beta", "nope", "y", 1, false},
                                         {"gamma", NULL, NULL, 0, true}};
    return s_base_switch(cases, 3);
}

static cairn_builder_t *
s_pb_bad_predicate_arg(void)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_edge(b, "gamma", "alpha", "int_lt",
                                            "abc", 3),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_unknown_selector(void)
{
    cairn_builder_t *b = s_base();
    const char *targets[] = {"alpha", "beta"};
    assert_int_equal(cairn_builder_add_fan_out(b, "gamma", targets, 2, "nope",
                                               NULL, 0),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_duplicate_source(void)
{
    cairn_builder_t *b = s_base();
    const char *sources[] = {"beta", "gamma", "beta"};
    assert_int_equal(cairn_builder_add_fan_in(b, sources, 3, "alpha"),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_too_few_sources(void)
{
    cairn_builder_t *b = s_base();
    const char *sources[] = {"gamma"};
    assert_int_equal(cairn_builder_add_fan_in(b, sources, 1, "alpha"),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_no_targets(void)
{
    cairn_builder_t *b = s_base();
    assert_int_equal(cairn_builder_add_fan_out(b, "gamma", NULL, 0, NULL, NULL,
                                               0),
                     CAIRN_OK);
    return b;
}

static cairn_builder_t *
s_pb_case_no_predicate(void)
{
    const cairn_switch_case_t cases[] = {{"alpha", "eq", "x", 1, false},
                                         {"beta", NULL, NULL, 0, false},
                                         {"gamma", NULL, NULL, 0, true}};
    return s_base_switch(cases, 3);
}

static cairn_builder_t *
s_pb_default_count(void)
{
    const cairn_switch_case_t cases[] = {{"alpha", "eq", "x", 1, false}};
    return s_base_switch(cases, 1);
}

static cairn_builder_t *
s_pb_no_start(void)
{
    cairn_builder_t *b = cairn_builder_new(s_registry);
    assert_int_equal(cairn_builder_add_executor(b, "alpha", "t.noop", NULL, 0),
                     CAIRN_OK);
    return b;
}

static const struct {
    const char *name;
    s_problem_setup_fn setup;
    cairn_build_problem_t want;
} s_problems[] = {
    {"no executors", s_pb_no_executors,
     {CAIRN_BUILD_NO_EXECUTORS, CAIRN_BUILD_AT_WORKFLOW, 0, "", 0}},
    {"max supersteps", s_pb_max_supersteps,
     {CAIRN_BUILD_MAX_SUPERSTEPS, CAIRN_BUILD_AT_WORKFLOW, 0, "", 0}},
    {"bad id", s_pb_bad_id,
     {CAIRN_BUILD_BAD_ID, CAIRN_BUILD_AT_EXECUTOR, 3, "id", 0}},
    {"duplicate id", s_pb_duplicate_id,
     {CAIRN_BUILD_DUPLICATE_ID, CAIRN_BUILD_AT_EXECUTOR, 5, "id", 0}},
    {"unknown type", s_pb_unknown_type,
     {CAIRN_BUILD_UNKNOWN_TYPE, CAIRN_BUILD_AT_EXECUTOR, 3, "type", 0}},
    {"bad config", s_pb_bad_config,
     {CAIRN_BUILD_BAD_CONFIG, CAIRN_BUILD_AT_EXECUTOR, 3, "config", 0}},
    {"bad label", s_pb_bad_label,
     {CAIRN_BUILD_BAD_LABEL, CAIRN_BUILD_AT_EXECUTOR, 1, "label", 0}},
    {"edge from", s_pb_edge_from,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_EDGE, 2, "from", 0}},
    {"fan-out to", s_pb_fan_out_to,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_EDGE, 2, "to", 1}},
    {"fan-in from", s_pb_fan_in_from,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_EDGE, 2, "from", 1}},
    {"switch to", s_pb_switch_to,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_EDGE, 2, "to", 1}},
    {"start", s_pb_start,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_START, 0, "", 0}},
    {"accept", s_pb_accept,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_ACCEPT, 1, "id", 0}},
    {"label", s_pb_label,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_LABEL, 0, "id", 0}},
    {"failure", s_pb_failure,
     {CAIRN_BUILD_UNKNOWN_EXECUTOR, CAIRN_BUILD_AT_FAILURE, 1, "id", 0}},
    {"unknown predicate", s_pb_unknown_predicate,
     {CAIRN_BUILD_UNKNOWN_PREDICATE, CAIRN_BUILD_AT_EDGE, 2, "when", 1}},
    {"bad predicate arg", s_pb_bad_predicate_arg,
     {CAIRN_BUILD_BAD_PREDICATE_ARG, CAIRN_BUILD_AT_EDGE, 2, "when", 0}},
    {"unknown selector", s_pb_unknown_selector,
     {CAIRN_BUILD_UNKNOWN_SELECTOR, CAIRN_BUILD_AT_EDGE, 2, "selector", 0}},
    {"duplicate source", s_pb_duplicate_source,
     {CAIRN_BUILD_DUPLICATE_SOURCE, CAIRN_BUILD_AT_EDGE, 2, "from", 2}},
    {"too few sources", s_pb_too_few_sources,
     {CAIRN_BUILD_TOO_FEW_SOURCES, CAIRN_BUILD_AT_EDGE, 2, "from", 0}},
    {"no targets", s_pb_no_targets,
     {CAIRN_BUILD_NO_TARGETS, CAIRN_BUILD_AT_EDGE, 2, "to", 0}},
    {"case without predicate", s_pb_case_no_predicate,
     {CAIRN_BUILD_CASE_NO_PREDICATE, CAIRN_BUILD_AT_EDGE, 2, "when", 1}},
    {"default count", s_pb_default_count,
     {CAIRN_BUILD_DEFAULT_COUNT, CAIRN_BUILD_AT_EDGE, 2, "", 0}},
    {"no start", s_pb_no_start,
     {CAIRN_BUILD_NO_START, CAIRN_BUILD_AT_START, 0, "", 0}},
};

/* Every kind of problem is reported with its subject, add-order index,
 * field and item, and the same message cairn_builder_build() gives. */
static void
test_builder_problem_names_kind_subject_and_field(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof s_problems / sizeof s_problems[0]; i++) {
        const cairn_build_problem_t *want = &s_problems[i].want;
        cairn_builder_t *b = s_problems[i].setup();
        assert_non_null(b);
        cairn_workflow_t *wf = NULL;
        cairn_error_t err, plain_err;
        cairn_build_problem_t got;
        memset(&got, 0xa5, sizeof got);
        int rc = cairn_builder_build_with(b, &wf, &err, &got);
        assert_int_equal(cairn_builder_build(b, &wf, &plain_err),
                         CAIRN_EVALIDATION);
        if (rc != CAIRN_EVALIDATION || wf || got.kind != want->kind
            || got.subject != want->subject || got.index != want->index
            || got.field == NULL || strcmp(got.field, want->field) != 0
            || got.item != want->item
            || strcmp(err.message, plain_err.message) != 0) {
            print_error("%s: rc %d kind %d subject %d index %zu field '%s' "
                        "item %zu ('%s')\n",
                        s_problems[i].name, rc, (int)got.kind,
                        (int)got.subject, got.index,
                        got.field && rc == CAIRN_EVALIDATION ? got.field : "?",
                        got.item, err.message);
            failures++;
        }
        cairn_builder_destroy(&b);
    }
    assert_int_equal(failures, 0);
}

/* A successful build and a build refused for its arguments report no
 * problem, and a NULL problem is allowed. */
static void
test_builder_problem_ok_unless_invalid(void **state)
{
    (void)state;
    cairn_builder_t *b = s_base();
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    cairn_build_problem_t got;
    memset(&got, 0xa5, sizeof got);
    assert_int_equal(cairn_builder_build_with(b, &wf, &err, &got), CAIRN_OK);
    assert_int_equal(got.kind, CAIRN_BUILD_OK);
    assert_string_equal(got.field, "");
    cairn_workflow_destroy(&wf);

    memset(&got, 0xa5, sizeof got);
    assert_int_equal(cairn_builder_build_with(b, NULL, &err, &got),
                     CAIRN_EINVAL);
    assert_int_equal(got.kind, CAIRN_BUILD_OK);
    assert_string_equal(got.field, "");

    cairn_builder_set_max_supersteps(b, 0);
    assert_int_equal(cairn_builder_build_with(b, &wf, &err, NULL),
                     CAIRN_EVALIDATION);
    assert_null(wf);
    cairn_builder_destroy(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_duplicate_executor_id),
        cmocka_unit_test(test_builder_unknown_edge_source),
        cmocka_unit_test(test_builder_unknown_edge_target),
        cmocka_unit_test(test_builder_unknown_executor_type),
        cmocka_unit_test(test_builder_no_start),
        cmocka_unit_test(test_builder_unknown_start),
        cmocka_unit_test(test_builder_switch_without_default),
        cmocka_unit_test(test_builder_switch_two_defaults),
        cmocka_unit_test(test_builder_fan_in_one_source),
        cmocka_unit_test(test_builder_fan_in_duplicate_source),
        cmocka_unit_test(test_builder_zero_max_supersteps),
        cmocka_unit_test(test_builder_unknown_predicate),
        cmocka_unit_test(test_builder_unknown_selector),
        cmocka_unit_test(test_builder_rejected_predicate_argument),
        cmocka_unit_test(test_builder_rejected_config),
        cmocka_unit_test(test_builder_invalid_executor_id),
        cmocka_unit_test(test_builder_unreachable_warns),
        cmocka_unit_test(test_builder_valid_workflow),
        cmocka_unit_test(test_builder_build_twice),
        cmocka_unit_test(test_builder_destroy_accepts_null),
        cmocka_unit_test(test_builder_problem_names_kind_subject_and_field),
        cmocka_unit_test(test_builder_problem_ok_unless_invalid),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
