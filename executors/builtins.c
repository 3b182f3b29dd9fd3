/* builtins.c - the executor types cairn ships (include/cairn/builtins.h).
 *
 * Every type reads its config once, in its init function, into an
 * instance struct: the config is JSON object text (NULL, empty or null
 * means {}), unknown members are errors, string values have ${VAR}
 * replaced from the environment (cairn_expand_env), and every error names
 * the type, the field and what was expected. The builder runs init to
 * validate, and each host runs it again when it (re)starts the executor,
 * so environment variables are read where the executor runs and never
 * stored.
 *
 * Instances are read-only once made, and handlers keep nothing between
 * calls except through the context (state "count" of count.inc): a
 * handler may run more than once for the same superstep (retries, lost
 * workers) and its effects still apply exactly once. util.crash and
 * util.exec reach outside the process on purpose; util.exec runs only
 * when the registry was filled with allow_exec (the permission lives in
 * which handler function is registered, not in any global).
 *
 * Text transforms are bytewise ASCII and locale-independent, so a resumed
 * run in another process produces the same bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/builtins.h"
#include "cairn/context.h"
#include "cairn/engine.h"
#include "graph/registry_internal.h"
#include "base/util.h"

extern char **environ;

#define S_EXEC_DEFAULT_TIMEOUT_MS 10000
#define S_MAX_MS ((int64_t)86400000) /* one day: longest sleep / timeout */
#define S_PREVIEW_MAX 32             /* payload bytes quoted in errors */
#define S_STDERR_KEEP 300            /* stderr bytes kept for the error */
#define S_IO_CHUNK 65536

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* A growable byte buffer. */
typedef struct {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
} s_buf_t;

/* Makes room for extra more bytes; false on out-of-memory. */
static bool
s_buf_reserve(s_buf_t *self, size_t extra)
{
    if (self->cap - self->len >= extra)
        return true;
    size_t cap = self->cap ? self->cap : 64;
    while (cap - self->len < extra) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    uint8_t *data = realloc(self->data, cap);
    if (!data)
        return false;
    self->data = data;
    self->cap = cap;
    return true;
}

static bool
s_buf_append(s_buf_t *self, const void *data, size_t len)
{
    if (len == 0)
        return true;
    if (!s_buf_reserve(self, len))
        return false;
    memcpy(self->data + self->len, data, len);
    self->len += len;
    return true;
}

static void
s_buf_free(s_buf_t *self)
{
    free(self->data);
    *self = (s_buf_t){0};
}

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

/* Thread-safe description of an errno value. */
static const char *
s_errno_text(int errnum, char *buf, size_t size)
{
    return strerror_r(errnum, buf, size); /* the GNU variant */
}

/* Sends data on along every edge with the incoming message's type tag. */
static int
s_send_on(cairn_ctx_t *ctx, const cairn_msg_t *msg, const void *data,
          size_t len)
{
    return cairn_ctx_send(ctx, cairn_msg_type(msg), data, len);
}

static int
s_forward(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return s_send_on(ctx, msg, payload, len);
}

/* Sleeps ms milliseconds, resuming after signals. */
static void
s_sleep_ms(int64_t ms)
{
    struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

static int64_t
s_now_ms(void)
{
    return (int64_t)(cairn__monotonic_us() / 1000);
}

/* ------------------------------------------------------------------ */
/* ${VAR} expansion                                                    */

static bool
s_is_name_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (!first && c >= '0' && c <= '9');
}

/* Appends the value of the variable whose reference starts at text[*i]
 * ("${"), advancing *i past the closing brace. */
static int
s_expand_one(const char *text, size_t *i, s_buf_t *out, cairn_error_t *err)
{
    size_t start = *i + 2, end = start;
    while (text[end] && s_is_name_char(text[end], end == start))
        end++;
    if (end == start || text[end] != '}')
        return cairn_error_set(err, CAIRN_EINVAL,
                               "malformed variable reference at offset %zu: "
                               "expected ${NAME} with NAME made of letters, "
                               "digits and '_', not starting with a digit",
                               *i);
    char name[256];
    if (end - start >= sizeof name)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "variable name at offset %zu is too long", *i);
    memcpy(name, text + start, end - start);
    name[end - start] = '\0';
    const char *value = getenv(name);
    if (!value)
        return cairn_error_set(err, CAIRN_ENOTFOUND,
                               "environment variable %s is not set", name);
    if (!s_buf_append(out, value, strlen(value)))
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    *i = end + 1;
    return CAIRN_OK;
}

