/* test_router - edge semantics (engine/router.c), without a run.
 *
 * Each case builds a small workflow with the real builder, routes
 * messages "sent" by one executor and looks at what the sink was given:
 * which targets, in which order, borrowed or handed over, and which
 * messages were dropped because the target does not accept their type.
 * Fan-in buffers keep copies, so the messages a case routes are its own
 * and freed by it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "engine/router.h"
#include "proto/pbutil.h"
#include "tests/harness/harness.h"

#define S_MAX_SEEN 16

/* One delivery or drop the sink saw. */
typedef struct {
    size_t target;
    bool owned;
    bool dropped;
    const Cairn__Message *msg; /* borrowed deliveries only: the pointer */
    char payload[64];          /* deliveries: payload, or parts joined by
                                  '+' for an assembled fan-in message */
} s_seen_t;

typedef struct {
    cairn_registry_t *registry;
    cairn_workflow_t *wf;
    cairn__router_t *router;
    s_seen_t seen[S_MAX_SEEN];
    size_t count;
    cairn__route_sink_t sink;
} s_fixture_t;

/* Selector "named": chooses the targets whose id is the argument. */
static void
s_select_named(const cairn_msg_t *msg, const uint8_t *arg, size_t arg_len,
               const char *const *targets, size_t n, bool *chosen)
{
    (void)msg;
    for (size_t i = 0; i < n; i++)
        chosen[i] = strlen(targets[i]) == arg_len
                    && memcmp(targets[i], arg, arg_len) == 0;
}

static void
s_payload_text(const Cairn__Message *msg, char *out, size_t size)
{
    if (msg->n_parts == 0) {
        snprintf(out, size, "%.*s", (int)msg->payload.len,
                 (const char *)msg->payload.data);
        return;
    }
    out[0] = '\0';
    for (size_t i = 0; i < msg->n_parts; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%.*s", i ? "+" : "",
                 (int)msg->parts[i]->payload.len,
                 (const char *)msg->parts[i]->payload.data);
    }
}

static int
s_deliver(void *userdata, size_t target, Cairn__Message *msg, bool owned)
{
    s_fixture_t *f = userdata;
    assert_true(f->count < S_MAX_SEEN);
    s_seen_t *seen = &f->seen[f->count++];
    seen->target = target;
    seen->owned = owned;
    seen->msg = owned ? NULL : msg;
    s_payload_text(msg, seen->payload, sizeof seen->payload);
    if (owned)
        cairn__pb_message_free(msg);
    return CAIRN_OK;
}

static void
s_drop(void *userdata, size_t target, const Cairn__Message *msg)
{
    s_fixture_t *f = userdata;
    assert_true(f->count < S_MAX_SEEN);
    s_seen_t *seen = &f->seen[f->count++];
    seen->target = target;
    seen->dropped = true;
    s_payload_text(msg, seen->payload, sizeof seen->payload);
}

static int
s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    const cairn_executor_type_t t = {"t.any", th_handler_noop, NULL, NULL,
                                     NULL};
    f->registry = th_registry_open(false, NULL, &t, 1);
    f->sink = (cairn__route_sink_t){s_deliver, s_drop, f};
    return f->registry
                   && cairn_registry_add_selector(f->registry, "named",
                                                  s_select_named)
                          == 0
               ? 0
               : -1;
}

static int
s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn__router_destroy(&f->router);
    cairn_workflow_destroy(&f->wf);
    cairn_registry_destroy(&f->registry);
    free(f);
    return 0;
}

/* A builder with executors "src" (the start) and the given ids. */
static cairn_builder_t *
s_builder(s_fixture_t *f, const char *const *ids, size_t n)
{
    cairn_builder_t *b = cairn_builder_new(f->registry);
    assert_non_null(b);
    assert_int_equal(cairn_builder_add_executor(b, "src", "t.any", NULL, 0),
                     CAIRN_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cairn_builder_add_executor(b, ids[i], "t.any", NULL,
                                                    0),
                         CAIRN_OK);
    assert_int_equal(cairn_builder_set_start(b, "src"), CAIRN_OK);
    return b;
}

