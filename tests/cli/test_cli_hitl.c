/* test_cli_hitl - human in the loop with the real `cairn` command: a run
 * waits for hitl.approve, `cairn respond` approves or rejects it, bad
 * responses are refused.
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

#define APPROVE_SPEC                                                           \
    "{\"name\": \"approval\", \"start\": \"draft\", \"executors\": ["           \
    "{\"id\": \"draft\", \"type\": \"text.upper\"},"                           \
    "{\"id\": \"approve\", \"type\": \"hitl.approve\","                        \
    " \"config\": {\"prompt\": \"Publish?\"}},"                                \
    "{\"id\": \"publish\", \"type\": \"text.output\"}],"                       \
    "\"edges\": [{\"from\": \"draft\", \"to\": \"approve\"},"                  \
    "{\"from\": \"approve\", \"to\": \"publish\"}]}"

/* Runs the approval spec on input into db as run id; it must wait. */
static void
s_run_approval(const char *db, const char *id, const char *input)
{
    const char *spec = tc_spec("approve.json", APPROVE_SPEC);
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--db", db, "--run-id", id, "--input", input,
            NULL);
    tc_expect(&r, 3, "", "request approve.2.1 from approve (approve): ");
    tc_expect(&r, 3, NULL, "\"prompt\":\"Publish?\"");
    assert_string_equal(tc_run_status(db, id), "waiting");
}

/* Approval in a later process forwards the payload; the requests are
 * shown again (exit 3) until then, and --json lists them for scripts. */
static void
test_cli_hitl_approve_forwards(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    s_run_approval(db, "ok", "draft one");
    tc_result_t r = {0};
    tc_cairn(&r, "resume", "ok", "--db", db, "--json", NULL);
    tc_expect(&r, 3, NULL, "request approve.2.1");
    json_t *doc = tc_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")),
                        "waiting");
    json_t *requests = json_object_get(doc, "requests");
    assert_int_equal(json_array_size(requests), 1);
    json_t *request = json_array_get(requests, 0);
    assert_string_equal(json_string_value(json_object_get(request, "id")),
                        "approve.2.1");
    assert_string_equal(
        json_string_value(json_object_get(request, "executor")), "approve");
    assert_string_equal(json_string_value(json_object_get(request, "kind")),
                        "approve");
    json_t *question = tc_json(
        json_string_value(json_object_get(request, "payload")));
    assert_string_equal(
        json_string_value(json_object_get(question, "payload")),
        "DRAFT ONE");
    /* The waiting checkpoint holds the request. */
    tc_cairn(&r, "show", "ok@2", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *shown = json_object_get(tc_json(r.out), "requests");
    assert_int_equal(json_array_size(shown), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(shown, 0), "id")),
        "approve.2.1");
    tc_cairn(&r, "resume", "ok", "--db", db, "--respond", "approve.2.1= YES ",
            NULL);
    tc_expect(&r, 0, "DRAFT ONE\n", NULL);
    assert_string_equal(tc_run_status(db, "ok"), "completed");
}

/* Anything but yes rejects. A fork of the waiting run waits too, with
 * the same request, and is answered on its own. */
static void
test_cli_hitl_reject(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    s_run_approval(db, "no", "draft two");
    tc_result_t r = {0};
    tc_cairn(&r, "fork", "no@2", "--db", db, "--run-id", "other", NULL);
    tc_expect(&r, 0, "other\n", NULL);
    assert_string_equal(tc_run_status(db, "other"), "waiting");
    tc_cairn(&r, "resume", "no", "--db", db, "--respond",
            "approve.2.1=not yet", NULL);
    tc_expect(&r, 0, "rejected: DRAFT TWO\n", NULL);
    tc_cairn(&r, "resume", "other", "--db", db, "--respond", "approve.2.1=yes",
            NULL);
    tc_expect(&r, 0, "DRAFT TWO\n", NULL);
}

/* Unknown ids, an id given twice, a malformed --respond and an id
 * answered before exit 2 and change nothing. */
static void
test_cli_hitl_bad_responses(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    s_run_approval(db, "bad", "x");
    const char *before = tc_checkpoint_ids(db, "bad");
    tc_result_t r = {0};
    tc_cairn(&r, "resume", "bad", "--db", db, "--respond", "nope.1.1=yes",
            NULL);
    tc_expect(&r, 2, "", "no pending request 'nope.1.1'");
    tc_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1=yes",
            "--respond", "approve.2.1=no", NULL);
    tc_expect(&r, 2, "", "answered twice");
    tc_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1",
            NULL);
    tc_expect(&r, 2, "", "--respond wants REQUEST_ID=VALUE");
    assert_string_equal(tc_checkpoint_ids(db, "bad"), before);
    assert_string_equal(tc_run_status(db, "bad"), "waiting");
    tc_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1=yes",
            NULL);
    tc_expect(&r, 0, "X\n", NULL);
    tc_cairn(&r, "resume", "bad", "--db", db, "--respond", "approve.2.1=yes",
            NULL);
    tc_expect(&r, 2, "", "already answered");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_hitl_approve_forwards),
        TC_TEST(test_cli_hitl_reject),
        TC_TEST(test_cli_hitl_bad_responses),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
