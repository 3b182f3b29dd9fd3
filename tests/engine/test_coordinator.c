/* test_coordinator - superstep semantics of cairn_engine_run().
 *
 * Each case builds a small workflow from the test executor types
 * registered below, runs it on an engine with in-process host threads and
 * checks supersteps, outputs, state, errors and events.
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
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "tests/test_util.h"

/* ---- what handlers saw -------------------------------------------------- */

#define S_MAX_CALLS 1024
#define S_MAX_PARTS 4

/* One handler call as recorded by the handler itself. */
typedef struct {
    char executor[72];                   /* cairn_ctx_executor_id */
    uint64_t superstep;                  /* cairn_ctx_superstep */
    char type[32];                       /* message type tag */
    char source[72];                     /* message source */
    char payload[256];                   /* message payload (truncated) */
    size_t payload_len;                  /* full payload length */
    size_t part_count;                   /* fan-in parts */
    char parts[S_MAX_PARTS][64];         /* part payloads */
    char part_sources[S_MAX_PARTS][72];  /* part sources */
    char note[256];                      /* handler-specific observation */
} s_call_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_call_t s_calls[S_MAX_CALLS]; /* guarded by s_lock */
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
        s_call_t *call = &s_calls[s_call_count];
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
        for (size_t i = 0; i < call->part_count && i < S_MAX_PARTS; i++) {
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
static size_t
s_calls_of(const char *executor)
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
static const s_call_t *
s_call_of(const char *executor, size_t nth)
{
    const s_call_t *found = NULL;
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

static int
s_group_setup(void **state)
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
    s_registry = cairn_registry_new();
    if (!s_registry)
        return -1;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cairn_registry_add_executor(s_registry, &types[i]) != CAIRN_OK)
            return -1;
    return 0;
}

static int
s_group_teardown(void **state)
{
    (void)state;
    cairn_registry_destroy(&s_registry);
    return 0;
}

/* ---- events -------------------------------------------------------------- */

/* A copy of one event. */
typedef struct {
    cairn_event_kind_t kind;
    uint64_t superstep;
    char *executor; /* NULL when the event had none */
    char *detail;   /* NULL when the event had none */
    char *run_id;
    char *data;     /* output bytes + NUL, or NULL */
    size_t data_len;
    uint64_t count;
    cairn_status_t status;
} s_event_t;

typedef struct {
    s_event_t *items;
    size_t count;
    size_t cap;
    bool oom;
} s_events_t;

static char *
s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void
s_on_event(const cairn_event_t *event, void *userdata)
{
    s_events_t *events = userdata;
    if (events->count == events->cap) {
        size_t cap = events->cap ? 2 * events->cap : 64;
        s_event_t *items = realloc(events->items, cap * sizeof *items);
        if (!items) {
            events->oom = true;
            return;
        }
        events->items = items;
        events->cap = cap;
    }
    s_event_t *copy = &events->items[events->count++];
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
s_events_clear(s_events_t *events)
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
static size_t
s_count_events(const s_events_t *events, cairn_event_kind_t kind,
               const char *executor)
{
    size_t n = 0;
    for (size_t i = 0; i < events->count; i++) {
        const s_event_t *e = &events->items[i];
        if (e->kind == kind
            && (!executor || (e->executor && !strcmp(e->executor, executor))))
            n++;
    }
    return n;
}

/* First event of kind, or NULL. */
static const s_event_t *
s_find_event(const s_events_t *events, cairn_event_kind_t kind)
{
    for (size_t i = 0; i < events->count; i++)
        if (events->items[i].kind == kind)
            return &events->items[i];
    return NULL;
}

/* ---- growing strings ----------------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} s_str_t;

static void
s_str_add(s_str_t *s, const void *data, size_t len)
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

static void
s_str_addf(s_str_t *s, const char *fmt, ...) CAIRN_PRINTF(2, 3);

static void
s_str_addf(s_str_t *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof buf);
    s_str_add(s, buf, (size_t)n);
}

static void
s_str_free(s_str_t *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* ---- fixture ------------------------------------------------------------- */

typedef struct {
    cairn_engine_t *engine;
    cairn_builder_t *builder;
    cairn_workflow_t *workflow;
    cairn_result_t *result;
    s_events_t events;
} s_fixture_t;

static cairn_engine_t *
s_open_engine(size_t host_threads)
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

static int
s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    fx->engine = s_open_engine(2);
    fx->builder = cairn_builder_new(s_registry);
    s_calls_reset();
    return fx->builder ? 0 : -1;
}

static int
s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    cairn_result_destroy(&fx->result);
    cairn_workflow_destroy(&fx->workflow);
    cairn_builder_destroy(&fx->builder);
    cairn_engine_destroy(&fx->engine);
    s_events_clear(&fx->events);
    free(fx);
    return 0;
}

