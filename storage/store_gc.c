/* store_gc.c - retention, garbage collection and deleting runs.
 *
 * Retention deletes checkpoint manifests and in-flight records; the
 * state versions they read stay until gc. It keeps the newest checkpoint
 * of every run and every fork point, and marks each kept checkpoint whose
 * parent it deletes (parent_pruned): that checkpoint is where its run's
 * kept history starts, so verify, load and export know the gap is
 * retention's, not damage (docs/storage.md, "Retention and gc").
 *
 * gc keeps a version exactly when some remaining checkpoint of its run,
 * or a fork point into its run, resolves to it: a version written at
 * superstep s and superseded at s' serves the checkpoints in [s, s').
 * Everything a kept checkpoint reads is therefore still there after gc.
 */
#include <stdlib.h>
#include <string.h>

#include "base/ids.h"
#include "base/util.h"
#include "storage/record.h"
#include "storage/store_internal.h"

typedef struct {
    uint64_t *items; /* sorted ascending */
    size_t count;
} s_steps_t;

static int
s_compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool
s_steps_add(s_steps_t *steps, uint64_t step)
{
    if (!CAIRN__GROW(steps->items, steps->count))
        return false;
    steps->items[steps->count++] = step;
    return true;
}

/* True when some step lies in [from, to). */
static bool
s_steps_any_in(const s_steps_t *steps, uint64_t from, uint64_t to)
{
    size_t low = 0, high = steps->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (steps->items[mid] < from)
            low = mid + 1;
        else
            high = mid;
    }
    return low < steps->count && steps->items[low] < to;
}

/* Calls fn for every key of cf that starts with prefix. */
static int
s_each_with_prefix(cairn_store_t *self, cairn__cf_t cf,
                   const cairn__key_t *prefix,
                   int (*fn)(void *userdata, const uint8_t *key, size_t len,
                             const uint8_t *value, size_t value_len),
                   void *userdata, cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, cf);
    if (!it)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    int rc = CAIRN_OK;
    for (ops->iter_seek(it, prefix->data, prefix->len);
         rc == CAIRN_OK && ops->iter_valid(it); ops->iter_next(it)) {
        size_t len, value_len;
        const uint8_t *key = ops->iter_key(it, &len);
        if (!cairn__key_has_prefix(key, len, prefix))
            break;
        const uint8_t *value = ops->iter_value(it, &value_len);
        rc = fn(userdata, key, len, value, value_len);
    }
    if (rc != CAIRN_OK) /* fn fails only when out of memory */
        cairn_error_set(err, rc, "out of memory");
    /* A walk cut short by a read error must not delete on what it saw. */
    return cairn__store_iter_end(self, it, rc, err);
}

typedef struct {
    cairn_store_t *store;
    cairn__batch_t *batch;
    cairn__cf_t cf;
    size_t deleted;
} s_deleter_t;

static int
s_delete_key(void *userdata, const uint8_t *key, size_t len,
             const uint8_t *value, size_t value_len)
{
    (void)value, (void)value_len;
    s_deleter_t *d = userdata;
    d->store->backend->ops->batch_delete(d->batch, d->cf, key, len);
    d->deleted++;
    return CAIRN_OK;
}

static int
s_commit(cairn_store_t *self, cairn__batch_t *batch, cairn_error_t *err)
{
    int rc = self->backend->ops->batch_commit(
        self->backend, batch, self->durability == CAIRN_DURABILITY_MACHINE,
        err);
    self->backend->ops->batch_free(batch);
    return rc;
}

/* ---- retention -------------------------------------------------------------- */

