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
#include <stdint.h>

#include "cairn.pb-c.h"
#include "cairn/message.h"
#include "base/kv.h"

/* protobuf-c unpacks nested messages by recursion with no depth limit,
 * and Message.parts nests: a small frame nested 20,000 deep overflows the
 * stack. An unpack guard is an allocator that fails (so the unpack fails,
 * as for any malformed input) once the unpacker has used more than
 * CAIRN__UNPACK_STACK bytes of stack below where the guard was set up.
 * Unpacked messages are freed as usual (allocations are plain malloc). */
#define CAIRN__UNPACK_STACK ((ptrdiff_t)256 * 1024)

typedef struct {
    ProtobufCAllocator allocator; /* pass &guard.allocator to unpack */
    const char *base;             /* stack position at set-up */
    size_t budget;                /* bytes the unpack may allocate in all
                                     (SIZE_MAX after set-up): decoding
                                     multiplies small entries (a 2-byte
                                     empty Message becomes ~100 bytes),
                                     so a peer's frame is bounded by what
                                     it decodes to, not only its size */
    size_t used;                  /* ... allocated so far */
    bool over_budget;             /* an allocation was refused for it */
} cairn__unpack_guard_t;

/* Sets the guard up in the caller's frame; use it right there. */
#define CAIRN__UNPACK_GUARD(guard)                                                 cairn__unpack_guard_init(&(guard), (const char *)__builtin_frame_address(0))
void
cairn__unpack_guard_init(cairn__unpack_guard_t *guard, const char *base);

/* A new message owning copies of its fields (NULL strings become "").
 * Returns NULL on out-of-memory. */
Cairn__Message *
cairn__pb_message_new(const char *type, const char *source,
                      const char *target, const void *payload, size_t len);

/* A deep copy (parts included), or NULL on out-of-memory. */
Cairn__Message *
cairn__pb_message_clone(const Cairn__Message *msg);

/* A new request owning copies of its fields, or NULL on out-of-memory. */
Cairn__Request *
cairn__pb_request_new(const char *id, const char *executor, const char *kind,
                      const void *payload, size_t len, uint64_t superstep);

/* A deep copy, or NULL on out-of-memory. */
Cairn__Request *
cairn__pb_request_clone(const Cairn__Request *request);

/* Fills view with pointers into request (borrowed from it). */
void
cairn__pb_request_view(const Cairn__Request *request, cairn_request_t *view);

/* Frees a request from cairn__pb_request_new/clone or an unpacker.
 * Accepts NULL. */
void
cairn__pb_request_free(Cairn__Request *request);

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
