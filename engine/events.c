/* events.c - a run's events: numbered, kept for the store, published.
 *
 * Every event the coordinator emits gets the next sequence number of its
 * run (continuing after the last stored one on resume) and the wall
 * time. With a store, the event is encoded once (an EventRecord, framed
 * like every stored value) into an in-memory buffer that the next
 * checkpoint's batch takes as one block (one key per write, not one per
 * event: cairn__events_put): stored events never say
 * more than the checkpoints beside them, and a crash loses only events
 * after the last checkpoint, whose superstep a resume runs (and reports)
 * again. The buffer and the store hold the newest `keep` events of the
 * run; blocks that hold only older ones are deleted in the same batch,
 * and the newest block records where the kept range starts. What is buffered
 * when the run ends is written in a batch of its own (cairn__events_flush).
 *
 * With an endpoint, each event is also published on an XPUB socket as
 * two frames: the run id and the framed EventRecord. XPUB_VERBOSER makes
 * the socket report every subscribe and unsubscribe (also when a
 * subscriber goes away), so the number of subscriptions is known and
 * nothing is encoded for the socket while there are none. A new
 * subscriber first gets the buffered events again: the store has every
 * event before them, so a follower that reads the store and then the
 * socket can see every event. Subscribers drop events they already have
 * by seq; PUB drops for a subscriber that falls too far behind, which it
 * notices as a gap in seqs.
 *
 * Threading: the coordinator's thread only.
 */
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "cairn/log.h"
#include "checkpoint.pb-c.h"
#include "engine/events.h"
#include "base/util.h"
#include "storage/checkpoint_io.h"
#include "storage/record.h"

#define S_SEND_HWM 100000 /* events queued per subscriber before drops */
#define S_LINGER_MS 200   /* to get run_ended out when the run closes */

/* One buffered event: its framed record in the arena. */
typedef struct {
    uint64_t seq;
    size_t offset;
    size_t len;
} s_entry_t;

struct cairn__events_t {
    char run_id[80];
    bool started;         /* run_id known, events numbered */
    cairn_store_t *store; /* borrowed; NULL: nothing stored */
    bool storing;         /* store, keep > 0 and started with store */
    size_t keep;          /* newest events kept per run */
    uint64_t next_seq;
    uint64_t stored_high; /* last stored seq, 0: none */
    uint64_t *blocks;     /* first seqs of the stored blocks:
                             blocks[block_first .. +block_count) */
    size_t block_first;
    size_t block_count;
    bool blocks_loaded;   /* blocks is the stored list; else only
                             oldest_block is known (a resumed run reads
                             the list at its first trim, not at start) */
    uint64_t oldest_block; /* !blocks_loaded: first seq of the oldest
                              stored block, 0: none */
    size_t put_dropped; /* what the last put did, for saved() */
    uint64_t put_start;
    uint64_t put_high;
    bool put_done;
    s_entry_t *entries; /* the buffer: entries[first .. first+count) */
    size_t first;
    size_t count;
    size_t entry_capacity;
    uint8_t *arena; /* their bytes */
    size_t used;
    size_t arena_capacity;
    uint8_t *scratch; /* encoding for the socket alone */
    size_t scratch_capacity;
    uint8_t *block; /* the block being written */
    size_t block_size;
    char *ipc_path;       /* the socket file we bound, removed at the end */
    zsock_t *pub;         /* XPUB, or NULL */
    size_t subscriptions; /* as the socket reported them */
    uint64_t read_ms;     /* when they were last read (wall ms) */
};

/* ---- the endpoint ----------------------------------------------------------
 */

/* Why endpoint cannot be published on, or NULL. Events carry outputs and
 * errors: they are not offered beyond this machine. */
static const char *
s_endpoint_problem(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0)
        return strlen(endpoint + 6) == 0 ? "an ipc endpoint needs a path"
               : strlen(endpoint + 6)
                       >= sizeof(((struct sockaddr_un *)0)->sun_path)
                   ? "ipc paths are limited to 107 bytes"
                   : NULL;
    if (strncmp(endpoint, "inproc://", 9) == 0
        || cairn_endpoint_is_loopback(endpoint))
        return NULL;
    return "use ipc://PATH or a loopback tcp:// address";
}

