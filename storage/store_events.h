/* store_events.h - a run's stored events as the engine and the store's
 * own modules see them (store_events.c).
 *
 * Events live in the events family under RUN \0 SEQ (8 bytes, big
 * endian), one framed EventRecord each. A run's stored events are a
 * contiguous range of seqs: the engine appends at the end and trims at
 * the start, always in the batch of a checkpoint or in one of their own.
 */
#ifndef CAIRN_STORE_EVENTS_H_INCLUDED
#define CAIRN_STORE_EVENTS_H_INCLUDED

#include "cairn/engine.h"
#include "storage/store_internal.h"

/* Adds event seq of run_id (framed EventRecord bytes) to batch. false on
 * out-of-memory. */
bool cairn__events_batch_put(cairn_store_t *self, cairn__batch_t *batch,
                             const char *run_id, uint64_t seq,
                             const uint8_t *framed, size_t len);

/* Adds the deletion of events [from, to] of run_id to batch. false on
 * out-of-memory. */
bool cairn__events_batch_drop(cairn_store_t *self, cairn__batch_t *batch,
                              const char *run_id, uint64_t from, uint64_t to);

/* The lowest and highest stored seq of run_id; both 0 when it has
 * none. */
int cairn__store_event_range(cairn_store_t *self, const char *run_id,
                             uint64_t *low, uint64_t *high, cairn_error_t *err);

/* Commits batch with the store's durability and frees it. */
int cairn__store_commit_batch(cairn_store_t *self, cairn__batch_t *batch,
                              cairn_error_t *err);

/* The event a record describes; borrows from record and run_id. */
void cairn__event_from_record(const Cairn__EventRecord *record,
                              const char *run_id, cairn_event_t *out);

/* Decodes every stored event of run_id and checks that their seqs are
 * contiguous and match their keys; calls problem for each fault. */
void cairn__store_verify_events(cairn_store_t *self, const char *run_id,
                                void (*problem)(void *userdata,
                                                const char *text),
                                void *userdata);

#endif
