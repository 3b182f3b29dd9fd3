/* backend_memory.c - the backend in memory: one sorted array per column
 * family, binary search, atomic batches applied at commit.
 *
 * Used for tests and for durability "none" (nothing persists). Keys in a
 * run mostly grow with the superstep, so inserts land at or near the end
 * of the array and the memmove of a sorted-array insert stays short; a
 * balanced tree (e.g. GLib's GTree) would bring in a whole library for
 * one container without making this workload faster.
 *
 * Iterators hold an index and are invalidated by a commit; the store
 * never commits while it iterates.
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "storage/backend.h"

typedef struct {
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
} s_entry_t;

typedef struct {
    s_entry_t *entries; /* sorted by key, bytewise */
    size_t count;
    size_t capacity;
} s_table_t;

typedef struct {
    cairn__backend_t base;
    s_table_t tables[CAIRN__CF_COUNT];
} s_memory_t;

typedef struct {
    cairn__cf_t cf;
    bool is_delete;
    bool is_range; /* delete [key, value) */
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
} s_op_t;

typedef struct {
    s_op_t *ops;
    size_t count;
    size_t bytes;
    bool out_of_memory;
} s_batch_t;

typedef struct {
    const s_table_t *table;
    size_t index; /* == count when not valid */
} s_iter_t;

static s_memory_t *
s_self(cairn__backend_t *base)
{
    return (s_memory_t *)(void *)base;
}

static int
s_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int order = n ? memcmp(a, b, n) : 0;
    if (order != 0)
        return order;
    return (a_len > b_len) - (a_len < b_len);
}

