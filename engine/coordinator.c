/* coordinator.c - the superstep loop of one run.
 *
 * Each superstep: send the mail of every executor to its host (one
 * Deliver per host, dispatch.c), wait for one Done per executor,
 * recovering failed ones as their policies say (recovery.c) and moving
 * executors off lost hosts (worker_loss.c), then apply the barrier
 * (barrier.c), which may checkpoint or pause (pause_policy.c). The
 * coordinator holds the authoritative states; hosts hold copies that are
 * refreshed (restart) whenever they might differ. This file sets a run up,
 * loops over supersteps and ends the run; coordinator_internal.h lists
 * the parts and which calls which.
 *
 * Durability (a store in the run options) is layered on top by
 * checkpointer.c: the loop tells it what each barrier applied and asks
 * it to write checkpoints; nothing here knows how they are stored.
 *
 * Threading: runs entirely on the caller's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/coordinator.h"
#include "engine/coordinator_internal.h"
#include "engine/result_internal.h"

void
cairn__run_emit(cairn__run_t *run, cairn_event_kind_t kind,
                const char *executor, const char *detail, const uint8_t *data,
                size_t len, uint64_t count)
{
    if (!run->opts.on_event && !run->events)
        return;
    cairn_event_t event = {
        .kind = kind,
        .run_id = run->run_id,
        .superstep = run->superstep,
        .executor = executor,
        .detail = detail,
        .data = data,
        .data_len = len,
        .count = count,
        .status = cairn_result_status(run->result),
    };
    cairn__events_emit(run->events, &event);
    if (run->opts.on_event)
        run->opts.on_event(&event, run->opts.event_userdata);
}

static void
s_run_free(cairn__run_t *run)
{
    size_t n = run->wf->executor_count;
    for (size_t i = 0; run->states && i < n; i++)
        cairn__kv_destroy(&run->states[i]);
    free(run->states);
    cairn__kv_destroy(&run->shared);
    for (size_t i = 0; i < n; i++) {
        if (run->inbox)
            free(run->inbox[i].items);
        if (run->next_inbox)
            free(run->next_inbox[i].items);
        if (run->done && run->done[i])
            cairn__envelope__free_unpacked(run->done[i], NULL);
    }
    free(run->inbox);
    free(run->next_inbox);
    free(run->done);
    cairn__pool_free(&run->pool);
    cairn__pool_free(&run->next_pool);
    for (size_t h = 0; run->shared_dirty && h < CAIRN__MAX_HOSTS; h++)
        cairn__kv_destroy(&run->shared_dirty[h]);
    free(run->shared_dirty);
    free(run->shared_reset);
    free(run->host_used);
    free(run->placement);
    free(run->host_current);
    free(run->attempts);
    free(run->deadline_us);
    free(run->timed_out);
    free(run->lost);
    free(run->crashed);
    free(run->silent_on);
    free(run->silent_attempt);
    free(run->sent_seq);
    free(run->moved_from);
    free(run->items);
    free(run->item_ptrs);
    free(run->state_views);
    cairn__router_destroy(&run->router);
    cairn_result_destroy(&run->result);
    cairn__requests_fini(run);
    cairn__dead_letter_fini(run);
    cairn__ckpt_destroy(&run->ckpt);
    cairn__events_destroy(&run->events);
    cairn__ctl_close(&run->ctl);
}

static int
s_run_alloc(cairn__run_t *run)
{
    size_t n = run->wf->executor_count;
    size_t hosts = CAIRN__MAX_HOSTS; /* workers may join mid-run */
    run->states = calloc(n, sizeof *run->states);
    run->inbox = calloc(n, sizeof *run->inbox);
    run->next_inbox = calloc(n, sizeof *run->next_inbox);
    run->done = calloc(n, sizeof *run->done);
    run->placement = calloc(n, sizeof *run->placement);
    run->host_current = calloc(n, sizeof *run->host_current);
    run->attempts = calloc(n, sizeof *run->attempts);
    run->deadline_us = calloc(n, sizeof *run->deadline_us);
    run->timed_out = calloc(n, sizeof *run->timed_out);
    run->lost = calloc(n, sizeof *run->lost);
    run->crashed = calloc(n, sizeof *run->crashed);
    run->silent_on = calloc(n, sizeof *run->silent_on);
    run->silent_attempt = calloc(n, sizeof *run->silent_attempt);
    run->sent_seq = calloc(n, sizeof *run->sent_seq);
    run->moved_from = calloc(n, sizeof *run->moved_from);
    run->items = calloc(n, sizeof *run->items);
    run->item_ptrs = calloc(n, sizeof *run->item_ptrs);
    run->state_views = calloc(n, sizeof *run->state_views);
    run->shared_dirty = calloc(hosts, sizeof *run->shared_dirty);
    run->shared_reset = calloc(hosts, sizeof *run->shared_reset);
    run->host_used = calloc(hosts, sizeof *run->host_used);
    run->shared = cairn__kv_new();
    run->router = cairn__router_new(run->wf);
    run->result = cairn__result_new(run->run_id);
    if (!run->states || !run->inbox || !run->next_inbox || !run->done
        || !run->placement || !run->host_current || !run->attempts
        || !run->deadline_us || !run->timed_out || !run->lost || !run->crashed
        || !run->silent_on || !run->silent_attempt
        || !run->sent_seq || !run->moved_from || !run->items || !run->item_ptrs
        || !run->state_views || !run->shared_dirty || !run->shared_reset
        || !run->host_used || !run->shared || !run->router || !run->result)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        run->states[i] = cairn__kv_new();
        if (!run->states[i])
            return CAIRN_ENOMEM;
    }
    /* A host's shared-state backlog is made when it first gets work. */
    for (size_t h = 0; h < hosts; h++)
        run->shared_reset[h] = true;
    if (!run->opts.store) /* no durability */
        return CAIRN_OK;
    return cairn__ckpt_new(&run->ckpt, run->opts.store, &run->opts.checkpoint,
                           n);
}

