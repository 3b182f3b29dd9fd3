/* hostile_plugin.c - executor types that misbehave the way real handlers
 * can, for the tests of lost workers and stuck handlers (tests/cli).
 *
 *   test.segv   dies of SIGSEGV on every message (the default action, so
 *               no sanitizer report stands in for the crash)
 *   test.hang   never returns
 *
 * Loaded with --plugin by the coordinator and by the workers it spawns.
 */
#include <signal.h>
#include <unistd.h>

#include <cairn/cairn.h>

static int
s_segv(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)ctx, (void)msg;
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
    return -1; /* not reached */
}

static int
s_hang(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    (void)ctx, (void)msg;
    for (;;)
        sleep(60);
    return 0;
}

static int
s_register(cairn_registry_t *registry)
{
    cairn_executor_type_t segv = {.name = "test.segv", .handle = s_segv};
    cairn_executor_type_t hang = {.name = "test.hang", .handle = s_hang};
    int rc = cairn_registry_add_executor(registry, &segv);
    return rc == 0 ? cairn_registry_add_executor(registry, &hang) : rc;
}

CAIRN_PLUGIN_DEFINE(s_register)
