/* zmq_floor.c - N bare libzmq inproc round trips (DEALER <-> DEALER, a
 * blocking zmq_recv on each side), nothing else: bench/syscalls.py counts
 * the system calls this makes to know the floor under one superstep's
 * hand-off to a host thread and back.
 *
 *   cairn-bench-zmq-floor ROUND_TRIPS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

static void *s_ctx;
static long s_round_trips;

static void *
s_echo(void *unused)
{
    (void)unused;
    void *socket = zmq_socket(s_ctx, ZMQ_DEALER);
    char frame[64];
    if (socket && zmq_connect(socket, "inproc://cairn-floor") == 0) {
        for (long i = 0; i < s_round_trips; i++) {
            int n = zmq_recv(socket, frame, sizeof frame, 0);
            if (n < 0 || zmq_send(socket, frame, (size_t)n, 0) < 0)
                break;
        }
    }
    zmq_close(socket);
    return NULL;
}

int
main(int argc, char **argv)
{
    char *end = NULL;
    s_round_trips = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (s_round_trips <= 0 || *end) {
        fprintf(stderr, "usage: %s ROUND_TRIPS\n", argv[0]);
        return 2;
    }
    s_ctx = zmq_ctx_new();
    void *socket = s_ctx ? zmq_socket(s_ctx, ZMQ_DEALER) : NULL;
    pthread_t echo;
    if (!socket || zmq_bind(socket, "inproc://cairn-floor") != 0
        || pthread_create(&echo, NULL, s_echo, NULL) != 0) {
        fprintf(stderr, "%s: cannot set up: %s\n", argv[0],
                zmq_strerror(zmq_errno()));
        return 1;
    }
    char frame[64] = "superstep";
    long done = 0;
    for (; done < s_round_trips; done++)
        if (zmq_send(socket, frame, 16, 0) < 0
            || zmq_recv(socket, frame, sizeof frame, 0) < 0)
            break;
    pthread_join(echo, NULL);
    zmq_close(socket);
    zmq_ctx_term(s_ctx);
    if (done < s_round_trips) {
        fprintf(stderr, "%s: round trip %ld failed\n", argv[0], done + 1);
        return 1;
    }
    return 0;
}
