/* builtin_text.c - the text.* executor types: upper, lower, reverse,
 * output, append, join (include/cairn/builtins.h).
 *
 * Transforms are bytewise ASCII and locale-independent, so a resumed run
 * in another process produces the same bytes. Instances are read-only
 * once made; handlers keep nothing between calls.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/context.h"
#include "executors/builtins_internal.h"
#include "base/util.h"

/* init for the types that take no config: checks there is none. */
static int
s_no_config(const char *type, void **instance, const uint8_t *config,
            size_t len, cairn_error_t *err)
{
    *instance = NULL;
    cairn__config_t cfg;
    int rc = cairn__config_open(&cfg, type, config, len, err);
    cairn__config_close(&cfg);
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
    int rc = cairn__send_on(ctx, msg, out, len);
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

static int
s_append_init(void **instance, const uint8_t *config, size_t len,
              cairn_error_t *err)
{
    return cairn__string_field_init("text.append", "suffix", NULL, instance,
                                    config, len, err);
}

static int
s_join_init(void **instance, const uint8_t *config, size_t len,
            cairn_error_t *err)
{
    return cairn__string_field_init("text.join", "sep", " ", instance, config,
                                    len, err);
}

static int
s_append(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const cairn__string_field_t *self = cairn_ctx_instance(ctx);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    cairn__buf_t out = {0};
    if (!cairn__buf_append(&out, payload, len)
        || !cairn__buf_append(&out, self->text, self->len)) {
        cairn__buf_free(&out);
        return cairn_ctx_fail(ctx, "out of memory");
    }
    int rc = cairn__send_on(ctx, msg, out.data, out.len);
    cairn__buf_free(&out);
    return rc;
}

/* Joins the parts of a fan-in message with the separator; a message
 * without parts is passed on as it is. */
static int
s_join(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    const cairn__string_field_t *self = cairn_ctx_instance(ctx);
    size_t parts = cairn_msg_part_count(msg);
    if (parts == 0)
        return cairn__forward(ctx, msg);
    cairn__buf_t out = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < parts; i++) {
        size_t len;
        const uint8_t *part = cairn_msg_payload(cairn_msg_part(msg, i), &len);
        ok = (i == 0 || cairn__buf_append(&out, self->text, self->len))
             && cairn__buf_append(&out, part, len);
    }
    int rc = ok ? cairn__send_on(ctx, msg, out.data, out.len)
                : cairn_ctx_fail(ctx, "out of memory");
    cairn__buf_free(&out);
    return rc;
}

const cairn_executor_type_t cairn__builtins_text[] = {
    {"text.upper", s_upper, s_upper_init, NULL, NULL},
    {"text.lower", s_lower, s_lower_init, NULL, NULL},
    {"text.reverse", s_reverse, s_reverse_init, NULL, NULL},
    {"text.append", s_append, s_append_init, cairn__string_field_fini, NULL},
    {"text.output", s_output, s_output_init, NULL, NULL},
    {"text.join", s_join, s_join_init, cairn__string_field_fini, NULL},
};
const size_t cairn__builtins_text_count =
    sizeof cairn__builtins_text / sizeof cairn__builtins_text[0];
