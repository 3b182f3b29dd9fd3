/* test_endpoint.c - cairn_endpoint_is_loopback: what a host resolves to,
 * not how it is spelled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include <cairn/cairn.h>

static void
test_endpoint_loopback_forms(void **state)
{
    (void)state;
    const char *loopback[] = {"tcp://127.0.0.1:5555", "tcp://127.1:5555",
                              "tcp://127.255.0.9:1",  "tcp://[::1]:5555",
                              "tcp://localhost:5555", "tcp://2130706433:1",
                              "tcp://127.0.0.1:*"};
    for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
        if (!cairn_endpoint_is_loopback(loopback[i]))
            fail_msg("%s is loopback", loopback[i]);
}

static void
test_endpoint_not_loopback_forms(void **state)
{
    (void)state;
    const char *other[] = {"tcp://127.example.com:5555",
                           "tcp://localhost.evil.org:1",
                           "tcp://0.0.0.0:5555",
                           "tcp://*:5555",
                           "tcp://[::]:5555",
                           "tcp://[::ffff:10.0.0.1]:5555",
                           "tcp://10.0.0.1:5555",
                           "tcp://128.0.0.1:5555",
                           "tcp://lo:5555",
                           "tcp://127.0.0.1",
                           "tcp://:5555",
                           "tcp://[]:5555",
                           "ipc:///tmp/x",
                           "inproc://x",
                           "127.0.0.1:5555",
                           "",
                           NULL};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (cairn_endpoint_is_loopback(other[i]))
            fail_msg("%s is not loopback", other[i] ? other[i] : "NULL");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_loopback_forms),
        cmocka_unit_test(test_endpoint_not_loopback_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
