/* engine.c - the public engine API: open, close, run, resume.
 *
 * The top of the engine's one-way chain: this file turns the options into
 * the engine's settings, opens and closes the host table (host_table.c:
 * the ROUTER, the host threads, the workers) and hands each run or resume
 * to the coordinator (coordinator.h). The coordinator reads the host
 * table but never calls back up here, and the host table calls neither.
 *
 * Threading: an engine is used by one thread at a time; a run executes on
 * the caller's thread (engine.h).
 */
#include <stdio.h>
#include <unistd.h>

#include "base/affinity.h"
#include "base/util.h"
#include "cairn/worker.h"
#include "engine/coordinator.h"
#include "engine/host_table.h"

const char *
cairn_status_name(cairn_status_t status)
{
    static const char *const names[] = {"running", "completed", "waiting",
                                        "failed",  "paused",    "cancelled"};
    if ((size_t)status < sizeof names / sizeof names[0])
        return names[status];
    return "unknown";
}

const char *
cairn_event_kind_name(cairn_event_kind_t kind)
{
    static const char *const names[] = {
        "run_started",        "run_ended",          "superstep_started",
        "superstep_completed", "executor_invoked",  "executor_completed",
        "executor_failed",    "output",             "message_dropped",
        "state_conflict",     "checkpoint_written", "worker_joined",
        "worker_lost",        "request",            "executor_retry",
        "dead_letter",        "executor_moved"};
    if ((size_t)kind < sizeof names / sizeof names[0])
        return names[kind];
    return "unknown";
}

static size_t
s_default_hosts(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (size_t)cores : 1;
}

int
cairn_engine_open(cairn_engine_t **out, const cairn_registry_t *registry,
                  const cairn_engine_options_t *opts, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!out || !registry)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "engine needs an output pointer and a "
                               "registry");
    *out = NULL;
    if (cairn__process_init() != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "libsodium init failed");
    cairn_engine_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    self->registry = registry;
    self->host_count = opts && opts->host_threads ? opts->host_threads
                                                  : s_default_hosts();
    if (self->host_count > CAIRN__MAX_HOSTS / 2)
        self->host_count = CAIRN__MAX_HOSTS / 2;
    self->local_count = self->host_count;
    self->cpu = opts && opts->cpu_placement == CAIRN_CPU_SHARED
                    ? cairn__affinity_current_cpu()
                    : -1;
    self->heartbeat_us = (uint64_t)(opts && opts->heartbeat_ms
                                        ? opts->heartbeat_ms
                                        : CAIRN_DEFAULT_HEARTBEAT_MS)
                         * 1000u;
    self->min_workers = opts ? opts->min_workers : 0;
    self->on_worker_loss = opts ? opts->on_worker_loss
                                : CAIRN_WORKER_LOSS_WORKER;
    self->worker_wait_us = (uint64_t)(opts && opts->worker_wait_ms
                                          ? opts->worker_wait_ms
                                          : 10000)
                           * 1000u;
    self->max_message_size = opts && opts->max_message_size
                                 ? opts->max_message_size
                                 : CAIRN_DEFAULT_MAX_MESSAGE_SIZE;
    if (opts && opts->listen)
        snprintf(self->listen, sizeof self->listen, "%s", opts->listen);
    int rc = cairn__engine_hosts_open(self, opts, err);
    if (rc != CAIRN_OK) {
        cairn_engine_destroy(&self);
        return rc;
    }
    *out = self;
    return CAIRN_OK;
}

size_t
cairn_engine_close(cairn_engine_t **self_p, uint32_t wait_ms)
{
    if (!self_p || !*self_p)
        return 0;
    size_t left = cairn__engine_hosts_close(*self_p, wait_ms);
    free(*self_p);
    *self_p = NULL;
    return left;
}

void
cairn_engine_destroy(cairn_engine_t **self_p)
{
    (void)cairn_engine_close(self_p, CAIRN_WAIT_FOREVER);
}

size_t
cairn_engine_host_count(const cairn_engine_t *self)
{
    return self->local_count;
}

uint64_t
cairn_engine_refused_peers(const cairn_engine_t *self)
{
    return self ? atomic_load(&((cairn_engine_t *)self)->refused_peers) : 0;
}

/* CAIRN_CPU_SHARED: the calling thread coordinates on the hosts' CPU
 * for the length of the run; *saved gets its CPU set back after. */
static bool
s_pin_coordinator(const cairn_engine_t *self, cpu_set_t *saved)
{
    return self->cpu >= 0 && cairn__affinity_pin_self(self->cpu, saved) == 0;
}

int
cairn_engine_run(cairn_engine_t *self, const cairn_workflow_t *workflow,
                 const void *input, size_t input_len,
                 const cairn_run_options_t *opts, cairn_result_t **result,
                 cairn_error_t *err)
{
    cairn_error_clear(err);
    if (result)
        *result = NULL;
    if (!self || !workflow || !result || (input_len > 0 && !input))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "engine, workflow and result are required");
    cpu_set_t saved;
    bool pinned = s_pin_coordinator(self, &saved);
    int rc = cairn__coordinator_run(self, workflow, input, input_len, opts,
                                    result, err);
    if (pinned)
        cairn__affinity_restore(&saved);
    return rc;
}

int
cairn_engine_resume(cairn_engine_t *self, const cairn_workflow_t *workflow,
                    const char *target, const cairn_run_options_t *opts,
                    cairn_result_t **result, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (result)
        *result = NULL;
    if (!self || !workflow || !target || !result)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "engine, workflow, target and result are "
                               "required");
    cpu_set_t saved;
    bool pinned = s_pin_coordinator(self, &saved);
    int rc = cairn__coordinator_resume(self, workflow, target, opts, result,
                                       err);
    if (pinned)
        cairn__affinity_restore(&saved);
    return rc;
}
