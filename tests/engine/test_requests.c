/* test_requests - human-in-the-loop requests through the C API.
 *
 * Workflow: "split" (t.split) sends the run input to "ask_a" and "ask_b"
 * (t.ask), which each ask a question with cairn_ctx_request; their
 * on_response yields "ID=VALUE<-PAYLOAD" (the request payload it got
 * back). Runs use a RocksDB store in a mkdtemp directory, so every resume
 * reads what the previous run left on disk.
 *
 * Handlers run on host threads and never assert; they report through
 * outputs and failures.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "tests/harness/harness.h"

/* ---- executor types -------------------------------------------------------
 */

static int
s_split(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_send(ctx, NULL, payload, len);
}

/* Asks "question" with the message as payload; the id must be the one
 * the contract promises. */
static int
s_ask(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    const char *id = NULL;
    int rc = cairn_ctx_request(ctx, "question", payload, len, &id);
    if (rc != CAIRN_OK)
        return rc;
    char expected[128];
    snprintf(expected, sizeof expected, "%s.%llu.1", cairn_ctx_executor_id(ctx),
             (unsigned long long)cairn_ctx_superstep(ctx));
    if (strcmp(id, expected) != 0)
        return cairn_ctx_fail(ctx, "request id %s, expected %s", id, expected);
    if (cairn_ctx_request(ctx, "", NULL, 0, NULL) != CAIRN_EINVAL)
        return cairn_ctx_fail(ctx, "a request without a kind was taken");
    return CAIRN_OK;
}

static int
s_answer(cairn_ctx_t *ctx, const cairn_request_t *request, const uint8_t *value,
         size_t len)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%s=%.*s<-%.*s", request->id, (int)len,
                     (const char *)value, (int)request->payload_len,
                     (const char *)request->payload);
    if (strcmp(request->executor, cairn_ctx_executor_id(ctx)) != 0
        || strcmp(request->kind, "question") != 0)
        return cairn_ctx_fail(ctx, "response for %s (%s) reached %s",
                              request->executor, request->kind,
                              cairn_ctx_executor_id(ctx));
    return cairn_ctx_yield_output(ctx, line, (size_t)n);
}

/* ---- fixture --------------------------------------------------------------
 */

typedef struct {
    cairn_registry_t *registry;
    cairn_engine_t *engine;
    cairn_workflow_t *wf;      /* split -> ask_a, ask_b (t.ask) */
    cairn_workflow_t *mute_wf; /* split -> ask_a (t.mute: no on_response) */
    char dir[64];
    cairn_store_t *store;
} s_fixture_t;

static cairn_workflow_t *
s_build(const cairn_registry_t *registry, const char *ask_type, size_t asks)
{
    static const char *const ids[] = {"ask_a", "ask_b"};
    cairn_builder_t *b = cairn_builder_new(registry);
    if (!b || cairn_builder_add_executor(b, "split", "t.split", NULL, 0))
        return NULL;
    for (size_t i = 0; i < asks; i++)
        if (cairn_builder_add_executor(b, ids[i], ask_type, NULL, 0)
            || cairn_builder_add_edge(b, "split", ids[i], NULL, NULL, 0))
            return NULL;
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    if (cairn_builder_set_start(b, "split")
        || cairn_builder_build(b, &wf, &err))
        wf = NULL;
    cairn_builder_destroy(&b);
    return wf;
}

static int
s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    const cairn_executor_type_t types[] = {
        {.name = "t.split", .handle = s_split},
        {.name = "t.ask", .handle = s_ask, .on_response = s_answer},
        {.name = "t.mute", .handle = s_ask},
    };
    cairn_error_t err;
    fx->registry = th_registry_open(false, NULL, types, 3);
    if (!fx->registry || th_dir_make(fx->dir, sizeof fx->dir, "requests") != 0
        || cairn_engine_open(&fx->engine, fx->registry, NULL, &err)
        || cairn_store_open(&fx->store, fx->dir, NULL, &err))
        return -1;
    fx->wf = s_build(fx->registry, "t.ask", 2);
    fx->mute_wf = s_build(fx->registry, "t.mute", 1);
    return fx->wf && fx->mute_wf ? 0 : -1;
}

