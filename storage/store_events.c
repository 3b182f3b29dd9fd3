/* store_events.c - reading, writing and checking a run's stored events
 * (store_events.h, cairn_store_events in events.h).
 *
 * The engine decides what is stored and when (engine/events.c); this
 * module knows the key layout and the record. Reads decode and check
 * every record: a damaged one is CAIRN_ECORRUPT naming the event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/events.h"
#include "storage/record.h"
#include "storage/store_events.h"

bool
cairn__events_batch_put(cairn_store_t *self, cairn__batch_t *batch,
                        const char *run_id, uint64_t seq, const uint8_t *framed,
                        size_t len)
{
    cairn__key_step(&self->key, run_id, seq);
    if (self->key.out_of_memory)
        return false;
    self->backend->ops->batch_put(batch, CAIRN__CF_EVENTS, self->key.data,
                                  self->key.len, framed, len);
    return true;
}

bool
cairn__events_batch_drop(cairn_store_t *self, cairn__batch_t *batch,
                         const char *run_id, uint64_t from, uint64_t to)
{
    for (uint64_t seq = from; seq <= to && seq != 0; seq++) {
        cairn__key_step(&self->key, run_id, seq);
        if (self->key.out_of_memory)
            return false;
        self->backend->ops->batch_delete(batch, CAIRN__CF_EVENTS,
                                         self->key.data, self->key.len);
    }
    return true;
}

/* The seq of an event key of the run whose prefix (RUN \0) is in
 * prefix, or 0 when key is not one. */
static uint64_t
s_key_seq(const uint8_t *key, size_t len, const cairn__key_t *prefix)
{
    if (len != prefix->len + 8 || !cairn__key_has_prefix(key, len, prefix))
        return 0;
    return cairn__key_read_u64(key + prefix->len);
}

int
cairn__store_event_range(cairn_store_t *self, const char *run_id, uint64_t *low,
                         uint64_t *high, cairn_error_t *err)
{
    *low = *high = 0;
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_EVENTS);
    cairn__key_t prefix = {0};
    cairn__key_add_text(&prefix, run_id, true);
    if (!it || prefix.out_of_memory) {
        ops->iter_free(it);
        cairn__key_free(&prefix);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    size_t len = 0;
    const uint8_t *key;
    ops->iter_seek(it, prefix.data, prefix.len);
    if (ops->iter_valid(it)) {
        key = ops->iter_key(it, &len);
        *low = s_key_seq(key, len, &prefix);
    }
    cairn__key_step(&self->key, run_id, UINT64_MAX);
    ops->iter_seek_for_prev(it, self->key.data, self->key.len);
    if (*low && ops->iter_valid(it)) {
        key = ops->iter_key(it, &len);
        *high = s_key_seq(key, len, &prefix);
    }
    if (!*high)
        *low = 0;
    ops->iter_free(it);
    cairn__key_free(&prefix);
    return CAIRN_OK;
}

int
cairn__store_commit_batch(cairn_store_t *self, cairn__batch_t *batch,
                          cairn_error_t *err)
{
    int rc = self->read_only
                 ? cairn_error_set(err, CAIRN_ESTATE, "store is read-only")
                 : self->backend->ops->batch_commit(
                     self->backend, batch,
                     self->durability == CAIRN_DURABILITY_MACHINE, err);
    self->backend->ops->batch_free(batch);
    return rc;
}

void
cairn__event_from_record(const Cairn__EventRecord *record, const char *run_id,
                         cairn_event_t *out)
{
    memset(out, 0, sizeof *out);
    out->kind = (cairn_event_kind_t)record->kind;
    out->run_id = run_id;
    out->superstep = record->superstep;
    out->executor =
        record->executor && *record->executor ? record->executor : NULL;
    out->detail = record->detail && *record->detail ? record->detail : NULL;
    if (out->kind == CAIRN_EVENT_OUTPUT) {
        out->data = record->data.data ? record->data.data : (const uint8_t *)"";
        out->data_len = record->data.len;
    }
    out->count = record->count;
    out->status = (cairn_status_t)record->status;
    out->seq = record->seq;
    out->time_ms = record->time_ms;
}

/* Calls visit for each stored event record of run_id with seq > after,
 * oldest first; stops at the first error visit returns. */
typedef int (*s_visit_fn)(void *userdata, uint64_t key_seq,
                          const uint8_t *value, size_t len);