/* The supersteps of run_id other runs were forked from (unsorted). */
static int
s_fork_points(const char *run_id, const cairn_run_info_t *runs,
              size_t run_count, s_steps_t *steps, cairn_error_t *err)
{
    for (size_t i = 0; i < run_count; i++) {
        char parent_run[80];
        uint64_t step;
        if (cairn__checkpoint_id_parse(runs[i].parent, parent_run,
                                       sizeof parent_run, &step)
            && strcmp(parent_run, run_id) == 0 && !s_steps_add(steps, step))
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    if (steps->count) /* qsort must not see NULL, even for 0 items */
        qsort(steps->items, steps->count, sizeof *steps->items,
              s_compare_u64);
    return CAIRN_OK;
}

/* Rewrites the manifest of checkpoint info with parent_pruned set: its
 * parent goes in this batch, so the run's kept history starts here. */
static int
s_mark_pruned(cairn_store_t *self, cairn__batch_t *batch,
              const cairn_checkpoint_info_t *info, cairn_error_t *err)
{
    cairn__key_step(&self->key, info->run_id, info->superstep);
    char what[160];
    snprintf(what, sizeof what, "checkpoint %s", info->id);
    Cairn__CheckpointRecord *manifest = NULL;
    int rc = cairn__store_read(self, CAIRN__CF_CHECKPOINTS, &self->key,
                               &cairn__checkpoint_record__descriptor, what,
                               (ProtobufCMessage **)&manifest, err);
    if (rc != CAIRN_OK)
        return rc;
    manifest->parent_pruned = true;
    if (!cairn__store_batch_record(self, batch, CAIRN__CF_CHECKPOINTS,
                                   &self->key, &manifest->base))
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__checkpoint_record__free_unpacked(manifest, NULL);
    return rc;
}

/* Whether retention deletes infos[i] (newest first): beyond the newest
 * keep_last or older than cutoff_ms, never the newest and never a fork
 * point (a fork's lineage goes through it). */
static bool
s_expired(const cairn_checkpoint_info_t *infos, size_t i, size_t keep_last,
          uint64_t cutoff_ms, const s_steps_t *fork_points)
{
    bool too_many = keep_last > 0 && i >= keep_last;
    bool too_old = cutoff_ms > 0 && infos[i].timestamp_ms < cutoff_ms;
    return i > 0 && (too_many || too_old)
           && !s_steps_any_in(fork_points, infos[i].superstep,
                              infos[i].superstep + 1);
}

/* Deletes the expired checkpoints of one run and, in the same batch,
 * marks each kept checkpoint whose parent goes (docs/storage.md,
 * "Retention and gc": the pruned-lineage rule). */
static int
s_retain_run(cairn_store_t *self, const char *run_id,
             const cairn_run_info_t *runs, size_t run_count, size_t keep_last,
             uint64_t cutoff_ms, size_t *deleted, cairn_error_t *err)
{
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    s_steps_t fork_points = {0}, gone = {0};
    cairn__batch_t *batch = NULL;
    int rc = cairn_store_list_checkpoints(self, run_id, 0, NULL, &infos,
                                          &count, err);
    if (rc == CAIRN_OK)
        rc = s_fork_points(run_id, runs, run_count, &fork_points, err);
    if (rc == CAIRN_OK && !(batch = self->backend->ops->batch_new(
                                self->backend)))
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__key_t key = {0};
    /* oldest first, so gone stays sorted */
    for (size_t i = count; rc == CAIRN_OK && i-- > 0;) {
        if (!s_expired(infos, i, keep_last, cutoff_ms, &fork_points))
            continue;
        cairn__key_step(&key, run_id, infos[i].superstep);
        self->backend->ops->batch_delete(batch, CAIRN__CF_CHECKPOINTS,
                                         key.data, key.len);
        self->backend->ops->batch_delete(batch, CAIRN__CF_INFLIGHT, key.data,
                                         key.len);
        if (!s_steps_add(&gone, infos[i].superstep))
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == CAIRN_OK && gone.count && i < count; i++) {
        char parent_run[80];
        uint64_t step;
        if (!s_steps_any_in(&gone, infos[i].superstep,
                            infos[i].superstep + 1)
            && cairn__checkpoint_id_parse(infos[i].parent, parent_run,
                                          sizeof parent_run, &step)
            && strcmp(parent_run, run_id) == 0
            && s_steps_any_in(&gone, step, step + 1))
            rc = s_mark_pruned(self, batch, &infos[i], err);
    }
    if (rc == CAIRN_OK && key.out_of_memory)
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc == CAIRN_OK && gone.count) {
        rc = s_commit(self, batch, err);
        batch = NULL;
    }
    if (rc == CAIRN_OK)
        *deleted += gone.count;
    if (batch)
        self->backend->ops->batch_free(batch);
    cairn__key_free(&key);
    free(fork_points.items);
    free(gone.items);
    cairn_checkpoint_info_destroy(&infos, count);
    return rc;
}

