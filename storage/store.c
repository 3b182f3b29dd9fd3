/* store.c - opening a store, run records and checkpoint listings.
 *
 * The rules about what a checkpoint is live here and in store_write.c,
 * store_load.c and store_gc.c, written once over the backend interface
 * (backend.h) so the RocksDB and memory stores behave the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ids.h"
#include "base/util.h"
#include "storage/record.h"
#include "storage/store_internal.h"

#define S_META_KEY "format"

const char *
cairn_durability_name(cairn_durability_t durability)
{
    switch (durability) {
    case CAIRN_DURABILITY_NONE:
        return "none";
    case CAIRN_DURABILITY_PROCESS:
        return "process";
    case CAIRN_DURABILITY_MACHINE:
        return "machine";
    }
    return "unknown";
}

int
cairn_durability_parse(const char *name, cairn_durability_t *out)
{
    static const cairn_durability_t all[] = {CAIRN_DURABILITY_NONE,
                                             CAIRN_DURABILITY_PROCESS,
                                             CAIRN_DURABILITY_MACHINE};
    for (size_t i = 0; i < 3; i++)
        if (name && strcmp(name, cairn_durability_name(all[i])) == 0) {
            *out = all[i];
            return CAIRN_OK;
        }
    return CAIRN_EINVAL;
}

/* ---- records ------------------------------------------------------------- */

int
cairn__store_parse_checkpoint_id(const char *checkpoint_id, char *run_id,
                                 size_t size, uint64_t *superstep,
                                 cairn_error_t *err)
{
    if (checkpoint_id
        && cairn__checkpoint_id_parse(checkpoint_id, run_id, size, superstep))
        return CAIRN_OK;
    return cairn_error_set(err, CAIRN_EINVAL,
                           "'%s' is not a checkpoint id (RUN@SUPERSTEP)",
                           checkpoint_id ? checkpoint_id : "");
}

int
cairn__store_read(cairn_store_t *self, cairn__cf_t cf, const cairn__key_t *key,
                  const ProtobufCMessageDescriptor *desc, const char *what,
                  ProtobufCMessage **out, cairn_error_t *err)
{
    *out = NULL;
    if (key->out_of_memory)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    uint8_t *value = NULL;
    size_t len = 0;
    int rc = self->backend->ops->get(self->backend, cf, key->data, key->len,
                                     &value, &len, err);
    if (rc == CAIRN_OK)
        rc = cairn__record_unpack(desc, value, len, what, out, err);
    free(value);
    return rc;
}

int
cairn__store_iter_end(cairn_store_t *self, cairn__iter_t *it, int rc,
                      cairn_error_t *err)
{
    if (!it)
        return rc;
    if (rc == CAIRN_OK)
        rc = self->backend->ops->iter_status(it, err);
    self->backend->ops->iter_free(it);
    return rc;
}

bool
cairn__store_batch_record(cairn_store_t *self, cairn__batch_t *batch,
                          cairn__cf_t cf, const cairn__key_t *key,
                          const ProtobufCMessage *msg)
{
    size_t len;
    uint8_t *value = cairn__record_pack(msg, &len);
    if (!value || key->out_of_memory) {
        free(value);
        return false;
    }
    self->backend->ops->batch_put(batch, cf, key->data, key->len, value, len);
    free(value);
    return true;
}

/* Commits a batch with the store's durability and frees it. */
static int
s_commit(cairn_store_t *self, cairn__batch_t *batch, bool ok,
         cairn_error_t *err)
{
    int rc = ok ? self->backend->ops->batch_commit(
                      self->backend, batch,
                      self->durability == CAIRN_DURABILITY_MACHINE, err)
                : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    self->backend->ops->batch_free(batch);
    return rc;
}

int
cairn__store_get_run_record(cairn_store_t *self, const char *run_id,
                            Cairn__RunRecord **out, cairn_error_t *err)
{
    cairn__key_reset(&self->key);
    cairn__key_add_text(&self->key, run_id, false);
    char what[128];
    snprintf(what, sizeof what, "run record '%s'", run_id);
    int rc = cairn__store_read(self, CAIRN__CF_RUNS, &self->key,
                               &cairn__run_record__descriptor, what,
                               (ProtobufCMessage **)out, err);
    if (rc == CAIRN_ENOTFOUND)
        return cairn_error_set(err, rc, "unknown run '%s'", run_id);
    return rc;
}