static void
s_exec(s_fixture_t *fx, const char *id, const char *type, const char *config)
{
    int rc = cairn_builder_add_executor(fx->builder, id, type, config,
                                        config ? strlen(config) : 0);
    assert_int_equal(rc, CAIRN_OK);
}

/* Direct edge; pred NULL = unconditional. */
static void
s_edge(s_fixture_t *fx, const char *from, const char *to, const char *pred,
       const char *arg)
{
    int rc = cairn_builder_add_edge(fx->builder, from, to, pred, arg,
                                    arg ? strlen(arg) : 0);
    assert_int_equal(rc, CAIRN_OK);
}

static void
s_fan_out(s_fixture_t *fx, const char *from, const char *const *targets,
          size_t n)
{
    int rc = cairn_builder_add_fan_out(fx->builder, from, targets, n, NULL,
                                       NULL, 0);
    assert_int_equal(rc, CAIRN_OK);
}

static void
s_start(s_fixture_t *fx, const char *id)
{
    assert_int_equal(cairn_builder_set_start(fx->builder, id), CAIRN_OK);
}

/* Builds fx->workflow from fx->builder once. */
static const cairn_workflow_t *
s_workflow(s_fixture_t *fx)
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
static cairn_result_t *
s_run_on(s_fixture_t *fx, cairn_engine_t *engine, const char *input,
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

static cairn_result_t *
s_run(s_fixture_t *fx, const char *input, const cairn_run_options_t *extra)
{
    return s_run_on(fx, fx->engine, input, extra);
}

static void
s_assert_completed(const cairn_result_t *res)
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
static void
s_assert_outputs(const cairn_result_t *res, const char *const *expected,
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
static void
s_assert_state(const cairn_result_t *res, const char *executor,
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

/* ---- tests --------------------------------------------------------------- */

static void
test_coordinator_engine_host_count(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(cairn_engine_host_count(fx->engine), 2);
    cairn_engine_t *e = s_open_engine(0); /* 0 = number of cores */
    assert_true(cairn_engine_host_count(e) >= 1);
    cairn_engine_destroy(&e);
    assert_null(e);
    cairn_engine_destroy(&e);
}

static void
test_coordinator_chain_three_steps(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "upper", "t.text", "upper");
    s_exec(fx, "reverse", "t.text", "reverse");
    s_exec(fx, "lower", "t.text", "lower!");
    s_edge(fx, "upper", "reverse", NULL, NULL);
    s_edge(fx, "reverse", "lower", NULL, NULL);
    s_start(fx, "upper");
    cairn_result_t *res = s_run(fx, "Hello World", NULL);
    s_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 3);
    const char *expected[] = {"dlrow olleh"};
    s_assert_outputs(res, expected, 1);
    assert_int_equal(s_calls_of("upper"), 1);
    assert_int_equal(s_calls_of("reverse"), 1);
    assert_int_equal(s_calls_of("lower"), 1);
    const s_call_t *call = s_call_of("reverse", 0);
    assert_non_null(call);
    assert_string_equal(call->payload, "HELLO WORLD");
    assert_string_equal(call->type, "text");
    assert_int_equal(call->superstep, 2);
    call = s_call_of("upper", 0);
    assert_non_null(call);
    assert_string_equal(call->payload, "Hello World");
    assert_int_equal(call->superstep, 1);
    call = s_call_of("lower", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 3);
    assert_non_null(cairn_result_run_id(res));
    assert_true(strlen(cairn_result_run_id(res)) > 0);
}

static void
test_coordinator_cycle_counts_to_ten(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "A", "t.inc", NULL);
    s_exec(fx, "B", "t.fwd", NULL);
    s_exec(fx, "out", "t.emit", NULL);
    s_edge(fx, "A", "B", NULL, NULL);
    s_edge(fx, "B", "A", "int_lt", "10");
    s_edge(fx, "B", "out", "int_ge", "10");
    s_start(fx, "A");
    cairn_result_t *res = s_run(fx, "0", NULL);
    s_assert_completed(res);
    /* A sends k in superstep 2k-1, B forwards it in 2k: B forwards 10 in
     * superstep 20, out yields it in 21. */
    assert_int_equal(cairn_result_supersteps(res), 21);
    const char *expected[] = {"10"};
    s_assert_outputs(res, expected, 1);
    assert_int_equal(s_calls_of("A"), 10);
    assert_int_equal(s_calls_of("B"), 10);
    assert_int_equal(s_calls_of("out"), 1);
}

