/* result_internal.h - how the coordinator fills a run result. */
#ifndef CAIRN_RESULT_INTERNAL_H_INCLUDED
#define CAIRN_RESULT_INTERNAL_H_INCLUDED

#include "cairn/engine.h"
#include "cairn.pb-c.h"
#include "base/kv.h"
#include "base/util.h"
#include "graph/workflow_internal.h"

/* A running result for run_id; NULL on out-of-memory. */
cairn_result_t *
cairn__result_new(const char *run_id);

/* Appends an output (copied). 0 or CAIRN_ENOMEM. */
int
cairn__result_add_output(cairn_result_t *self, const void *data, size_t len);

/* Renames the result's run (a resume continues under the stored id).
 * 0 or CAIRN_ENOMEM. */
int
cairn__result_set_run_id(cairn_result_t *self, const char *run_id);

/* Sets the note (see cairn_result_note). */
void
cairn__result_set_note(cairn_result_t *self, const char *fmt, ...)
    CAIRN_PRINTF(2, 3);

/* Records how the run ended. err may be NULL (no error). */
void
cairn__result_end(cairn_result_t *self, cairn_status_t status,
                  uint64_t supersteps, const cairn_error_t *err);

/* Takes over the pending requests (Cairn__Request*; the list is left
 * empty). */
void
cairn__result_take_requests(cairn_result_t *self, cairn__ptrs_t *requests);

/* Takes the final states: states[i] belongs to executor i of wf; the
 * array and the maps are taken over (set to NULL in the caller's array),
 * like shared. 0 or CAIRN_ENOMEM (then nothing is taken). */
int
cairn__result_take_states(cairn_result_t *self, const cairn_workflow_t *wf,
                          cairn__kv_t **states, cairn__kv_t **shared);

#endif
