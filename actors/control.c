/* control.c - pausing and cancelling runs: the handle and the endpoint.
 *
 * The handle is two lock-free atomics: the requests not yet acted on (a
 * bit set) and the superstep the run is in. Pause and cancel only set a
 * bit, so they are safe in a signal handler; the run reads and consumes
 * the bits at barriers (pause) and whenever its collect loop wakes up
 * (cancel). See include/cairn/control.h for the semantics.
 *
 * The control endpoint is a ROUTER bound on an ipc:// path for the
 * lifetime of one run. Its peers are other processes, so every frame is
 * untrusted: it must be one Envelope frame of our protocol version,
 * small, with a Control body for this run, or it is refused (logged,
 * answered with kind NONE when it came with a routing id) and changes
 * nothing. The socket file is made owner-only (0600) after binding and
 * removed when the run ends.
 *
 * Threading: the handle may be touched from any thread; ctl and its
 * socket belong to the run's thread. cairn_control_send uses a socket of
 * its own and may run on any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cairn/log.h"
#include "actors/control.h"
#include "proto/codec.h"

/* A control request is a few dozen bytes; anything much larger is not
 * one, and is dropped by libzmq before it is even buffered. */
#define S_MAX_FRAME 4096
#define S_IPC "ipc://"
#define S_IPC_PATH_MAX 107

_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "pause/cancel must be async-signal-safe");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "the superstep must be readable from a signal handler");

/* ---- the handle ------------------------------------------------------------
 */

static void
s_handle_init(cairn_run_control_t *self)
{
    atomic_init(&self->requests, 0u);
    atomic_init(&self->superstep, 0u);
}

cairn_run_control_t *
cairn_run_control_new(void)
{
    cairn_run_control_t *self = malloc(sizeof *self);
    if (self)
        s_handle_init(self);
    return self;
}

void
cairn_run_control_destroy(cairn_run_control_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void
cairn_run_control_pause(cairn_run_control_t *self)
{
    atomic_fetch_or(&self->requests, CAIRN__CONTROL_PAUSE);
}

void
cairn_run_control_cancel(cairn_run_control_t *self)
{
    atomic_fetch_or(&self->requests, CAIRN__CONTROL_CANCEL);
}

uint64_t
cairn_run_control_superstep(const cairn_run_control_t *self)
{
    return atomic_load(&((cairn_run_control_t *)self)->superstep);
}

/* ---- the run's side
 * ----------------------------------------------------------- */

/* Binds the ROUTER of the control endpoint, owner-only. */
static int
s_bind(cairn__ctl_t *ctl, const char *endpoint, cairn_error_t *err)
{
    size_t len = strlen(endpoint);
    if (strncmp(endpoint, S_IPC, strlen(S_IPC)) != 0 || len == strlen(S_IPC))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "control endpoint '%s' must be ipc://PATH",
                               endpoint);
    if (len - strlen(S_IPC) > S_IPC_PATH_MAX)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "control endpoint '%s' is longer than the "
                               "%d bytes an ipc path may have",
                               endpoint, S_IPC_PATH_MAX);
    ctl->socket = zsock_new(ZMQ_ROUTER);
    if (!ctl->socket)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    zsock_set_linger(ctl->socket, 0);
    zsock_set_maxmsgsize(ctl->socket, S_MAX_FRAME);
    zsock_set_sndhwm(ctl->socket, 64);
    zsock_set_rcvhwm(ctl->socket, 64);
    if (zsock_bind(ctl->socket, "%s", endpoint) < 0) {
        int saved = zmq_errno();
        zsock_destroy(&ctl->socket);
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "cannot bind control endpoint %s: %s", endpoint,
                               zmq_strerror(saved));
    }
    /* Whoever may connect may pause or cancel: only our user. */
    if (chmod(endpoint + strlen(S_IPC), S_IRUSR | S_IWUSR) != 0)
        cairn_log(CAIRN_LOG_WARN, "control", "cannot make %s owner-only: %s",
                  endpoint, strerror(errno));
    snprintf(ctl->endpoint, sizeof ctl->endpoint, "%s", endpoint);
    return CAIRN_OK;
}

int
cairn__ctl_open(cairn__ctl_t *ctl, const cairn_run_options_t *opts,
                cairn_error_t *err)
{
    memset(ctl, 0, sizeof *ctl);
    s_handle_init(&ctl->own);
    ctl->handle = opts && opts->control ? opts->control : &ctl->own;
    atomic_store(&ctl->handle->superstep, 0u);
    if (!opts || !opts->control_endpoint)
        return CAIRN_OK;
    return s_bind(ctl, opts->control_endpoint, err);
}