int
cairn_expand_env(const char *text, char **out, cairn_error_t *err)
{
    if (!text || !out)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "cairn_expand_env: missing argument");
    *out = NULL;
    s_buf_t buf = {0};
    int rc = CAIRN_OK;
    size_t i = 0;
    while (rc == CAIRN_OK && text[i]) {
        if (text[i] == '$' && text[i + 1] == '{') {
            rc = s_expand_one(text, &i, &buf, err);
        } else {
            size_t run = strcspn(text + i + 1, "$") + 1;
            if (!s_buf_append(&buf, text + i, run))
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            i += run;
        }
    }
    if (rc == CAIRN_OK && !s_buf_append(&buf, "", 1))
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc != CAIRN_OK) {
        s_buf_free(&buf);
        return rc;
    }
    *out = (char *)buf.data;
    return CAIRN_OK;
}

/* ------------------------------------------------------------------ */
/* Reading configs                                                     */

/* A config being read by one type's init. */
typedef struct {
    const char *type; /* type name, first word of every error */
    json_t *root;     /* owned; the config object */
} s_config_t;

/* Parses config as a JSON object whose members are all in fields (a
 * NULL-terminated list; NULL for a type without config). */
static int
s_config_open(s_config_t *self, const char *type, const uint8_t *config,
              size_t len, const char *const *fields, cairn_error_t *err)
{
    self->type = type;
    self->root = NULL;
    json_error_t jerr;
    json_t *root =
        config && len > 0
            ? json_loadb((const char *)config, len,
                         JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr)
            : json_object();
    if (!root)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "%s: config is not valid JSON: %s (line %d, "
                               "column %d)",
                               type, jerr.text, jerr.line, jerr.column);
    if (json_is_null(root)) {
        json_decref(root);
        root = json_object();
    }
    self->root = root;
    if (!json_is_object(root))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "%s: config must be a JSON object", type);
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        size_t i = 0;
        while (fields && fields[i] && strcmp(fields[i], key) != 0)
            i++;
        if (!fields || !fields[i])
            return cairn_error_set(
                err, CAIRN_EINVAL, "%s: unknown config field '%s'%s", type, key,
                fields ? "" : " (this type takes no config)");
    }
    return CAIRN_OK;
}

static void
s_config_close(s_config_t *self)
{
    json_decref(self->root);
    self->root = NULL;
}

/* Expands ${VAR} in a string value of field `what`; *out is malloc'd. */
static int
s_config_expand(const s_config_t *self, const char *what, const char *text,
                char **out, cairn_error_t *err)
{
    cairn_error_t inner;
    cairn_error_clear(&inner);
    int rc = cairn_expand_env(text, out, &inner);
    if (rc != CAIRN_OK)
        return cairn_error_set(err, rc, "%s: config field '%s': %s", self->type,
                               what, inner.message);
    return CAIRN_OK;
}

/* Reads string field name into *out (malloc'd, ${VAR} expanded). When the
 * field is absent, *out is a copy of fallback, or the field is required
 * when fallback is NULL. */
static int
s_config_string(const s_config_t *self, const char *name, const char *fallback,
                char **out, cairn_error_t *err)
{
    *out = NULL;
    json_t *value = json_object_get(self->root, name);
    if (!value && !fallback)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "%s: config field '%s' is required (a string)",
                               self->type, name);
    if (!value) {
        *out = strdup(fallback);
        return *out ? CAIRN_OK
                    : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    if (!json_is_string(value))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "%s: config field '%s' must be a string",
                               self->type, name);
    return s_config_expand(self, name, json_string_value(value), out, err);
}

/* Reads integer field name (min..max) into *out; absent gives fallback,
 * or the field is required when required is set. */
static int
s_config_int(const s_config_t *self, const char *name, bool required,
             int64_t fallback, int64_t min, int64_t max, int64_t *out,
             cairn_error_t *err)
{
    json_t *value = json_object_get(self->root, name);
    *out = fallback;
    if (!value && !required)
        return CAIRN_OK;
    if (!value || !json_is_integer(value) || json_integer_value(value) < min
        || json_integer_value(value) > max)
        return cairn_error_set(
            err, CAIRN_EINVAL,
            "%s: config field '%s' %s an integer from "
            "%lld to %lld",
            self->type, name,
            value ? "must be" : "is required:", (long long)min, (long long)max);
    *out = (int64_t)json_integer_value(value);
    return CAIRN_OK;
}

/* init for the types that take no config: checks there is none. */
static int
s_no_config(const char *type, void **instance, const uint8_t *config,
            size_t len, cairn_error_t *err)
{
    *instance = NULL;
    s_config_t cfg;
    int rc = s_config_open(&cfg, type, config, len, NULL, err);
    s_config_close(&cfg);
    return rc;
}

/* ------------------------------------------------------------------ */
/* text.upper, text.lower, text.reverse, text.output                   */