static void
test_coordinator_fan_out_fan_in(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "s", "t.fwd", NULL);
    s_exec(fx, "p", "t.wrap", "p");
    s_exec(fx, "q", "t.wrap", "q");
    s_exec(fx, "q2", "t.wrap", "q2");
    s_exec(fx, "q3", "t.wrap", "q3");
    s_exec(fx, "r", "t.wrap", "r");
    s_exec(fx, "join", "t.join", NULL);
    const char *targets[] = {"p", "q", "r"};
    s_fan_out(fx, "s", targets, 3);
    s_edge(fx, "q", "q2", NULL, NULL);
    s_edge(fx, "q2", "q3", NULL, NULL);
    /* source order deliberately not the id order */
    const char *sources[] = {"r", "p", "q3"};
    assert_int_equal(cairn_builder_add_fan_in(fx->builder, sources, 3, "join"),
                     CAIRN_OK);
    s_start(fx, "s");
    cairn_result_t *res = s_run(fx, "x", NULL);
    s_assert_completed(res);
    /* s 1; p q r 2; q2 3; q3 4; join 5 */
    assert_int_equal(cairn_result_supersteps(res), 5);
    assert_int_equal(s_calls_of("join"), 1);
    const s_call_t *call = s_call_of("join", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 5);
    assert_int_equal(call->part_count, 3);
    assert_int_equal(call->payload_len, 0);
    assert_string_equal(call->parts[0], "r(x)");
    assert_string_equal(call->parts[1], "p(x)");
    assert_string_equal(call->parts[2], "q3(q2(q(x)))");
    assert_string_equal(call->part_sources[0], "r");
    assert_string_equal(call->part_sources[1], "p");
    assert_string_equal(call->part_sources[2], "q3");
    const char *expected[] = {"r(x)|p(x)|q3(q2(q(x)))"};
    s_assert_outputs(res, expected, 1);
    assert_int_equal(s_count_events(&fx->events, CAIRN_EVENT_EXECUTOR_INVOKED,
                                    "join"),
                     1);
}

static void
test_coordinator_switch_first_match_and_default(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "sw", "t.fwd", NULL);
    s_exec(fx, "first", "t.emit", "first");
    s_exec(fx, "second", "t.emit", "second");
    s_exec(fx, "dflt", "t.emit", "dflt");
    const cairn_switch_case_t cases[] = {
        {"first", "prefix", "a", 1, false},
        {"second", "contains", "b", 1, false},
        {"dflt", NULL, NULL, 0, true},
    };
    assert_int_equal(cairn_builder_add_switch(fx->builder, "sw", cases, 3),
                     CAIRN_OK);
    s_start(fx, "sw");

    /* both cases match: the first wins */
    cairn_result_t *res = s_run(fx, "abc", NULL);
    s_assert_completed(res);
    const char *first[] = {"first:abc"};
    s_assert_outputs(res, first, 1);
    assert_int_equal(s_calls_of("second"), 0);
    assert_int_equal(s_calls_of("dflt"), 0);
    assert_int_equal(cairn_result_supersteps(res), 2);

    /* only the second matches */
    res = s_run(fx, "xbx", NULL);
    s_assert_completed(res);
    const char *second[] = {"second:xbx"};
    s_assert_outputs(res, second, 1);

    /* nothing matches: the default */
    res = s_run(fx, "zzz", NULL);
    s_assert_completed(res);
    const char *dflt[] = {"dflt:zzz"};
    s_assert_outputs(res, dflt, 1);
    assert_int_equal(s_calls_of("first"), 0);
    assert_int_equal(s_calls_of("second"), 0);
}

static void
test_coordinator_shared_state_visibility(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "s", "t.fwd", NULL);
    s_exec(fx, "w", "t.shared_w", NULL);
    s_exec(fx, "r", "t.shared_r", NULL);
    const char *targets[] = {"w", "r"};
    s_fan_out(fx, "s", targets, 2);
    s_edge(fx, "r", "r", NULL, NULL);
    s_start(fx, "s");
    cairn_result_t *res = s_run(fx, "go", NULL);
    s_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 3);

    /* the writer sees its own writes at once */
    const s_call_t *call = s_call_of("w", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 2);
    assert_string_equal(call->note, "shared=v1 state=1");

    /* the reader, in the same superstep, does not ... */
    assert_int_equal(s_calls_of("r"), 2);
    call = s_call_of("r", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 2);
    assert_string_equal(call->note, "(null)");
    /* ... but does in the next one */
    call = s_call_of("r", 1);
    assert_non_null(call);
    assert_int_equal(call->superstep, 3);
    assert_string_equal(call->note, "v1");

    s_assert_state(res, NULL, "k", "v1");
    s_assert_state(res, "w", "own", "1");
    s_assert_state(res, "r", "own", NULL);
    s_assert_state(res, "w", "k", NULL); /* shared is not executor state */
}

