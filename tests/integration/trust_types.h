/* trust_types.h - the executor type test_trust's workflow needs, shared by
 * the test (its coordinator) and child_fake_worker (the worker that hosts
 * it), so both run the same handler. */
#ifndef CAIRN_TRUST_TYPES_H_INCLUDED
#define CAIRN_TRUST_TYPES_H_INCLUDED

#include <stdio.h>

#include <cairn/cairn.h>

/* test.draft: sends "draft:" + its input (at most 64 bytes of it). */
static int
trust_draft(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[128];
    int n = snprintf(text, sizeof text, "draft:%.*s",
                     (int)(len > 64 ? 64 : len), (const char *)payload);
    return cairn_ctx_send(ctx, NULL, text, (size_t)n);
}

#endif
