/* test_signature - the workflow signature.
 *
 * One graph is described by s_variant_t; each case builds the base graph
 * and a variant that differs in exactly one respect, and checks whether
 * the signature must stay the same (order of adding executors or of
 * edges of different sources, name, max_supersteps) or must change
 * (config, type, predicate argument, switch case order, start, accepted
 * tags).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
        {"t.one", th_handler_noop, NULL, NULL, NULL},
        {"t.two", th_handler_noop, NULL, NULL, NULL},
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

/* What may differ from the base graph. Zero = the base graph. */
typedef struct {
    bool reverse_executors; /* add executors in reverse order */
    bool reverse_edges;     /* add edges (all of different sources) in
                               reverse order */
    const char *config_a;   /* config of executor a (base "cfg-a") */
    const char *type_d;     /* type of executor d (base "t.one") */
    const char *lt_arg;     /* argument of a -> b int_lt (base "10") */
    bool swap_cases;        /* swap the two non-default switch cases */
    const char *start;      /* base "a" */
    const char *name;       /* base: not set */
    uint64_t max_supersteps; /* base: not set */
    const char *accept_c;   /* accepted tag of c (base: none) */
} s_variant_t;

/*
 * a --int_lt 10--> b
 * b --switch: eq "x" -> c, eq "y" -> d, default -> a
 * c --fan-out--> {d, e}
 * {d, e} --fan-in--> a
 * (no two edges share a source, so their relative order is meaningless)
 */
static cairn_workflow_t *
s_build(const s_variant_t *v)
{
    cairn_builder_t *b = cairn_builder_new(s_registry);
    assert_non_null(b);

    const char *config_a = v->config_a ? v->config_a : "cfg-a";
    const char *ids[] = {"a", "b", "c", "d", "e"};
    const char *types[] = {"t.one", "t.two", "t.one",
                           v->type_d ? v->type_d : "t.one", "t.two"};
    for (size_t k = 0; k < 5; k++) {
        size_t i = v->reverse_executors ? 4 - k : k;
        const char *config = i == 0 ? config_a : NULL;
        size_t config_len = config ? strlen(config) : 0;
        assert_int_equal(cairn_builder_add_executor(b, ids[i], types[i],
                                                    config, config_len),
                         CAIRN_OK);
    }

    const char *lt_arg = v->lt_arg ? v->lt_arg : "10";
    cairn_switch_case_t cases[] = {
        {"c", "eq", "x", 1, false},
        {"d", "eq", "y", 1, false},
        {"a", NULL, NULL, 0, true},
    };
    if (v->swap_cases) {
        cairn_switch_case_t tmp = cases[0];
        cases[0] = cases[1];
        cases[1] = tmp;
    }
    const char *fan_out[] = {"d", "e"};
    const char *fan_in[] = {"d", "e"};
    for (int k = 0; k < 4; k++) {
        int e = v->reverse_edges ? 3 - k : k;
        int rc = CAIRN_EINVAL;
        switch (e) {
        case 0:
            rc = cairn_builder_add_edge(b, "a", "b", "int_lt", lt_arg,
                                        strlen(lt_arg));
            break;
        case 1:
            rc = cairn_builder_add_switch(b, "b", cases, 3);
            break;
        case 2:
            rc = cairn_builder_add_fan_out(b, "c", fan_out, 2, NULL, NULL, 0);
            break;
        case 3:
            rc = cairn_builder_add_fan_in(b, fan_in, 2, "a");
            break;
        }
        assert_int_equal(rc, CAIRN_OK);
    }
    if (v->accept_c)
        assert_int_equal(cairn_builder_accept(b, "c", v->accept_c), CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, v->start ? v->start : "a"),
                     CAIRN_OK);
    if (v->name)
        assert_int_equal(cairn_builder_set_name(b, v->name), CAIRN_OK);
    if (v->max_supersteps)
        cairn_builder_set_max_supersteps(b, v->max_supersteps);

    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    int rc = cairn_builder_build(b, &wf, &err);
    if (rc != CAIRN_OK)
        fail_msg("build failed: %s", err.message);
    assert_non_null(wf);
    cairn_builder_destroy(&b);
    return wf;
}

