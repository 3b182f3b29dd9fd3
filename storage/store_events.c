/* store_events.c - reading, writing and checking a run's stored events
 * (the events part of checkpoint_io.h, store_events.h,
 * cairn_store_foreach_event in events.h).
 *
 * The engine decides what is stored and when (engine/events.c); this
 * module knows the key layout and the records. Reads decode and check
 * every block: a damaged one is CAIRN_ECORRUPT naming it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/events.h"
#include "base/util.h"
#include "storage/record.h"
#include "storage/store_events.h"

bool
cairn__ckpt_put_events(cairn__ckpt_writer_t *w, uint64_t seq,
                       const uint8_t *framed, size_t len)
{
    /* The store's scratch key, not the writer's: a key that runs out of
     * memory here costs the events a later write, not the checkpoint. */
    cairn_store_t *store = w->store;
    cairn__key_step(&store->key, w->run_id, seq);
    if (store->key.out_of_memory)
        return false;
    store->backend->ops->batch_put(w->batch, CAIRN__CF_EVENTS, store->key.data,
                                   store->key.len, framed, len);
    return true;
}

bool
cairn__ckpt_drop_events(cairn__ckpt_writer_t *w, uint64_t from, uint64_t to)
{
    cairn_store_t *store = w->store;
    cairn__key_t end = {0};
    cairn__key_step(&store->key, w->run_id, from);
    cairn__key_step(&end, w->run_id, to);
    bool ok = !store->key.out_of_memory && !end.out_of_memory;
    if (ok)
        store->backend->ops->batch_delete_range(w->batch, CAIRN__CF_EVENTS,
                                                store->key.data, store->key.len,
                                                end.data, end.len);
    cairn__key_free(&end);
    return ok;
}

cairn__ckpt_writer_t *
cairn__ckpt_begin_events(cairn_store_t *store, const char *run_id)
{
    /* A writer whose superstep no key uses: events are keyed by seq. */
    return cairn__ckpt_begin(store, run_id, 0);
}