static int
s_each_event(cairn_store_t *self, const char *run_id, uint64_t after,
             s_visit_fn visit, void *userdata, cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_EVENTS);
    cairn__key_t prefix = {0};
    cairn__key_add_text(&prefix, run_id, true);
    cairn__key_t start = {0};
    cairn__key_step(&start, run_id, after == UINT64_MAX ? after : after + 1);
    int rc = CAIRN_OK;
    if (!it || prefix.out_of_memory || start.out_of_memory)
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    for (rc == CAIRN_OK ? ops->iter_seek(it, start.data, start.len) : (void)0;
         rc == CAIRN_OK && ops->iter_valid(it); ops->iter_next(it)) {
        size_t key_len, len;
        const uint8_t *key = ops->iter_key(it, &key_len);
        if (!cairn__key_has_prefix(key, key_len, &prefix))
            break;
        const uint8_t *value = ops->iter_value(it, &len);
        rc = visit(userdata, s_key_seq(key, key_len, &prefix), value, len);
    }
    if (it)
        ops->iter_free(it);
    cairn__key_free(&prefix);
    cairn__key_free(&start);
    return rc;
}

typedef struct {
    const char *run_id;
    cairn_event_fn fn;
    void *userdata;
    cairn_error_t *err;
} s_replay_t;

static int
s_replay_one(void *userdata, uint64_t key_seq, const uint8_t *value, size_t len)
{
    s_replay_t *replay = userdata;
    char what[160];
    snprintf(what, sizeof what, "event %llu of run '%s'",
             (unsigned long long)key_seq, replay->run_id);
    Cairn__EventRecord *record = NULL;
    int rc =
        cairn__record_unpack(&cairn__event_record__descriptor, value, len, what,
                             (ProtobufCMessage **)&record, replay->err);
    if (rc != CAIRN_OK)
        return rc;
    cairn_event_t event;
    cairn__event_from_record(record, replay->run_id, &event);
    replay->fn(&event, replay->userdata);
    cairn__event_record__free_unpacked(record, NULL);
    return CAIRN_OK;
}

int
cairn_store_events(cairn_store_t *store, const char *run_id, uint64_t after_seq,
                   cairn_event_fn fn, void *userdata, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!store || !run_id || !fn)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "events need a store, a run id and a "
                               "callback");
    Cairn__RunRecord *run = NULL;
    int rc = cairn__store_get_run_record(store, run_id, &run, err);
    if (rc != CAIRN_OK)
        return rc;
    cairn__run_record__free_unpacked(run, NULL);
    s_replay_t replay = {run_id, fn, userdata, err};
    return s_each_event(store, run_id, after_seq, s_replay_one, &replay, err);
}

/* ---- verify ----------------------------------------------------------------
 */

typedef struct {
    const char *run_id;
    void (*problem)(void *userdata, const char *text);
    void *userdata;
    uint64_t previous; /* seq of the event before, 0 for none */
} s_checker_t;

static int
s_check_one(void *userdata, uint64_t key_seq, const uint8_t *value, size_t len)
{
    s_checker_t *c = userdata;
    char text[600];
    cairn_error_t err;
    Cairn__EventRecord *record = NULL;
    snprintf(text, sizeof text, "event %llu", (unsigned long long)key_seq);
    if (key_seq == 0) {
        c->problem(c->userdata, "an event key is malformed");
        return CAIRN_OK;
    }
    if (cairn__record_unpack(&cairn__event_record__descriptor, value, len, text,
                             (ProtobufCMessage **)&record, &err)
        != CAIRN_OK) {
        c->problem(c->userdata, err.message);
    } else if (record->seq != key_seq) {
        snprintf(text, sizeof text,
                 "event %llu is corrupt: it says it is "
                 "event %llu",
                 (unsigned long long)key_seq, (unsigned long long)record->seq);
        c->problem(c->userdata, text);
    }
    if (c->previous && key_seq != c->previous + 1) {
        snprintf(text, sizeof text,
                 "events %llu to %llu are missing (stored events are "
                 "contiguous)",
                 (unsigned long long)c->previous + 1,
                 (unsigned long long)key_seq - 1);
        c->problem(c->userdata, text);
    }
    c->previous = key_seq;
    if (record)
        cairn__event_record__free_unpacked(record, NULL);
    return CAIRN_OK;
}

void
cairn__store_verify_events(cairn_store_t *self, const char *run_id,
                           void (*problem)(void *userdata, const char *text),
                           void *userdata)
{
    s_checker_t checker = {run_id, problem, userdata, 0};
    cairn_error_t err;
    if (s_each_event(self, run_id, 0, s_check_one, &checker, &err) != CAIRN_OK)
        problem(userdata, err.message);
}
