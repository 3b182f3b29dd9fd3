/* store_events.h - a run's stored events as the engine and the store's
 * own modules see them (store_events.c).
 *
 * Events live in the events family in blocks: one framed EventBlock per
 * write, under RUN \0 SEQ (8 bytes, big endian) of its first event. A
 * run's blocks hold one contiguous range of seqs; the newest block's
 * first_kept says where the visible range starts (the bound), so a block
 * that straddles it need not be rewritten. The engine appends a block at
 * the end and deletes whole blocks at the start, always in the batch of
 * a checkpoint or in one of their own.
 */
#ifndef CAIRN_STORE_EVENTS_H_INCLUDED
#define CAIRN_STORE_EVENTS_H_INCLUDED

#include "cairn/engine.h"
#include "storage/store_internal.h"

/* Adds the block (framed EventBlock bytes) whose first event is seq. */
bool cairn__events_batch_put(cairn_store_t *self, cairn__batch_t *batch,
                             const char *run_id, uint64_t seq,
                             const uint8_t *framed, size_t len);

/* Adds the deletion of the blocks that start in [from, to): one range
 * deletion, however many blocks. */
bool cairn__events_batch_drop(cairn_store_t *self, cairn__batch_t *batch,
                              const char *run_id, uint64_t from, uint64_t to);

/* The first seqs of the run's stored blocks, ascending (*starts
 * malloc'd, caller frees). */
int cairn__store_event_blocks(cairn_store_t *self, const char *run_id,
                              uint64_t **starts, size_t *count,
                              cairn_error_t *err);

/* The first seq of the run's oldest stored block and the seq of its last
 * stored event (both 0 when it has none): two seeks, whatever the number
 * of blocks. */
int cairn__store_event_ends(cairn_store_t *self, const char *run_id,
                            uint64_t *first, uint64_t *last,
                            cairn_error_t *err);

/* Commits batch with the store's durability and frees it. */
int cairn__store_commit_batch(cairn_store_t *self, cairn__batch_t *batch,
                              cairn_error_t *err);

/* The event a record describes; borrows from record and run_id. */
void cairn__event_from_record(const Cairn__EventRecord *record,
                              const char *run_id, cairn_event_t *out);

/* Decodes every stored block of run_id and checks that their seqs are
 * contiguous and match their keys; calls problem for each fault. */
void cairn__store_verify_events(cairn_store_t *self, const char *run_id,
                                void (*problem)(void *userdata,
                                                const char *text),
                                void *userdata);

#endif