/* Binds the XPUB on endpoint. A bad endpoint is the caller's error; an
 * endpoint that cannot be bound is only warned about: a run does not
 * fail because nobody can watch it (self->pub stays NULL, nothing is
 * published). An ipc socket file is made owner-only: events carry
 * outputs. */
static int
s_bind(cairn__events_t *self, const char *endpoint, cairn_error_t *err)
{
    const char *problem = s_endpoint_problem(endpoint);
    if (problem)
        return cairn_error_set(err, CAIRN_EINVAL, "events endpoint '%s': %s",
                               endpoint, problem);
    bool ipc = strncmp(endpoint, "ipc://", 6) == 0;
    struct stat st;
    /* libzmq removes what is at an ipc path before binding: never a file
     * that is not a socket. */
    if (ipc && lstat(endpoint + 6, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        cairn_log(CAIRN_LOG_WARN, "events",
                  "not publishing events on %s: %s exists and is not a "
                  "socket",
                  endpoint, endpoint + 6);
        return CAIRN_OK;
    }
    self->pub = zsock_new(ZMQ_XPUB);
    if (!self->pub)
        return cairn_error_set(err, CAIRN_ETRANSPORT,
                               "cannot make the events socket: %s",
                               zmq_strerror(zmq_errno()));
    void *socket = zsock_resolve(self->pub);
    int on = 1, hwm = S_SEND_HWM, linger = S_LINGER_MS;
    zmq_setsockopt(socket, ZMQ_XPUB_VERBOSER, &on, sizeof on);
    zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    /* Subscribers send only subscriptions (read 256 bytes at most):
     * nothing bigger is taken into memory. */
    int64_t max_frame = 256;
    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    if (zmq_bind(socket, endpoint) != 0) {
        cairn_log(CAIRN_LOG_WARN, "events",
                  "not publishing events: cannot bind %s: %s", endpoint,
                  zmq_strerror(zmq_errno()));
        zsock_destroy(&self->pub);
        return CAIRN_OK;
    }
    if (ipc && chmod(endpoint + 6, S_IRUSR | S_IWUSR) != 0)
        cairn_log(CAIRN_LOG_WARN, "events", "cannot make %s owner-only: %s",
                  endpoint, strerror(errno));
    if (ipc && !(self->ipc_path = strdup(endpoint + 6)))
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    return CAIRN_OK;
}

bool
cairn__events_published(const cairn__events_t *self)
{
    return self && self->pub;
}

/* Reads the subscriptions the socket reported; true when someone new
 * subscribed. */
static bool
s_read_subscriptions(cairn__events_t *self)
{
    void *socket = zsock_resolve(self->pub);
    bool fresh = false;
    uint8_t frame[256];
    int n;
    while ((n = zmq_recv(socket, frame, sizeof frame, ZMQ_DONTWAIT)) >= 0) {
        if (n >= 1 && frame[0] == 1) {
            self->subscriptions++;
            fresh = true;
        } else if (n >= 1 && frame[0] == 0 && self->subscriptions > 0) {
            self->subscriptions--;
        }
    }
    return fresh;
}

static void
s_send(cairn__events_t *self, const uint8_t *framed, size_t len)
{
    void *socket = zsock_resolve(self->pub);
    /* PUB never blocks: a subscriber at its limit misses the event. */
    if (zmq_send(socket, self->run_id, strlen(self->run_id),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT)
        >= 0)
        zmq_send(socket, framed, len, ZMQ_DONTWAIT);
}

/* ---- the buffer -------------------------------------------------------------
 */

static bool
s_reserve(uint8_t **buffer, size_t *capacity, size_t needed)
{
    if (needed <= *capacity)
        return true;
    size_t grown = *capacity ? *capacity : 4096;
    while (grown < needed)
        grown *= 2;
    uint8_t *bigger = realloc(*buffer, grown);
    if (!bigger)
        return false;
    *buffer = bigger;
    *capacity = grown;
    return true;
}

/* Drops the oldest buffered event (the bound), moving the rest to the
 * front once half the buffer is dropped ones. */
static void
s_drop_oldest(cairn__events_t *self)
{
    self->first++;
    self->count--;
    if (self->first < self->count || self->first < 64)
        return;
    size_t base = self->count ? self->entries[self->first].offset : self->used;
    memmove(self->arena, self->arena + base, self->used - base);
    self->used -= base;
    memmove(self->entries, self->entries + self->first,
            self->count * sizeof *self->entries);
    for (size_t i = 0; i < self->count; i++)
        self->entries[i].offset -= base;
    self->first = 0;
}

/* Room for one more entry of len bytes; NULL on out-of-memory. */
static uint8_t *
s_append(cairn__events_t *self, uint64_t seq, size_t len)
{
    if (self->count == self->keep)
        s_drop_oldest(self);
    size_t slot = self->first + self->count;
    if (slot == self->entry_capacity) {
        size_t capacity = self->entry_capacity ? self->entry_capacity * 2 : 64;
        s_entry_t *grown =
            realloc(self->entries, capacity * sizeof *self->entries);
        if (!grown)
            return NULL;
        self->entries = grown;
        self->entry_capacity = capacity;
    }
    if (!s_reserve(&self->arena, &self->arena_capacity, self->used + len))
        return NULL;
    self->entries[slot] = (s_entry_t){seq, self->used, len};
    self->count++;
    uint8_t *out = self->arena + self->used;
    self->used += len;
    return out;
}

static void
s_clear(cairn__events_t *self)
{
    self->first = self->count = self->used = 0;
}

/* ---- lifecycle --------------------------------------------------------------
 */

void
cairn__events_keep(cairn__events_t *self, size_t keep)
{
    self->keep = keep == 0                      ? CAIRN_DEFAULT_KEEP_EVENTS
                 : keep == CAIRN_KEEP_NO_EVENTS ? 0
                                                : keep;
}

int
cairn__events_open(cairn__events_t **out, const cairn_run_options_t *opts,
                   cairn_error_t *err)
{
    *out = NULL;
    cairn__events_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    self->store = opts ? opts->store : NULL;
    cairn__events_keep(self, opts ? opts->keep_events : 0);
    int rc = CAIRN_OK;
    if (opts && opts->events_endpoint)
        rc = s_bind(self, opts->events_endpoint, err);
    if (rc != CAIRN_OK) {
        cairn__events_destroy(&self);
        return rc;
    }
    *out = self;
    return CAIRN_OK;
}

int
cairn__events_start(cairn__events_t *self, const char *run_id, bool store,
                    cairn_error_t *err)
{
    snprintf(self->run_id, sizeof self->run_id, "%s", run_id);
    self->next_seq = 1;
    self->blocks_loaded = true; /* nothing stored: the list is empty */
    if (self->store) {
        int rc = cairn__store_event_ends(self->store, run_id,
                                         &self->oldest_block,
                                         &self->stored_high, err);
        if (rc != CAIRN_OK)
            return rc;
        self->blocks_loaded = self->oldest_block == 0;
        self->next_seq = self->stored_high + 1;
    }
    self->storing = store && self->store && self->keep > 0;
    self->started = true;
    return CAIRN_OK;
}

void
cairn__events_destroy(cairn__events_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn__events_t *self = *self_p;
    zsock_destroy(&self->pub);
    if (self->ipc_path) /* libzmq leaves a named ipc file behind */
        unlink(self->ipc_path);
    free(self->ipc_path);
    free(self->entries);
    free(self->arena);
    free(self->scratch);
    free(self->blocks);
    free(self->block);
    free(self);
    *self_p = NULL;
}

/* ---- emitting
 * ---------------------------------------------------------------- */

void
cairn__events_emit(cairn__events_t *self, cairn_event_t *event)
{
    event->time_ms = cairn__wall_ms();
    if (!self || !self->started)
        return;
    event->seq = self->next_seq++;
    /* Subscriptions are read once a millisecond, not per event (a
     * zmq_recv each, ~0.5 us): a subscriber that came in between misses
     * nothing stored, it is sent the unsaved events when seen. */
    bool fresh = false;
    if (self->pub && event->time_ms != self->read_ms) {
        self->read_ms = event->time_ms;
        fresh = s_read_subscriptions(self);
    }
    bool publish = self->pub && self->subscriptions > 0;
    if (!self->storing && !publish)
        return;
    Cairn__EventRecord record = CAIRN__EVENT_RECORD__INIT;
    record.seq = event->seq;
    record.kind = (uint32_t)event->kind;
    record.superstep = event->superstep;
    record.executor = (char *)(event->executor ? event->executor : "");
    record.detail = (char *)(event->detail ? event->detail : "");
    record.data.data = (uint8_t *)event->data;
    record.data.len = event->data ? event->data_len : 0;
    record.count = event->count;
    record.status = (uint32_t)event->status;
    record.time_ms = event->time_ms;
    size_t len = cairn__record_packed_size(&record.base);
    uint8_t *out = NULL;
    if (self->storing)
        out = s_append(self, event->seq, len);
    else if (s_reserve(&self->scratch, &self->scratch_capacity, len))
        out = self->scratch;
    if (!out) {
        cairn_log(CAIRN_LOG_WARN, "events",
                  "run %s: out of memory keeping event %llu (%s)", self->run_id,
                  (unsigned long long)event->seq,
                  cairn_event_kind_name(event->kind));
        return;
    }
    cairn__record_pack_into(&record.base, out, len);
    if (!publish)
        return;
    if (fresh && self->storing) {
        /* Everyone gets what the store does not have yet; those who had
         * it drop it by seq. */
        for (size_t i = self->first; i < self->first + self->count; i++)
            s_send(self, self->arena + self->entries[i].offset,
                   self->entries[i].len);
    } else {
        s_send(self, out, len);
    }
}

/* ---- storing
 * ------------------------------------------------------------------- */

static size_t
s_varint_size(uint64_t value)
{
    size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        n++;
    }
    return n;
}

