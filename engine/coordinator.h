/* coordinator.h - what the public API asks of the coordinator
 * (coordinator.c): drive one run, or resume one.
 *
 * engine.c calls these; the coordinator never calls back into engine.c
 * (it uses the host table, host_table.h, below both).
 */
#ifndef CAIRN_COORDINATOR_H_INCLUDED
#define CAIRN_COORDINATOR_H_INCLUDED

#include "engine/host_table.h"

/* Drives one run on the caller's thread. Same contract as
 * cairn_engine_run, whose arguments are already checked. */
int
cairn__coordinator_run(cairn_engine_t *engine,
                       const cairn_workflow_t *workflow, const void *input,
                       size_t input_len, const cairn_run_options_t *opts,
                       cairn_result_t **result, cairn_error_t *err);

/* Resumes a run on the caller's thread. Same contract as
 * cairn_engine_resume, whose arguments are already checked. */
int
cairn__coordinator_resume(cairn_engine_t *engine,
                          const cairn_workflow_t *workflow,
                          const char *target, const cairn_run_options_t *opts,
                          cairn_result_t **result, cairn_error_t *err);

#endif
