/* host_table.c - the engine's host table: the ROUTER, the in-process
 * host threads and the workers that joined.
 *
 * The bottom of the engine's one-way chain: engine.c (the public API)
 * opens and closes the table and hands runs to the coordinator; the
 * coordinator (coordinator.c, dispatch.c, worker_loss.c, placement.c)
 * reads the table and asks it to register, refuse, heartbeat and replace
 * hosts. Nothing here calls the coordinator or the public API.
 *
 * Opening binds the coordinator ROUTER on a unique inproc endpoint (and
 * the listen endpoints workers connect to), starts the host actors and
 * waits (bounded) until each has said Hello, so a run never starts
 * against a host that is not there yet. Slots are only ever added: a
 * worker that comes back gets a fresh slot, so nothing from its old life
 * is mistaken for current work.
 *
 * Threading: the coordinator's thread (the caller of the public API);
 * host threads only talk to it through the ROUTER.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "actors/host.h"
#include "base/tsan.h"
#include "base/util.h"
#include "cairn/log.h"
#include "engine/host_table.h"
#include "engine/peer_check.h"

#define S_HELLO_TIMEOUT_MS 10000

/* A fresh slot's liveness: heard from now, nothing held against it. */
static void
s_slot_heard(cairn__host_info_t *host)
{
    host->suspended = false;
    host->unreachable = false;
    host->silent_us = 0;
}

long
cairn__engine_take_back(cairn_engine_t *self, size_t h)
{
    if (self->host_count == CAIRN__MAX_HOSTS)
        return -1;
    size_t back = self->host_count++;
    cairn__host_info_t *old = &self->hosts[h], *host = &self->hosts[back];
    *host = *old; /* its types and labels move with it */
    host->alive = true;
    s_slot_heard(host);
    old->types = old->labels = NULL;
    old->type_count = old->label_count = 0;
    old->suspended = false;
    old->peer.len = 0; /* retire the old slot's id */
    cairn_log(CAIRN_LOG_INFO, "engine", "worker %s is back", host->id);
    return (long)back;
}

static int
s_send_welcome(cairn_engine_t *self, const cairn__peer_t *peer);

long
cairn__engine_find_host(const cairn_engine_t *self, const cairn__peer_t *peer)
{
    for (size_t i = 0; i < self->host_count; i++)
        if (self->hosts[i].peer.len == peer->len
            && memcmp(self->hosts[i].peer.bytes, peer->bytes, peer->len) == 0)
            return (long)i;
    return -1;
}

bool
cairn__engine_host_offers(const cairn_engine_t *self, size_t h,
                          const char *type)
{
    const cairn__host_info_t *host = &self->hosts[h];
    if (!host->alive || host->unreachable) /* about to be lost */
        return false;
    if (!host->remote) /* in-process hosts share the engine's registry */
        return cairn_registry_executor(self->registry, type) != NULL;
    return cairn__engine_worker_announced(self, h, type);
}

bool
cairn__engine_worker_announced(const cairn_engine_t *self, size_t h,
                               const char *type)
{
    const cairn__host_info_t *host = &self->hosts[h];
    for (size_t i = 0; i < host->type_count; i++)
        if (strcmp(host->types[i], type) == 0)
            return true;
    return false;
}

static void
s_free_types(cairn__host_info_t *host)
{
    for (size_t i = 0; i < host->type_count; i++)
        free(host->types[i]);
    free(host->types);
    host->types = NULL;
    host->type_count = 0;
    for (size_t i = 0; i < host->label_count; i++)
        free(host->labels[i]);
    free(host->labels);
    host->labels = NULL;
    host->label_count = 0;
}

/* Copies n strings into *out (count in *count, even when it fails). */
static bool
s_copy_strings(char ***out, size_t *count, char *const *src, size_t n)
{
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return false;
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = strdup(src[i]);
        if (!(*out)[i])
            return false;
        ++*count;
    }
    return true;
}

/* Takes a worker's offered types and its labels (placement.c matches
 * both) from its Hello. */
static bool
s_take_types(cairn__host_info_t *host, const Cairn__Hello *hello)
{
    s_free_types(host);
    return s_copy_strings(&host->types, &host->type_count,
                          hello->executor_types, hello->n_executor_types)
           && s_copy_strings(&host->labels, &host->label_count, hello->labels,
                             hello->n_labels);
}