typedef enum { S_UPPER, S_LOWER, S_REVERSE } s_text_op_t;

static int
s_text_transform(cairn_ctx_t *ctx, const cairn_msg_t *msg, s_text_op_t op)
{
    size_t len;
    const uint8_t *in = cairn_msg_payload(msg, &len);
    uint8_t *out = malloc(len ? len : 1);
    if (!out)
        return cairn_ctx_fail(ctx, "out of memory");
    for (size_t i = 0; i < len; i++) {
        uint8_t c = op == S_REVERSE ? in[len - 1 - i] : in[i];
        if (op == S_UPPER && c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 'a' + 'A');
        else if (op == S_LOWER && c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        out[i] = c;
    }
    int rc = s_send_on(ctx, msg, out, len);
    free(out);
    return rc;
}

static int
s_upper(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_text_transform(ctx, msg, S_UPPER);
}

static int
s_lower(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_text_transform(ctx, msg, S_LOWER);
}

static int
s_reverse(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_text_transform(ctx, msg, S_REVERSE);
}

static int
s_output(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_yield_output(ctx, payload, len);
}

static int
s_upper_init(void **instance, const uint8_t *config, size_t len,
             cairn_error_t *err)
{
    return s_no_config("text.upper", instance, config, len, err);
}

static int
s_lower_init(void **instance, const uint8_t *config, size_t len,
             cairn_error_t *err)
{
    return s_no_config("text.lower", instance, config, len, err);
}

static int
s_reverse_init(void **instance, const uint8_t *config, size_t len,
               cairn_error_t *err)
{
    return s_no_config("text.reverse", instance, config, len, err);
}

static int
s_output_init(void **instance, const uint8_t *config, size_t len,
              cairn_error_t *err)
{
    return s_no_config("text.output", instance, config, len, err);
}

/* ------------------------------------------------------------------ */
/* text.append, text.join: one string from the config                  */

/* The instance of text.append (the suffix) and text.join (the
 * separator). */
typedef struct {
    char *text; /* owned, NUL-terminated, ${VAR} expanded */
    size_t len; /* strlen(text) */
} s_string_t;

static void
s_string_fini(void *instance)
{
    s_string_t *self = instance;
    if (self)
        free(self->text);
    free(self);
}

/* Reads the one string field of text.append / text.join. */
static int
s_string_init(const char *type, const char *field, const char *fallback,
              void **instance, const uint8_t *config, size_t len,
              cairn_error_t *err)
{
    const char *const fields[] = {field, NULL};
    *instance = NULL;
    s_string_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    s_config_t cfg;
    int rc = s_config_open(&cfg, type, config, len, fields, err);
    if (rc == CAIRN_OK)
        rc = s_config_string(&cfg, field, fallback, &self->text, err);
    s_config_close(&cfg);
    if (rc != CAIRN_OK) {
        s_string_fini(self);
        return rc;
    }
    self->len = strlen(self->text);
    *instance = self;
    return CAIRN_OK;
}

static int
s_append_init(void **instance, const uint8_t *config, size_t len,
              cairn_error_t *err)
{
    return s_string_init("text.append", "suffix", NULL, instance, config, len,
                         err);
}

static int
s_join_init(void **instance, const uint8_t *config, size_t len,
            cairn_error_t *err)
{
    return s_string_init("text.join", "sep", " ", instance, config, len, err);
}

static int
s_append(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const s_string_t *self = cairn_ctx_instance(ctx);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    s_buf_t out = {0};
    if (!s_buf_append(&out, payload, len)
        || !s_buf_append(&out, self->text, self->len)) {
        s_buf_free(&out);
        return cairn_ctx_fail(ctx, "out of memory");
    }
    int rc = s_send_on(ctx, msg, out.data, out.len);
    s_buf_free(&out);
    return rc;
}

/* Joins the parts of a fan-in message with the separator; a message
 * without parts is passed on as it is. */
static int
s_join(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const s_string_t *self = cairn_ctx_instance(ctx);
    size_t parts = cairn_msg_part_count(msg);
    if (parts == 0)
        return s_forward(ctx, msg);
    s_buf_t out = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < parts; i++) {
        size_t len;
        const uint8_t *part = cairn_msg_payload(cairn_msg_part(msg, i), &len);
        ok = (i == 0 || s_buf_append(&out, self->text, self->len))
             && s_buf_append(&out, part, len);
    }
    int rc = ok ? s_send_on(ctx, msg, out.data, out.len)
                : cairn_ctx_fail(ctx, "out of memory");
    s_buf_free(&out);
    return rc;
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
    const char *const fields[] = {spec->field, NULL};
    *instance = NULL;
    s_config_t cfg;
    int64_t value = spec->fallback;
    int rc = s_config_open(&cfg, spec->type, config, len, fields, err);
    if (rc == CAIRN_OK)
        rc = s_config_int(&cfg, spec->field, spec->required, spec->fallback,
                          spec->min, spec->max, &value, err);
    s_config_close(&cfg);
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
    return s_send_on(ctx, msg, text, strlen(text));
}

