/* child_fake_worker.c - a worker that lies, for test_trust.
 *
 *   child_fake_worker ENDPOINT MODE
 *
 * Speaks the real protocol (Envelopes through proto/codec) to the
 * coordinator at ENDPOINT: a real executor host thread (actors/host.c)
 * offering test.draft runs the handlers, and this process relays its
 * frames like cairn's own worker does, heartbeats included, except that
 * it rewrites what the host sends as MODE says: one field of every Done
 * (or of the Hello) gets a hostile value, or extra frames no worker
 * should send go out beside the honest ones. MODE "honest" changes
 * nothing. Modes are listed in s_done_modes / s_hello_modes below.
 *
 * Exits 3 when the coordinator shuts it down (the reason on stderr), 4
 * when it drops the connection (mode big-frame), 0 after 30 s without
 * either, 2 on bad arguments.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "actors/host.h"
#include "cairn.pb-c.h"
#include "base/util.h"
#include "proto/codec.h"
#include "tests/integration/trust_types.h"
#include <cairn/cairn.h>

#define S_LIFETIME_US (30ull * 1000 * 1000)
#define S_BEAT_US (100ull * 1000)
#define S_OVERSIZE 5000 /* above the 4096-byte message limit test_trust
                           runs with */
#define S_BIG_FRAME ((size_t)48 << 20)

static void
s_send(void *up, Cairn__Envelope *env)
{
    if (cairn__envelope_send(up, NULL, env) != 0)
        fprintf(stderr, "child_fake_worker: send failed\n");
}

/* Sends done with n empty messages as sent (source as given): a small
 * frame that decodes to about 100 bytes per message. */
static void
s_send_flood(void *up, const Cairn__Done *honest, size_t n,
             const char *run_id, const char *source)
{
    Cairn__Done done = *honest;
    Cairn__Message empty = CAIRN__MESSAGE__INIT;
    empty.source = (char *)source;
    Cairn__Message **sent = calloc(n, sizeof *sent);
    if (!sent)
        return;
    for (size_t i = 0; i < n; i++)
        sent[i] = &empty;
    done.run_id = (char *)run_id;
    done.sent = sent;
    done.n_sent = n;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_DONE;
    env.done = &done;
    s_send(up, &env);
    free(sent);
}

/* Sends a copy of done with one routing field changed (mode extra-*):
 * refused by the coordinator as not its current work, never applied. */
static void
s_send_extra_done(void *up, const char *mode, const Cairn__Done *done)
{
    Cairn__Done extra = *done;
    if (strcmp(mode, "extra-other-executor") == 0)
        extra.executor_id = (char *)"approve";
    else if (strcmp(mode, "extra-other-superstep") == 0)
        extra.superstep = done->superstep + 1;
    else if (strcmp(mode, "extra-other-attempt") == 0)
        extra.attempt = done->attempt + 1;
    else if (strcmp(mode, "extra-other-run") == 0)
        extra.run_id = (char *)"another-run";
    else
        return;
    /* What it says is forged too: an output nobody made. */
    ProtobufCBinaryData forged = {6, (uint8_t *)"forged"};
    extra.outputs = &forged;
    extra.n_outputs = 1;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_DONE;
    env.done = &extra;
    s_send(up, &env);
}

/* Sends every frame no worker should: a coordinator's messages, a
 * Control, a Heartbeat from the far future. */
static void
s_send_bogus_frames(void *up)
{
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    Cairn__Heartbeat heartbeat = CAIRN__HEARTBEAT__INIT;
    heartbeat.sent_at_ms = UINT64_MAX;
    env.body_case = CAIRN__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &heartbeat;
    s_send(up, &env);
    Cairn__Control control = CAIRN__CONTROL__INIT;
    control.kind = CAIRN__CONTROL__KIND__CANCEL;
    control.run_id = (char *)"";
    env.body_case = CAIRN__ENVELOPE__BODY_CONTROL;
    env.control = &control;
    s_send(up, &env);
    Cairn__Welcome welcome = CAIRN__WELCOME__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_WELCOME;
    env.welcome = &welcome;
    s_send(up, &env);
    Cairn__Deliver deliver = CAIRN__DELIVER__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_DELIVER;
    env.deliver = &deliver;
    s_send(up, &env);
    Cairn__Shutdown shutdown = CAIRN__SHUTDOWN__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_SHUTDOWN;
    env.shutdown = &shutdown;
    s_send(up, &env);
}

