/* test_placement - which host runs which executor (engine/placement.c),
 * without threads or sockets.
 *
 * Each case builds a workflow with the real builder and an engine whose
 * host table is filled by hand (host_table.h): in-process hosts, and
 * workers with the types and labels they announced, alive or lost. The
 * decisions read nothing else, so the table is all a case has to set up.
 *
 * The workflow "w": executors sorted by id
 *   a, b, c  type t.local (the registry knows it)
 *   gpu      type t.local, label "gpu"
 *   remote   type t.remote (only workers offer it)
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
#include "engine/placement.h"
#include "tests/harness/harness.h"

#define S_LOCAL_HOSTS 2

typedef struct {
    cairn_registry_t *registry;
    cairn_workflow_t *wf;
    cairn_engine_t engine; /* only the host table and settings are used */
    cairn__run_t run;      /* only engine, wf, crashed, silent_on,
                              placement_turn */
} s_fixture_t;

static cairn_workflow_t *
s_build(const cairn_registry_t *registry)
{
    cairn_builder_t *b = cairn_builder_new(registry);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    const char *local[] = {"c", "a", "b", "gpu"};
    bool ok = b != NULL;
    for (size_t i = 0; ok && i < 4; i++)
        ok = cairn_builder_add_executor(b, local[i], "t.local", NULL, 0)
             == CAIRN_OK;
    ok = ok
         && cairn_builder_add_executor(b, "remote", "t.remote", NULL, 0)
                == CAIRN_OK
         && cairn_builder_set_label(b, "gpu", "gpu") == CAIRN_OK
         && cairn_builder_add_edge(b, "a", "b", NULL, NULL, 0) == CAIRN_OK
         && cairn_builder_add_edge(b, "a", "c", NULL, NULL, 0) == CAIRN_OK
         && cairn_builder_add_edge(b, "a", "gpu", NULL, NULL, 0) == CAIRN_OK
         && cairn_builder_add_edge(b, "a", "remote", NULL, NULL, 0)
                == CAIRN_OK
         && cairn_builder_set_start(b, "a") == CAIRN_OK;
    if (ok) {
        cairn_builder_allow_worker_types(b, true);
        ok = cairn_builder_build(b, &wf, &err) == CAIRN_OK;
        if (!ok)
            fprintf(stderr, "build: %s\n", err.message);
    }
    cairn_builder_destroy(&b);
    return ok ? wf : NULL;
}

static int
s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    const cairn_executor_type_t local = {"t.local", th_handler_noop, NULL,
                                         NULL, NULL};
    f->registry = th_registry_open(false, NULL, &local, 1);
    if (!f->registry || !(f->wf = s_build(f->registry)))
        return -1;
    cairn_engine_t *engine = &f->engine;
    engine->registry = f->registry;
    engine->on_worker_loss = CAIRN_WORKER_LOSS_WORKER;
    engine->worker_wait_us = 2500 * 1000u;
    engine->hosts = calloc(CAIRN__MAX_HOSTS, sizeof *engine->hosts);
    if (!engine->hosts)
        return -1;
    for (size_t h = 0; h < S_LOCAL_HOSTS; h++) {
        snprintf(engine->hosts[h].id, sizeof engine->hosts[h].id, "host-%zu",
                 h);
        engine->hosts[h].alive = true;
    }
    engine->local_count = engine->host_count = S_LOCAL_HOSTS;
    f->run.engine = engine;
    f->run.wf = f->wf;
    f->run.crashed = calloc(f->wf->executor_count, sizeof *f->run.crashed);
    f->run.silent_on = calloc(f->wf->executor_count,
                              sizeof *f->run.silent_on);
    return f->run.crashed && f->run.silent_on ? 0 : -1;
}

static void
s_free_strings(char **strings, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(strings[i]);
    free(strings);
}

static int
s_teardown(void **state)
{
    s_fixture_t *f = *state;
    for (size_t h = 0; f->engine.hosts && h < f->engine.host_count; h++) {
        s_free_strings(f->engine.hosts[h].types, f->engine.hosts[h].type_count);
        s_free_strings(f->engine.hosts[h].labels,
                       f->engine.hosts[h].label_count);
    }
    free(f->engine.hosts);
    free(f->run.crashed);
    free(f->run.silent_on);
    cairn_workflow_destroy(&f->wf);
    cairn_registry_destroy(&f->registry);
    free(f);
    return 0;
}

