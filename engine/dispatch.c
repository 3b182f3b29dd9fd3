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
            rc = cairn__loss_lose_worker(run, h, CAIRN__LOSS_GONE, err);
    return rc;
}

#ifndef NDEBUG
static int
s_ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a;
    uintptr_t y = (uintptr_t) * (void *const *)b;
    return (x > y) - (x < y);
}

/* Appends the messages envelope env sent (a Done's) to owners. */
static bool
s_add_sent(cairn__ptrs_t *owners, const Cairn__Envelope *env)
{
    const Cairn__Done *done = env->done;
    for (size_t i = 0; done && i < done->n_sent; i++)
        if (cairn__ptrs_push(owners, done->sent[i]) != CAIRN_OK)
            return false;
    return true;
}

/* docs/architecture.md, "Memory ownership": every message in a mailbox
 * is borrowed from the pool (a message it owns, or one sent in a Done
 * it keeps) or from a Done still in run->done. Debug builds only: it
 * costs a sort of everything the pool holds. True when out of memory
 * (nothing could be checked). */
static bool
s_mail_borrows_from_pool(const cairn__run_t *run)
{
    cairn__ptrs_t owners = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < run->pool.messages.count; i++)
        ok = cairn__ptrs_push(&owners, run->pool.messages.items[i]) == CAIRN_OK;
    for (size_t i = 0; ok && i < run->pool.envelopes.count; i++)
        ok = s_add_sent(&owners, run->pool.envelopes.items[i]);
    for (size_t x = 0; ok && x < run->wf->executor_count; x++)
        ok = !run->done[x] || s_add_sent(&owners, run->done[x]);
    if (!ok) {
        free(owners.items);
        return true;
    }
    qsort(owners.items, owners.count, sizeof *owners.items, s_ptr_cmp);
    for (size_t x = 0; ok && x < run->wf->executor_count; x++)
        for (size_t m = 0; ok && m < run->inbox[x].count; m++)
            ok = bsearch(&run->inbox[x].items[m], owners.items, owners.count,
                         sizeof *owners.items, s_ptr_cmp)
                 != NULL;
    free(owners.items);
    return ok;
}
#endif

/* Whether every executor with mail is placed on a host of the host
 * table (or, after a loss, waits unplaced for one). */
static bool
s_placed_within_hosts(const cairn__run_t *run)
{
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->inbox[x].count > 0
            && run->placement[x] >= run->engine->host_count
            && run->placement[x] != CAIRN__UNPLACED)
            return false;
    return true;
}

/* Announces and sends this superstep's work. */
int
cairn__dispatch(cairn__run_t *run, size_t *sent, cairn_error_t *err)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        run->attempts[x] = 1;
        run->timed_out[x] = false;
        run->lost[x] = false;
        run->silent_on[x] = 0;
        run->sent_seq[x] = 0;
    }
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->inbox[x].count > 0)
            cairn__run_emit(run, CAIRN_EVENT_EXECUTOR_INVOKED,
                            run->wf->executors[x].id, NULL, NULL, 0,
                            run->inbox[x].count);
    assert(s_mail_borrows_from_pool(run));
    /* An executor placed beyond the host table would never be sent its
     * work, and the superstep would wait for its Done forever. */
    if (NEVER(!s_placed_within_hosts(run)))
        return cairn_error_set(err, CAIRN_ESTATE,
                               "internal error: an executor of run %s is "
                               "placed on no known host",
                               run->run_id);
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
        cairn__loss_report_joined(run, (size_t)h);
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
    if (h >= 0 && run->engine->hosts[h].suspended
        && env->body_case != CAIRN__ENVELOPE__BODY_HELLO)
        h = cairn__loss_take_back(run, (size_t)h);
    if (h >= 0)
        run->engine->hosts[h].silent_us = 0;
    long x = -1;
    if (env->body_case == CAIRN__ENVELOPE__BODY_DONE)
        why = s_check_done(run, &peer, env->done, &x);
    else if (env->body_case == CAIRN__ENVELOPE__BODY_HELLO)
        s_worker_hello(run, &peer, env->hello);
    else if (env->body_case != CAIRN__ENVELOPE__BODY_HEARTBEAT)
        why = "unexpected message while waiting for Done";
    /* An executor's Done counts once: s_check_done refuses a second. */
    if (x >= 0 && !why && NEVER(run->done[x] != NULL)) {
        why = "Done for an executor that already answered";
        x = -1;
    }
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

/* ---- the one wait on the ROUTER ------------------------------------------ */