static int
s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    cairn_store_destroy(&fx->store);
    cairn_workflow_destroy(&fx->wf);
    cairn_workflow_destroy(&fx->mute_wf);
    cairn_engine_destroy(&fx->engine);
    cairn_registry_destroy(&fx->registry);
    if (fx->dir[0])
        th_dir_remove(fx->dir);
    free(fx);
    return 0;
}

/* Resumes run_id with the given responses ("ID=VALUE" pairs as two
 * arrays); returns the engine's code, the result into *result. */
static int
s_resume(s_fixture_t *fx, const cairn_workflow_t *wf, const char *run_id,
         const char *const *ids, const char *const *values, size_t n,
         cairn_result_t **result, cairn_error_t *err)
{
    cairn_response_t responses[4];
    for (size_t i = 0; i < n; i++)
        responses[i] = (cairn_response_t){ids[i], values[i], strlen(values[i])};
    cairn_run_options_t opts = {
        .store = fx->store, .responses = responses, .response_count = n};
    *result = NULL;
    return cairn_engine_resume(fx->engine, wf, run_id, &opts, result, err);
}

static void
s_run(s_fixture_t *fx, const cairn_workflow_t *wf, const char *run_id,
      cairn_result_t **result)
{
    cairn_run_options_t opts = {.store = fx->store, .run_id = run_id};
    cairn_error_t err;
    assert_int_equal(
        cairn_engine_run(fx->engine, wf, "hi", 2, &opts, result, &err),
        CAIRN_OK);
}

static void
s_expect_request(const cairn_result_t *result, size_t i, const char *id,
                 const char *executor)
{
    cairn_request_t request;
    assert_int_equal(cairn_result_request(result, i, &request), CAIRN_OK);
    assert_string_equal(request.id, id);
    assert_string_equal(request.executor, executor);
    assert_string_equal(request.kind, "question");
    assert_int_equal(request.payload_len, 2);
    assert_memory_equal(request.payload, "hi", 2);
}

static void
s_expect_output(const cairn_result_t *result, size_t i, const char *text)
{
    size_t len;
    const uint8_t *data = cairn_result_output(result, i, &len);
    assert_non_null(data);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(data, text, len);
}

/* ---- cases -----------------------------------------------------------------
 */

/* Two executors ask in the same superstep; answering one delivers it and
 * waits again for the other; answering that completes the run. */
static void
test_requests_two_concurrent_answered_in_parts(void **state)
{
    s_fixture_t *fx = *state;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    s_run(fx, fx->wf, "two", &result);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_WAITING);
    assert_int_equal(cairn_result_supersteps(result), 2);
    assert_int_equal(cairn_result_request_count(result), 2);
    s_expect_request(result, 0, "ask_a.2.1", "ask_a");
    s_expect_request(result, 1, "ask_b.2.1", "ask_b");
    cairn_request_t none;
    assert_int_equal(cairn_result_request(result, 2, &none), CAIRN_EINVAL);
    cairn_result_destroy(&result);

    /* Resuming without responses waits again, with both. */
    assert_int_equal(s_resume(fx, fx->wf, "two", NULL, NULL, 0, &result, &err),
                     CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_WAITING);
    assert_int_equal(cairn_result_request_count(result), 2);
    cairn_result_destroy(&result);

    const char *b_id[] = {"ask_b.2.1"}, *b_value[] = {"B"};
    assert_int_equal(
        s_resume(fx, fx->wf, "two", b_id, b_value, 1, &result, &err), CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_WAITING);
    assert_int_equal(cairn_result_supersteps(result), 3);
    assert_int_equal(cairn_result_request_count(result), 1);
    s_expect_request(result, 0, "ask_a.2.1", "ask_a");
    assert_int_equal(cairn_result_output_count(result), 1);
    s_expect_output(result, 0, "ask_b.2.1=B<-hi");
    cairn_result_destroy(&result);

    const char *a_id[] = {"ask_a.2.1"}, *a_value[] = {"A"};
    assert_int_equal(
        s_resume(fx, fx->wf, "two", a_id, a_value, 1, &result, &err), CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_supersteps(result), 4);
    assert_int_equal(cairn_result_request_count(result), 0);
    assert_int_equal(cairn_result_output_count(result), 2);
    s_expect_output(result, 0, "ask_b.2.1=B<-hi");
    s_expect_output(result, 1, "ask_a.2.1=A<-hi");
    cairn_result_destroy(&result);
}

