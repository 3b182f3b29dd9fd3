/* requests.c - human-in-the-loop requests of one run.
 *
 * A handler's requests (cairn_ctx_request) come back in its Done and join
 * the run's pending list at the barrier, in executor-id then request
 * order. The list travels in every checkpoint's in-flight record, with
 * the ids already answered, so a run that ends WAITING can be answered
 * from another process after any crash.
 *
 * Answering happens only on resume: every response is checked against
 * the pending list before anything changes, then becomes a message with
 * `answers` set in the mailbox of the executor that asked (the host hands
 * it to the type's on_response). Responses are delivered in the order the
 * requests were made, whatever order the caller gave them in, so resumes
 * stay deterministic.
 *
 * Threading: the coordinator's thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/run_internal.h"

int
cairn__requests_note_done(cairn__run_t *run, const Cairn__Done *done,
                          void (*emit)(cairn__run_t *run,
                                       const Cairn__Request *request))
{
    for (size_t i = 0; i < done->n_requests; i++) {
        Cairn__Request *copy = cairn__pb_request_clone(done->requests[i]);
        /* The executor is the one whose Done this is, whatever it says. */
        if (!copy
            || cairn__replace_string(&copy->executor, done->executor_id)
                   != CAIRN_OK
            || cairn__ptrs_push(&run->requests, copy) != CAIRN_OK) {
            cairn__pb_request_free(copy);
            return CAIRN_ENOMEM;
        }
        emit(run, copy);
    }
    return CAIRN_OK;
}

int
cairn__requests_restore(cairn__run_t *run,
                        const Cairn__InflightRecord *inflight)
{
    for (size_t i = 0; i < inflight->n_requests; i++) {
        Cairn__Request *copy = cairn__pb_request_clone(inflight->requests[i]);
        if (!copy || cairn__ptrs_push(&run->requests, copy) != CAIRN_OK) {
            cairn__pb_request_free(copy);
            return CAIRN_ENOMEM;
        }
    }
    for (size_t i = 0; i < inflight->n_answered; i++) {
        char *id = strdup(inflight->answered[i]);
        if (!id || cairn__ptrs_push(&run->answered, id) != CAIRN_OK) {
            free(id);
            return CAIRN_ENOMEM;
        }
    }
    return CAIRN_OK;
}

void
cairn__requests_fini(cairn__run_t *run)
{
    for (size_t i = 0; i < run->requests.count; i++)
        cairn__pb_request_free(run->requests.items[i]);
    free(run->requests.items);
    for (size_t i = 0; i < run->answered.count; i++)
        free(run->answered.items[i]);
    free(run->answered.items);
    memset(&run->requests, 0, sizeof run->requests);
    memset(&run->answered, 0, sizeof run->answered);
}

/* Index of the pending request with this id, or -1. */
static long
s_find_pending(const cairn__run_t *run, const char *id)
{
    for (size_t i = 0; i < run->requests.count; i++) {
        const Cairn__Request *request = run->requests.items[i];
        if (strcmp(request->id, id) == 0)
            return (long)i;
    }
    return -1;
}

static bool
s_was_answered(const cairn__run_t *run, const char *id)
{
    for (size_t i = 0; i < run->answered.count; i++)
        if (strcmp(run->answered.items[i], id) == 0)
            return true;
    return false;
}

/* Checks response r: its request is pending, not answered twice in this
 * call, the executor that asked is in the workflow, the value fits. */
static int
s_check_response(const cairn__run_t *run, size_t r, cairn_error_t *err)
{
    const cairn_response_t *response = &run->opts.responses[r];
    const char *id = response->request_id ? response->request_id : "";
    for (size_t k = 0; k < r; k++)
        if (run->opts.responses[k].request_id
            && strcmp(run->opts.responses[k].request_id, id) == 0)
            return cairn_error_set(err, CAIRN_EINVAL,
                                   "request '%s' is answered twice", id);
    long pending = s_find_pending(run, id);
    if (pending < 0 && s_was_answered(run, id))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "request '%s' of run '%s' was already "
                               "answered",
                               id, run->run_id);
    if (pending < 0)
        return cairn_error_set(err, CAIRN_ENOTFOUND,
                               "run '%s' has no pending request '%s' (%zu "
                               "pending)",
                               run->run_id, id, run->requests.count);
    const Cairn__Request *request = run->requests.items[pending];
    if (cairn__workflow_find(run->wf, request->executor) < 0)
        return cairn_error_set(err, CAIRN_ENOTFOUND,
                               "request '%s' was made by executor '%s', "
                               "which this workflow does not have",
                               id, request->executor);
    if (response->len > run->max_message_size)
        return cairn_error_set(err, CAIRN_ETOOLARGE,
                               "the response to request '%s' has %zu bytes, "
                               "more than the maximum message size of %zu",
                               id, response->len, run->max_message_size);
    return CAIRN_OK;
}

/* The response given for request id, or NULL. */
static const cairn_response_t *
s_response_for(const cairn__run_t *run, const char *id)
{
    for (size_t r = 0; r < run->opts.response_count; r++) {
        const char *given = run->opts.responses[r].request_id;
        if (given && strcmp(given, id) == 0)
            return &run->opts.responses[r];
    }
    return NULL;
}

/* Moves pending request i, with its answer, into its executor's mailbox
 * and remembers it as answered. */
static int
s_deliver(cairn__run_t *run, size_t i, const cairn_response_t *response)
{
    Cairn__Request *request = run->requests.items[i];
    char *id = strdup(request->id);
    Cairn__Message *msg = cairn__pb_message_new(request->kind, NULL, NULL,
                                                response->value, response->len);
    long x = cairn__workflow_find(run->wf, request->executor);
    if (!id || !msg || cairn__ptrs_push(&run->answered, id) != CAIRN_OK) {
        free(id);
        cairn__pb_message_free(msg);
        return CAIRN_ENOMEM;
    }
    msg->answers = request;
    if (cairn__ptrs_push(&run->pool.messages, msg) != CAIRN_OK) {
        cairn__pb_message_free(msg); /* frees the request too */
        run->requests.items[i] = NULL;
        return CAIRN_ENOMEM;
    }
    run->requests.items[i] = NULL;
    return cairn__ptrs_push(&run->inbox[x], msg);
}

int
cairn__requests_answer(cairn__run_t *run, cairn_error_t *err)
{
    for (size_t r = 0; r < run->opts.response_count; r++) {
        int rc = s_check_response(run, r, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    int rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < run->requests.count; i++) {
        const Cairn__Request *request = run->requests.items[i];
        const cairn_response_t *response = s_response_for(run, request->id);
        if (response)
            rc = s_deliver(run, i, response);
    }
    /* Close the gaps the delivered requests left, keeping the order. */
    size_t kept = 0;
    for (size_t i = 0; i < run->requests.count; i++)
        if (run->requests.items[i])
            run->requests.items[kept++] = run->requests.items[i];
    run->requests.count = kept;
    if (rc != CAIRN_OK)
        return cairn_error_set(err, rc, "out of memory");
    return CAIRN_OK;
}