/* A worker process new under hello's worker id (slot same, when >= 0,
 * is its routing id's old slot): every earlier process under that id is
 * replaced. A live one is lost at the next liveness check (its executors
 * move, its late Dones are refused since they no longer are placed
 * there) and is told to stop, unless it shares the new one's routing id
 * (a Shutdown would reach the new one). */
static void
s_replace_namesakes(cairn_engine_t *self, const Cairn__Hello *hello, long same)
{
    char id[sizeof self->hosts[0].id], reason[128];
    snprintf(id, sizeof id, "%s", hello->host_id); /* as slots keep it */
    snprintf(reason, sizeof reason, "another process joined as worker %s", id);
    for (size_t i = self->local_count; i < self->host_count; i++) {
        cairn__host_info_t *host = &self->hosts[i];
        if (host->replaced || !host->remote
            || ((long)i != same && strcmp(host->id, id) != 0))
            continue;
        host->replaced = true;
        host->suspended = false;
        if (!host->alive)
            continue;
        host->unreachable = true;
        if ((long)i != same)
            cairn__engine_shutdown_peer(self, &host->peer, reason);
        cairn_log(CAIRN_LOG_WARN, "engine",
                  "worker %s: a new process took its id; the earlier one is "
                  "lost",
                  host->id);
    }
}

long
cairn__engine_on_hello(cairn_engine_t *self, const cairn__peer_t *peer,
                       const Cairn__Hello *hello, bool *joined)
{
    *joined = false;
    long h = cairn__engine_find_host(self, peer);
    char reason[160];
    if (cairn__hello_violation(hello, reason, sizeof reason)) {
        self->rejected_frames++;
        cairn_log(CAIRN_LOG_WARN, "engine", "refused a Hello: %s", reason);
        cairn__engine_shutdown_peer(self, peer, reason);
        return -1;
    }
    if (h >= 0 && (self->hosts[h].replaced || self->hosts[h].refused)) {
        /* An earlier process under an id a newer one has taken, or one
         * that broke the protocol. */
        if (self->hosts[h].refused)
            snprintf(reason, sizeof reason,
                     "worker %s was refused for breaking the protocol",
                     self->hosts[h].id);
        else
            snprintf(reason, sizeof reason,
                     "another process joined as worker %s", self->hosts[h].id);
        cairn__engine_shutdown_peer(self, peer, reason);
        return -1;
    }
    if (h >= 0
        && (!self->hosts[h].remote
            || (self->hosts[h].alive
                && self->hosts[h].nonce == hello->nonce))) {
        /* Known and alive, the same process: a repeated Hello (the worker
         * thought we were gone) only refreshes it. */
        self->hosts[h].silent_us = 0;
        s_send_welcome(self, peer);
        return h;
    }
    /* A new worker process, or a lost one that came back: a fresh slot,
     * so nothing from its old life is mistaken for current work. */
    s_replace_namesakes(self, hello, h);
    if (h >= 0)
        self->hosts[h].peer.len = 0; /* retire the old slot's id */
    if (self->host_count == CAIRN__MAX_HOSTS)
        return -1;
    h = (long)self->host_count++;
    cairn__host_info_t *host = &self->hosts[h];
    host->peer = *peer;
    snprintf(host->id, sizeof host->id, "%s", hello->host_id);
    host->remote = true;
    host->alive = s_take_types(host, hello);
    s_slot_heard(host);
    host->nonce = hello->nonce;
    host->replaced = false;
    host->reported = false;
    host->refused = false;
    *joined = host->alive;
    s_send_welcome(self, peer);
    cairn_log(CAIRN_LOG_INFO, "engine", "worker %s joined (%zu types)",
              host->id, host->type_count);
    return h;
}

void
cairn__engine_shutdown_peer(cairn_engine_t *self, const cairn__peer_t *peer,
                            const char *reason)
{
    Cairn__Shutdown shutdown = CAIRN__SHUTDOWN__INIT;
    shutdown.reason = (char *)reason;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_SHUTDOWN;
    env.shutdown = &shutdown;
    cairn__envelope_send(zsock_resolve(self->router), peer, &env);
}

