/* recovery.c - retries and dead letters of executors that failed.
 *
 * The retry policy itself (which failures, how many attempts, backoff)
 * is retry.c; the dead-letter store is dead_letter.c. Here the failed
 * executors of a superstep are retried after the longest backoff or run
 * again without the message they failed on, before the barrier.
 *
 * Threading: the coordinator's thread.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/coordinator_internal.h"
#include "engine/retry.h"

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
    if (run->lost[x]
            ? cairn__loss_runs_again(run, x)
            : cairn__retry_allows(&exec->retry, run->attempts[x], kind))
        return S_RETRY;
    return exec->on_failure == CAIRN_ON_FAILURE_DEAD_LETTER ? S_DEAD_LETTER
                                                            : S_FAIL;
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
    cairn__run_emit(run, CAIRN_EVENT_EXECUTOR_RETRY, run->wf->executors[x].id,
                    detail, NULL, 0, run->attempts[x] + 1);
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
    uint32_t handled =
        run->timed_out[x] || run->lost[x] ? 0 : run->done[x]->done->handled;
    bool known = handled > 0 && handled <= count;
    size_t first = known ? handled - 1 : 0, last = known ? handled : count;
    int rc = CAIRN_OK;
    for (size_t m = last; rc == CAIRN_OK && m-- > first;) {
        const Cairn__Message *msg = run->inbox[x].items[m];
        cairn__run_emit(run, CAIRN_EVENT_DEAD_LETTER, run->wf->executors[x].id,
                        why, msg->payload.data, msg->payload.len, 0);
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
        if (cairn__barrier_failure_of(run, x)
            && s_recovery_of(run, x) == S_FAIL)
            return CAIRN_OK;
    bool *again = calloc(n, sizeof *again);
    if (!again)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    uint64_t delay_ms = 0;
    int rc = CAIRN_OK;
    for (size_t x = 0; rc == CAIRN_OK && x < n; x++) {
        const char *why = cairn__barrier_failure_of(run, x);
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
        run->sent_seq[x] = 0;         /* not in flight until sent again */
        run->host_current[x] = false; /* restart from the barrier state */
        again[x] = run->inbox[x].count > 0;
    }
    if (rc != CAIRN_OK)
        rc = cairn_error_set(err, rc, "out of memory");
    cairn__wait_t backoff = {
        .kind = CAIRN__WAIT_TIME,
        .until = cairn__monotonic_us() + delay_ms * 1000u,
    };
    if (rc == CAIRN_OK)
        rc = cairn__dispatch_wait(run, &backoff, err);
    if (rc == CAIRN_OK)
        rc = cairn__dispatch_send_work(run, again, sent, err);
    free(again);
    *recovered = rc == CAIRN_OK;
    return rc;
}

/* Collects the superstep's Dones, recovering failed executors while
 * their policies allow. */
int
cairn__recovery_collect(cairn__run_t *run, size_t sent, cairn_error_t *err)
{
    cairn__wait_t dones = {.kind = CAIRN__WAIT_DONES, .expected = sent};
    int rc = cairn__dispatch_wait(run, &dones, err);
    bool recovered = true;
    while (rc == CAIRN_OK && recovered && run->status == CAIRN_STATUS_RUNNING
           && cairn__barrier_first_failure(run) >= 0) {
        rc = s_recover_failures(run, &sent, &recovered, err);
        dones.expected = sent;
        if (rc == CAIRN_OK && recovered)
            rc = cairn__dispatch_wait(run, &dones, err);
    }
    return rc;
}
