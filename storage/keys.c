/* keys.c - building and reading store keys (keys.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/keys.h"

void
cairn__key_reset(cairn__key_t *key)
{
    key->len = 0;
    key->out_of_memory = false;
}

void
cairn__key_free(cairn__key_t *key)
{
    free(key->data);
    memset(key, 0, sizeof *key);
}

void
cairn__key_add_bytes(cairn__key_t *key, const void *data, size_t len)
{
    if (key->out_of_memory)
        return;
    if (key->len + len > key->capacity) {
        size_t capacity = key->capacity ? key->capacity : 64;
        while (capacity < key->len + len)
            capacity *= 2;
        uint8_t *grown = realloc(key->data, capacity);
        if (!grown) {
            key->out_of_memory = true;
            return;
        }
        key->data = grown;
        key->capacity = capacity;
    }
    if (len)
        memcpy(key->data + key->len, data, len);
    key->len += len;
}

void
cairn__key_add_text(cairn__key_t *key, const char *text, bool terminate)
{
    cairn__key_add_bytes(key, text, strlen(text) + (terminate ? 1 : 0));
}

void
cairn__key_add_u64(cairn__key_t *key, uint64_t value)
{
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(value >> (56 - 8 * i));
    cairn__key_add_bytes(key, bytes, sizeof bytes);
}

uint64_t
cairn__key_read_u64(const uint8_t *bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | bytes[i];
    return value;
}

void
cairn__key_step(cairn__key_t *key, const char *run_id, uint64_t superstep)
{
    cairn__key_reset(key);
    cairn__key_add_text(key, run_id, true);
    cairn__key_add_u64(key, superstep);
}

void
cairn__key_state_group(cairn__key_t *key, const char *run_id,
                       const char *scope, const char *name)
{
    cairn__key_reset(key);
    cairn__key_add_text(key, run_id, true);
    cairn__key_add_text(key, scope ? scope : "", true);
    cairn__key_add_text(key, name, true);
}

bool
cairn__key_has_prefix(const uint8_t *data, size_t len,
                      const cairn__key_t *prefix)
{
    return len >= prefix->len && memcmp(data, prefix->data, prefix->len) == 0;
}

bool
cairn__versions_next(cairn__versions_t *v, const uint8_t *key, size_t len,
                     uint64_t *step, uint64_t *superseded)
{
    size_t group_len = len - 8;
    *step = ~cairn__key_read_u64(key + group_len);
    if (!v->group || group_len != v->group_len
        || memcmp(key, v->group, group_len) != 0) {
        free(v->group);
        v->group = malloc(group_len ? group_len : 1);
        if (!v->group)
            return false;
        memcpy(v->group, key, group_len);
        v->group_len = group_len;
        v->newer = UINT64_MAX;
    }
    *superseded = v->newer;
    v->newer = *step;
    return true;
}

void
cairn__versions_free(cairn__versions_t *v)
{
    free(v->group);
    memset(v, 0, sizeof *v);
}
