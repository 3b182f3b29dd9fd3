/* codec.c - Envelopes to ZeroMQ frames and back (see codec.h). */
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "cairn/error.h"
#include "base/tsan.h"
#include "proto/codec.h"
#include "proto/pbutil.h"

/* Every send releases and every receive acquires one shared sync object:
 * coarse, but it is exactly the ordering ZeroMQ guarantees (tsan.h). */
static char s_transport_sync;

const char cairn__why_wrong_version[] = "wrong protocol version";

int
cairn__envelope_send(void *socket, const cairn__peer_t *peer,
                     Cairn__Envelope *env)
{
    env->protocol = CAIRN__PROTOCOL_VERSION;
    size_t size = cairn__envelope__get_packed_size(env);
    zmq_msg_t frame;
    if (zmq_msg_init_size(&frame, size) != 0)
        return CAIRN_ENOMEM;
    cairn__envelope__pack(env, zmq_msg_data(&frame));
    CAIRN__HANDOFF_RELEASE(&s_transport_sync);
    /* The ROUTER side never blocks: with ROUTER_MANDATORY a peer that
     * stops reading (a hostile client, a hung worker) would otherwise
     * stall the coordinator once its queue is full. EAGAIN says so, and
     * nothing of the message was queued. */
    int flags = peer ? ZMQ_DONTWAIT : 0;
    if (peer
        && zmq_send(socket, peer->bytes, peer->len, ZMQ_SNDMORE | flags) < 0) {
        zmq_msg_close(&frame);
        return CAIRN_ETRANSPORT;
    }
    if (zmq_msg_send(&frame, socket, flags) < 0) {
        zmq_msg_close(&frame);
        return CAIRN_ETRANSPORT;
    }
    return CAIRN_OK;
}

int
cairn__heartbeat_send(void *socket, const cairn__peer_t *peer)
{
    Cairn__Heartbeat heartbeat = CAIRN__HEARTBEAT__INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    heartbeat.sent_at_ms =
        (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &heartbeat;
    return cairn__envelope_send(socket, peer, &env);
}

/* Reads and discards the rest of a multipart message. */
static void
s_drain(void *socket)
{
    int more = 1;
    size_t more_size = sizeof more;
    while (zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &more_size) == 0
           && more) {
        zmq_msg_t junk;
        zmq_msg_init(&junk);
        if (zmq_msg_recv(&junk, socket, 0) < 0) {
            zmq_msg_close(&junk);
            return;
        }
        zmq_msg_close(&junk);
    }
}

int
cairn__envelope_recv(void *socket, cairn__peer_t *peer, size_t max_frame,
                     Cairn__Envelope **out, const char **why)
{
    *out = NULL;
    *why = NULL;
    if (peer) {
        int len = zmq_recv(socket, peer->bytes, sizeof peer->bytes, 0);
        if (len < 0)
            return CAIRN_ETRANSPORT;
        peer->len = (size_t)len > sizeof peer->bytes ? sizeof peer->bytes
                                                    : (size_t)len;
    }
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, socket, 0) < 0) {
        zmq_msg_close(&frame);
        return CAIRN_ETRANSPORT;
    }
    CAIRN__HANDOFF_ACQUIRE(&s_transport_sync);
    int rc = CAIRN_OK;
    if (zmq_msg_more(&frame)) {
        *why = "unexpected extra frames";
        rc = CAIRN_EPROTO;
    } else if (zmq_msg_size(&frame) > max_frame) {
        *why = "frame larger than the configured maximum";
        rc = CAIRN_EPROTO;
    } else {
        cairn__unpack_guard_t guard;
        CAIRN__UNPACK_GUARD(guard);
        guard.budget = CAIRN__DECODE_BUDGET(max_frame);
        Cairn__Envelope *env = cairn__envelope__unpack(
            &guard.allocator, zmq_msg_size(&frame), zmq_msg_data(&frame));
        if (!env && guard.over_budget) {
            *why = "frame decodes to more than its budget";
            rc = CAIRN_EPROTO;
        } else if (!env) {
            *why = "frame is not a protobuf Envelope";
            rc = CAIRN_EPROTO;
        } else if (env->protocol != CAIRN__PROTOCOL_VERSION) {
            *why = cairn__why_wrong_version;
            rc = CAIRN_EPROTO;
        } else if (env->body_case == CAIRN__ENVELOPE__BODY__NOT_SET) {
            *why = "envelope has no body";
            rc = CAIRN_EPROTO;
        }
        if (rc == CAIRN_OK)
            *out = env;
        else if (env)
            cairn__envelope__free_unpacked(env, NULL);
    }
    s_drain(socket);
    zmq_msg_close(&frame);
    return rc;
}