int
cairn_store_retain(cairn_store_t *self, size_t keep_last,
                   uint64_t older_than_ms, size_t *deleted,
                   cairn_error_t *err)
{
    cairn_error_clear(err);
    *deleted = 0;
    if (self->read_only)
        return cairn_error_set(err, CAIRN_ESTATE, "store is read-only");
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    int rc = cairn_store_list_runs(self, &runs, &run_count, err);
    uint64_t now = cairn__wall_ms();
    uint64_t cutoff = older_than_ms && older_than_ms < now
                          ? now - older_than_ms
                          : 0;
    for (size_t i = 0; rc == CAIRN_OK && i < run_count; i++)
        rc = s_retain_run(self, runs[i].id, runs, run_count, keep_last, cutoff,
                          deleted, err);
    cairn_run_info_destroy(&runs, run_count);
    return rc;
}

/* ---- gc ---------------------------------------------------------------------- */

/* The supersteps of run_id that something still reads: its checkpoints
 * and the fork points of runs forked from it. */
static int
s_referenced_steps(cairn_store_t *self, const char *run_id,
                   const cairn_run_info_t *runs, size_t run_count,
                   s_steps_t *steps, cairn_error_t *err)
{
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    int rc = cairn_store_list_checkpoints(self, run_id, 0, NULL, &infos,
                                          &count, err);
    for (size_t i = 0; rc == CAIRN_OK && i < count; i++)
        if (!s_steps_add(steps, infos[i].superstep))
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn_checkpoint_info_destroy(&infos, count);
    return rc == CAIRN_OK ? s_fork_points(run_id, runs, run_count, steps, err)
                          : rc;
}

typedef struct {
    cairn_store_t *store;
    cairn__batch_t *batch;
    const s_steps_t *steps;
    cairn__versions_t versions;
    size_t removed;
} s_collector_t;

/* Visits versions newest first within a group (keys sort that way). */
static int
s_collect_version(void *userdata, const uint8_t *key, size_t len,
                  const uint8_t *value, size_t value_len)
{
    (void)value, (void)value_len;
    s_collector_t *c = userdata;
    if (len < 8)
        return CAIRN_OK;
    uint64_t step, superseded;
    if (!cairn__versions_next(&c->versions, key, len, &step, &superseded))
        return CAIRN_ENOMEM;
    if (!s_steps_any_in(c->steps, step, superseded)) {
        c->store->backend->ops->batch_delete(c->batch, CAIRN__CF_STATE, key,
                                             len);
        c->removed++;
    }
    return CAIRN_OK;
}

/* Deletes, in one batch, what fn picks among the keys of cf with prefix. */
static int
s_delete_picked(cairn_store_t *self, cairn__cf_t cf, const cairn__key_t *prefix,
                int (*fn)(void *, const uint8_t *, size_t, const uint8_t *,
                          size_t),
                void *picker, cairn__batch_t **batch_slot, cairn_error_t *err)
{
    *batch_slot = self->backend->ops->batch_new(self->backend);
    if (!*batch_slot)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    int rc = s_each_with_prefix(self, cf, prefix, fn, picker, err);
    if (rc != CAIRN_OK) {
        self->backend->ops->batch_free(*batch_slot);
        return rc;
    }
    return s_commit(self, *batch_slot, err);
}