int
cairn__store_put_run_record(cairn_store_t *self, const Cairn__RunRecord *run,
                            cairn_error_t *err)
{
    if (self->read_only)
        return cairn_error_set(err, CAIRN_ESTATE, "store is read-only");
    cairn__batch_t *batch = self->backend->ops->batch_new(self->backend);
    if (!batch)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__key_reset(&self->key);
    cairn__key_add_text(&self->key, run->run_id, false);
    bool ok = cairn__store_batch_record(self, batch, CAIRN__CF_RUNS,
                                        &self->key, &run->base);
    return s_commit(self, batch, ok, err);
}

/* ---- open / close ------------------------------------------------------- */

/* Checks (or, for a new writable store, writes) the store format. */
static int
s_check_format(cairn_store_t *self, cairn_error_t *err)
{
    cairn__key_reset(&self->key);
    cairn__key_add_text(&self->key, S_META_KEY, false);
    Cairn__StoreMeta *meta = NULL;
    int rc = cairn__store_read(self, CAIRN__CF_META, &self->key,
                               &cairn__store_meta__descriptor, "store format",
                               (ProtobufCMessage **)&meta, err);
    if (rc == CAIRN_OK) {
        if (meta->format > CAIRN__STORE_FORMAT)
            rc = cairn_error_set(err, CAIRN_EFORMAT,
                                 "store %s has format %u; this cairn reads "
                                 "format %u and older",
                                 self->dir ? self->dir : "(memory)",
                                 meta->format, CAIRN__STORE_FORMAT);
        cairn__store_meta__free_unpacked(meta, NULL);
        return rc;
    }
    if (rc != CAIRN_ENOTFOUND || self->read_only)
        return rc == CAIRN_ENOTFOUND ? CAIRN_OK : rc;
    cairn_error_clear(err);
    Cairn__StoreMeta fresh = CAIRN__STORE_META__INIT;
    fresh.format = CAIRN__STORE_FORMAT;
    fresh.created_by = "cairn";
    cairn__batch_t *batch = self->backend->ops->batch_new(self->backend);
    if (!batch)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    bool ok = cairn__store_batch_record(self, batch, CAIRN__CF_META,
                                        &self->key, &fresh.base);
    return s_commit(self, batch, ok, err);
}

static int
s_write_pid_file(cairn_store_t *self, cairn_error_t *err)
{
    self->pid_path = cairn__strprintf("%s/cairn.pid", self->dir);
    if (!self->pid_path)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    FILE *file = fopen(self->pid_path, "w");
    if (!file)
        return cairn_error_set(err, CAIRN_ESTORE, "cannot write %s: %s",
                               self->pid_path, strerror(errno));
    fprintf(file, "%ld\n", (long)getpid());
    if (fclose(file) != 0)
        return cairn_error_set(err, CAIRN_ESTORE, "cannot write %s: %s",
                               self->pid_path, strerror(errno));
    return CAIRN_OK;
}

/* Whether dir holds a store. RocksDB makes a store exist in one step, by
 * renaming its CURRENT file into place once the rest is written: a
 * directory without CURRENT (a writer killed while creating it, or a
 * plain empty directory) holds no store, and the next writer creates it
 * there afresh. */
static bool
s_store_exists(const char *dir)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    /* Any other failure (permission) is for the open to explain. */
    return stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

