/* blame_cases.h - which executor a lost worker is blamed on; included by
 * test_workers.c after its helpers (s_build_timed, s_spawn_worker, ...).
 *
 * A worker's loss costs an attempt only of the executor it was running,
 * and only when the worker is known dead (docs/workers.md). Work that
 * never reached a worker is not running there: a send the ROUTER
 * refused, because the worker had died before the coordinator noticed,
 * blames nobody. A worker lost only for its silence may be alive (a
 * loaded machine, a stopped process, a cut network): it blames nobody
 * either. */

typedef struct {
    const char *endpoint; /* when set: start worker "late" ... */
    pid_t late;         /* ... in superstep 2, killed on joining */
    bool late_killed;   /* ... before any attempt timed out */
    pid_t stop;         /* when set: SIGSTOPped as superstep 2 starts */
    bool wake_on_loss;  /* ... and SIGCONTed once it is lost */
    bool kill_on_loss;  /* ... or SIGKILLed once it is lost */
    pid_t pause[2];     /* when set: the machine "pauses" as superstep 2
                           starts: these are SIGSTOPped, the coordinator
                           sleeps 1.5 s, and they wake 300 ms after it */
    pid_t wakers[2];    /* the processes that wake them */
    int lost;           /* worker_lost events */
    int timed_out;      /* executor_retry events after a timeout */
    int lost_blamed;    /* executor_retry events blaming a lost worker */
} s_blame_watch_t;

static void
s_on_blame_event(const cairn_event_t *event, void *userdata)
{
    s_blame_watch_t *watch = userdata;
    bool second = event->kind == CAIRN_EVENT_SUPERSTEP_STARTED
                  && event->superstep == 2;
    if (second && watch->endpoint && !watch->late)
        watch->late = s_spawn_worker(watch->endpoint, "late");
    if (second && watch->stop)
        kill(watch->stop, SIGSTOP);
    for (int i = 0; second && i < 2 && watch->pause[i]; i++)
        kill(watch->pause[i], SIGSTOP);
    if (second && watch->pause[0]) {
        test_sleep_ms(1500); /* the coordinator's thread, "descheduled" */
        for (int i = 0; i < 2 && watch->pause[i]; i++)
            watch->wakers[i] = s_signal_later(watch->pause[i], SIGCONT, 300);
    }
    watch->lost += event->kind == CAIRN_EVENT_WORKER_LOST;
    if (event->kind == CAIRN_EVENT_WORKER_LOST && watch->wake_on_loss)
        kill(watch->stop, SIGCONT);
    if (event->kind == CAIRN_EVENT_WORKER_LOST && watch->kill_on_loss)
        kill(watch->stop, SIGKILL);
    if (event->kind == CAIRN_EVENT_WORKER_JOINED
        && strcmp(event->detail, "late") == 0) {
        /* Dead at once, but the coordinator sends no heartbeat for 10 s,
         * so it still counts "late" as alive and may move work there. */
        kill(watch->late, SIGKILL);
        watch->late_killed = watch->timed_out == 0;
    }
    if (event->kind == CAIRN_EVENT_EXECUTOR_RETRY) {
        watch->timed_out += strstr(event->detail, "timed out") != NULL;
        watch->lost_blamed += strstr(event->detail, "was lost") != NULL;
    }
}

/* Runs the fan-out wf on engine, watched by watch, and checks that it
 * gave the uninterrupted result. A stopped worker is woken (to be
 * reaped). */
static cairn_result_t *
s_run_watched(cairn_engine_t *engine, const cairn_workflow_t *wf,
              s_blame_watch_t *watch)
{
    char *expected = s_reference();
    cairn_run_options_t opts = {.on_event = s_on_blame_event,
                                .event_userdata = watch};
    cairn_result_t *result = NULL;
    cairn_error_t err;
    int rc = cairn_engine_run(engine, wf, "go", 2, &opts, &result, &err);
    if (watch->stop)
        kill(watch->stop, SIGCONT);
    if (rc != 0)
        fail_msg("the run failed: %s", err.message);
    char *actual = s_summary(result);
    assert_string_equal(actual, expected);
    free(actual);
    free(expected);
    return result;
}

/* s_run_watched, checking that no lost worker cost an attempt. */
static cairn_result_t *
s_run_blameless_result(cairn_engine_t *engine, const cairn_workflow_t *wf,
                       s_blame_watch_t *watch)
{
    cairn_result_t *result = s_run_watched(engine, wf, watch);
    assert_int_equal(watch->lost_blamed, 0);
    return result;
}

static void
s_run_blameless(cairn_engine_t *engine, const cairn_workflow_t *wf,
                s_blame_watch_t *watch)
{
    cairn_result_t *result = s_run_blameless_result(engine, wf, watch);
    cairn_result_destroy(&result);
}

