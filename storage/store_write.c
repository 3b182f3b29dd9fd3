/* store_write.c - writing checkpoints and pending writes.
 *
 * A checkpoint is one atomic batch: the state versions changed since the
 * previous checkpoint, the outputs since then, the in-flight messages,
 * the manifest and the run record, and the deletion of the pending
 * writes its barrier made obsolete. Either all of it is there after a
 * crash or none of it. Pending writes (one executor's Done, stored as it
 * arrives) are never synced: losing one costs a re-run, not correctness.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "base/util.h"
#include "storage/record.h"
#include "storage/store_internal.h"

cairn__ckpt_writer_t *
cairn__ckpt_begin(cairn_store_t *self, const char *run_id, uint64_t superstep)
{
    cairn__ckpt_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->store = self;
    w->superstep = superstep;
    w->run_id = strdup(run_id);
    w->batch = self->backend->ops->batch_new(self->backend);
    if (!w->run_id || !w->batch) {
        cairn__ckpt_abort(w);
        return NULL;
    }
    return w;
}

void
cairn__ckpt_abort(cairn__ckpt_writer_t *w)
{
    if (!w)
        return;
    if (w->batch)
        w->store->backend->ops->batch_free(w->batch);
    cairn__key_free(&w->key);
    free(w->run_id);
    free(w);
}

static void
s_put(cairn__ckpt_writer_t *w, cairn__cf_t cf, const ProtobufCMessage *msg)
{
    if (!cairn__store_batch_record(w->store, w->batch, cf, &w->key, msg))
        w->out_of_memory = true;
}

void
cairn__ckpt_put_state(cairn__ckpt_writer_t *w, const char *scope,
                      const char *key, const uint8_t *data, size_t len,
                      bool deleted)
{
    cairn__key_state_group(&w->key, w->run_id, scope, key);
    cairn__key_add_u64(&w->key, ~w->superstep);
    Cairn__ValueRecord value = CAIRN__VALUE_RECORD__INIT;
    value.data.data = (uint8_t *)data;
    value.data.len = deleted ? 0 : len;
    value.deleted = deleted;
    s_put(w, CAIRN__CF_STATE, &value.base);
}

void
cairn__ckpt_put_outputs(cairn__ckpt_writer_t *w, uint64_t superstep,
                        const Cairn__OutputRecord *outputs)
{
    cairn__key_step(&w->key, w->run_id, superstep);
    s_put(w, CAIRN__CF_OUTPUTS, &outputs->base);
}

void
cairn__ckpt_put_inflight(cairn__ckpt_writer_t *w,
                         const Cairn__InflightRecord *inflight)
{
    cairn__key_step(&w->key, w->run_id, w->superstep);
    s_put(w, CAIRN__CF_INFLIGHT, &inflight->base);
}

void
cairn__ckpt_drop_pending(cairn__ckpt_writer_t *w, uint64_t superstep)
{
    const cairn__backend_ops_t *ops = w->store->backend->ops;
    cairn__iter_t *it = ops->iter_new(w->store->backend, CAIRN__CF_PENDING);
    if (!it) {
        w->out_of_memory = true;
        return;
    }
    cairn__key_step(&w->key, w->run_id, superstep);
    for (ops->iter_seek(it, w->key.data, w->key.len); ops->iter_valid(it);
         ops->iter_next(it)) {
        size_t len;
        const uint8_t *key = ops->iter_key(it, &len);
        if (!cairn__key_has_prefix(key, len, &w->key))
            break;
        ops->batch_delete(w->batch, CAIRN__CF_PENDING, key, len);
    }
    /* Pending writes left behind would be replayed into a later superstep. */
    cairn__store_iter_end(w->store, it, CAIRN_OK, &w->read_error);
}

void
cairn__ckpt_set_new_run(cairn__ckpt_writer_t *w)
{
    w->new_run = true;
}

int
cairn__store_check_new_run(cairn_store_t *self, const char *run_id,
                           cairn_error_t *err)
{
    cairn__key_t key = {0};
    cairn__key_add_text(&key, run_id, false);
    uint8_t *value = NULL;
    size_t len = 0;
    int rc = key.out_of_memory
                 ? cairn_error_set(err, CAIRN_ENOMEM, "out of memory")
                 : self->backend->ops->get(self->backend, CAIRN__CF_RUNS,
                                           key.data, key.len, &value, &len,
                                           err);
    free(value);
    cairn__key_free(&key);
    if (rc == CAIRN_ENOTFOUND) {
        cairn_error_clear(err);
        return CAIRN_OK;
    }
    if (rc == CAIRN_OK)
        return cairn_error_set(err, CAIRN_EEXISTS,
                               "run %s exists; resume it or choose another "
                               "id",
                               run_id);
    return rc;
}

/* The lock every handle on one store shares: the opening handle's. */
static pthread_mutex_t *
s_new_run_lock(cairn_store_t *self)
{
    return &(self->shared_from ? self->shared_from : self)->new_run_lock;
}

/* Commits w's batch; a new run's only if its id is still free, checked
 * under the store's new-run lock so no other thread creates it between
 * the check and the write. */