int
cairn_store_open(cairn_store_t **out, const char *dir,
                 const cairn_store_options_t *opts, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!out || !dir || !*dir)
        return cairn_error_set(err, CAIRN_EINVAL, "store needs a directory");
    *out = NULL;
    cairn_store_t *self = calloc(1, sizeof *self);
    if (!self || !(self->dir = strdup(dir))) {
        free(self);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&self->new_run_lock, NULL);
    self->read_only = opts && opts->read_only;
    self->durability = opts && opts->durability != CAIRN_DURABILITY_NONE
                           ? opts->durability
                           : CAIRN_DURABILITY_PROCESS;
    int rc = CAIRN_OK;
    if (self->read_only && !s_store_exists(dir))
        rc = cairn_error_set(err, CAIRN_ENOTFOUND, "no store at %s", dir);
    else if (!self->read_only && mkdir(dir, 0755) != 0 && errno != EEXIST)
        rc = cairn_error_set(err, CAIRN_ESTORE, "cannot create %s: %s", dir,
                             strerror(errno));
    if (rc == CAIRN_OK)
        rc = cairn__backend_open_rocksdb(&self->backend, dir,
                                         self->read_only
                                             ? CAIRN__OPEN_READ_ONLY
                                             : CAIRN__OPEN_WRITE,
                                         err);
    if (rc == CAIRN_OK)
        rc = s_check_format(self, err);
    if (rc == CAIRN_OK && !self->read_only)
        rc = s_write_pid_file(self, err);
    if (rc != CAIRN_OK) {
        cairn_store_destroy(&self);
        return rc;
    }
    *out = self;
    return CAIRN_OK;
}

int
cairn_store_open_memory(cairn_store_t **out, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!out)
        return cairn_error_set(err, CAIRN_EINVAL, "no output pointer");
    *out = NULL;
    cairn_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    pthread_mutex_init(&self->new_run_lock, NULL);
    self->durability = CAIRN_DURABILITY_NONE;
    int rc = cairn__backend_open_memory(&self->backend, err);
    if (rc == CAIRN_OK)
        rc = s_check_format(self, err);
    if (rc != CAIRN_OK) {
        cairn_store_destroy(&self);
        return rc;
    }
    *out = self;
    return CAIRN_OK;
}

int
cairn_store_share(cairn_store_t **out, cairn_store_t *store,
                  cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!out || !store || !store->dir)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "only a store in a directory can be shared "
                               "between threads");
    cairn_store_t *self = calloc(1, sizeof *self);
    if (!self || !(self->dir = strdup(store->dir))) {
        free(self);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    self->backend = store->backend;
    self->durability = store->durability;
    self->read_only = store->read_only;
    /* Always the handle that opened the store: it holds the lock every
     * handle shares (new_run_lock). */
    self->shared_from = store->shared_from ? store->shared_from : store;
    *out = self;
    return CAIRN_OK;
}

void
cairn_store_destroy(cairn_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_store_t *self = *self_p;
    if (self->backend && !self->shared_from)
        self->backend->ops->close(self->backend);
    /* Only after the lock is released: a pid file without a lock holder
     * is harmless, a lock holder without a pid file is just anonymous. */
    if (self->pid_path)
        unlink(self->pid_path);
    free(self->pid_path);
    free(self->dir);
    cairn__key_free(&self->key);
    if (!self->shared_from)
        pthread_mutex_destroy(&self->new_run_lock);
    free(self);
    *self_p = NULL;
}

cairn_durability_t
cairn_store_durability(const cairn_store_t *self)
{
    return self->durability;
}

int
cairn_store_set_durability(cairn_store_t *self, cairn_durability_t durability,
                           cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!self || !self->dir || durability == CAIRN_DURABILITY_NONE)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "only a store in a directory can change its "
                               "durability, and only to process or machine");
    self->durability = durability;
    return CAIRN_OK;
}

int
cairn_store_refresh(cairn_store_t *self, cairn_error_t *err)
{
    return self->backend->ops->refresh(self->backend, err);
}

/* ---- runs ------------------------------------------------------------------- */

static char *
s_dup(const char *text)
{
    return strdup(text ? text : "");
}

