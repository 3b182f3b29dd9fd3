/* builtin_hitl.c - hitl.approve: a person approves each payload
 * (include/cairn/builtins.h).
 *
 * The payload waits in the executor's state while the request is open;
 * the answer arrives in a later superstep (cairn_ctx_request), so the
 * handler keeps nothing between calls.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "cairn/context.h"
#include "executors/builtins_internal.h"
#include "base/util.h"

/* ------------------------------------------------------------------ */
/* hitl.approve                                                        */

#define S_APPROVE_KEY "request:" /* state key prefix: what awaits approval */

static int
s_approve_init(void **instance, const uint8_t *config, size_t len,
               cairn_error_t *err)
{
    return cairn__string_field_init("hitl.approve", "prompt", "Approve?",
                                    instance, config, len, err);
}

/* The request payload a person reads: {"prompt": ..., "payload": ...},
 * the payload as a string when it is UTF-8, else {"base64": ...}. */
static char *
s_approve_question(const char *prompt, const uint8_t *payload, size_t len)
{
    json_t *shown = json_stringn((const char *)payload, len);
    if (!shown) {
        size_t size =
            sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
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
    const cairn__string_field_t *self = cairn_ctx_instance(ctx);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char *question = s_approve_question(self->text, payload, len);
    if (!question)
        return cairn_ctx_fail(ctx, "out of memory");
    const char *id = NULL;
    int rc = cairn_ctx_request(ctx, "approve", question, strlen(question), &id);
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
    cairn__buf_t out = {0};
    bool yes = s_is_yes(value, len);
    if ((!yes && !cairn__buf_append(&out, "rejected: ", 10))
        || !cairn__buf_append(&out, payload, payload_len)) {
        cairn__buf_free(&out);
        return cairn_ctx_fail(ctx, "out of memory");
    }
    int rc = cairn_ctx_send(ctx, NULL, out.data, out.len);
    cairn__buf_free(&out);
    return rc == CAIRN_OK ? cairn_ctx_state_del(ctx, key) : rc;
}

const cairn_executor_type_t cairn__builtin_approve = {
    "hitl.approve", s_approve, s_approve_init, cairn__string_field_fini,
    s_approve_answer};
