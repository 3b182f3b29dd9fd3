/* test_coordinator_failures - what cairn_engine_run() does when a
 * superstep goes wrong, and what it reports: handler failures apply
 * nothing, events in order, oversized messages and too many entries,
 * unknown targets, context values, determinism across host counts, each
 * failure's own reason, fan-in leftovers.
 *
 * Each case builds a small workflow from the test executor types of
 * coordinator_fixture.h, runs it on an engine with in-process host
 * threads and checks supersteps, outputs, errors and events.
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
test_coordinator_handler_failure_applies_nothing(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "s", "t.first", NULL);
    cf_exec(fx, "bad_exec", "t.fail", NULL);
    cf_exec(fx, "good", "t.good", NULL);
    cf_exec(fx, "after", "t.emit", NULL);
    const char *targets[] = {"bad_exec", "good"};
    cf_fan_out(fx, "s", targets, 2);
    cf_edge(fx, "good", "after", NULL, NULL);
    cf_start(fx, "s");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    const cairn_error_t *err = cairn_result_error(res);
    assert_non_null(err);
    assert_int_equal(err->code, CAIRN_EHANDLER);
    if (!strstr(err->message, "bad_exec") || !strstr(err->message, "boom"))
        fail_msg("error '%s' should name bad_exec and boom", err->message);
    assert_int_equal(cairn_result_supersteps(res), 2);
    assert_int_equal(cf_calls_of("good"), 1); /* it did run */
    assert_int_equal(cf_calls_of("after"), 0);

    /* only superstep 1's effects */
    const char *expected[] = {"s-out"};
    cf_assert_outputs(res, expected, 1);
    cf_assert_state(res, "s", "st", "1");
    cf_assert_state(res, NULL, "sh", "1");
    cf_assert_state(res, NULL, "good_only", NULL);
    cf_assert_state(res, "good", "g", NULL);
    cf_assert_state(res, "bad_exec", "bad_state", NULL);

    assert_true(cf_count_events(&fx->events, CAIRN_EVENT_EXECUTOR_FAILED,
                               "bad_exec")
                >= 1);
    assert_int_equal(cf_count_events(&fx->events, CAIRN_EVENT_EXECUTOR_FAILED,
                                    "good"),
                     0);
    assert_int_equal(cf_count_events(&fx->events, CAIRN_EVENT_OUTPUT, NULL),
                     1);
    const cf_event_t *ended = cf_find_event(&fx->events,
                                          CAIRN_EVENT_RUN_ENDED);
    assert_non_null(ended);
    assert_int_equal(ended->status, CAIRN_STATUS_FAILED);
}

/* Expected event: kind, superstep, executor (NULL = none). */
typedef struct {
    cairn_event_kind_t kind;
    uint64_t superstep;
    const char *executor;
} s_expected_event_t;

