/* barrier.c - applying a superstep, and the mail pools.
 *
 * If any executor failed nothing is applied; otherwise, in executor-id
 * order, state writes, shared writes (a second writer of a key in the
 * same superstep wins and is reported as a conflict), outputs, and the
 * sent messages, routed along the edges into next superstep's mailboxes.
 *
 * Memory: mailboxes borrow messages from the Done envelopes of the
 * previous superstep (and from owned fan-in and input messages), which
 * are kept in a pool until the superstep that consumes them has passed
 * its barrier. Nothing is copied on the way from a Done to a Deliver.
 *
 * Threading: the coordinator's thread.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/coordinator_internal.h"
#include "engine/result_internal.h"

void
cairn__pool_clear(cairn__pool_t *pool)
{
    for (size_t i = 0; i < pool->envelopes.count; i++)
        cairn__envelope__free_unpacked(pool->envelopes.items[i], NULL);
    for (size_t i = 0; i < pool->messages.count; i++)
        cairn__pb_message_free(pool->messages.items[i]);
    pool->envelopes.count = 0;
    pool->messages.count = 0;
}

void
cairn__pool_free(cairn__pool_t *pool)
{
    cairn__pool_clear(pool);
    free(pool->envelopes.items);
    free(pool->messages.items);
}

static int
s_sink_deliver(void *userdata, size_t target, Cairn__Message *msg, bool owned)
{
    cairn__run_t *run = userdata;
    if (owned && cairn__ptrs_push(&run->next_pool.messages, msg) != CAIRN_OK) {
        cairn__pb_message_free(msg);
        return CAIRN_ENOMEM;
    }
    return cairn__ptrs_push(&run->next_inbox[target], msg);
}

static void
s_sink_drop(void *userdata, size_t target, const Cairn__Message *msg)
{
    cairn__run_t *run = userdata;
    char detail[256];
    snprintf(detail, sizeof detail,
             "message of type '%s' from '%s' not accepted by '%s'", msg->type,
             msg->source, run->wf->executors[target].id);
    cairn__run_emit(run, CAIRN_EVENT_MESSAGE_DROPPED,
                    run->wf->executors[target].id, detail, NULL, 0, 1);
}

/* Why executor x failed this superstep (its handler failed, or it used
 * send_to on a target it has no edge to), or NULL when it did not. */
const char *
cairn__barrier_failure_of(const cairn__run_t *run, size_t x)
{
    const Cairn__Done *done = run->done[x] ? run->done[x]->done : NULL;
    if (!done)
        return NULL;
    if (!done->ok)
        return done->error && *done->error ? done->error : "handler failed";
    for (size_t i = 0; i < done->n_sent; i++) {
        const char *why =
            cairn__router_check_target(run->router, x, done->sent[i]);
        if (why)
            return why;
    }
    return NULL;
}

/* The first executor (in id order) that failed, or -1. */
long
cairn__barrier_first_failure(const cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (cairn__barrier_failure_of(run, x))
            return (long)x;
    return -1;
}

/* A superstep failed: report every executor with its own outcome, apply
 * nothing. Executors that succeeded already applied their state at their
 * host, so their copies are no longer current. */
void
cairn__barrier_fail(cairn__run_t *run, long failed)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        const Cairn__Done *done = run->done[x] ? run->done[x]->done : NULL;
        if (!done)
            continue;
        run->host_current[x] = false;
        const char *why = cairn__barrier_failure_of(run, x);
        cairn__run_emit(run,
                        why ? CAIRN_EVENT_EXECUTOR_FAILED
                            : CAIRN_EVENT_EXECUTOR_COMPLETED,
                        run->wf->executors[x].id, why, NULL, 0, done->handled);
    }
    run->status = CAIRN_STATUS_FAILED;
    cairn_error_set(&run->error, CAIRN_EHANDLER,
                    "executor '%s' failed in superstep %llu: %s",
                    run->wf->executors[failed].id,
                    (unsigned long long)run->superstep,
                    cairn__barrier_failure_of(run, (size_t)failed));
}

/* Applies one executor's shared writes, reporting keys another executor
 * already wrote in this superstep. */
