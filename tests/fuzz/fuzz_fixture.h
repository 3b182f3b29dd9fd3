/* fuzz_fixture.h - the tiny workflow and stored run the fuzz targets and
 * the corpus generator share.
 *
 * Workflow "fuzz": a (count.inc) -> b (text.output), start a, at most 10
 * supersteps. Run "R" on input "41" stops after superstep 1
 * (max_supersteps), so R@1 is its latest checkpoint, with a's state
 * "count", b's mail "42" in flight, and a stored pending Done of b for
 * superstep 2 (as if the coordinator had died before the barrier).
 */
#ifndef CAIRN_FUZZ_FIXTURE_H_INCLUDED
#define CAIRN_FUZZ_FIXTURE_H_INCLUDED

#include <cairn/cairn.h>

#include "storage/store_internal.h"

/* A registry with the built-ins (exec not allowed). Aborts on failure. */
cairn_registry_t *fuzz_registry_new(void);

/* The workflow above. Aborts on failure. */
cairn_workflow_t *fuzz_workflow_new(const cairn_registry_t *registry);

/* Runs "R" into store as described above, pending Done included.
 * Aborts on failure. */
void fuzz_run_r(cairn_engine_t *engine, const cairn_workflow_t *wf,
                cairn_store_t *store);

/* The pending Done fuzz_run_r stores (b, superstep 2); caller frees with
 * cairn__done__free_unpacked. */
Cairn__Done *fuzz_pending_done(void);

#endif
