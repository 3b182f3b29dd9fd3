/* greet_plugin.c - a small cairn plugin: one executor type, one predicate.
 *
 *   greet.hello        sends "hello, " + the payload
 *   greet.polite       predicate: the payload contains "please"
 *
 * Build it as a shared object and load it with `cairn run --plugin
 * libcairn_greet.so`. Compiled with -DGREET_WRONG_ABI it claims another
 * plugin ABI, which cairn must refuse (tests/cli uses that).
 */
#include <stdio.h>
#include <string.h>

#include <cairn/cairn.h>

/* Whether word occurs in the len bytes at data (plain C: memmem is a
 * GNU extension). */
static bool
s_contains(const uint8_t *data, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(data + i, word, n) == 0)
            return true;
    return false;
}

static int
s_hello(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[256];
    int n = snprintf(text, sizeof text, "hello, %.*s",
                     (int)(len > 200 ? 200 : len), (const char *)payload);
    return cairn_ctx_send(ctx, cairn_msg_type(msg), text, (size_t)n);
}

static bool
s_polite(const cairn_registry_t *registry, const cairn_msg_t *msg,
         const uint8_t *arg, size_t arg_len)
{
    (void)registry, (void)arg, (void)arg_len;
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return s_contains(payload, len, "please");
}

static int
s_register(cairn_registry_t *registry)
{
    cairn_executor_type_t hello = {.name = "greet.hello", .handle = s_hello};
    int rc = cairn_registry_add_executor(registry, &hello);
    if (rc == 0)
        rc = cairn_registry_add_predicate(registry, "greet.polite", s_polite,
                                          NULL);
    return rc;
}

#ifndef GREET_WRONG_ABI
CAIRN_PLUGIN_DEFINE(s_register)
#else
CAIRN_EXPORT const uint32_t cairn_plugin_abi = CAIRN_PLUGIN_ABI + 98;
CAIRN_EXPORT int
cairn_plugin_register(cairn_registry_t *registry)
{
    return s_register(registry);
}
#endif
