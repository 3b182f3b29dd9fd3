/* test_registry.c - registering types and the built-in predicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cairn.pb-c.h"
#include "cairn/cairn.h"
#include "graph/registry_internal.h"

static int
noop(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)ctx, (void)msg;
    return 0;
}

/* Evaluates a predicate on a payload through a real message struct. */
static bool
eval(const cairn_registry_t *registry, const char *name, const char *payload,
     const char *arg)
{
    Cairn__Message msg = CAIRN__MESSAGE__INIT;
    msg.payload.data = (uint8_t *)payload;
    msg.payload.len = strlen(payload);
    return cairn_registry_eval(registry, name,
                               (const cairn_msg_t *)(void *)&msg,
                               (const uint8_t *)arg, strlen(arg));
}

static void
test_registry_rejects_duplicates_and_missing_fields(void **state)
{
    (void)state;
    cairn_registry_t *registry = cairn_registry_new();
    cairn_executor_type_t type = {.name = "t.noop", .handle = noop};
    assert_int_equal(cairn_registry_add_executor(registry, &type), CAIRN_OK);
    assert_int_equal(cairn_registry_add_executor(registry, &type),
                     CAIRN_EEXISTS);
    cairn_executor_type_t nameless = {.handle = noop};
    assert_int_equal(cairn_registry_add_executor(registry, &nameless),
                     CAIRN_EINVAL);
    cairn_executor_type_t handlerless = {.name = "t.x"};
    assert_int_equal(cairn_registry_add_executor(registry, &handlerless),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_registry_add_predicate(registry, "eq", NULL, NULL),
                     CAIRN_EINVAL);
    assert_non_null(cairn_registry_executor(registry, "t.noop"));
    assert_null(cairn_registry_executor(registry, "t.other"));
    cairn_registry_destroy(&registry);
    assert_null(registry);
}

static void
test_registry_lists_types_sorted(void **state)
{
    (void)state;
    cairn_registry_t *registry = cairn_registry_new();
    const char *names[] = {"z.last", "a.first", "m.middle"};
    for (size_t i = 0; i < 3; i++) {
        cairn_executor_type_t type = {.name = names[i], .handle = noop};
        assert_int_equal(cairn_registry_add_executor(registry, &type),
                         CAIRN_OK);
    }
    assert_int_equal(cairn_registry_executor_count(registry), 3);
    assert_string_equal(cairn_registry_executor_name(registry, 0), "a.first");
    assert_string_equal(cairn_registry_executor_name(registry, 1),
                        "m.middle");
    assert_string_equal(cairn_registry_executor_name(registry, 2), "z.last");
    assert_null(cairn_registry_executor_name(registry, 3));
    cairn_registry_destroy(&registry);
}

static void
test_registry_config_keys_and_predicate_names(void **state)
{
    (void)state;
    cairn_registry_t *registry = cairn_registry_new();
    assert_non_null(registry);
    cairn_executor_type_t type = {.name = "a.type", .handle = noop};
    assert_int_equal(cairn_registry_add_executor(registry, &type), CAIRN_OK);
    const char *const keys[] = {"first", "second", NULL};
    const char *const none[] = {NULL};
    assert_null(cairn_registry_config_keys(registry, "a.type"));
    assert_int_equal(cairn_registry_set_config_keys(registry, "no.type", keys),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_registry_set_config_keys(registry, "a.type", NULL),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_registry_set_config_keys(registry, "a.type", keys),
                     CAIRN_OK);
    const char *const *got = cairn_registry_config_keys(registry, "a.type");
    assert_non_null(got);
    assert_string_equal(got[0], "first");
    assert_string_equal(got[1], "second");
    assert_null(got[2]);
    assert_int_equal(cairn_registry_set_config_keys(registry, "a.type", none),
                     CAIRN_OK); /* replaces: takes no config */
    got = cairn_registry_config_keys(registry, "a.type");
    assert_non_null(got);
    assert_null(got[0]);
    /* the built-in predicates, sorted */
    size_t count = cairn_registry_predicate_count(registry);
    assert_true(count >= 10);
    for (size_t i = 1; i < count; i++)
        assert_true(strcmp(cairn_registry_predicate_name(registry, i - 1),
                           cairn_registry_predicate_name(registry, i))
                    < 0);
    assert_null(cairn_registry_predicate_name(registry, count));
    cairn_registry_destroy(&registry);
}

static void
test_registry_text_predicates(void **state)
{
    (void)state;
    cairn_registry_t *registry = cairn_registry_new();
    assert_true(eval(registry, "eq", "abc", "abc"));
    assert_false(eval(registry, "eq", "abc", "ab"));
    assert_true(eval(registry, "ne", "abc", "ab"));
    assert_true(eval(registry, "prefix", "abc", "ab"));
    assert_false(eval(registry, "prefix", "ab", "abc"));
    assert_true(eval(registry, "contains", "hello world", "o w"));
    assert_false(eval(registry, "contains", "hello", "xyz"));
    assert_true(eval(registry, "always", "", ""));
    assert_false(eval(registry, "never", "", ""));
    assert_false(eval(registry, "no_such_predicate", "a", "a"));
    cairn_registry_destroy(&registry);
}

static void
test_registry_int_predicates_are_false_on_non_integers(void **state)
{
    (void)state;
    cairn_registry_t *registry = cairn_registry_new();
    assert_true(eval(registry, "int_lt", "9", "10"));
    assert_false(eval(registry, "int_lt", "10", "10"));
    assert_true(eval(registry, "int_le", "10", "10"));
    assert_true(eval(registry, "int_gt", " 11\n", "10"));
    assert_true(eval(registry, "int_ge", "-3", "-3"));
    assert_false(eval(registry, "int_lt", "ten", "10"));
    assert_false(eval(registry, "int_ge", "10x", "1"));
    assert_false(eval(registry, "int_gt", "", "1"));
    assert_false(eval(registry, "int_gt", "99999999999999999999", "1"));
    cairn_predicate_check_fn check =
        cairn__registry_predicate_check(registry, "int_lt");
    assert_non_null(check);
    cairn_error_t err;
    assert_int_equal(check(registry, (const uint8_t *)"abc", 3, &err),
                     CAIRN_EINVAL);
    assert_non_null(strstr(err.message, "not a decimal integer"));
    cairn_registry_destroy(&registry);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_rejects_duplicates_and_missing_fields),
        cmocka_unit_test(test_registry_lists_types_sorted),
        cmocka_unit_test(test_registry_config_keys_and_predicate_names),
        cmocka_unit_test(test_registry_text_predicates),
        cmocka_unit_test(
            test_registry_int_predicates_are_false_on_non_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