static uint8_t *
s_varint(uint8_t *out, uint64_t value)
{
    while (value >= 0x80) {
        *out++ = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    *out++ = (uint8_t)value;
    return out;
}

/* Frames an EventBlock of the buffered entries [from, end) and
 * first_kept into self->block: the block is the entries' packed records
 * as field 1, then field 2, written directly (the records are already
 * encoded). Returns its size, 0 on out-of-memory. */
static size_t
s_encode_block(cairn__events_t *self, size_t from, size_t end,
               uint64_t first_kept)
{
    size_t size = CAIRN__RECORD_HEADER + 1 + s_varint_size(first_kept);
    for (size_t i = from; i < end; i++) {
        size_t payload = self->entries[i].len - CAIRN__RECORD_HEADER;
        size += 1 + s_varint_size(payload) + payload;
    }
    if (!s_reserve(&self->block, &self->block_size, size))
        return 0;
    uint8_t *p = self->block + CAIRN__RECORD_HEADER;
    for (size_t i = from; i < end; i++) {
        size_t payload = self->entries[i].len - CAIRN__RECORD_HEADER;
        *p++ = 0x0a; /* field 1, length-delimited */
        p = s_varint(p, payload);
        memcpy(p, self->arena + self->entries[i].offset + CAIRN__RECORD_HEADER,
               payload);
        p += payload;
    }
    *p++ = 0x10; /* field 2, varint */
    p = s_varint(p, first_kept);
    cairn__record_seal(self->block, size);
    return size;
}

/* First seq of the oldest stored block, 0 when none. */
static uint64_t
s_oldest_block(const cairn__events_t *self)
{
    if (!self->blocks_loaded)
        return self->oldest_block;
    return self->block_count ? self->blocks[self->block_first] : 0;
}

/* Reads the list of stored blocks if it is not known yet; false (and a
 * warning: this trim is skipped, a later one retries) when it fails. */
static bool
s_load_blocks(cairn__events_t *self)
{
    if (self->blocks_loaded)
        return true;
    size_t count = 0;
    cairn_error_t err;
    free(self->blocks);
    self->blocks = NULL;
    if (cairn__store_event_blocks(self->store, self->run_id, &self->blocks,
                                  &count, &err)
        != CAIRN_OK) {
        cairn_log(CAIRN_LOG_WARN, "events",
                  "run %s: could not list its stored events: %s",
                  self->run_id, err.message);
        return false;
    }
    self->block_first = 0;
    self->block_count = count;
    self->blocks_loaded = true;
    return true;
}

void
cairn__events_put(cairn__events_t *self, cairn__ckpt_writer_t *w)
{
    if (!self || !self->storing)
        return;
    self->put_done = false;
    if (self->count == 0)
        return;
    size_t end = self->first + self->count;
    uint64_t high = self->entries[end - 1].seq;
    uint64_t low = high >= self->keep ? high - self->keep + 1 : 1;
    /* Stored blocks that hold only events before the bound go, in one
     * range deletion once they hold a quarter of the bound (the newest
     * block's first_kept hides them until then): trimming then costs
     * one deletion every keep/4 events, not one per write. */
    size_t dropped = 0;
    uint64_t slack = self->keep / 4 ? self->keep / 4 : 1;
    uint64_t oldest_stored = s_oldest_block(self);
    if (oldest_stored && low - oldest_stored >= slack && low > oldest_stored
        && s_load_blocks(self))
        for (size_t i = 0; i < self->block_count; i++) {
            size_t b = self->block_first + i;
            uint64_t last = i + 1 < self->block_count ? self->blocks[b + 1] - 1
                                                      : self->stored_high;
            if (last >= low)
                break;
            dropped++;
        }
    size_t from = self->first;
    while (self->entries[from].seq < low)
        from++;
    uint64_t start = self->entries[from].seq;
    uint64_t oldest = !self->blocks_loaded ? s_oldest_block(self)
                      : dropped < self->block_count
                          ? self->blocks[self->block_first + dropped]
                          : start;
    size_t size = s_encode_block(self, from, end, oldest > low ? oldest : low);
    bool ok = size > 0 && cairn__ckpt_put_events(w, start, self->block, size);
    if (ok && dropped)
        ok =
            cairn__ckpt_drop_events(w, self->blocks[self->block_first], oldest);
    if (!ok) {
        /* The events stay buffered and go with the next write. */
        cairn_log(CAIRN_LOG_WARN, "events",
                  "run %s: out of memory storing events", self->run_id);
        return;
    }
    self->put_dropped = dropped;
    self->put_start = start;
    self->put_high = high;
    self->put_done = true;
}

/* Takes what the committed put did into the list of stored blocks. */
static void
s_track_block(cairn__events_t *self)
{
    self->block_first += self->put_dropped;
    self->block_count -= self->put_dropped;
    if (self->block_first > self->block_count) {
        memmove(self->blocks, self->blocks + self->block_first,
                self->block_count * sizeof *self->blocks);
        self->block_first = 0;
    }
    size_t slot = self->block_first + self->block_count;
    /* Grown by CAIRN__GROW only (also in cairn__store_event_blocks), so
     * the capacity it implies for slot is there. */
    if (CAIRN__GROW(self->blocks, slot)) {
        self->blocks[slot] = self->put_start;
        self->block_count++;
    } else {
        /* Only a later trim misses this block; gc of the run removes it
         * with the run. */
        cairn_log(CAIRN_LOG_WARN, "events",
                  "run %s: out of memory tracking stored events", self->run_id);
    }
}

void
cairn__events_saved(cairn__events_t *self)
{
    if (!self || !self->put_done)
        return;
    self->put_done = false;
    if (self->blocks_loaded)
        s_track_block(self);
    else if (!self->oldest_block) /* the list is read when first needed */
        self->oldest_block = self->put_start;
    self->stored_high = self->put_high;
    s_clear(self);
}


void
cairn__events_flush(cairn__events_t *self)
{
    if (!self || !self->storing || self->count == 0)
        return;
    cairn__ckpt_writer_t *w =
        cairn__ckpt_begin_events(self->store, self->run_id);
    cairn_error_t err;
    int rc =
        w ? CAIRN_OK : cairn_error_set(&err, CAIRN_ENOMEM, "out of memory");
    if (rc == CAIRN_OK) {
        cairn__events_put(self, w);
        if (self->put_done) {
            rc = cairn__ckpt_commit_events(w, &err);
        } else {
            cairn__ckpt_abort(w);
            rc = cairn_error_set(&err, CAIRN_ENOMEM, "out of memory");
        }
    }
    if (rc == CAIRN_OK)
        cairn__events_saved(self);
    else
        cairn_log(CAIRN_LOG_WARN, "events",
                  "run %s: the last %zu event(s) could not be stored: %s",
                  self->run_id, self->count, err.message);
}