/* Builds the workflow and its router; takes the builder. */
static void
s_build(s_fixture_t *f, cairn_builder_t *b)
{
    cairn_error_t err;
    int rc = cairn_builder_build(b, &f->wf, &err);
    if (rc != CAIRN_OK)
        fail_msg("build: %s", err.message);
    cairn_builder_destroy(&b);
    assert_non_null(f->router = cairn__router_new(f->wf));
}

static size_t
s_x(const s_fixture_t *f, const char *id)
{
    long x = cairn__workflow_find(f->wf, id);
    assert_true(x >= 0);
    return (size_t)x;
}

/* Routes a message with payload (and type tag) from executor `from`;
 * returns it for the caller to free. */
static Cairn__Message *
s_route(s_fixture_t *f, const char *from, const char *type,
        const char *payload)
{
    Cairn__Message *msg = cairn__pb_message_new(type, from, NULL, payload,
                                                strlen(payload));
    assert_non_null(msg);
    assert_int_equal(cairn__router_route(f->router, s_x(f, from), msg,
                                         &f->sink),
                     CAIRN_OK);
    return msg;
}

static void
s_route_free(s_fixture_t *f, const char *from, const char *type,
             const char *payload)
{
    cairn__pb_message_free(s_route(f, from, type, payload));
}

/* Asserts that delivery i went, borrowed, to executor id. */
static void
s_assert_delivered(const s_fixture_t *f, size_t i, const char *id,
                   const char *payload)
{
    assert_true(i < f->count);
    assert_false(f->seen[i].dropped);
    assert_false(f->seen[i].owned);
    assert_int_equal(f->seen[i].target, s_x(f, id));
    assert_string_equal(f->seen[i].payload, payload);
}

/* A direct edge hands the target the sent message itself, not a copy. */
static void
test_router_direct_delivers_the_message_borrowed(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"b"};
    cairn_builder_t *b = s_builder(f, ids, 1);
    assert_int_equal(cairn_builder_add_edge(b, "src", "b", NULL, NULL, 0), 0);
    s_build(f, b);
    Cairn__Message *msg = s_route(f, "src", "", "hello");
    assert_int_equal(f->count, 1);
    s_assert_delivered(f, 0, "b", "hello");
    assert_ptr_equal(f->seen[0].msg, msg);
    cairn__pb_message_free(msg);
}

/* A direct edge with a predicate passes only messages it holds for. */
static void
test_router_direct_predicate_filters(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"b"};
    cairn_builder_t *b = s_builder(f, ids, 1);
    assert_int_equal(cairn_builder_add_edge(b, "src", "b", "prefix", "go", 2),
                     0);
    s_build(f, b);
    s_route_free(f, "src", "", "stop");
    assert_int_equal(f->count, 0);
    s_route_free(f, "src", "", "gone");
    assert_int_equal(f->count, 1);
    s_assert_delivered(f, 0, "b", "gone");
}

/* A source's edges are walked in the order they were added, not in id
 * order. */
static void
test_router_edges_in_add_order(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"a", "z"};
    cairn_builder_t *b = s_builder(f, ids, 2);
    assert_int_equal(cairn_builder_add_edge(b, "src", "z", NULL, NULL, 0), 0);
    assert_int_equal(cairn_builder_add_edge(b, "src", "a", NULL, NULL, 0), 0);
    s_build(f, b);
    s_route_free(f, "src", "", "m");
    assert_int_equal(f->count, 2);
    s_assert_delivered(f, 0, "z", "m");
    s_assert_delivered(f, 1, "a", "m");
}

/* A fan-out without selector goes to every target in its order. */
static void
test_router_fan_out_all_targets_in_order(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"a", "b", "c"};
    const char *targets[] = {"c", "a", "b"};
    cairn_builder_t *b = s_builder(f, ids, 3);
    assert_int_equal(cairn_builder_add_fan_out(b, "src", targets, 3, NULL,
                                               NULL, 0),
                     0);
    s_build(f, b);
    s_route_free(f, "src", "", "m");
    assert_int_equal(f->count, 3);
    for (size_t i = 0; i < 3; i++)
        s_assert_delivered(f, i, targets[i], "m");
}

