/* coordinator_fixture - the test executor types, call record, event
 * copies and per-case fixture of the test_coordinator_* executables
 * (coordinator_fixture.h).
 *
 * Threading: handlers run on host threads, concurrently. They never call
 * cmocka asserts (those longjmp on the calling thread); they record what
 * they saw in s_calls under s_lock, and the test thread asserts on the
 * record after the run. Events arrive on the test thread and need no lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/engine/coordinator_fixture.h"
#include "tests/harness/harness.h"
#include "tests/test_util.h"

/* ---- what handlers saw -------------------------------------------------- */

#define S_MAX_CALLS 1024


static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

static cf_call_t s_calls[S_MAX_CALLS]; /* guarded by s_lock */

static size_t s_call_count;           /* guarded by s_lock; may exceed max */

static atomic_uint s_jitter;          /* pseudo-random delays */

static void
s_calls_reset(void)
{
    pthread_mutex_lock(&s_lock);
    memset(s_calls, 0, sizeof s_calls);
    s_call_count = 0;
    pthread_mutex_unlock(&s_lock);
}

static void
s_copy_payload(const cairn_msg_t *msg, char *out, size_t size)
{
    size_t len = 0;
    const uint8_t *data = cairn_msg_payload(msg, &len);
    size_t n = len < size - 1 ? len : size - 1;
    if (n > 0 && data)
        memcpy(out, data, n);
    out[n] = '\0';
}

/* Records one call; note may be NULL. Thread-safe. */
static void
s_record(cairn_ctx_t *ctx, const cairn_msg_t *msg, const char *note)
{
    pthread_mutex_lock(&s_lock);
    if (s_call_count < S_MAX_CALLS) {
        cf_call_t *call = &s_calls[s_call_count];
        memset(call, 0, sizeof *call);
        snprintf(call->executor, sizeof call->executor, "%s",
                 cairn_ctx_executor_id(ctx));
        call->superstep = cairn_ctx_superstep(ctx);
        snprintf(call->type, sizeof call->type, "%s", cairn_msg_type(msg));
        snprintf(call->source, sizeof call->source, "%s",
                 cairn_msg_source(msg));
        s_copy_payload(msg, call->payload, sizeof call->payload);
        cairn_msg_payload(msg, &call->payload_len);
        call->part_count = cairn_msg_part_count(msg);
        for (size_t i = 0; i < call->part_count && i < CF_MAX_PARTS; i++) {
            const cairn_msg_t *part = cairn_msg_part(msg, i);
            if (!part)
                continue;
            s_copy_payload(part, call->parts[i], sizeof call->parts[i]);
            snprintf(call->part_sources[i], sizeof call->part_sources[i],
                     "%s", cairn_msg_source(part));
        }
        snprintf(call->note, sizeof call->note, "%s", note ? note : "");
    }
    s_call_count++;
    pthread_mutex_unlock(&s_lock);
}

/* Number of recorded calls of executor (test thread, after a run). */
size_t
cf_calls_of(const char *executor)
{
    size_t n = 0;
    pthread_mutex_lock(&s_lock);
    for (size_t i = 0; i < s_call_count && i < S_MAX_CALLS; i++)
        n += strcmp(s_calls[i].executor, executor) == 0;
    pthread_mutex_unlock(&s_lock);
    return n;
}

/* The nth (0-based) recorded call of executor, or NULL. Calls of one
 * executor are recorded in the order they ran. */
const cf_call_t *
cf_call_of(const char *executor, size_t nth)
{
    const cf_call_t *found = NULL;
    pthread_mutex_lock(&s_lock);
    for (size_t i = 0; i < s_call_count && i < S_MAX_CALLS && !found; i++)
        if (strcmp(s_calls[i].executor, executor) == 0 && nth-- == 0)
            found = &s_calls[i];
    pthread_mutex_unlock(&s_lock);
    return found;
}

/* ---- handler helpers ----------------------------------------------------- */

