/* registry.c - executor types, predicates and selectors by name.
 *
 * Filled once, then read concurrently by the coordinator and host
 * threads. Lookups must therefore never write: each table is a sorted
 * array searched by bisection (a hash table with a lookup cache, such as
 * czmq's zhashx, writes on every lookup). Nothing may be added while
 * engines run.
 */
#include <stdlib.h>
#include <string.h>

#include "graph/registry_internal.h"

typedef struct {
    char *name;  /* owned */
    void *item;  /* owned, malloc'd */
} s_slot_t;

/* A sorted array of named items. */
typedef struct {
    s_slot_t *slots;
    size_t count;
} s_table_t;

typedef struct {
    cairn_predicate_fn eval;
    cairn_predicate_check_fn check;
} s_predicate_entry_t;

typedef struct {
    cairn_selector_fn select;
} s_selector_entry_t;

struct cairn_registry_t {
    s_table_t executors;  /* cairn_executor_type_t, name = slot name */
    s_table_t predicates; /* s_predicate_entry_t */
    s_table_t selectors;  /* s_selector_entry_t */
    s_table_t config_keys; /* one block: NULL-terminated char *[], then
                              the strings (freed with one free) */
};

/* Index of name, or of where it would go (*found tells which). */
static size_t
s_search(const s_table_t *table, const char *name, bool *found)
{
    size_t low = 0, high = table->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int order = strcmp(table->slots[mid].name, name);
        if (order == 0) {
            *found = true;
            return mid;
        }
        if (order < 0)
            low = mid + 1;
        else
            high = mid;
    }
    *found = false;
    return low;
}

static void *
s_lookup(const s_table_t *table, const char *name)
{
    bool found;
    size_t index = s_search(table, name, &found);
    return found ? table->slots[index].item : NULL;
}

/* Inserts item under a copy of name; takes ownership of item on every
 * path. *slot_name (if not NULL) receives the stored name. */
static int
s_insert(s_table_t *table, const char *name, void *item,
         const char **slot_name)
{
    bool found;
    size_t index = s_search(table, name, &found);
    char *copy = item && !found ? strdup(name) : NULL;
    s_slot_t *slots = copy ? realloc(table->slots,
                                     (table->count + 1) * sizeof *slots)
                           : NULL;
    if (!slots) {
        free(copy);
        free(item);
        return found ? CAIRN_EEXISTS : CAIRN_ENOMEM;
    }
    memmove(&slots[index + 1], &slots[index],
            (table->count - index) * sizeof *slots);
    slots[index] = (s_slot_t){copy, item};
    table->slots = slots;
    table->count++;
    if (slot_name)
        *slot_name = copy;
    return CAIRN_OK;
}

static void
s_table_free(s_table_t *table)
{
    for (size_t i = 0; i < table->count; i++) {
        free(table->slots[i].name);
        free(table->slots[i].item);
    }
    free(table->slots);
    table->slots = NULL;
    table->count = 0;
}

cairn_registry_t *
cairn_registry_new(void)
{
    cairn_registry_t *self = calloc(1, sizeof *self);
    if (self && cairn__predicates_register(self) != CAIRN_OK)
        cairn_registry_destroy(&self);
    return self;
}

void
cairn_registry_destroy(cairn_registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_registry_t *self = *self_p;
    s_table_free(&self->executors);
    s_table_free(&self->predicates);
    s_table_free(&self->selectors);
    s_table_free(&self->config_keys);
    free(self);
    *self_p = NULL;
}

int
cairn_registry_add_executor(cairn_registry_t *self,
                            const cairn_executor_type_t *type)
{
    if (!self || !type || !type->name || !*type->name || !type->handle)
        return CAIRN_EINVAL;
    cairn_executor_type_t *entry = malloc(sizeof *entry);
    if (entry)
        *entry = *type;
    const char *name = NULL;
    int rc = s_insert(&self->executors, type->name, entry, &name);
    if (rc == CAIRN_OK)
        entry->name = name; /* the registry's copy outlives the caller's */
    return rc;
}