int
cairn__ckpt_commit_events(cairn__ckpt_writer_t *w, cairn_error_t *err)
{
    cairn_store_t *store = w->store;
    int rc = store->read_only
                 ? cairn_error_set(err, CAIRN_ESTATE, "store is read-only")
                 : store->backend->ops->batch_commit(
                     store->backend, w->batch,
                     store->durability == CAIRN_DURABILITY_MACHINE, err);
    cairn__ckpt_abort(w); /* frees the batch, committed or not */
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

/* ---- walking the blocks of a run ------------------------------------------
 */

typedef struct {
    cairn_store_t *store;
    const char *run_id;
    cairn__iter_t *it;
    cairn__key_t prefix; /* RUN \0 */
} s_walk_t;

static int
s_walk_open(s_walk_t *w, cairn_store_t *store, const char *run_id,
            cairn_error_t *err)
{
    memset(w, 0, sizeof *w);
    w->store = store;
    w->run_id = run_id;
    w->it = store->backend->ops->iter_new(store->backend, CAIRN__CF_EVENTS);
    cairn__key_add_text(&w->prefix, run_id, true);
    if (!w->it || w->prefix.out_of_memory)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    return CAIRN_OK;
}

/* Ends a walk: rc, or when that is CAIRN_OK the read error that may
 * have ended it early (cairn__store_iter_end). */
static int
s_walk_close(s_walk_t *w, int rc, cairn_error_t *err)
{
    rc = cairn__store_iter_end(w->store, w->it, rc, err);
    w->it = NULL;
    cairn__key_free(&w->prefix);
    return rc;
}

/* The first seq of the block under the iterator, or 0 when the iterator
 * is not on one of the run's blocks. */
static uint64_t
s_walk_seq(const s_walk_t *w)
{
    const cairn__backend_ops_t *ops = w->store->backend->ops;
    if (!ops->iter_valid(w->it))
        return 0;
    size_t len = 0;
    const uint8_t *key = ops->iter_key(w->it, &len);
    if (!cairn__key_has_prefix(key, len, &w->prefix))
        return 0;
    if (len != w->prefix.len + 8)
        return UINT64_MAX; /* malformed: reported by the decoder */
    return cairn__key_read_u64(key + w->prefix.len);
}

/* Positions the iterator on the block holding seq (the newest at or
 * before it), else on the run's first block. Fails with the read error
 * that left the iterator on no block (a second seek would forget it). */
static int
s_walk_seek(s_walk_t *w, uint64_t seq, cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = w->store->backend->ops;
    cairn__key_step(&w->store->key, w->run_id, seq);
    ops->iter_seek_for_prev(w->it, w->store->key.data, w->store->key.len);
    int rc = ops->iter_valid(w->it) ? CAIRN_OK : ops->iter_status(w->it, err);
    if (rc == CAIRN_OK && s_walk_seq(w) == 0) {
        ops->iter_seek(w->it, w->prefix.data, w->prefix.len);
        if (!ops->iter_valid(w->it))
            rc = ops->iter_status(w->it, err);
    }
    return rc;
}

/* Decodes the block under the iterator. */
static int
s_walk_block(const s_walk_t *w, Cairn__EventBlock **out, cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = w->store->backend->ops;
    uint64_t seq = s_walk_seq(w);
    char what[160];
    if (seq == UINT64_MAX)
        snprintf(what, sizeof what, "an event block of run '%s'", w->run_id);
    else
        snprintf(what, sizeof what, "event block %llu of run '%s'",
                 (unsigned long long)seq, w->run_id);
    size_t len = 0;
    const uint8_t *value = ops->iter_value(w->it, &len);
    int rc = cairn__record_unpack(&cairn__event_block__descriptor, value, len,
                                  what, (ProtobufCMessage **)out, err);
    if (rc == CAIRN_OK && seq == UINT64_MAX) {
        cairn__event_block__free_unpacked(*out, NULL);
        *out = NULL;
        rc = cairn_error_set(err, CAIRN_ECORRUPT, "%s has a malformed key",
                             what);
    }
    return rc;
}

int
cairn__store_event_blocks(cairn_store_t *self, const char *run_id,
                          uint64_t **starts, size_t *count, cairn_error_t *err)
{
    *starts = NULL;
    *count = 0;
    s_walk_t w;
    int rc = s_walk_open(&w, self, run_id, err);
    const cairn__backend_ops_t *ops = self->backend->ops;
    if (rc == CAIRN_OK)
        ops->iter_seek(w.it, w.prefix.data, w.prefix.len);
    uint64_t seq;
    while (rc == CAIRN_OK && (seq = s_walk_seq(&w)) != 0) {
        if (seq != UINT64_MAX) {
            if (!CAIRN__GROW(*starts, *count))
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            else
                (*starts)[(*count)++] = seq;
        }
        ops->iter_next(w.it);
    }
    rc = s_walk_close(&w, rc, err);
    if (rc != CAIRN_OK) {
        free(*starts);
        *starts = NULL;
        *count = 0;
    }
    return rc;
}

int
cairn__store_event_ends(cairn_store_t *self, const char *run_id,
                        uint64_t *first, uint64_t *last, cairn_error_t *err)
{
    *first = 0;
    *last = 0;
    s_walk_t w;
    int rc = s_walk_open(&w, self, run_id, err);
    if (rc == CAIRN_OK) {
        self->backend->ops->iter_seek(w.it, w.prefix.data, w.prefix.len);
        *first = s_walk_seq(&w);
    }
    if (rc == CAIRN_OK && *first != 0)
        rc = s_walk_seek(&w, UINT64_MAX, err);
    if (rc == CAIRN_OK && *first != 0 && s_walk_seq(&w) != 0) {
        uint64_t newest = s_walk_seq(&w);
        Cairn__EventBlock *block = NULL;
        rc = s_walk_block(&w, &block, err);
        if (rc == CAIRN_OK) {
            *last = block->n_events ? block->events[block->n_events - 1]->seq
                                    : newest - 1;
            cairn__event_block__free_unpacked(block, NULL);
        }
    }
    rc = s_walk_close(&w, rc, err);
    if (rc != CAIRN_OK)
        *first = *last = 0;
    return rc;
}

/* The run's first_kept (from its newest block), 0 when it has none. */
static int
s_first_kept(s_walk_t *w, uint64_t *first_kept, cairn_error_t *err)
{
    *first_kept = 0;
    int rc = s_walk_seek(w, UINT64_MAX, err);
    if (rc != CAIRN_OK || s_walk_seq(w) == 0)
        return rc;
    Cairn__EventBlock *block = NULL;
    rc = s_walk_block(w, &block, err);
    if (rc == CAIRN_OK) {
        *first_kept = block->first_kept ? block->first_kept : 1;
        cairn__event_block__free_unpacked(block, NULL);
    }
    return rc;
}

int
cairn_store_foreach_event(cairn_store_t *store, const char *run_id,
                          uint64_t after_seq, cairn_event_fn fn, void *userdata,
                          cairn_error_t *err)
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
    s_walk_t w;
    uint64_t first_kept = 0;
    rc = s_walk_open(&w, store, run_id, err);
    if (rc == CAIRN_OK)
        rc = s_first_kept(&w, &first_kept, err);
    uint64_t from = after_seq == UINT64_MAX ? UINT64_MAX : after_seq + 1;
    if (from < first_kept)
        from = first_kept;
    if (rc == CAIRN_OK && first_kept)
        rc = s_walk_seek(&w, from, err);
    while (rc == CAIRN_OK && first_kept && s_walk_seq(&w) != 0) {
        Cairn__EventBlock *block = NULL;
        rc = s_walk_block(&w, &block, err);
        for (size_t i = 0; rc == CAIRN_OK && i < block->n_events; i++) {
            if (block->events[i]->seq < from)
                continue;
            cairn_event_t event;
            cairn__event_from_record(block->events[i], run_id, &event);
            fn(&event, userdata);
        }
        if (block)
            cairn__event_block__free_unpacked(block, NULL);
        store->backend->ops->iter_next(w.it);
    }
    return s_walk_close(&w, rc, err);
}

