/* test_codec.c - Envelope framing: round trips and rejected frames.
 *
 * Uses a real ROUTER/DEALER pair over inproc so the routing-id handling
 * is exercised exactly as the coordinator uses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>
#include <zmq.h>

#include "cairn/error.h"
#include "proto/codec.h"

typedef struct {
    zsock_t *router;
    zsock_t *dealer;
} pair_t;

static int
setup(void **state)
{
    static int counter;
    static pair_t pair;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://test-codec-%d", counter++);
    zsys_handler_set(NULL);
    pair.router = zsock_new_router(endpoint);
    pair.dealer = zsock_new(ZMQ_DEALER);
    zsock_set_identity(pair.dealer, "peer-1");
    if (!pair.router || !pair.dealer
        || zsock_connect(pair.dealer, "%s", endpoint) != 0)
        return -1;
    *state = &pair;
    return 0;
}

static int
teardown(void **state)
{
    pair_t *pair = *state;
    zsock_destroy(&pair->dealer);
    zsock_destroy(&pair->router);
    return 0;
}

/* Receives on the ROUTER, waiting at most one second for the frame. */
static int
recv_router(pair_t *pair, size_t max_frame, Cairn__Envelope **env,
            const char **why, cairn__peer_t *peer)
{
    zmq_pollitem_t item = {zsock_resolve(pair->router), 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&item, 1, 1000), 1);
    return cairn__envelope_recv(zsock_resolve(pair->router), peer, max_frame,
                                env, why);
}

static void
send_raw(pair_t *pair, const void *data, size_t len, bool more)
{
    assert_true(zmq_send(zsock_resolve(pair->dealer), data, len,
                         more ? ZMQ_SNDMORE : 0)
                >= 0);
}

/* Packs env by hand, bypassing the codec (which always sets the version). */
static void
send_packed(pair_t *pair, Cairn__Envelope *env)
{
    uint8_t buffer[256];
    size_t len = cairn__envelope__pack(env, buffer);
    send_raw(pair, buffer, len, false);
}

static void
test_codec_round_trip_keeps_body_and_peer(void **state)
{
    pair_t *pair = *state;
    Cairn__Heartbeat heartbeat = CAIRN__HEARTBEAT__INIT;
    heartbeat.sent_at_ms = 12345;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &heartbeat;
    assert_int_equal(
        cairn__envelope_send(zsock_resolve(pair->dealer), NULL, &env),
        CAIRN_OK);
    Cairn__Envelope *got = NULL;
    const char *why = NULL;
    cairn__peer_t peer;
    assert_int_equal(recv_router(pair, 1024, &got, &why, &peer), CAIRN_OK);
    assert_non_null(got);
    assert_int_equal(got->protocol, CAIRN__PROTOCOL_VERSION);
    assert_int_equal(got->body_case, CAIRN__ENVELOPE__BODY_HEARTBEAT);
    assert_int_equal(got->heartbeat->sent_at_ms, 12345);
    assert_int_equal(peer.len, 6);
    assert_memory_equal(peer.bytes, "peer-1", 6);
    cairn__envelope__free_unpacked(got, NULL);
}

/* Sends a bad frame, checks it is rejected with the expected reason and
 * that a good frame after it still gets through. */
static void
expect_rejected(pair_t *pair, size_t max_frame, const char *reason)
{
    Cairn__Envelope *got = NULL;
    const char *why = NULL;
    cairn__peer_t peer;
    assert_int_equal(recv_router(pair, max_frame, &got, &why, &peer),
                     CAIRN_EPROTO);
    assert_null(got);
    assert_non_null(why);
    assert_non_null(strstr(why, reason));

    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    Cairn__Heartbeat heartbeat = CAIRN__HEARTBEAT__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &heartbeat;
    assert_int_equal(
        cairn__envelope_send(zsock_resolve(pair->dealer), NULL, &env),
        CAIRN_OK);
    assert_int_equal(recv_router(pair, max_frame, &got, &why, &peer),
                     CAIRN_OK);
    cairn__envelope__free_unpacked(got, NULL);
}

static void
test_codec_rejects_random_bytes(void **state)
{
    pair_t *pair = *state;
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x00, 0x99};
    send_raw(pair, junk, sizeof junk, false);
    expect_rejected(pair, 1024, "not a protobuf Envelope");
}

static void
test_codec_rejects_wrong_protocol_version(void **state)
{
    pair_t *pair = *state;
    Cairn__Heartbeat heartbeat = CAIRN__HEARTBEAT__INIT;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.protocol = CAIRN__PROTOCOL_VERSION + 1;
    env.body_case = CAIRN__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &heartbeat;
    send_packed(pair, &env);
    expect_rejected(pair, 1024, "wrong protocol version");
}

static void
test_codec_rejects_envelope_without_body(void **state)
{
    pair_t *pair = *state;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.protocol = CAIRN__PROTOCOL_VERSION;
    send_packed(pair, &env);
    expect_rejected(pair, 1024, "no body");
}

static void
test_codec_rejects_oversized_frame(void **state)
{
    pair_t *pair = *state;
    uint8_t big[2048];
    memset(big, 'x', sizeof big);
    send_raw(pair, big, sizeof big, false);
    expect_rejected(pair, 1024, "larger than the configured maximum");
}

static void
test_codec_rejects_multipart_frame(void **state)
{
    pair_t *pair = *state;
    send_raw(pair, "a", 1, true);
    send_raw(pair, "b", 1, false);
    expect_rejected(pair, 1024, "extra frames");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_codec_round_trip_keeps_body_and_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codec_rejects_random_bytes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_codec_rejects_wrong_protocol_version, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_codec_rejects_envelope_without_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codec_rejects_oversized_frame,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_codec_rejects_multipart_frame,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