/* One wait in progress. */
typedef struct {
    const cairn__wait_t *what;
    size_t received; /* DONES: Dones counted so far */
    long tick_ms;    /* DONES: longest block of one poll */
    bool control;    /* DONES: the control endpoint is pollable */
} s_wait_t;

/* How long the collect wait may block: its usual tick, or less when an
 * attempt's deadline comes first. */
static long
s_deadline_ms(const cairn__run_t *run, long tick_ms)
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

/* How long the next poll may block. */
static long
s_poll_ms(const cairn__run_t *run, const s_wait_t *w)
{
    switch (w->what->kind) {
    case CAIRN__WAIT_DONES:
        return s_deadline_ms(run, w->tick_ms);
    case CAIRN__WAIT_WORKERS:
        return 20;
    case CAIRN__WAIT_TIME:
        break;
    }
    uint64_t now = cairn__monotonic_us();
    long left =
        now < w->what->until ? (long)((w->what->until - now) / 1000u) + 1 : 0;
    return left < 50 ? left : 50;
}

/* Whether live workers fit every executor marked in only that needs one
 * (all when NULL) and, when starting, min_workers of them are there. */
static bool
s_workers_fit(const cairn__run_t *run, const bool *only, bool starting)
{
    const cairn_engine_t *engine = run->engine;
    size_t workers = 0;
    for (size_t h = engine->local_count; h < engine->host_count; h++)
        workers += engine->hosts[h].alive && !engine->hosts[h].unreachable;
    bool enough = !starting || workers >= engine->min_workers;
    /* A worker that fits can only come through a listen endpoint. */
    bool unmet =
        cairn__engine_listens(engine) && cairn__placement_unmet(run, only) >= 0;
    return enough && !unmet;
}

/* Whether the wait has what it waits for (or its time is up). */
static bool
s_wait_over(const cairn__run_t *run, const s_wait_t *w)
{
    const cairn__wait_t *what = w->what;
    switch (what->kind) {
    case CAIRN__WAIT_DONES:
        return w->received >= what->expected;
    case CAIRN__WAIT_WORKERS:
        return s_workers_fit(run, what->only, what->starting)
               || cairn__monotonic_us() >= what->until;
    case CAIRN__WAIT_TIME:
        break;
    }
    return cairn__monotonic_us() >= what->until;
}

/* Takes the Done of executor x (or nothing, x < 0) that a wait accepted. */
static void
s_take(cairn__run_t *run, s_wait_t *w, long x)
{
    if (x < 0)
        return;
    switch (w->what->kind) {
    case CAIRN__WAIT_DONES:
        /* All but the last of a superstep are stored early (the last is
         * followed at once by the barrier's checkpoint). */
        if (++w->received < w->what->expected && run->ckpt)
            cairn__ckpt_save_pending(run->ckpt, run->run_id, run->superstep,
                                     run->done[x]->done);
        break;
    case CAIRN__WAIT_WORKERS:
        /* The superstep goes on around a lost worker: the collect wait
         * counts it (accepted_aside). Never the last: moved work is
         * owed. */
        if (!w->what->starting) {
            run->accepted_aside++;
            if (run->ckpt)
                cairn__ckpt_save_pending(run->ckpt, run->run_id, run->superstep,
                                         run->done[x]->done);
        }
        break;
    case CAIRN__WAIT_TIME: /* between attempts no Done is counted */
        break;
    }
}

/* Polls the ROUTER for up to ms and takes the frame that came: the only
 * poll of the ROUTER while a run runs. Returns the poll's result (< 0:
 * it failed, not counting EINTR). */
static int
s_poll_once(cairn__run_t *run, s_wait_t *w, long ms)
{
    zmq_pollitem_t item = {zsock_resolve(run->engine->router), 0, ZMQ_POLLIN,
                           0};
    int ready = zmq_poll(&item, 1, ms);
    if (ready > 0 && (item.revents & ZMQ_POLLIN))
        s_take(run, w, cairn__dispatch_receive(run));
    return ready < 0 && zmq_errno() == EINTR ? 0 : ready;
}

/* Sends workers a heartbeat when one is due. */
static void
s_heartbeat(cairn__run_t *run)
{
    uint64_t now = cairn__monotonic_us();
    if (now >= run->next_heartbeat_us) {
        cairn__engine_heartbeat(run->engine);
        run->next_heartbeat_us = now + run->engine->heartbeat_us;
    }
}