/* Answers given in any order are delivered in request order. */
static void
test_requests_delivered_in_request_order(void **state)
{
    s_fixture_t *fx = *state;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    s_run(fx, fx->wf, "order", &result);
    cairn_result_destroy(&result);
    const char *ids[] = {"ask_b.2.1", "ask_a.2.1"}, *values[] = {"2", "1"};
    assert_int_equal(
        s_resume(fx, fx->wf, "order", ids, values, 2, &result, &err), CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    assert_int_equal(cairn_result_supersteps(result), 3);
    s_expect_output(result, 0, "ask_a.2.1=1<-hi");
    s_expect_output(result, 1, "ask_b.2.1=2<-hi");
    cairn_result_destroy(&result);
}

/* What the store says about a run, to see that a refused resume changed
 * nothing. */
static void
s_snapshot(s_fixture_t *fx, const char *run_id, char *out, size_t size)
{
    cairn_run_info_t *info = NULL;
    cairn_checkpoint_info_t *cps = NULL;
    size_t count = 0;
    cairn_error_t err;
    assert_int_equal(cairn_store_get_run(fx->store, run_id, &info, &err),
                     CAIRN_OK);
    assert_int_equal(cairn_store_list_checkpoints(fx->store, run_id, 0, NULL,
                                                  &cps, &count, &err),
                     CAIRN_OK);
    snprintf(out, size, "%s %s %llu %zu %llu", info->status,
             info->latest_checkpoint, (unsigned long long)info->updated_ms,
             count, (unsigned long long)cps[0].timestamp_ms);
    cairn_checkpoint_info_destroy(&cps, count);
    cairn_run_info_destroy(&info, 1);
}

/* Unknown ids, an id given twice and an id answered before are refused
 * before anything is written. */
static void
test_requests_bad_responses_change_nothing(void **state)
{
    s_fixture_t *fx = *state;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    s_run(fx, fx->wf, "bad", &result);
    cairn_result_destroy(&result);
    const char *a_id[] = {"ask_a.2.1"}, *a_value[] = {"A"};
    assert_int_equal(
        s_resume(fx, fx->wf, "bad", a_id, a_value, 1, &result, &err), CAIRN_OK);
    cairn_result_destroy(&result);
    char before[256], after[256];
    s_snapshot(fx, "bad", before, sizeof before);

    const char *unknown[] = {"ask_b.2.1", "nope.1.1"}, *values[] = {"x", "y"};
    assert_int_equal(
        s_resume(fx, fx->wf, "bad", unknown, values, 2, &result, &err),
        CAIRN_ENOTFOUND);
    assert_null(result);
    assert_non_null(strstr(err.message, "nope.1.1"));

    const char *twice[] = {"ask_b.2.1", "ask_b.2.1"};
    assert_int_equal(
        s_resume(fx, fx->wf, "bad", twice, values, 2, &result, &err),
        CAIRN_EINVAL);
    assert_non_null(strstr(err.message, "answered twice"));

    assert_int_equal(
        s_resume(fx, fx->wf, "bad", a_id, a_value, 1, &result, &err),
        CAIRN_EINVAL);
    assert_non_null(strstr(err.message, "already answered"));

    s_snapshot(fx, "bad", after, sizeof after);
    assert_string_equal(before, after);

    /* The request that is still pending can still be answered. */
    const char *b_id[] = {"ask_b.2.1"};
    assert_int_equal(
        s_resume(fx, fx->wf, "bad", b_id, values, 1, &result, &err), CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_COMPLETED);
    cairn_result_destroy(&result);
}

/* A response to a type without on_response fails the run, naming it. */
static void
test_requests_response_without_handler_fails(void **state)
{
    s_fixture_t *fx = *state;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    s_run(fx, fx->mute_wf, "mute", &result);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_WAITING);
    cairn_result_destroy(&result);
    const char *id[] = {"ask_a.2.1"}, *value[] = {"A"};
    assert_int_equal(
        s_resume(fx, fx->mute_wf, "mute", id, value, 1, &result, &err),
        CAIRN_OK);
    assert_int_equal(cairn_result_status(result), CAIRN_STATUS_FAILED);
    assert_non_null(
        strstr(cairn_result_error(result)->message, "has no on_response"));
    cairn_result_destroy(&result);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_requests_two_concurrent_answered_in_parts, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            test_requests_delivered_in_request_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_requests_bad_responses_change_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_requests_response_without_handler_fails, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