static void
test_coordinator_shared_conflict_greater_id_wins(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "s", "t.fwd", NULL);
    /* bytewise "Zed" < "abe" (case-insensitively it would be the other way
     * round); "Zed" also finishes last, so neither arrival order nor a
     * case-insensitive order gives the expected winner. */
    s_exec(fx, "Zed", "t.conflict", NULL);
    s_exec(fx, "abe", "t.conflict", NULL);
    const char *targets[] = {"abe", "Zed"};
    s_fan_out(fx, "s", targets, 2);
    s_start(fx, "s");
    cairn_result_t *res = s_run(fx, "go", NULL);
    s_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 2);
    s_assert_state(res, NULL, "conflict_key", "abe");
    s_assert_state(res, NULL, "only_Zed", "x");
    s_assert_state(res, NULL, "only_abe", "x");

    assert_int_equal(s_count_events(&fx->events, CAIRN_EVENT_STATE_CONFLICT,
                                    NULL),
                     1);
    const s_event_t *ev = s_find_event(&fx->events,
                                       CAIRN_EVENT_STATE_CONFLICT);
    assert_non_null(ev);
    assert_non_null(ev->detail);
    if (!strstr(ev->detail, "conflict_key"))
        fail_msg("conflict detail '%s' does not name the key", ev->detail);
    assert_int_equal(ev->superstep, 2);
}

static void
test_coordinator_executor_state_persists(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "counter", "t.counter", NULL);
    s_edge(fx, "counter", "counter", "int_lt", "3");
    s_start(fx, "counter");
    cairn_result_t *res = s_run(fx, "tick", NULL);
    s_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 3);
    assert_int_equal(s_calls_of("counter"), 3);
    /* what each invocation found in its state */
    const char *seen[] = {"(null)", "1", "2"};
    for (size_t i = 0; i < 3; i++) {
        const s_call_t *call = s_call_of("counter", i);
        assert_non_null(call);
        assert_int_equal(call->superstep, i + 1);
        assert_string_equal(call->note, seen[i]);
    }
    s_assert_state(res, "counter", "n", "3");
    s_assert_state(res, NULL, "n", NULL);
    s_assert_state(res, "nobody", "n", NULL);
}

static void
s_visit(const char *executor, const char *key, const uint8_t *value,
        size_t len, void *userdata)
{
    s_str_addf(userdata, "%s.%s=%.*s\n", executor ? executor : "*", key,
               (int)len, (const char *)value);
}

static void
test_coordinator_foreach_state_order(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "s", "t.first", NULL);
    s_exec(fx, "good", "t.good", NULL);
    s_exec(fx, "counter", "t.counter", NULL);
    s_edge(fx, "s", "good", NULL, NULL);
    s_edge(fx, "s", "counter", NULL, NULL);
    s_start(fx, "s");
    cairn_result_t *res = s_run(fx, "go", NULL);
    s_assert_completed(res);
    s_str_t seen = {0};
    cairn_result_foreach_state(res, s_visit, &seen);
    /* executors in id order, then the shared state; keys bytewise */
    assert_non_null(seen.data);
    assert_string_equal(seen.data, "counter.n=1\n"
                                   "good.g=x\n"
                                   "s.st=1\n"
                                   "*.good_only=y\n"
                                   "*.sh=2\n");
    s_str_free(&seen);
}

static void
test_coordinator_type_filter_drops(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "src", "t.typed_src", NULL);
    s_exec(fx, "x", "t.emit", NULL);
    s_edge(fx, "src", "x", NULL, NULL);
    assert_int_equal(cairn_builder_accept(fx->builder, "x", "number"),
                     CAIRN_OK);
    s_start(fx, "src");
    cairn_result_t *res = s_run(fx, "go", NULL);
    s_assert_completed(res);
    assert_int_equal(s_calls_of("x"), 1);
    const s_call_t *call = s_call_of("x", 0);
    assert_non_null(call);
    assert_string_equal(call->type, "number");
    assert_string_equal(call->payload, "42");
    const char *expected[] = {"42"};
    s_assert_outputs(res, expected, 1);
    assert_int_equal(s_count_events(&fx->events, CAIRN_EVENT_MESSAGE_DROPPED,
                                    NULL),
                     1);
}