/* Copies a NULL-terminated list. */
static char **
s_strings(const char *const *list, size_t *n)
{
    for (*n = 0; list && list[*n];)
        ++*n;
    char **out = calloc(*n ? *n : 1, sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < *n; i++)
        assert_non_null(out[i] = strdup(list[i]));
    return out;
}

/* A worker joins as the next slot of the table, as a Hello would add it. */
static size_t
s_add_worker(s_fixture_t *f, const char *id, const char *const *types,
             const char *const *labels)
{
    size_t h = f->engine.host_count++;
    cairn__host_info_t *host = &f->engine.hosts[h];
    snprintf(host->id, sizeof host->id, "%s", id);
    host->remote = true;
    host->alive = true;
    host->types = s_strings(types, &host->type_count);
    host->labels = s_strings(labels, &host->label_count);
    return h;
}

static size_t
s_x(const s_fixture_t *f, const char *id)
{
    long x = cairn__workflow_find(f->wf, id);
    assert_true(x >= 0);
    return (size_t)x;
}

static const char *const s_local_types[] = {"t.local", NULL};
static const char *const s_remote_types[] = {"t.remote", NULL};
static const char *const s_both_types[] = {"t.local", "t.remote", NULL};
static const char *const s_gpu_label[] = {"gpu", NULL};

/* Without workers, executors the registry knows go to the in-process
 * hosts by their rank in id order: neighbours land on different hosts. */
static void
test_placement_in_process_by_id_rank(void **state)
{
    s_fixture_t *f = *state;
    const char *ids[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        size_t x = s_x(f, ids[i]);
        assert_false(cairn__placement_needs_worker(&f->run, x));
        assert_int_equal(cairn__placement_pick(&f->run, x, false),
                         x % S_LOCAL_HOSTS);
        assert_int_equal(cairn__placement_pick(&f->run, x, true),
                         x % S_LOCAL_HOSTS);
    }
    assert_int_equal(f->run.placement_turn, 0); /* no worker was chosen */
}

/* A label or a type only workers offer keeps an executor off the
 * in-process hosts: with no worker that fits there is no host. */
static void
test_placement_label_and_worker_type_need_a_worker(void **state)
{
    s_fixture_t *f = *state;
    size_t gpu = s_x(f, "gpu"), remote = s_x(f, "remote");
    assert_true(cairn__placement_needs_worker(&f->run, gpu));
    assert_true(cairn__placement_needs_worker(&f->run, remote));
    assert_int_equal(cairn__placement_pick(&f->run, gpu, false), -1);
    assert_int_equal(cairn__placement_pick(&f->run, remote, true), -1);
    assert_int_equal(cairn__placement_unmet(&f->run, NULL), (long)gpu);
}

/* A worker fits when it offers the type and, for a labelled executor,
 * announced the label too. */
static void
test_placement_worker_needs_type_and_label(void **state)
{
    s_fixture_t *f = *state;
    size_t gpu = s_x(f, "gpu"), remote = s_x(f, "remote");
    size_t plain = s_add_worker(f, "plain", s_both_types, NULL);
    assert_false(cairn__placement_worker_fits(&f->run, plain, gpu));
    assert_true(cairn__placement_worker_fits(&f->run, plain, remote));
    assert_int_equal(cairn__placement_pick(&f->run, gpu, false), -1);
    assert_int_equal(cairn__placement_pick(&f->run, remote, false),
                     (long)plain);
    assert_int_equal(cairn__placement_unmet(&f->run, NULL), (long)gpu);

    size_t labelled = s_add_worker(f, "w-gpu", s_remote_types, s_gpu_label);
    /* The label alone is not enough: it does not offer t.local. */
    assert_false(cairn__placement_worker_fits(&f->run, labelled, gpu));
    size_t fits = s_add_worker(f, "w-gpu2", s_local_types, s_gpu_label);
    assert_true(cairn__placement_worker_fits(&f->run, fits, gpu));
    assert_int_equal(cairn__placement_pick(&f->run, gpu, false), (long)fits);
    assert_int_equal(cairn__placement_unmet(&f->run, NULL), -1);
}

/* In-process hosts are never "workers that fit", whatever they offer. */
static void
test_placement_in_process_host_is_no_worker(void **state)
{
    s_fixture_t *f = *state;
    for (size_t h = 0; h < S_LOCAL_HOSTS; h++)
        assert_false(cairn__placement_worker_fits(&f->run, h, s_x(f, "a")));
}

/* Workers that fit come first and take turns; local_first keeps an
 * executor that may run in-process on its in-process host. */