/* ------------------------------------------------------------------ */
/* util.sleep                                                          */

/* util.sleep's instance is "ms", how long each message waits. */
static int
s_sleep_init(void **instance, const uint8_t *config, size_t len,
             cairn_error_t *err)
{
    static const s_int_field_t spec = {"util.sleep", "ms", true, 0, 0,
                                       S_MAX_MS};
    return s_int_init(&spec, instance, config, len, err);
}

static int
s_sleep(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const int64_t *ms = cairn_ctx_instance(ctx);
    s_sleep_ms(*ms);
    return s_forward(ctx, msg);
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
    static const char *const fields[] = {"when", "first_attempts", NULL};
    *instance = NULL;
    s_fail_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    s_config_t cfg;
    int rc = s_config_open(&cfg, "util.fail", config, len, fields, err);
    json_t *when = rc == CAIRN_OK ? json_object_get(cfg.root, "when") : NULL;
    if (when)
        rc = s_fail_read_when(self, when, err);
    self->has_first =
        rc == CAIRN_OK && json_object_get(cfg.root, "first_attempts");
    if (self->has_first)
        rc = s_config_int(&cfg, "first_attempts", true, 0, 0, UINT32_MAX,
                          &self->first_attempts, err);
    s_config_close(&cfg);
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
        return s_forward(ctx, msg);
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
    static const char *const fields[] = {"at_superstep", "marker", NULL};
    *instance = NULL;
    s_crash_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    s_config_t cfg;
    int64_t at = 0;
    int rc = s_config_open(&cfg, "util.crash", config, len, fields, err);
    if (rc == CAIRN_OK)
        rc =
            s_config_int(&cfg, "at_superstep", true, 0, 1, INT64_MAX, &at, err);
    if (rc == CAIRN_OK)
        rc = s_config_string(&cfg, "marker", NULL, &self->marker, err);
    s_config_close(&cfg);
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
                              s_errno_text(errno, why, sizeof why));
    char text[64];
    int n = snprintf(text, sizeof text, "crashed at superstep %llu\n",
                     (unsigned long long)self->at_superstep);
    bool written = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!written)
        return cairn_ctx_fail(ctx, "util.crash: cannot write marker '%s': %s",
                              self->marker,
                              s_errno_text(saved, why, sizeof why));
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
    return s_forward(ctx, msg);
}

/* ------------------------------------------------------------------ */
/* util.exec: configuration                                            */

typedef struct {
    char **argv;        /* owned, NULL-terminated, ${VAR} expanded */
    size_t argc;        /* >= 1 */
    int64_t timeout_ms; /* the child is killed after this long */
    int64_t max_output; /* stdout bytes allowed */
} s_exec_t;

static void
s_exec_fini(void *instance)
{
    s_exec_t *self = instance;
    if (!self)
        return;
    for (size_t i = 0; self->argv && i < self->argc; i++)
        free(self->argv[i]);
    free(self->argv);
    free(self);
}

/* Reads config field "argv": a non-empty array of strings. */
static int
s_exec_read_argv(s_exec_t *self, const s_config_t *cfg, cairn_error_t *err)
{
    json_t *argv = json_object_get(cfg->root, "argv");
    if (!json_is_array(argv) || json_array_size(argv) == 0)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "util.exec: config field 'argv' %s a "
                               "non-empty array of strings",
                               argv ? "must be" : "is required:");
    self->argv = calloc(json_array_size(argv) + 1, sizeof *self->argv);
    if (!self->argv)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    size_t i;
    json_t *item;
    json_array_foreach(argv, i, item)
    {
        char what[32];
        snprintf(what, sizeof what, "argv[%zu]", i);
        if (!json_is_string(item))
            return cairn_error_set(err, CAIRN_EINVAL,
                                   "util.exec: config field '%s' must be a "
                                   "string",
                                   what);
        int rc = s_config_expand(cfg, what, json_string_value(item),
                                 &self->argv[i], err);
        if (rc != CAIRN_OK)
            return rc;
        self->argc = i + 1;
    }
    return CAIRN_OK;
}