static void
s_run_info_clear(cairn_run_info_t *info)
{
    free(info->id);
    free(info->workflow);
    free(info->status);
    free(info->latest_checkpoint);
    free(info->parent);
    free(info->error);
    free(info->reason);
    free(info->spec);
    free(info->control_endpoint);
    for (size_t i = 0; i < info->plugin_count; i++) {
        free(info->plugins[i]);
        free(info->plugin_sha256[i]);
    }
    free(info->plugins);
    free(info->plugin_sha256);
    free(info->checkpoint_policy);
    free(info->durability);
    free(info->events_endpoint);
    memset(info, 0, sizeof *info);
}

void
cairn_run_info_destroy(cairn_run_info_t **infos_p, size_t count)
{
    if (!infos_p || !*infos_p)
        return;
    cairn_run_info_t *infos = *infos_p;
    for (size_t i = 0; i < count; i++)
        s_run_info_clear(&infos[i]);
    free(infos);
    *infos_p = NULL;
}

static bool
s_run_info_fill(cairn_run_info_t *info, const Cairn__RunRecord *run)
{
    info->id = s_dup(run->run_id);
    info->workflow = s_dup(run->workflow_name);
    info->status = s_dup(run->status);
    info->latest_checkpoint = s_dup(run->latest_checkpoint);
    info->parent = s_dup(run->parent);
    info->error = s_dup(run->error);
    info->reason = s_dup(run->reason);
    info->events_endpoint = s_dup(run->events_endpoint);
    info->control_endpoint = s_dup(run->control_endpoint);
    info->superstep = run->superstep;
    info->created_ms = run->created_ms;
    info->updated_ms = run->updated_ms;
    info->pid = run->pid;
    info->pid_start = run->pid_start;
    info->spec_len = run->spec.len;
    info->spec = cairn__memdup(run->spec.data, run->spec.len);
    info->max_supersteps = run->max_supersteps;
    info->checkpoint_policy = s_dup(run->checkpoint_policy);
    info->keep_events = (size_t)run->keep_events;
    info->durability = s_dup(run->durability);
    info->plugins = calloc(run->n_plugins ? run->n_plugins : 1,
                           sizeof *info->plugins);
    info->plugin_sha256 = calloc(run->n_plugins ? run->n_plugins : 1,
                                 sizeof *info->plugin_sha256);
    bool ok = info->id && info->workflow && info->status
              && info->latest_checkpoint && info->parent && info->error
              && info->reason && info->events_endpoint && info->plugins
              && info->plugin_sha256 && info->control_endpoint
              && info->checkpoint_policy && info->durability
              && (run->spec.len == 0 || info->spec);
    for (size_t i = 0; ok && i < run->n_plugins; i++) {
        info->plugins[i] = strdup(run->plugins[i]);
        info->plugin_sha256[i] = s_dup(
            i < run->n_plugin_sha256 ? run->plugin_sha256[i] : NULL);
        ok = info->plugins[i] && info->plugin_sha256[i];
        if (!ok) { /* clear frees only the first plugin_count */
            free(info->plugins[i]);
            free(info->plugin_sha256[i]);
        }
        info->plugin_count += ok;
    }
    return ok;
}

bool
cairn_run_process_alive(const cairn_run_info_t *info)
{
    if (info->pid <= 0)
        return false;
    uint64_t start = cairn__process_start(info->pid);
    return start != 0 && (info->pid_start == 0 || start == info->pid_start);
}

/* The run record is only rewritten when the status changes; the latest
 * checkpoint (and so the superstep) comes from the checkpoints. */
static bool
s_fill_latest(cairn_store_t *self, cairn_run_info_t *info)
{
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    cairn_error_t ignored;
    if (cairn_store_get_latest_checkpoint(self, info->id, latest, &ignored)
        != CAIRN_OK)
        return true;
    char *copy = strdup(latest);
    if (!copy)
        return false;
    free(info->latest_checkpoint);
    info->latest_checkpoint = copy;
    info->superstep = strtoull(strrchr(latest, '@') + 1, NULL, 10);
    return true;
}

