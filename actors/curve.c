/* curve.c - CURVE keys, the coordinator's CURVE endpoint and its refusal
 * log, a worker's CURVE connection (curve.h, cairn/curve.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cairn/curve.h"
#include "cairn/log.h"
#include "actors/curve.h"

#define S_FAILURE_EVENTS                                                       \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL                                      \
     | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
#define S_PEERS 64 /* accepted connections whose address we remember */

/* Decodes a 40-character Z85 key; false when it is not one. */
static bool
s_decode_key(const char *text, uint8_t key[32])
{
    return text && strlen(text) == 40 && zmq_z85_decode(key, text) != NULL;
}

int
cairn__curve_load(const char *path, bool need_secret, zcert_t **cert,
                  cairn_error_t *err)
{
    *cert = NULL;
    if (!path || !*path)
        return cairn_error_set(err, CAIRN_EINVAL, "no CURVE key file given");
    FILE *file = fopen(path, "r");
    if (!file)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "cannot read CURVE key file %s: %s", path,
                               strerror(errno));
    fclose(file);
    zconfig_t *root = zconfig_load(path);
    uint8_t public_key[32], secret_key[32] = {0};
    bool has_public =
        root
        && s_decode_key(zconfig_get(root, "/curve/public-key", NULL),
                        public_key);
    bool has_secret =
        root
        && s_decode_key(zconfig_get(root, "/curve/secret-key", NULL),
                        secret_key);
    zconfig_destroy(&root);
    if (!has_public)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "%s is not a CURVE key file (no valid "
                               "curve/public-key; make one with cairn "
                               "keygen)",
                               path);
    if (need_secret && !has_secret)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "%s holds no CURVE secret key (a public "
                               ".pub file? give the secret key file)",
                               path);
    *cert = zcert_new_from(public_key, secret_key);
    sodium_memzero(secret_key, sizeof secret_key);
    return *cert ? CAIRN_OK
                 : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
}

/* path/name into buf; false when it does not fit. */
static bool
s_join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size;
}

int
cairn_curve_keygen(const char *dir, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!dir || !*dir)
        return cairn_error_set(err, CAIRN_EINVAL, "keygen needs a directory");
    char secret[4096], public_path[4096];
    if (!s_join(secret, sizeof secret, dir, "key")
        || !s_join(public_path, sizeof public_path, dir, "key.pub"))
        return cairn_error_set(err, CAIRN_EINVAL, "path too long: %s", dir);
    /* mkdir -p, private: every directory made here is 0700. */
    char partial[4096];
    snprintf(partial, sizeof partial, "%s", dir);
    for (char *slash = partial + 1;; slash++) {
        bool end = *slash == '\0';
        if (!end && *slash != '/')
            continue;
        *slash = '\0';
        if (mkdir(partial, 0700) != 0 && errno != EEXIST)
            return cairn_error_set(err, CAIRN_EINVAL, "cannot create %s: %s",
                                   partial, strerror(errno));
        if (end)
            break;
        *slash = '/';
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cairn_error_set(err, CAIRN_EINVAL, "%s is not a directory", dir);
    if (access(secret, F_OK) == 0 || access(public_path, F_OK) == 0)
        return cairn_error_set(
            err, CAIRN_EEXISTS,
            "%s already holds a key (%s); not "
            "overwriting it",
            dir, access(secret, F_OK) == 0 ? secret : public_path);
    zcert_t *cert = zcert_new();
    if (!cert)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    zcert_set_meta(cert, "created-by", "cairn keygen");
    /* Private from the first byte: no window where others may read it. */
    mode_t old = umask(077);
    int rc = zcert_save_secret(cert, secret);
    umask(old);
    if (rc == 0)
        rc = chmod(secret, 0600);
    if (rc == 0)
        rc = zcert_save_public(cert, public_path);
    zcert_destroy(&cert);
    if (rc != 0) {
        unlink(secret);
        unlink(public_path);
        return cairn_error_set(err, CAIRN_EINVAL,
                               "cannot write the key "
                               "files in %s",
                               dir);
    }
    return CAIRN_OK;
}

bool
cairn__monitor_event_recv(zsock_t *monitor, uint16_t *event, uint32_t *value)
{
    /* Frame 1: the event (16 bits) and its value (32 bits), host order. */
    zmsg_t *msg = zmsg_recv(monitor);
    zframe_t *head = msg ? zmsg_first(msg) : NULL;
    bool ok = head && zframe_size(head) == 6;
    if (ok) {
        memcpy(event, zframe_data(head), sizeof *event);
        memcpy(value, zframe_data(head) + 2, sizeof *value);
    }
    zmsg_destroy(&msg);
    return ok;
}