static int
s_exec_init(void **instance, const uint8_t *config, size_t len,
            cairn_error_t *err)
{
    static const char *const fields[] = {"argv", "timeout_ms",
                                         "max_output_bytes", NULL};
    *instance = NULL;
    s_exec_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    s_config_t cfg;
    int rc = s_config_open(&cfg, "util.exec", config, len, fields, err);
    if (rc == CAIRN_OK)
        rc = s_exec_read_argv(self, &cfg, err);
    if (rc == CAIRN_OK)
        rc = s_config_int(&cfg, "timeout_ms", false, S_EXEC_DEFAULT_TIMEOUT_MS,
                          1, S_MAX_MS, &self->timeout_ms, err);
    if (rc == CAIRN_OK)
        rc = s_config_int(&cfg, "max_output_bytes", false,
                          (int64_t)CAIRN_DEFAULT_MAX_MESSAGE_SIZE, 0, INT32_MAX,
                          &self->max_output, err);
    s_config_close(&cfg);
    if (rc != CAIRN_OK) {
        s_exec_fini(self);
        return rc;
    }
    *instance = self;
    return CAIRN_OK;
}

/* ------------------------------------------------------------------ */
/* util.exec: running the child                                        */

/* One child process and the parent's ends of its pipes (-1 = closed). */
typedef struct {
    pid_t pid;
    int in_fd;  /* writes the payload to the child's stdin */
    int out_fd; /* reads the child's stdout */
    int err_fd; /* reads the child's stderr */
} s_child_t;

/* How the conversation with a child ended. */
typedef enum {
    S_TALK_DONE = 0,  /* stdout and stderr reached end of file */
    S_TALK_TIMEOUT,   /* the deadline passed */
    S_TALK_TOO_LARGE, /* stdout exceeded max_output */
    S_TALK_IO_ERROR,  /* poll/read failed or out of memory */
} s_talk_t;

static void
s_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The environment of the child: ours plus CAIRN_RUN_ID, CAIRN_EXECUTOR_ID,
 * CAIRN_SUPERSTEP, CAIRN_ATTEMPT and CAIRN_IDEMPOTENCY_KEY (replacing any
 * inherited ones), so a program can deduplicate its side effects.
 * Returns a malloc'd array whose last 5 entries are malloc'd; NULL on
 * out-of-memory. */
static char **
s_child_env(cairn_ctx_t *ctx)
{
    static const char *const names[] = {
        "CAIRN_RUN_ID=", "CAIRN_EXECUTOR_ID=", "CAIRN_SUPERSTEP=",
        "CAIRN_ATTEMPT=", "CAIRN_IDEMPOTENCY_KEY="};
    size_t count = 0;
    while (environ[count])
        count++;
    char **env = calloc(count + 6, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        bool ours = false;
        for (size_t j = 0; j < 5; j++)
            ours = ours || strncmp(environ[i], names[j], strlen(names[j])) == 0;
        if (!ours)
            env[n++] = environ[i];
    }
    char **extra = env + n;
    extra[0] = cairn__strprintf("%s%s", names[0], cairn_ctx_run_id(ctx));
    extra[1] = cairn__strprintf("%s%s", names[1], cairn_ctx_executor_id(ctx));
    extra[2] = cairn__strprintf("%s%llu", names[2],
                                (unsigned long long)cairn_ctx_superstep(ctx));
    extra[3] =
        cairn__strprintf("%s%u", names[3], (unsigned)cairn_ctx_attempt(ctx));
    extra[4] =
        cairn__strprintf("%s%s", names[4], cairn_ctx_idempotency_key(ctx));
    bool ok = extra[0] && extra[1] && extra[2] && extra[3] && extra[4];
    if (!ok) {
        for (size_t j = 0; j < 5; j++)
            free(extra[j]);
        free(env);
        return NULL;
    }
    return env;
}

static void
s_child_env_free(char **env)
{
    if (!env)
        return;
    size_t n = 0;
    while (env[n])
        n++;
    for (size_t j = n - 5; j < n; j++)
        free(env[j]);
    free(env);
}

/* Spawns argv with three fresh pipes as stdin/stdout/stderr, in its own
 * process group (so a timeout kills what it started too), with default
 * signal dispositions and an empty signal mask. posix_spawn rather than
 * fork: we are on a host thread of a multi-threaded process, where only
 * async-signal-safe calls are allowed between fork and exec, and spawn
 * reports exec failures as a return code. The pipes are O_CLOEXEC so
 * children spawned concurrently by other threads do not inherit them.
 * Returns 0 or an errno value. */
