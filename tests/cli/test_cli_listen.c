/* test_cli_listen - the real `cairn` command: where `cairn run --listen` may
 * listen without CURVE and which worker ids a worker may take.
 *
 * Plain TCP is allowed without --insecure only when the host resolves to
 * loopback addresses alone; how the host is spelled does not count.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/cli/cli_harness.h"
#include "tests/test_util.h"

/* Hosts that look like loopback by their prefix, a wildcard, an
 * interface name: refused before anything is bound (exit 2); hosts that
 * resolve to loopback (127.0.0.1, 127.1): the run goes on. */
static void
test_cli_listen_loopback_is_resolved(void **state)
{
    (void)state;
    const char *refused[] = {"tcp://127.example.com:30490",
                             "tcp://localhost.evil.org:1",
                             "tcp://0.0.0.0:30490",
                             "tcp://*:30490",
                             "tcp://[::]:30490",
                             "tcp://eth0:30490",
                             "tcp://lo:30490"};
    tc_result_t r = {0};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        tc_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "none",
                "--listen", refused[i], NULL);
        tc_expect(&r, 2, "", "is not loopback only");
    }
    /* A port per form */
    char accepted[2][64];
    snprintf(accepted[0], sizeof accepted[0], "tcp://127.0.0.1:%d",
             test_port());
    snprintf(accepted[1], sizeof accepted[1], "tcp://127.1:%d", test_port());
    for (size_t i = 0; i < 2; i++) {
        tc_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "none",
                "--listen", accepted[i], NULL);
        tc_expect(&r, 0, NULL, NULL);
    }
}

/* A worker id a coordinator would refuse is refused before connecting. */
static void
test_cli_worker_id_must_be_an_id(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "worker", "--connect", "tcp://127.0.0.1:1", "--id",
            "a b\x1b[2J", NULL);
    tc_expect(&r, 2, "", "must match [A-Za-z0-9_-]{1,64}");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_listen_loopback_is_resolved),
        TC_TEST(test_cli_worker_id_must_be_an_id),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