/* A fan-out's selector picks the targets. */
static void
test_router_fan_out_selector_chooses(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"a", "b", "c"};
    cairn_builder_t *b = s_builder(f, ids, 3);
    assert_int_equal(cairn_builder_add_fan_out(b, "src", ids, 3, "named", "b",
                                               1),
                     0);
    s_build(f, b);
    s_route_free(f, "src", "", "m");
    assert_int_equal(f->count, 1);
    s_assert_delivered(f, 0, "b", "m");
}

/* A switch: the first case (in case order) whose predicate holds wins,
 * whatever the others say; the default only when none holds, even when
 * it is listed first. */
static void
test_router_switch_first_match_then_default(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"a", "b", "d"};
    cairn_builder_t *b = s_builder(f, ids, 3);
    const cairn_switch_case_t cases[] = {
        {"d", NULL, NULL, 0, true},
        {"b", "prefix", "x", 1, false},
        {"a", "prefix", "xy", 2, false},
    };
    assert_int_equal(cairn_builder_add_switch(b, "src", cases, 3), 0);
    s_build(f, b);
    s_route_free(f, "src", "", "xyz"); /* both cases hold: b is first */
    s_route_free(f, "src", "", "q");   /* none holds: the default */
    assert_int_equal(f->count, 2);
    s_assert_delivered(f, 0, "b", "xyz");
    s_assert_delivered(f, 1, "d", "q");
}

/* A target that declared the tags it accepts gets only those; the
 * others are reported as dropped (untagged ones too). */
static void
test_router_accepts_drop_other_types(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"b", "c"};
    cairn_builder_t *b = s_builder(f, ids, 2);
    assert_int_equal(cairn_builder_accept(b, "b", "order"), 0);
    assert_int_equal(cairn_builder_add_fan_out(b, "src", ids, 2, NULL, NULL,
                                               0),
                     0);
    s_build(f, b);
    s_route_free(f, "src", "order", "1");
    s_route_free(f, "src", "refund", "2");
    s_route_free(f, "src", "", "3");
    assert_int_equal(f->count, 6);
    s_assert_delivered(f, 0, "b", "1");
    s_assert_delivered(f, 1, "c", "1");
    assert_true(f->seen[2].dropped);
    assert_int_equal(f->seen[2].target, s_x(f, "b"));
    assert_string_equal(f->seen[2].payload, "2");
    s_assert_delivered(f, 3, "c", "2");
    assert_true(f->seen[4].dropped);
    s_assert_delivered(f, 5, "c", "3");
}

/* send_to takes the one edge to the named target, and only an executor
 * with an edge to it may name it. */
static void
test_router_send_to_takes_one_edge(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"a", "b", "c"};
    cairn_builder_t *b = s_builder(f, ids, 3);
    assert_int_equal(cairn_builder_add_edge(b, "src", "a", NULL, NULL, 0), 0);
    assert_int_equal(cairn_builder_add_edge(b, "src", "b", "never", NULL, 0),
                     0);
    s_build(f, b);
    Cairn__Message *msg = cairn__pb_message_new("", "src", "b", "m", 1);
    assert_non_null(msg);
    size_t src = s_x(f, "src");
    assert_null(cairn__router_check_target(f->router, src, msg));
    /* Named: delivered even though the edge's predicate never holds. */
    assert_int_equal(cairn__router_route(f->router, src, msg, &f->sink), 0);
    assert_int_equal(f->count, 1);
    s_assert_delivered(f, 0, "b", "m");
    cairn__pb_message_free(msg);

    msg = cairn__pb_message_new("", "src", "c", "m", 1);
    assert_non_null(msg);
    assert_string_equal(cairn__router_check_target(f->router, src, msg),
                        "send_to names an executor this one has no edge to");
    cairn__pb_message_free(msg);
    msg = cairn__pb_message_new("", "src", "nobody", "m", 1);
    assert_non_null(msg);
    assert_string_equal(cairn__router_check_target(f->router, src, msg),
                        "send_to names an unknown executor");
    cairn__pb_message_free(msg);
}