int
cairn_store_get_run(cairn_store_t *self, const char *run_id,
                    cairn_run_info_t **out, cairn_error_t *err)
{
    cairn_error_clear(err);
    *out = NULL;
    Cairn__RunRecord *run = NULL;
    int rc = cairn__store_get_run_record(self, run_id, &run, err);
    if (rc != CAIRN_OK)
        return rc;
    cairn_run_info_t *info = calloc(1, sizeof *info);
    if (!info || !s_run_info_fill(info, run) || !s_fill_latest(self, info)) {
        cairn_run_info_destroy(&info, info ? 1 : 0);
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    } else {
        *out = info;
    }
    cairn__run_record__free_unpacked(run, NULL);
    return rc;
}

int
cairn_store_list_runs(cairn_store_t *self, cairn_run_info_t **out,
                      size_t *count, cairn_error_t *err)
{
    cairn_error_clear(err);
    *out = NULL;
    *count = 0;
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_RUNS);
    if (!it)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn_run_info_t *infos = NULL;
    size_t n = 0;
    int rc = CAIRN_OK;
    for (ops->iter_seek(it, (const uint8_t *)"", 0);
         rc == CAIRN_OK && ops->iter_valid(it); ops->iter_next(it)) {
        size_t key_len, len;
        const uint8_t *key = ops->iter_key(it, &key_len);
        const uint8_t *value = ops->iter_value(it, &len);
        char what[128];
        snprintf(what, sizeof what, "run record '%.*s'",
                 (int)(key_len > 64 ? 64 : key_len), (const char *)key);
        Cairn__RunRecord *run = NULL;
        rc = cairn__record_unpack(&cairn__run_record__descriptor, value, len,
                                  what, (ProtobufCMessage **)&run, err);
        if (rc != CAIRN_OK)
            break;
        if (!CAIRN__GROW(infos, n)) {
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        } else {
            memset(&infos[n], 0, sizeof infos[n]);
            n++;
            if (!s_run_info_fill(&infos[n - 1], run))
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        }
        cairn__run_record__free_unpacked(run, NULL);
    }
    rc = cairn__store_iter_end(self, it, rc, err);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        if (!s_fill_latest(self, &infos[i]))
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc != CAIRN_OK) {
        cairn_run_info_destroy(&infos, n);
        return rc;
    }
    *out = infos;
    *count = n;
    return CAIRN_OK;
}

/* ---- checkpoint listing ------------------------------------------------------ */

void
cairn__checkpoint_info_clear(cairn_checkpoint_info_t *info)
{
    free(info->id);
    free(info->run_id);
    free(info->parent);
    free(info->trigger);
    free(info->status);
    free(info->workflow);
    for (size_t i = 0; i < info->tag_count; i++)
        free(info->tags[i]);
    free(info->tags);
    memset(info, 0, sizeof *info);
}

bool
cairn__checkpoint_info_fill(cairn_checkpoint_info_t *info,
                            const Cairn__CheckpointRecord *record)
{
    memset(info, 0, sizeof *info);
    info->id = cairn__strprintf("%s@%llu", record->run_id,
                                (unsigned long long)record->superstep);
    info->run_id = s_dup(record->run_id);
    info->superstep = record->superstep;
    info->parent = s_dup(record->parent);
    info->timestamp_ms = record->timestamp_ms;
    info->trigger = s_dup(record->trigger);
    info->status = s_dup(record->status);
    info->workflow = s_dup(record->workflow_name);
    info->size_bytes = record->size_bytes;
    info->pending_messages = record->pending_messages;
    info->tags = calloc(record->n_tags ? record->n_tags : 1,
                        sizeof *info->tags);
    bool ok = info->id && info->run_id && info->parent && info->trigger
              && info->status && info->workflow && info->tags;
    for (size_t i = 0; ok && i < record->n_tags; i++) {
        info->tags[i] = strdup(record->tags[i]);
        ok = info->tags[i] != NULL;
        info->tag_count += ok;
    }
    return ok;
}

void
cairn_checkpoint_info_destroy(cairn_checkpoint_info_t **infos_p, size_t count)
{
    if (!infos_p || !*infos_p)
        return;
    cairn_checkpoint_info_t *infos = *infos_p;
    for (size_t i = 0; i < count; i++)
        cairn__checkpoint_info_clear(&infos[i]);
    free(infos);
    *infos_p = NULL;
}