static int
s_run_init(cairn__run_t *run, cairn_engine_t *engine,
           const cairn_workflow_t *wf, const cairn_run_options_t *opts,
           cairn_error_t *err)
{
    memset(run, 0, sizeof *run);
    run->engine = engine;
    run->wf = wf;
    run->status = CAIRN_STATUS_RUNNING;
    if (opts)
        run->opts = *opts;
    if (run->opts.run_id && !cairn__valid_id(run->opts.run_id))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "run id '%s' must match [A-Za-z0-9_-]{1,64}",
                               run->opts.run_id);
    if (run->opts.run_id)
        snprintf(run->run_id, sizeof run->run_id, "%s", run->opts.run_id);
    else
        cairn__make_run_id(run->run_id, sizeof run->run_id);
    run->max_message_size = run->opts.max_message_size
                                ? run->opts.max_message_size
                                : CAIRN_DEFAULT_MAX_MESSAGE_SIZE;
    /* Workers' Dones pass the ROUTER's size limit (engine.c). */
    if (cairn__engine_listens(engine)
        && run->max_message_size > engine->max_message_size)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "run max_message_size %zu exceeds the %zu "
                               "bytes of the engine, which listens for "
                               "workers (cairn_engine_options_t."
                               "max_message_size)",
                               run->max_message_size, engine->max_message_size);
    run->max_supersteps = run->opts.max_supersteps ? run->opts.max_supersteps
                                                   : wf->max_supersteps;
    if (s_run_alloc(run) != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    int rc = cairn__events_open(&run->events, &run->opts, err);
    return rc == CAIRN_OK ? cairn__ctl_open(&run->ctl, &run->opts, err) : rc;
}

