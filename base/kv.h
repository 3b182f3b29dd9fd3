/* kv.h - a key -> bytes map with tombstones, iterated in key order.
 *
 * Used for executor state and shared state by the coordinator (the
 * authoritative copy), by hosts (their copy plus per-superstep write
 * overlays) and by results. A tombstone records a delete in an overlay so
 * that it can be shipped and applied later. Not thread-safe: each map has
 * one owner thread.
 */
#ifndef CAIRN_KV_H_INCLUDED
#define CAIRN_KV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cairn__kv_t cairn__kv_t;

typedef struct {
    uint8_t *data;  /* owned by the map; NULL for an empty value */
    size_t len;
    bool deleted;   /* tombstone */
} cairn__kv_value_t;

/* Returns NULL on out-of-memory. */
cairn__kv_t *
cairn__kv_new(void);
void
cairn__kv_destroy(cairn__kv_t **self_p);

/* Copies key and value in, replacing what was there. 0 or CAIRN_ENOMEM. */
int
cairn__kv_set(cairn__kv_t *self, const char *key, const void *data,
              size_t len);

/* Records a tombstone for key. 0 or CAIRN_ENOMEM. */
int
cairn__kv_set_tombstone(cairn__kv_t *self, const char *key);

/* Removes key entirely (no tombstone). */
void
cairn__kv_remove(cairn__kv_t *self, const char *key);

/* The entry for key (tombstones included), or NULL. Borrowed until the
 * key is next written. */
const cairn__kv_value_t *
cairn__kv_lookup(const cairn__kv_t *self, const char *key);

size_t
cairn__kv_size(const cairn__kv_t *self);

void
cairn__kv_clear(cairn__kv_t *self);

/* Keys in bytewise order, as an array of borrowed pointers (valid until
 * the map is next written). Caller frees the array with free(). Returns
 * NULL with *count 0 for an empty map or on out-of-memory (check
 * cairn__kv_size to tell them apart). */
const char **
cairn__kv_sorted_keys(const cairn__kv_t *self, size_t *count);

/* The value of key as a reader sees it: NULL when map is NULL, the key
 * is absent or a tombstone; "" for an empty value. *len (if not NULL) is
 * its length. Borrowed until the key is next written. */
const uint8_t *
cairn__kv_get(const cairn__kv_t *map, const char *key, size_t *len);

/* Calls fn(scope, key, value, len, userdata) for every entry of map (may
 * be NULL) in key order; tombstones included only as stored values. */
void
cairn__kv_visit(const cairn__kv_t *map, const char *scope,
                void (*fn)(const char *scope, const char *key,
                           const uint8_t *value, size_t len, void *userdata),
                void *userdata);

/* Applies one write: a tombstone removes the key, anything else sets it.
 * 0 or CAIRN_ENOMEM. */
int
cairn__kv_apply(cairn__kv_t *self, const char *key, const void *data,
                size_t len, bool deleted);

#endif