static void
test_coordinator_event_sequence(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "a", "t.fwd", NULL);
    cf_exec(fx, "b", "t.emit", NULL);
    cf_edge(fx, "a", "b", NULL, NULL);
    cf_start(fx, "a");
    cairn_run_options_t opts = {.run_id = "events-run"};
    cairn_result_t *res = cf_run(fx, "x", &opts);
    cf_assert_completed(res);

    /* Within a superstep: invoked events (executor-id order) at dispatch;
     * at the barrier completed/failed (id order), then outputs (id
     * order), then superstep_completed. */
    static const s_expected_event_t expected[] = {
        {CAIRN_EVENT_RUN_STARTED, 0, NULL},
        {CAIRN_EVENT_SUPERSTEP_STARTED, 1, NULL},
        {CAIRN_EVENT_EXECUTOR_INVOKED, 1, "a"},
        {CAIRN_EVENT_EXECUTOR_COMPLETED, 1, "a"},
        {CAIRN_EVENT_SUPERSTEP_COMPLETED, 1, NULL},
        {CAIRN_EVENT_SUPERSTEP_STARTED, 2, NULL},
        {CAIRN_EVENT_EXECUTOR_INVOKED, 2, "b"},
        {CAIRN_EVENT_EXECUTOR_COMPLETED, 2, "b"},
        {CAIRN_EVENT_OUTPUT, 2, "b"},
        {CAIRN_EVENT_SUPERSTEP_COMPLETED, 2, NULL},
        {CAIRN_EVENT_RUN_ENDED, 2, NULL},
    };
    size_t n = sizeof expected / sizeof expected[0];
    bool same = fx->events.count == n;
    for (size_t i = 0; same && i < n; i++) {
        const cf_event_t *e = &fx->events.items[i];
        same = e->kind == expected[i].kind
               && e->superstep == expected[i].superstep
               && (expected[i].executor
                       ? e->executor
                             && !strcmp(e->executor, expected[i].executor)
                       : !e->executor);
    }
    if (!same) {
        for (size_t i = 0; i < fx->events.count; i++) {
            const cf_event_t *e = &fx->events.items[i];
            print_message("got  %2zu: %-20s ss=%" PRIu64 " exec=%s\n", i,
                          cairn_event_kind_name(e->kind), e->superstep,
                          e->executor ? e->executor : "-");
        }
        for (size_t i = 0; i < n; i++)
            print_message("want %2zu: %-20s ss=%" PRIu64 " exec=%s\n", i,
                          cairn_event_kind_name(expected[i].kind),
                          expected[i].superstep,
                          expected[i].executor ? expected[i].executor : "-");
        fail_msg("event sequence differs");
    }
    for (size_t i = 0; i < n; i++) {
        assert_non_null(fx->events.items[i].run_id);
        assert_string_equal(fx->events.items[i].run_id, "events-run");
    }
    /* payload of the output event, counts, final status */
    const cf_event_t *out = &fx->events.items[8];
    assert_int_equal(out->data_len, 1);
    assert_non_null(out->data);
    assert_memory_equal(out->data, "x", 1);
    assert_int_equal(fx->events.items[2].count, 1);  /* a got 1 message */
    assert_int_equal(fx->events.items[4].count, 1);  /* 1 executor ran */
    assert_int_equal(fx->events.items[10].status, CAIRN_STATUS_COMPLETED);
    assert_string_equal(cairn_result_run_id(res), "events-run");
    assert_string_equal(cairn_event_kind_name(CAIRN_EVENT_RUN_STARTED),
                        "run_started");
    assert_string_equal(cairn_event_kind_name(CAIRN_EVENT_EXECUTOR_FAILED),
                        "executor_failed");
    assert_string_equal(cairn_status_name(CAIRN_STATUS_COMPLETED),
                        "completed");
}

static void
test_coordinator_message_too_large(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "big", "t.big", NULL);
    cf_exec(fx, "sink", "t.emit", NULL);
    cf_edge(fx, "big", "sink", NULL, NULL);
    cf_start(fx, "big");
    cairn_run_options_t opts = {.max_message_size = 100};
    cairn_result_t *res = cf_run(fx, "go", &opts);
    cf_assert_completed(res);
    const cf_call_t *call = cf_call_of("big", 0);
    assert_non_null(call);
    char expected_note[64];
    snprintf(expected_note, sizeof expected_note, "rc101=%d rc100=%d",
             CAIRN_ETOOLARGE, CAIRN_OK);
    assert_string_equal(call->note, expected_note);
    /* only the 100-byte message arrived, whole */
    assert_int_equal(cf_calls_of("sink"), 1);
    assert_int_equal(cairn_result_output_count(res), 1);
    size_t len = 0;
    assert_non_null(cairn_result_output(res, 0, &len));
    assert_int_equal(len, 100);
}

/* More messages, outputs, writes and requests than one Done may hold:
 * the executor fails with a clear error, nothing is delivered. */
static void
test_coordinator_too_many_entries(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "flood", "t.flood", NULL);
    cf_exec(fx, "sink", "t.emit", NULL);
    cf_edge(fx, "flood", "sink", NULL, NULL);
    cf_start(fx, "flood");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_non_null(strstr(cairn_result_error(res)->message,
                           "executor 'flood' made 65537 messages, outputs, "
                           "state writes, requests and checkpoint tags in "
                           "one superstep, more than the 65536"));
    assert_int_equal(cf_calls_of("sink"), 0);
}

static void
test_coordinator_send_to_one_target(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "picker", "t.pick", "t2");
    cf_exec(fx, "t1", "t.emit", "t1");
    cf_exec(fx, "t2", "t.emit", "t2");
    cf_edge(fx, "picker", "t1", NULL, NULL);
    /* send_to does not evaluate edge conditions: the handler chose */
    cf_edge(fx, "picker", "t2", "never", NULL);
    cf_start(fx, "picker");
    cairn_result_t *res = cf_run(fx, "x", NULL);
    cf_assert_completed(res);
    assert_int_equal(cf_calls_of("t1"), 0);
    assert_int_equal(cf_calls_of("t2"), 1);
    const char *expected[] = {"t2:x"};
    cf_assert_outputs(res, expected, 1);
}

