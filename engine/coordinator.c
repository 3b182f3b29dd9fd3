/* coordinator.c - the superstep loop of one run.
 *
 * Each superstep: group the mail of every executor by host into one
 * Deliver per host, wait for one Done per executor, then apply the
 * barrier: if any executor failed nothing is applied; otherwise, in
 * executor-id order, state writes, shared writes (a second writer of a
 * key in the same superstep wins and is reported as a conflict), outputs,
 * and the sent messages, routed along the edges into next superstep's
 * mailboxes. The coordinator holds the authoritative states; hosts hold
 * copies that are refreshed (restart) whenever they might differ.
 *
 * Memory: mailboxes borrow messages from the Done envelopes of the
 * previous superstep (and from owned fan-in and input messages), which
 * are kept in a pool until the superstep that consumes them has passed
 * its barrier. Nothing is copied on the way from a Done to a Deliver.
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
#include <time.h>
#include <zmq.h>

#include "cairn/log.h"
#include "engine/peer_check.h"
#include "engine/placement.h"
#include "engine/result_internal.h"
#include "engine/retry.h"
#include "engine/run_internal.h"
#include "engine/util.h"

#define S_POLL_MS 1000
#define S_CONTROL_POLL_MS 50 /* how soon a cancel is seen in a superstep */

/* ---- mail pools ---------------------------------------------------------- */

static void
s_pool_clear(cairn__pool_t *pool)
{
    for (size_t i = 0; i < pool->envelopes.count; i++)
        cairn__envelope__free_unpacked(pool->envelopes.items[i], NULL);
    for (size_t i = 0; i < pool->messages.count; i++)
        cairn__pb_message_free(pool->messages.items[i]);
    pool->envelopes.count = 0;
    pool->messages.count = 0;
}

static void
s_pool_free(cairn__pool_t *pool)
{
    s_pool_clear(pool);
    free(pool->envelopes.items);
    free(pool->messages.items);
}

/* ---- events --------------------------------------------------------------- */

static void
s_emit(cairn__run_t *run, cairn_event_kind_t kind, const char *executor,
       const char *detail, const uint8_t *data, size_t len, uint64_t count)
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

/* ---- setup and teardown ---------------------------------------------------- */

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
    s_pool_free(&run->pool);
    s_pool_free(&run->next_pool);
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
    free(run->sent_seq);
    free(run->moved_from);
    free(run->items);
    free(run->item_ptrs);
    free(run->state_views);
    cairn__router_destroy(&run->router);
    cairn_result_destroy(&run->result);
    cairn__requests_fini(run);
    cairn__dead_letter_fini(run);
    cairn__ckpt_fini(run);
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
        || !run->deadline_us || !run->timed_out || !run->lost
        || !run->crashed || !run->sent_seq || !run->moved_from || !run->items
        || !run->item_ptrs || !run->state_views || !run->shared_dirty
        || !run->shared_reset || !run->host_used || !run->shared
        || !run->router || !run->result)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        run->states[i] = cairn__kv_new();
        if (!run->states[i])
            return CAIRN_ENOMEM;
    }
    /* A host's shared-state backlog is made when it first gets work. */
    for (size_t h = 0; h < hosts; h++)
        run->shared_reset[h] = true;
    return run->store ? cairn__ckpt_init(run) : CAIRN_OK;
}

static int
s_run_init(cairn__run_t *run, cairn_engine_t *engine, const cairn_workflow_t *wf,
           const cairn_run_options_t *opts, cairn_error_t *err)
{
    memset(run, 0, sizeof *run);
    run->engine = engine;
    run->wf = wf;
    run->status = CAIRN_STATUS_RUNNING;
    run->last_checkpoint = CAIRN__NO_CHECKPOINT;
    run->created_ms = cairn__wall_ms();
    if (opts)
        run->opts = *opts;
    run->store = run->opts.store;
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
                               run->max_message_size,
                               engine->max_message_size);
    run->max_supersteps = run->opts.max_supersteps
                              ? run->opts.max_supersteps
                              : wf->max_supersteps;
    if (s_run_alloc(run) != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    int rc = cairn__events_open(&run->events, &run->opts, err);
    return rc == CAIRN_OK ? cairn__ctl_open(&run->ctl, &run->opts, err) : rc;
}

/* Puts the run input into the start executor's mailbox. */
static int
s_post_input(cairn__run_t *run, const void *input, size_t len, cairn_error_t *err)
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

/* ---- dispatch ----------------------------------------------------------- */

/* Shared-state changes a host has not seen: each dirty key with its
 * current value, or as deleted. Borrows keys and values. */
static int
s_shared_updates(cairn__run_t *run, size_t host, cairn__entry_view_t *view)
{
    if (run->shared_reset[host])
        return cairn__entry_view_init(view, run->shared);
    int rc = cairn__entry_view_init(view, run->shared_dirty[host]);
    for (size_t i = 0; rc == CAIRN_OK && i < view->count; i++) {
        Cairn__StateEntry *entry = &view->entries[i];
        const cairn__kv_value_t *value =
            cairn__kv_lookup(run->shared, entry->key);
        entry->deleted = value == NULL;
        entry->value.data = value ? value->data : NULL;
        entry->value.len = value ? value->len : 0;
    }
    return rc;
}

/* Fills the work item of executor x; restarts it at its host when the
 * host's copy may differ from the barrier state. */
static int
s_fill_item(cairn__run_t *run, size_t x)
{
    const cairn__executor_t *exec = &run->wf->executors[x];
    Cairn__WorkItem *item = &run->items[x];
    cairn__work_item__init(item);
    item->executor_id = exec->id;
    item->messages = (Cairn__Message **)run->inbox[x].items;
    item->n_messages = run->inbox[x].count;
    item->attempt = run->attempts[x];
    if (run->host_current[x])
        return CAIRN_OK;
    item->restart = true;
    item->executor_type = exec->type;
    item->config.data = exec->config;
    item->config.len = exec->config_len;
    int rc = cairn__entry_view_init(&run->state_views[x], run->states[x]);
    item->state = run->state_views[x].ptrs;
    item->n_state = run->state_views[x].count;
    return rc;
}