static void
test_coordinator_max_supersteps_from_workflow(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "ping", "t.fwd", NULL);
    s_exec(fx, "pong", "t.fwd", NULL);
    s_edge(fx, "ping", "pong", NULL, NULL);
    s_edge(fx, "pong", "ping", NULL, NULL);
    s_start(fx, "ping");
    cairn_builder_set_max_supersteps(fx->builder, 5);
    cairn_result_t *res = s_run(fx, "ball", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_non_null(cairn_result_error(res));
    assert_int_equal(cairn_result_error(res)->code, CAIRN_EMAXSTEPS);
    assert_int_equal(cairn_result_supersteps(res), 5);
    assert_int_equal(s_calls_of("ping") + s_calls_of("pong"), 5);
    const s_event_t *ended = s_find_event(&fx->events,
                                          CAIRN_EVENT_RUN_ENDED);
    assert_non_null(ended);
    assert_int_equal(ended->status, CAIRN_STATUS_FAILED);
}

static void
test_coordinator_max_supersteps_from_run_options(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "ping", "t.fwd", NULL);
    s_exec(fx, "pong", "t.fwd", NULL);
    s_edge(fx, "ping", "pong", NULL, NULL);
    s_edge(fx, "pong", "ping", NULL, NULL);
    s_start(fx, "ping");
    cairn_run_options_t opts = {.max_supersteps = 7};
    cairn_result_t *res = s_run(fx, "ball", &opts);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_int_equal(cairn_result_error(res)->code, CAIRN_EMAXSTEPS);
    assert_int_equal(cairn_result_supersteps(res), 7);
}

static void
test_coordinator_handler_failure_applies_nothing(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "s", "t.first", NULL);
    s_exec(fx, "bad_exec", "t.fail", NULL);
    s_exec(fx, "good", "t.good", NULL);
    s_exec(fx, "after", "t.emit", NULL);
    const char *targets[] = {"bad_exec", "good"};
    s_fan_out(fx, "s", targets, 2);
    s_edge(fx, "good", "after", NULL, NULL);
    s_start(fx, "s");
    cairn_result_t *res = s_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    const cairn_error_t *err = cairn_result_error(res);
    assert_non_null(err);
    assert_int_equal(err->code, CAIRN_EHANDLER);
    if (!strstr(err->message, "bad_exec") || !strstr(err->message, "boom"))
        fail_msg("error '%s' should name bad_exec and boom", err->message);
    assert_int_equal(cairn_result_supersteps(res), 2);
    assert_int_equal(s_calls_of("good"), 1); /* it did run */
    assert_int_equal(s_calls_of("after"), 0);

    /* only superstep 1's effects */
    const char *expected[] = {"s-out"};
    s_assert_outputs(res, expected, 1);
    s_assert_state(res, "s", "st", "1");
    s_assert_state(res, NULL, "sh", "1");
    s_assert_state(res, NULL, "good_only", NULL);
    s_assert_state(res, "good", "g", NULL);
    s_assert_state(res, "bad_exec", "bad_state", NULL);

    assert_true(s_count_events(&fx->events, CAIRN_EVENT_EXECUTOR_FAILED,
                               "bad_exec")
                >= 1);
    assert_int_equal(s_count_events(&fx->events, CAIRN_EVENT_EXECUTOR_FAILED,
                                    "good"),
                     0);
    assert_int_equal(s_count_events(&fx->events, CAIRN_EVENT_OUTPUT, NULL),
                     1);
    const s_event_t *ended = s_find_event(&fx->events,
                                          CAIRN_EVENT_RUN_ENDED);
    assert_non_null(ended);
    assert_int_equal(ended->status, CAIRN_STATUS_FAILED);
}

/* Expected event: kind, superstep, executor (NULL = none). */
typedef struct {
    cairn_event_kind_t kind;
    uint64_t superstep;
    const char *executor;
} s_expected_event_t;

