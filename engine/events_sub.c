/* events_sub.c - following a live run's events (cairn_event_sub_*).
 *
 * A SUB socket connected to the run's events endpoint, subscribed to
 * everything. Each message is two frames (events.c): the run id and a
 * framed EventRecord, checked like a stored value; anything else is
 * dropped with a warning, never trusted.
 *
 * Threading: one thread at a time per subscriber.
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cairn/events.h"
#include "cairn/log.h"
#include "base/util.h"
#include "storage/checkpoint_io.h"
#include "storage/record.h"

struct cairn_event_sub_t {
    zsock_t *sub;
    char run_id[80];
};

int
cairn_event_sub_open(cairn_event_sub_t **out, const char *endpoint,
                     const char *run_id, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!out || !endpoint || !*endpoint || !run_id)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "a subscription needs an endpoint and a run "
                               "id");
    *out = NULL;
    cairn_event_sub_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    snprintf(self->run_id, sizeof self->run_id, "%s", run_id);
    self->sub = zsock_new(ZMQ_SUB);
    int rc = self->sub ? CAIRN_OK
                       : cairn_error_set(err, CAIRN_ETRANSPORT,
                                         "cannot make a SUB socket: %s",
                                         zmq_strerror(zmq_errno()));
    void *socket = self->sub ? zsock_resolve(self->sub) : NULL;
    int linger = 0;
    if (rc == CAIRN_OK) {
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(socket, ZMQ_SUBSCRIBE, "", 0);
        if (zmq_connect(socket, endpoint) != 0)
            rc = cairn_error_set(err, CAIRN_EINVAL,
                                 "cannot follow events on %s: %s", endpoint,
                                 zmq_strerror(zmq_errno()));
    }
    if (rc != CAIRN_OK) {
        cairn_event_sub_destroy(&self);
        return rc;
    }
    *out = self;
    return CAIRN_OK;
}

void
cairn_event_sub_destroy(cairn_event_sub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy(&(*self_p)->sub);
    free(*self_p);
    *self_p = NULL;
}

/* Decodes one received message and calls fn; false when it is not an
 * event of the run. */
static bool
s_deliver(cairn_event_sub_t *self, zmq_msg_t *head, zmq_msg_t *body,
          cairn_event_fn fn, void *userdata)
{
    size_t id_len = zmq_msg_size(head);
    if (id_len != strlen(self->run_id)
        || memcmp(zmq_msg_data(head), self->run_id, id_len) != 0)
        return false;
    Cairn__EventRecord *record = NULL;
    cairn_error_t why;
    if (cairn__record_unpack(&cairn__event_record__descriptor,
                             zmq_msg_data(body), zmq_msg_size(body),
                             "published event", (ProtobufCMessage **)&record,
                             &why)
        != CAIRN_OK) {
        cairn_log(CAIRN_LOG_WARN, "events", "%s", why.message);
        return false;
    }
    cairn_event_t event;
    cairn__event_from_record(record, self->run_id, &event);
    fn(&event, userdata);
    cairn__event_record__free_unpacked(record, NULL);
    return true;
}

int
cairn_event_sub_next(cairn_event_sub_t *self, int timeout_ms, cairn_event_fn fn,
                     void *userdata, cairn_error_t *err)
{
    cairn_error_clear(err);
    void *socket = zsock_resolve(self->sub);
    uint64_t deadline = cairn__monotonic_us()
                        + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000u;
    for (;;) {
        uint64_t now = cairn__monotonic_us();
        long wait_ms = now >= deadline ? 0 : (long)((deadline - now) / 1000u);
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll(&item, 1, wait_ms);
        if (ready < 0 && zmq_errno() != EINTR)
            return cairn_error_set(err, CAIRN_ETRANSPORT,
                                   "waiting for events failed: %s",
                                   zmq_strerror(zmq_errno()));
        if (ready == 0 || (ready < 0 && now >= deadline))
            return 0;
        if (ready < 0)
            continue; /* interrupted: wait for the rest of the time */
        /* Every part of one message; only [run id, record] is an event. */
        zmq_msg_t parts[2];
        zmq_msg_init(&parts[0]);
        zmq_msg_init(&parts[1]);
        size_t n = 0;
        bool more = true;
        while (more) {
            zmq_msg_t *slot = &parts[n < 2 ? n : 1];
            if (n >= 2) {
                zmq_msg_close(slot);
                zmq_msg_init(slot);
            }
            if (zmq_msg_recv(slot, socket, ZMQ_DONTWAIT) < 0)
                break;
            n++;
            more = zmq_msg_more(slot) != 0;
        }
        bool whole = n == 2 && !more;
        bool delivered =
            whole && s_deliver(self, &parts[0], &parts[1], fn, userdata);
        zmq_msg_close(&parts[0]);
        zmq_msg_close(&parts[1]);
        if (delivered)
            return 1;
        if (!whole)
            cairn_log(CAIRN_LOG_WARN, "events",
                      "dropped a malformed events message");
    }
}