/* Sends host h one Deliver with the work of executors [first, first+n)
 * of item_ptrs. */
static int
s_send_deliver(cairn__run_t *run, size_t host, size_t first, size_t n)
{
    Cairn__Deliver deliver = CAIRN__DELIVER__INIT;
    deliver.run_id = run->run_id;
    deliver.superstep = run->superstep;
    deliver.max_message_size = run->max_message_size;
    deliver.shared_reset = run->shared_reset[host];
    cairn__entry_view_t shared_view;
    int rc = s_shared_updates(run, host, &shared_view);
    if (rc != CAIRN_OK)
        return rc;
    deliver.shared_updates = shared_view.ptrs;
    deliver.n_shared_updates = shared_view.count;
    deliver.items = &run->item_ptrs[first];
    deliver.n_items = n;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_DELIVER;
    env.deliver = &deliver;
    rc = cairn__envelope_send(zsock_resolve(run->engine->router),
                              &run->engine->hosts[host].peer, &env);
    cairn__entry_view_fini(&shared_view);
    if (rc == CAIRN_OK && !run->shared_dirty[host]
        && !(run->shared_dirty[host] = cairn__kv_new()))
        rc = CAIRN_ENOMEM;
    if (rc == CAIRN_OK) {
        cairn__kv_clear(run->shared_dirty[host]);
        run->shared_reset[host] = false;
        run->host_used[host] = true;
    }
    return rc;
}

static int
s_lose_worker(cairn__run_t *run, size_t lost, bool blame, cairn_error_t *err);
static int
s_place_unplaced(cairn__run_t *run, const bool *only, cairn_error_t *err);

/* Sends every host one Deliver with the work of its executors that have
 * mail and no result yet (only those marked in only, when not NULL);
 * *sent is how many Dones to wait for. */
static int
s_send_work(cairn__run_t *run, const bool *only, size_t *sent,
            cairn_error_t *err)
{
    size_t n = run->wf->executor_count;
    size_t filled = 0, rerouted = 0;
    bool unreachable[CAIRN__MAX_HOSTS] = {false};
    int rc = s_place_unplaced(run, only, err);
    if (rc != CAIRN_OK)
        return rc;
    for (size_t h = 0; rc == CAIRN_OK && h < run->engine->host_count; h++) {
        size_t first = filled;
        for (size_t x = 0; rc == CAIRN_OK && x < n; x++) {
            if (run->placement[x] != h || run->inbox[x].count == 0
                || run->done[x] || (only && !only[x]))
                continue;
            rc = s_fill_item(run, x);
            run->item_ptrs[filled++] = &run->items[x];
        }
        if (rc == CAIRN_OK && filled > first)
            rc = s_send_deliver(run, h, first, filled - first);
        /* A worker that died before we noticed (its routing id is gone)
         * or that stopped reading (its queue is full): its work goes
         * elsewhere once this send is done (below). */
        if (rc == CAIRN_ETRANSPORT
            && (zmq_errno() == EHOSTUNREACH || zmq_errno() == EAGAIN)
            && run->engine->hosts[h].remote) {
            unreachable[h] = true;
            rerouted += filled - first;
            filled = first;
            rc = CAIRN_OK;
        }
    }
    uint64_t now = cairn__monotonic_us();
    for (size_t i = 0; rc == CAIRN_OK && i < filled; i++) {
        size_t x = (size_t)(run->item_ptrs[i] - run->items);
        uint32_t timeout_ms = run->wf->executors[x].timeout_ms;
        run->host_current[x] = true;
        run->deadline_us[x] = timeout_ms ? now + timeout_ms * 1000ull : 0;
        run->sent_seq[x] = ++run->send_count;
    }
    for (size_t x = 0; x < n; x++)
        cairn__entry_view_fini(&run->state_views[x]);
    /* Lost now: their executors move and the work is sent again, one
     * Done each, as if it had gone out. */
    *sent = filled + rerouted;
    if (rc == CAIRN_ENOMEM)
        return cairn_error_set(err, rc, "out of memory");
    if (rc != CAIRN_OK)
        return cairn_error_set(err, rc,
                               "could not send superstep %llu to an "
                               "executor host: %s",
                               (unsigned long long)run->superstep,
                               zmq_strerror(zmq_errno()));
    /* (Losing one may already have lost another it tried to move to.) */
    for (size_t h = 0; rc == CAIRN_OK && h < run->engine->host_count; h++)
        if (unreachable[h] && run->engine->hosts[h].alive)
            rc = s_lose_worker(run, h, true, err);
    return rc;
}

/* Announces and sends this superstep's work. */
static int
s_dispatch(cairn__run_t *run, size_t *sent, cairn_error_t *err)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        run->attempts[x] = 1;
        run->timed_out[x] = false;
        run->lost[x] = false;
        run->sent_seq[x] = 0;
    }
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->inbox[x].count > 0)
            s_emit(run, CAIRN_EVENT_EXECUTOR_INVOKED, run->wf->executors[x].id,
                   NULL, NULL, 0, run->inbox[x].count);
    return s_send_work(run, NULL, sent, err);
}

/* ---- collecting Dones ----------------------------------------------------- */

/* Why a Done cannot be accepted, or NULL when it can. */
static const char *
s_check_done(cairn__run_t *run, const cairn__peer_t *peer, const Cairn__Done *done,
             long *exec_out)
{
    if (strcmp(done->run_id, run->run_id) != 0)
        return "Done for another run";
    if (done->superstep != run->superstep)
        return "Done for another superstep";
    long x = cairn__workflow_find(run->wf, done->executor_id);
    if (x < 0)
        return "Done for an unknown executor";
    long h = cairn__engine_find_host(run->engine, peer);
    if (h != (long)run->placement[x])
        return "Done from a host the executor is not placed on";
    if (run->engine->hosts[h].refused)
        return "Done from a worker refused for breaking the protocol";
    if (run->inbox[x].count == 0 || run->done[x])
        return "Done for an executor that has no work outstanding";
    if (done->attempt != run->attempts[x])
        return "Done for an earlier attempt";
    *exec_out = x;
    return NULL;
}