static void
test_placement_workers_first_in_turn(void **state)
{
    s_fixture_t *f = *state;
    size_t a = s_x(f, "a");
    size_t w1 = s_add_worker(f, "w1", s_local_types, NULL);
    size_t w2 = s_add_worker(f, "w2", s_both_types, NULL);
    assert_int_equal(cairn__placement_pick(&f->run, a, false), (long)w1);
    assert_int_equal(cairn__placement_pick(&f->run, a, false), (long)w2);
    assert_int_equal(cairn__placement_pick(&f->run, a, false), (long)w1);
    assert_int_equal(cairn__placement_pick(&f->run, a, true),
                     (long)(a % S_LOCAL_HOSTS));
    assert_int_equal(f->run.placement_turn, 3);
}

/* Lost workers, and workers about to be lost (their connection is
 * gone), are not picked: an executor that may run in-process falls back
 * there, one that needs a worker has no host. */
static void
test_placement_skips_lost_workers(void **state)
{
    s_fixture_t *f = *state;
    size_t a = s_x(f, "a"), remote = s_x(f, "remote");
    size_t lost = s_add_worker(f, "lost", s_both_types, NULL);
    size_t gone = s_add_worker(f, "gone", s_both_types, NULL);
    f->engine.hosts[lost].alive = false;
    f->engine.hosts[gone].unreachable = true;
    assert_false(cairn__placement_worker_fits(&f->run, lost, a));
    assert_false(cairn__placement_worker_fits(&f->run, gone, a));
    assert_int_equal(cairn__placement_pick(&f->run, a, false),
                     (long)(a % S_LOCAL_HOSTS));
    assert_int_equal(cairn__placement_pick(&f->run, remote, false), -1);
    assert_int_equal(cairn__placement_unmet(&f->run, NULL),
                     (long)s_x(f, "gpu"));

    size_t back = s_add_worker(f, "lost", s_both_types, NULL); /* new slot */
    assert_int_equal(cairn__placement_pick(&f->run, remote, false),
                     (long)back);
}

/* An executor that was running on a lost worker stays off the
 * in-process hosts for the rest of the run, unless the engine moves lost
 * workers' executors in-process; then it goes there first. */
static void
test_placement_crashed_held_off_in_process(void **state)
{
    s_fixture_t *f = *state;
    size_t b = s_x(f, "b");
    f->run.crashed[b] = true;
    assert_true(cairn__placement_held_off_local(&f->run, b));
    assert_true(cairn__placement_needs_worker(&f->run, b));
    assert_int_equal(cairn__placement_pick(&f->run, b, true), -1);
    size_t w = s_add_worker(f, "w", s_local_types, NULL);
    assert_int_equal(cairn__placement_pick(&f->run, b, true), (long)w);

    f->engine.on_worker_loss = CAIRN_WORKER_LOSS_IN_PROCESS;
    assert_false(cairn__placement_held_off_local(&f->run, b));
    assert_int_equal(cairn__placement_pick(&f->run, b, true),
                     (long)(b % S_LOCAL_HOSTS));
}

/* An executor whose worker went silent while it ran (silent_on) is held
 * off in-process like a crashed one; and while a worker that would fit
 * it is suspended (lost for its silence, maybe alive) any executor waits
 * for a worker, up to the worker wait since the suspension, before it
 * falls back in-process. */
static void
test_placement_silent_worker_holds_off_in_process(void **state)
{
    s_fixture_t *f = *state;
    size_t b = s_x(f, "b");
    f->engine.worker_wait_us = 10u * 1000u * 1000u;
    f->run.silent_on[b] = 1;
    assert_true(cairn__placement_held_off_local(&f->run, b));
    f->run.silent_on[b] = 0;
    assert_false(cairn__placement_held_off_local(&f->run, b));

    size_t w = s_add_worker(f, "w", s_local_types, NULL);
    f->engine.hosts[w].alive = false;
    f->engine.hosts[w].suspended = true;
    f->engine.hosts[w].suspended_us = cairn__monotonic_us();
    assert_true(cairn__placement_held_off_local(&f->run, b));
    assert_int_equal(cairn__placement_pick(&f->run, b, false), -1);
    /* Suspended longer than the worker wait: not waited for any more. */
    f->engine.hosts[w].suspended_us -= f->engine.worker_wait_us;
    assert_false(cairn__placement_held_off_local(&f->run, b));
    assert_int_equal(cairn__placement_pick(&f->run, b, false),
                     (long)(b % S_LOCAL_HOSTS));
    /* A suspended worker that never offered the type is not waited for. */
    size_t r = s_add_worker(f, "r", s_remote_types, NULL);
    f->engine.hosts[r].alive = false;
    f->engine.hosts[r].suspended = true;
    f->engine.hosts[r].suspended_us = cairn__monotonic_us();
    assert_false(cairn__placement_held_off_local(&f->run, b));
    /* IN_PROCESS: the user's choice, never held. */
    f->engine.hosts[w].suspended_us = cairn__monotonic_us();
    f->engine.on_worker_loss = CAIRN_WORKER_LOSS_IN_PROCESS;
    assert_false(cairn__placement_held_off_local(&f->run, b));
}