static int
s_apply_shared(cairn__run_t *run, size_t x, const Cairn__Done *done,
               zhashx_t *writers)
{
    for (size_t i = 0; i < done->n_shared_writes; i++) {
        const Cairn__StateEntry *entry = done->shared_writes[i];
        if (zhashx_lookup(writers, entry->key)) {
            char detail[320];
            snprintf(detail, sizeof detail,
                     "shared key '%s' written by more than one executor; "
                     "'%s' wins (executor-id order)",
                     entry->key, run->wf->executors[x].id);
            cairn__run_emit(run, CAIRN_EVENT_STATE_CONFLICT,
                            run->wf->executors[x].id, detail, NULL, 0, 0);
        }
        zhashx_update(writers, entry->key, (void *)(uintptr_t)(x + 1));
        if (cairn__kv_apply(run->shared, entry->key, entry->value.data,
                            entry->value.len, entry->deleted)
            != CAIRN_OK)
            return CAIRN_ENOMEM;
        for (size_t h = 0; h < run->engine->host_count; h++)
            if (run->shared_dirty[h]
                && cairn__kv_set(run->shared_dirty[h], entry->key, NULL, 0)
                       != CAIRN_OK)
                return CAIRN_ENOMEM;
    }
    return CAIRN_OK;
}

static void
s_emit_request(cairn__run_t *run, const Cairn__Request *request)
{
    cairn__run_emit(run, CAIRN_EVENT_REQUEST, request->executor, request->id,
                    request->payload.data, request->payload.len, 0);
}

/* Applies state, shared state, outputs and requests of every executor in
 * id order. */
static int
s_apply_effects(cairn__run_t *run)
{
    zhashx_t *writers = zhashx_new();
    if (!writers)
        return CAIRN_ENOMEM;
    int rc = CAIRN_OK;
    for (size_t x = 0; rc == CAIRN_OK && x < run->wf->executor_count; x++) {
        const Cairn__Done *done = run->done[x] ? run->done[x]->done : NULL;
        if (!done)
            continue;
        const char *id = run->wf->executors[x].id;
        if (run->ckpt)
            rc = cairn__ckpt_note_done(run->ckpt, x, done, run->superstep,
                                       cairn_result_output_count(run->result));
        if (rc == CAIRN_OK)
            rc = cairn__kv_apply_entries(run->states[x], done->state_writes,
                                         done->n_state_writes);
        if (rc == CAIRN_OK)
            rc = s_apply_shared(run, x, done, writers);
        for (size_t i = 0; rc == CAIRN_OK && i < done->n_outputs; i++) {
            rc = cairn__result_add_output(run->result, done->outputs[i].data,
                                          done->outputs[i].len);
            cairn__run_emit(run, CAIRN_EVENT_OUTPUT, id, NULL,
                            done->outputs[i].data, done->outputs[i].len, 0);
        }
        if (rc == CAIRN_OK)
            rc = cairn__requests_note_done(run, done, s_emit_request);
    }
    zhashx_destroy(&writers);
    return rc;
}

/* Routes every sent message, then fires fan-ins. */
static int
s_route_all(cairn__run_t *run)
{
    cairn__route_sink_t sink = {s_sink_deliver, s_sink_drop, run};
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        const Cairn__Done *done = run->done[x] ? run->done[x]->done : NULL;
        for (size_t i = 0; done && i < done->n_sent; i++) {
            int rc = cairn__router_route(run->router, x, done->sent[i], &sink);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    return cairn__router_fire_fan_ins(run->router, &sink);
}

/* Makes next superstep's mailboxes current. The Dones stay in
 * run->done until s_release_dones. */
static int
s_advance(cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        cairn__ptrs_t spent = run->inbox[x];
        run->inbox[x] = run->next_inbox[x];
        spent.count = 0;
        run->next_inbox[x] = spent;
    }
    cairn__pool_clear(&run->pool);
    cairn__pool_t spent = run->pool;
    run->pool = run->next_pool;
    run->next_pool = spent;
    return CAIRN_OK;
}

/* Moves this superstep's Dones into the current pool: their messages are
 * the mail of the superstep about to run. */
static void
s_release_dones(cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        if (!run->done[x])
            continue;
        if (cairn__ptrs_push(&run->pool.envelopes, run->done[x]) != CAIRN_OK)
            /* Keep it alive somewhere rather than free what mail
             * borrows: next superstep frees it with run->done. */
            continue;
        run->done[x] = NULL;
    }
}

