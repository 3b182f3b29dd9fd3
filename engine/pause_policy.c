/* pause_policy.c - whether a barrier is checkpointed, or pauses the run.
 *
 * End states, handlers' checkpoint requests and the run's checkpoint
 * policy decide a checkpoint (written by checkpointer.c); a pause request
 * or the pause predicate pauses the run at the barrier.
 *
 * Threading: the coordinator's thread.
 */
#include <stdlib.h>

#include "engine/coordinator_internal.h"

/* What predicate says about this barrier. */
static bool
s_ask_barrier(cairn__run_t *run, size_t ran, cairn_checkpoint_predicate_fn fn,
              void *userdata)
{
    const char **ids = calloc(ran ? ran : 1, sizeof *ids);
    if (!ids)
        return true; /* a checkpoint (or pause) too many beats one missing */
    size_t n = 0;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->done[x])
            ids[n++] = run->wf->executors[x].id;
    cairn_barrier_t barrier = {run->superstep, ids, n,
                               cairn__barrier_pending(run)};
    bool wanted = fn(&barrier, userdata);
    free(ids);
    return wanted;
}

/* Whether the policy wants this barrier stored. */
static bool
s_policy_wants(cairn__run_t *run, size_t ran)
{
    const cairn_checkpoint_policy_t *policy = &run->opts.checkpoint;
    switch (policy->kind) {
    case CAIRN_CHECKPOINT_EVERY:
        return true;
    case CAIRN_CHECKPOINT_EVERY_N:
        return policy->every_n <= 1 || run->superstep % policy->every_n == 0;
    case CAIRN_CHECKPOINT_ON_ERROR:
    case CAIRN_CHECKPOINT_MANUAL:
    case CAIRN_CHECKPOINT_NONE:
        return false;
    case CAIRN_CHECKPOINT_PREDICATE:
        break;
    }
    return policy->predicate
           && s_ask_barrier(run, ran, policy->predicate,
                            policy->predicate_userdata);
}

/* A run that goes on pauses here when asked to, or when the pause
 * predicate says so. */
void
cairn__policy_maybe_pause(cairn__run_t *run, size_t ran)
{
    if (run->status != CAIRN_STATUS_RUNNING)
        return;
    if (cairn__ctl_take(&run->ctl, CAIRN__CONTROL_PAUSE)
        || (run->opts.pause_when
            && s_ask_barrier(run, ran, run->opts.pause_when,
                             run->opts.pause_userdata)))
        run->status = CAIRN_STATUS_PAUSED;
}

/* Collects the tags of checkpoints handlers asked for; returns whether
 * any did. *tags is malloc'd and borrows from the Dones. */
static bool
s_manual_request(const cairn__run_t *run, const char ***tags, size_t *count)
{
    bool requested = false;
    size_t n = 0;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->done[x] && run->done[x]->done->checkpoint) {
            requested = true;
            n += run->done[x]->done->n_checkpoint_tags;
        }
    *tags = n ? calloc(n, sizeof **tags) : NULL;
    *count = 0;
    for (size_t x = 0; *tags && x < run->wf->executor_count; x++) {
        const Cairn__Done *done = run->done[x] ? run->done[x]->done : NULL;
        for (size_t i = 0; done && i < done->n_checkpoint_tags; i++)
            (*tags)[(*count)++] = done->checkpoint_tags[i];
    }
    return requested;
}

/* Stores the barrier if an end state, a handler or the policy asks. */
int
cairn__policy_maybe_checkpoint(cairn__run_t *run, size_t ran,
                               cairn_error_t *err)
{
    const char **tags = NULL;
    size_t tag_count = 0;
    bool manual = s_manual_request(run, &tags, &tag_count);
    const char *trigger = NULL;
    if (run->status == CAIRN_STATUS_COMPLETED)
        trigger = "end";
    else if (run->status == CAIRN_STATUS_WAITING)
        trigger = "waiting";
    else if (run->status == CAIRN_STATUS_FAILED)
        trigger = "max_supersteps";
    else if (run->status == CAIRN_STATUS_PAUSED)
        trigger = "pause";
    else if (manual && run->opts.checkpoint.kind != CAIRN_CHECKPOINT_NONE)
        trigger = "manual";
    else if (s_policy_wants(run, ran))
        trigger = "policy";
    int rc = CAIRN_OK;
    if (trigger) {
        rc = cairn__ckpt_write_barrier(run, trigger, tags, tag_count, err);
        if (rc == CAIRN_OK)
            cairn__run_emit(run, CAIRN_EVENT_CHECKPOINT_WRITTEN, NULL,
                            cairn__ckpt_last_id(run->ckpt), NULL, 0, 0);
    }
    free(tags);
    return rc;
}