int
cairn_registry_add_predicate(cairn_registry_t *self, const char *name,
                             cairn_predicate_fn eval,
                             cairn_predicate_check_fn check)
{
    if (!self || !name || !*name || !eval)
        return CAIRN_EINVAL;
    s_predicate_entry_t *entry = malloc(sizeof *entry);
    if (entry) {
        entry->eval = eval;
        entry->check = check;
    }
    return s_insert(&self->predicates, name, entry, NULL);
}

int
cairn_registry_add_selector(cairn_registry_t *self, const char *name,
                            cairn_selector_fn select)
{
    if (!self || !name || !*name || !select)
        return CAIRN_EINVAL;
    s_selector_entry_t *entry = malloc(sizeof *entry);
    if (entry)
        entry->select = select;
    return s_insert(&self->selectors, name, entry, NULL);
}

const cairn_executor_type_t *
cairn_registry_executor(const cairn_registry_t *self, const char *name)
{
    return s_lookup(&self->executors, name);
}

bool
cairn_registry_has_predicate(const cairn_registry_t *self, const char *name)
{
    return s_lookup(&self->predicates, name) != NULL;
}

bool
cairn_registry_has_selector(const cairn_registry_t *self, const char *name)
{
    return s_lookup(&self->selectors, name) != NULL;
}

bool
cairn_registry_eval(const cairn_registry_t *self, const char *name,
                    const cairn_msg_t *msg, const uint8_t *arg,
                    size_t arg_len)
{
    const s_predicate_entry_t *entry = s_lookup(&self->predicates, name);
    return entry && entry->eval(self, msg, arg, arg_len);
}

cairn_predicate_fn
cairn__registry_predicate_eval(const cairn_registry_t *self, const char *name)
{
    const s_predicate_entry_t *entry = s_lookup(&self->predicates, name);
    return entry ? entry->eval : NULL;
}

cairn_predicate_check_fn
cairn__registry_predicate_check(const cairn_registry_t *self,
                                const char *name)
{
    const s_predicate_entry_t *entry = s_lookup(&self->predicates, name);
    return entry ? entry->check : NULL;
}

cairn_selector_fn
cairn__registry_selector(const cairn_registry_t *self, const char *name)
{
    const s_selector_entry_t *entry = s_lookup(&self->selectors, name);
    return entry ? entry->select : NULL;
}

size_t
cairn_registry_executor_count(const cairn_registry_t *self)
{
    return self->executors.count;
}

const char *
cairn_registry_executor_name(const cairn_registry_t *self, size_t index)
{
    return index < self->executors.count ? self->executors.slots[index].name
                                         : NULL;
}

/* keys copied into one block: the pointer array, then the strings. */
static char **
s_keys_copy(const char *const *keys)
{
    size_t count = 0, bytes = 0;
    for (; keys[count]; count++)
        bytes += strlen(keys[count]) + 1;
    char **copy = malloc((count + 1) * sizeof *copy + bytes);
    if (!copy)
        return NULL;
    char *text = (char *)(copy + count + 1);
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(keys[i]) + 1;
        memcpy(text, keys[i], len);
        copy[i] = text;
        text += len;
    }
    copy[count] = NULL;
    return copy;
}

int
cairn_registry_set_config_keys(cairn_registry_t *self, const char *type,
                               const char *const *keys)
{
    if (!self || !type || !keys)
        return CAIRN_EINVAL;
    if (!s_lookup(&self->executors, type))
        return CAIRN_ENOTFOUND;
    char **copy = s_keys_copy(keys);
    if (!copy)
        return CAIRN_ENOMEM;
    bool found;
    size_t index = s_search(&self->config_keys, type, &found);
    if (!found)
        return s_insert(&self->config_keys, type, copy, NULL);
    free(self->config_keys.slots[index].item);
    self->config_keys.slots[index].item = copy;
    return CAIRN_OK;
}

const char *const *
cairn_registry_config_keys(const cairn_registry_t *self, const char *type)
{
    return s_lookup(&self->config_keys, type);
}

size_t
cairn_registry_predicate_count(const cairn_registry_t *self)
{
    return self->predicates.count;
}

const char *
cairn_registry_predicate_name(const cairn_registry_t *self, size_t index)
{
    return index < self->predicates.count ? self->predicates.slots[index].name
                                          : NULL;
}