/* Sends done with the hostile change MODE names (a copy: the decoded
 * envelope is left as it was, for freeing). */
static void
s_send_done(void *up, const char *mode, const Cairn__Done *honest)
{
    s_send_extra_done(up, mode, honest);
    if (strcmp(mode, "sent-flood") == 0) {
        /* More entries than a Done may hold, in a small frame. */
        s_send_flood(up, honest, 70000, honest->run_id, honest->executor_id);
        return;
    }
    if (strcmp(mode, "amplify") == 0) /* 1 MB that decodes to 66 MB */
        s_send_flood(up, honest, 500000, "another-run", "");
    Cairn__Done done = *honest;
    Cairn__Message first = CAIRN__MESSAGE__INIT;
    if (done.n_sent > 0)
        first = *done.sent[0];
    Cairn__Message *sent[2] = {&first, NULL};
    /* A message answering the approval the next superstep asks for. */
    Cairn__Request asked = CAIRN__REQUEST__INIT;
    asked.id = (char *)"approve.2.1";
    asked.executor = (char *)"approve";
    asked.kind = (char *)"approve";
    asked.superstep = 2;
    Cairn__Message answer = CAIRN__MESSAGE__INIT;
    answer.source = done.executor_id;
    answer.payload.data = (uint8_t *)"yes";
    answer.payload.len = 3;
    answer.target = (char *)"approve"; /* only there: the forgery works */
    answer.answers = &asked;
    /* A fan-in composite nobody assembled. */
    Cairn__Message part_a = CAIRN__MESSAGE__INIT, part_b = part_a;
    part_a.payload.data = (uint8_t *)"forged";
    part_a.payload.len = 6;
    part_b.payload.data = (uint8_t *)"composite";
    part_b.payload.len = 9;
    Cairn__Message *parts[] = {&part_a, &part_b};
    /* Requests: a well-formed one to start from. */
    char own_id[96];
    snprintf(own_id, sizeof own_id, "%s.%llu.1", done.executor_id,
             (unsigned long long)done.superstep);
    Cairn__Request request = CAIRN__REQUEST__INIT;
    request.id = own_id;
    request.executor = done.executor_id;
    request.kind = (char *)"approve";
    request.superstep = done.superstep;
    Cairn__Request *requests[2] = {&request, &request};
    static uint8_t big[S_OVERSIZE];
    ProtobufCBinaryData oversize = {sizeof big, big};
    Cairn__StateEntry entry = CAIRN__STATE_ENTRY__INIT;
    entry.key = (char *)"k";
    entry.value = oversize;
    Cairn__StateEntry *entries[] = {&entry};

    done.sent = sent;
    if (strcmp(mode, "sent-answers") == 0) {
        sent[1] = &answer;
        done.n_sent = 2;
    } else if (strcmp(mode, "sent-parts") == 0) {
        first.parts = parts;
        first.n_parts = 2;
    } else if (strcmp(mode, "sent-source") == 0) {
        first.source = (char *)"approve";
    } else if (strcmp(mode, "sent-oversize") == 0) {
        first.payload = oversize;
    } else if (strcmp(mode, "sent-target") == 0) {
        first.target = (char *)"publish";
    } else if (strncmp(mode, "request-", 8) == 0) {
        done.requests = requests;
        done.n_requests = 1;
        if (strcmp(mode, "request-foreign-id") == 0)
            request.id = (char *)"approve.2.1";
        else if (strcmp(mode, "request-duplicate") == 0)
            done.n_requests = 2;
        else if (strcmp(mode, "request-executor") == 0)
            request.executor = (char *)"approve";
        else if (strcmp(mode, "request-superstep") == 0)
            request.superstep = 7;
        else if (strcmp(mode, "request-no-kind") == 0)
            request.kind = (char *)"";
        else if (strcmp(mode, "request-oversize") == 0)
            request.payload = oversize;
    } else if (strcmp(mode, "output-oversize") == 0) {
        done.outputs = &oversize;
        done.n_outputs = 1;
    } else if (strcmp(mode, "state-oversize") == 0) {
        done.state_writes = entries;
        done.n_state_writes = 1;
    } else if (strcmp(mode, "shared-oversize") == 0) {
        done.shared_writes = entries;
        done.n_shared_writes = 1;
    } else if (strcmp(mode, "handled-too-many") == 0) {
        done.handled = honest->handled + 5;
    } else if (strcmp(mode, "error-with-ok") == 0) {
        done.error = (char *)"\x1b[31mforged\nerror";
    } else if (strcmp(mode, "fail-claim") == 0) {
        static char error[100000];
        memset(error, '\n', sizeof error - 1);
        done.ok = false;
        done.error = error;
    }
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_DONE;
    env.done = &done;
    s_send(up, &env);
    if (strcmp(mode, "bogus-frames") == 0)
        s_send_bogus_frames(up);
}

