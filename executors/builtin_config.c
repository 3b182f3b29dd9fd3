/* builtin_config.c - reading built-in executor configs, and the other
 * helpers the families share (builtins_internal.h).
 *
 * A config is JSON object text (NULL, empty or null means {}); unknown
 * members are errors, string values have ${VAR} replaced from the
 * environment (cairn_expand_env), and every error names the type, the
 * field and what was expected.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/spec.h"
#include "executors/builtins_internal.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* Thread-safe description of an errno value. */
const char *
cairn__errno_text(int errnum, char *buf, size_t size)
{
    return strerror_r(errnum, buf, size); /* the GNU variant */
}

/* Sends data on along every edge with the incoming message's type tag. */
int
cairn__send_on(cairn_ctx_t *ctx, const cairn_msg_t *msg, const void *data,
               size_t len)
{
    return cairn_ctx_send(ctx, cairn_msg_type(msg), data, len);
}

int
cairn__forward(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn__send_on(ctx, msg, payload, len);
}

/* ------------------------------------------------------------------ */
/* Reading configs                                                     */

/* Every built-in type's config keys: what init accepts and what
 * `cairn types` lists, from this one table. */
static const struct {
    const char *type;
    const char *const keys[4]; /* NULL-terminated */
} s_config_keys[] = {
    {"count.inc", {"by", NULL}},
    {"hitl.approve", {"prompt", NULL}},
    {"text.append", {"suffix", NULL}},
    {"text.join", {"sep", NULL}},
    {"text.lower", {NULL}},
    {"text.output", {NULL}},
    {"text.reverse", {NULL}},
    {"text.upper", {NULL}},
    {"util.crash", {"at_superstep", "marker", NULL}},
    {"util.exec", {"argv", "timeout_ms", "max_output_bytes", NULL}},
    {"util.fail", {"when", "first_attempts", NULL}},
    {"util.sleep", {"ms", NULL}},
};

static const size_t s_config_keys_count =
    sizeof s_config_keys / sizeof s_config_keys[0];

const char *const *
cairn__builtin_config_keys(const char *type)
{
    for (size_t i = 0; i < s_config_keys_count; i++)
        if (strcmp(s_config_keys[i].type, type) == 0)
            return s_config_keys[i].keys;
    assert(!"a built-in type missing from s_config_keys");
    return NULL;
}

int
cairn__builtin_config_keys_declare(cairn_registry_t *registry)
{
    for (size_t i = 0; i < s_config_keys_count; i++) {
        int rc = cairn_registry_set_config_keys(
            registry, s_config_keys[i].type, s_config_keys[i].keys);
        if (rc != CAIRN_OK && rc != CAIRN_ENOTFOUND)
            return rc;
    }
    return CAIRN_OK;
}

int
cairn__config_open(cairn__config_t *self, const char *type,
                   const uint8_t *config, size_t len, cairn_error_t *err)
{
    const char *const *fields = cairn__builtin_config_keys(type);
    if (fields && !fields[0])
        fields = NULL; /* takes no config */
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

void
cairn__config_close(cairn__config_t *self)
{
    json_decref(self->root);
    self->root = NULL;
}

/* Expands ${VAR} in a string value of field `what`; *out is malloc'd. */
int
cairn__config_expand(const cairn__config_t *self, const char *what,
                     const char *text, char **out, cairn_error_t *err)
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
int
cairn__config_string(const cairn__config_t *self, const char *name,
                     const char *fallback, char **out, cairn_error_t *err)
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
    return cairn__config_expand(self, name, json_string_value(value), out, err);
}

/* Reads integer field name (min..max) into *out; absent gives fallback,
 * or the field is required when required is set. */
int
cairn__config_int(const cairn__config_t *self, const char *name, bool required,
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

/* ------------------------------------------------------------------ */
/* One string from the config: text.append, text.join, hitl.approve    */

void
cairn__string_field_fini(void *instance)
{
    cairn__string_field_t *self = instance;
    if (self)
        free(self->text);
    free(self);
}

/* Reads the one string field of text.append / text.join. */
int
cairn__string_field_init(const char *type, const char *field,
                         const char *fallback, void **instance,
                         const uint8_t *config, size_t len, cairn_error_t *err)
{
    *instance = NULL;
    cairn__string_field_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__config_t cfg;
    int rc = cairn__config_open(&cfg, type, config, len, err);
    if (rc == CAIRN_OK)
        rc = cairn__config_string(&cfg, field, fallback, &self->text, err);
    cairn__config_close(&cfg);
    if (rc != CAIRN_OK) {
        cairn__string_field_fini(self);
        return rc;
    }
    self->len = strlen(self->text);
    *instance = self;
    return CAIRN_OK;
}