/* A worker said Hello (new, or back after we lost it). */
static void
s_worker_hello(cairn__run_t *run, const cairn__peer_t *peer,
               const Cairn__Hello *hello)
{
    bool joined = false;
    long h = cairn__engine_on_hello(run->engine, peer, hello, &joined);
    if (h >= 0 && joined)
        s_emit(run, CAIRN_EVENT_WORKER_JOINED, NULL,
               run->engine->hosts[h].id, NULL, 0, 0);
    /* A process that took an earlier one's worker id: the earlier one is
     * lost at once (the check comes right after this frame). */
    if (joined)
        run->next_liveness_us = 0;
}

/* Done of executor x, from host h, is one no honest host sends
 * (peer_check.h): nothing of it applies. A worker that sent it is
 * refused: told to stop, lost at the next liveness check (its executors
 * move and their work runs elsewhere) and never taken back under that
 * routing id. An in-process host cannot be refused (and is ours): the
 * executor fails with the reason instead. Returns whether the Done is
 * kept, as that failure. */
static bool
s_refuse_done(cairn__run_t *run, size_t h, Cairn__Done *done, const char *why)
{
    cairn__host_info_t *host = &run->engine->hosts[h];
    run->engine->rejected_frames++;
    cairn_log(CAIRN_LOG_WARN, "coordinator",
              "run %s: host %s broke the protocol: %s", run->run_id, host->id,
              why);
    if (!host->remote) {
        char *error = strdup(why);
        if (error) {
            free(done->error);
            done->error = error;
        }
        done->ok = false;
        done->handled = 0;
        return true;
    }
    char reason[600];
    snprintf(reason, sizeof reason, "protocol violation: %s", why);
    cairn__engine_shutdown_peer(run->engine, &host->peer, reason);
    host->refused = true;
    host->unreachable = true;
    run->next_liveness_us = 0;
    return false;
}

/* Receives one frame; stores it when it is an expected Done. Returns
 * the executor whose Done was accepted, or -1. */
static long
s_receive_one(cairn__run_t *run)
{
    cairn__peer_t peer;
    Cairn__Envelope *env = NULL;
    const char *why = NULL;
    void *router = zsock_resolve(run->engine->router);
    if (cairn__envelope_recv(router, &peer,
                             CAIRN__FRAME_LIMIT(run->max_message_size), &env,
                             &why)
        != CAIRN_OK) {
        if (why == cairn__why_wrong_version)
            cairn__engine_refuse_version(run->engine, &peer);
        run->engine->rejected_frames++;
        cairn_log(CAIRN_LOG_WARN, "coordinator", "rejected frame: %s",
                  why ? why : "receive failed");
        return -1;
    }
    long h = cairn__engine_find_host(run->engine, &peer);
    if (h >= 0)
        run->engine->hosts[h].last_seen_us = cairn__monotonic_us();
    long x = -1;
    if (env->body_case == CAIRN__ENVELOPE__BODY_DONE)
        why = s_check_done(run, &peer, env->done, &x);
    else if (env->body_case == CAIRN__ENVELOPE__BODY_HELLO)
        s_worker_hello(run, &peer, env->hello);
    else if (env->body_case != CAIRN__ENVELOPE__BODY_HEARTBEAT)
        why = "unexpected message while waiting for Done";
    char violation[512];
    if (x >= 0 && !why
        && cairn__done_violation(env->done, run->inbox[x].count,
                                 run->max_message_size, violation,
                                 sizeof violation)
        && !s_refuse_done(run, (size_t)h, env->done, violation))
        x = -1;
    if (x >= 0 && !why) {
        run->done[x] = env;
        return x;
    }
    if (why) {
        run->engine->rejected_frames++;
        cairn_log(CAIRN_LOG_WARN, "coordinator", "run %s: rejected frame: %s",
                  run->run_id, why);
    }
    cairn__envelope__free_unpacked(env, NULL);
    return -1;
}

/* Places executor x (placement.c); false when no host can take it now. */
static bool
s_place(cairn__run_t *run, size_t x, bool local_first)
{
    long h = cairn__placement_pick(run, x, local_first);
    if (h < 0)
        return false;
    run->placement[x] = (size_t)h;
    return true;
}

/* Waits (bounded by the worker wait) until a live worker fits every
 * executor marked in only that needs one (all executors when NULL) and,
 * when starting, min_workers workers are there. Frames keep being read:
 * Hellos register workers; a Done accepted meanwhile (the superstep goes
 * on around a lost worker) is counted in run->accepted_aside for
 * s_collect. */
static void
s_await_workers(cairn__run_t *run, const bool *only, bool starting)
{
    cairn_engine_t *engine = run->engine;
    void *router = zsock_resolve(engine->router);
    uint64_t deadline = cairn__monotonic_us() + engine->worker_wait_us;
    for (;;) {
        size_t workers = 0;
        for (size_t h = engine->local_count; h < engine->host_count; h++)
            workers += engine->hosts[h].alive && !engine->hosts[h].unreachable;
        bool enough = !starting || workers >= engine->min_workers;
        /* A worker that fits can only come through a listen endpoint. */
        bool unmet = cairn__engine_listens(engine)
                     && cairn__placement_unmet(run, only) >= 0;
        if ((enough && !unmet) || cairn__monotonic_us() >= deadline)
            break;
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 20) > 0) {
            long x = s_receive_one(run);
            if (x >= 0 && !starting) {
                run->accepted_aside++;
                if (run->store) /* never the last: moved work is owed */
                    cairn__ckpt_save_pending(run, run->done[x]->done);
            }
        }
        cairn__ctl_serve(&run->ctl, run->run_id);
        /* Workers that joined wait with us: keep them from thinking we
         * are gone. */
        uint64_t now = cairn__monotonic_us();
        if (now >= run->next_heartbeat_us) {
            cairn__engine_heartbeat(engine);
            run->next_heartbeat_us = now + engine->heartbeat_us;
        }
    }
}