const char *
cairn__curve_describe_failure(uint16_t event, uint32_t value, char *buf,
                              size_t size)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 400)
        snprintf(buf, size,
                 "its CURVE key is not in the allow list (ZAP "
                 "status 400)");
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf(buf, size, "authentication failed (ZAP status %u)", value);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
             && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        snprintf(buf, size,
                 "security mechanism mismatch (one side uses "
                 "CURVE, the other does not)");
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
             && value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
        snprintf(buf, size,
                 "CURVE handshake failed to decrypt (wrong "
                 "server key?)");
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        snprintf(buf, size, "handshake protocol error 0x%08x", value);
    else
        snprintf(buf, size,
                 "the handshake broke off (%s): the other side "
                 "may require CURVE, not use it, or expect "
                 "another key",
                 zmq_strerror((int)value));
    return buf;
}

/* ---- the coordinator side ------------------------------------------------ */

struct cairn__curve_server_t {
    zsock_t *router;   /* borrowed */
    zactor_t *auth;    /* zauth */
    zactor_t *monitor; /* s_monitor_actor */
    char monitor_endpoint[96];
    char listen[256];
    _Atomic uint64_t *refused;
};

static pthread_mutex_t s_server_lock = PTHREAD_MUTEX_INITIALIZER;
static bool s_server_running;

/* The peer address of a socket, "ip:port", or "" */
static void
s_peer_name(int fd, char *buf, size_t size)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    buf[0] = '\0';
    if (getpeername(fd, (struct sockaddr *)&addr, &len) != 0)
        return;
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;
    if (addr.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&addr;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(buf, size, "%s:%u", host, port);
    } else if (addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(buf, size, "[%s]:%u", host, port);
    }
}

typedef struct {
    int fd;
    char name[64];
} s_peer_t;

typedef struct {
    const cairn__curve_server_t *server;
    s_peer_t peers[S_PEERS];
    size_t next;       /* slot the next accepted peer takes */
    char pending[160]; /* a refusal not yet logged, or "" */
} s_monitor_t;

static void
s_log_refusal(s_monitor_t *self, const char *peer)
{
    cairn_log(CAIRN_LOG_WARN, "engine",
              "refused a worker connection from %s on %s: %s",
              peer && *peer ? peer : "an unknown peer", self->server->listen,
              self->pending);
    self->pending[0] = '\0';
}

/* One monitor event. A refusal is counted at once and logged when its
 * connection closes (the next disconnect, right after it on ZeroMQ's I/O
 * thread), which tells whose it was. */
static void
s_on_event(s_monitor_t *self, uint16_t event, uint32_t value)
{
    if (event == ZMQ_EVENT_ACCEPTED) {
        s_peer_t *peer = &self->peers[self->next++ % S_PEERS];
        peer->fd = (int)value;
        s_peer_name(peer->fd, peer->name, sizeof peer->name);
    } else if (event & S_FAILURE_EVENTS) {
        atomic_fetch_add(self->server->refused, 1);
        if (self->pending[0])
            s_log_refusal(self, NULL);
        cairn__curve_describe_failure(event, value, self->pending,
                                      sizeof self->pending);
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
        const char *name = NULL;
        for (size_t i = 0; i < S_PEERS; i++)
            if (self->peers[i].fd == (int)value && self->peers[i].name[0]) {
                name = self->peers[i].name;
                self->peers[i].fd = -1;
            }
        if (self->pending[0])
            s_log_refusal(self, name);
    }
}

static void
s_monitor_actor(zsock_t *pipe, void *args)
{
    s_monitor_t self = {.server = args};
    for (size_t i = 0; i < S_PEERS; i++)
        self.peers[i].fd = -1;
    zsock_t *events = zsock_new_pair(self.server->monitor_endpoint);
    zsock_signal(pipe, events ? 0 : 1);
    zpoller_t *poller = events ? zpoller_new(pipe, events, NULL) : NULL;
    while (poller) {
        void *which = zpoller_wait(poller, -1);
        if (which != events)
            break; /* $TERM on the pipe, or interrupted */
        uint16_t event;
        uint32_t value;
        if (cairn__monitor_event_recv(events, &event, &value))
            s_on_event(&self, event, value);
    }
    if (self.pending[0])
        s_log_refusal(&self, NULL);
    zpoller_destroy(&poller);
    zsock_destroy(&events);
}

/* zauth's certificate store asserts (aborts) on two files holding the
 * same public key: refuse such a directory here, naming both files. */
