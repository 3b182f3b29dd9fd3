/* worker_loss.c - placement waits, lost workers and timed-out attempts.
 *
 * A worker that goes silent or whose connection is gone is lost: its
 * executors move (placement.c picks), the one it was running loses its
 * attempt, the others' work is sent again. A timed-out attempt gets a
 * stand-in failed Done; its host (it cannot be interrupted) is replaced
 * (in-process) or lost (worker).
 *
 * Threading: the coordinator's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "cairn/worker.h"
#include "engine/coordinator_internal.h"
#include "engine/placement.h"
#include "engine/retry.h"

/* Places executor x (placement.c); false when no host can take it now. */
static bool
s_place(cairn__run_t *run, size_t x, bool local_first)
{
    long h = cairn__placement_pick(run, x, local_first);
    /* Placement stays within the host table (placement.c picks a live
     * slot): a host beyond it would never get the work. */
    if (h < 0 || NEVER((size_t)h >= run->engine->host_count))
        return false;
    run->placement[x] = (size_t)h;
    return true;
}

/* Waits (bounded by the worker wait) until a live worker fits every
 * executor marked in only that needs one (all executors when NULL) and,
 * when starting, min_workers workers are there (dispatch.c: Hellos
 * register workers; a Done accepted meanwhile, the superstep going on
 * around a lost worker, is counted in run->accepted_aside for the
 * collect wait). */
static int
s_await_workers(cairn__run_t *run, const bool *only, bool starting,
                cairn_error_t *err)
{
    cairn__wait_t what = {
        .kind = CAIRN__WAIT_WORKERS,
        .until = cairn__monotonic_us() + run->engine->worker_wait_us,
        .only = only,
        .starting = starting,
    };
    return cairn__dispatch_wait(run, &what, err);
}

/* Before a run starts: waits (bounded) for the workers it asked for and
 * for workers that fit the executors only workers can run, then places
 * every executor. Nothing is written when one cannot be placed. */
int
cairn__loss_place_all(cairn__run_t *run, cairn_error_t *err)
{
    /* Workers that joined while no run was there to report it (a Hello
     * read while the engine's host threads started) are reported now. */
    cairn_engine_t *engine = run->engine;
    for (size_t h = engine->local_count; h < engine->host_count; h++)
        if (engine->hosts[h].alive)
            cairn__loss_report_joined(run, h);
    int rc = s_await_workers(run, NULL, true, err);
    if (rc != CAIRN_OK)
        return rc;
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
    cairn__run_emit(run, CAIRN_EVENT_EXECUTOR_MOVED, run->wf->executors[x].id,
                    detail, NULL, 0, 0);
}

/* Whether x, whose attempt the loss of its worker failed, gets another. */
bool
cairn__loss_runs_again(const cairn__run_t *run, size_t x)
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
 * owed this superstep is sent again. An executor that no host can take
 * now and that owes no work (none this superstep, or its last attempt
 * the loss just failed: dead-lettered or failing the run) stays
 * unplaced until it has work again (cairn__loss_place_unplaced). */
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
    bool local_first =
        run->engine->hosts[from].remote
        && run->engine->on_worker_loss == CAIRN_WORKER_LOSS_IN_PROCESS;
    bool any_waiting = false;
    for (size_t x = 0; x < n; x++) {
        if (run->placement[x] != from)
            continue;
        moving[x] = true;
        run->host_current[x] = false;
        /* What was sent to `from` is void: x is in flight again only
         * once its work reaches the new host, so a refused send there
         * cannot blame it for that host's loss (s_running_on). */
        run->sent_seq[x] = 0;
        owed[x] = run->inbox[x].count > 0 && !run->done[x];
        if (!s_place(run, x, local_first)) {
            /* No Done is accepted for it until it has a host. Only work
             * owed now (its own, or the retry of the attempt the loss
             * failed) is waited for: one with none this superstep, or
             * whose last attempt the loss just failed, gets its host when
             * it has work again. */
            run->placement[x] = CAIRN__UNPLACED;
            run->moved_from[x] = from;
            bool later = run->lost[x] && !cairn__loss_runs_again(run, x);
            moving[x] = waiting[x] = (owed[x] || run->lost[x]) && !later;
            any_waiting |= waiting[x];
        }
    }
    int rc = any_waiting ? s_await_workers(run, waiting, false, err) : CAIRN_OK;
    char when[256];
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
        rc = cairn__dispatch_send_work(run, owed, &sent, err);
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
int
cairn__loss_place_unplaced(cairn__run_t *run, const bool *only,
                           cairn_error_t *err)
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
    int rc = s_await_workers(run, waiting, false, err);
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
    /* An executor's Done counts once: callers stand in only for an
     * attempt that has none. */
    assert(run->done[x] == NULL);
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
    run->deadline_us[x] = 0;
    run->accepted_aside++; /* the collect wait counts it */
    cairn_log(CAIRN_LOG_WARN, "coordinator", "run %s: executor '%s': %s",
              run->run_id, run->wf->executors[x].id, why);
    return CAIRN_OK;
}

