/* store_events.h - a run's stored events as the store's own modules see
 * them (store_events.c); the engine writes and reads them through
 * checkpoint_io.h.
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

#include "storage/store_internal.h"

/* Decodes every stored block of run_id and checks that their seqs are
 * contiguous and match their keys; calls problem for each fault. */
void cairn__store_verify_events(cairn_store_t *self, const char *run_id,
                                void (*problem)(void *userdata,
                                                const char *text),
                                void *userdata);

#endif