static int
s_child_spawn(const s_exec_t *self, char **env, s_child_t *child)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0
        || pipe2(err, O_CLOEXEC) != 0) {
        int saved = errno;
        for (int i = 0; i < 2; i++) {
            s_close_fd(&in[i]);
            s_close_fd(&out[i]);
            s_close_fd(&err[i]);
        }
        return saved;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGHUP);
    sigaddset(&defaults, SIGQUIT);
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP
                                        | POSIX_SPAWN_SETSIGMASK
                                        | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    int rc = posix_spawnp(&child->pid, self->argv[0], &actions, &attr,
                          self->argv, env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    s_close_fd(&in[0]);
    s_close_fd(&out[1]);
    s_close_fd(&err[1]);
    child->in_fd = in[1];
    child->out_fd = out[0];
    child->err_fd = err[0];
    if (rc != 0) {
        s_close_fd(&child->in_fd);
        s_close_fd(&child->out_fd);
        s_close_fd(&child->err_fd);
    }
    return rc;
}

/* Writes the next chunk of input; closes stdin when all is written or
 * the child stopped reading (EPIPE is not an error: many programs do not
 * read their input). */
static void
s_talk_write(s_child_t *child, const uint8_t *input, size_t len,
             size_t *written)
{
    size_t chunk = len - *written < S_IO_CHUNK ? len - *written : S_IO_CHUNK;
    ssize_t n = write(child->in_fd, input + *written, chunk);
    if (n > 0)
        *written += (size_t)n;
    if (*written == len || (n < 0 && errno != EAGAIN && errno != EINTR))
        s_close_fd(&child->in_fd);
}

/* Reads what is there from *fd into buf, keeping at most keep bytes
 * (the rest is read and dropped). Closes *fd at end of file. Returns
 * false on a read error or out-of-memory. */
static bool
s_talk_read(int *fd, s_buf_t *buf, size_t keep)
{
    uint8_t chunk[S_IO_CHUNK];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n == 0)
        s_close_fd(fd);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    size_t take = (size_t)n;
    if (buf->len + take > keep)
        take = keep > buf->len ? keep - buf->len : 0;
    return s_buf_append(buf, chunk, take);
}

/* Feeds input to the child and collects stdout (up to max_output + 1
 * bytes, to notice overflow) and the start of stderr, until both reach
 * end of file, the deadline passes or stdout grows too large. */
static s_talk_t
s_child_talk(s_child_t *child, const uint8_t *input, size_t len,
             int64_t deadline, size_t max_output, s_buf_t *out, s_buf_t *err)
{
    size_t written = 0;
    if (len == 0)
        s_close_fd(&child->in_fd);
    int *fds[3] = {&child->in_fd, &child->out_fd, &child->err_fd};
    for (int i = 0; i < 3; i++)
        if (*fds[i] >= 0)
            fcntl(*fds[i], F_SETFL, fcntl(*fds[i], F_GETFL) | O_NONBLOCK);
    while (child->out_fd >= 0 || child->err_fd >= 0) {
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            return S_TALK_TIMEOUT;
        struct pollfd polls[3];
        for (int i = 0; i < 3; i++)
            polls[i] = (struct pollfd){*fds[i], i == 0 ? POLLOUT : POLLIN, 0};
        if (poll(polls, 3, left > 1000 ? 1000 : (int)left) < 0) {
            if (errno == EINTR)
                continue;
            return S_TALK_IO_ERROR;
        }
        if (polls[0].revents)
            s_talk_write(child, input, len, &written);
        if (polls[1].revents
            && !s_talk_read(&child->out_fd, out, max_output + 1))
            return S_TALK_IO_ERROR;
        if (out->len > max_output)
            return S_TALK_TOO_LARGE;
        if (polls[2].revents
            && !s_talk_read(&child->err_fd, err, S_STDERR_KEEP))
            return S_TALK_IO_ERROR;
    }
    return S_TALK_DONE;
}

/* Waits for the child to exit; kills its process group at the deadline
 * (or at once when kill_now). Always reaps, so no zombie is left. Returns
 * true when it had to kill. */
static bool
s_child_reap(const s_child_t *child, int64_t deadline, bool kill_now,
             int *status)
{
    long pause_us = 100;
    bool killed = false;
    for (;;) {
        if (kill_now || s_now_ms() >= deadline) {
            kill(-child->pid, SIGKILL);
            kill(child->pid, SIGKILL); /* in case setpgid did not happen */
            killed = true;
        }
        pid_t got = waitpid(child->pid, status, killed ? 0 : WNOHANG);
        if (got == child->pid || (got < 0 && errno != EINTR))
            return killed;
        if (got == 0) {
            struct timespec ts = {0, pause_us * 1000};
            nanosleep(&ts, NULL);
            pause_us = pause_us < 10000 ? pause_us * 2 : pause_us;
        }
    }
}

/* Blocks SIGPIPE for this thread while we write to a child's stdin: a
 * child that exits without reading must give us EPIPE, not kill the
 * process. */
static bool
s_sigpipe_block(sigset_t *old)
{
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, old);
    return sigismember(old, SIGPIPE) == 1;
}