/* The payload as a NUL-terminated string; caller frees. */
static char *
s_payload_str(const cairn_msg_t *msg)
{
    size_t len = 0;
    const uint8_t *data = cairn_msg_payload(msg, &len);
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    if (len > 0)
        memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* The config as a NUL-terminated string; caller frees. */
static char *
s_config_str(cairn_ctx_t *ctx)
{
    size_t len = 0;
    const uint8_t *data = cairn_ctx_config(ctx, &len);
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    if (len > 0)
        memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

static int
s_send_str(cairn_ctx_t *ctx, const char *type, const char *text)
{
    return cairn_ctx_send(ctx, type, text, strlen(text));
}

static int
s_yield_str(cairn_ctx_t *ctx, const char *text)
{
    return cairn_ctx_yield_output(ctx, text, strlen(text));
}

/* A state value as a string ("(null)" when absent) into out. */
static void
s_value_str(const uint8_t *value, size_t len, char *out, size_t size)
{
    if (!value)
        snprintf(out, size, "(null)");
    else
        snprintf(out, size, "%.*s", (int)len, (const char *)value);
}

/* ---- executor types ---------------------------------------------------- */

/* t.text: config "upper" | "reverse" | "lower", optionally followed by
 * "!" to yield the result as an output instead of sending it. */
static int
s_text(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    char *text = s_payload_str(msg);
    char *op = s_config_str(ctx);
    int rc = (text && op) ? 0 : cairn_ctx_fail(ctx, "out of memory");
    size_t n = text ? strlen(text) : 0;
    bool yield = op && strchr(op, '!') != NULL;
    if (rc == 0 && strncmp(op, "upper", 5) == 0) {
        for (size_t i = 0; i < n; i++)
            if (text[i] >= 'a' && text[i] <= 'z')
                text[i] = (char)(text[i] - 'a' + 'A');
    } else if (rc == 0 && strncmp(op, "lower", 5) == 0) {
        for (size_t i = 0; i < n; i++)
            if (text[i] >= 'A' && text[i] <= 'Z')
                text[i] = (char)(text[i] - 'A' + 'a');
    } else if (rc == 0 && strncmp(op, "reverse", 7) == 0) {
        for (size_t i = 0; i < n / 2; i++) {
            char c = text[i];
            text[i] = text[n - 1 - i];
            text[n - 1 - i] = c;
        }
    } else if (rc == 0) {
        rc = cairn_ctx_fail(ctx, "bad op '%s'", op);
    }
    if (rc == 0)
        rc = yield ? s_yield_str(ctx, text) : s_send_str(ctx, "text", text);
    free(text);
    free(op);
    return rc;
}

/* t.fwd: sends the message on unchanged (same type tag). */
static int
s_fwd(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    size_t len = 0;
    const uint8_t *data = cairn_msg_payload(msg, &len);
    return cairn_ctx_send(ctx, cairn_msg_type(msg), data, len);
}

/* t.inc: sends the decimal payload plus one. */
static int
s_inc(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    char *text = s_payload_str(msg);
    if (!text)
        return cairn_ctx_fail(ctx, "out of memory");
    char *end = NULL;
    long n = strtol(text, &end, 10);
    bool ok = end != text && *end == '\0';
    free(text);
    if (!ok)
        return cairn_ctx_fail(ctx, "payload is not an integer");
    char out[32];
    snprintf(out, sizeof out, "%ld", n + 1);
    return s_send_str(ctx, "number", out);
}

/* t.emit: yields "CONFIG:PAYLOAD" (just PAYLOAD without a config). */
static int
s_emit(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    size_t len = 0, config_len = 0;
    const uint8_t *data = cairn_msg_payload(msg, &len);
    const uint8_t *config = cairn_ctx_config(ctx, &config_len);
    if (!config || config_len == 0)
        return cairn_ctx_yield_output(ctx, data, len);
    size_t total = config_len + 1 + len;
    uint8_t *out = malloc(total);
    if (!out)
        return cairn_ctx_fail(ctx, "out of memory");
    memcpy(out, config, config_len);
    out[config_len] = ':';
    if (len > 0)
        memcpy(out + config_len + 1, data, len);
    int rc = cairn_ctx_yield_output(ctx, out, total);
    free(out);
    return rc;
}

/* t.wrap: sends "CONFIG(PAYLOAD)". */
static int
s_wrap(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    char *text = s_payload_str(msg);
    char *config = s_config_str(ctx);
    char out[512];
    if (text && config)
        snprintf(out, sizeof out, "%s(%s)", config, text);
    free(text);
    free(config);
    if (!text || !config)
        return cairn_ctx_fail(ctx, "out of memory");
    return s_send_str(ctx, "text", out);
}

/* t.join: yields the parts of a fan-in message joined by "|"; with config
 * "loop" it also sends "0". */
static int
s_join(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    char out[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < cairn_msg_part_count(msg); i++) {
        size_t len = 0;
        const uint8_t *data = cairn_msg_payload(cairn_msg_part(msg, i), &len);
        int n = snprintf(out + used, sizeof out - used, "%s%.*s",
                         i ? "|" : "", (int)len, (const char *)data);
        if (n < 0 || (size_t)n >= sizeof out - used)
            return cairn_ctx_fail(ctx, "joined parts too long");
        used += (size_t)n;
    }
    int rc = s_yield_str(ctx, out);
    size_t config_len = 0;
    const uint8_t *config = cairn_ctx_config(ctx, &config_len);
    if (rc == 0 && config_len == 4 && memcmp(config, "loop", 4) == 0)
        rc = s_send_str(ctx, "number", "0");
    return rc;
}

/* t.shared_w: writes shared k=v1 and state own=1, notes what it reads
 * back at once. */
static int
s_shared_w(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    int rc = cairn_ctx_shared_set(ctx, "k", "v1", 2);
    if (rc == 0)
        rc = cairn_ctx_state_set(ctx, "own", "1", 1);
    size_t len = 0;
    char shared[64], own[64], note[160];
    const uint8_t *value = cairn_ctx_shared_get(ctx, "k", &len);
    s_value_str(value, len, shared, sizeof shared);
    value = cairn_ctx_state_get(ctx, "own", &len);
    s_value_str(value, len, own, sizeof own);
    snprintf(note, sizeof note, "shared=%s state=%s", shared, own);
    s_record(ctx, msg, note);
    return rc == 0 ? 0 : cairn_ctx_fail(ctx, "set failed: %d", rc);
}

/* t.shared_r: notes the shared value of k; sends "again" to itself
 * unless the message already was "again". Waits first so that a
 * concurrent writer has surely written. */
static int
s_shared_r(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    test_sleep_ms(30);
    size_t len = 0;
    char note[64];
    const uint8_t *value = cairn_ctx_shared_get(ctx, "k", &len);
    s_value_str(value, len, note, sizeof note);
    s_record(ctx, msg, note);
    char *text = s_payload_str(msg);
    if (!text)
        return cairn_ctx_fail(ctx, "out of memory");
    bool again = strcmp(text, "again") == 0;
    free(text);
    return again ? 0 : s_send_str(ctx, "text", "again");
}

/* t.conflict: writes shared conflict_key = own id and only_ID = x. "Zed"
 * is slow, so it finishes after its rival "abe". */
static int
s_conflict(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const char *id = cairn_ctx_executor_id(ctx);
    if (strcmp(id, "Zed") == 0)
        test_sleep_ms(30);
    char key[80];
    snprintf(key, sizeof key, "only_%s", id);
    int rc = cairn_ctx_shared_set(ctx, "conflict_key", id, strlen(id));
    if (rc == 0)
        rc = cairn_ctx_shared_set(ctx, key, "x", 1);
    s_record(ctx, msg, NULL);
    return rc == 0 ? 0 : cairn_ctx_fail(ctx, "set failed: %d", rc);
}

/* t.counter: n = state n + 1, notes the old state, sends n. */
static int
s_counter(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len = 0;
    char old[32];
    const uint8_t *value = cairn_ctx_state_get(ctx, "n", &len);
    s_value_str(value, len, old, sizeof old);
    s_record(ctx, msg, old);
    long n = value ? strtol(old, NULL, 10) : 0;
    char out[32];
    snprintf(out, sizeof out, "%ld", n + 1);
    int rc = cairn_ctx_state_set(ctx, "n", out, strlen(out));
    return rc == 0 ? s_send_str(ctx, "number", out)
                   : cairn_ctx_fail(ctx, "state_set failed: %d", rc);
}

/* t.typed_src: sends "hello" tagged text, then "42" tagged number. */
static int
s_typed_src(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    int rc = s_send_str(ctx, "text", "hello");
    return rc == 0 ? s_send_str(ctx, "number", "42") : rc;
}

/* t.first: state st=1, shared sh=1, output "s-out", sends the payload. */
static int
s_first(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    int rc = cairn_ctx_state_set(ctx, "st", "1", 1);
    if (rc == 0)
        rc = cairn_ctx_shared_set(ctx, "sh", "1", 1);
    if (rc == 0)
        rc = s_yield_str(ctx, "s-out");
    if (rc == 0)
        rc = s_send_str(ctx, "text", "go");
    return rc;
}

/* t.good: state g=x, shared sh=2, output "good-out", a message. */
static int
s_good(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    int rc = cairn_ctx_state_set(ctx, "g", "x", 1);
    if (rc == 0)
        rc = cairn_ctx_shared_set(ctx, "sh", "2", 1);
    if (rc == 0)
        rc = cairn_ctx_shared_set(ctx, "good_only", "y", 1);
    if (rc == 0)
        rc = s_yield_str(ctx, "good-out");
    if (rc == 0)
        rc = s_send_str(ctx, "text", "more");
    return rc;
}

/* t.fail: writes everything, then fails with "boom" (late, so that its
 * sibling has finished). */
static int
s_fail(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    test_sleep_ms(20);
    int rc = cairn_ctx_state_set(ctx, "bad_state", "1", 1);
    if (rc == 0)
        rc = cairn_ctx_shared_set(ctx, "sh", "bad", 3);
    if (rc == 0)
        rc = s_yield_str(ctx, "bad-out");
    (void)rc;
    return cairn_ctx_fail(ctx, "boom");
}

/* t.failid: fails with a reason naming itself. */
static int
s_fail_id(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    return cairn_ctx_fail(ctx, "reason of %s", cairn_ctx_executor_id(ctx));
}

/* t.big: tries to send 101 bytes, then 100; notes both return codes. */
static int
s_big(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    char payload[101];
    memset(payload, 'z', sizeof payload);
    int rc101 = cairn_ctx_send(ctx, "text", payload, 101);
    int rc100 = cairn_ctx_send(ctx, "text", payload, 100);
    char note[64];
    snprintf(note, sizeof note, "rc101=%d rc100=%d", rc101, rc100);
    s_record(ctx, msg, note);
    return 0;
}

/* t.flood: sends one empty message more than a Done may hold. */
static int
s_flood(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)msg;
    for (int i = 0; i <= 65536; i++)
        if (cairn_ctx_send(ctx, NULL, NULL, 0) != CAIRN_OK)
            return -1;
    return 0;
}

/* t.pick: send_to the target named by the config. */
static int
s_pick(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    char *target = s_config_str(ctx);
    if (!target)
        return cairn_ctx_fail(ctx, "out of memory");
    size_t len = 0;
    const uint8_t *data = cairn_msg_payload(msg, &len);
    int rc = cairn_ctx_send_to(ctx, target, "text", data, len);
    free(target);
    return rc;
}

/* t.ctx: notes the context values, sends the payload on. */
static int
s_ctxinfo(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t config_len = 0;
    const uint8_t *config = cairn_ctx_config(ctx, &config_len);
    char note[256];
    snprintf(note, sizeof note, "ss=%" PRIu64 " run=%s att=%u key=%s id=%s "
             "cfg=%.*s",
             cairn_ctx_superstep(ctx), cairn_ctx_run_id(ctx),
             (unsigned)cairn_ctx_attempt(ctx), cairn_ctx_idempotency_key(ctx),
             cairn_ctx_executor_id(ctx), (int)config_len,
             config ? (const char *)config : "");
    s_record(ctx, msg, note);
    size_t len = 0;
    const uint8_t *data = cairn_msg_payload(msg, &len);
    return cairn_ctx_send(ctx, "text", data, len);
}

/* t.branch: jitter, shared last = id, shared seen_ID, state count,
 * output and message "ID:PAYLOAD". */
static int
s_branch(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    unsigned v = atomic_fetch_add(&s_jitter, 1u);
    test_sleep_ms((long)((v * 2654435761u) >> 28) % 4);
    s_record(ctx, msg, NULL);
    const char *id = cairn_ctx_executor_id(ctx);
    char *text = s_payload_str(msg);
    if (!text)
        return cairn_ctx_fail(ctx, "out of memory");
    char out[128], key[80];
    snprintf(out, sizeof out, "%s:%s", id, text);
    snprintf(key, sizeof key, "seen_%s", id);
    free(text);
    int rc = cairn_ctx_shared_set(ctx, "last", id, strlen(id));
    if (rc == 0)
        rc = cairn_ctx_shared_set(ctx, key, out, strlen(out));
    if (rc == 0)
        rc = cairn_ctx_state_set(ctx, "count", "1", 1);
    if (rc == 0)
        rc = s_yield_str(ctx, out);
    if (rc == 0)
        rc = s_send_str(ctx, "text", out);
    return rc;
}

/* t.loop: n = payload + 1; output "loopN", shared loop = n, sends n. */
static int
s_loop(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    unsigned v = atomic_fetch_add(&s_jitter, 1u);
    test_sleep_ms((long)((v * 2654435761u) >> 28) % 3);
    s_record(ctx, msg, NULL);
    char *text = s_payload_str(msg);
    if (!text)
        return cairn_ctx_fail(ctx, "out of memory");
    long n = strtol(text, NULL, 10) + 1;
    free(text);
    char num[32], out[40];
    snprintf(num, sizeof num, "%ld", n);
    snprintf(out, sizeof out, "loop%ld", n);
    int rc = s_yield_str(ctx, out);
    if (rc == 0)
        rc = cairn_ctx_shared_set(ctx, "loop", num, strlen(num));
    if (rc == 0)
        rc = s_send_str(ctx, "number", num);
    return rc;
}

/* t.final: yields "final last=L loop=N" from the shared state. */
static int
s_final(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    s_record(ctx, msg, NULL);
    size_t len = 0;
    char last[64], loop[64], out[160];
    const uint8_t *value = cairn_ctx_shared_get(ctx, "last", &len);
    s_value_str(value, len, last, sizeof last);
    value = cairn_ctx_shared_get(ctx, "loop", &len);
    s_value_str(value, len, loop, sizeof loop);
    snprintf(out, sizeof out, "final last=%s loop=%s", last, loop);
    return s_yield_str(ctx, out);
}

static cairn_registry_t *s_registry;

int
cf_group_setup(void **state)
{
    (void)state;
    static const cairn_executor_type_t types[] = {
        {"t.text", s_text, NULL, NULL, NULL},
        {"t.fwd", s_fwd, NULL, NULL, NULL},
        {"t.inc", s_inc, NULL, NULL, NULL},
        {"t.emit", s_emit, NULL, NULL, NULL},
        {"t.wrap", s_wrap, NULL, NULL, NULL},
        {"t.join", s_join, NULL, NULL, NULL},
        {"t.shared_w", s_shared_w, NULL, NULL, NULL},
        {"t.shared_r", s_shared_r, NULL, NULL, NULL},
        {"t.conflict", s_conflict, NULL, NULL, NULL},
        {"t.counter", s_counter, NULL, NULL, NULL},
        {"t.typed_src", s_typed_src, NULL, NULL, NULL},
        {"t.first", s_first, NULL, NULL, NULL},
        {"t.good", s_good, NULL, NULL, NULL},
        {"t.fail", s_fail, NULL, NULL, NULL},
        {"t.failid", s_fail_id, NULL, NULL, NULL},
        {"t.big", s_big, NULL, NULL, NULL},
        {"t.flood", s_flood, NULL, NULL, NULL},
        {"t.pick", s_pick, NULL, NULL, NULL},
        {"t.ctx", s_ctxinfo, NULL, NULL, NULL},
        {"t.branch", s_branch, NULL, NULL, NULL},
        {"t.loop", s_loop, NULL, NULL, NULL},
        {"t.final", s_final, NULL, NULL, NULL},
    };
    s_registry =
        th_registry_open(false, NULL, types, sizeof types / sizeof types[0]);
    return s_registry ? 0 : -1;
}

int
cf_group_teardown(void **state)
{
    (void)state;
    cairn_registry_destroy(&s_registry);
    return 0;
}

/* ---- events -------------------------------------------------------------- */

static char *
s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void
s_on_event(const cairn_event_t *event, void *userdata)
{
    cf_events_t *events = userdata;
    if (events->count == events->cap) {
        size_t cap = events->cap ? 2 * events->cap : 64;
        cf_event_t *items = realloc(events->items, cap * sizeof *items);
        if (!items) {
            events->oom = true;
            return;
        }
        events->items = items;
        events->cap = cap;
    }
    cf_event_t *copy = &events->items[events->count++];
    memset(copy, 0, sizeof *copy);
    copy->kind = event->kind;
    copy->superstep = event->superstep;
    copy->executor = s_dup(event->executor);
    copy->detail = s_dup(event->detail);
    copy->run_id = s_dup(event->run_id);
    if (event->data) {
        copy->data = malloc(event->data_len + 1);
        if (copy->data) {
            memcpy(copy->data, event->data, event->data_len);
            copy->data[event->data_len] = '\0';
        }
    }
    copy->data_len = event->data_len;
    copy->count = event->count;
    copy->status = event->status;
}

static void
s_events_clear(cf_events_t *events)
{
    for (size_t i = 0; i < events->count; i++) {
        free(events->items[i].executor);
        free(events->items[i].detail);
        free(events->items[i].run_id);
        free(events->items[i].data);
    }
    free(events->items);
    memset(events, 0, sizeof *events);
}

/* Number of events of kind (about executor, when not NULL). */
size_t
cf_count_events(const cf_events_t *events, cairn_event_kind_t kind,
               const char *executor)
{
    size_t n = 0;
    for (size_t i = 0; i < events->count; i++) {
        const cf_event_t *e = &events->items[i];
        if (e->kind == kind
            && (!executor || (e->executor && !strcmp(e->executor, executor))))
            n++;
    }
    return n;
}

/* First event of kind, or NULL. */
const cf_event_t *
cf_find_event(const cf_events_t *events, cairn_event_kind_t kind)
{
    for (size_t i = 0; i < events->count; i++)
        if (events->items[i].kind == kind)
            return &events->items[i];
    return NULL;
}

/* ---- growing strings ----------------------------------------------------- */

void
cf_str_add(cf_str_t *s, const void *data, size_t len)
{
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + len + 1)
            cap *= 2;
        char *grown = realloc(s->data, cap);
        assert_non_null(grown);
        s->data = grown;
        s->cap = cap;
    }
    if (len > 0)
        memcpy(s->data + s->len, data, len);
    s->len += len;
    s->data[s->len] = '\0';
}