/* Index of the first entry >= key. */
static size_t
s_lower_bound(const s_table_t *table, const uint8_t *key, size_t len)
{
    size_t low = 0, high = table->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        const s_entry_t *e = &table->entries[mid];
        if (s_compare(e->key, e->key_len, key, len) < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

static bool
s_found(const s_table_t *table, size_t index, const uint8_t *key, size_t len)
{
    return index < table->count
           && s_compare(table->entries[index].key,
                        table->entries[index].key_len, key, len)
                  == 0;
}

static void
s_close(cairn__backend_t *base)
{
    s_memory_t *self = s_self(base);
    for (int cf = 0; cf < CAIRN__CF_COUNT; cf++) {
        s_table_t *table = &self->tables[cf];
        for (size_t i = 0; i < table->count; i++) {
            free(table->entries[i].key);
            free(table->entries[i].value);
        }
        free(table->entries);
    }
    free(self);
}

static cairn__batch_t *
s_batch_new(cairn__backend_t *base)
{
    (void)base;
    return calloc(1, sizeof(s_batch_t));
}

static void
s_batch_add(s_batch_t *batch, cairn__cf_t cf, bool is_delete,
            const uint8_t *key, size_t key_len, const uint8_t *value,
            size_t value_len)
{
    if (batch->out_of_memory || !CAIRN__GROW(batch->ops, batch->count)) {
        batch->out_of_memory = true;
        return;
    }
    s_op_t *op = &batch->ops[batch->count];
    op->cf = cf;
    op->is_delete = is_delete;
    op->is_range = false;
    op->key = malloc(key_len ? key_len : 1);
    op->key_len = key_len;
    op->value = value_len ? malloc(value_len) : NULL;
    op->value_len = value_len;
    if (!op->key || (value_len && !op->value)) {
        free(op->key);
        free(op->value);
        batch->out_of_memory = true;
        return;
    }
    memcpy(op->key, key, key_len);
    if (value_len)
        memcpy(op->value, value, value_len);
    batch->count++;
    batch->bytes += key_len + value_len + 8;
}

static void
s_batch_put(cairn__batch_t *handle, cairn__cf_t cf, const uint8_t *key,
            size_t key_len, const uint8_t *value, size_t value_len)
{
    s_batch_add(handle, cf, false, key, key_len, value, value_len);
}

static void
s_batch_delete(cairn__batch_t *handle, cairn__cf_t cf, const uint8_t *key,
               size_t key_len)
{
    s_batch_add(handle, cf, true, key, key_len, NULL, 0);
}

static void
s_batch_delete_range(cairn__batch_t *handle, cairn__cf_t cf,
                     const uint8_t *begin, size_t begin_len,
                     const uint8_t *end, size_t end_len)
{
    s_batch_t *batch = handle;
    size_t count = batch->count;
    s_batch_add(batch, cf, true, begin, begin_len, end, end_len);
    if (batch->count > count)
        batch->ops[count].is_range = true;
}

static size_t
s_batch_size(const cairn__batch_t *handle)
{
    return ((const s_batch_t *)handle)->bytes;
}

static void
s_batch_free(cairn__batch_t *handle)
{
    s_batch_t *batch = handle;
    if (!batch)
        return;
    for (size_t i = 0; i < batch->count; i++) {
        free(batch->ops[i].key);
        free(batch->ops[i].value);
    }
    free(batch->ops);
    free(batch);
}

/* Applies one operation, taking over its buffers. */
static void
s_apply(s_memory_t *self, s_op_t *op)
{
    s_table_t *table = &self->tables[op->cf];
    size_t index = s_lower_bound(table, op->key, op->key_len);
    bool found = s_found(table, index, op->key, op->key_len);
    if (op->is_range) {
        size_t end = s_lower_bound(table, op->value, op->value_len);
        for (size_t i = index; i < end; i++) {
            free(table->entries[i].key);
            free(table->entries[i].value);
        }
        if (end > index) {
            memmove(&table->entries[index], &table->entries[end],
                    (table->count - end) * sizeof(s_entry_t));
            table->count -= end - index;
        }
        free(op->key);
        free(op->value);
    } else if (op->is_delete) {
        if (found) {
            free(table->entries[index].key);
            free(table->entries[index].value);
            memmove(&table->entries[index], &table->entries[index + 1],
                    (table->count - index - 1) * sizeof(s_entry_t));
            table->count--;
        }
        free(op->key);
    } else if (found) {
        free(op->key);
        free(table->entries[index].value);
        table->entries[index].value = op->value;
        table->entries[index].value_len = op->value_len;
    } else {
        memmove(&table->entries[index + 1], &table->entries[index],
                (table->count - index) * sizeof(s_entry_t));
        table->entries[index] = (s_entry_t){op->key, op->key_len, op->value,
                                            op->value_len};
        table->count++;
    }
    op->key = op->value = NULL;
}

/* Makes room so that applying the batch cannot fail halfway. */
static bool
s_reserve(s_memory_t *self, const s_batch_t *batch)
{
    for (int cf = 0; cf < CAIRN__CF_COUNT; cf++) {
        s_table_t *table = &self->tables[cf];
        size_t needed = table->count;
        for (size_t i = 0; i < batch->count; i++)
            needed += batch->ops[i].cf == (cairn__cf_t)cf;
        if (needed <= table->capacity)
            continue;
        size_t capacity = table->capacity ? table->capacity : 16;
        while (capacity < needed)
            capacity *= 2;
        s_entry_t *entries =
            realloc(table->entries, capacity * sizeof *entries);
        if (!entries)
            return false;
        table->entries = entries;
        table->capacity = capacity;
    }
    return true;
}

static int
s_batch_commit(cairn__backend_t *base, cairn__batch_t *handle, bool sync,
               cairn_error_t *err)
{
    (void)sync;
    s_memory_t *self = s_self(base);
    s_batch_t *batch = handle;
    if (batch->out_of_memory || !s_reserve(self, batch))
        return cairn_error_set(err, CAIRN_ENOMEM,
                               "out of memory writing the memory store");
    for (size_t i = 0; i < batch->count; i++)
        s_apply(self, &batch->ops[i]);
    batch->count = 0;
    batch->bytes = 0;
    return CAIRN_OK;
}

static int
s_get(cairn__backend_t *base, cairn__cf_t cf, const uint8_t *key,
      size_t key_len, uint8_t **value, size_t *value_len, cairn_error_t *err)
{
    const s_table_t *table = &s_self(base)->tables[cf];
    size_t index = s_lower_bound(table, key, key_len);
    *value = NULL;
    *value_len = 0;
    if (!s_found(table, index, key, key_len))
        return CAIRN_ENOTFOUND;
    const s_entry_t *e = &table->entries[index];
    *value = malloc(e->value_len ? e->value_len : 1);
    if (!*value)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (e->value_len)
        memcpy(*value, e->value, e->value_len);
    *value_len = e->value_len;
    return CAIRN_OK;
}

static cairn__iter_t *
s_iter_new(cairn__backend_t *base, cairn__cf_t cf)
{
    s_iter_t *it = calloc(1, sizeof *it);
    if (it) {
        it->table = &s_self(base)->tables[cf];
        it->index = it->table->count;
    }
    return it;
}

static void
s_iter_seek(cairn__iter_t *handle, const uint8_t *key, size_t len)
{
    s_iter_t *it = handle;
    it->index = s_lower_bound(it->table, key, len);
}

static void
s_iter_seek_for_prev(cairn__iter_t *handle, const uint8_t *key, size_t len)
{
    s_iter_t *it = handle;
    size_t index = s_lower_bound(it->table, key, len);
    if (s_found(it->table, index, key, len))
        it->index = index;
    else
        it->index = index == 0 ? it->table->count : index - 1;
}

static bool
s_iter_valid(const cairn__iter_t *handle)
{
    const s_iter_t *it = handle;
    return it->index < it->table->count;
}

static void
s_iter_next(cairn__iter_t *handle)
{
    s_iter_t *it = handle;
    if (it->index < it->table->count)
        it->index++;
}

static void
s_iter_prev(cairn__iter_t *handle)
{
    s_iter_t *it = handle;
    it->index = it->index == 0 ? it->table->count : it->index - 1;
}

static const uint8_t *
s_iter_key(const cairn__iter_t *handle, size_t *len)
{
    const s_iter_t *it = handle;
    *len = it->table->entries[it->index].key_len;
    return it->table->entries[it->index].key;
}

static const uint8_t *
s_iter_value(const cairn__iter_t *handle, size_t *len)
{
    const s_iter_t *it = handle;
    *len = it->table->entries[it->index].value_len;
    return it->table->entries[it->index].value;
}

/* Memory cannot fail a read: an invalid iterator is at the end. */
static int
s_iter_status(const cairn__iter_t *it, cairn_error_t *err)
{
    (void)it, (void)err;
    return CAIRN_OK;
}

static void
s_iter_free(cairn__iter_t *it)
{
    free(it);
}

static int
s_refresh(cairn__backend_t *base, cairn_error_t *err)
{
    (void)base, (void)err;
    return CAIRN_OK;
}

static const cairn__backend_ops_t s_ops = {
    .close = s_close,
    .batch_new = s_batch_new,
    .batch_put = s_batch_put,
    .batch_delete = s_batch_delete,
    .batch_delete_range = s_batch_delete_range,
    .batch_size = s_batch_size,
    .batch_commit = s_batch_commit,
    .batch_free = s_batch_free,
    .get = s_get,
    .iter_new = s_iter_new,
    .iter_seek = s_iter_seek,
    .iter_seek_for_prev = s_iter_seek_for_prev,
    .iter_valid = s_iter_valid,
    .iter_next = s_iter_next,
    .iter_prev = s_iter_prev,
    .iter_key = s_iter_key,
    .iter_value = s_iter_value,
    .iter_status = s_iter_status,
    .iter_free = s_iter_free,
    .refresh = s_refresh,
};

int
cairn__backend_open_memory(cairn__backend_t **out, cairn_error_t *err)
{
    s_memory_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    self->base.ops = &s_ops;
    *out = &self->base;
    return CAIRN_OK;
}