/* Puts the run input into the start executor's mailbox. */
static int
s_post_input(cairn__run_t *run, const void *input, size_t len,
             cairn_error_t *err)
{
    if (len > run->max_message_size)
        return cairn_error_set(err, CAIRN_ETOOLARGE,
                               "run input of %zu bytes exceeds the maximum "
                               "message size of %zu bytes",
                               len, run->max_message_size);
    Cairn__Message *msg = cairn__pb_message_new(NULL, NULL, NULL, input, len);
    if (!msg || cairn__ptrs_push(&run->pool.messages, msg) != CAIRN_OK) {
        cairn__pb_message_free(msg);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    if (cairn__ptrs_push(&run->inbox[run->wf->start], msg) != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    return CAIRN_OK;
}

static size_t
s_count_work(const cairn__run_t *run)
{
    size_t n = 0;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        n += run->inbox[x].count > 0;
    return n;
}

/* A cancel in the middle of a superstep: nothing of it is applied. Hosts
 * may finish (and apply locally) work already sent, so their copies are
 * no longer current; late Dones are refused as being for a superstep that
 * is not in progress. The run stands at its last barrier. */
static void
s_abandon_superstep(cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->inbox[x].count > 0)
            run->host_current[x] = false;
    run->superstep--;
    cairn__ctl_publish(&run->ctl, run->superstep);
}

/* The first executor with mail and no Done after the collect wait, or
 * -1. Each Done counts once, so when the wait has counted one per
 * executor sent work there is none; a barrier without one would drop the
 * executor's mail. */
static long
s_first_unanswered(const cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->inbox[x].count > 0 && !run->done[x])
            return (long)x;
    return -1;
}

/* Runs supersteps until the run ends. Returns < 0 only when the run could
 * not be driven (transport, memory, storage); how it ended is in
 * run->status. */