/* Before a run starts: waits (bounded) for the workers it asked for and
 * for workers that fit the executors only workers can run, then places
 * every executor. Nothing is written when one cannot be placed. */
static int
s_place_all(cairn__run_t *run, cairn_error_t *err)
{
    s_await_workers(run, NULL, true);
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (!s_place(run, x, false))
            return cairn__placement_missing(run, x,
                                            cairn__engine_listens(run->engine)
                                                ? CAIRN_ENOTFOUND
                                                : CAIRN_EVALIDATION,
                                            "", err);
    run->accepted_aside = 0;
    return CAIRN_OK;
}

/* Emits executor_moved for x, which left host `from` (its id). */
static void
s_report_move(cairn__run_t *run, size_t x, const char *from)
{
    char detail[160];
    cairn__placement_moved_detail(run, from, run->placement[x], detail,
                                  sizeof detail);
    s_emit(run, CAIRN_EVENT_EXECUTOR_MOVED, run->wf->executors[x].id, detail,
           NULL, 0, 0);
}

/* Whether x, whose attempt the loss of its worker failed, gets another. */
static bool
s_runs_again(const cairn__run_t *run, size_t x)
{
    return cairn__retry_allows_loss(&run->wf->executors[x].retry,
                                    run->attempts[x]);
}

/* The start of the error when executor x, moved off lost host `host`,
 * finds no worker: why it needed one. */
static void
s_lost_when(const cairn__run_t *run, size_t x, const char *host, char *out,
            size_t size)
{
    if (cairn__placement_held_off_local(run, x))
        snprintf(out, size,
                 "worker %s was lost while it ran executor '%s', which is "
                 "not moved in-process (--on-worker-loss in-process allows "
                 "that); ",
                 host, run->wf->executors[x].id);
    else
        snprintf(out, size, "host %s was lost; ", host);
}

/* Host `from` is gone (a lost worker) or was replaced (a stuck
 * in-process host): its executors are placed again (an executor only a
 * worker can run waits, bounded, for one that fits), with their barrier
 * state, each move is reported (executor_moved), and the work it still
 * owed this superstep is sent again. An executor whose last attempt the
 * loss just failed (dead-lettered or failing the run) and that no host
 * can take now stays unplaced until it has work again
 * (s_place_unplaced). */
static int
s_move_off_host(cairn__run_t *run, size_t from, const char *host_id,
                cairn_error_t *err)
{
    size_t n = run->wf->executor_count;
    bool *moving = calloc(n, sizeof *moving);
    bool *owed = calloc(n, sizeof *owed);
    bool *waiting = calloc(n, sizeof *waiting);
    if (!moving || !owed || !waiting) {
        free(moving), free(owed), free(waiting);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    bool local_first = run->engine->hosts[from].remote
                       && run->engine->on_worker_loss
                              == CAIRN_WORKER_LOSS_IN_PROCESS;
    bool any_waiting = false;
    for (size_t x = 0; x < n; x++) {
        if (run->placement[x] != from)
            continue;
        moving[x] = true;
        run->host_current[x] = false;
        owed[x] = run->inbox[x].count > 0 && !run->done[x];
        if (!s_place(run, x, local_first)) {
            /* No Done is accepted for it until it has a host. */
            run->placement[x] = CAIRN__UNPLACED;
            run->moved_from[x] = from;
            bool later = run->lost[x] && !s_runs_again(run, x);
            moving[x] = waiting[x] = !later;
            any_waiting |= waiting[x];
        }
    }
    if (any_waiting)
        s_await_workers(run, waiting, false);
    char when[256];
    int rc = CAIRN_OK;
    for (size_t x = 0; rc == CAIRN_OK && x < n; x++) {
        if (!waiting[x] || s_place(run, x, false))
            continue;
        s_lost_when(run, x, host_id, when, sizeof when);
        rc = cairn__placement_missing(run, x, CAIRN_ETRANSPORT, when, err);
    }
    for (size_t x = 0; rc == CAIRN_OK && x < n; x++)
        if (moving[x])
            s_report_move(run, x, host_id);
    size_t sent = 0;
    if (rc == CAIRN_OK)
        rc = s_send_work(run, owed, &sent, err);
    free(moving), free(owed), free(waiting);
    return rc;
}

/* Whether executor x has work to send (marked in only, unless NULL). */
static bool
s_has_work(const cairn__run_t *run, size_t x, const bool *only)
{
    return run->inbox[x].count > 0 && !run->done[x] && (!only || only[x]);
}

/* Places x, which has no host since a loss; reports the move. */
static bool
s_place_moved(cairn__run_t *run, size_t x)
{
    if (!s_place(run, x, false))
        return false;
    s_report_move(run, x, run->engine->hosts[run->moved_from[x]].id);
    return true;
}

/* Before work is sent: executors left without a host by a loss (see
 * s_move_off_host) that have work now get one, waiting (bounded) for a
 * worker that fits; the run stops when none comes. */
static int
s_place_unplaced(cairn__run_t *run, const bool *only, cairn_error_t *err)
{
    size_t n = run->wf->executor_count;
    bool *waiting = NULL;
    for (size_t x = 0; x < n; x++) {
        if (run->placement[x] != CAIRN__UNPLACED || !s_has_work(run, x, only)
            || s_place_moved(run, x))
            continue;
        if (!waiting && !(waiting = calloc(n, sizeof *waiting)))
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        waiting[x] = true;
    }
    if (!waiting)
        return CAIRN_OK;
    s_await_workers(run, waiting, false);
    int rc = CAIRN_OK;
    for (size_t x = 0; rc == CAIRN_OK && x < n; x++) {
        if (!waiting[x] || s_place_moved(run, x))
            continue;
        char when[256];
        s_lost_when(run, x, run->engine->hosts[run->moved_from[x]].id, when,
                    sizeof when);
        rc = cairn__placement_missing(run, x, CAIRN_ETRANSPORT, when, err);
    }
    free(waiting);
    return rc;
}

/* Records that executor x's attempt failed without its own Done (why:
 * malloc'd, taken): a failed Done stands in for the one that did not
 * come. */
static int
s_stand_in(cairn__run_t *run, size_t x, char *why)
{
    Cairn__Envelope *env = malloc(sizeof *env);
    Cairn__Done *done = malloc(sizeof *done);
    char *run_id = strdup(run->run_id);
    char *executor_id = strdup(run->wf->executors[x].id);
    if (!env || !done || !why || !run_id || !executor_id) {
        free(env), free(done), free(why), free(run_id), free(executor_id);
        return CAIRN_ENOMEM;
    }
    cairn__envelope__init(env);
    cairn__done__init(done);
    done->run_id = run_id;
    done->executor_id = executor_id;
    done->superstep = run->superstep;
    done->attempt = run->attempts[x];
    done->error = why;
    env->body_case = CAIRN__ENVELOPE__BODY_DONE;
    env->done = done;
    run->done[x] = env;
    return CAIRN_OK;
}

/* The executor whose work host h was running: of those placed there
 * whose work went out and has no Done, the one sent first (a host runs
 * its items in order), or -1. */
static long
s_running_on(const cairn__run_t *run, size_t h)
{
    long running = -1;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->placement[x] == h && run->sent_seq[x] && !run->done[x]
            && run->inbox[x].count > 0
            && (running < 0 || run->sent_seq[x] < run->sent_seq[running]))
            running = (long)x;
    return running;
}