static int
s_check_allow_dir(const char *allow_dir, cairn_error_t *err)
{
    zdir_t *dir = zdir_new(allow_dir, "-");
    if (!dir)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "cannot read allow-keys directory %s",
                               allow_dir);
    zfile_t **files = zdir_flatten(dir);
    zhashx_t *seen = zhashx_new(); /* public key -> file name */
    int rc = seen ? CAIRN_OK
                  : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    for (size_t i = 0; rc == CAIRN_OK && files && files[i]; i++) {
        const char *name = zfile_filename(files[i], NULL);
        zcert_t *cert = zcert_load(name);
        if (!cert) { /* zauth skips it too; never quote what it holds */
            cairn_log(CAIRN_LOG_WARN, "curve",
                      "allow-keys: %s is not a CURVE public key file; "
                      "ignored",
                      name);
            continue;
        }
        const char *first = zhashx_lookup(seen, zcert_public_txt(cert));
        if (first)
            rc = cairn_error_set(err, CAIRN_EINVAL,
                                 "allow-keys: %s and %s hold the same public "
                                 "key; keep one",
                                 first, name);
        else
            zhashx_insert(seen, zcert_public_txt(cert), (void *)name);
        zcert_destroy(&cert);
    }
    zhashx_destroy(&seen);
    zdir_flatten_free(&files);
    zdir_destroy(&dir);
    return rc;
}

int
cairn__curve_server_start(cairn__curve_server_t **out, zsock_t *router,
                          const char *secret_path, const char *allow_dir,
                          const char *listen, _Atomic uint64_t *refused,
                          cairn_error_t *err)
{
    *out = NULL;
    zcert_t *cert = NULL;
    int rc = cairn__curve_load(secret_path, true, &cert, err);
    if (rc != CAIRN_OK)
        return rc;
    struct stat st;
    if (!allow_dir || stat(allow_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        zcert_destroy(&cert);
        return cairn_error_set(err, CAIRN_EINVAL,
                               "allow-keys %s is not a directory of worker "
                               "public keys",
                               allow_dir ? allow_dir : "(none)");
    }
    rc = s_check_allow_dir(allow_dir, err);
    if (rc != CAIRN_OK) {
        zcert_destroy(&cert);
        return rc;
    }
    pthread_mutex_lock(&s_server_lock);
    bool busy = s_server_running;
    s_server_running = true;
    pthread_mutex_unlock(&s_server_lock);
    if (busy) {
        zcert_destroy(&cert);
        return cairn_error_set(err, CAIRN_ESTATE,
                               "another engine in this process already "
                               "uses CURVE (one per process)");
    }
    cairn__curve_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        zcert_destroy(&cert);
        pthread_mutex_lock(&s_server_lock);
        s_server_running = false;
        pthread_mutex_unlock(&s_server_lock);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    self->router = router;
    self->refused = refused;
    snprintf(self->listen, sizeof self->listen, "%s", listen);
    snprintf(self->monitor_endpoint, sizeof self->monitor_endpoint,
             "inproc://cairn-curve-monitor-%p-%08x", (void *)self,
             randombytes_random());
    *out = self;
    self->auth = zactor_new(zauth, NULL);
    if (!self->auth || zstr_sendx(self->auth, "CURVE", allow_dir, NULL) != 0
        || zsock_wait(self->auth) != 0) {
        zcert_destroy(&cert);
        cairn__curve_server_stop(out);
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "cannot start the CURVE authenticator");
    }
    zcert_apply(cert, router);
    zcert_destroy(&cert);
    zsock_set_curve_server(router, 1);
    zsock_set_zap_domain(router, "cairn");
    if (zmq_socket_monitor(zsock_resolve(router), self->monitor_endpoint,
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
                               | S_FAILURE_EVENTS)
        != 0) {
        cairn__curve_server_stop(out);
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "cannot monitor the listen socket: %s",
                               zmq_strerror(zmq_errno()));
    }
    self->monitor = zactor_new(s_monitor_actor, self);
    if (!self->monitor) {
        cairn__curve_server_stop(out);
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "cannot start the CURVE monitor");
    }
    return CAIRN_OK;
}

void
cairn__curve_server_stop(cairn__curve_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn__curve_server_t *self = *self_p;
    /* Stops the events first, so the monitor thread sees no more. */
    zmq_socket_monitor(zsock_resolve(self->router), NULL, 0);
    zactor_destroy(&self->monitor);
    zactor_destroy(&self->auth);
    free(self);
    *self_p = NULL;
    pthread_mutex_lock(&s_server_lock);
    s_server_running = false;
    pthread_mutex_unlock(&s_server_lock);
}

/* ---- the worker side ----------------------------------------------------- */

int
cairn__curve_client_apply(zsock_t *dealer, const char *secret_path,
                          const char *server_key_path, cairn_error_t *err)
{
    zcert_t *mine = NULL, *server = NULL;
    int rc = cairn__curve_load(secret_path, true, &mine, err);
    if (rc == CAIRN_OK)
        rc = cairn__curve_load(server_key_path, false, &server, err);
    if (rc == CAIRN_OK) {
        zcert_apply(mine, dealer);
        zsock_set_curve_serverkey(dealer, zcert_public_txt(server));
    }
    zcert_destroy(&mine);
    zcert_destroy(&server);
    return rc;
}