/* Discards a SIGPIPE our writes raised, then restores the mask. */
static void
s_sigpipe_restore(const sigset_t *old, bool was_blocked)
{
    if (!was_blocked) {
        sigset_t pending, pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        struct timespec zero = {0, 0};
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
            sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Fails the handler with why the child did not succeed; stderr's start
 * is quoted when there is some. */
static int
s_exec_failure(cairn_ctx_t *ctx, const s_exec_t *self, s_talk_t talk,
               int status, const s_buf_t *err)
{
    const char *prog = self->argv[0];
    char stderr_text[S_STDERR_KEEP + 1];
    size_t n = err->len;
    while (n > 0 && (err->data[n - 1] == '\n' || err->data[n - 1] == '\r'))
        n--;
    for (size_t i = 0; i < n; i++)
        stderr_text[i] = err->data[i] == '\n' ? ' ' : (char)err->data[i];
    stderr_text[n] = '\0';
    const char *sep = n ? ": " : "";
    if (talk == S_TALK_TIMEOUT)
        return cairn_ctx_fail(ctx,
                              "util.exec: '%s' timed out after %lld ms "
                              "and was killed%s%s",
                              prog, (long long)self->timeout_ms, sep,
                              stderr_text);
    if (talk == S_TALK_TOO_LARGE)
        return cairn_ctx_fail(ctx,
                              "util.exec: '%s' wrote more than %lld "
                              "bytes to stdout and was killed",
                              prog, (long long)self->max_output);
    if (talk == S_TALK_IO_ERROR)
        return cairn_ctx_fail(ctx, "util.exec: talking to '%s' failed", prog);
    if (WIFSIGNALED(status))
        return cairn_ctx_fail(ctx,
                              "util.exec: '%s' was killed by signal %d "
                              "(SIG%s)%s%s",
                              prog, WTERMSIG(status),
                              sigabbrev_np(WTERMSIG(status))
                                  ? sigabbrev_np(WTERMSIG(status))
                                  : "?",
                              sep, stderr_text);
    return cairn_ctx_fail(ctx, "util.exec: '%s' exited with status %d%s%s",
                          prog, WEXITSTATUS(status), sep, stderr_text);
}

/* Runs the child to its end and reports: sends stdout on success. */
static int
s_exec_child(cairn_ctx_t *ctx, const cairn_msg_t *msg, const s_exec_t *self,
             s_child_t *child)
{
    size_t len;
    const uint8_t *input = cairn_msg_payload(msg, &len);
    int64_t deadline = s_now_ms() + self->timeout_ms;
    s_buf_t out = {0}, err = {0};
    s_talk_t talk = s_child_talk(child, input, len, deadline,
                                 (size_t)self->max_output, &out, &err);
    s_close_fd(&child->in_fd);
    s_close_fd(&child->out_fd);
    s_close_fd(&child->err_fd);
    int status = 0;
    if (s_child_reap(child, deadline, talk != S_TALK_DONE, &status)
        && talk == S_TALK_DONE)
        talk = S_TALK_TIMEOUT;
    int rc =
        talk == S_TALK_DONE && WIFEXITED(status) && WEXITSTATUS(status) == 0
            ? s_send_on(ctx, msg, out.data, out.len)
            : s_exec_failure(ctx, self, talk, status, &err);
    s_buf_free(&out);
    s_buf_free(&err);
    return rc;
}

static int
s_exec(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const s_exec_t *self = cairn_ctx_instance(ctx);
    char **env = s_child_env(ctx);
    if (!env)
        return cairn_ctx_fail(ctx, "out of memory");
    sigset_t old_mask;
    bool was_blocked = s_sigpipe_block(&old_mask);
    s_child_t child = {-1, -1, -1, -1};
    int spawn_rc = s_child_spawn(self, env, &child);
    int rc;
    if (spawn_rc != 0) {
        char why[128];
        rc = cairn_ctx_fail(ctx, "util.exec: cannot start '%s': %s",
                            self->argv[0],
                            s_errno_text(spawn_rc, why, sizeof why));
    } else {
        rc = s_exec_child(ctx, msg, self, &child);
    }
    s_sigpipe_restore(&old_mask, was_blocked);
    s_child_env_free(env);
    return rc;
}

/* The handler registered when exec is not allowed. */
static int
s_exec_refused(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)msg;
    return cairn_ctx_fail(ctx, "util.exec is not allowed: start the run with "
                               "--allow-exec");
}

/* ------------------------------------------------------------------ */
/* hitl.approve                                                        */

#define S_APPROVE_KEY "request:" /* state key prefix: what awaits approval */

static int
s_approve_init(void **instance, const uint8_t *config, size_t len,
               cairn_error_t *err)
{
    return s_string_init("hitl.approve", "prompt", "Approve?", instance,
                         config, len, err);
}

/* The request payload a person reads: {"prompt": ..., "payload": ...},
 * the payload as a string when it is UTF-8, else {"base64": ...}. */
static char *
s_approve_question(const char *prompt, const uint8_t *payload, size_t len)
{
    json_t *shown = json_stringn((const char *)payload, len);
    if (!shown) {
        size_t size = sodium_base64_encoded_len(len,
                                                sodium_base64_VARIANT_ORIGINAL);
        char *text = malloc(size);
        if (text)
            sodium_bin2base64(text, size, payload, len,
                              sodium_base64_VARIANT_ORIGINAL);
        shown = text ? json_pack("{s:s}", "base64", text) : NULL;
        free(text);
    }
    json_t *question =
        shown ? json_pack("{s:s, s:o}", "prompt", prompt, "payload", shown)
              : NULL;
    char *text = question ? json_dumps(question, JSON_COMPACT) : NULL;
    json_decref(question);
    return text;
}

/* Asks for approval of the payload, which waits in state for the answer. */
static int
s_approve(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const s_string_t *self = cairn_ctx_instance(ctx);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char *question = s_approve_question(self->text, payload, len);
    if (!question)
        return cairn_ctx_fail(ctx, "out of memory");
    const char *id = NULL;
    int rc = cairn_ctx_request(ctx, "approve", question, strlen(question),
                               &id);
    free(question);
    char key[160];
    if (rc == CAIRN_OK) {
        snprintf(key, sizeof key, S_APPROVE_KEY "%s", id);
        rc = cairn_ctx_state_set(ctx, key, payload, len);
    }
    return rc;
}

/* "yes" in any case, spaces around it ignored. */
static bool
s_is_yes(const uint8_t *value, size_t len)
{
    while (len > 0 && isspace(value[0]))
        value++, len--;
    while (len > 0 && isspace(value[len - 1]))
        len--;
    return len == 3 && strncasecmp((const char *)value, "yes", 3) == 0;
}

/* Forwards the payload on "yes", else sends "rejected: PAYLOAD". */
static int
s_approve_answer(cairn_ctx_t *ctx, const cairn_request_t *request,
                 const uint8_t *value, size_t len)
{
    char key[160];
    snprintf(key, sizeof key, S_APPROVE_KEY "%s", request->id);
    size_t payload_len;
    const uint8_t *payload = cairn_ctx_state_get(ctx, key, &payload_len);
    if (!payload)
        return cairn_ctx_fail(ctx,
                              "hitl.approve: no payload waits for request "
                              "'%s'",
                              request->id);
    s_buf_t out = {0};
    bool yes = s_is_yes(value, len);
    if ((!yes && !s_buf_append(&out, "rejected: ", 10))
        || !s_buf_append(&out, payload, payload_len)) {
        s_buf_free(&out);
        return cairn_ctx_fail(ctx, "out of memory");
    }
    int rc = cairn_ctx_send(ctx, NULL, out.data, out.len);
    s_buf_free(&out);
    return rc == CAIRN_OK ? cairn_ctx_state_del(ctx, key) : rc;
}

/* ------------------------------------------------------------------ */
/* Registration                                                        */

int
cairn_builtins_register(cairn_registry_t *registry,
                        const cairn_builtins_options_t *opts)
{
    if (!registry)
        return CAIRN_EINVAL;
    bool allow_exec = opts && opts->allow_exec;
    const cairn_executor_type_t types[] = {
        {"text.upper", s_upper, s_upper_init, NULL, NULL},
        {"text.lower", s_lower, s_lower_init, NULL, NULL},
        {"text.reverse", s_reverse, s_reverse_init, NULL, NULL},
        {"text.append", s_append, s_append_init, s_string_fini, NULL},
        {"text.output", s_output, s_output_init, NULL, NULL},
        {"text.join", s_join, s_join_init, s_string_fini, NULL},
        {"count.inc", s_count, s_count_init, free, NULL},
        {"util.sleep", s_sleep, s_sleep_init, free, NULL},
        {"util.fail", s_fail, s_fail_init, s_fail_fini, NULL},
        {"util.crash", s_crash, s_crash_init, s_crash_fini, NULL},
        {"util.exec", allow_exec ? s_exec : s_exec_refused, s_exec_init,
         s_exec_fini, NULL},
        {"hitl.approve", s_approve, s_approve_init, s_string_fini,
         s_approve_answer},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int rc = cairn_registry_add_executor(registry, &types[i]);
        if (rc != CAIRN_OK)
            return rc;
    }
    return cairn__predicate_composites_register(registry);
}
