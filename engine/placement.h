/* placement.h - which host runs which executor (placement.c). */
#ifndef CAIRN_PLACEMENT_H_INCLUDED
#define CAIRN_PLACEMENT_H_INCLUDED

#include "engine/run_internal.h"

/* run->placement value of an executor that has no host yet (a lost
 * worker's executor waiting for a worker that fits it). No host has this
 * index, and cairn__engine_find_host never returns it, so no Done is
 * accepted for it. */
#define CAIRN__UNPLACED ((size_t)CAIRN__MAX_HOSTS)

/* Whether executor x can only run on a worker process: it asks for a
 * label, the coordinator's registry does not know its type, or it is
 * held off the in-process hosts (below). */
bool cairn__placement_needs_worker(const cairn__run_t *run, size_t x);

/* Whether x, which could run in-process by the workflow, may not because
 * it was running on a worker that died (run->crashed) or went silent
 * (run->silent_on), or a worker that would fit it is suspended (for less
 * than the worker wait), and the engine does not move lost workers'
 * executors in-process. */
bool cairn__placement_held_off_local(const cairn__run_t *run, size_t x);

/* Whether host h is a live worker that can run executor x: it offers
 * x's type and, when x asks for a label, announced that label. */
bool cairn__placement_worker_fits(const cairn__run_t *run, size_t h, size_t x);

/* A host for executor x, or -1 when none can take it now. Workers that
 * fit x are used in turn (run->placement_turn spreads executors over
 * them); an executor that does not need a worker falls back to an
 * in-process host (round-robin in id order, so neighbours in a chain
 * land on different hosts), or goes there first when local_first. */
long cairn__placement_pick(cairn__run_t *run, size_t x, bool local_first);

/* The first executor (marked in only, or any when only is NULL) that
 * needs a worker while no live worker fits it, or -1. */
long cairn__placement_unmet(const cairn__run_t *run, const bool *only);

/* Fills err for executor x, which no worker fits: names the executor,
 * its type and label, and what was waited for. when is a prefix for the
 * message ("" or "worker W was lost; "). Returns code. */
int cairn__placement_missing(const cairn__run_t *run, size_t x, int code,
                             const char *when, cairn_error_t *err);

/* "from A to B" for an executor_moved event into out: B is the worker's
 * id, or "in-process" for an in-process host. */
void cairn__placement_moved_detail(const cairn__run_t *run, const char *from,
                                   size_t to, char *out, size_t size);

#endif
