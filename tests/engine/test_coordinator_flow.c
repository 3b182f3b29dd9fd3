/* test_coordinator_flow - how cairn_engine_run() moves messages and
 * state through supersteps: chains, cycles, fan-out and fan-in,
 * switches, shared and executor state, type filters, the superstep limit.
 *
 * Each case builds a small workflow from the test executor types of
 * coordinator_fixture.h, runs it on an engine with in-process host
 * threads and checks supersteps, outputs and state.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "tests/engine/coordinator_fixture.h"
#include "tests/test_util.h"

static void
test_coordinator_engine_host_count(void **state)
{
    cf_fixture_t *fx = *state;
    assert_int_equal(cairn_engine_host_count(fx->engine), 2);
    cairn_engine_t *e = cf_open_engine(0); /* 0 = number of cores */
    assert_true(cairn_engine_host_count(e) >= 1);
    cairn_engine_destroy(&e);
    assert_null(e);
    cairn_engine_destroy(&e);
}

static void
test_coordinator_chain_three_steps(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "upper", "t.text", "upper");
    cf_exec(fx, "reverse", "t.text", "reverse");
    cf_exec(fx, "lower", "t.text", "lower!");
    cf_edge(fx, "upper", "reverse", NULL, NULL);
    cf_edge(fx, "reverse", "lower", NULL, NULL);
    cf_start(fx, "upper");
    cairn_result_t *res = cf_run(fx, "Hello World", NULL);
    cf_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 3);
    const char *expected[] = {"dlrow olleh"};
    cf_assert_outputs(res, expected, 1);
    assert_int_equal(cf_calls_of("upper"), 1);
    assert_int_equal(cf_calls_of("reverse"), 1);
    assert_int_equal(cf_calls_of("lower"), 1);
    const cf_call_t *call = cf_call_of("reverse", 0);
    assert_non_null(call);
    assert_string_equal(call->payload, "HELLO WORLD");
    assert_string_equal(call->type, "text");
    assert_int_equal(call->superstep, 2);
    call = cf_call_of("upper", 0);
    assert_non_null(call);
    assert_string_equal(call->payload, "Hello World");
    assert_int_equal(call->superstep, 1);
    call = cf_call_of("lower", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 3);
    assert_non_null(cairn_result_run_id(res));
    assert_true(strlen(cairn_result_run_id(res)) > 0);
}

static void
test_coordinator_cycle_counts_to_ten(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "A", "t.inc", NULL);
    cf_exec(fx, "B", "t.fwd", NULL);
    cf_exec(fx, "out", "t.emit", NULL);
    cf_edge(fx, "A", "B", NULL, NULL);
    cf_edge(fx, "B", "A", "int_lt", "10");
    cf_edge(fx, "B", "out", "int_ge", "10");
    cf_start(fx, "A");
    cairn_result_t *res = cf_run(fx, "0", NULL);
    cf_assert_completed(res);
    /* A sends k in superstep 2k-1, B forwards it in 2k: B forwards 10 in
     * superstep 20, out yields it in 21. */
    assert_int_equal(cairn_result_supersteps(res), 21);
    const char *expected[] = {"10"};
    cf_assert_outputs(res, expected, 1);
    assert_int_equal(cf_calls_of("A"), 10);
    assert_int_equal(cf_calls_of("B"), 10);
    assert_int_equal(cf_calls_of("out"), 1);
}

static void
test_coordinator_fan_out_fan_in(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "s", "t.fwd", NULL);
    cf_exec(fx, "p", "t.wrap", "p");
    cf_exec(fx, "q", "t.wrap", "q");
    cf_exec(fx, "q2", "t.wrap", "q2");
    cf_exec(fx, "q3", "t.wrap", "q3");
    cf_exec(fx, "r", "t.wrap", "r");
    cf_exec(fx, "join", "t.join", NULL);
    const char *targets[] = {"p", "q", "r"};
    cf_fan_out(fx, "s", targets, 3);
    cf_edge(fx, "q", "q2", NULL, NULL);
    cf_edge(fx, "q2", "q3", NULL, NULL);
    /* source order deliberately not the id order */
    const char *sources[] = {"r", "p", "q3"};
    assert_int_equal(cairn_builder_add_fan_in(fx->builder, sources, 3, "join"),
                     CAIRN_OK);
    cf_start(fx, "s");
    cairn_result_t *res = cf_run(fx, "x", NULL);
    cf_assert_completed(res);
    /* s 1; p q r 2; q2 3; q3 4; join 5 */
    assert_int_equal(cairn_result_supersteps(res), 5);
    assert_int_equal(cf_calls_of("join"), 1);
    const cf_call_t *call = cf_call_of("join", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 5);
    assert_int_equal(call->part_count, 3);
    assert_int_equal(call->payload_len, 0);
    assert_string_equal(call->parts[0], "r(x)");
    assert_string_equal(call->parts[1], "p(x)");
    assert_string_equal(call->parts[2], "q3(q2(q(x)))");
    assert_string_equal(call->part_sources[0], "r");
    assert_string_equal(call->part_sources[1], "p");
    assert_string_equal(call->part_sources[2], "q3");
    const char *expected[] = {"r(x)|p(x)|q3(q2(q(x)))"};
    cf_assert_outputs(res, expected, 1);
    assert_int_equal(cf_count_events(&fx->events, CAIRN_EVENT_EXECUTOR_INVOKED,
                                    "join"),
                     1);
}

