/* builtin_util.c - count.inc and the util.* executor types that stay in
 * the process: util.sleep, util.fail, util.crash
 * (include/cairn/builtins.h).
 *
 * Handlers keep nothing between calls except through the context (state
 * "count" of count.inc): a handler may run more than once for the same
 * superstep (retries, lost workers) and its effects still apply exactly
 * once. util.crash reaches outside the process on purpose.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/context.h"
#include "cairn/engine.h"
#include "executors/builtins_internal.h"
#include "graph/registry_internal.h"

#define S_PREVIEW_MAX 32 /* payload bytes quoted in errors */

/* Writes a printable preview of data into out ('?' for other bytes,
 * "..." when cut). out must hold S_PREVIEW_MAX + 4 bytes. */
static const char *
s_preview(const uint8_t *data, size_t len, char *out)
{
    size_t n = len < S_PREVIEW_MAX ? len : S_PREVIEW_MAX;
    for (size_t i = 0; i < n; i++)
        out[i] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '?';
    strcpy(out + n, len > n ? "..." : "");
    return out;
}

/* Sleeps ms milliseconds, resuming after signals. */
static void
s_sleep_ms(int64_t ms)
{
    struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* count.inc, util.sleep: one integer from the config                  */

/* How the one integer field of a type is read. */
typedef struct {
    const char *type;  /* type name */
    const char *field; /* the field */
    bool required;     /* else fallback applies */
    int64_t fallback;
    int64_t min, max; /* allowed range */
} s_int_field_t;

/* Reads the one integer field into a malloc'd int64_t instance. */
static int
s_int_init(const s_int_field_t *spec, void **instance, const uint8_t *config,
           size_t len, cairn_error_t *err)
{
    *instance = NULL;
    cairn__config_t cfg;
    int64_t value = spec->fallback;
    int rc = cairn__config_open(&cfg, spec->type, config, len, err);
    if (rc == CAIRN_OK)
        rc =
            cairn__config_int(&cfg, spec->field, spec->required, spec->fallback,
                              spec->min, spec->max, &value, err);
    cairn__config_close(&cfg);
    if (rc != CAIRN_OK)
        return rc;
    int64_t *self = malloc(sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    *self = value;
    *instance = self;
    return CAIRN_OK;
}

/* count.inc's instance is "by", the amount added to every payload. */
static int
s_count_init(void **instance, const uint8_t *config, size_t len,
             cairn_error_t *err)
{
    static const s_int_field_t spec = {"count.inc", "by",      false,
                                       1,           INT64_MIN, INT64_MAX};
    return s_int_init(&spec, instance, config, len, err);
}

/* Adds one to the executor's state "count" (decimal text). */
static int
s_count_bump(cairn_ctx_t *ctx)
{
    size_t len;
    const uint8_t *seen = cairn_ctx_state_get(ctx, "count", &len);
    int64_t count = 0;
    if (seen && !cairn__parse_int64(seen, len, &count))
        return cairn_ctx_fail(ctx, "count.inc: state 'count' is not a "
                                   "decimal integer");
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)count + 1);
    return cairn_ctx_state_set(ctx, "count", text, strlen(text));
}

static int
s_count(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const int64_t *by = cairn_ctx_instance(ctx);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    int64_t value, sum;
    char preview[S_PREVIEW_MAX + 4];
    if (!cairn__parse_int64(payload, len, &value))
        return cairn_ctx_fail(ctx,
                              "count.inc: payload '%s' is not a decimal "
                              "integer",
                              s_preview(payload, len, preview));
    if (__builtin_add_overflow(value, *by, &sum))
        return cairn_ctx_fail(ctx, "count.inc: %lld + %lld overflows int64",
                              (long long)value, (long long)*by);
    int rc = s_count_bump(ctx);
    if (rc != CAIRN_OK)
        return rc;
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)sum);
    return cairn__send_on(ctx, msg, text, strlen(text));
}

/* ------------------------------------------------------------------ */
/* util.sleep                                                          */

/* util.sleep's instance is "ms", how long each message waits. */
static int
s_sleep_init(void **instance, const uint8_t *config, size_t len,
             cairn_error_t *err)
{
    static const s_int_field_t spec = {"util.sleep", "ms", true, 0, 0,
                                       CAIRN__MAX_MS};
    return s_int_init(&spec, instance, config, len, err);
}

static int
s_sleep(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const int64_t *ms = cairn_ctx_instance(ctx);
    s_sleep_ms(*ms);
    return cairn__forward(ctx, msg);
}

/* ------------------------------------------------------------------ */
/* util.fail                                                           */

/* The "when" predicate is evaluated against a private registry holding
 * the registry's built-in predicates plus not / all / any: init gets no
 * registry, and a global would be shared mutable state. Predicates added
 * by plugins are therefore unknown to util.fail. */
typedef struct {
    cairn_registry_t *predicates; /* owned; NULL without "when" */
    char *when;                   /* owned predicate name, or NULL */
    uint8_t *when_arg;            /* owned argument bytes */
    size_t when_arg_len;
    bool has_first;         /* "first_attempts" was given */
    int64_t first_attempts; /* fail only on attempts 1..N */
} s_fail_t;

static void
s_fail_fini(void *instance)
{
    s_fail_t *self = instance;
    if (!self)
        return;
    cairn_registry_destroy(&self->predicates);
    free(self->when);
    free(self->when_arg);
    free(self);
}