void
cairn__engine_refuse_version(cairn_engine_t *self, const cairn__peer_t *peer)
{
    char reason[160];
    snprintf(reason, sizeof reason,
             "protocol version mismatch: this coordinator speaks cairn "
             "protocol %u",
             CAIRN__PROTOCOL_VERSION);
    cairn__engine_shutdown_peer(self, peer, reason);
    cairn_log(CAIRN_LOG_WARN, "engine",
              "refused a peer speaking another protocol version (this "
              "coordinator speaks %u)",
              CAIRN__PROTOCOL_VERSION);
}

void
cairn__engine_heartbeat(cairn_engine_t *self)
{
    /* The ROUTER refuses to send to a routing id whose connection is
     * gone (ROUTER_MANDATORY): a worker that died is found here, a
     * heartbeat after its death, not three intervals of silence later. */
    for (size_t h = self->local_count; h < self->host_count; h++)
        if ((self->hosts[h].alive || self->hosts[h].suspended)
            && cairn__heartbeat_send(zsock_resolve(self->router),
                                     &self->hosts[h].peer)
                   != CAIRN_OK
            && zmq_errno() == EHOSTUNREACH)
            self->hosts[h].unreachable = true;
}

static int
s_send_welcome(cairn_engine_t *self, const cairn__peer_t *peer)
{
    Cairn__Welcome welcome = CAIRN__WELCOME__INIT;
    welcome.coordinator_id = self->endpoint;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_WELCOME;
    env.welcome = &welcome;
    return cairn__envelope_send(zsock_resolve(self->router), peer, &env);
}

/* Waits for the Hello of every host, bounded in time. */
static int
s_await_hellos(cairn_engine_t *self, cairn_error_t *err)
{
    void *router = zsock_resolve(self->router);
    size_t greeted = 0;
    uint64_t deadline = cairn__monotonic_us() + S_HELLO_TIMEOUT_MS * 1000u;
    while (greeted < self->local_count) {
        uint64_t now = cairn__monotonic_us();
        if (now >= deadline)
            break;
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)((deadline - now) / 1000u) + 1) <= 0)
            continue;
        cairn__peer_t peer;
        Cairn__Envelope *env = NULL;
        const char *why = NULL;
        if (cairn__envelope_recv(router, &peer, 1 << 20, &env, &why)
            != CAIRN_OK) {
            if (why == cairn__why_wrong_version)
                cairn__engine_refuse_version(self, &peer);
            self->rejected_frames++;
            cairn_log(CAIRN_LOG_WARN, "engine",
                      "rejected frame while hosts start: %s",
                      why ? why : "receive failed");
            continue;
        }
        if (env->body_case == CAIRN__ENVELOPE__BODY_HELLO) {
            bool joined;
            long host = cairn__engine_on_hello(self, &peer, env->hello, &joined);
            greeted += host >= 0 && !self->hosts[host].remote;
        }
        cairn__envelope__free_unpacked(env, NULL);
    }
    if (greeted < self->local_count)
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "only %zu of %zu executor hosts started "
                               "within %d ms",
                               greeted, self->local_count, S_HELLO_TIMEOUT_MS);
    return CAIRN_OK;
}

/* Tells a host thread to stop; it does once it is back in its loop. */
static void
s_term_host(zactor_t *actor)
{
    if (!actor)
        return;
    zsock_set_sndtimeo(actor, 0);
    zstr_send(actor, "$TERM");
}

/* Starts in-process host slot h as a thread with routing id id; args
 * must outlive it. */
static int
s_start_host(cairn_engine_t *self, size_t h, cairn__host_args_t *args,
             const char *id)
{
    args->registry = self->registry;
    snprintf(args->endpoint, sizeof args->endpoint, "%s", self->endpoint);
    snprintf(args->host_id, sizeof args->host_id, "%s", id);
    args->pin = self->cpu >= 0;
    args->cpu = self->cpu;
    cairn__host_info_t *host = &self->hosts[h];
    host->peer.len = strlen(args->host_id);
    memcpy(host->peer.bytes, args->host_id, host->peer.len);
    snprintf(host->id, sizeof host->id, "%s", args->host_id);
    host->alive = true;
    self->actor_args[h] = args; /* owned by the slot, freed at destroy */
    self->actors[h] = zactor_new(cairn__host_actor, args);
    return self->actors[h] ? CAIRN_OK : CAIRN_ENOMEM;
}

