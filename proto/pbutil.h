/* pbutil.h - building and freeing the protobuf structs cairn passes around.
 *
 * Messages made here are laid out exactly as protobuf-c's unpacker lays
 * them out (every field malloc'd), so one function frees both kinds:
 * cairn__pb_message_free(). State entry views borrow from a kv map so
 * that shipping state costs no copy before packing.
 */
#ifndef CAIRN_PBUTIL_H_INCLUDED
#define CAIRN_PBUTIL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "cairn.pb-c.h"
#include "engine/kv.h"

/* A new message owning copies of its fields (NULL strings become "").
 * Returns NULL on out-of-memory. */
Cairn__Message *
cairn__pb_message_new(const char *type, const char *source,
                      const char *target, const void *payload, size_t len);

/* A deep copy (parts included), or NULL on out-of-memory. */
Cairn__Message *
cairn__pb_message_clone(const Cairn__Message *msg);

/* Frees a message from cairn__pb_message_new/clone or an unpacker.
 * Accepts NULL. */
void
cairn__pb_message_free(Cairn__Message *msg);

/* Borrowed StateEntry structs over a kv map, sorted by key, with the
 * pointer array protobuf-c wants for a repeated field. */
typedef struct {
    Cairn__StateEntry *entries;
    Cairn__StateEntry **ptrs;
    size_t count;
} cairn__entry_view_t;

/* Fills view from kv (tombstones become deleted entries). The view
 * borrows kv's keys and values: valid until kv is written. 0 or
 * CAIRN_ENOMEM. */
int
cairn__entry_view_init(cairn__entry_view_t *view, const cairn__kv_t *kv);
void
cairn__entry_view_fini(cairn__entry_view_t *view);

/* Applies entries (in order) to kv. 0 or CAIRN_ENOMEM. */
int
cairn__kv_apply_entries(cairn__kv_t *kv, Cairn__StateEntry *const *entries,
                        size_t count);

#endif