/* Sends hello with the hostile change MODE names. */
static void
s_send_hello(void *up, const char *mode, const Cairn__Hello *honest)
{
    Cairn__Hello hello = *honest;
    char **types = NULL;
    char *empty_types[] = {honest->executor_types[0], (char *)""};
    char long_id[300];
    if (strcmp(mode, "hello-bad-id") == 0) {
        hello.host_id = (char *)"evil\n\x1b[2Jid";
    } else if (strcmp(mode, "hello-long-id") == 0) {
        memset(long_id, 'a', sizeof long_id - 1);
        long_id[sizeof long_id - 1] = '\0';
        hello.host_id = long_id;
    } else if (strcmp(mode, "hello-empty-type") == 0) {
        hello.executor_types = empty_types;
        hello.n_executor_types = 2;
    } else if (strcmp(mode, "hello-many-types") == 0) {
        /* 40,000 types and labels: about 0.5 MB, under the frame limit. */
        size_t n = 40000;
        types = calloc(n, sizeof *types);
        for (size_t i = 0; types && i < n; i++) {
            types[i] = malloc(16);
            if (types[i])
                snprintf(types[i], 16, i == 0 ? "test.draft" : "t%zu", i);
        }
        hello.executor_types = types;
        hello.n_executor_types = types ? n : 0;
        hello.labels = types;
        hello.n_labels = types ? n : 0;
    }
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_send(up, &env);
    for (size_t i = 0; types && i < hello.n_executor_types; i++)
        free(types[i]);
    free(types);
}

/* Once, after the coordinator welcomed us: a frame far above its limit. */
static void
s_send_big_frame(void *up)
{
    uint8_t *big = calloc(1, S_BIG_FRAME);
    if (big && zmq_send(up, big, S_BIG_FRAME, 0) < 0)
        fprintf(stderr, "child_fake_worker: big frame not sent\n");
    free(big);
}

/* A frame from the host thread: its Done or Hello, rewritten. */
static void
s_from_host(void *down, void *up, const char *mode)
{
    cairn__peer_t peer;
    Cairn__Envelope *env = NULL;
    const char *why = NULL;
    if (cairn__envelope_recv(down, &peer, CAIRN__DELIVER_LIMIT, &env, &why)
        != 0)
        return;
    if (env->body_case == CAIRN__ENVELOPE__BODY_DONE)
        s_send_done(up, mode, env->done);
    else if (env->body_case == CAIRN__ENVELOPE__BODY_HELLO)
        s_send_hello(up, mode, env->hello);
    else
        s_send(up, env);
    cairn__envelope__free_unpacked(env, NULL);
}

/* A frame from the coordinator, passed to the host thread. Returns 3
 * when it is a Shutdown, else 0. */