static int
s_start_hosts(cairn_engine_t *self, cairn_error_t *err)
{
    self->actors = calloc(self->host_count, sizeof *self->actors);
    self->hosts = calloc(CAIRN__MAX_HOSTS, sizeof *self->hosts);
    self->actor_args = calloc(self->host_count, sizeof *self->actor_args);
    if (!self->actors || !self->hosts || !self->actor_args)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    for (size_t i = 0; i < self->host_count; i++) {
        char id[64];
        snprintf(id, sizeof id, "host-%zu", i);
        cairn__host_args_t *args = calloc(1, sizeof *args);
        if (!args || s_start_host(self, i, args, id) != CAIRN_OK)
            return cairn_error_set(err, CAIRN_ENOMEM,
                                   "could not start executor host %zu", i);
    }
    return s_await_hellos(self, err);
}

int
cairn__engine_replace_host(cairn_engine_t *self, size_t h)
{
    cairn__host_args_t *args = calloc(1, sizeof *args);
    if (!args || !CAIRN__GROW(self->retired, self->retired_count)
        || !CAIRN__GROW(self->retired_args, self->retired_count)) {
        free(args);
        return CAIRN_ENOMEM;
    }
    self->retired[self->retired_count] = self->actors[h];
    self->retired_args[self->retired_count++] = self->actor_args[h];
    /* It stops as soon as its handler returns. */
    s_term_host(self->actors[h]);
    char id[64];
    snprintf(id, sizeof id, "host-%zu-r%u", h, ++self->replacements);
    cairn_log(CAIRN_LOG_WARN, "engine",
              "executor host %s is stuck in a handler: replaced by %s",
              self->hosts[h].id, id);
    return s_start_host(self, h, args, id) == CAIRN_OK ? CAIRN_OK
                                                       : CAIRN_ETRANSPORT;
}

/* The endpoint for workers of this user on this machine: bound before
 * the CURVE options are set (ZeroMQ takes them per endpoint), so it
 * never asks for a key; ipc only, and owner-only, since that and its
 * directory are all that guard it. */
static int
s_bind_local(cairn_engine_t *self, const char *endpoint, cairn_error_t *err)
{
    const char *ipc = "ipc://";
    if (strncmp(endpoint, ipc, strlen(ipc)) != 0
        || strlen(endpoint) == strlen(ipc)
        || strlen(endpoint) >= sizeof self->local_listen)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "local worker endpoint '%s' must be "
                               "ipc://PATH (it takes no CURVE key)",
                               endpoint);
    if (zsock_bind(self->router, "%s", endpoint) < 0)
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "cannot listen for local workers on %s: %s",
                               endpoint, zmq_strerror(zmq_errno()));
    snprintf(self->local_listen, sizeof self->local_listen, "%s", endpoint);
    if (chmod(endpoint + strlen(ipc), S_IRUSR | S_IWUSR) != 0)
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "cannot make %s owner-only: %s", endpoint,
                               strerror(errno));
    return CAIRN_OK;
}

/* CURVE on the listen endpoint: both key options, and a listen endpoint. */
static int
s_start_curve(cairn_engine_t *self, const cairn_engine_options_t *opts,
              cairn_error_t *err)
{
    if (!opts->curve_secret || !opts->allow_keys)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "CURVE needs both a secret key file "
                               "(curve_secret) and an allow-keys directory");
    if (!self->listen[0])
        return cairn_error_set(err, CAIRN_EINVAL,
                               "CURVE keys given but no listen endpoint");
    return cairn__curve_server_start(&self->curve, self->router,
                                     opts->curve_secret, opts->allow_keys,
                                     self->listen, &self->refused_peers, err);
}

