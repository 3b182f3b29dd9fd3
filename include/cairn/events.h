/* events.h - a run's events after the fact and from another process.
 *
 * Every event a run emits (cairn_event_t, engine.h) is numbered within
 * its run (seq 1, 2, ... across resumes). With a store, the newest
 * events of each run are kept (cairn_run_options_t.keep_events), written
 * in the same atomic batch as the checkpoints, so stored events never say
 * more than the stored checkpoints. With an events endpoint, a live run
 * also publishes each event on a PUB socket that a subscriber here can
 * follow; the endpoint is kept in the run record
 * (cairn_run_info_t.events_endpoint).
 *
 * Threading: a subscriber is used by one thread at a time.
 */
#ifndef CAIRN_EVENTS_H_INCLUDED
#define CAIRN_EVENTS_H_INCLUDED

#include "common.h"
#include "engine.h"
#include "error.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Calls fn for each stored event of run_id with seq > after_seq, oldest
 * first. The event: Borrowed; valid until fn returns. Fails with
 * CAIRN_ENOTFOUND for an unknown run and CAIRN_ECORRUPT, naming the
 * event, for a damaged record (events before it were delivered). */
CAIRN_EXPORT int
cairn_store_foreach_event(cairn_store_t *store, const char *run_id,
                          uint64_t after_seq, cairn_event_fn fn,
                          void *userdata, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

typedef struct cairn_event_sub_t cairn_event_sub_t;

/* Subscribes to the events run_id publishes on endpoint (its run
 * record's events_endpoint). Connecting does not wait for the publisher:
 * events arrive once it is there and has seen the subscription. Caller
 * owns the result (cairn_event_sub_destroy). */
CAIRN_EXPORT int
cairn_event_sub_open(cairn_event_sub_t **out, const char *endpoint,
                     const char *run_id, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Waits up to timeout_ms for the next event of the run and calls fn with
 * it. Returns 1 when an event was delivered, 0 when none came in time
 * (frames that are not a valid event of the run are dropped and logged),
 * < 0 on a transport error. */
CAIRN_EXPORT int
cairn_event_sub_next(cairn_event_sub_t *self, int timeout_ms,
                     cairn_event_fn fn, void *userdata, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Accepts NULL; nulls *self_p. */
CAIRN_EXPORT void
cairn_event_sub_destroy(cairn_event_sub_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