static int
s_loop(cairn__run_t *run, cairn_error_t *err)
{
    while (run->status == CAIRN_STATUS_RUNNING) {
        /* The endpoint is served in the collect wait (dispatch.c),
         * polled with the hosts: a poll of its own here would cost every
         * superstep a syscall. */
        if (cairn__ctl_take(&run->ctl, CAIRN__CONTROL_CANCEL)) {
            run->status = CAIRN_STATUS_CANCELLED;
            break;
        }
        run->superstep++;
        cairn__ctl_publish(&run->ctl, run->superstep);
        cairn__run_emit(run, CAIRN_EVENT_SUPERSTEP_STARTED, NULL, NULL, NULL, 0,
                        0);
        size_t ran = s_count_work(run);
        size_t sent = 0;
        int rc = cairn__dispatch(run, &sent, err);
        if (rc == CAIRN_OK)
            rc = cairn__recovery_collect(run, sent, err);
        if (rc != CAIRN_OK)
            return rc;
        if (run->status == CAIRN_STATUS_CANCELLED) {
            s_abandon_superstep(run);
            break;
        }
        long missing = s_first_unanswered(run);
        if (NEVER(missing >= 0))
            return cairn_error_set(err, CAIRN_ESTATE,
                                   "internal error: executor '%s' has no "
                                   "Done at the barrier of superstep %llu",
                                   run->wf->executors[missing].id,
                                   (unsigned long long)run->superstep);
        long failed = cairn__barrier_first_failure(run);
        if (failed >= 0) {
            cairn__barrier_fail(run, failed);
            return run->ckpt ? cairn__ckpt_write_failure(run, err) : CAIRN_OK;
        }
        rc = cairn__barrier_commit(run, ran, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    /* Cancelled: no new checkpoint, the record says so. */
    if (run->status == CAIRN_STATUS_CANCELLED && run->ckpt)
        return cairn__ckpt_write_record(run, err);
    return CAIRN_OK;
}

/* Tells every host that took part to forget the run's executors. */
static void
s_end_run_on_hosts(cairn__run_t *run)
{
    Cairn__Control control = CAIRN__CONTROL__INIT;
    control.kind = CAIRN__CONTROL__KIND__END_RUN;
    control.run_id = run->run_id;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_CONTROL;
    env.control = &control;
    for (size_t h = 0; h < run->engine->host_count; h++)
        if (run->host_used[h])
            cairn__envelope_send(zsock_resolve(run->engine->router),
                                 &run->engine->hosts[h].peer, &env);
}

/* Drives the run to its end and hands over the result. */
static int
s_drive(cairn__run_t *run, cairn_result_t **result, cairn_error_t *err)
{
    int rc = s_loop(run, err);
    s_end_run_on_hosts(run);
    if (rc != CAIRN_OK)
        return rc;
    cairn__result_end(run->result, run->status, run->superstep, &run->error);
    cairn__result_take_requests(run->result, &run->requests);
    cairn__run_emit(run, CAIRN_EVENT_RUN_ENDED, NULL,
                    run->error.code ? run->error.message : NULL, NULL, 0, 0);
    cairn__events_flush(run->events);
    if (cairn__result_take_states(run->result, run->wf, run->states,
                                  &run->shared)
        != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    *result = run->result;
    run->result = NULL;
    return CAIRN_OK;
}

int
cairn__coordinator_run(cairn_engine_t *engine, const cairn_workflow_t *workflow,
                       const void *input, size_t input_len,
                       const cairn_run_options_t *opts, cairn_result_t **result,
                       cairn_error_t *err)
{
    cairn__run_t run;
    int rc = s_run_init(&run, engine, workflow, opts, err);
    /* A taken id is refused before anything happens; the entry write
     * checks again, atomically, for a run started meanwhile. */
    if (rc == CAIRN_OK && run.ckpt)
        rc = cairn__ckpt_check_new_run(run.ckpt, run.run_id, err);
    if (rc == CAIRN_OK)
        rc = cairn__events_start(run.events, run.run_id, true, err);
    if (rc == CAIRN_OK)
        rc = s_post_input(&run, input, input_len, err);
    if (rc == CAIRN_OK)
        rc = cairn__loss_place_all(&run, err);
    if (rc == CAIRN_OK) {
        cairn__run_emit(&run, CAIRN_EVENT_RUN_STARTED, NULL, NULL, NULL, 0, 0);
        cairn__barrier_decide_end(&run);
        if (run.ckpt)
            rc = cairn__ckpt_write_entry(&run, err);
        if (rc == CAIRN_OK && run.ckpt)
            cairn__run_emit(&run, CAIRN_EVENT_CHECKPOINT_WRITTEN, NULL,
                            cairn__ckpt_last_id(run.ckpt), NULL, 0, 0);
    }
    if (rc == CAIRN_OK)
        rc = s_drive(&run, result, err);
    if (run.wf)
        s_run_free(&run);
    return rc;
}

int
cairn__coordinator_resume(cairn_engine_t *engine,
                          const cairn_workflow_t *workflow, const char *target,
                          const cairn_run_options_t *opts,
                          cairn_result_t **result, cairn_error_t *err)
{
    if (!opts || !opts->store)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "resume needs a store in the run options");
    cairn__run_t run;
    bool finished = false;
    int rc = s_run_init(&run, engine, workflow, opts, err);
    if (rc == CAIRN_OK)
        rc = cairn__ckpt_restore(&run, target, &finished, err);
    if (rc == CAIRN_OK) /* a finished run changes nothing */
        rc = cairn__events_start(run.events, run.run_id, !finished, err);
    if (rc == CAIRN_OK && !finished)
        rc = cairn__loss_place_all(&run, err);
    if (rc == CAIRN_OK) {
        cairn__run_emit(&run, CAIRN_EVENT_RUN_STARTED, NULL,
                        cairn_result_note(run.result), NULL, 0, 0);
        if (!finished)
            cairn__barrier_decide_end(&run);
        /* Still waiting, or still over its limit: the record says so
         * again (restoring marked it running). */
        if (!finished && run.status != CAIRN_STATUS_RUNNING)
            rc = cairn__ckpt_write_record(&run, err);
    }
    if (rc == CAIRN_OK)
        rc = s_drive(&run, result, err);
    if (run.wf)
        s_run_free(&run);
    return rc;
}