static void
test_coordinator_event_sequence(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "a", "t.fwd", NULL);
    s_exec(fx, "b", "t.emit", NULL);
    s_edge(fx, "a", "b", NULL, NULL);
    s_start(fx, "a");
    cairn_run_options_t opts = {.run_id = "events-run"};
    cairn_result_t *res = s_run(fx, "x", &opts);
    s_assert_completed(res);

    /* Within a superstep: invoked events (executor-id order) at dispatch;
     * at the barrier completed/failed (id order), then outputs (id
     * order), then superstep_completed. */
    static const s_expected_event_t expected[] = {
        {CAIRN_EVENT_RUN_STARTED, 0, NULL},
        {CAIRN_EVENT_SUPERSTEP_STARTED, 1, NULL},
        {CAIRN_EVENT_EXECUTOR_INVOKED, 1, "a"},
        {CAIRN_EVENT_EXECUTOR_COMPLETED, 1, "a"},
        {CAIRN_EVENT_SUPERSTEP_COMPLETED, 1, NULL},
        {CAIRN_EVENT_SUPERSTEP_STARTED, 2, NULL},
        {CAIRN_EVENT_EXECUTOR_INVOKED, 2, "b"},
        {CAIRN_EVENT_EXECUTOR_COMPLETED, 2, "b"},
        {CAIRN_EVENT_OUTPUT, 2, "b"},
        {CAIRN_EVENT_SUPERSTEP_COMPLETED, 2, NULL},
        {CAIRN_EVENT_RUN_ENDED, 2, NULL},
    };
    size_t n = sizeof expected / sizeof expected[0];
    bool same = fx->events.count == n;
    for (size_t i = 0; same && i < n; i++) {
        const s_event_t *e = &fx->events.items[i];
        same = e->kind == expected[i].kind
               && e->superstep == expected[i].superstep
               && (expected[i].executor
                       ? e->executor
                             && !strcmp(e->executor, expected[i].executor)
                       : !e->executor);
    }
    if (!same) {
        for (size_t i = 0; i < fx->events.count; i++) {
            const s_event_t *e = &fx->events.items[i];
            print_message("got  %2zu: %-20s ss=%" PRIu64 " exec=%s\n", i,
                          cairn_event_kind_name(e->kind), e->superstep,
                          e->executor ? e->executor : "-");
        }
        for (size_t i = 0; i < n; i++)
            print_message("want %2zu: %-20s ss=%" PRIu64 " exec=%s\n", i,
                          cairn_event_kind_name(expected[i].kind),
                          expected[i].superstep,
                          expected[i].executor ? expected[i].executor : "-");
        fail_msg("event sequence differs");
    }
    for (size_t i = 0; i < n; i++) {
        assert_non_null(fx->events.items[i].run_id);
        assert_string_equal(fx->events.items[i].run_id, "events-run");
    }
    /* payload of the output event, counts, final status */
    const s_event_t *out = &fx->events.items[8];
    assert_int_equal(out->data_len, 1);
    assert_non_null(out->data);
    assert_memory_equal(out->data, "x", 1);
    assert_int_equal(fx->events.items[2].count, 1);  /* a got 1 message */
    assert_int_equal(fx->events.items[4].count, 1);  /* 1 executor ran */
    assert_int_equal(fx->events.items[10].status, CAIRN_STATUS_COMPLETED);
    assert_string_equal(cairn_result_run_id(res), "events-run");
    assert_string_equal(cairn_event_kind_name(CAIRN_EVENT_RUN_STARTED),
                        "run_started");
    assert_string_equal(cairn_event_kind_name(CAIRN_EVENT_EXECUTOR_FAILED),
                        "executor_failed");
    assert_string_equal(cairn_status_name(CAIRN_STATUS_COMPLETED),
                        "completed");
}

static void
test_coordinator_message_too_large(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "big", "t.big", NULL);
    s_exec(fx, "sink", "t.emit", NULL);
    s_edge(fx, "big", "sink", NULL, NULL);
    s_start(fx, "big");
    cairn_run_options_t opts = {.max_message_size = 100};
    cairn_result_t *res = s_run(fx, "go", &opts);
    s_assert_completed(res);
    const s_call_t *call = s_call_of("big", 0);
    assert_non_null(call);
    char expected_note[64];
    snprintf(expected_note, sizeof expected_note, "rc101=%d rc100=%d",
             CAIRN_ETOOLARGE, CAIRN_OK);
    assert_string_equal(call->note, expected_note);
    /* only the 100-byte message arrived, whole */
    assert_int_equal(s_calls_of("sink"), 1);
    assert_int_equal(cairn_result_output_count(res), 1);
    size_t len = 0;
    assert_non_null(cairn_result_output(res, 0, &len));
    assert_int_equal(len, 100);
}

/* More messages, outputs, writes and requests than one Done may hold:
 * the executor fails with a clear error, nothing is delivered. */
static void
test_coordinator_too_many_entries(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "flood", "t.flood", NULL);
    s_exec(fx, "sink", "t.emit", NULL);
    s_edge(fx, "flood", "sink", NULL, NULL);
    s_start(fx, "flood");
    cairn_result_t *res = s_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_non_null(strstr(cairn_result_error(res)->message,
                           "executor 'flood' made 65537 messages, outputs, "
                           "state writes, requests and checkpoint tags in "
                           "one superstep, more than the 65536"));
    assert_int_equal(s_calls_of("sink"), 0);
}

