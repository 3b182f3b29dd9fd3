/* test_affinity - CAIRN_CPU_SHARED keeps the engine's threads on one CPU.
 *
 * A 2-executor cycle records, from inside its handler, the CPU set of the
 * host thread it runs on. With CAIRN_CPU_SHARED every handler must run on
 * a thread pinned to exactly the CPU the engine was opened on, and the
 * thread that called cairn_engine_run must get its own CPU set back; with
 * the default placement nothing is pinned.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/cairn.h"

#define S_STEPS 20

static atomic_int s_calls;
static atomic_int s_pinned_calls;    /* handler thread allowed one CPU */
static atomic_int s_pinned_cpu = -1; /* that CPU (the last seen) */
static atomic_int s_cpu_changes;     /* pinned calls on another CPU */

static int
s_cpu_count(const cpu_set_t *set)
{
    return CPU_COUNT(set);
}

/* Records the handler thread's CPU set, then counts on. */
static int
s_record_and_count(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    cpu_set_t set;
    if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) == 0
        && s_cpu_count(&set) == 1) {
        atomic_fetch_add(&s_pinned_calls, 1);
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &set)) {
                int seen = atomic_exchange(&s_pinned_cpu, cpu);
                if (seen >= 0 && seen != cpu)
                    atomic_fetch_add(&s_cpu_changes, 1);
            }
    }
    atomic_fetch_add(&s_calls, 1);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    char text[32];
    snprintf(text, sizeof text, "%.*s", (int)(len < 31 ? len : 31),
             (const char *)payload);
    snprintf(text, sizeof text, "%lld", atoll(text) + 1);
    return cairn_ctx_send(ctx, NULL, text, strlen(text));
}

/* Runs the cycle on an engine opened with placement. */
static void
s_run_cycle(cairn_cpu_placement_t placement)
{
    atomic_store(&s_calls, 0);
    atomic_store(&s_pinned_calls, 0);
    atomic_store(&s_pinned_cpu, -1);
    atomic_store(&s_cpu_changes, 0);
    cairn_registry_t *registry = cairn_registry_new();
    assert_non_null(registry);
    cairn_executor_type_t type = {.name = "record",
                                  .handle = s_record_and_count};
    assert_int_equal(cairn_registry_add_executor(registry, &type), CAIRN_OK);
    cairn_builder_t *b = cairn_builder_new(registry);
    assert_non_null(b);
    char limit[16];
    snprintf(limit, sizeof limit, "%d", S_STEPS);
    assert_int_equal(cairn_builder_add_executor(b, "a", "record", NULL, 0), 0);
    assert_int_equal(cairn_builder_add_executor(b, "b", "record", NULL, 0), 0);
    assert_int_equal(cairn_builder_add_edge(b, "a", "b", NULL, NULL, 0), 0);
    assert_int_equal(
        cairn_builder_add_edge(b, "b", "a", "int_lt", limit, strlen(limit)), 0);
    assert_int_equal(cairn_builder_set_start(b, "a"), 0);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    assert_int_equal(cairn_builder_build(b, &wf, &err), CAIRN_OK);
    cairn_builder_destroy(&b);

    cpu_set_t before, after;
    assert_int_equal(
        pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
    cairn_engine_options_t opts = {.host_threads = 2,
                                   .cpu_placement = placement};
    cairn_engine_t *engine = NULL;
    assert_int_equal(cairn_engine_open(&engine, registry, &opts, &err),
                     CAIRN_OK);
    cairn_result_t *result = NULL;
    assert_int_equal(cairn_engine_run(engine, wf, "0", 1, NULL, &result, &err),
                     CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_supersteps(result), S_STEPS);
    assert_int_equal(atomic_load(&s_calls), S_STEPS);
    /* The caller's thread is the caller's again. */
    assert_int_equal(
        pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
    assert_true(CPU_EQUAL(&before, &after));
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
}

static void
test_affinity_shared_pins_every_host_to_the_opening_cpu(void **state)
{
    (void)state;
    cpu_set_t mine;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof mine, &mine),
                     0);
    s_run_cycle(CAIRN_CPU_SHARED);
    assert_int_equal(atomic_load(&s_pinned_calls), S_STEPS);
    /* One CPU for every handler, and one this thread may use. */
    assert_int_equal(atomic_load(&s_cpu_changes), 0);
    int cpu = atomic_load(&s_pinned_cpu);
    assert_true(cpu >= 0);
    assert_true(CPU_ISSET(cpu, &mine));
}

static void
test_affinity_default_placement_pins_nothing(void **state)
{
    (void)state;
    cpu_set_t mine;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof mine, &mine),
                     0);
    if (s_cpu_count(&mine) < 2) /* one CPU: pinned or not looks the same */
        skip();
    s_run_cycle(CAIRN_CPU_ANY);
    assert_int_equal(atomic_load(&s_pinned_calls), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affinity_shared_pins_every_host_to_the_opening_cpu),
        cmocka_unit_test(test_affinity_default_placement_pins_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