static int
s_from_coordinator(void *up, void *down, const cairn__peer_t *host,
                   const char *mode, bool *welcomed)
{
    Cairn__Envelope *env = NULL;
    const char *why = NULL;
    if (cairn__envelope_recv(up, NULL, CAIRN__DELIVER_LIMIT, &env, &why) != 0)
        return 0;
    int rc = 0;
    if (env->body_case == CAIRN__ENVELOPE__BODY_SHUTDOWN) {
        fprintf(stderr, "child_fake_worker: shut down: %s\n",
                env->shutdown->reason);
        rc = 3;
    } else {
        if (env->body_case == CAIRN__ENVELOPE__BODY_WELCOME && !*welcomed) {
            *welcomed = true;
            if (strcmp(mode, "big-frame") == 0)
                s_send_big_frame(up);
        }
        cairn__envelope_send(down, host, env);
    }
    cairn__envelope__free_unpacked(env, NULL);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ENDPOINT MODE\n", argv[0]);
        return 2;
    }
    const char *mode = argv[2];
    cairn_registry_t *registry = cairn_registry_new();
    cairn_executor_type_t draft = {.name = "test.draft", .handle = trust_draft};
    if (!registry || cairn_registry_add_executor(registry, &draft) != 0
        || cairn__process_init() != 0)
        return 2;
    zsock_t *up = zsock_new(ZMQ_DEALER), *down = zsock_new(ZMQ_ROUTER);
    if (!up || !down)
        return 2;
    zsock_set_linger(up, 0);
    zsock_set_linger(down, 0);
    char routing_id[64];
    snprintf(routing_id, sizeof routing_id, "fake-%ld", (long)getpid());
    zsock_set_identity(up, routing_id);
    char inproc[64];
    snprintf(inproc, sizeof inproc, "inproc://fake-%ld", (long)getpid());
    /* Told when the coordinator drops the connection. */
    char monitor[64];
    snprintf(monitor, sizeof monitor, "inproc://fake-monitor-%ld",
             (long)getpid());
    zsock_t *dropped = NULL;
    if (zmq_socket_monitor(zsock_resolve(up), monitor,
                           ZMQ_EVENT_DISCONNECTED)
            != 0
        || !(dropped = zsock_new_pair(monitor)))
        return 2;
    if (zsock_bind(down, "%s", inproc) != 0
        || zsock_connect(up, "%s", argv[1]) != 0)
        return 2;
    static cairn__host_args_t args;
    args.registry = registry;
    snprintf(args.endpoint, sizeof args.endpoint, "%s", inproc);
    snprintf(args.host_id, sizeof args.host_id, "fake");
    args.nonce = (uint64_t)getpid() * 2654435761u + 1;
    cairn__peer_t host = {.len = strlen(args.host_id)};
    memcpy(host.bytes, args.host_id, host.len);
    zactor_t *actor = zactor_new(cairn__host_actor, &args);
    bool welcomed = false;
    int rc = 0;
    uint64_t end = cairn__monotonic_us() + S_LIFETIME_US;
    uint64_t beat = 0;
    while (rc == 0 && actor && cairn__monotonic_us() < end) {
        zmq_pollitem_t items[] = {{zsock_resolve(up), 0, ZMQ_POLLIN, 0},
                                  {zsock_resolve(down), 0, ZMQ_POLLIN, 0},
                                  {zsock_resolve(dropped), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 3, 20) < 0)
            break;
        if ((items[2].revents & ZMQ_POLLIN) && strcmp(mode, "big-frame") == 0) {
            fprintf(stderr, "child_fake_worker: connection dropped\n");
            rc = 4;
            break;
        }
        if (items[2].revents & ZMQ_POLLIN) { /* it reconnects by itself */
            zmsg_t *event = zmsg_recv(dropped);
            zmsg_destroy(&event);
        }
        if (items[0].revents & ZMQ_POLLIN)
            rc = s_from_coordinator(zsock_resolve(up), zsock_resolve(down),
                                    &host, mode, &welcomed);
        if (items[1].revents & ZMQ_POLLIN)
            s_from_host(zsock_resolve(down), zsock_resolve(up), mode);
        if (cairn__monotonic_us() >= beat) {
            cairn__heartbeat_send(zsock_resolve(up), NULL);
            beat = cairn__monotonic_us() + S_BEAT_US;
        }
    }
    zactor_destroy(&actor);
    zmq_socket_monitor(zsock_resolve(up), NULL, 0);
    zsock_destroy(&dropped);
    zsock_destroy(&down);
    zsock_destroy(&up);
    cairn_registry_destroy(&registry);
    return rc;
}