void
cf_str_addf(cf_str_t *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof buf);
    cf_str_add(s, buf, (size_t)n);
}

void
cf_str_free(cf_str_t *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* ---- fixture ------------------------------------------------------------- */

cairn_engine_t *
cf_open_engine(size_t host_threads)
{
    cairn_engine_options_t opts = {.host_threads = host_threads};
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    int rc = cairn_engine_open(&engine, s_registry, &opts, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_engine_open: %s (%s)", err.message,
                 cairn_err_name(rc));
    assert_non_null(engine);
    return engine;
}

int
cf_setup(void **state)
{
    cf_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    fx->engine = cf_open_engine(2);
    fx->builder = cairn_builder_new(s_registry);
    s_calls_reset();
    return fx->builder ? 0 : -1;
}

int
cf_teardown(void **state)
{
    cf_fixture_t *fx = *state;
    cairn_result_destroy(&fx->result);
    cairn_workflow_destroy(&fx->workflow);
    cairn_builder_destroy(&fx->builder);
    cairn_engine_destroy(&fx->engine);
    s_events_clear(&fx->events);
    free(fx);
    return 0;
}

void
cf_exec(cf_fixture_t *fx, const char *id, const char *type, const char *config)
{
    int rc = cairn_builder_add_executor(fx->builder, id, type, config,
                                        config ? strlen(config) : 0);
    assert_int_equal(rc, CAIRN_OK);
}

/* Direct edge; pred NULL = unconditional. */
void
cf_edge(cf_fixture_t *fx, const char *from, const char *to, const char *pred,
       const char *arg)
{
    int rc = cairn_builder_add_edge(fx->builder, from, to, pred, arg,
                                    arg ? strlen(arg) : 0);
    assert_int_equal(rc, CAIRN_OK);
}

void
cf_fan_out(cf_fixture_t *fx, const char *from, const char *const *targets,
          size_t n)
{
    int rc = cairn_builder_add_fan_out(fx->builder, from, targets, n, NULL,
                                       NULL, 0);
    assert_int_equal(rc, CAIRN_OK);
}

void
cf_start(cf_fixture_t *fx, const char *id)
{
    assert_int_equal(cairn_builder_set_start(fx->builder, id), CAIRN_OK);
}

/* Builds fx->workflow from fx->builder once. */
static const cairn_workflow_t *
s_workflow(cf_fixture_t *fx)
{
    if (!fx->workflow) {
        cairn_error_t err;
        int rc = cairn_builder_build(fx->builder, &fx->workflow, &err);
        if (rc != CAIRN_OK)
            fail_msg("build: %s", err.message);
        assert_non_null(fx->workflow);
    }
    return fx->workflow;
}

/* Runs the workflow on input with options extra (may be NULL), recording
 * events into fx->events and handler calls into s_calls (both reset
 * first). The result is kept in fx->result. */
cairn_result_t *
cf_run_on(cf_fixture_t *fx, cairn_engine_t *engine, const char *input,
         const cairn_run_options_t *extra)
{
    const cairn_workflow_t *wf = s_workflow(fx);
    cairn_result_destroy(&fx->result);
    s_events_clear(&fx->events);
    s_calls_reset();
    cairn_run_options_t opts;
    memset(&opts, 0, sizeof opts);
    if (extra)
        opts = *extra;
    opts.on_event = s_on_event;
    opts.event_userdata = &fx->events;
    cairn_error_t err;
    cairn_error_clear(&err);
    int rc = cairn_engine_run(engine, wf, input, strlen(input), &opts,
                              &fx->result, &err);
    if (rc != CAIRN_OK)
        fail_msg("cairn_engine_run: %s (%s)", err.message,
                 cairn_err_name(rc));
    assert_non_null(fx->result);
    assert_false(fx->events.oom);
    return fx->result;
}

cairn_result_t *
cf_run(cf_fixture_t *fx, const char *input, const cairn_run_options_t *extra)
{
    return cf_run_on(fx, fx->engine, input, extra);
}

void
cf_assert_completed(const cairn_result_t *res)
{
    const cairn_error_t *err = cairn_result_error(res);
    if (cairn_result_status(res) != CAIRN_STATUS_COMPLETED)
        fail_msg("status %s, error %s: %s",
                 cairn_status_name(cairn_result_status(res)),
                 err ? cairn_err_name(err->code) : "?",
                 err ? err->message : "?");
    assert_non_null(err);
    assert_int_equal(err->code, CAIRN_OK);
}

/* Asserts the outputs are exactly expected[0..n); prints them all when
 * they are not. */
void
cf_assert_outputs(const cairn_result_t *res, const char *const *expected,
                 size_t n)
{
    size_t count = cairn_result_output_count(res);
    bool same = count == n;
    for (size_t i = 0; same && i < n; i++) {
        size_t len = 0;
        const uint8_t *data = cairn_result_output(res, i, &len);
        same = data && len == strlen(expected[i])
               && memcmp(data, expected[i], len) == 0;
    }
    if (same)
        return;
    for (size_t i = 0; i < count; i++) {
        size_t len = 0;
        const uint8_t *data = cairn_result_output(res, i, &len);
        print_message("output %zu: '%.*s'\n", i, (int)len,
                      data ? (const char *)data : "");
    }
    for (size_t i = 0; i < n; i++)
        print_message("expected %zu: '%s'\n", i, expected[i]);
    fail_msg("outputs differ (%zu outputs, %zu expected)", count, n);
}

/* Asserts a final state value (executor NULL = shared); expected NULL =
 * absent. */
void
cf_assert_state(const cairn_result_t *res, const char *executor,
               const char *key, const char *expected)
{
    size_t len = 0;
    const uint8_t *value = cairn_result_state(res, executor, key, &len);
    if (!expected) {
        if (value)
            fail_msg("state %s.%s should be absent, is '%.*s'",
                     executor ? executor : "(shared)", key, (int)len,
                     (const char *)value);
        return;
    }
    if (!value)
        fail_msg("state %s.%s is absent, expected '%s'",
                 executor ? executor : "(shared)", key, expected);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(value, expected, len);
}

void
cf_visit(const char *executor, const char *key, const uint8_t *value,
        size_t len, void *userdata)
{
    cf_str_addf(userdata, "%s.%s=%.*s\n", executor ? executor : "*", key,
               (int)len, (const char *)value);
}