static int
s_gc_run(cairn_store_t *self, const cairn_run_info_t *run,
         const cairn_run_info_t *runs, size_t run_count, size_t *removed,
         cairn_error_t *err)
{
    s_steps_t steps = {0};
    cairn__key_t prefix = {0};
    cairn__key_add_text(&prefix, run->id, true);
    int rc = s_referenced_steps(self, run->id, runs, run_count, &steps, err);
    s_collector_t collector = {self, NULL, &steps, {NULL, 0, 0}, 0};
    if (rc == CAIRN_OK)
        rc = s_delete_picked(self, CAIRN__CF_STATE, &prefix,
                             s_collect_version, &collector, &collector.batch,
                             err);
    *removed += collector.removed;
    /* A run that has ended needs no pending writes; a running (or
     * interrupted) one may need them to resume. */
    s_deleter_t pending = {self, NULL, CAIRN__CF_PENDING, 0};
    if (rc == CAIRN_OK && strcmp(run->status, "running") != 0)
        rc = s_delete_picked(self, CAIRN__CF_PENDING, &prefix, s_delete_key,
                             &pending, &pending.batch, err);
    *removed += pending.deleted;
    cairn__versions_free(&collector.versions);
    free(steps.items);
    cairn__key_free(&prefix);
    return rc;
}

int
cairn_store_gc(cairn_store_t *self, size_t *removed, cairn_error_t *err)
{
    cairn_error_clear(err);
    *removed = 0;
    if (self->read_only)
        return cairn_error_set(err, CAIRN_ESTATE, "store is read-only");
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    int rc = cairn_store_list_runs(self, &runs, &run_count, err);
    for (size_t i = 0; rc == CAIRN_OK && i < run_count; i++)
        rc = s_gc_run(self, &runs[i], runs, run_count, removed, err);
    cairn_run_info_destroy(&runs, run_count);
    return rc;
}

/* ---- deleting a run ---------------------------------------------------------- */

int
cairn_store_delete_run(cairn_store_t *self, const char *run_id,
                       cairn_error_t *err)
{
    cairn_error_clear(err);
    if (self->read_only)
        return cairn_error_set(err, CAIRN_ESTATE, "store is read-only");
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    int rc = cairn_store_list_runs(self, &runs, &run_count, err);
    bool known = false;
    for (size_t i = 0; rc == CAIRN_OK && i < run_count; i++) {
        char parent_run[80];
        uint64_t step;
        known = known || strcmp(runs[i].id, run_id) == 0;
        if (cairn__checkpoint_id_parse(runs[i].parent, parent_run,
                                       sizeof parent_run, &step)
            && strcmp(parent_run, run_id) == 0)
            rc = cairn_error_set(err, CAIRN_ESTATE,
                                 "run '%s' has a fork, '%s': delete the fork "
                                 "first",
                                 run_id, runs[i].id);
    }
    cairn_run_info_destroy(&runs, run_count);
    if (rc == CAIRN_OK && !known)
        rc = cairn_error_set(err, CAIRN_ENOTFOUND, "unknown run '%s'", run_id);
    if (rc != CAIRN_OK)
        return rc;
    cairn__batch_t *batch = self->backend->ops->batch_new(self->backend);
    if (!batch)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__key_t prefix = {0};
    cairn__key_add_text(&prefix, run_id, true);
    static const cairn__cf_t kinds[] = {CAIRN__CF_CHECKPOINTS,
                                        CAIRN__CF_INFLIGHT, CAIRN__CF_STATE,
                                        CAIRN__CF_OUTPUTS, CAIRN__CF_PENDING,
                                        CAIRN__CF_EVENTS};
    for (size_t i = 0; rc == CAIRN_OK && i < sizeof kinds / sizeof kinds[0];
         i++) {
        s_deleter_t deleter = {self, batch, kinds[i], 0};
        rc = s_each_with_prefix(self, kinds[i], &prefix, s_delete_key,
                                &deleter, err);
    }
    cairn__key_reset(&prefix);
    cairn__key_add_text(&prefix, run_id, false);
    self->backend->ops->batch_delete(batch, CAIRN__CF_RUNS, prefix.data,
                                     prefix.len);
    if (rc == CAIRN_OK && !prefix.out_of_memory)
        rc = s_commit(self, batch, err);
    else {
        self->backend->ops->batch_free(batch);
        if (rc == CAIRN_OK)
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    cairn__key_free(&prefix);
    return rc;
}