static void
test_coordinator_send_to_unknown_target_fails(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "picker", "t.pick", "nowhere");
    cf_exec(fx, "t1", "t.emit", NULL);
    cf_edge(fx, "picker", "t1", NULL, NULL);
    cf_start(fx, "picker");
    cairn_result_t *res = cf_run(fx, "x", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    const cairn_error_t *err = cairn_result_error(res);
    assert_non_null(err);
    assert_int_not_equal(err->code, CAIRN_OK);
    if (!strstr(err->message, "picker"))
        fail_msg("error '%s' should name picker", err->message);
    assert_int_equal(cf_calls_of("t1"), 0);
    assert_int_equal(cairn_result_output_count(res), 0);
}

static void
test_coordinator_context_values(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "c1", "t.ctx", "conf-1");
    cf_exec(fx, "c2", "t.ctx", NULL);
    cf_edge(fx, "c1", "c2", NULL, NULL);
    cf_start(fx, "c1");
    cairn_run_options_t opts = {.run_id = "ctx-run_1"};
    cairn_result_t *res = cf_run(fx, "x", &opts);
    cf_assert_completed(res);
    assert_string_equal(cairn_result_run_id(res), "ctx-run_1");
    const cf_call_t *call = cf_call_of("c1", 0);
    assert_non_null(call);
    assert_string_equal(call->note, "ss=1 run=ctx-run_1 att=1 "
                                    "key=ctx-run_1/1/c1 id=c1 cfg=conf-1");
    assert_string_equal(call->source, ""); /* the run input */
    call = cf_call_of("c2", 0);
    assert_non_null(call);
    assert_string_equal(call->note, "ss=2 run=ctx-run_1 att=1 "
                                    "key=ctx-run_1/2/c2 id=c2 cfg=");
    assert_string_equal(call->source, "c1");
    assert_string_equal(call->payload, "x");
}

static void
test_coordinator_determinism(void **state)
{
    cf_fixture_t *fx = *state;
    cairn_engine_t *engine = cf_open_engine(4);
    assert_int_equal(cairn_engine_host_count(engine), 4);

    cf_exec(fx, "root", "t.fwd", NULL);
    const char *branches[] = {"b1", "b2", "b3", "b4"};
    for (size_t i = 0; i < 4; i++)
        cf_exec(fx, branches[i], "t.branch", NULL);
    cf_exec(fx, "join", "t.join", "loop");
    cf_exec(fx, "loop", "t.loop", NULL);
    cf_exec(fx, "final", "t.final", NULL);
    cf_fan_out(fx, "root", branches, 4);
    const char *sources[] = {"b3", "b1", "b4", "b2"};
    assert_int_equal(cairn_builder_add_fan_in(fx->builder, sources, 4, "join"),
                     CAIRN_OK);
    cf_edge(fx, "join", "loop", NULL, NULL);
    cf_edge(fx, "loop", "loop", "int_lt", "3");
    cf_edge(fx, "loop", "final", "int_ge", "3");
    cf_start(fx, "root");

    cf_str_t first_outputs = {0}, first_events = {0}, first_state = {0};
    for (int run = 0; run < 20; run++) {
        char run_id[32];
        snprintf(run_id, sizeof run_id, "det-%02d", run);
        cairn_run_options_t opts = {.run_id = run_id};
        cairn_result_t *res = cf_run_on(fx, engine, "in", &opts);
        cf_assert_completed(res);
        assert_int_equal(cairn_result_supersteps(res), 7);

        cf_str_t outputs = {0}, events = {0}, states = {0};
        for (size_t i = 0; i < cairn_result_output_count(res); i++) {
            size_t len = 0;
            const uint8_t *data = cairn_result_output(res, i, &len);
            cf_str_addf(&outputs, "%zu:", len);
            cf_str_add(&outputs, data, len);
            cf_str_add(&outputs, "\n", 1);
        }
        for (size_t i = 0; i < fx->events.count; i++) {
            const cf_event_t *e = &fx->events.items[i];
            cf_str_addf(&events, "%s %" PRIu64 " %s\n",
                       cairn_event_kind_name(e->kind), e->superstep,
                       e->executor ? e->executor : "-");
        }
        cairn_result_foreach_state(res, cf_visit, &states);
        cf_str_add(&states, "", 0);

        if (run == 0) {
            /* the first run is also checked for the right answer */
            const char *expected[] = {
                "b1:in", "b2:in", "b3:in", "b4:in",
                "b3:in|b1:in|b4:in|b2:in",
                "loop1", "loop2", "loop3",
                "final last=b4 loop=3",
            };
            cf_assert_outputs(res, expected, 9);
            cf_assert_state(res, NULL, "last", "b4");
            first_outputs = outputs;
            first_events = events;
            first_state = states;
            continue;
        }
        assert_string_equal(outputs.data, first_outputs.data);
        assert_string_equal(events.data, first_events.data);
        assert_string_equal(states.data, first_state.data);
        cf_str_free(&outputs);
        cf_str_free(&events);
        cf_str_free(&states);
    }
    cf_str_free(&first_outputs);
    cf_str_free(&first_events);
    cf_str_free(&first_state);
    cairn_result_destroy(&fx->result);
    cairn_engine_destroy(&engine);
}

