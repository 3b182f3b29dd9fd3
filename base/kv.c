/* kv.c - key -> bytes map over czmq's zhashx.
 *
 * zhashx gives O(1) get/set and owns key copies; ordered iteration sorts
 * the key list on demand, which only barriers, checkpoints and results
 * need.
 */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "base/kv.h"

struct cairn__kv_t {
    zhashx_t *map; /* key -> cairn__kv_value_t*, both owned */
};

static void
s_value_destroy(void **item_p)
{
    cairn__kv_value_t *value = (cairn__kv_value_t *)*item_p;
    if (value) {
        free(value->data);
        free(value);
        *item_p = NULL;
    }
}

cairn__kv_t *
cairn__kv_new(void)
{
    cairn__kv_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->map = zhashx_new();
    if (!self->map) {
        free(self);
        return NULL;
    }
    zhashx_set_destructor(self->map, s_value_destroy);
    return self;
}

void
cairn__kv_destroy(cairn__kv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn__kv_t *self = *self_p;
    zhashx_destroy(&self->map);
    free(self);
    *self_p = NULL;
}

static int
s_put(cairn__kv_t *self, const char *key, const void *data, size_t len,
      bool deleted)
{
    cairn__kv_value_t *value = calloc(1, sizeof *value);
    if (!value)
        return CAIRN_ENOMEM;
    if (len > 0) {
        value->data = malloc(len);
        if (!value->data) {
            free(value);
            return CAIRN_ENOMEM;
        }
        memcpy(value->data, data, len);
    }
    value->len = len;
    value->deleted = deleted;
    /* zhashx_update replaces (destroying the old value) or inserts. */
    zhashx_update(self->map, key, value);
    return CAIRN_OK;
}

int
cairn__kv_set(cairn__kv_t *self, const char *key, const void *data,
              size_t len)
{
    return s_put(self, key, data, len, false);
}

int
cairn__kv_set_tombstone(cairn__kv_t *self, const char *key)
{
    return s_put(self, key, NULL, 0, true);
}

void
cairn__kv_remove(cairn__kv_t *self, const char *key)
{
    zhashx_delete(self->map, key);
}

const cairn__kv_value_t *
cairn__kv_lookup(const cairn__kv_t *self, const char *key)
{
    return (const cairn__kv_value_t *)zhashx_lookup(self->map, key);
}

size_t
cairn__kv_size(const cairn__kv_t *self)
{
    return zhashx_size(self->map);
}

void
cairn__kv_clear(cairn__kv_t *self)
{
    zhashx_purge(self->map);
}

static int
s_compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **
cairn__kv_sorted_keys(const cairn__kv_t *self, size_t *count)
{
    *count = 0;
    size_t n = zhashx_size(self->map);
    if (n == 0)
        return NULL;
    const char **keys = malloc(n * sizeof *keys);
    if (!keys)
        return NULL;
    size_t i = 0;
    /* zhashx's iteration cursor is mutable state inside the map; the map
     * is owned by one thread, so walking it from a const view is safe. */
    zhashx_t *map = self->map;
    for (void *item = zhashx_first(map); item; item = zhashx_next(map))
        keys[i++] = (const char *)zhashx_cursor(map);
    qsort(keys, n, sizeof *keys, s_compare_keys);
    *count = n;
    return keys;
}

const uint8_t *
cairn__kv_get(const cairn__kv_t *map, const char *key, size_t *len)
{
    const cairn__kv_value_t *value = map ? cairn__kv_lookup(map, key) : NULL;
    if (len)
        *len = value && !value->deleted ? value->len : 0;
    if (!value || value->deleted)
        return NULL;
    return value->data ? value->data : (const uint8_t *)"";
}

void
cairn__kv_visit(const cairn__kv_t *map, const char *scope,
                void (*fn)(const char *scope, const char *key,
                           const uint8_t *value, size_t len, void *userdata),
                void *userdata)
{
    size_t count = 0;
    const char **keys = map ? cairn__kv_sorted_keys(map, &count) : NULL;
    for (size_t i = 0; i < count; i++) {
        const cairn__kv_value_t *value = cairn__kv_lookup(map, keys[i]);
        fn(scope, keys[i], value->data ? value->data : (const uint8_t *)"",
           value->len, userdata);
    }
    free(keys);
}

int
cairn__kv_apply(cairn__kv_t *self, const char *key, const void *data,
                size_t len, bool deleted)
{
    if (deleted) {
        cairn__kv_remove(self, key);
        return CAIRN_OK;
    }
    return cairn__kv_set(self, key, data, len);
}