/* A worker went silent or its connection is gone: it is lost. The
 * executor it was running runs only on workers (its handler may be what
 * is killing the worker: a crashing process can be silent for seconds,
 * writing a core or a sanitizer report, before its connection closes):
 * after a death for the rest of the run, and that attempt fails; after
 * silence until the worker speaks again or is found dead. The others'
 * unfinished work is simply sent again. Its executors
 * move to other hosts; a late Done from it is refused (placement
 * changed). */
int
cairn__loss_lose_worker(cairn__run_t *run, size_t lost, cairn__loss_why_t why,
                        cairn_error_t *err)
{
    cairn__host_info_t *host = &run->engine->hosts[lost];
    host->alive = false;
    cairn__run_emit(run, CAIRN_EVENT_WORKER_LOST, NULL, host->id, NULL, 0, 0);
    cairn_log(CAIRN_LOG_WARN, "coordinator",
              "run %s: worker %s lost in superstep %llu", run->run_id, host->id,
              (unsigned long long)run->superstep);
    long running = why == CAIRN__LOSS_ABANDONED ? -1 : s_running_on(run, lost);
    if (running >= 0 && why == CAIRN__LOSS_GONE)
        run->crashed[running] = true;
    if (why == CAIRN__LOSS_SILENT) {
        host->suspended = true;
        host->suspended_us = cairn__monotonic_us();
        if (running >= 0) {
            run->silent_on[running] = lost + 1;
            run->silent_attempt[running] = run->attempts[running];
        }
    }
    if (running >= 0 && why == CAIRN__LOSS_GONE
        && s_blame_loss(run, (size_t)running, host->id) != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    return s_move_off_host(run, lost, host->id, err);
}

long
cairn__loss_take_back(cairn__run_t *run, size_t h)
{
    long back = cairn__engine_take_back(run->engine, h);
    if (back < 0) /* no free slot: it stays suspended, its executors held */
        return back;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        if (run->silent_on[x] == h + 1)
            run->silent_on[x] = 0; /* alive: its silence harmed nobody */
    run->engine->hosts[back].reported = false;
    cairn__loss_report_joined(run, (size_t)back);
    return back;
}

void
cairn__loss_report_joined(cairn__run_t *run, size_t h)
{
    cairn__host_info_t *host = &run->engine->hosts[h];
    if (host->reported)
        return;
    host->reported = true;
    cairn__run_emit(run, CAIRN_EVENT_WORKER_JOINED, NULL, host->id, NULL, 0,
                    0);
}

/* Executor x's attempt already failed with the loss of the worker it was
 * moved to, and worker `host`, silent while it ran that same attempt
 * before, died too: that death costs the next attempt, as if each had
 * run one (the retry of the first is reported, the stand-in Done now
 * names the second). */
static int
s_second_death(cairn__run_t *run, size_t x, const char *host)
{
    Cairn__Done *done = run->done[x]->done;
    char detail[600];
    snprintf(detail, sizeof detail, "attempt %u failed: %s",
             (unsigned)run->attempts[x], done->error);
    cairn__run_emit(run, CAIRN_EVENT_EXECUTOR_RETRY, run->wf->executors[x].id,
                    detail, NULL, 0, run->attempts[x] + 1);
    run->attempts[x]++;
    char *why = cairn__strprintf("worker %s was lost while running it "
                                 "(attempt %u)",
                                 host, (unsigned)run->attempts[x]);
    if (!why)
        return CAIRN_ENOMEM;
    free(done->error);
    done->error = why;
    done->attempt = run->attempts[x];
    cairn_log(CAIRN_LOG_WARN, "coordinator", "run %s: executor '%s': %s",
              run->run_id, run->wf->executors[x].id, why);
    return CAIRN_OK;
}

/* Suspended worker h (lost for its silence) is known dead: its
 * connection is gone. The executor it was running then is taken for a
 * handler that kills workers (never in-process from now on), and that
 * attempt fails as if the worker had died then, unless it is over: a
 * handler that kills its worker costs an attempt however slowly the
 * worker died (a core or a sanitizer report being written while it was
 * silent), also when the attempt, moved on, killed another worker. */
static int
s_suspended_died(cairn__run_t *run, size_t h)
{
    const char *host = run->engine->hosts[h].id;
    run->engine->hosts[h].suspended = false;
    int rc = CAIRN_OK;
    for (size_t x = 0; rc == CAIRN_OK && x < run->wf->executor_count; x++) {
        if (run->silent_on[x] != h + 1)
            continue;
        run->silent_on[x] = 0;
        run->crashed[x] = true;
        if (run->attempts[x] != run->silent_attempt[x]
            || run->inbox[x].count == 0)
            continue;
        if (!run->done[x])
            rc = s_blame_loss(run, x, host);
        else if (run->lost[x] && cairn__loss_runs_again(run, x))
            rc = s_second_death(run, x, host);
    }
    return rc;
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
        return cairn__loss_lose_worker(run, h, CAIRN__LOSS_ABANDONED, err);
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
int
cairn__loss_check_timeouts(cairn__run_t *run, size_t *received,
                           cairn_error_t *err)
{
    uint64_t now = cairn__monotonic_us();
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        if (!run->deadline_us[x] || now < run->deadline_us[x] || run->done[x]
            || run->inbox[x].count == 0)
            continue;
        run->deadline_us[x] = 0;
        if (s_time_out(run, x) != CAIRN_OK)
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        ++*received;
        cairn_log(CAIRN_LOG_WARN, "coordinator", "run %s: executor '%s' %s",
                  run->run_id, run->wf->executors[x].id,
                  run->done[x]->done->error);
        int rc = s_abandon_host(run, run->placement[x], err);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* How long a worker may be silent: three heartbeat intervals, and at
 * least CAIRN_MIN_SILENCE_MS (under TSan on a loaded machine live
 * workers went 1-2.5 s without a frame, and losing them all at once
 * crowded every executor onto the survivors). */
static uint64_t
s_silence_limit_us(const cairn_engine_t *engine)
{
    uint64_t beats = 3 * engine->heartbeat_us;
    uint64_t floor = (uint64_t)CAIRN_MIN_SILENCE_MS * 1000u;
    return beats > floor ? beats : floor;
}

/* Workers whose connection is gone, or silent for three heartbeat
 * intervals (at least CAIRN_MIN_SILENCE_MS) of the coordinator's
 * watching, are lost. Only a connection known to be gone costs the
 * executor the worker was running an attempt: a process that dies, of
 * its handler's crash or of a kill, has its connection closed by its
 * kernel (the ROUTER then refuses sends to it), while silence is also
 * what a live worker on a loaded machine, a stopped one or a cut network
 * look like. After silence that executor is only kept off the
 * coordinator (cairn__loss_lose_worker). */
int
cairn__loss_check_workers(cairn__run_t *run, cairn_error_t *err)
{
    cairn_engine_t *engine = run->engine;
    /* The time since the last look (they come every quarter interval)
     * counts as silence only up to half an interval: a coordinator that
     * was not looking, descheduled on a loaded machine or waiting for a
     * worker to join, has not read what its workers sent meanwhile (it
     * may not even have reached its socket yet), and losing them all for
     * that was its own silence, not theirs. */
    uint64_t now = cairn__monotonic_us();
    uint64_t watched = run->last_liveness_us ? now - run->last_liveness_us
                                             : 0;
    if (watched > engine->heartbeat_us / 2)
        watched = engine->heartbeat_us / 2;
    run->last_liveness_us = now;
    for (size_t h = engine->local_count; h < engine->host_count; h++) {
        bool gone = engine->hosts[h].unreachable;
        if (gone && engine->hosts[h].suspended
            && s_suspended_died(run, h) != CAIRN_OK)
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        if (!engine->hosts[h].alive)
            continue;
        engine->hosts[h].silent_us += watched;
        if (gone || engine->hosts[h].silent_us > s_silence_limit_us(engine)) {
            int rc = cairn__loss_lose_worker(
                run, h, gone ? CAIRN__LOSS_GONE : CAIRN__LOSS_SILENT, err);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    return CAIRN_OK;
}