/* What every blame case sets up: an endpoint, the fan-out workflow, an
 * engine listening there, and up to two workers that the case spawns
 * and the teardown reaps. The case keeps it on its stack: watch.endpoint
 * may point into it. */
typedef struct {
    char endpoint[64];          /* where the engine listens */
    cairn_registry_t *registry; /* s_branch only */
    cairn_workflow_t *wf;       /* the fan-out */
    cairn_engine_t *engine;     /* listening on endpoint */
    pid_t pids[2];              /* workers to reap (0: none) */
} s_blame_t;

/* Fills self with an endpoint from salt, a registry and the fan-out,
 * each attempt bounded by timeout_ms (0: unbounded); no engine yet. */
static void
s_blame_prepare(s_blame_t *self, int salt, uint32_t timeout_ms)
{
    *self = (s_blame_t){0};
    s_endpoint(self->endpoint, sizeof self->endpoint, salt);
    self->registry = th_registry_new(&s_branch, 1);
    self->wf = s_build_timed(self->registry, timeout_ms);
}

/* Sets up the untimed fan-out on an s_engine_with engine (300 ms
 * heartbeats) that waits up to 10 s for min_workers workers. */
static void
s_blame_setup(s_blame_t *self, int salt, size_t min_workers)
{
    s_blame_prepare(self, salt, 0);
    self->engine = s_engine_with(self->registry, self->endpoint, min_workers,
                                 10000, CAIRN_WORKER_LOSS_WORKER);
}

/* Sets up the fan-out with timeout_ms per attempt on an engine opened
 * with engine_opts (borrowed; its listen is replaced by the endpoint). */
static void
s_blame_setup_with(s_blame_t *self, int salt, uint32_t timeout_ms,
                   const cairn_engine_options_t *engine_opts)
{
    s_blame_prepare(self, salt, timeout_ms);
    cairn_engine_options_t opts = *engine_opts;
    opts.listen = self->endpoint;
    cairn_error_t err;
    assert_int_equal(
        cairn_engine_open(&self->engine, self->registry, &opts, &err), 0);
}

/* Closes the engine, then reaps the workers (a stopped one too), then
 * frees the workflow and the registry. */
static void
s_blame_teardown(s_blame_t *self)
{
    cairn_engine_destroy(&self->engine);
    s_reap(self->pids, 2);
    cairn_workflow_destroy(&self->wf);
    cairn_registry_destroy(&self->registry);
}

/* Worker "stuck" holds every branch and stalls on the first (b1) past
 * its 3 s timeout; meanwhile worker "late" joined (no executors: a late
 * worker gets only moved ones) and was SIGKILLed. The timeout gives
 * "stuck" up without blame, and its unstarted b2 and b3 move to "late",
 * which the ROUTER refuses (the connection is gone): "late" is lost, and
 * b2 had never reached it. Before, b2 was blamed for that loss (its
 * in-flight mark from "stuck" was kept), so it lost an attempt and was
 * held off in-process, waited for a worker, and the run failed with
 * "worker late was lost while it ran executor 'b2'". Now b2 and b3 run
 * in-process and the run gives the uninterrupted result. */
static void
test_workers_refused_send_blames_no_executor(void **state)
{
    (void)state;
    s_blame_t fx;
    cairn_engine_options_t engine_opts = {.host_threads = 2,
                                          .heartbeat_ms = 10000,
                                          .min_workers = 1,
                                          .worker_wait_ms = 1000};
    s_blame_setup_with(&fx, 31, 3000, &engine_opts);
    fx.pids[0] = s_spawn_worker_stalling(fx.endpoint, "stuck", 20000);
    s_blame_watch_t watch = {.endpoint = fx.endpoint};
    s_run_blameless(fx.engine, fx.wf, &watch);
    fx.pids[1] = watch.late;
    /* The case needs "late" dead before the timeout moved work there. */
    assert_true(watch.late_killed);
    assert_int_equal(watch.timed_out, 1);
    s_blame_teardown(&fx);
}

/* Worker w1 (minute-long handlers) is SIGSTOPped as superstep 2 starts,
 * its connection up: it is lost for its silence after three heartbeats
 * (300 ms), and its branches run elsewhere without losing an attempt (no
 * executor_retry). Before, the silence blamed the branch w1 had been
 * sent first, as if the handler had killed it: under TSan on a loaded
 * machine live workers went silent that way, and three such losses in
 * one superstep would fail a run no handler had harmed. */
