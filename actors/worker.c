/* worker.c - a worker process's main loop (worker.h).
 *
 * Handlers may run for a long time, and heartbeats must not wait for them.
 * So the worker is two threads: the executor host (host.c, the same actor
 * the engine runs in-process) runs handlers and talks to an inproc ROUTER
 * here; this thread relays frames between it and the coordinator, sends a
 * heartbeat every interval, and watches how long the coordinator has been
 * silent.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "actors/host.h"
#include "cairn/log.h"
#include "cairn/worker.h"
#include "actors/curve.h"
#include "base/util.h"
#include "graph/workflow_internal.h"
#include "proto/codec.h"
#include "proto/pbutil.h"

#define S_SILENT_BEATS 3
#define S_BROKEN_HANDSHAKES 3 /* in a row: taken for a refusal */

typedef struct {
    cairn__host_args_t args;  /* the host thread's; endpoint is inproc */
    const char *coordinator;  /* endpoint of the coordinator */
    zsock_t *up;              /* DEALER to the coordinator */
    zsock_t *down;            /* ROUTER the host thread connects to */
    zactor_t *host;
    zsock_t *monitor;         /* handshake events of up */
    char refusal[160];        /* why handshakes are refused, or "" */
    unsigned failures;        /* failed handshakes since the last success */
    cairn__peer_t host_peer;  /* routing id of the host thread */
    uint64_t last_heard;      /* monotonic us of the coordinator's last frame */
} s_worker_t;

/* A Shutdown from the coordinator, whatever protocol version it speaks
 * (a coordinator refusing our version says so in one). Returns its
 * reason (malloc'd) or NULL. */
static char *
s_shutdown_reason(const zmq_msg_t *frame)
{
    cairn__unpack_guard_t guard;
    CAIRN__UNPACK_GUARD(guard);
    Cairn__Envelope *env = cairn__envelope__unpack(
        &guard.allocator, zmq_msg_size(frame),
        zmq_msg_data((zmq_msg_t *)frame));
    char *reason = NULL;
    if (env && env->body_case == CAIRN__ENVELOPE__BODY_SHUTDOWN)
        reason = strdup(env->shutdown->reason && *env->shutdown->reason
                            ? env->shutdown->reason
                            : "the coordinator shut this worker down");
    if (env)
        cairn__envelope__free_unpacked(env, NULL);
    return reason;
}

/* Moves one multipart-free frame from one socket to another, with
 * the routing id frame the ROUTER side needs. *shutdown (when not NULL)
 * gets the reason of a Shutdown passing by. */
static int
s_relay(void *from, void *to, const cairn__peer_t *to_peer, bool from_router,
        char **shutdown)
{
    if (from_router) {
        char peer[256];
        if (zmq_recv(from, peer, sizeof peer, 0) < 0)
            return -1;
    }
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, from, 0) < 0) {
        zmq_msg_close(&frame);
        return -1;
    }
    if (shutdown)
        *shutdown = s_shutdown_reason(&frame);
    if (to_peer
        && zmq_send(to, to_peer->bytes, to_peer->len, ZMQ_SNDMORE) < 0) {
        zmq_msg_close(&frame);
        return -1;
    }
    if (zmq_msg_send(&frame, to, 0) < 0) {
        zmq_msg_close(&frame);
        return -1;
    }
    return 0;
}

static void
s_close(s_worker_t *self)
{
    if (self->monitor)
        zmq_socket_monitor(zsock_resolve(self->up), NULL, 0);
    zsock_destroy(&self->monitor);
    zactor_destroy(&self->host);
    zsock_destroy(&self->down);
    zsock_destroy(&self->up);
}