static void
test_coordinator_send_to_one_target(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "picker", "t.pick", "t2");
    s_exec(fx, "t1", "t.emit", "t1");
    s_exec(fx, "t2", "t.emit", "t2");
    s_edge(fx, "picker", "t1", NULL, NULL);
    /* send_to does not evaluate edge conditions: the handler chose */
    s_edge(fx, "picker", "t2", "never", NULL);
    s_start(fx, "picker");
    cairn_result_t *res = s_run(fx, "x", NULL);
    s_assert_completed(res);
    assert_int_equal(s_calls_of("t1"), 0);
    assert_int_equal(s_calls_of("t2"), 1);
    const char *expected[] = {"t2:x"};
    s_assert_outputs(res, expected, 1);
}

static void
test_coordinator_send_to_unknown_target_fails(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "picker", "t.pick", "nowhere");
    s_exec(fx, "t1", "t.emit", NULL);
    s_edge(fx, "picker", "t1", NULL, NULL);
    s_start(fx, "picker");
    cairn_result_t *res = s_run(fx, "x", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    const cairn_error_t *err = cairn_result_error(res);
    assert_non_null(err);
    assert_int_not_equal(err->code, CAIRN_OK);
    if (!strstr(err->message, "picker"))
        fail_msg("error '%s' should name picker", err->message);
    assert_int_equal(s_calls_of("t1"), 0);
    assert_int_equal(cairn_result_output_count(res), 0);
}

static void
test_coordinator_context_values(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "c1", "t.ctx", "conf-1");
    s_exec(fx, "c2", "t.ctx", NULL);
    s_edge(fx, "c1", "c2", NULL, NULL);
    s_start(fx, "c1");
    cairn_run_options_t opts = {.run_id = "ctx-run_1"};
    cairn_result_t *res = s_run(fx, "x", &opts);
    s_assert_completed(res);
    assert_string_equal(cairn_result_run_id(res), "ctx-run_1");
    const s_call_t *call = s_call_of("c1", 0);
    assert_non_null(call);
    assert_string_equal(call->note, "ss=1 run=ctx-run_1 att=1 "
                                    "key=ctx-run_1/1/c1 id=c1 cfg=conf-1");
    assert_string_equal(call->source, ""); /* the run input */
    call = s_call_of("c2", 0);
    assert_non_null(call);
    assert_string_equal(call->note, "ss=2 run=ctx-run_1 att=1 "
                                    "key=ctx-run_1/2/c2 id=c2 cfg=");
    assert_string_equal(call->source, "c1");
    assert_string_equal(call->payload, "x");
}

static void
test_coordinator_determinism(void **state)
{
    s_fixture_t *fx = *state;
    cairn_engine_t *engine = s_open_engine(4);
    assert_int_equal(cairn_engine_host_count(engine), 4);

    s_exec(fx, "root", "t.fwd", NULL);
    const char *branches[] = {"b1", "b2", "b3", "b4"};
    for (size_t i = 0; i < 4; i++)
        s_exec(fx, branches[i], "t.branch", NULL);
    s_exec(fx, "join", "t.join", "loop");
    s_exec(fx, "loop", "t.loop", NULL);
    s_exec(fx, "final", "t.final", NULL);
    s_fan_out(fx, "root", branches, 4);
    const char *sources[] = {"b3", "b1", "b4", "b2"};
    assert_int_equal(cairn_builder_add_fan_in(fx->builder, sources, 4, "join"),
                     CAIRN_OK);
    s_edge(fx, "join", "loop", NULL, NULL);
    s_edge(fx, "loop", "loop", "int_lt", "3");
    s_edge(fx, "loop", "final", "int_ge", "3");
    s_start(fx, "root");

    s_str_t first_outputs = {0}, first_events = {0}, first_state = {0};
    for (int run = 0; run < 20; run++) {
        char run_id[32];
        snprintf(run_id, sizeof run_id, "det-%02d", run);
        cairn_run_options_t opts = {.run_id = run_id};
        cairn_result_t *res = s_run_on(fx, engine, "in", &opts);
        s_assert_completed(res);
        assert_int_equal(cairn_result_supersteps(res), 7);

        s_str_t outputs = {0}, events = {0}, states = {0};
        for (size_t i = 0; i < cairn_result_output_count(res); i++) {
            size_t len = 0;
            const uint8_t *data = cairn_result_output(res, i, &len);
            s_str_addf(&outputs, "%zu:", len);
            s_str_add(&outputs, data, len);
            s_str_add(&outputs, "\n", 1);
        }
        for (size_t i = 0; i < fx->events.count; i++) {
            const s_event_t *e = &fx->events.items[i];
            s_str_addf(&events, "%s %" PRIu64 " %s\n",
                       cairn_event_kind_name(e->kind), e->superstep,
                       e->executor ? e->executor : "-");
        }
        cairn_result_foreach_state(res, s_visit, &states);
        s_str_add(&states, "", 0);

        if (run == 0) {
            /* the first run is also checked for the right answer */
            const char *expected[] = {
                "b1:in", "b2:in", "b3:in", "b4:in",
                "b3:in|b1:in|b4:in|b2:in",
                "loop1", "loop2", "loop3",
                "final last=b4 loop=3",
            };
            s_assert_outputs(res, expected, 9);
            s_assert_state(res, NULL, "last", "b4");
            first_outputs = outputs;
            first_events = events;
            first_state = states;
            continue;
        }
        assert_string_equal(outputs.data, first_outputs.data);
        assert_string_equal(events.data, first_events.data);
        assert_string_equal(states.data, first_state.data);
        s_str_free(&outputs);
        s_str_free(&events);
        s_str_free(&states);
    }
    s_str_free(&first_outputs);
    s_str_free(&first_events);
    s_str_free(&first_state);
    cairn_result_destroy(&fx->result);
    cairn_engine_destroy(&engine);
}