static void
test_workers_silent_worker_blames_no_executor(void **state)
{
    (void)state;
    s_blame_t fx;
    s_blame_setup(&fx, 32, 2);
    fx.pids[0] = s_spawn_victim(fx.endpoint, "w1");
    fx.pids[1] = s_spawn_worker(fx.endpoint, "w2");
    s_blame_watch_t watch = {.stop = fx.pids[0]};
    s_run_blameless(fx.engine, fx.wf, &watch);
    assert_true(watch.lost >= 1);
    s_blame_teardown(&fx);
}

/* The only worker, w1, is SIGSTOPped while it runs the branches (its
 * first attempts stall 1.5 s) and woken once it is lost for its silence.
 * The branch it was running costs no attempt, but it is not moved into
 * the coordinator either: a worker silent in a handler may be dying of
 * it (a core or a sanitizer report being written), and in-process that
 * handler would take the coordinator with it. Nor are the two it had not
 * started, while w1 may come back: all three wait for a worker, and w1,
 * taken back when it speaks again, runs them. Before, all three were
 * moved in-process, and a run whose workers all went silent under TSan
 * ran a crashing handler in the coordinator (`cairn run` died of
 * SIGSEGV, exit 139). */
static void
test_workers_silent_worker_keeps_its_executor_off_the_coordinator(void **state)
{
    (void)state;
    s_blame_t fx;
    s_blame_setup(&fx, 33, 1);
    fx.pids[0] = s_spawn_worker_stalling(fx.endpoint, "w1", 1500);
    pid_t w1 = fx.pids[0];
    s_blame_watch_t watch = {.stop = w1, .wake_on_loss = true};
    cairn_result_t *result = s_run_blameless_result(fx.engine, fx.wf, &watch);
    assert_true(watch.lost >= 1);
    int on_w1 = 0, in_process = 0;
    for (int b = 1; b <= 3; b++) {
        char id[8];
        snprintf(id, sizeof id, "b%d", b);
        on_w1 += s_ran_in(result, id, w1);
        in_process += s_ran_in(result, id, 0);
    }
    assert_int_equal(on_w1, 3);
    assert_int_equal(in_process, 0);
    cairn_result_destroy(&result);
    s_blame_teardown(&fx);
}

/* The whole machine pauses (a suspended VM or laptop, a machine so
 * loaded that nothing ran): as superstep 2 starts both workers are
 * SIGSTOPped and the coordinator's thread sleeps 1.5 s, five heartbeat
 * intervals; the workers wake 300 ms after it. Nobody was silent while
 * the coordinator watched, and no worker is lost. Before, the
 * coordinator counted its own absence as their silence and lost both at
 * its first look (under TSan on a loaded machine, three live workers
 * were lost at once that way). */
static void
test_workers_paused_coordinator_loses_no_worker(void **state)
{
    (void)state;
    s_blame_t fx;
    s_blame_setup(&fx, 34, 2);
    fx.pids[0] = s_spawn_worker(fx.endpoint, "w1");
    fx.pids[1] = s_spawn_worker(fx.endpoint, "w2");
    s_blame_watch_t watch = {.pause = {fx.pids[0], fx.pids[1]}};
    s_run_blameless(fx.engine, fx.wf, &watch);
    assert_int_equal(watch.lost, 0);
    assert_int_equal(th_finish(watch.wakers[0], 5000, "waker 1"), 0);
    assert_int_equal(th_finish(watch.wakers[1], 5000, "waker 2"), 0);
    s_blame_teardown(&fx);
}

/* Worker w1 is SIGSTOPped while it runs a branch (its first attempts
 * stall 1.5 s), lost for its silence, then SIGKILLed: a worker that died
 * slowly of its handler (silent while it wrote a core or a sanitizer
 * report). Once its connection is found gone, the attempt it was running
 * fails as if it had died at once (executor_retry "was lost"), and the
 * retry on w2 gives the uninterrupted result. (w2's first attempts stall
 * 2.5 s: the moved attempt is still running there when the death is
 * found, a heartbeat or two after the kill; one that had already
 * succeeded would not be failed.) Before, silence blamed
 * nobody for good: under TSan a poison handler that killed three workers
 * got only two attempts counted, and the run ended "no worker joined"
 * instead of failing (or dead-lettering) after its third. */
static void
test_workers_silent_worker_that_dies_costs_an_attempt(void **state)
{
    (void)state;
    s_blame_t fx;
    s_blame_setup(&fx, 35, 2);
    fx.pids[0] = s_spawn_worker_stalling(fx.endpoint, "w1", 1500);
    fx.pids[1] = s_spawn_worker_stalling(fx.endpoint, "w2", 2500);
    s_blame_watch_t watch = {.stop = fx.pids[0], .kill_on_loss = true};
    cairn_result_t *result = s_run_watched(fx.engine, fx.wf, &watch);
    assert_int_equal(watch.lost_blamed, 1);
    cairn_result_destroy(&result);
    s_blame_teardown(&fx);
}