/* ---- verify ----------------------------------------------------------------
 */

void
cairn__store_verify_events(cairn_store_t *self, const char *run_id,
                           void (*problem)(void *userdata, const char *text),
                           void *userdata)
{
    s_walk_t w;
    cairn_error_t err;
    char text[600];
    if (s_walk_open(&w, self, run_id, &err) != CAIRN_OK) {
        problem(userdata, err.message);
        (void)s_walk_close(&w, CAIRN_OK, NULL);
        return;
    }
    self->backend->ops->iter_seek(w.it, w.prefix.data, w.prefix.len);
    uint64_t next = 0, first = 0, first_kept = 0, seq;
    while ((seq = s_walk_seq(&w)) != 0) {
        Cairn__EventBlock *block = NULL;
        /* A damaged block is one problem, not also a gap before it. */
        first = first ? first : seq;
        if (s_walk_block(&w, &block, &err) != CAIRN_OK) {
            problem(userdata, err.message);
            next = 0;
        } else if (block->n_events == 0 || block->events[0]->seq != seq) {
            snprintf(text, sizeof text,
                     "event block %llu is corrupt: it does not start "
                     "with event %llu",
                     (unsigned long long)seq, (unsigned long long)seq);
            problem(userdata, text);
            next = 0;
        } else {
            if (next && seq != next) {
                snprintf(text, sizeof text,
                         "events %llu to %llu are missing (stored events "
                         "are contiguous)",
                         (unsigned long long)next, (unsigned long long)seq - 1);
                problem(userdata, text);
            }
            next = seq;
            for (size_t i = 0; i < block->n_events; i++, next++)
                if (block->events[i]->seq != next) {
                    snprintf(text, sizeof text,
                             "event block %llu is corrupt: event %llu "
                             "where %llu belongs",
                             (unsigned long long)seq,
                             (unsigned long long)block->events[i]->seq,
                             (unsigned long long)next);
                    problem(userdata, text);
                    break;
                }
            first_kept = block->first_kept ? block->first_kept : first;
        }
        if (block)
            cairn__event_block__free_unpacked(block, NULL);
        self->backend->ops->iter_next(w.it);
    }
    if (first && first_kept < first) {
        snprintf(text, sizeof text,
                 "events %llu to %llu are missing (the bound keeps them)",
                 (unsigned long long)first_kept, (unsigned long long)first - 1);
        problem(userdata, text);
    }
    if (s_walk_close(&w, CAIRN_OK, &err) != CAIRN_OK)
        problem(userdata, err.message);
}