static int
s_commit_batch(cairn__ckpt_writer_t *w, cairn_error_t *err)
{
    cairn_store_t *store = w->store;
    bool sync = store->durability == CAIRN_DURABILITY_MACHINE;
    if (!w->new_run)
        return store->backend->ops->batch_commit(store->backend, w->batch,
                                                 sync, err);
    pthread_mutex_t *lock = s_new_run_lock(store);
    pthread_mutex_lock(lock);
    int rc = cairn__store_check_new_run(store, w->run_id, err);
    if (rc == CAIRN_OK)
        rc = store->backend->ops->batch_commit(store->backend, w->batch, sync,
                                               err);
    pthread_mutex_unlock(lock);
    return rc;
}

int
cairn__ckpt_commit(cairn__ckpt_writer_t *w, Cairn__CheckpointRecord *manifest,
                   const Cairn__RunRecord *run, cairn_error_t *err)
{
    cairn_store_t *store = w->store;
    const cairn__backend_ops_t *ops = store->backend->ops;
    /* Its own size: everything but the manifest, which is small. */
    manifest->size_bytes = ops->batch_size(w->batch);
    cairn__key_step(&w->key, w->run_id, w->superstep);
    s_put(w, CAIRN__CF_CHECKPOINTS, &manifest->base);
    if (run) {
        cairn__key_reset(&w->key);
        cairn__key_add_text(&w->key, run->run_id, false);
        s_put(w, CAIRN__CF_RUNS, &run->base);
    }
    int rc;
    if (w->read_error.code != CAIRN_OK)
        rc = cairn_error_set(err, w->read_error.code, "%s",
                             w->read_error.message);
    else if (w->out_of_memory || w->key.out_of_memory)
        rc = cairn_error_set(err, CAIRN_ENOMEM,
                             "out of memory writing checkpoint %s@%llu",
                             w->run_id, (unsigned long long)w->superstep);
    else
        rc = s_commit_batch(w, err);
    if (rc != CAIRN_OK && rc != CAIRN_ENOMEM && rc != CAIRN_EEXISTS) {
        char reason[sizeof err->message];
        snprintf(reason, sizeof reason, "%s", err->message);
        cairn_error_set(err, CAIRN_ESTORE,
                        "checkpoint %s@%llu could not be written: %s",
                        w->run_id, (unsigned long long)w->superstep, reason);
        rc = CAIRN_ESTORE;
    }
    cairn__ckpt_abort(w);
    return rc;
}

/* ---- pending writes ---------------------------------------------------- */

static void
s_pending_key(cairn__key_t *key, const char *run_id, uint64_t superstep,
              const char *executor)
{
    cairn__key_step(key, run_id, superstep);
    if (executor)
        cairn__key_add_text(key, executor, false);
}

int
cairn__store_put_pending(cairn_store_t *self, const char *run_id,
                         uint64_t superstep, const Cairn__Done *done,
                         cairn_error_t *err)
{
    cairn__batch_t *batch = self->backend->ops->batch_new(self->backend);
    if (!batch)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    s_pending_key(&self->key, run_id, superstep, done->executor_id);
    int rc = cairn__store_batch_record(self, batch, CAIRN__CF_PENDING,
                                       &self->key, &done->base)
                 ? self->backend->ops->batch_commit(self->backend, batch,
                                                    false, err)
                 : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    self->backend->ops->batch_free(batch);
    return rc;
}

int
cairn__store_load_pending(cairn_store_t *self, const char *run_id,
                          uint64_t superstep, Cairn__Done ***out,
                          size_t *count, cairn_error_t *err)
{
    *out = NULL;
    *count = 0;
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_PENDING);
    if (!it)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    s_pending_key(&self->key, run_id, superstep, NULL);
    Cairn__Done **dones = NULL;
    size_t n = 0;
    int rc = CAIRN_OK;
    for (ops->iter_seek(it, self->key.data, self->key.len);
         rc == CAIRN_OK && ops->iter_valid(it); ops->iter_next(it)) {
        size_t key_len, len;
        const uint8_t *key = ops->iter_key(it, &key_len);
        if (!cairn__key_has_prefix(key, key_len, &self->key))
            break;
        const uint8_t *value = ops->iter_value(it, &len);
        Cairn__Done *done = NULL;
        cairn_error_t why;
        if (cairn__record_unpack(&cairn__done__descriptor, value, len,
                                 "pending write", (ProtobufCMessage **)&done,
                                 &why)
            != CAIRN_OK) {
            cairn_log(CAIRN_LOG_WARN, "store", "%s; it will run again",
                      why.message);
            continue;
        }
        if (!CAIRN__GROW(dones, n)) {
            cairn__done__free_unpacked(done, NULL);
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            break;
        }
        dones[n++] = done;
    }
    rc = cairn__store_iter_end(self, it, rc, err);
    if (rc != CAIRN_OK) {
        for (size_t i = 0; i < n; i++)
            cairn__done__free_unpacked(dones[i], NULL);
        free(dones);
        return rc;
    }
    *out = dones;
    *count = n;
    return CAIRN_OK;
}
