/* fuzz_envelope - one frame through the coordinator's receive path.
 *
 * The input is the bytes of one frame. It is sent from a DEALER to a
 * ROUTER over inproc (both set up once) and received with the real
 * cairn__envelope_recv(), exactly as the coordinator receives a host's
 * frame: size limit, protobuf decode, protocol version, body. When it
 * decodes, every field of the body is walked (strings to their NUL,
 * bytes to their length, nested fan-in parts to the bottom), and each
 * Message is cloned and freed with proto/pbutil, which the coordinator
 * uses on Dones.
 *
 * Not covered here: the coordinator's acceptance checks of a Done during
 * a run (run id, superstep, placement) and the barrier applying it.
 * Driving a live run per input costs several thread round trips; the
 * barrier's handling of a Done is reached instead by fuzz_checkpoint,
 * whose pending-write record is a stored Done put back at resume.
 */
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "cairn/error.h"
#include "base/kv.h"
#include "fuzz.h"
#include "proto/codec.h"
#include "proto/pbutil.h"

/* Frames larger than this are refused before decoding (the coordinator
 * uses max_message_size-based limits; libFuzzer inputs are smaller). */
#define S_MAX_FRAME ((size_t)1 << 20)

static void *s_ctx;
static void *s_router;
static void *s_dealer;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_ctx = zmq_ctx_new();
    FUZZ_REQUIRE(s_ctx);
    s_router = zmq_socket(s_ctx, ZMQ_ROUTER);
    s_dealer = zmq_socket(s_ctx, ZMQ_DEALER);
    FUZZ_REQUIRE(s_router && s_dealer);
    int zero = 0;
    zmq_setsockopt(s_router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s_dealer, ZMQ_LINGER, &zero, sizeof zero);
    /* No high-water mark: every input is received before the next. */
    zmq_setsockopt(s_router, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(s_dealer, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(s_dealer, ZMQ_ROUTING_ID, "host-0", 6);
    FUZZ_REQUIRE(zmq_bind(s_router, "inproc://cairn-fuzz-envelope") == 0);
    FUZZ_REQUIRE(zmq_connect(s_dealer, "inproc://cairn-fuzz-envelope") == 0);
    return 0;
}

static unsigned
s_walk_message(const Cairn__Message *msg)
{
    unsigned sum = fuzz_touch_str(msg->type) + fuzz_touch_str(msg->source)
                   + fuzz_touch_str(msg->target)
                   + fuzz_touch(msg->payload.data, msg->payload.len);
    for (size_t i = 0; i < msg->n_parts; i++)
        sum += s_walk_message(msg->parts[i]);
    return sum;
}

/* Walks and round-trips a Message the way the coordinator handles one
 * it keeps (fan-in FIFOs hold clones). */
static unsigned
s_check_message(const Cairn__Message *msg)
{
    unsigned sum = s_walk_message(msg);
    Cairn__Message *copy = cairn__pb_message_clone(msg);
    if (copy) {
        sum += s_walk_message(copy);
        cairn__pb_message_free(copy);
    }
    return sum;
}

static unsigned
s_walk_entries(Cairn__StateEntry *const *entries, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += fuzz_touch_str(entries[i]->key)
               + fuzz_touch(entries[i]->value.data, entries[i]->value.len)
               + entries[i]->deleted;
    return sum;
}

static unsigned
s_walk_strings(char *const *strings, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += fuzz_touch_str(strings[i]);
    return sum;
}

static unsigned
s_walk_done(const Cairn__Done *done)
{
    unsigned sum = fuzz_touch_str(done->run_id)
                   + fuzz_touch_str(done->executor_id)
                   + fuzz_touch_str(done->error);
    for (size_t i = 0; i < done->n_sent; i++)
        sum += s_check_message(done->sent[i]);
    for (size_t i = 0; i < done->n_outputs; i++)
        sum += fuzz_touch(done->outputs[i].data, done->outputs[i].len);
    sum += s_walk_entries(done->state_writes, done->n_state_writes);
    sum += s_walk_entries(done->shared_writes, done->n_shared_writes);
    /* The barrier applies the writes to the coordinator's maps. */
    cairn__kv_t *kv = cairn__kv_new();
    if (kv) {
        (void)cairn__kv_apply_entries(kv, done->state_writes,
                                      done->n_state_writes);
        (void)cairn__kv_apply_entries(kv, done->shared_writes,
                                      done->n_shared_writes);
        sum += (unsigned)cairn__kv_size(kv);
        cairn__kv_destroy(&kv);
    }
    sum += s_walk_strings(done->checkpoint_tags, done->n_checkpoint_tags);
    return sum;
}

static unsigned
s_walk_deliver(const Cairn__Deliver *deliver)
{
    unsigned sum =
        fuzz_touch_str(deliver->run_id)
        + s_walk_entries(deliver->shared_updates, deliver->n_shared_updates);
    for (size_t i = 0; i < deliver->n_items; i++) {
        const Cairn__WorkItem *item = deliver->items[i];
        sum += fuzz_touch_str(item->executor_id)
               + fuzz_touch_str(item->executor_type)
               + fuzz_touch(item->config.data, item->config.len)
               + s_walk_entries(item->state, item->n_state);
        for (size_t m = 0; m < item->n_messages; m++)
            sum += s_check_message(item->messages[m]);
    }
    return sum;
}

static unsigned
s_walk(const Cairn__Envelope *env)
{
    switch (env->body_case) {
    case CAIRN__ENVELOPE__BODY_HELLO:
        return fuzz_touch_str(env->hello->host_id)
               + s_walk_strings(env->hello->executor_types,
                                env->hello->n_executor_types)
               + s_walk_strings(env->hello->labels, env->hello->n_labels);
    case CAIRN__ENVELOPE__BODY_WELCOME:
        return fuzz_touch_str(env->welcome->coordinator_id);
    case CAIRN__ENVELOPE__BODY_DELIVER:
        return s_walk_deliver(env->deliver);
    case CAIRN__ENVELOPE__BODY_DONE:
        return s_walk_done(env->done);
    case CAIRN__ENVELOPE__BODY_CONTROL:
        return fuzz_touch_str(env->control->run_id)
               + fuzz_touch_str(env->control->text);
    case CAIRN__ENVELOPE__BODY_SHUTDOWN:
        return fuzz_touch_str(env->shutdown->reason);
    default:
        return 0;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_REQUIRE(zmq_send(s_dealer, data, size, 0) == (int)size);
    cairn__peer_t peer;
    Cairn__Envelope *env = NULL;
    const char *why = NULL;
    int rc = cairn__envelope_recv(s_router, &peer, S_MAX_FRAME, &env, &why);
    FUZZ_REQUIRE(rc == CAIRN_OK || rc == CAIRN_EPROTO);
    FUZZ_REQUIRE(peer.len == 6 && memcmp(peer.bytes, "host-0", 6) == 0);
    if (rc == CAIRN_OK) {
        FUZZ_REQUIRE(env && !why);
        (void)s_walk(env);
        cairn__envelope__free_unpacked(env, NULL);
    } else {
        FUZZ_REQUIRE(!env && why && *why);
    }
    return 0;
}
