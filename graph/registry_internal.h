/* registry_internal.h - what the engine needs from the registry beyond the
 * public API. */
#ifndef CAIRN_REGISTRY_INTERNAL_H_INCLUDED
#define CAIRN_REGISTRY_INTERNAL_H_INCLUDED

#include "cairn/registry.h"

/* The eval function of a predicate (NULL when it is unknown). */
cairn_predicate_fn
cairn__registry_predicate_eval(const cairn_registry_t *self, const char *name);

/* The check function of a predicate (NULL when it has none or is
 * unknown). */
cairn_predicate_check_fn
cairn__registry_predicate_check(const cairn_registry_t *self,
                                const char *name);

/* The selector registered under name, or NULL. */
cairn_selector_fn
cairn__registry_selector(const cairn_registry_t *self, const char *name);

/* Registers the built-in predicates (predicates.c). */
int
cairn__predicates_register(cairn_registry_t *registry);

/* Registers the composite predicates not, all, any (predicate_json.c). */
int
cairn__predicate_composites_register(cairn_registry_t *registry);

/* Parses a whole decimal int64, surrounding white space allowed. */
bool
cairn__parse_int64(const uint8_t *text, size_t len, int64_t *out);

#endif
