/* store_fixture.h - shared helpers of the storage tests (compiled once,
 * store_fixture.c, into the cairn_test_store_fixture library).
 *
 * - A backend table: every case that applies to both stores runs once on
 *   a RocksDB store in a fresh mkdtemp directory and once on a memory
 *   store (the cmocka prestate names the backend; fx_setup opens it).
 * - The counter cycle workflow: executors "a" and "b" (type "t.count")
 *   pass a decimal counter back and forth with cairn_ctx_send. At
 *   superstep k the executor that runs (a for odd k, b for even k) makes
 *   the value k and
 *     - increments its own state "count" (messages it handled),
 *     - sets the shared key "counter" to k,
 *     - sets shared "phase" = "early" at k == 2 (and "late" at k == 6
 *       when the config has ":phase"),
 *     - yields "ID:k" when k % 3 == 0,
 *     - asks for a checkpoint tagged "tagname" when the config has ":mN"
 *       and k % N == 0,
 *     - yields "done:k" and stops when k reaches the limit (the config's
 *       leading number), else sends k on.
 *   So the state of checkpoint RUN@k is known exactly (fx_expect_at).
 *   Variant FX_BIG puts executor "big" (type "t.big") first: it writes a
 *   1 MiB state value "blob" in superstep 1 and sends "1" to "a".
 * - Dumps of results and loaded checkpoints as text, for exact
 *   comparisons with assert_string_equal (cmocka prints both sides).
 *
 * Handlers run on host threads and never assert; everything else runs on
 * the test thread.
 */
#ifndef CAIRN_TEST_STORE_FIXTURE_H_INCLUDED
#define CAIRN_TEST_STORE_FIXTURE_H_INCLUDED
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "cairn/cairn.h"
#include "tests/harness/harness.h"
#define FX_BLOB_SIZE ((size_t)1 << 20)
#define FX_TAG "tagname"

/* ---- backends --------------------------------------------------------------- */

typedef enum { FX_ROCKSDB = 0, FX_MEMORY } fx_backend_kind_t;

typedef struct {
    fx_backend_kind_t kind;
    const char *name;
} fx_backend_t;

extern const fx_backend_t fx_rocksdb;

extern const fx_backend_t fx_memory;

/* One test's world: the store under test and, for RocksDB, the temporary
 * directory it lives in (removed by fx_teardown with everything in it). */
#define FX_MAX_AUX 4

typedef struct {
    const fx_backend_t *backend;
    char tmp[64];   /* mkdtemp root ("" for memory) */
    char dir[128];  /* the store: tmp/db */
    cairn_store_t *store;
    cairn_store_t *aux[FX_MAX_AUX]; /* extra stores, closed at teardown */
} fx_t;

/* The registries and engines every case uses (group setup). */
typedef struct {
    cairn_registry_t *registry;      /* t.count, t.big */
    cairn_engine_t *engine;
    cairn_registry_t *fail_registry; /* t.count failing at superstep 4 */
    cairn_engine_t *fail_engine;
} fx_env_t;

extern fx_env_t fx_env;

/* ---- handlers ------------------------------------------------------------------ */

typedef struct {
    long limit;
    long manual_every; /* 0: never asks for a checkpoint */
    bool phase;        /* rewrite shared "phase" at 6 */
} fx_config_t;

uint8_t *
fx_blob_new(void);

/* ---- group setup --------------------------------------------------------------- */

int
fx_group_setup(void **state);

int
fx_group_teardown(void **state);

/* ---- per-test setup ---------------------------------------------------------- */

/* Opens (or reopens) the RocksDB store at path, asserting success. */
cairn_store_t *
fx_open_dir(const char *path, bool read_only);

int
fx_setup(void **state);

int
fx_teardown(void **state);

/* A second, independent store of the same backend (closed at teardown). */
cairn_store_t *
fx_aux_store(fx_t *fx, const char *name);

/* Closes and reopens the store under test (RocksDB only; a memory store
 * is kept as it is). */
void
fx_reopen(fx_t *fx);

/* ---- workflows ------------------------------------------------------------- */

