/* codec.h - Envelopes to ZeroMQ frames and back.
 *
 * The only place that turns protobuf messages into frames. Every received
 * frame is untrusted: it must decode, carry our protocol version and a
 * body, and fit the size limit, or it is rejected with CAIRN_EPROTO.
 * Sending packs straight into a zmq_msg_t (one allocation, no copy).
 */
#ifndef CAIRN_CODEC_H_INCLUDED
#define CAIRN_CODEC_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "cairn.pb-c.h"

#define CAIRN__PROTOCOL_VERSION 2

/* The *why of a frame refused for its protocol version (compare the
 * pointer): its sender gets told, so both sides can say what is wrong. */
extern const char cairn__why_wrong_version[];

/* The largest frame a run accepts: room for a few maximum-size messages
 * (or state values) plus envelope overhead. Hosts check their Done
 * against it before sending, so an executor that produces more fails
 * with a clear error instead of being dropped on the wire. */
#define CAIRN__FRAME_LIMIT(max_message_size)                                   \
    ((size_t)4 * (max_message_size) + ((size_t)1 << 20))

/* The most entries one Done may hold: sent messages, outputs, state and
 * shared writes, requests and checkpoint tags together. A host fails an
 * executor that makes more in one superstep; the coordinator refuses a
 * Done with more. With the frame limit it bounds what a Done decodes to. */
#define CAIRN__DONE_MAX_ENTRIES 65536

/* The entries of done that count against CAIRN__DONE_MAX_ENTRIES. */
static inline size_t
cairn__done_entries(const Cairn__Done *done)
{
    return done->n_sent + done->n_outputs + done->n_state_writes
           + done->n_shared_writes + done->n_requests
           + done->n_checkpoint_tags;
}

/* What a frame of at most max_frame bytes may decode to: its bytes twice
 * (copies, allocator rounding) and 256 bytes of structs and pointers for
 * each of CAIRN__DONE_MAX_ENTRIES entries. Without a bound a 1 MB frame
 * of empty messages decoded to 66 MB. */
#define CAIRN__DECODE_BUDGET(max_frame)                                        \
    ((size_t)2 * (max_frame) + (size_t)CAIRN__DONE_MAX_ENTRIES * 256)

/* The largest frame a host takes from its coordinator. A Deliver has no
 * bound derived from the message limit (it carries an executor's whole
 * state on restart, and all its mail), so this is a fixed ceiling: the
 * worker's socket refuses bigger frames before reading them. */
#define CAIRN__DELIVER_LIMIT ((size_t)1 << 30)

/* A ZeroMQ routing id (ROUTER peers). */
typedef struct {
    uint8_t bytes[256];
    size_t len;
} cairn__peer_t;

/* Sends env on socket (a libzmq socket handle). With peer != NULL the
 * routing id frame goes first (ROUTER). Sets env->protocol. Returns 0,
 * CAIRN_ENOMEM or CAIRN_ETRANSPORT. */
int
cairn__envelope_send(void *socket, const cairn__peer_t *peer,
                     Cairn__Envelope *env);

/* Sends a Heartbeat (to peer, when not NULL). */
int
cairn__heartbeat_send(void *socket, const cairn__peer_t *peer);

/* Receives one envelope without blocking past what zmq_poll promised.
 * With peer != NULL a routing id frame is read first (ROUTER).
 * On success *out is the decoded envelope (free with
 * cairn__envelope__free_unpacked(env, NULL)). A frame that is not a valid
 * envelope is consumed and reported as CAIRN_EPROTO with *why set to a
 * static description. Returns CAIRN_ETRANSPORT when nothing could be read. */
int
cairn__envelope_recv(void *socket, cairn__peer_t *peer, size_t max_frame,
                     Cairn__Envelope **out, const char **why);

#endif