/* src -> a, src -> b, and a fan-in of the two sources (in that order)
 * into "join", which accepts tag when not NULL. */
static void
s_build_fan_in(s_fixture_t *f, const char *const sources[2], const char *tag)
{
    const char *ids[] = {"a", "b", "join"};
    cairn_builder_t *b = s_builder(f, ids, 3);
    assert_int_equal(cairn_builder_add_edge(b, "src", "a", NULL, NULL, 0), 0);
    assert_int_equal(cairn_builder_add_edge(b, "src", "b", NULL, NULL, 0), 0);
    assert_int_equal(cairn_builder_add_fan_in(b, sources, 2, "join"), 0);
    if (tag)
        assert_int_equal(cairn_builder_accept(b, "join", tag), 0);
    s_build(f, b);
}

/* A fan-in fires once every source has a message buffered, handing
 * over one message whose parts are the oldest of each source in source
 * order; what is left waits for the next firing. */
static void
test_router_fan_in_fires_when_all_sources_sent(void **state)
{
    s_fixture_t *f = *state;
    const char *sources[] = {"b", "a"};
    /* Accepts do not filter what a fan-in assembled (it has no tag). */
    s_build_fan_in(f, sources, "never-sent");
    s_route_free(f, "a", "", "a1");
    s_route_free(f, "a", "", "a2");
    assert_int_equal(cairn__router_fire_fan_ins(f->router, &f->sink), 0);
    assert_int_equal(f->count, 0); /* b has sent nothing yet */
    s_route_free(f, "b", "", "b1");
    assert_int_equal(f->count, 0); /* buffered until fired */
    assert_int_equal(cairn__router_fire_fan_ins(f->router, &f->sink), 0);
    assert_int_equal(f->count, 1);
    assert_true(f->seen[0].owned);
    assert_int_equal(f->seen[0].target, s_x(f, "join"));
    assert_string_equal(f->seen[0].payload, "b1+a1");

    size_t waiting = 0;
    Cairn__FanInBuffer **buffers = NULL;
    assert_int_equal(cairn__router_export(f->router, &buffers, &waiting), 0);
    assert_int_equal(waiting, 1);
    assert_int_equal(buffers[0]->n_messages, 1);
    cairn__router_export_free(buffers, waiting);
}

/* A fan-in edge's buffers survive an export and an import into a new
 * router (a checkpoint and a resume): it fires the same. */
static void
test_router_fan_in_buffers_export_import(void **state)
{
    s_fixture_t *f = *state;
    const char *sources[] = {"a", "b"};
    s_build_fan_in(f, sources, NULL);
    s_route_free(f, "a", "", "a1");
    Cairn__FanInBuffer **buffers = NULL;
    size_t n = 0;
    assert_int_equal(cairn__router_export(f->router, &buffers, &n), 0);
    cairn__router_t *copy = cairn__router_new(f->wf);
    assert_non_null(copy);
    assert_int_equal(cairn__router_import(copy, buffers, n), 0);
    cairn__router_export_free(buffers, n);
    cairn__router_destroy(&f->router);
    f->router = copy;
    s_route_free(f, "b", "", "b1");
    assert_int_equal(cairn__router_fire_fan_ins(f->router, &f->sink), 0);
    assert_int_equal(f->count, 1);
    assert_string_equal(f->seen[0].payload, "a1+b1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define S_CASE(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
        S_CASE(test_router_direct_delivers_the_message_borrowed),
        S_CASE(test_router_direct_predicate_filters),
        S_CASE(test_router_edges_in_add_order),
        S_CASE(test_router_fan_out_all_targets_in_order),
        S_CASE(test_router_fan_out_selector_chooses),
        S_CASE(test_router_switch_first_match_then_default),
        S_CASE(test_router_accepts_drop_other_types),
        S_CASE(test_router_send_to_takes_one_edge),
        S_CASE(test_router_fan_in_fires_when_all_sources_sent),
        S_CASE(test_router_fan_in_buffers_export_import),
#undef S_CASE
    };
    if (getenv("CAIRN_TEST_FILTER")) /* run some cases only */
        cmocka_set_test_filter(getenv("CAIRN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