static int
s_open(s_worker_t *self, const cairn_worker_options_t *opts,
       cairn_error_t *err)
{
    char inproc[128];
    snprintf(inproc, sizeof inproc, "inproc://cairn-worker-%p", (void *)self);
    self->down = zsock_new(ZMQ_ROUTER);
    self->up = zsock_new(ZMQ_DEALER);
    if (!self->down || !self->up)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    zsock_set_linger(self->up, 0);
    zsock_set_linger(self->down, 0);
    /* The routing id holds the nonce: a process restarted under the same
     * worker id is another peer to the coordinator's ROUTER (which would
     * ignore a second connection under a routing id still in use), and
     * whatever the old process still sends is told apart. */
    char routing_id[96];
    snprintf(routing_id, sizeof routing_id, "%s/%016llx", self->args.host_id,
             (unsigned long long)self->args.nonce);
    zsock_set_identity(self->up, routing_id);
    /* A coordinator (or whoever answers on its endpoint) cannot make us
     * read a frame larger than the host would take anyway. */
    int64_t limit = (int64_t)CAIRN__DELIVER_LIMIT;
    zmq_setsockopt(zsock_resolve(self->up), ZMQ_MAXMSGSIZE, &limit,
                   sizeof limit);
    /* A DEALER whose only pipe is gone (a refused handshake) blocks on
     * send: wait at most one heartbeat, then drop what cannot go (there is
     * no coordinator to take it). */
    zsock_set_sndtimeo(self->up, (int)(opts->heartbeat_ms
                                           ? opts->heartbeat_ms
                                           : CAIRN_DEFAULT_HEARTBEAT_MS));
    if ((opts->curve_secret || opts->server_key)
        && (!opts->curve_secret || !opts->server_key))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "a CURVE worker needs both its secret key "
                               "file and the coordinator's public key file");
    if (opts->curve_secret) {
        int rc = cairn__curve_client_apply(self->up, opts->curve_secret,
                                           opts->server_key, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    /* Refused handshakes are only told through a socket monitor. */
    char monitor[128];
    snprintf(monitor, sizeof monitor, "inproc://cairn-worker-monitor-%p",
             (void *)self);
    if (zmq_socket_monitor(zsock_resolve(self->up), monitor,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                               | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            != 0
        || !(self->monitor = zsock_new_pair(monitor)))
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "worker cannot monitor its connection");
    if (zsock_bind(self->down, "%s", inproc) != 0
        || zsock_connect(self->up, "%s", self->coordinator) != 0)
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "worker cannot connect to %s",
                               self->coordinator);
    snprintf(self->args.endpoint, sizeof self->args.endpoint, "%s", inproc);
    self->host_peer.len = strlen(self->args.host_id);
    memcpy(self->host_peer.bytes, self->args.host_id, self->host_peer.len);
    /* The host thread says Hello on connecting; it reaches the
     * coordinator through the relay. */
    self->host = zactor_new(cairn__host_actor, &self->args);
    if (!self->host)
        return cairn_error_set(err, CAIRN_ENOMEM,
                               "cannot start the executor host");
    self->last_heard = cairn__monotonic_us();
    return CAIRN_OK;
}

/* Takes one handshake event: a failure is remembered (and logged the
 * first time), a success forgets it. */
static void
s_on_monitor(s_worker_t *self)
{
    uint16_t event;
    uint32_t value;
    if (!cairn__monitor_event_recv(self->monitor, &event, &value))
        return;
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        self->refusal[0] = '\0';
        self->failures = 0;
        return;
    }
    /* A handshake broken off once may be a coordinator dying (it may come
     * back); a refusal is an authentication or protocol failure, or
     * handshakes broken off again and again by a peer that is there
     * (ZeroMQ retries every 100 ms). */
    self->failures++;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        && self->failures < S_BROKEN_HANDSHAKES)
        return;
    bool first = !self->refusal[0];
    cairn__curve_describe_failure(event, value, self->refusal,
                                  sizeof self->refusal);
    if (first)
        cairn_log(CAIRN_LOG_WARN, "worker",
                  "worker %s: the coordinator at %s refused the handshake: "
                  "%s",
                  self->args.host_id, self->coordinator, self->refusal);
}