static bool
s_has_tag(const Cairn__CheckpointRecord *record, const char *tag)
{
    for (size_t i = 0; i < record->n_tags; i++)
        if (strcmp(record->tags[i], tag) == 0)
            return true;
    return false;
}

/* Positions it on the run's newest checkpoint (or invalid). */
static void
s_seek_newest(cairn_store_t *self, cairn__iter_t *it, const char *run_id)
{
    cairn__key_step(&self->key, run_id, UINT64_MAX);
    self->backend->ops->iter_seek_for_prev(it, self->key.data, self->key.len);
    /* The prefix of the run's keys, for the caller's loop. */
    cairn__key_reset(&self->key);
    cairn__key_add_text(&self->key, run_id, true);
}

int
cairn_store_list_checkpoints(cairn_store_t *self, const char *run_id,
                             size_t limit, const char *tag,
                             cairn_checkpoint_info_t **out, size_t *count,
                             cairn_error_t *err)
{
    cairn_error_clear(err);
    *out = NULL;
    *count = 0;
    Cairn__RunRecord *run = NULL;
    int rc = cairn__store_get_run_record(self, run_id, &run, err);
    if (rc != CAIRN_OK)
        return rc;
    cairn__run_record__free_unpacked(run, NULL);
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_CHECKPOINTS);
    if (!it)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn_checkpoint_info_t *infos = NULL;
    size_t n = 0;
    s_seek_newest(self, it, run_id);
    for (; rc == CAIRN_OK && ops->iter_valid(it) && (limit == 0 || n < limit);
         ops->iter_prev(it)) {
        size_t key_len, len;
        const uint8_t *key = ops->iter_key(it, &key_len);
        if (!cairn__key_has_prefix(key, key_len, &self->key))
            break;
        const uint8_t *value = ops->iter_value(it, &len);
        char what[128];
        snprintf(what, sizeof what, "checkpoint %s@%llu", run_id,
                 key_len >= self->key.len + 8
                     ? (unsigned long long)cairn__key_read_u64(key
                                                               + self->key.len)
                     : 0ULL);
        Cairn__CheckpointRecord *record = NULL;
        rc = cairn__record_unpack(&cairn__checkpoint_record__descriptor, value,
                                  len, what, (ProtobufCMessage **)&record,
                                  err);
        if (rc != CAIRN_OK)
            break;
        if (!tag || s_has_tag(record, tag)) {
            if (!CAIRN__GROW(infos, n)
                || !cairn__checkpoint_info_fill(&infos[n++], record))
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        }
        cairn__checkpoint_record__free_unpacked(record, NULL);
    }
    rc = cairn__store_iter_end(self, it, rc, err);
    if (rc != CAIRN_OK) {
        cairn_checkpoint_info_destroy(&infos, n);
        return rc;
    }
    *out = infos;
    *count = n;
    return CAIRN_OK;
}

int
cairn_store_get_latest_checkpoint(cairn_store_t *self, const char *run_id,
                                  char out[CAIRN_CHECKPOINT_ID_MAX],
                                  cairn_error_t *err)
{
    cairn_error_clear(err);
    out[0] = '\0';
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_CHECKPOINTS);
    if (!it)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    s_seek_newest(self, it, run_id);
    int rc = cairn_error_set(err, CAIRN_ENOTFOUND,
                             "run '%s' has no checkpoints", run_id);
    if (ops->iter_valid(it)) {
        size_t key_len;
        const uint8_t *key = ops->iter_key(it, &key_len);
        if (cairn__key_has_prefix(key, key_len, &self->key)
            && key_len == self->key.len + 8) {
            snprintf(out, CAIRN_CHECKPOINT_ID_MAX, "%s@%llu", run_id,
                     (unsigned long long)cairn__key_read_u64(key
                                                             + self->key.len));
            cairn_error_clear(err);
            rc = CAIRN_OK;
        }
    } else {
        int status = ops->iter_status(it, err);
        if (status != CAIRN_OK)
            rc = status;
    }
    ops->iter_free(it);
    return rc;
}