/* Reads config field "when" (a JSON predicate) into self. */
static int
s_fail_read_when(s_fail_t *self, const json_t *value, cairn_error_t *err)
{
    self->predicates = cairn_registry_new();
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!self->predicates || !text
        || cairn__predicate_composites_register(self->predicates) != CAIRN_OK) {
        free(text);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    cairn_error_t inner;
    cairn_error_clear(&inner);
    int rc = cairn_predicate_from_json(self->predicates, text, strlen(text),
                                       &self->when, &self->when_arg,
                                       &self->when_arg_len, &inner);
    free(text);
    if (rc != CAIRN_OK)
        return cairn_error_set(err, rc, "util.fail: config field 'when': %s",
                               inner.message);
    return CAIRN_OK;
}

static int
s_fail_init(void **instance, const uint8_t *config, size_t len,
            cairn_error_t *err)
{
    *instance = NULL;
    s_fail_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__config_t cfg;
    int rc = cairn__config_open(&cfg, "util.fail", config, len, err);
    json_t *when = rc == CAIRN_OK ? json_object_get(cfg.root, "when") : NULL;
    if (when)
        rc = s_fail_read_when(self, when, err);
    self->has_first =
        rc == CAIRN_OK && json_object_get(cfg.root, "first_attempts");
    if (self->has_first)
        rc = cairn__config_int(&cfg, "first_attempts", true, 0, 0, UINT32_MAX,
                               &self->first_attempts, err);
    cairn__config_close(&cfg);
    if (rc != CAIRN_OK) {
        s_fail_fini(self);
        return rc;
    }
    *instance = self;
    return CAIRN_OK;
}

static int
s_fail(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const s_fail_t *self = cairn_ctx_instance(ctx);
    uint32_t attempt = cairn_ctx_attempt(ctx);
    bool matches = !self->when
                   || cairn_registry_eval(self->predicates, self->when, msg,
                                          self->when_arg, self->when_arg_len);
    bool in_attempts =
        !self->has_first || (int64_t)attempt <= self->first_attempts;
    if (!matches || !in_attempts)
        return cairn__forward(ctx, msg);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char preview[S_PREVIEW_MAX + 4];
    return cairn_ctx_fail(ctx,
                          "util.fail: failing as configured (attempt %u, "
                          "payload '%s')",
                          (unsigned)attempt, s_preview(payload, len, preview));
}

/* ------------------------------------------------------------------ */
/* util.crash                                                          */

typedef struct {
    uint64_t at_superstep; /* the superstep that crashes */
    char *marker;          /* owned path; its existence disarms the crash */
} s_crash_t;

static void
s_crash_fini(void *instance)
{
    s_crash_t *self = instance;
    if (self)
        free(self->marker);
    free(self);
}

static int
s_crash_init(void **instance, const uint8_t *config, size_t len,
             cairn_error_t *err)
{
    *instance = NULL;
    s_crash_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__config_t cfg;
    int64_t at = 0;
    int rc = cairn__config_open(&cfg, "util.crash", config, len, err);
    if (rc == CAIRN_OK)
        rc = cairn__config_int(&cfg, "at_superstep", true, 0, 1, INT64_MAX, &at,
                               err);
    if (rc == CAIRN_OK)
        rc = cairn__config_string(&cfg, "marker", NULL, &self->marker, err);
    cairn__config_close(&cfg);
    if (rc != CAIRN_OK) {
        s_crash_fini(self);
        return rc;
    }
    self->at_superstep = (uint64_t)at;
    *instance = self;
    return CAIRN_OK;
}

/* Creates the marker (durably), then kills the whole process. Returns
 * only when the marker already exists (0) or cannot be made (< 0). */
static int
s_crash_now(cairn_ctx_t *ctx, const s_crash_t *self)
{
    int fd = open(self->marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return CAIRN_OK;
    char why[128];
    if (fd < 0)
        return cairn_ctx_fail(ctx, "util.crash: cannot create marker '%s': %s",
                              self->marker,
                              cairn__errno_text(errno, why, sizeof why));
    char text[64];
    int n = snprintf(text, sizeof text, "crashed at superstep %llu\n",
                     (unsigned long long)self->at_superstep);
    bool written = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!written)
        return cairn_ctx_fail(ctx, "util.crash: cannot write marker '%s': %s",
                              self->marker,
                              cairn__errno_text(saved, why, sizeof why));
    raise(SIGKILL);
    return cairn_ctx_fail(ctx, "util.crash: SIGKILL did not stop the process");
}

static int
s_crash(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const s_crash_t *self = cairn_ctx_instance(ctx);
    if (cairn_ctx_superstep(ctx) == self->at_superstep) {
        int rc = s_crash_now(ctx, self);
        if (rc != CAIRN_OK)
            return rc;
    }
    return cairn__forward(ctx, msg);
}

const cairn_executor_type_t cairn__builtins_util[] = {
    {"count.inc", s_count, s_count_init, free, NULL},
    {"util.sleep", s_sleep, s_sleep_init, free, NULL},
    {"util.fail", s_fail, s_fail_init, s_fail_fini, NULL},
    {"util.crash", s_crash, s_crash_init, s_crash_fini, NULL},
};
const size_t cairn__builtins_util_count =
    sizeof cairn__builtins_util / sizeof cairn__builtins_util[0];