/* Checks that hex is 64 lowercase hex digits matching the raw bytes. */
static void
s_check_hex(const cairn_workflow_t *wf)
{
    const char *hex = cairn_workflow_signature_hex(wf);
    const uint8_t *raw = cairn_workflow_signature(wf);
    assert_non_null(hex);
    assert_non_null(raw);
    assert_int_equal(strlen(hex), 64);
    for (size_t i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", hex[i]));
    char expected[2 * CAIRN_SIGNATURE_SIZE + 1];
    for (size_t i = 0; i < CAIRN_SIGNATURE_SIZE; i++)
        snprintf(expected + 2 * i, 3, "%02x", raw[i]);
    assert_string_equal(hex, expected);
}

/* Builds the base graph and the variant; asserts whether their
 * signatures are equal. */
static void
s_compare(const s_variant_t *variant, bool expect_equal)
{
    const s_variant_t base = {0};
    cairn_workflow_t *w1 = s_build(&base);
    cairn_workflow_t *w2 = s_build(variant);
    s_check_hex(w1);
    s_check_hex(w2);
    const char *h1 = cairn_workflow_signature_hex(w1);
    const char *h2 = cairn_workflow_signature_hex(w2);
    if (expect_equal) {
        assert_string_equal(h1, h2);
        assert_memory_equal(cairn_workflow_signature(w1),
                            cairn_workflow_signature(w2),
                            CAIRN_SIGNATURE_SIZE);
    } else {
        assert_string_not_equal(h1, h2);
    }
    cairn_workflow_destroy(&w1);
    cairn_workflow_destroy(&w2);
}

static void
test_signature_stable_across_builds(void **state)
{
    (void)state;
    const s_variant_t same = {0};
    s_compare(&same, true);
}

static void
test_signature_executor_order_irrelevant(void **state)
{
    (void)state;
    const s_variant_t v = {.reverse_executors = true};
    s_compare(&v, true);
}

static void
test_signature_edge_order_of_different_sources_irrelevant(void **state)
{
    (void)state;
    const s_variant_t v = {.reverse_executors = true, .reverse_edges = true};
    s_compare(&v, true);
}

static void
test_signature_config_changes_it(void **state)
{
    (void)state;
    const s_variant_t v = {.config_a = "cfg-A"};
    s_compare(&v, false);
    /* an empty config differs from a non-empty one too */
    const s_variant_t empty = {.config_a = ""};
    s_compare(&empty, false);
}

static void
test_signature_type_changes_it(void **state)
{
    (void)state;
    const s_variant_t v = {.type_d = "t.two"};
    s_compare(&v, false);
}

static void
test_signature_predicate_argument_changes_it(void **state)
{
    (void)state;
    const s_variant_t v = {.lt_arg = "11"};
    s_compare(&v, false);
}

static void
test_signature_switch_case_order_changes_it(void **state)
{
    (void)state;
    const s_variant_t v = {.swap_cases = true};
    s_compare(&v, false);
}

static void
test_signature_start_changes_it(void **state)
{
    (void)state;
    const s_variant_t v = {.start = "b"};
    s_compare(&v, false);
}

static void
test_signature_accepted_tags_change_it(void **state)
{
    (void)state;
    const s_variant_t v = {.accept_c = "number"};
    s_compare(&v, false);
}

static void
test_signature_name_and_limit_do_not_change_it(void **state)
{
    (void)state;
    const s_variant_t named = {.name = "other-name"};
    s_compare(&named, true);
    const s_variant_t limited = {.max_supersteps = 3};
    s_compare(&limited, true);
    const s_variant_t both = {.name = "x", .max_supersteps = 1000,
                              .reverse_executors = true};
    s_compare(&both, true);
}

static void
test_signature_id_boundaries_are_unambiguous(void **state)
{
    (void)state;
    /* executor "ay" of type "x" and executor "a" of type "yx" concatenate
     * to the same bytes: the canonical encoding must delimit its fields.
     * Both graphs share the start "s" so that only that pair differs. */
    const cairn_executor_type_t t_x = {"x", th_handler_noop, NULL, NULL, NULL};
    const cairn_executor_type_t t_yx = {"yx", th_handler_noop, NULL, NULL, NULL};
    cairn_registry_t *reg = cairn_registry_new();
    assert_non_null(reg);
    assert_int_equal(cairn_registry_add_executor(reg, &t_x), CAIRN_OK);
    assert_int_equal(cairn_registry_add_executor(reg, &t_yx), CAIRN_OK);

    cairn_workflow_t *wf[2] = {NULL, NULL};
    const char *ids[2] = {"ay", "a"};
    const char *types[2] = {"x", "yx"};
    for (int i = 0; i < 2; i++) {
        cairn_builder_t *b = cairn_builder_new(reg);
        assert_non_null(b);
        assert_int_equal(cairn_builder_add_executor(b, ids[i], types[i],
                                                    NULL, 0),
                         CAIRN_OK);
        assert_int_equal(cairn_builder_add_executor(b, "s", "x", NULL, 0),
                         CAIRN_OK);
        assert_int_equal(cairn_builder_set_start(b, "s"), CAIRN_OK);
        cairn_error_t err;
        assert_int_equal(cairn_builder_build(b, &wf[i], &err), CAIRN_OK);
        cairn_builder_destroy(&b);
    }
    assert_string_not_equal(cairn_workflow_signature_hex(wf[0]),
                            cairn_workflow_signature_hex(wf[1]));
    cairn_workflow_destroy(&wf[0]);
    cairn_workflow_destroy(&wf[1]);
    cairn_registry_destroy(&reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_stable_across_builds),
        cmocka_unit_test(test_signature_executor_order_irrelevant),
        cmocka_unit_test(
            test_signature_edge_order_of_different_sources_irrelevant),
        cmocka_unit_test(test_signature_config_changes_it),
        cmocka_unit_test(test_signature_type_changes_it),
        cmocka_unit_test(test_signature_predicate_argument_changes_it),
        cmocka_unit_test(test_signature_switch_case_order_changes_it),
        cmocka_unit_test(test_signature_start_changes_it),
        cmocka_unit_test(test_signature_accepted_tags_change_it),
        cmocka_unit_test(test_signature_name_and_limit_do_not_change_it),
        cmocka_unit_test(test_signature_id_boundaries_are_unambiguous),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