/* A lost worker was running executor x's work: that attempt failed
 * (retried or not as the loss rule says, see s_recovery_of), and x runs
 * only on workers from now on (placement.c). */
static int
s_blame_loss(cairn__run_t *run, size_t x, const char *host_id)
{
    char *why = cairn__strprintf("worker %s was lost while running it "
                                 "(attempt %u)",
                                 host_id, (unsigned)run->attempts[x]);
    if (s_stand_in(run, x, why) != CAIRN_OK)
        return CAIRN_ENOMEM;
    run->lost[x] = true;
    run->crashed[x] = true;
    run->deadline_us[x] = 0;
    run->accepted_aside++; /* s_collect counts it */
    cairn_log(CAIRN_LOG_WARN, "coordinator", "run %s: executor '%s': %s",
              run->run_id, run->wf->executors[x].id, why);
    return CAIRN_OK;
}

/* A worker went silent or its connection is gone: it is lost. With
 * blame, the executor it was running loses that attempt (its handler may
 * be what killed the worker); the others' unfinished work is simply sent
 * again. Its executors move to other hosts; a late Done from it is
 * refused (placement changed). */
static int
s_lose_worker(cairn__run_t *run, size_t lost, bool blame, cairn_error_t *err)
{
    cairn__host_info_t *host = &run->engine->hosts[lost];
    host->alive = false;
    s_emit(run, CAIRN_EVENT_WORKER_LOST, NULL, host->id, NULL, 0, 0);
    cairn_log(CAIRN_LOG_WARN, "coordinator",
              "run %s: worker %s lost in superstep %llu", run->run_id,
              host->id, (unsigned long long)run->superstep);
    long running = blame ? s_running_on(run, lost) : -1;
    if (running >= 0 && s_blame_loss(run, (size_t)running, host->id)
                            != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    return s_move_off_host(run, lost, host->id, err);
}

/* Records that executor x's attempt ran past its timeout. */
static int
s_time_out(cairn__run_t *run, size_t x)
{
    char *why = cairn__strprintf("timed out after %u ms (attempt %u)",
                                 (unsigned)run->wf->executors[x].timeout_ms,
                                 (unsigned)run->attempts[x]);
    if (s_stand_in(run, x, why) != CAIRN_OK)
        return CAIRN_ENOMEM;
    run->timed_out[x] = true;
    return CAIRN_OK;
}

/* The host of a timed-out attempt cannot be interrupted: an in-process
 * host thread is replaced by a fresh one, a worker is told to stop and
 * treated as lost (its other executors are not to blame). Either way its
 * other executors move on. */
static int
s_abandon_host(cairn__run_t *run, size_t h, cairn_error_t *err)
{
    cairn_engine_t *engine = run->engine;
    cairn__host_info_t *host = &engine->hosts[h];
    if (host->remote) {
        cairn__engine_shutdown_peer(engine, &host->peer,
                                    "a handler ran past its timeout");
        return s_lose_worker(run, h, false, err);
    }
    char old_id[sizeof host->id];
    snprintf(old_id, sizeof old_id, "%s", host->id);
    if (cairn__engine_replace_host(engine, h) != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "could not replace executor host %s, stuck "
                               "in a handler",
                               old_id);
    run->shared_reset[h] = true;
    return s_move_off_host(run, h, old_id, err);
}

/* Times out every attempt past its deadline; *received counts them. */
static int
s_check_timeouts(cairn__run_t *run, size_t *received, cairn_error_t *err)
{
    uint64_t now = cairn__monotonic_us();
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        if (!run->deadline_us[x] || now < run->deadline_us[x]
            || run->done[x] || run->inbox[x].count == 0)
            continue;
        run->deadline_us[x] = 0;
        if (s_time_out(run, x) != CAIRN_OK)
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        ++*received;
        cairn_log(CAIRN_LOG_WARN, "coordinator",
                  "run %s: executor '%s' %s", run->run_id,
                  run->wf->executors[x].id, run->done[x]->done->error);
        int rc = s_abandon_host(run, run->placement[x], err);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* How long the collect loop may block: its usual tick, or less when an
 * attempt's deadline comes first. */
static long
s_poll_ms(const cairn__run_t *run, long tick_ms)
{
    uint64_t now = cairn__monotonic_us();
    long wait = tick_ms;
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        if (!run->deadline_us[x] || run->done[x])
            continue;
        long left = run->deadline_us[x] > now
                        ? (long)((run->deadline_us[x] - now) / 1000u) + 1
                        : 0;
        if (left < wait)
            wait = left;
    }
    return wait;
}

/* Workers whose connection is gone, or silent for three heartbeat
 * intervals, are lost. */
static int
s_check_workers(cairn__run_t *run, cairn_error_t *err)
{
    cairn_engine_t *engine = run->engine;
    for (size_t h = engine->local_count; h < engine->host_count; h++) {
        /* Read the clock per worker: losing one may wait for another to
         * join (placement), which is then seen after an earlier now. */
        uint64_t now = cairn__monotonic_us();
        if (engine->hosts[h].alive
            && (engine->hosts[h].unreachable
                || now - engine->hosts[h].last_seen_us
                       > 3 * engine->heartbeat_us)) {
            int rc = s_lose_worker(run, h, true, err);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    return CAIRN_OK;
}

/* Counts an accepted Done; all but the last of a superstep are stored
 * early (the last is followed at once by the barrier's checkpoint). */
static void
s_accept(cairn__run_t *run, long x, size_t *received, size_t expected)
{
    if (x < 0)
        return;
    if (++*received < expected && run->store)
        cairn__ckpt_save_pending(run, run->done[x]->done);
}

/* Heartbeats out and liveness checks, on their own clocks. The check
 * first reads every frame already waiting, so heartbeats a busy
 * coordinator has not read yet count. */
static int
s_tend_workers(cairn__run_t *run, size_t *received, size_t expected,
               cairn_error_t *err)
{
    cairn_engine_t *engine = run->engine;
    uint64_t now = cairn__monotonic_us();
    if (now >= run->next_heartbeat_us) {
        cairn__engine_heartbeat(engine);
        run->next_heartbeat_us = now + engine->heartbeat_us;
    }
    if (now < run->next_liveness_us)
        return CAIRN_OK;
    run->next_liveness_us = now + engine->heartbeat_us / 4;
    zmq_pollitem_t item = {zsock_resolve(engine->router), 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&item, 1, 0) > 0)
        s_accept(run, s_receive_one(run), received, expected);
    return s_check_workers(run, err);
}

/* Waits until every executor with work has answered, keeping workers'
 * heartbeats going both ways. */
static int
s_collect(cairn__run_t *run, size_t expected, cairn_error_t *err)
{
    cairn_engine_t *engine = run->engine;
    void *router = zsock_resolve(engine->router);
    bool workers = engine->host_count > engine->local_count;
    long tick_ms =
        workers ? (long)(engine->heartbeat_us / 4000u) + 1 : S_POLL_MS;
    bool control = cairn__ctl_pollable(&run->ctl) != NULL;
    if ((run->opts.control || control) && tick_ms > S_CONTROL_POLL_MS)
        tick_ms = S_CONTROL_POLL_MS;
    zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
    size_t received = 0;
    while (received < expected) {
        int ready = zmq_poll(&item, 1, s_poll_ms(run, tick_ms));
        if (ready < 0 && zmq_errno() != EINTR)
            return cairn_error_set(err, CAIRN_ETRANSPORT,
                                   "polling executor hosts failed: %s",
                                   zmq_strerror(zmq_errno()));
        if (ready > 0 && (item.revents & ZMQ_POLLIN))
            s_accept(run, s_receive_one(run), &received, expected);
        /* The control endpoint on its own clock, not in every poll: a
         * second socket in the poll cost ~0.5-0.8 us a superstep, and
         * requests may wait S_CONTROL_POLL_MS. */
        uint64_t now = control ? cairn__monotonic_us() : 0;
        if (control && now >= run->next_control_us) {
            cairn__ctl_serve(&run->ctl, run->run_id);
            run->next_control_us = now + S_CONTROL_POLL_MS * 1000u;
        }
        if (cairn__ctl_take(&run->ctl, CAIRN__CONTROL_CANCEL)) {
            run->status = CAIRN_STATUS_CANCELLED;
            return CAIRN_OK;
        }
        int rc = s_check_timeouts(run, &received, err);
        if (rc == CAIRN_OK && engine->host_count > engine->local_count)
            rc = s_tend_workers(run, &received, expected, err);
        if (rc != CAIRN_OK)
            return rc;
        /* Accepted while waiting for a worker to move executors to. */
        received += run->accepted_aside;
        run->accepted_aside = 0;
    }
    return CAIRN_OK;
}

/* ---- barrier ------------------------------------------------------------ */

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
             "message of type '%s' from '%s' not accepted by '%s'",
             msg->type, msg->source, run->wf->executors[target].id);
    s_emit(run, CAIRN_EVENT_MESSAGE_DROPPED, run->wf->executors[target].id,
           detail, NULL, 0, 1);
}

