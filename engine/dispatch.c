/* dispatch.c - work out to the hosts, Dones back: dispatch and collection.
 *
 * One Deliver per host with work per superstep; Dones are checked (run,
 * superstep, placement, attempt, what an honest host sends) before they
 * are kept in run->done. Every wait on the ROUTER of a run is here.
 *
 * Threading: the coordinator's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cairn/log.h"
#include "engine/coordinator_internal.h"
#include "engine/peer_check.h"
#include "engine/placement.h"
#include "engine/result_internal.h"
#include "engine/retry.h"
#include "engine/util.h"

#define S_POLL_MS 1000
#define S_CONTROL_POLL_MS 50 /* how soon a cancel is seen in a superstep */

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

/* Sends every host one Deliver with the work of its executors that have
 * mail and no result yet (only those marked in only, when not NULL);
 * *sent is how many Dones to wait for. */
int
cairn__dispatch_send_work(cairn__run_t *run, const bool *only, size_t *sent,
                          cairn_error_t *err)
{
    size_t n = run->wf->executor_count;
    size_t filled = 0, rerouted = 0;
    bool unreachable[CAIRN__MAX_HOSTS] = {false};
    int rc = cairn__loss_place_unplaced(run, only, err);
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
            rc = cairn__loss_lose_worker(run, h, true, err);
    return rc;
}

/* Announces and sends this superstep's work. */
int
cairn__dispatch(cairn__run_t *run, size_t *sent, cairn_error_t *err)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        run->attempts[x] = 1;
        run->timed_out[x] = false;
        run->lost[x] = false;
        run->sent_seq[x] = 0;
    }
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->inbox[x].count > 0)
            cairn__run_emit(run, CAIRN_EVENT_EXECUTOR_INVOKED,
                            run->wf->executors[x].id, NULL, NULL, 0,
                            run->inbox[x].count);
    return cairn__dispatch_send_work(run, NULL, sent, err);
}

/* Why a Done cannot be accepted, or NULL when it can. */
static const char *
s_check_done(cairn__run_t *run, const cairn__peer_t *peer,
             const Cairn__Done *done, long *exec_out)
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
        cairn__run_emit(run, CAIRN_EVENT_WORKER_JOINED, NULL,
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
long
cairn__dispatch_receive(cairn__run_t *run)
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
int
cairn__dispatch_tend_workers(cairn__run_t *run, size_t *received,
                             size_t expected, cairn_error_t *err)
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
        s_accept(run, cairn__dispatch_receive(run), received, expected);
    return cairn__loss_check_workers(run, err);
}

/* Waits until every executor with work has answered, keeping workers'
 * heartbeats going both ways. */
int
cairn__dispatch_collect(cairn__run_t *run, size_t expected, cairn_error_t *err)
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
            s_accept(run, cairn__dispatch_receive(run), &received, expected);
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
        int rc = cairn__loss_check_timeouts(run, &received, err);
        if (rc == CAIRN_OK && engine->host_count > engine->local_count)
            rc = cairn__dispatch_tend_workers(run, &received, expected, err);
        if (rc != CAIRN_OK)
            return rc;
        /* Accepted while waiting for a worker to move executors to. */
        received += run->accepted_aside;
        run->accepted_aside = 0;
    }
    return CAIRN_OK;
}

/* Waits until `until` (monotonic µs), refusing late frames and keeping
 * workers' heartbeats going. */
int
cairn__dispatch_wait_until(cairn__run_t *run, uint64_t until,
                           cairn_error_t *err)
{
    void *router = zsock_resolve(run->engine->router);
    size_t none = 0;
    for (uint64_t now; (now = cairn__monotonic_us()) < until;) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        long wait_ms = (long)((until - now) / 1000u) + 1;
        if (zmq_poll(&item, 1, wait_ms < 50 ? wait_ms : 50) > 0)
            cairn__dispatch_receive(run);
        if (run->engine->host_count > run->engine->local_count) {
            int rc = cairn__dispatch_tend_workers(run, &none, 0, err);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    /* Between attempts no Done is counted: one that came now is of work
     * the next send skips. */
    run->accepted_aside = 0;
    return CAIRN_OK;
}