/* Relays and keeps time until stopped, shut down or given up. */
static int
s_loop(s_worker_t *self, const cairn_worker_options_t *opts,
       cairn_error_t *err)
{
    uint64_t beat_us = (uint64_t)(opts->heartbeat_ms
                                      ? opts->heartbeat_ms
                                      : CAIRN_DEFAULT_HEARTBEAT_MS)
                       * 1000u;
    void *up = zsock_resolve(self->up), *down = zsock_resolve(self->down);
    void *monitor = zsock_resolve(self->monitor);
    uint64_t next_beat = cairn__monotonic_us() + beat_us;
    bool lost = false;
    while (!(opts->stop && *opts->stop)) {
        zmq_pollitem_t items[] = {{up, 0, ZMQ_POLLIN, 0},
                                  {down, 0, ZMQ_POLLIN, 0},
                                  {monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 3, (long)(beat_us / 1000u)) < 0
            && zmq_errno() != EINTR)
            return cairn_error_set(err, CAIRN_ETRANSPORT, "poll failed: %s",
                                   zmq_strerror(zmq_errno()));
        if (items[0].revents & ZMQ_POLLIN) {
            self->last_heard = cairn__monotonic_us();
            char *shutdown = NULL;
            s_relay(up, down, &self->host_peer, false, &shutdown);
            if (shutdown) {
                int rc = cairn_error_set(err, CAIRN_EPROTO,
                                         "worker %s: the coordinator at %s "
                                         "shut it down: %s",
                                         self->args.host_id,
                                         self->coordinator, shutdown);
                free(shutdown);
                return rc;
            }
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_relay(down, up, NULL, true, NULL);
        if (items[2].revents & ZMQ_POLLIN)
            s_on_monitor(self);
        uint64_t now = cairn__monotonic_us();
        uint64_t silent = now - self->last_heard;
        bool silent_long = silent > S_SILENT_BEATS * beat_us;
        if (silent_long && self->refusal[0])
            return cairn_error_set(err, CAIRN_ETRANSPORT,
                                   "worker %s: the coordinator at %s refused "
                                   "the connection: %s",
                                   self->args.host_id, self->coordinator,
                                   self->refusal);
        if (now >= next_beat) {
            next_beat = now + beat_us;
            /* A coordinator that went silent may come back on the same
             * endpoint as a new process: introduce ourselves again. */
            if (silent_long)
                cairn__hello_send(up, &self->args);
            else
                cairn__heartbeat_send(up, NULL);
        }
        if (silent_long && !lost)
            cairn_log(CAIRN_LOG_WARN, "worker",
                      "worker %s: no word from the coordinator at %s for %llu "
                      "ms; waiting for it to come back",
                      self->args.host_id, self->coordinator,
                      (unsigned long long)(silent / 1000u));
        lost = silent_long;
        if (opts->give_up_after_ms && silent > opts->give_up_after_ms * 1000u)
            return cairn_error_set(err, CAIRN_ETRANSPORT,
                                   "worker %s: no coordinator at %s for %llu "
                                   "ms; giving up",
                                   self->args.host_id, self->coordinator,
                                   (unsigned long long)(silent / 1000u));
    }
    return CAIRN_OK;
}

int
cairn_worker_run(const cairn_registry_t *registry,
                 const cairn_worker_options_t *opts, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!registry || !opts || !opts->endpoint)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "a worker needs a registry and an endpoint");
    if (opts->worker_id && !cairn__valid_id(opts->worker_id))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "worker id '%s' must match "
                               "[A-Za-z0-9_-]{1,64} (a coordinator refuses "
                               "any other)",
                               opts->worker_id);
    if (cairn__process_init() != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "libsodium init failed");
    s_worker_t self = {.coordinator = opts->endpoint};
    self.args.registry = registry;
    self.args.labels = opts->labels;
    self.args.label_count = opts->label_count;
    if (opts->worker_id)
        snprintf(self.args.host_id, sizeof self.args.host_id, "%s",
                 opts->worker_id);
    else
        snprintf(self.args.host_id, sizeof self.args.host_id,
                 "worker-%ld-%06x", (long)getpid(),
                 randombytes_random() & 0xffffffu);
    /* Tells this process from an earlier one under the same id: every
     * Hello carries it (docs/protocol.md). 0 means "none". */
    while (self.args.nonce == 0)
        randombytes_buf(&self.args.nonce, sizeof self.args.nonce);
    int rc = s_open(&self, opts, err);
    if (rc == CAIRN_OK)
        rc = s_loop(&self, opts, err);
    s_close(&self);
    return rc;
}
