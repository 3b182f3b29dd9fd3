/* test_kv.c - the key -> bytes map: writes, tombstones, ordered keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "base/kv.h"

static void
test_kv_set_replaces_and_copies(void **state)
{
    (void)state;
    cairn__kv_t *kv = cairn__kv_new();
    char value[] = "one";
    assert_int_equal(cairn__kv_set(kv, "k", value, 3), CAIRN_OK);
    value[0] = 'X'; /* the map holds its own copy */
    const cairn__kv_value_t *got = cairn__kv_lookup(kv, "k");
    assert_non_null(got);
    assert_int_equal(got->len, 3);
    assert_memory_equal(got->data, "one", 3);
    assert_int_equal(cairn__kv_set(kv, "k", "three", 5), CAIRN_OK);
    got = cairn__kv_lookup(kv, "k");
    assert_int_equal(got->len, 5);
    assert_memory_equal(got->data, "three", 5);
    assert_int_equal(cairn__kv_size(kv), 1);
    cairn__kv_destroy(&kv);
    assert_null(kv);
    cairn__kv_destroy(&kv); /* NULL is accepted */
}

static void
test_kv_tombstone_is_kept_and_apply_removes(void **state)
{
    (void)state;
    cairn__kv_t *kv = cairn__kv_new();
    assert_int_equal(cairn__kv_set_tombstone(kv, "gone"), CAIRN_OK);
    const cairn__kv_value_t *got = cairn__kv_lookup(kv, "gone");
    assert_non_null(got);
    assert_true(got->deleted);
    assert_int_equal(cairn__kv_apply(kv, "x", "1", 1, false), CAIRN_OK);
    assert_int_equal(cairn__kv_apply(kv, "x", NULL, 0, true), CAIRN_OK);
    assert_null(cairn__kv_lookup(kv, "x"));
    cairn__kv_destroy(&kv);
}

static void
test_kv_sorted_keys_are_bytewise_ordered(void **state)
{
    (void)state;
    cairn__kv_t *kv = cairn__kv_new();
    const char *keys[] = {"b", "a", "B", "aa", "_", "0"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(cairn__kv_set(kv, keys[i], "v", 1), CAIRN_OK);
    size_t count;
    const char **sorted = cairn__kv_sorted_keys(kv, &count);
    assert_int_equal(count, 6);
    const char *expected[] = {"0", "B", "_", "a", "aa", "b"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(sorted[i], expected[i]);
    free(sorted);
    cairn__kv_clear(kv);
    assert_int_equal(cairn__kv_size(kv), 0);
    assert_null(cairn__kv_sorted_keys(kv, &count));
    assert_int_equal(count, 0);
    cairn__kv_destroy(&kv);
}

static void
test_kv_empty_value_is_present(void **state)
{
    (void)state;
    cairn__kv_t *kv = cairn__kv_new();
    assert_int_equal(cairn__kv_set(kv, "empty", NULL, 0), CAIRN_OK);
    const cairn__kv_value_t *got = cairn__kv_lookup(kv, "empty");
    assert_non_null(got);
    assert_false(got->deleted);
    assert_int_equal(got->len, 0);
    cairn__kv_destroy(&kv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_set_replaces_and_copies),
        cmocka_unit_test(test_kv_tombstone_is_kept_and_apply_removes),
        cmocka_unit_test(test_kv_sorted_keys_are_bytewise_ordered),
        cmocka_unit_test(test_kv_empty_value_is_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
