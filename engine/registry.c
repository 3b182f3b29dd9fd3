/* registry.c - executor types, predicates and selectors by name.
 *
 * Filled once, then read concurrently by the coordinator and host
 * threads; no locking, so nothing may be added while engines run.
 */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "engine/registry_internal.h"

typedef struct {
    cairn_executor_type_t type; /* type.name points into the hash key */
} s_executor_entry_t;

typedef struct {
    cairn_predicate_fn eval;
    cairn_predicate_check_fn check;
} s_predicate_entry_t;

typedef struct {
    cairn_selector_fn select;
} s_selector_entry_t;

struct cairn_registry_t {
    zhashx_t *executors;    /* name -> s_executor_entry_t* */
    zhashx_t *predicates;   /* name -> s_predicate_entry_t* */
    zhashx_t *selectors;    /* name -> s_selector_entry_t* */
    const char **type_names; /* executor type names, sorted; borrowed keys */
    size_t type_count;
};

static void
s_free_item(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

static zhashx_t *
s_table_new(void)
{
    zhashx_t *table = zhashx_new();
    if (table)
        zhashx_set_destructor(table, s_free_item);
    return table;
}

cairn_registry_t *
cairn_registry_new(void)
{
    cairn_registry_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->executors = s_table_new();
    self->predicates = s_table_new();
    self->selectors = s_table_new();
    if (!self->executors || !self->predicates || !self->selectors
        || cairn__predicates_register(self) != CAIRN_OK) {
        cairn_registry_destroy(&self);
        return NULL;
    }
    return self;
}

void
cairn_registry_destroy(cairn_registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_registry_t *self = *self_p;
    zhashx_destroy(&self->executors);
    zhashx_destroy(&self->predicates);
    zhashx_destroy(&self->selectors);
    free(self->type_names);
    free(self);
    *self_p = NULL;
}

/* Inserts item under name; takes ownership of item on every path. */
static int
s_insert(zhashx_t *table, const char *name, void *item)
{
    if (!item)
        return CAIRN_ENOMEM;
    if (zhashx_lookup(table, name)) {
        free(item);
        return CAIRN_EEXISTS;
    }
    if (zhashx_insert(table, name, item) != 0) {
        free(item);
        return CAIRN_ENOMEM;
    }
    return CAIRN_OK;
}

static int
s_compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Rebuilds the sorted list of executor type names after an add. */
static int
s_index_types(cairn_registry_t *self)
{
    size_t n = zhashx_size(self->executors);
    const char **names = malloc(n * sizeof *names);
    if (!names)
        return CAIRN_ENOMEM;
    size_t i = 0;
    for (s_executor_entry_t *entry = zhashx_first(self->executors); entry;
         entry = zhashx_next(self->executors)) {
        const char *key = (const char *)zhashx_cursor(self->executors);
        entry->type.name = key;
        names[i++] = key;
    }
    qsort(names, n, sizeof *names, s_compare_names);
    free(self->type_names);
    self->type_names = names;
    self->type_count = n;
    return CAIRN_OK;
}

int
cairn_registry_add_executor(cairn_registry_t *self,
                            const cairn_executor_type_t *type)
{
    if (!self || !type || !type->name || !*type->name || !type->handle)
        return CAIRN_EINVAL;
    s_executor_entry_t *entry = malloc(sizeof *entry);
    if (entry)
        entry->type = *type;
    int rc = s_insert(self->executors, type->name, entry);
    if (rc != CAIRN_OK)
        return rc;
    return s_index_types(self);
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
    return s_insert(self->predicates, name, entry);
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
    return s_insert(self->selectors, name, entry);
}

const cairn_executor_type_t *
cairn_registry_executor(const cairn_registry_t *self, const char *name)
{
    s_executor_entry_t *entry = zhashx_lookup(self->executors, name);
    return entry ? &entry->type : NULL;
}

bool
cairn_registry_has_predicate(const cairn_registry_t *self, const char *name)
{
    return zhashx_lookup(self->predicates, name) != NULL;
}

bool
cairn_registry_has_selector(const cairn_registry_t *self, const char *name)
{
    return zhashx_lookup(self->selectors, name) != NULL;
}

bool
cairn_registry_eval(const cairn_registry_t *self, const char *name,
                    const cairn_msg_t *msg, const uint8_t *arg,
                    size_t arg_len)
{
    s_predicate_entry_t *entry = zhashx_lookup(self->predicates, name);
    return entry && entry->eval(self, msg, arg, arg_len);
}

cairn_predicate_check_fn
cairn__registry_predicate_check(const cairn_registry_t *self,
                                const char *name)
{
    s_predicate_entry_t *entry = zhashx_lookup(self->predicates, name);
    return entry ? entry->check : NULL;
}

cairn_selector_fn
cairn__registry_selector(const cairn_registry_t *self, const char *name)
{
    s_selector_entry_t *entry = zhashx_lookup(self->selectors, name);
    return entry ? entry->select : NULL;
}

size_t
cairn_registry_executor_count(const cairn_registry_t *self)
{
    return self->type_count;
}

const char *
cairn_registry_executor_name(const cairn_registry_t *self, size_t index)
{
    return index < self->type_count ? self->type_names[index] : NULL;
}