/* Why executor x failed this superstep (its handler failed, or it used
 * send_to on a target it has no edge to), or NULL when it did not. */
static const char *
s_failure_of(const cairn__run_t *run, size_t x)
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
static long
s_first_failure(const cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (s_failure_of(run, x))
            return (long)x;
    return -1;
}

/* A superstep failed: report every executor with its own outcome, apply
 * nothing. Executors that succeeded already applied their state at their
 * host, so their copies are no longer current. */
static void
s_fail_superstep(cairn__run_t *run, long failed)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        const Cairn__Done *done = run->done[x] ? run->done[x]->done : NULL;
        if (!done)
            continue;
        run->host_current[x] = false;
        const char *why = s_failure_of(run, x);
        s_emit(run,
               why ? CAIRN_EVENT_EXECUTOR_FAILED
                   : CAIRN_EVENT_EXECUTOR_COMPLETED,
               run->wf->executors[x].id, why, NULL, 0, done->handled);
    }
    run->status = CAIRN_STATUS_FAILED;
    cairn_error_set(&run->error, CAIRN_EHANDLER,
                    "executor '%s' failed in superstep %llu: %s",
                    run->wf->executors[failed].id,
                    (unsigned long long)run->superstep,
                    s_failure_of(run, (size_t)failed));
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
            s_emit(run, CAIRN_EVENT_STATE_CONFLICT, run->wf->executors[x].id,
                   detail, NULL, 0, 0);
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
    s_emit(run, CAIRN_EVENT_REQUEST, request->executor, request->id,
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
        if (run->store)
            rc = cairn__ckpt_note_done(run, x, done,
                                       cairn_result_output_count(run->result));
        if (rc == CAIRN_OK)
            rc = cairn__kv_apply_entries(run->states[x], done->state_writes,
                                         done->n_state_writes);
        if (rc == CAIRN_OK)
            rc = s_apply_shared(run, x, done, writers);
        for (size_t i = 0; rc == CAIRN_OK && i < done->n_outputs; i++) {
            rc = cairn__result_add_output(run->result, done->outputs[i].data,
                                          done->outputs[i].len);
            s_emit(run, CAIRN_EVENT_OUTPUT, id, NULL, done->outputs[i].data,
                   done->outputs[i].len, 0);
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
    s_pool_clear(&run->pool);
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

static size_t
s_pending_messages(const cairn__run_t *run)
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
    s_emit(run, CAIRN_EVENT_MESSAGE_DROPPED, run->wf->executors[target].id,
           detail, NULL, 0, count);
}

/* After a barrier (or on resume): has the run ended? With no mail left it
 * waits for the responses to its requests, or is complete. */
static void
s_decide_end(cairn__run_t *run)
{
    size_t pending = s_pending_messages(run);
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
                               s_pending_messages(run)};
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
    return policy->predicate && s_ask_barrier(run, ran, policy->predicate,
                                              policy->predicate_userdata);
}