void
cairn__ctl_close(cairn__ctl_t *ctl)
{
    if (!ctl->handle)
        return;
    if (ctl->socket) {
        zsock_destroy(&ctl->socket);
        /* libzmq removes the file it bound; make sure of it. */
        if (unlink(ctl->endpoint + strlen(S_IPC)) != 0 && errno != ENOENT)
            cairn_log(CAIRN_LOG_WARN, "control", "cannot remove %s: %s",
                      ctl->endpoint, strerror(errno));
    }
    atomic_store(&ctl->handle->requests, 0u);
    atomic_store(&ctl->handle->superstep, 0u);
    ctl->handle = NULL;
}

void *
cairn__ctl_pollable(const cairn__ctl_t *ctl)
{
    return ctl->socket ? zsock_resolve(ctl->socket) : NULL;
}

void
cairn__ctl_publish(cairn__ctl_t *ctl, uint64_t superstep)
{
    atomic_store_explicit(&ctl->handle->superstep, superstep,
                          memory_order_relaxed);
}

bool
cairn__ctl_take(cairn__ctl_t *ctl, unsigned request)
{
    if (!(atomic_load_explicit(&ctl->handle->requests, memory_order_relaxed)
          & request))
        return false;
    return (atomic_fetch_and(&ctl->handle->requests, ~request) & request) != 0;
}

static const char *
s_status_text(const cairn__ctl_t *ctl)
{
    unsigned requests = atomic_load(&ctl->handle->requests);
    if (requests & CAIRN__CONTROL_CANCEL)
        return "cancelling";
    if (requests & CAIRN__CONTROL_PAUSE)
        return "pausing";
    return "running";
}

static void
s_reply(cairn__ctl_t *ctl, const cairn__peer_t *peer, const char *run_id,
        Cairn__Control__Kind kind, const char *text)
{
    Cairn__Control control = CAIRN__CONTROL__INIT;
    control.kind = kind;
    control.run_id = (char *)run_id;
    control.text = (char *)text;
    control.superstep = atomic_load(&ctl->handle->superstep);
    control.status = (char *)s_status_text(ctl);
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_CONTROL;
    env.control = &control;
    /* A ROUTER drops what it cannot deliver: a peer that went away or
     * does not read never blocks the run. */
    (void)cairn__envelope_send(zsock_resolve(ctl->socket), peer, &env);
}

static void
s_refuse(cairn__ctl_t *ctl, const cairn__peer_t *peer, const char *run_id,
         const char *why)
{
    ctl->refused++;
    cairn_log(CAIRN_LOG_WARN, "control", "run %s: refused control request: %s",
              run_id, why);
    s_reply(ctl, peer, run_id, CAIRN__CONTROL__KIND__NONE, why);
}

/* Acts on one well-formed Control request. */
static void
s_handle(cairn__ctl_t *ctl, const cairn__peer_t *peer, const char *run_id,
         const Cairn__Control *control)
{
    if (strcmp(control->run_id, run_id) != 0) {
        s_refuse(ctl, peer, run_id, "request for another run");
        return;
    }
    char text[128];
    uint64_t superstep = atomic_load(&ctl->handle->superstep);
    switch (control->kind) {
    case CAIRN__CONTROL__KIND__STATUS:
        snprintf(text, sizeof text, "in superstep %llu",
                 (unsigned long long)superstep);
        break;
    case CAIRN__CONTROL__KIND__PAUSE:
        cairn_run_control_pause(ctl->handle);
        snprintf(text, sizeof text, "pausing at the barrier of superstep %llu",
                 (unsigned long long)superstep);
        break;
    case CAIRN__CONTROL__KIND__CANCEL:
        cairn_run_control_cancel(ctl->handle);
        snprintf(text, sizeof text,
                 "cancelling: superstep %llu is abandoned, the last "
                 "checkpoint stays",
                 (unsigned long long)superstep);
        break;
    case CAIRN__CONTROL__KIND__RESUME:
        s_refuse(ctl, peer, run_id,
                 "the run is live: resume applies to a paused run");
        return;
    default:
        s_refuse(ctl, peer, run_id, "not a control request a run answers");
        return;
    }
    s_reply(ctl, peer, run_id, control->kind, text);
}