typedef enum {
    FX_PLAIN = 0,
    FX_EXTRA_EXECUTOR, /* + an unreachable executor "c" */
    FX_EDGE_PREDICATE, /* a -> b only when "always" holds */
    FX_BIG,            /* big -> a, then the cycle */
} fx_variant_t;

/* Builds the cycle on registry with config (e.g. "10", "10:m4") for a and
 * b. */
cairn_workflow_t *
fx_build(const cairn_registry_t *registry, const char *config,
         fx_variant_t variant);

/* ---- running ------------------------------------------------------------------- */

/* Checkpoint ids announced by checkpoint_written events, in order. */
#define FX_MAX_EVENTS 64

typedef struct {
    char ids[FX_MAX_EVENTS][CAIRN_CHECKPOINT_ID_MAX];
    size_t count;
} fx_events_t;

void
fx_on_event(const cairn_event_t *event, void *userdata);

cairn_run_options_t
fx_options(cairn_store_t *store, const char *run_id);

/* Runs wf on input "0", asserting that the run could be driven. */
cairn_result_t *
fx_run_opts(cairn_engine_t *engine, const cairn_workflow_t *wf,
            const cairn_run_options_t *opts);

/* Runs the plain cycle to limit with policy EVERY into store. */
cairn_result_t *
fx_run_cycle(cairn_store_t *store, const char *run_id, const char *config);

/* Resumes target, asserting success. */
cairn_result_t *
fx_resume_opts(cairn_engine_t *engine, const cairn_workflow_t *wf,
               const char *target, const cairn_run_options_t *opts);

/* ---- dumps ----------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} fx_str_t;

void CAIRN_PRINTF(2, 3)
fx_str_add(fx_str_t *s, const char *fmt, ...);

/* Status, supersteps, error code, outputs and final states; not the run
 * id. Caller frees. */
char *
fx_dump_result(const cairn_result_t *result);

/* Superstep, status, pending messages, outputs and states of a loaded
 * checkpoint; not its run id. Caller frees. */
char *
fx_dump_checkpoint(const cairn_checkpoint_t *cp);

/* The dump of an uninterrupted, completed run of the cycle. */
char *
fx_expect_result(long limit);

/* The dump of checkpoint RUN@k of a run of the cycle to limit, written
 * with the run in status. */
char *
fx_expect_checkpoint_as(long limit, long k, bool phase, const char *status);

/* The same for a checkpoint of a run that went on normally. */
char *
fx_expect_checkpoint(long limit, long k, bool phase);

/* Asserts that the dump of result equals expected (freed). */
void
fx_assert_result(const cairn_result_t *result, char *expected);

/* Loads id, asserting success. */
cairn_checkpoint_t *
fx_load(cairn_store_t *store, const char *id);

/* The dump of checkpoint id (loaded and freed). */
char *
fx_load_dump(cairn_store_t *store, const char *id);

/* ---- listings ------------------------------------------------------------------ */

/* A run's checkpoints, newest first, asserting success. */
cairn_checkpoint_info_t *
fx_list(cairn_store_t *store, const char *run_id, size_t limit,
        const char *tag, size_t *count);

size_t
fx_count(cairn_store_t *store, const char *run_id);

void
fx_assert_steps(cairn_store_t *store, const char *run_id, const char *tag,
                const char *expected);

/* The triggers of a run's checkpoints, newest first, as "end policy". */
void
fx_assert_triggers(cairn_store_t *store, const char *run_id,
                   const char *expected);

/* Each listed checkpoint's parent is the next older one; the oldest has
 * parent first_parent ("" for a run that is not a fork). */
void
fx_assert_chain(cairn_store_t *store, const char *run_id,
                const char *first_parent);

void
fx_latest(cairn_store_t *store, const char *run_id,
          char out[CAIRN_CHECKPOINT_ID_MAX]);

cairn_run_info_t *
fx_get_run(cairn_store_t *store, const char *run_id);

/* Asserts that err names what. */
void
fx_assert_mentions(const cairn_error_t *err, const char *what);

uint64_t
fx_now_ms(void);

void
fx_sleep_ms(long ms);

#define FX_TEST(fn, backend)                                                   \
    {                                                                          \
        #fn "(" #backend ")", fn, fx_setup, fx_teardown,                       \
            (void *)&fx_##backend                                              \
    }

#endif