/* A run that goes on pauses here when asked to, or when the pause
 * predicate says so. */
static void
s_maybe_pause(cairn__run_t *run, size_t ran)
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
static int
s_maybe_checkpoint(cairn__run_t *run, size_t ran, cairn_error_t *err)
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
            s_emit(run, CAIRN_EVENT_CHECKPOINT_WRITTEN, NULL,
                   run->last_checkpoint_id, NULL, 0, 0);
    }
    free(tags);
    return rc;
}

/* The barrier of a successful superstep. The Dones stay in run->done
 * until the checkpoint decision has read them. */
static int
s_commit(cairn__run_t *run, size_t ran, cairn_error_t *err)
{
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->done[x])
            s_emit(run, CAIRN_EVENT_EXECUTOR_COMPLETED,
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
    s_emit(run, CAIRN_EVENT_SUPERSTEP_COMPLETED, NULL, NULL, NULL, 0, ran);
    s_decide_end(run);
    s_maybe_pause(run, ran);
    if (run->store)
        rc = s_maybe_checkpoint(run, ran, err);
    s_release_dones(run);
    return rc;
}

static size_t
s_count_work(const cairn__run_t *run)
{
    size_t n = 0;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        n += run->inbox[x].count > 0;
    return n;
}

/* ---- retries and dead letters ---------------------------------------------- */

/* What becomes of executor x, failed this superstep. */
typedef enum { S_FAIL, S_RETRY, S_DEAD_LETTER } s_recovery_t;

static s_recovery_t
s_recovery_of(const cairn__run_t *run, size_t x)
{
    const cairn__executor_t *exec = &run->wf->executors[x];
    /* A bad send_to would fail again: only handler failures recover. */
    if (run->done[x]->done->ok)
        return S_FAIL;
    uint32_t kind =
        run->timed_out[x] ? CAIRN_RETRY_ON_TIMEOUT : CAIRN_RETRY_ON_ERROR;
    if (run->lost[x] ? s_runs_again(run, x)
                     : cairn__retry_allows(&exec->retry, run->attempts[x],
                                           kind))
        return S_RETRY;
    return exec->on_failure == CAIRN_ON_FAILURE_DEAD_LETTER ? S_DEAD_LETTER
                                                            : S_FAIL;
}

/* Waits until `until` (monotonic µs), refusing late frames and keeping
 * workers' heartbeats going. */