/* Heartbeats out and liveness checks, on their own clocks. The check
 * first reads every frame already waiting, so heartbeats a busy
 * coordinator has not read yet count. */
static int
s_tend_workers(cairn__run_t *run, s_wait_t *w, cairn_error_t *err)
{
    s_heartbeat(run);
    uint64_t now = cairn__monotonic_us();
    if (now < run->next_liveness_us)
        return CAIRN_OK;
    run->next_liveness_us = now + run->engine->heartbeat_us / 4;
    while (s_poll_once(run, w, 0) > 0)
        ;
    return cairn__loss_check_workers(run, err);
}

/* The control endpoint on its own clock, not in every poll: a second
 * socket in the poll cost ~0.5-0.8 us a superstep, and requests may wait
 * S_CONTROL_POLL_MS. */
static void
s_serve_control(cairn__run_t *run, const s_wait_t *w)
{
    uint64_t now = w->control ? cairn__monotonic_us() : 0;
    if (w->control && now >= run->next_control_us) {
        cairn__ctl_serve(&run->ctl, run->run_id);
        run->next_control_us = now + S_CONTROL_POLL_MS * 1000u;
    }
}

/* What a wait does between polls: the collect wait serves control, sees
 * a cancel (*stop), times out attempts and tends workers; waiting for
 * workers serves control and keeps the workers that joined from thinking
 * we are gone (no liveness check: it runs while one is being lost); a
 * backoff tends workers. */
static int
s_between_polls(cairn__run_t *run, s_wait_t *w, bool *stop, cairn_error_t *err)
{
    cairn_engine_t *engine = run->engine;
    bool workers = engine->host_count > engine->local_count;
    int rc = CAIRN_OK;
    switch (w->what->kind) {
    case CAIRN__WAIT_DONES:
        s_serve_control(run, w);
        if (cairn__ctl_take(&run->ctl, CAIRN__CONTROL_CANCEL)) {
            run->status = CAIRN_STATUS_CANCELLED;
            *stop = true;
            return CAIRN_OK;
        }
        rc = cairn__loss_check_timeouts(run, &w->received, err);
        if (rc == CAIRN_OK && workers)
            rc = s_tend_workers(run, w, err);
        /* Accepted while waiting for a worker to move executors to. */
        w->received += run->accepted_aside;
        run->accepted_aside = 0;
        return rc;
    case CAIRN__WAIT_WORKERS:
        cairn__ctl_serve(&run->ctl, run->run_id);
        s_heartbeat(run);
        return CAIRN_OK;
    case CAIRN__WAIT_TIME:
        break;
    }
    return workers ? s_tend_workers(run, w, err) : CAIRN_OK;
}

int
cairn__dispatch_wait(cairn__run_t *run, const cairn__wait_t *what,
                     cairn_error_t *err)
{
    cairn_engine_t *engine = run->engine;
    s_wait_t w = {what, 0, S_POLL_MS, false};
    if (what->kind == CAIRN__WAIT_DONES) {
        bool workers = engine->host_count > engine->local_count;
        w.tick_ms =
            workers ? (long)(engine->heartbeat_us / 4000u) + 1 : S_POLL_MS;
        w.control = cairn__ctl_pollable(&run->ctl) != NULL;
        if ((run->opts.control || w.control) && w.tick_ms > S_CONTROL_POLL_MS)
            w.tick_ms = S_CONTROL_POLL_MS;
    }
    bool stop = false;
    while (!stop && !s_wait_over(run, &w)) {
        if (s_poll_once(run, &w, s_poll_ms(run, &w)) < 0)
            return cairn_error_set(err, CAIRN_ETRANSPORT,
                                   "polling executor hosts failed: %s",
                                   zmq_strerror(zmq_errno()));
        int rc = s_between_polls(run, &w, &stop, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    /* Each executor is counted once (its Done, its stand-in for a timeout
     * or a lost worker): more than expected means one was counted twice,
     * and the barrier's check (coordinator.c) finds whom it lacks. */
    if (what->kind == CAIRN__WAIT_DONES
        && NEVER(w.received > what->expected))
        cairn_log(CAIRN_LOG_ERROR, "coordinator",
                  "run %s: %zu Dones counted for %zu executors in superstep "
                  "%llu",
                  run->run_id, w.received, what->expected,
                  (unsigned long long)run->superstep);
    /* Between attempts no Done is counted: one that came now is of work
     * the next send skips. */
    if (what->kind == CAIRN__WAIT_TIME)
        run->accepted_aside = 0;
    return CAIRN_OK;
}