size_t
cairn__barrier_pending(const cairn__run_t *run)
{
    size_t pending = 0;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        pending += run->inbox[x].count;
    return pending;
}

/* A run that completes with messages in a fan-in buffer never delivers
 * them: say so rather than lose them silently. */
static void
s_report_waiting(void *userdata, size_t target, size_t source, size_t count)
{
    cairn__run_t *run = userdata;
    char detail[256];
    snprintf(detail, sizeof detail,
             "run ended with %zu message(s) from '%s' waiting in the fan-in "
             "into '%s' for its other sources",
             count, run->wf->executors[source].id,
             run->wf->executors[target].id);
    cairn__run_emit(run, CAIRN_EVENT_MESSAGE_DROPPED,
                    run->wf->executors[target].id, detail, NULL, 0, count);
}

/* After a barrier (or on resume): has the run ended? With no mail left it
 * waits for the responses to its requests, or is complete. */
void
cairn__barrier_decide_end(cairn__run_t *run)
{
    size_t pending = cairn__barrier_pending(run);
    if (pending == 0 && run->requests.count > 0) {
        run->status = CAIRN_STATUS_WAITING;
    } else if (pending == 0) {
        run->status = CAIRN_STATUS_COMPLETED;
        cairn__router_foreach_waiting(run->router, s_report_waiting, run);
    } else if (run->superstep >= run->max_supersteps) {
        run->status = CAIRN_STATUS_FAILED;
        run->reason = "max_supersteps";
        cairn_error_set(&run->error, CAIRN_EMAXSTEPS,
                        "maximum of %llu supersteps reached with %zu "
                        "message(s) still pending",
                        (unsigned long long)run->max_supersteps, pending);
    }
}

/* docs/architecture.md, "Memory ownership": next superstep's mailboxes
 * and the pool they borrow from are empty when a barrier starts
 * (s_advance handed the last ones over and cleared the spent pool; only
 * the barrier fills them). Mail found there would borrow from a pool
 * the next s_advance frees. */
static bool
s_next_mail_empty(const cairn__run_t *run)
{
    if (run->next_pool.messages.count || run->next_pool.envelopes.count)
        return false;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->next_inbox[x].count)
            return false;
    return true;
}

#ifndef NDEBUG
/* An executor's Done counts once, and only for work it was sent: a Done
 * is kept only for an executor with mail (dispatch.c refuses the rest,
 * stand-ins are made only for work in flight), and the loop checked that
 * every executor with mail has one before the barrier. */
static bool
s_dones_match_mail(const cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (!run->done[x] != !run->inbox[x].count)
            return false;
    return true;
}
#endif

/* The barrier of a successful superstep. The Dones stay in run->done
 * until the checkpoint decision has read them. */
int
cairn__barrier_commit(cairn__run_t *run, size_t ran, cairn_error_t *err)
{
    assert(s_dones_match_mail(run));
    if (NEVER(!s_next_mail_empty(run)))
        return cairn_error_set(err, CAIRN_ESTATE,
                               "internal error: mail for superstep %llu "
                               "before its barrier",
                               (unsigned long long)run->superstep + 1);
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->done[x])
            cairn__run_emit(run, CAIRN_EVENT_EXECUTOR_COMPLETED,
                            run->wf->executors[x].id, NULL, NULL, 0,
                            run->done[x]->done->handled);
    int rc = s_apply_effects(run);
    if (rc == CAIRN_OK)
        rc = s_route_all(run);
    if (rc == CAIRN_OK)
        rc = s_advance(run);
    if (rc != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM,
                               "out of memory at the barrier of superstep "
                               "%llu",
                               (unsigned long long)run->superstep);
    cairn__run_emit(run, CAIRN_EVENT_SUPERSTEP_COMPLETED, NULL, NULL, NULL, 0,
                    ran);
    cairn__barrier_decide_end(run);
    cairn__policy_maybe_pause(run, ran);
    if (run->ckpt)
        rc = cairn__policy_maybe_checkpoint(run, ran, err);
    s_release_dones(run);
    return rc;
}