/* Two executors fail in one superstep: each event carries its own reason,
 * the run's error names the first in id order. */
static void
test_coordinator_each_failure_has_its_own_reason(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "s", "t.fwd", NULL);
    cf_exec(fx, "f1", "t.failid", NULL);
    cf_exec(fx, "f2", "t.failid", NULL);
    const char *targets[] = {"f2", "f1"};
    cf_fan_out(fx, "s", targets, 2);
    cf_start(fx, "s");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_FAILED);
    assert_non_null(strstr(cairn_result_error(res)->message, "reason of f1"));
    size_t checked = 0;
    for (size_t i = 0; i < fx->events.count; i++) {
        const cf_event_t *e = &fx->events.items[i];
        if (e->kind != CAIRN_EVENT_EXECUTOR_FAILED)
            continue;
        char expected[32];
        snprintf(expected, sizeof expected, "reason of %s", e->executor);
        assert_non_null(e->detail);
        assert_string_equal(e->detail, expected);
        checked++;
    }
    assert_int_equal(checked, 2);
}

/* A fan-in whose third source never delivers: the run completes and the
 * two waiting messages are reported, not lost silently. */
static void
test_coordinator_fan_in_leftovers_are_reported(void **state)
{
    cf_fixture_t *fx = *state;
    cf_exec(fx, "s", "t.fwd", NULL);
    cf_exec(fx, "x", "t.fwd", NULL);
    cf_exec(fx, "y", "t.fwd", NULL);
    cf_exec(fx, "z", "t.fwd", NULL);
    cf_exec(fx, "j", "t.join", NULL);
    const char *targets[] = {"x", "y"};
    cf_fan_out(fx, "s", targets, 2);
    const char *sources[] = {"x", "y", "z"};
    assert_int_equal(cairn_builder_add_fan_in(fx->builder, sources, 3, "j"),
                     CAIRN_OK);
    cf_start(fx, "s");
    cairn_result_t *res = cf_run(fx, "go", NULL);
    assert_int_equal(cairn_result_status(res), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cf_calls_of("j"), 0);
    assert_int_equal(cf_count_events(&fx->events, CAIRN_EVENT_MESSAGE_DROPPED,
                                    "j"),
                     2);
    const cf_event_t *dropped =
        cf_find_event(&fx->events, CAIRN_EVENT_MESSAGE_DROPPED);
    assert_non_null(dropped);
    assert_non_null(strstr(dropped->detail, "waiting in the fan-in into 'j'"));
    assert_int_equal(dropped->count, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        CF_TEST(test_coordinator_handler_failure_applies_nothing),
        CF_TEST(test_coordinator_each_failure_has_its_own_reason),
        CF_TEST(test_coordinator_fan_in_leftovers_are_reported),
        CF_TEST(test_coordinator_event_sequence),
        CF_TEST(test_coordinator_message_too_large),
        CF_TEST(test_coordinator_too_many_entries),
        CF_TEST(test_coordinator_send_to_one_target),
        CF_TEST(test_coordinator_send_to_unknown_target_fails),
        CF_TEST(test_coordinator_context_values),
        CF_TEST(test_coordinator_determinism),
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