int
cairn__engine_hosts_open(cairn_engine_t *self,
                         const cairn_engine_options_t *opts,
                         cairn_error_t *err)
{
    uint32_t nonce = randombytes_random();
    snprintf(self->endpoint, sizeof self->endpoint,
             "inproc://cairn-coordinator-%p-%08x", (void *)self, nonce);
    self->router = zsock_new(ZMQ_ROUTER);
    int rc = self->router ? CAIRN_OK
                          : cairn_error_set(err, CAIRN_ETRANSPORT,
                                            "could not create ROUTER socket");
    if (rc == CAIRN_OK) {
        zsock_set_linger(self->router, 0);
        /* Sending to a host that is gone must fail, not vanish. */
        zsock_set_router_mandatory(self->router, 1);
        /* Before any bind (listeners copy it): a peer's frame larger than
         * the largest Done is refused by ZeroMQ from its size header,
         * never read into memory, and the peer's connection dropped. */
        int64_t limit = (int64_t)CAIRN__FRAME_LIMIT(self->max_message_size);
        zmq_setsockopt(zsock_resolve(self->router), ZMQ_MAXMSGSIZE, &limit,
                       sizeof limit);
        if (zsock_bind(self->router, "%s", self->endpoint) != 0)
            rc = cairn_error_set(err, CAIRN_ETRANSPORT, "could not bind %s",
                                 self->endpoint);
        else if (opts && opts->local_listen)
            rc = s_bind_local(self, opts->local_listen, err);
        if (rc == CAIRN_OK && opts && (opts->curve_secret || opts->allow_keys))
            /* After the inproc bind: only the listen endpoint is CURVE. */
            rc = s_start_curve(self, opts, err);
        if (rc == CAIRN_OK && self->listen[0]
            && zsock_bind(self->router, "%s", self->listen) < 0)
            rc = cairn_error_set(err, CAIRN_ETRANSPORT,
                                 "cannot listen for workers on %s: %s",
                                 self->listen, zmq_strerror(zmq_errno()));
    }
    if (rc == CAIRN_OK)
        rc = s_start_hosts(self, err);
    return rc;
}

/* Waits for a host thread told to stop: for as long as it takes while
 * it is not inside a Deliver (it answers $TERM at once), until
 * deadline_us while it is (a handler may never return). Destroys
 * *actor_p either way; args are freed, or handed to a thread left
 * behind, which frees them when it ends (host.c). Returns whether the
 * thread ended. */
static bool
s_stop_host(zactor_t **actor_p, cairn__host_args_t *args, uint64_t deadline_us)
{
    if (!*actor_p) { /* never started */
        free(args);
        return true;
    }
    for (;;) {
        zsock_set_rcvtimeo(*actor_p, 20);
        if (zsock_wait(*actor_p) >= 0)
            break; /* the actor ended */
        if (atomic_load(&args->busy) && cairn__monotonic_us() >= deadline_us)
            break;
    }
    zsock_set_rcvtimeo(*actor_p, 0); /* zactor_destroy waits no more */
    zactor_destroy(actor_p);
    char id[sizeof args->host_id]; /* args may be gone once handed over */
    snprintf(id, sizeof id, "%s", args->host_id);
    /* Exchanged even when the actor ended: reading FINISHED is what
     * orders the thread's last write to args before our free (the pipe
     * signal that ended the wait goes through libzmq, which TSan cannot
     * see). An ended actor has always set FINISHED. */
    if (atomic_exchange(&args->fate, CAIRN__HOST_ABANDONED)
        != CAIRN__HOST_FINISHED) {
        cairn_log(CAIRN_LOG_WARN, "engine",
                  "executor host %s is still inside a handler: left running",
                  id);
        return false;
    }
    /* The actor released its args when it stopped (host.c). */
    CAIRN__HANDOFF_ACQUIRE(args);
    free(args);
    return true;
}

size_t
cairn__engine_hosts_close(cairn_engine_t *self, uint32_t wait_ms)
{
    /* All told first, so stuck ones share one wait. */
    for (size_t i = 0; self->actors && i < self->local_count; i++)
        s_term_host(self->actors[i]);
    for (size_t i = 0; i < self->retired_count; i++)
        s_term_host(self->retired[i]);
    uint64_t deadline = wait_ms == CAIRN_WAIT_FOREVER
                            ? UINT64_MAX
                            : cairn__monotonic_us() + wait_ms * 1000ull;
    size_t left = 0;
    for (size_t i = 0; self->actors && i < self->local_count; i++)
        left += !s_stop_host(&self->actors[i], self->actor_args[i], deadline);
    for (size_t i = 0; i < self->retired_count; i++)
        left += !s_stop_host(&self->retired[i], self->retired_args[i],
                             deadline);
    free(self->retired);
    free(self->retired_args);
    free(self->actors);
    free(self->actor_args);
    for (size_t i = 0; self->hosts && i < self->host_count; i++)
        s_free_types(&self->hosts[i]);
    free(self->hosts);
    cairn__curve_server_stop(&self->curve);
    zsock_destroy(&self->router);
    return left;
}