static void
test_coordinator_switch_first_match_and_default(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "sw", "t.fwd", NULL);
    cf_exec(fx, "first", "t.emit", "first");
    cf_exec(fx, "second", "t.emit", "second");
    cf_exec(fx, "dflt", "t.emit", "dflt");
    const cairn_switch_case_t cases[] = {
        {"first", "prefix", "a", 1, false},
        {"second", "contains", "b", 1, false},
        {"dflt", NULL, NULL, 0, true},
    };
    assert_int_equal(cairn_builder_add_switch(fx->builder, "sw", cases, 3),
                     CAIRN_OK);
    cf_start(fx, "sw");

    /* both cases match: the first wins */
    cairn_result_t *res = cf_run(fx, "abc", NULL);
    cf_assert_completed(res);
    const char *first[] = {"first:abc"};
    cf_assert_outputs(res, first, 1);
    assert_int_equal(cf_calls_of("second"), 0);
    assert_int_equal(cf_calls_of("dflt"), 0);
    assert_int_equal(cairn_result_supersteps(res), 2);

    /* only the second matches */
    res = cf_run(fx, "xbx", NULL);
    cf_assert_completed(res);
    const char *second[] = {"second:xbx"};
    cf_assert_outputs(res, second, 1);

    /* nothing matches: the default */
    res = cf_run(fx, "zzz", NULL);
    cf_assert_completed(res);
    const char *dflt[] = {"dflt:zzz"};
    cf_assert_outputs(res, dflt, 1);
    assert_int_equal(cf_calls_of("first"), 0);
    assert_int_equal(cf_calls_of("second"), 0);
}

static void
test_coordinator_shared_state_visibility(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "s", "t.fwd", NULL);
    cf_exec(fx, "w", "t.shared_w", NULL);
    cf_exec(fx, "r", "t.shared_r", NULL);
    const char *targets[] = {"w", "r"};
    cf_fan_out(fx, "s", targets, 2);
    cf_edge(fx, "r", "r", NULL, NULL);
    cf_start(fx, "s");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    cf_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 3);

    /* the writer sees its own writes at once */
    const cf_call_t *call = cf_call_of("w", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 2);
    assert_string_equal(call->note, "shared=v1 state=1");

    /* the reader, in the same superstep, does not ... */
    assert_int_equal(cf_calls_of("r"), 2);
    call = cf_call_of("r", 0);
    assert_non_null(call);
    assert_int_equal(call->superstep, 2);
    assert_string_equal(call->note, "(null)");
    /* ... but does in the next one */
    call = cf_call_of("r", 1);
    assert_non_null(call);
    assert_int_equal(call->superstep, 3);
    assert_string_equal(call->note, "v1");

    cf_assert_state(res, NULL, "k", "v1");
    cf_assert_state(res, "w", "own", "1");
    cf_assert_state(res, "r", "own", NULL);
    cf_assert_state(res, "w", "k", NULL); /* shared is not executor state */
}

static void
test_coordinator_shared_conflict_greater_id_wins(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "s", "t.fwd", NULL);
    /* bytewise "Zed" < "abe" (case-insensitively it would be the other way
     * round); "Zed" also finishes last, so neither arrival order nor a
     * case-insensitive order gives the expected winner. */
    cf_exec(fx, "Zed", "t.conflict", NULL);
    cf_exec(fx, "abe", "t.conflict", NULL);
    const char *targets[] = {"abe", "Zed"};
    cf_fan_out(fx, "s", targets, 2);
    cf_start(fx, "s");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    cf_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 2);
    cf_assert_state(res, NULL, "conflict_key", "abe");
    cf_assert_state(res, NULL, "only_Zed", "x");
    cf_assert_state(res, NULL, "only_abe", "x");

    assert_int_equal(cf_count_events(&fx->events, CAIRN_EVENT_STATE_CONFLICT,
                                    NULL),
                     1);
    const cf_event_t *ev = cf_find_event(&fx->events,
                                       CAIRN_EVENT_STATE_CONFLICT);
    assert_non_null(ev);
    assert_non_null(ev->detail);
    if (!strstr(ev->detail, "conflict_key"))
        fail_msg("conflict detail '%s' does not name the key", ev->detail);
    assert_int_equal(ev->superstep, 2);
}