static int
s_wait_until(cairn__run_t *run, uint64_t until, cairn_error_t *err)
{
    void *router = zsock_resolve(run->engine->router);
    size_t none = 0;
    for (uint64_t now; (now = cairn__monotonic_us()) < until;) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        long wait_ms = (long)((until - now) / 1000u) + 1;
        if (zmq_poll(&item, 1, wait_ms < 50 ? wait_ms : 50) > 0)
            s_receive_one(run);
        if (run->engine->host_count > run->engine->local_count) {
            int rc = s_tend_workers(run, &none, 0, err);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    /* Between attempts no Done is counted: one that came now is of work
     * the next send skips. */
    run->accepted_aside = 0;
    return CAIRN_OK;
}

/* Prepares the next attempt of executor x; returns its backoff (ms). */
static uint64_t
s_prepare_retry(cairn__run_t *run, size_t x, const char *why)
{
    uint64_t delay =
        cairn__retry_delay_ms(&run->wf->executors[x].retry, run->attempts[x]);
    char detail[600];
    snprintf(detail, sizeof detail, "attempt %u failed: %s",
             (unsigned)run->attempts[x], why);
    s_emit(run, CAIRN_EVENT_EXECUTOR_RETRY, run->wf->executors[x].id, detail,
           NULL, 0, run->attempts[x] + 1);
    run->attempts[x]++;
    return delay;
}

/* Sets aside the message executor x failed on (all its messages when it
 * handled none, timed out or lost its worker: which one is unknown); it
 * runs again, as a first attempt, on the rest. */
static int
s_prepare_dead_letter(cairn__run_t *run, size_t x, const char *why)
{
    size_t count = run->inbox[x].count;
    uint32_t handled = run->timed_out[x] || run->lost[x]
                           ? 0
                           : run->done[x]->done->handled;
    bool known = handled > 0 && handled <= count;
    size_t first = known ? handled - 1 : 0, last = known ? handled : count;
    int rc = CAIRN_OK;
    for (size_t m = last; rc == CAIRN_OK && m-- > first;) {
        const Cairn__Message *msg = run->inbox[x].items[m];
        s_emit(run, CAIRN_EVENT_DEAD_LETTER, run->wf->executors[x].id, why,
               msg->payload.data, msg->payload.len, 0);
        rc = cairn__dead_letter_take(run, x, m, why);
    }
    run->attempts[x] = 1;
    return rc;
}

/* Recovers every failed executor as its policy says: retried after the
 * longest backoff, or run again without the message it failed on; an
 * executor left without mail simply did not run. Their failed Dones are
 * dropped: nothing of them applies. *recovered is false (and nothing
 * changes) when one of them must fail the superstep. */
static int
s_recover_failures(cairn__run_t *run, size_t *sent, bool *recovered,
                   cairn_error_t *err)
{
    size_t n = run->wf->executor_count;
    *recovered = false;
    for (size_t x = 0; x < n; x++)
        if (s_failure_of(run, x) && s_recovery_of(run, x) == S_FAIL)
            return CAIRN_OK;
    bool *again = calloc(n, sizeof *again);
    if (!again)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    uint64_t delay_ms = 0;
    int rc = CAIRN_OK;
    for (size_t x = 0; rc == CAIRN_OK && x < n; x++) {
        const char *why = s_failure_of(run, x);
        if (!why)
            continue;
        if (s_recovery_of(run, x) == S_RETRY) {
            uint64_t delay = s_prepare_retry(run, x, why);
            delay_ms = delay > delay_ms ? delay : delay_ms;
        } else {
            rc = s_prepare_dead_letter(run, x, why);
        }
        cairn__envelope__free_unpacked(run->done[x], NULL);
        run->done[x] = NULL;
        run->timed_out[x] = false;
        run->lost[x] = false;
        run->sent_seq[x] = 0; /* not in flight until sent again */
        run->host_current[x] = false; /* restart from the barrier state */
        again[x] = run->inbox[x].count > 0;
    }
    if (rc != CAIRN_OK)
        rc = cairn_error_set(err, rc, "out of memory");
    if (rc == CAIRN_OK)
        rc = s_wait_until(run, cairn__monotonic_us() + delay_ms * 1000u, err);
    if (rc == CAIRN_OK)
        rc = s_send_work(run, again, sent, err);
    free(again);
    *recovered = rc == CAIRN_OK;
    return rc;
}

/* Collects the superstep's Dones, recovering failed executors while
 * their policies allow. */
static int
s_collect_with_retries(cairn__run_t *run, size_t sent, cairn_error_t *err)
{
    int rc = s_collect(run, sent, err);
    bool recovered = true;
    while (rc == CAIRN_OK && recovered && run->status == CAIRN_STATUS_RUNNING
           && s_first_failure(run) >= 0) {
        rc = s_recover_failures(run, &sent, &recovered, err);
        if (rc == CAIRN_OK && recovered)
            rc = s_collect(run, sent, err);
    }
    return rc;
}

/* ---- the loop ------------------------------------------------------------- */

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

/* Runs supersteps until the run ends. Returns < 0 only when the run could
 * not be driven (transport, memory, storage); how it ended is in
 * run->status. */
static int
s_loop(cairn__run_t *run, cairn_error_t *err)
{
    while (run->status == CAIRN_STATUS_RUNNING) {
        /* The endpoint is served in s_collect, polled with the hosts: a
         * poll of its own here would cost every superstep a syscall. */
        if (cairn__ctl_take(&run->ctl, CAIRN__CONTROL_CANCEL)) {
            run->status = CAIRN_STATUS_CANCELLED;
            break;
        }
        run->superstep++;
        cairn__ctl_publish(&run->ctl, run->superstep);
        s_emit(run, CAIRN_EVENT_SUPERSTEP_STARTED, NULL, NULL, NULL, 0, 0);
        size_t ran = s_count_work(run);
        size_t sent = 0;
        int rc = s_dispatch(run, &sent, err);
        if (rc == CAIRN_OK)
            rc = s_collect_with_retries(run, sent, err);
        if (rc != CAIRN_OK)
            return rc;
        if (run->status == CAIRN_STATUS_CANCELLED) {
            s_abandon_superstep(run);
            break;
        }
        long failed = s_first_failure(run);
        if (failed >= 0) {
            s_fail_superstep(run, failed);
            return run->store ? cairn__ckpt_write_failure(run, err)
                              : CAIRN_OK;
        }
        rc = s_commit(run, ran, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    /* Cancelled: no new checkpoint, the record says so. */
    if (run->status == CAIRN_STATUS_CANCELLED && run->store)
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
    s_emit(run, CAIRN_EVENT_RUN_ENDED, NULL,
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
cairn__coordinator_run(cairn_engine_t *engine,
                       const cairn_workflow_t *workflow, const void *input,
                       size_t input_len, const cairn_run_options_t *opts,
                       cairn_result_t **result, cairn_error_t *err)
{
    cairn__run_t run;
    int rc = s_run_init(&run, engine, workflow, opts, err);
    /* A taken id is refused before anything happens; the entry write
     * checks again, atomically, for a run started meanwhile. */
    if (rc == CAIRN_OK && run.store)
        rc = cairn__store_check_new_run(run.store, run.run_id, err);
    if (rc == CAIRN_OK)
        rc = cairn__events_start(run.events, run.run_id, true, err);
    if (rc == CAIRN_OK)
        rc = s_post_input(&run, input, input_len, err);
    if (rc == CAIRN_OK)
        rc = s_place_all(&run, err);
    if (rc == CAIRN_OK) {
        s_emit(&run, CAIRN_EVENT_RUN_STARTED, NULL, NULL, NULL, 0, 0);
        s_decide_end(&run);
        if (run.store)
            rc = cairn__ckpt_write_entry(&run, err);
        if (rc == CAIRN_OK && run.store)
            s_emit(&run, CAIRN_EVENT_CHECKPOINT_WRITTEN, NULL,
                   run.last_checkpoint_id, NULL, 0, 0);
    }
    if (rc == CAIRN_OK)
        rc = s_drive(&run, result, err);
    if (run.wf)
        s_run_free(&run);
    return rc;
}

int
cairn__coordinator_resume(cairn_engine_t *engine,
                          const cairn_workflow_t *workflow,
                          const char *target, const cairn_run_options_t *opts,
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
        rc = s_place_all(&run, err);
    if (rc == CAIRN_OK) {
        s_emit(&run, CAIRN_EVENT_RUN_STARTED, NULL,
               cairn_result_note(run.result), NULL, 0, 0);
        if (!finished)
            s_decide_end(&run);
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