/* A crash does not make a labelled executor "held off": it needed a
 * worker anyway, and still does under IN_PROCESS. */
static void
test_placement_crashed_label_still_needs_worker(void **state)
{
    s_fixture_t *f = *state;
    size_t gpu = s_x(f, "gpu");
    f->run.crashed[gpu] = true;
    f->engine.on_worker_loss = CAIRN_WORKER_LOSS_IN_PROCESS;
    assert_false(cairn__placement_held_off_local(&f->run, gpu));
    assert_true(cairn__placement_needs_worker(&f->run, gpu));
    assert_int_equal(cairn__placement_pick(&f->run, gpu, true), -1);
}

/* unmet looks only at the executors marked in only. */
static void
test_placement_unmet_only_marked(void **state)
{
    s_fixture_t *f = *state;
    bool *only = calloc(f->wf->executor_count, sizeof *only);
    assert_non_null(only);
    only[s_x(f, "a")] = true;
    assert_int_equal(cairn__placement_unmet(&f->run, only), -1);
    only[s_x(f, "remote")] = true;
    assert_int_equal(cairn__placement_unmet(&f->run, only),
                     (long)s_x(f, "remote"));
    s_add_worker(f, "w", s_remote_types, NULL);
    assert_int_equal(cairn__placement_unmet(&f->run, only), -1);
    free(only);
}

/* The error for an executor no worker fits names it, its type and label,
 * and says whether the engine could have had a worker at all. */
static void
test_placement_missing_names_executor_and_wait(void **state)
{
    s_fixture_t *f = *state;
    cairn_error_t err;
    assert_int_equal(cairn__placement_missing(&f->run, s_x(f, "gpu"),
                                              CAIRN_EVALIDATION, "", &err),
                     CAIRN_EVALIDATION);
    assert_non_null(strstr(err.message, "executor 'gpu' (type 't.local', "
                                        "label 'gpu')"));
    assert_non_null(strstr(err.message, "does not listen for workers"));

    snprintf(f->engine.listen, sizeof f->engine.listen, "tcp://127.0.0.1:1");
    assert_int_equal(cairn__placement_missing(&f->run, s_x(f, "remote"),
                                              CAIRN_ETRANSPORT,
                                              "worker w was lost; ", &err),
                     CAIRN_ETRANSPORT);
    assert_string_equal(err.message,
                        "worker w was lost; executor 'remote' (type "
                        "'t.remote'): no worker offering that type joined "
                        "within 2500 ms");
}

/* An executor_moved detail names the worker, or "in-process". */
static void
test_placement_moved_detail_names_host(void **state)
{
    s_fixture_t *f = *state;
    char detail[128];
    size_t w = s_add_worker(f, "w7", s_local_types, NULL);
    cairn__placement_moved_detail(&f->run, "w1", 1, detail, sizeof detail);
    assert_string_equal(detail, "from w1 to in-process");
    cairn__placement_moved_detail(&f->run, "host-0", w, detail,
                                  sizeof detail);
    assert_string_equal(detail, "from host-0 to w7");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define S_CASE(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
        S_CASE(test_placement_in_process_by_id_rank),
        S_CASE(test_placement_label_and_worker_type_need_a_worker),
        S_CASE(test_placement_worker_needs_type_and_label),
        S_CASE(test_placement_in_process_host_is_no_worker),
        S_CASE(test_placement_workers_first_in_turn),
        S_CASE(test_placement_skips_lost_workers),
        S_CASE(test_placement_crashed_held_off_in_process),
        S_CASE(test_placement_crashed_label_still_needs_worker),
        S_CASE(test_placement_silent_worker_holds_off_in_process),
        S_CASE(test_placement_unmet_only_marked),
        S_CASE(test_placement_missing_names_executor_and_wait),
        S_CASE(test_placement_moved_detail_names_host),
#undef S_CASE
    };
    if (getenv("CAIRN_TEST_FILTER")) /* run some cases only */
        cmocka_set_test_filter(getenv("CAIRN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