static void
test_coordinator_executor_state_persists(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "counter", "t.counter", NULL);
    cf_edge(fx, "counter", "counter", "int_lt", "3");
    cf_start(fx, "counter");
    cairn_result_t *res = cf_run(fx, "tick", NULL);
    cf_assert_completed(res);
    assert_int_equal(cairn_result_supersteps(res), 3);
    assert_int_equal(cf_calls_of("counter"), 3);
    /* what each invocation found in its state */
    const char *seen[] = {"(null)", "1", "2"};
    for (size_t i = 0; i < 3; i++) {
        const cf_call_t *call = cf_call_of("counter", i);
        assert_non_null(call);
        assert_int_equal(call->superstep, i + 1);
        assert_string_equal(call->note, seen[i]);
    }
    cf_assert_state(res, "counter", "n", "3");
    cf_assert_state(res, NULL, "n", NULL);
    cf_assert_state(res, "nobody", "n", NULL);
}

static void
test_coordinator_foreach_state_order(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "s", "t.first", NULL);
    cf_exec(fx, "good", "t.good", NULL);
    cf_exec(fx, "counter", "t.counter", NULL);
    cf_edge(fx, "s", "good", NULL, NULL);
    cf_edge(fx, "s", "counter", NULL, NULL);
    cf_start(fx, "s");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    cf_assert_completed(res);
    cf_str_t seen = {0};
    cairn_result_foreach_state(res, cf_visit, &seen);
    /* executors in id order, then the shared state; keys bytewise */
    assert_non_null(seen.data);
    assert_string_equal(seen.data, "counter.n=1\n"
                                   "good.g=x\n"
                                   "s.st=1\n"
                                   "*.good_only=y\n"
                                   "*.sh=2\n");
    cf_str_free(&seen);
}

static void
test_coordinator_type_filter_drops(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "src", "t.typed_src", NULL);
    cf_exec(fx, "x", "t.emit", NULL);
    cf_edge(fx, "src", "x", NULL, NULL);
    assert_int_equal(cairn_builder_accept(fx->builder, "x", "number"),
                     CAIRN_OK);
    cf_start(fx, "src");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    cf_assert_completed(res);
    assert_int_equal(cf_calls_of("x"), 1);
    const cf_call_t *call = cf_call_of("x", 0);
    assert_non_null(call);
    assert_string_equal(call->type, "number");
    assert_string_equal(call->payload, "42");
    const char *expected[] = {"42"};
    cf_assert_outputs(res, expected, 1);
    assert_int_equal(cf_count_events(&fx->events, CAIRN_EVENT_MESSAGE_DROPPED,
                                    NULL),
                     1);
}

static void
test_coordinator_max_supersteps_from_workflow(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "ping", "t.fwd", NULL);
    cf_exec(fx, "pong", "t.fwd", NULL);
    cf_edge(fx, "ping", "pong", NULL, NULL);
    cf_edge(fx, "pong", "ping", NULL, NULL);
    cf_start(fx, "ping");
    cairn_builder_set_max_supersteps(fx->builder, 5);
    cairn_result_t *res = cf_run(fx, "ball", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_non_null(cairn_result_error(res));
    assert_int_equal(cairn_result_error(res)->code, CAIRN_EMAXSTEPS);
    assert_int_equal(cairn_result_supersteps(res), 5);
    assert_int_equal(cf_calls_of("ping") + cf_calls_of("pong"), 5);
    const cf_event_t *ended = cf_find_event(&fx->events,
                                          CAIRN_EVENT_RUN_ENDED);
    assert_non_null(ended);
    assert_int_equal(ended->status, CAIRN_STATUS_FAILED);
}

static void
test_coordinator_max_supersteps_from_run_options(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "ping", "t.fwd", NULL);
    cf_exec(fx, "pong", "t.fwd", NULL);
    cf_edge(fx, "ping", "pong", NULL, NULL);
    cf_edge(fx, "pong", "ping", NULL, NULL);
    cf_start(fx, "ping");
    cairn_run_options_t opts = {.max_supersteps = 7};
    cairn_result_t *res = cf_run(fx, "ball", &opts);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_int_equal(cairn_result_error(res)->code, CAIRN_EMAXSTEPS);
    assert_int_equal(cairn_result_supersteps(res), 7);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        CF_TEST(test_coordinator_engine_host_count),
        CF_TEST(test_coordinator_chain_three_steps),
        CF_TEST(test_coordinator_cycle_counts_to_ten),
        CF_TEST(test_coordinator_fan_out_fan_in),
        CF_TEST(test_coordinator_switch_first_match_and_default),
        CF_TEST(test_coordinator_shared_state_visibility),
        CF_TEST(test_coordinator_shared_conflict_greater_id_wins),
        CF_TEST(test_coordinator_executor_state_persists),
        CF_TEST(test_coordinator_foreach_state_order),
        CF_TEST(test_coordinator_type_filter_drops),
        CF_TEST(test_coordinator_max_supersteps_from_workflow),
        CF_TEST(test_coordinator_max_supersteps_from_run_options),
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
