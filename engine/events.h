/* events.h - numbering, storing and publishing a run's events
 * (events.c), as the coordinator and the checkpointer use it. */
#ifndef CAIRN_EVENTS_INTERNAL_H_INCLUDED
#define CAIRN_EVENTS_INTERNAL_H_INCLUDED

#include "cairn/engine.h"
#include "storage/checkpoint_io.h"

typedef struct cairn__events_t cairn__events_t;

/* How many events the store keeps for the run (keep_events of
 * cairn_run_options_t); before cairn__events_start only. */
void
cairn__events_keep(cairn__events_t *self, size_t keep);

/* Prepares the events of a run with opts: binds opts->events_endpoint
 * and keeps opts->store and opts->keep_events. A malformed endpoint is
 * CAIRN_EINVAL; one that cannot be bound (in use, an existing file that
 * is not a socket) is logged as a warning and the run publishes nothing.
 * Caller owns *out. */
int cairn__events_open(cairn__events_t **out, const cairn_run_options_t *opts,
                       cairn_error_t *err);

/* True when the events are published on opts->events_endpoint (it was
 * given and could be bound). Accepts NULL. */
bool cairn__events_published(const cairn__events_t *self);

/* Starts numbering the events of run_id after the last one stored (or
 * at 1). With store false, nothing is stored (a resume that has nothing
 * to do must change nothing). Events emitted before have seq 0. */
int cairn__events_start(cairn__events_t *self, const char *run_id, bool store,
                        cairn_error_t *err);

/* Gives event its seq and time, buffers it for the store and publishes
 * it. Never fails: an event that cannot be kept is logged. Accepts NULL
 * self (the event goes nowhere). */
void cairn__events_emit(cairn__events_t *self, cairn_event_t *event);

/* Adds the buffered events, and the deletion of stored ones beyond the
 * bound, to the write of a checkpoint. Accepts NULL. */
void cairn__events_put(cairn__events_t *self, cairn__ckpt_writer_t *w);

/* The write of the last cairn__events_put was committed: forgets what it
 * held. Accepts NULL. */
void cairn__events_saved(cairn__events_t *self);

/* Writes what is still buffered in a batch of its own (the end of a
 * run); a failure is logged, the checkpoints stand. Accepts NULL. */
void cairn__events_flush(cairn__events_t *self);

/* Unbinds the endpoint and frees everything. Accepts NULL; nulls
 * *self_p. */
void cairn__events_destroy(cairn__events_t **self_p);

#endif
