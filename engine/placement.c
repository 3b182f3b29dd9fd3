/* placement.c - which host runs which executor.
 *
 * Rules (docs/workers.md): an executor goes to a live worker that offers
 * its type and, when it asks for one, carries its label; executors are
 * spread over the workers that fit them in turn. An executor without a
 * label whose type the coordinator's registry knows may run in-process
 * (the fallback, or the first choice for the executors of a lost worker
 * under CAIRN_WORKER_LOSS_IN_PROCESS). An executor with a label, or of a
 * type only workers offer, never runs in-process: the coordinator waits
 * (bounded) for a worker that fits it (coordinator.c). Nor, for the rest
 * of the run, does an executor that was running on a worker that was
 * lost (its handler may be what killed the worker; in-process it would
 * take the coordinator with it), unless CAIRN_WORKER_LOSS_IN_PROCESS.
 * And while a worker that would fit an executor is suspended (lost for
 * its silence, maybe alive: a loaded machine), the executor waits for a
 * worker, up to the worker wait since the suspension, before it falls
 * back in-process: when every worker went silent at once, a handler
 * meant for workers (one that may crash) would otherwise run in the
 * coordinator.
 *
 * Only reads the engine's host table and the workflow; the one thing it
 * changes is run->placement_turn. Runs on the coordinator's thread.
 */
#include "engine/placement.h"

#include <stdio.h>
#include <string.h>

/* Whether the workflow alone says x runs only on workers. */
static bool
s_spec_needs_worker(const cairn__run_t *run, size_t x)
{
    const cairn__executor_t *exec = &run->wf->executors[x];
    return exec->label != NULL
           || cairn_registry_executor(run->engine->registry, exec->type)
                  == NULL;
}

/* Whether worker h announced the label x asks for (if any). */
static bool
s_has_label(const cairn__run_t *run, size_t h, size_t x)
{
    const cairn__executor_t *exec = &run->wf->executors[x];
    const cairn__host_info_t *host = &run->engine->hosts[h];
    if (!exec->label)
        return true;
    for (size_t i = 0; i < host->label_count; i++)
        if (strcmp(host->labels[i], exec->label) == 0)
            return true;
    return false;
}

/* Whether worker h announced what x asks for: its type and label. */
static bool
s_announced(const cairn__run_t *run, size_t h, size_t x)
{
    return cairn__engine_worker_announced(run->engine, h,
                                          run->wf->executors[x].type)
           && s_has_label(run, h, x);
}

/* Whether a worker suspended less than the worker wait ago would fit x. */
static bool
s_suspended_fits(const cairn__run_t *run, size_t x)
{
    const cairn_engine_t *engine = run->engine;
    uint64_t now = 0; /* read only when some worker is suspended */
    for (size_t h = engine->local_count; h < engine->host_count; h++) {
        if (!engine->hosts[h].suspended)
            continue;
        now = now ? now : cairn__monotonic_us();
        if (now - engine->hosts[h].suspended_us < engine->worker_wait_us
            && s_announced(run, h, x))
            return true;
    }
    return false;
}

bool
cairn__placement_held_off_local(const cairn__run_t *run, size_t x)
{
    return (run->crashed[x] || run->silent_on[x] || s_suspended_fits(run, x))
           && run->engine->on_worker_loss != CAIRN_WORKER_LOSS_IN_PROCESS
           && !s_spec_needs_worker(run, x);
}

bool
cairn__placement_needs_worker(const cairn__run_t *run, size_t x)
{
    return s_spec_needs_worker(run, x)
           || cairn__placement_held_off_local(run, x);
}

bool
cairn__placement_worker_fits(const cairn__run_t *run, size_t h, size_t x)
{
    const cairn_engine_t *engine = run->engine;
    const cairn__executor_t *exec = &run->wf->executors[x];
    assert(h < engine->host_count);
    /* host_offers checks a worker's announced types (and that it lives). */
    return engine->hosts[h].remote
           && cairn__engine_host_offers(engine, h, exec->type)
           && s_has_label(run, h, x);
}

long
cairn__placement_pick(cairn__run_t *run, size_t x, bool local_first)
{
    const cairn_engine_t *engine = run->engine;
    /* Picks stay within the host table (worker_loss.c checks the result
     * again): a local slot below local_count, a worker slot below
     * host_count. */
    assert(engine->local_count > 0 && engine->local_count <= engine->host_count);
    size_t local = x % engine->local_count;
    bool local_ok =
        !cairn__placement_needs_worker(run, x)
        && cairn__engine_host_offers(engine, local, run->wf->executors[x].type);
    if (local_first && local_ok)
        return (long)local;
    size_t fitting = 0;
    for (size_t h = engine->local_count; h < engine->host_count; h++)
        fitting += cairn__placement_worker_fits(run, h, x);
    if (fitting > 0) {
        size_t pick = run->placement_turn++ % fitting;
        for (size_t h = engine->local_count; h < engine->host_count; h++)
            if (cairn__placement_worker_fits(run, h, x) && pick-- == 0)
                return (long)h;
    }
    return local_ok ? (long)local : -1;
}

long
cairn__placement_unmet(const cairn__run_t *run, const bool *only)
{
    const cairn_engine_t *engine = run->engine;
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        if ((only && !only[x]) || !cairn__placement_needs_worker(run, x))
            continue;
        bool fits = false;
        for (size_t h = engine->local_count; !fits && h < engine->host_count;
             h++)
            fits = cairn__placement_worker_fits(run, h, x);
        if (!fits)
            return (long)x;
    }
    return -1;
}

int
cairn__placement_missing(const cairn__run_t *run, size_t x, int code,
                         const char *when, cairn_error_t *err)
{
    const cairn__executor_t *exec = &run->wf->executors[x];
    const cairn_engine_t *engine = run->engine;
    char label[96] = "";
    if (exec->label)
        snprintf(label, sizeof label, ", label '%s'", exec->label);
    const char *what = exec->label ? "that type with that label" : "that type";
    if (!cairn__engine_listens(engine))
        return cairn_error_set(err, code,
                               "%sexecutor '%s' (type '%s'%s) can only run "
                               "on a worker offering %s, and this engine "
                               "does not listen for workers",
                               when, exec->id, exec->type, label, what);
    return cairn_error_set(
        err, code,
        "%sexecutor '%s' (type '%s'%s): no worker "
        "offering %s joined within %llu ms",
        when, exec->id, exec->type, label, what,
        (unsigned long long)(engine->worker_wait_us / 1000u));
}

void
cairn__placement_moved_detail(const cairn__run_t *run, const char *from,
                              size_t to, char *out, size_t size)
{
    /* Only a placement (within the host table) is reported as a move. */
    if (NEVER(to >= run->engine->host_count)) {
        snprintf(out, size, "from %s to an unknown host", from);
        return;
    }
    const cairn__host_info_t *host = &run->engine->hosts[to];
    snprintf(out, size, "from %s to %s", from,
             host->remote ? host->id : "in-process");
}
