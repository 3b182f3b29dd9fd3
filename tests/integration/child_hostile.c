/* child_hostile.c - raw ZeroMQ peers that misbehave, for the worker tests.
 *
 *   child_hostile hostile ENDPOINT        for 1.5 s, keeps sending what no
 *                                         worker should, then exits 0
 *   child_hostile wrong-version ENDPOINT  says Hello in protocol 999, exits 0
 *                                         when told "protocol version
 *                                         mismatch" in a Shutdown
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "cairn.pb-c.h"
#include "proto/codec.h"

/* Packs env by hand with any protocol number. */
static void
s_send_envelope(void *socket, Cairn__Envelope *env)
{
    size_t len = cairn__envelope__get_packed_size(env);
    uint8_t *buffer = malloc(len);
    cairn__envelope__pack(env, buffer);
    zmq_send(socket, buffer, len, ZMQ_DONTWAIT);
    free(buffer);
}

/* Milliseconds of the monotonic clock. */
static long
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The child: a raw ZeroMQ client that keeps sending what no worker
 * should, for duration_ms of real time (not a count of rounds: a round is
 * slow under TSan on a loaded machine), never blocking (between runs
 * nobody reads; every send is ZMQ_DONTWAIT, the socket's send timeout
 * 0): random bytes, a wrong protocol version, a Done for a run and
 * executor it was never given, an oversized frame, a multipart message.
 * It says on stderr where it is, so a test that finds it still running
 * knows where it stopped. */
static void
s_hostile_client(const char *endpoint, long duration_ms)
{
    void *context = zmq_ctx_new();
    void *socket = zmq_socket(context, ZMQ_DEALER);
    int linger = 0, no_wait = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_SNDTIMEO, &no_wait, sizeof no_wait);
    zmq_connect(socket, endpoint);
    size_t big_len = 8u << 20;
    uint8_t *big = calloc(1, big_len);
    long deadline = s_now_ms() + duration_ms;
    int rounds = 0;
    for (; s_now_ms() < deadline; rounds++) {
        uint8_t junk[64];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)rand();
        zmq_send(socket, junk, sizeof junk, ZMQ_DONTWAIT);

        Cairn__Heartbeat heartbeat = CAIRN__HEARTBEAT__INIT;
        Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
        env.protocol = 999;
        env.body_case = CAIRN__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &heartbeat;
        s_send_envelope(socket, &env);

        Cairn__Done done = CAIRN__DONE__INIT;
        done.run_id = (char *)"not-this-run";
        done.executor_id = (char *)"b1";
        done.superstep = 2;
        done.ok = true;
        Cairn__Envelope fake = CAIRN__ENVELOPE__INIT;
        fake.protocol = CAIRN__PROTOCOL_VERSION;
        fake.body_case = CAIRN__ENVELOPE__BODY_DONE;
        fake.done = &done;
        s_send_envelope(socket, &fake);

        if (zmq_send(socket, "a", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 1)
            zmq_send(socket, "b", 1, ZMQ_DONTWAIT);
        if (rounds % 10 == 0 && big)
            zmq_send(socket, big, big_len, ZMQ_DONTWAIT);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(big);
    fprintf(stderr, "child_hostile: sent %d rounds; closing\n", rounds);
    zmq_close(socket);
    zmq_ctx_term(context);
    fprintf(stderr, "child_hostile: closed\n");
}

/* The child: says Hello in protocol 999 and waits (bounded) for the
 * coordinator's answer; exits 0 when it is a Shutdown naming the
 * mismatch. */
static int
s_wrong_version_client(const char *endpoint)
{
    void *context = zmq_ctx_new();
    void *socket = zmq_socket(context, ZMQ_DEALER);
    int linger = 0, timeout = 12000;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_connect(socket, endpoint);
    Cairn__Hello hello = CAIRN__HELLO__INIT;
    hello.host_id = (char *)"from-the-future";
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.protocol = 999;
    env.body_case = CAIRN__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_send_envelope(socket, &env);
    uint8_t buffer[4096];
    int n = zmq_recv(socket, buffer, sizeof buffer, 0);
    int status = 1;
    Cairn__Envelope *reply =
        n > 0 ? cairn__envelope__unpack(NULL, (size_t)n, buffer) : NULL;
    if (reply && reply->body_case == CAIRN__ENVELOPE__BODY_SHUTDOWN
        && strstr(reply->shutdown->reason, "protocol version mismatch"))
        status = 0;
    if (reply)
        cairn__envelope__free_unpacked(reply, NULL);
    zmq_close(socket);
    zmq_ctx_term(context);
    return status;
}

int
main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    if (strcmp(argv[1], "hostile") == 0) {
        s_hostile_client(argv[2], 1500);
        return 0;
    }
    return s_wrong_version_client(argv[2]);
}
