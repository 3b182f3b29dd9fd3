/* coordinator_fixture.h - what the test_coordinator_* executables share:
 * the test executor types (registered once, group setup), a record of
 * the handler calls they saw, copies of events, and a per-case fixture
 * that builds a small workflow and runs it on an engine with in-process
 * host threads.
 *
 * Threading: handlers run on host threads, concurrently. They never call
 * cmocka asserts (those longjmp on the calling thread); they record what
 * they saw under a lock, and the test thread asserts on the record after
 * the run (cf_calls_of, cf_call_of). Events arrive on the test thread and
 * need no lock. Everything declared here runs on the test thread.
 */
#ifndef CAIRN_TEST_COORDINATOR_FIXTURE_H_INCLUDED
#define CAIRN_TEST_COORDINATOR_FIXTURE_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cairn/cairn.h"

/* Fan-in parts a call record keeps. */
#define CF_MAX_PARTS 4

/* A case with a fresh fixture (cf_setup, cf_teardown). */
#define CF_TEST(fn) cmocka_unit_test_setup_teardown(fn, cf_setup, cf_teardown)

/* One handler call as recorded by the handler itself. */
typedef struct {
    char executor[72];                   /* cairn_ctx_executor_id */
    uint64_t superstep;                  /* cairn_ctx_superstep */
    char type[32];                       /* message type tag */
    char source[72];                     /* message source */
    char payload[256];                   /* message payload (truncated) */
    size_t payload_len;                  /* full payload length */
    size_t part_count;                   /* fan-in parts */
    char parts[CF_MAX_PARTS][64];         /* part payloads */
    char part_sources[CF_MAX_PARTS][72];  /* part sources */
    char note[256];                      /* handler-specific observation */
} cf_call_t;

/* Number of recorded calls of executor (test thread, after a run). */
size_t
cf_calls_of(const char *executor);

/* The nth (0-based) recorded call of executor, or NULL. Calls of one
 * executor are recorded in the order they ran. */
const cf_call_t *
cf_call_of(const char *executor, size_t nth);

/* Registers the test executor types (group setup) and frees them. */
int
cf_group_setup(void **state);

int
cf_group_teardown(void **state);

/* A copy of one event. */
typedef struct {
    cairn_event_kind_t kind;
    uint64_t superstep;
    char *executor; /* NULL when the event had none */
    char *detail;   /* NULL when the event had none */
    char *run_id;
    char *data;     /* output bytes + NUL, or NULL */
    size_t data_len;
    uint64_t count;
    cairn_status_t status;
} cf_event_t;

typedef struct {
    cf_event_t *items;
    size_t count;
    size_t cap;
    bool oom;
} cf_events_t;

/* Number of events of kind (about executor, when not NULL). */
size_t
cf_count_events(const cf_events_t *events, cairn_event_kind_t kind,
               const char *executor);

/* First event of kind, or NULL. */
const cf_event_t *
cf_find_event(const cf_events_t *events, cairn_event_kind_t kind);

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} cf_str_t;

void
cf_str_add(cf_str_t *s, const void *data, size_t len);

void
cf_str_addf(cf_str_t *s, const char *fmt, ...) CAIRN_PRINTF(2, 3);

void
cf_str_free(cf_str_t *s);

typedef struct {
    cairn_engine_t *engine;
    cairn_builder_t *builder;
    cairn_workflow_t *workflow;
    cairn_result_t *result;
    cf_events_t events;
} cf_fixture_t;

cairn_engine_t *
cf_open_engine(size_t host_threads);

/* A fresh fixture: an engine with two host threads, an empty builder,
 * the call record cleared. */
int
cf_setup(void **state);

int
cf_teardown(void **state);

void
cf_exec(cf_fixture_t *fx, const char *id, const char *type, const char *config);

/* Direct edge; pred NULL = unconditional. */
void
cf_edge(cf_fixture_t *fx, const char *from, const char *to, const char *pred,
       const char *arg);

void
cf_fan_out(cf_fixture_t *fx, const char *from, const char *const *targets,
          size_t n);

void
cf_start(cf_fixture_t *fx, const char *id);

/* Runs the workflow on input with options extra (may be NULL), recording
 * events into fx->events and handler calls into the call record (both reset
 * first). The result is kept in fx->result. */
cairn_result_t *
cf_run_on(cf_fixture_t *fx, cairn_engine_t *engine, const char *input,
         const cairn_run_options_t *extra);

cairn_result_t *
cf_run(cf_fixture_t *fx, const char *input, const cairn_run_options_t *extra);

void
cf_assert_completed(const cairn_result_t *res);

/* Asserts the outputs are exactly expected[0..n); prints them all when
 * they are not. */
void
cf_assert_outputs(const cairn_result_t *res, const char *const *expected,
                 size_t n);

/* Asserts a final state value (executor NULL = shared); expected NULL =
 * absent. */
void
cf_assert_state(const cairn_result_t *res, const char *executor,
               const char *key, const char *expected);

/* A cairn_result_foreach_state visitor: appends "executor.key=value;"
 * (executor "shared" when NULL) to the cf_str_t userdata. */
void
cf_visit(const char *executor, const char *key, const uint8_t *value,
        size_t len, void *userdata);

#endif