void
cairn__ctl_serve(cairn__ctl_t *ctl, const char *run_id)
{
    if (!ctl->socket)
        return;
    void *socket = zsock_resolve(ctl->socket);
    /* Bounded: a flood is answered a batch per call, never starving the
     * run. */
    for (int i = 0; i < 64; i++) {
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 0) <= 0)
            return;
        cairn__peer_t peer;
        Cairn__Envelope *env = NULL;
        const char *why = NULL;
        int rc = cairn__envelope_recv(socket, &peer, S_MAX_FRAME, &env, &why);
        if (rc == CAIRN_ETRANSPORT)
            return;
        if (rc != CAIRN_OK)
            s_refuse(ctl, &peer, run_id, why ? why : "malformed frame");
        else if (env->body_case != CAIRN__ENVELOPE__BODY_CONTROL)
            s_refuse(ctl, &peer, run_id, "not a Control envelope");
        else
            s_handle(ctl, &peer, run_id, env->control);
        if (env)
            cairn__envelope__free_unpacked(env, NULL);
    }
}

/* ---- the client's side
 * -------------------------------------------------------- */

static Cairn__Control__Kind
s_kind(cairn_control_op_t op)
{
    switch (op) {
    case CAIRN_CONTROL_PAUSE:
        return CAIRN__CONTROL__KIND__PAUSE;
    case CAIRN_CONTROL_CANCEL:
        return CAIRN__CONTROL__KIND__CANCEL;
    default:
        return CAIRN__CONTROL__KIND__STATUS;
    }
}

/* Checks the answer and copies it into reply. */
static int
s_read_reply(const Cairn__Envelope *env, const char *run_id,
             Cairn__Control__Kind kind, cairn_control_reply_t *reply,
             cairn_error_t *err)
{
    if (env->body_case != CAIRN__ENVELOPE__BODY_CONTROL)
        return cairn_error_set(err, CAIRN_EPROTO,
                               "the control endpoint answered with something "
                               "other than Control");
    const Cairn__Control *control = env->control;
    if (control->kind == CAIRN__CONTROL__KIND__NONE)
        return cairn_error_set(err, CAIRN_EPROTO, "run %s refused: %s", run_id,
                               control->text);
    if (control->kind != kind || strcmp(control->run_id, run_id) != 0)
        return cairn_error_set(err, CAIRN_EPROTO,
                               "the control endpoint answered for another "
                               "run or request");
    snprintf(reply->run_id, sizeof reply->run_id, "%s", control->run_id);
    snprintf(reply->status, sizeof reply->status, "%s", control->status);
    snprintf(reply->text, sizeof reply->text, "%s", control->text);
    reply->superstep = control->superstep;
    return CAIRN_OK;
}

int
cairn_control_send(const char *endpoint, const char *run_id,
                   cairn_control_op_t op, uint32_t timeout_ms,
                   cairn_control_reply_t *reply, cairn_error_t *err)
{
    cairn_error_clear(err);
    memset(reply, 0, sizeof *reply);
    if (!endpoint || strncmp(endpoint, S_IPC, strlen(S_IPC)) != 0 || !run_id)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "control endpoint '%s' must be ipc://PATH",
                               endpoint ? endpoint : "");
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    zsock_set_linger(sock, 0);
    zsock_set_sndtimeo(sock, (int)timeout_ms);
    zsock_set_maxmsgsize(sock, S_MAX_FRAME);
    int rc = CAIRN_OK;
    if (zsock_connect(sock, "%s", endpoint) < 0) {
        rc = cairn_error_set(err, CAIRN_EINVAL,
                             "cannot connect to control endpoint %s: %s",
                             endpoint, zmq_strerror(zmq_errno()));
        goto done;
    }
    Cairn__Control control = CAIRN__CONTROL__INIT;
    control.kind = s_kind(op);
    control.run_id = (char *)run_id;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_CONTROL;
    env.control = &control;
    void *socket = zsock_resolve(sock);
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    if (cairn__envelope_send(socket, NULL, &env) != CAIRN_OK
        || zmq_poll(&item, 1, (long)timeout_ms) <= 0) {
        rc = cairn_error_set(err, CAIRN_ETRANSPORT,
                             "run %s did not answer on %s within %u ms", run_id,
                             endpoint, (unsigned)timeout_ms);
        goto done;
    }
    Cairn__Envelope *answer = NULL;
    const char *why = NULL;
    if (cairn__envelope_recv(socket, NULL, S_MAX_FRAME, &answer, &why)
        != CAIRN_OK) {
        rc = cairn_error_set(err, CAIRN_EPROTO, "malformed answer from %s: %s",
                             endpoint, why ? why : "receive failed");
        goto done;
    }
    rc = s_read_reply(answer, run_id, control.kind, reply, err);
    cairn__envelope__free_unpacked(answer, NULL);
done:
    zsock_destroy(&sock);
    return rc;
}