/* Two executors fail in one superstep: each event carries its own reason,
 * the run's error names the first in id order. */
static void
test_coordinator_each_failure_has_its_own_reason(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "s", "t.fwd", NULL);
    s_exec(fx, "f1", "t.failid", NULL);
    s_exec(fx, "f2", "t.failid", NULL);
    const char *targets[] = {"f2", "f1"};
    s_fan_out(fx, "s", targets, 2);
    s_start(fx, "s");
    cairn_result_t *res = s_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_non_null(strstr(cairn_result_error(res)->message, "reason of f1"));
    size_t checked = 0;
    for (size_t i = 0; i < fx->events.count; i++) {
        const s_event_t *e = &fx->events.items[i];
        if (e->kind != CAIRN_EVENT_EXECUTOR_FAILED)
            continue;
        char expected[32];
        snprintf(expected, sizeof expected, "reason of %s", e->executor);
        assert_non_null(e->detail);
        assert_string_equal(e->detail, expected);
        checked++;
    }
    assert_int_equal(checked, 2);
}

/* A fan-in whose third source never delivers: the run completes and the
 * two waiting messages are reported, not lost silently. */
static void
test_coordinator_fan_in_leftovers_are_reported(void **state)
{
    s_fixture_t *fx = *state;
    s_exec(fx, "s", "t.fwd", NULL);
    s_exec(fx, "x", "t.fwd", NULL);
    s_exec(fx, "y", "t.fwd", NULL);
    s_exec(fx, "z", "t.fwd", NULL);
    s_exec(fx, "j", "t.join", NULL);
    const char *targets[] = {"x", "y"};
    s_fan_out(fx, "s", targets, 2);
    const char *sources[] = {"x", "y", "z"};
    assert_int_equal(cairn_builder_add_fan_in(fx->builder, sources, 3, "j"),
                     CAIRN_OK);
    s_start(fx, "s");
    cairn_result_t *res = s_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_COMPLETED);
    assert_int_equal(s_calls_of("j"), 0);
    assert_int_equal(s_count_events(&fx->events, CAIRN_EVENT_MESSAGE_DROPPED,
                                    "j"),
                     2);
    const s_event_t *dropped =
        s_find_event(&fx->events, CAIRN_EVENT_MESSAGE_DROPPED);
    assert_non_null(dropped);
    assert_non_null(strstr(dropped->detail, "waiting in the fan-in into 'j'"));
    assert_int_equal(dropped->count, 1);
}

#define S_TEST(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_coordinator_engine_host_count),
        S_TEST(test_coordinator_each_failure_has_its_own_reason),
        S_TEST(test_coordinator_fan_in_leftovers_are_reported),
        S_TEST(test_coordinator_chain_three_steps),
        S_TEST(test_coordinator_cycle_counts_to_ten),
        S_TEST(test_coordinator_fan_out_fan_in),
        S_TEST(test_coordinator_switch_first_match_and_default),
        S_TEST(test_coordinator_shared_state_visibility),
        S_TEST(test_coordinator_shared_conflict_greater_id_wins),
        S_TEST(test_coordinator_executor_state_persists),
        S_TEST(test_coordinator_foreach_state_order),
        S_TEST(test_coordinator_type_filter_drops),
        S_TEST(test_coordinator_max_supersteps_from_workflow),
        S_TEST(test_coordinator_max_supersteps_from_run_options),
        S_TEST(test_coordinator_handler_failure_applies_nothing),
        S_TEST(test_coordinator_event_sequence),
        S_TEST(test_coordinator_message_too_large),
        S_TEST(test_coordinator_too_many_entries),
        S_TEST(test_coordinator_send_to_one_target),
        S_TEST(test_coordinator_send_to_unknown_target_fails),
        S_TEST(test_coordinator_context_values),
        S_TEST(test_coordinator_determinism),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
