/* store_load.c - reading a checkpoint back: manifest, in-flight
 * messages, the state resolved over its lineage, and the outputs.
 *
 * A checkpoint RUN@N sees, for every state key, the newest version at or
 * before N in RUN; keys RUN never wrote come from the checkpoint RUN was
 * forked from (P@J: newest at or before J in P), and so on up the
 * lineage. Versions sort newest first, so each key costs two seeks per
 * run in the lineage, whatever the number of versions.
 */
#include <stdlib.h>
#include <string.h>

#include "base/ids.h"
#include "base/util.h"
#include "storage/record.h"
#include "proto/pbutil.h"
#include "storage/store_internal.h"

#define S_MAX_LINEAGE 1024

typedef struct {
    char run_id[80];
    uint64_t upto;
} s_segment_t;

static void
s_destroy_kv_item(void **item_p)
{
    cairn__kv_destroy((cairn__kv_t **)item_p);
}

void
cairn_checkpoint_destroy(cairn_checkpoint_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_checkpoint_t *self = *self_p;
    cairn__checkpoint_info_clear(&self->info);
    if (self->record)
        cairn__checkpoint_record__free_unpacked(self->record, NULL);
    if (self->inflight)
        cairn__inflight_record__free_unpacked(self->inflight, NULL);
    if (self->run)
        cairn__run_record__free_unpacked(self->run, NULL);
    for (size_t i = 0; i < self->executor_count; i++) {
        free(self->executors[i]);
        cairn__kv_destroy(&self->states[i]);
    }
    free(self->executors);
    free(self->states);
    cairn__kv_destroy(&self->shared);
    for (size_t i = 0; i < self->output_count; i++)
        free(self->outputs[i]);
    free(self->outputs);
    free(self->output_lens);
    free(self);
    *self_p = NULL;
}

/* The runs whose history checkpoint run@upto reads, closest first. */
static int
s_lineage(cairn_store_t *self, const Cairn__RunRecord *run, uint64_t upto,
          s_segment_t **out, size_t *count, cairn_error_t *err)
{
    s_segment_t *segments = NULL;
    size_t n = 0;
    Cairn__RunRecord *current = NULL;
    const Cairn__RunRecord *at = run;
    int rc = CAIRN_OK;
    while (rc == CAIRN_OK) {
        if (n == S_MAX_LINEAGE || !CAIRN__GROW(segments, n)) {
            rc = cairn_error_set(err, n ? CAIRN_ECORRUPT : CAIRN_ENOMEM,
                                 "lineage of run '%s' is too long or "
                                 "cyclic",
                                 run->run_id);
            break;
        }
        snprintf(segments[n].run_id, sizeof segments[n].run_id, "%s",
                 at->run_id);
        segments[n++].upto = upto;
        if (!at->parent || !*at->parent)
            break;
        char parent_run[80];
        if (!cairn__checkpoint_id_parse(at->parent, parent_run,
                                        sizeof parent_run, &upto)) {
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "run record '%s' is corrupt: bad parent "
                                 "'%s'",
                                 at->run_id, at->parent);
            break;
        }
        Cairn__RunRecord *parent = NULL;
        rc = cairn__store_get_run_record(self, parent_run, &parent, err);
        if (current)
            cairn__run_record__free_unpacked(current, NULL);
        current = parent;
        at = parent;
    }
    if (current)
        cairn__run_record__free_unpacked(current, NULL);
    if (rc != CAIRN_OK) {
        free(segments);
        return rc;
    }
    *out = segments;
    *count = n;
    return CAIRN_OK;
}

/* The map of scope ("" = shared), created on first use. */
static cairn__kv_t *
s_scope_map(zhashx_t *scopes, const char *scope)
{
    cairn__kv_t *map = zhashx_lookup(scopes, scope);
    if (!map) {
        map = cairn__kv_new();
        if (map && zhashx_insert(scopes, scope, map) != 0)
            cairn__kv_destroy(&map);
    }
    return map;
}

/* Checks "RUN\0SCOPE\0NAME\0VERSION" after the run prefix; *group_len
 * is the length without the version. */
static bool
s_parse_state_key(const uint8_t *key, size_t len, size_t prefix_len,
                  size_t *group_len)
{
    if (len < prefix_len + 2 + 8)
        return false;
    const uint8_t *p = key + prefix_len;
    const uint8_t *end = key + len - 8;
    const uint8_t *scope_end = memchr(p, '\0', (size_t)(end - p));
    if (!scope_end)
        return false;
    const uint8_t *name_end =
        memchr(scope_end + 1, '\0', (size_t)(end - scope_end - 1));
    if (name_end != end - 1)
        return false;
    *group_len = len - 8;
    return true;
}

/* Records the version the iterator is on for scope/name unless a closer
 * run already decided that key. */
static int
s_take_version(cairn_store_t *self, cairn__iter_t *it, zhashx_t *scopes,
               const char *scope, const char *name, cairn_error_t *err)
{
    cairn__kv_t *map = s_scope_map(scopes, scope);
    if (!map)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (cairn__kv_lookup(map, name))
        return CAIRN_OK;
    size_t len;
    const uint8_t *value = self->backend->ops->iter_value(it, &len);
    char what[256];
    snprintf(what, sizeof what, "state value '%s' of %s%s", name,
             *scope ? "executor " : "shared state", scope);
    Cairn__ValueRecord *record = NULL;
    int rc = cairn__record_unpack(&cairn__value_record__descriptor, value,
                                  len, what, (ProtobufCMessage **)&record,
                                  err);
    if (rc != CAIRN_OK)
        return rc;
    rc = record->deleted
             ? cairn__kv_set_tombstone(map, name)
             : cairn__kv_set(map, name, record->data.data, record->data.len);
    cairn__value_record__free_unpacked(record, NULL);
    return rc == CAIRN_OK ? CAIRN_OK
                          : cairn_error_set(err, rc, "out of memory");
}

/* Resolves every key of one run at or before upto into scopes. */
static int
s_resolve_segment(cairn_store_t *self, const s_segment_t *segment,
                  zhashx_t *scopes, cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_STATE);
    cairn__key_t prefix = {0}, seek = {0};
    cairn__key_add_text(&prefix, segment->run_id, true);
    int rc = it ? CAIRN_OK : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc == CAIRN_OK)
        ops->iter_seek(it, prefix.data, prefix.len);
    while (rc == CAIRN_OK && ops->iter_valid(it)) {
        size_t len, group_len;
        const uint8_t *key = ops->iter_key(it, &len);
        if (!cairn__key_has_prefix(key, len, &prefix))
            break;
        if (!s_parse_state_key(key, len, prefix.len, &group_len)) {
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "state key of run '%s' is malformed",
                                 segment->run_id);
            break;
        }
        cairn__key_reset(&seek);
        cairn__key_add_bytes(&seek, key, group_len);
        size_t mark = seek.len;
        /* Newest version at or before upto. */
        cairn__key_add_u64(&seek, ~segment->upto);
        if (seek.out_of_memory) {
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            break;
        }
        /* key dies when the iterator moves: take the names from seek. */
        const char *scope_copy = (const char *)seek.data + prefix.len;
        const char *name_copy = scope_copy + strlen(scope_copy) + 1;
        ops->iter_seek(it, seek.data, seek.len);
        /* The next seek forgets a read error: catch it here. */
        if (!ops->iter_valid(it))
            rc = ops->iter_status(it, err);
        else {
            const uint8_t *found = ops->iter_key(it, &len);
            if (len == mark + 8 && memcmp(found, seek.data, mark) == 0)
                rc = s_take_version(self, it, scopes, scope_copy, name_copy,
                                    err);
        }
        /* Past every version of this key. */
        seek.len = mark;
        cairn__key_add_u64(&seek, UINT64_MAX);
        cairn__key_add_bytes(&seek, "", 1);
        if (rc != CAIRN_OK)
            break;
        if (seek.out_of_memory)
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        else
            ops->iter_seek(it, seek.data, seek.len);
    }
    rc = cairn__store_iter_end(self, it, rc, err);
    cairn__key_free(&prefix);
    cairn__key_free(&seek);
    return rc;
}

/* Drops tombstones: they only mattered while resolving the lineage. */
static int
s_strip(cairn__kv_t *map)
{
    size_t count;
    const char **keys = cairn__kv_sorted_keys(map, &count);
    if (!keys && cairn__kv_size(map) > 0)
        return CAIRN_ENOMEM;
    char **dead = calloc(count ? count : 1, sizeof *dead);
    size_t n = 0;
    int rc = dead ? CAIRN_OK : CAIRN_ENOMEM;
    for (size_t i = 0; rc == CAIRN_OK && i < count; i++)
        if (cairn__kv_lookup(map, keys[i])->deleted)
            rc = (dead[n++] = strdup(keys[i])) ? CAIRN_OK : CAIRN_ENOMEM;
    free(keys);
    for (size_t i = 0; i < n; i++) {
        if (dead[i])
            cairn__kv_remove(map, dead[i]);
        free(dead[i]);
    }
    free(dead);
    return rc;
}

static int
s_compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Moves the resolved maps into the checkpoint, executors sorted. */
static int
s_adopt_states(cairn_checkpoint_t *cp, zhashx_t *scopes)
{
    size_t n = zhashx_size(scopes);
    cp->executors = calloc(n ? n : 1, sizeof *cp->executors);
    cp->states = calloc(n ? n : 1, sizeof *cp->states);
    if (!cp->executors || !cp->states)
        return CAIRN_ENOMEM;
    for (cairn__kv_t *map = zhashx_first(scopes); map;
         map = zhashx_next(scopes)) {
        const char *scope = zhashx_cursor(scopes);
        if (s_strip(map) != CAIRN_OK)
            return CAIRN_ENOMEM;
        if (!*scope)
            continue;
        cp->executors[cp->executor_count] = strdup(scope);
        if (!cp->executors[cp->executor_count])
            return CAIRN_ENOMEM;
        cp->executor_count++;
    }
    qsort(cp->executors, cp->executor_count, sizeof(char *), s_compare_names);
    /* Take the maps out of the table, so destroying it keeps them. */
    zhashx_set_destructor(scopes, NULL);
    for (size_t i = 0; i < cp->executor_count; i++)
        cp->states[i] = zhashx_lookup(scopes, cp->executors[i]);
    cp->shared = zhashx_lookup(scopes, "");
    if (!cp->shared)
        cp->shared = cairn__kv_new();
    return cp->shared ? CAIRN_OK : CAIRN_ENOMEM;
}

/* Appends the outputs of run with superstep <= upto, oldest first. */
static int
s_load_outputs(cairn_store_t *self, cairn_checkpoint_t *cp,
               const s_segment_t *segment, cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_OUTPUTS);
    cairn__key_t prefix = {0};
    cairn__key_add_text(&prefix, segment->run_id, true);
    int rc = it ? CAIRN_OK : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc == CAIRN_OK)
        ops->iter_seek(it, prefix.data, prefix.len);
    for (; rc == CAIRN_OK && ops->iter_valid(it); ops->iter_next(it)) {
        size_t key_len, len;
        const uint8_t *key = ops->iter_key(it, &key_len);
        if (!cairn__key_has_prefix(key, key_len, &prefix)
            || key_len != prefix.len + 8
            || cairn__key_read_u64(key + prefix.len) > segment->upto)
            break;
        char what[128];
        snprintf(what, sizeof what, "outputs of %s@%llu", segment->run_id,
                 (unsigned long long)cairn__key_read_u64(key + prefix.len));
        Cairn__OutputRecord *record = NULL;
        const uint8_t *value = ops->iter_value(it, &len);
        rc = cairn__record_unpack(&cairn__output_record__descriptor, value,
                                  len, what, (ProtobufCMessage **)&record,
                                  err);
        for (size_t i = 0; rc == CAIRN_OK && i < record->n_items; i++) {
            if (!CAIRN__GROW(cp->outputs, cp->output_count)
                || !CAIRN__GROW(cp->output_lens, cp->output_count)) {
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
                break;
            }
            size_t item_len = record->items[i].len;
            cp->outputs[cp->output_count] =
                malloc(item_len ? item_len : 1);
            if (!cp->outputs[cp->output_count]) {
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
                break;
            }
            if (item_len)
                memcpy(cp->outputs[cp->output_count], record->items[i].data,
                       item_len);
            cp->output_lens[cp->output_count++] = item_len;
        }
        if (record)
            cairn__output_record__free_unpacked(record, NULL);
    }
    rc = cairn__store_iter_end(self, it, rc, err);
    cairn__key_free(&prefix);
    return rc;
}

/* The first stored checkpoint of run_id after superstep; NULL when none
 * (or it does not decode: the caller only wants to explain a gap). */
static Cairn__CheckpointRecord *
s_next_checkpoint(cairn_store_t *self, const char *run_id, uint64_t superstep)
{
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__iter_t *it = ops->iter_new(self->backend, CAIRN__CF_CHECKPOINTS);
    cairn__key_t key = {0};
    cairn__key_step(&key, run_id, superstep);
    Cairn__CheckpointRecord *next = NULL;
    if (it && !key.out_of_memory) {
        ops->iter_seek(it, key.data, key.len);
        size_t len, value_len;
        const uint8_t *found = ops->iter_valid(it) ? ops->iter_key(it, &len)
                                                   : NULL;
        if (found && len == key.len
            && memcmp(found, key.data, key.len - 8) == 0) {
            const uint8_t *value = ops->iter_value(it, &value_len);
            cairn_error_t ignored;
            if (cairn__record_unpack(&cairn__checkpoint_record__descriptor,
                                     value, value_len, "checkpoint",
                                     (ProtobufCMessage **)&next, &ignored)
                != CAIRN_OK)
                next = NULL;
        }
    }
    if (it)
        ops->iter_free(it);
    cairn__key_free(&key);
    return next;
}

/* CAIRN_ENOTFOUND for a checkpoint that is not stored, saying so when
 * retention deleted it: the next kept checkpoint of the run records that
 * its parent (at or after superstep) was pruned. */
static int
s_unknown_checkpoint(cairn_store_t *self, const char *checkpoint_id,
                     const char *run_id, uint64_t superstep,
                     cairn_error_t *err)
{
    Cairn__CheckpointRecord *next = s_next_checkpoint(self, run_id, superstep);
    char parent_run[80];
    uint64_t parent_step = 0;
    bool pruned = next && next->parent_pruned
                  && cairn__checkpoint_id_parse(next->parent, parent_run,
                                                sizeof parent_run,
                                                &parent_step)
                  && strcmp(parent_run, run_id) == 0
                  && parent_step >= superstep;
    int rc;
    if (pruned)
        rc = cairn_error_set(err, CAIRN_ENOTFOUND,
                             "checkpoint '%s' was deleted by retention (gc); "
                             "the next kept checkpoint of run %s is %s@%llu",
                             checkpoint_id, run_id, run_id,
                             (unsigned long long)next->superstep);
    else
        rc = cairn_error_set(err, CAIRN_ENOTFOUND, "unknown checkpoint '%s'",
                             checkpoint_id);
    if (next)
        cairn__checkpoint_record__free_unpacked(next, NULL);
    return rc;
}

int
cairn__store_read_checkpoint(cairn_store_t *self, const char *checkpoint_id,
                             const char *run_id, uint64_t superstep,
                             Cairn__CheckpointRecord **manifest,
                             Cairn__InflightRecord **inflight,
                             cairn_error_t *err)
{
    cairn__key_step(&self->key, run_id, superstep);
    char what[160];
    snprintf(what, sizeof what, "checkpoint %s", checkpoint_id);
    int rc = cairn__store_read(self, CAIRN__CF_CHECKPOINTS, &self->key,
                               &cairn__checkpoint_record__descriptor, what,
                               (ProtobufCMessage **)manifest, err);
    if (rc == CAIRN_ENOTFOUND)
        return s_unknown_checkpoint(self, checkpoint_id, run_id, superstep,
                                    err);
    if (rc != CAIRN_OK)
        return rc;
    cairn__key_step(&self->key, run_id, superstep);
    snprintf(what, sizeof what, "in-flight messages of checkpoint %s",
             checkpoint_id);
    rc = cairn__store_read(self, CAIRN__CF_INFLIGHT, &self->key,
                           &cairn__inflight_record__descriptor, what,
                           (ProtobufCMessage **)inflight, err);
    if (rc == CAIRN_ENOTFOUND)
        return cairn_error_set(err, CAIRN_ECORRUPT, "%s are missing", what);
    return rc;
}

/* Reads the manifest, in-flight record and run record of run@superstep. */
static int
s_load_records(cairn_store_t *self, cairn_checkpoint_t *cp,
               const char *checkpoint_id, const char *run_id,
               uint64_t superstep, cairn_error_t *err)
{
    int rc = cairn__store_read_checkpoint(self, checkpoint_id, run_id,
                                          superstep, &cp->record,
                                          &cp->inflight, err);
    if (rc == CAIRN_OK)
        rc = cairn__store_get_run_record(self, run_id, &cp->run, err);
    if (rc == CAIRN_OK && !cairn__checkpoint_info_fill(&cp->info, cp->record))
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    return rc;
}

int
cairn_store_get_checkpoint(cairn_store_t *self, const char *checkpoint_id,
                           cairn_checkpoint_t **out, cairn_error_t *err)
{
    cairn_error_clear(err);
    *out = NULL;
    char run_id[80];
    uint64_t superstep;
    int parsed = cairn__store_parse_checkpoint_id(
        checkpoint_id, run_id, sizeof run_id, &superstep, err);
    if (parsed != CAIRN_OK)
        return parsed;
    cairn_checkpoint_t *cp = calloc(1, sizeof *cp);
    zhashx_t *scopes = zhashx_new();
    if (!cp || !scopes) {
        free(cp);
        zhashx_destroy(&scopes);
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    zhashx_set_destructor(scopes, s_destroy_kv_item);
    s_segment_t *segments = NULL;
    size_t n = 0;
    int rc = s_load_records(self, cp, checkpoint_id, run_id, superstep, err);
    if (rc == CAIRN_OK)
        rc = s_lineage(self, cp->run, superstep, &segments, &n, err);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = s_resolve_segment(self, &segments[i], scopes, err);
    for (size_t i = n; rc == CAIRN_OK && i > 0; i--)
        rc = s_load_outputs(self, cp, &segments[i - 1], err);
    if (rc == CAIRN_OK && s_adopt_states(cp, scopes) != CAIRN_OK)
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    free(segments);
    zhashx_destroy(&scopes);
    if (rc != CAIRN_OK) {
        cairn_checkpoint_destroy(&cp);
        return rc;
    }
    *out = cp;
    return CAIRN_OK;
}

const cairn_checkpoint_info_t *
cairn_checkpoint_info(const cairn_checkpoint_t *self)
{
    return &self->info;
}

static long
s_find_executor(const cairn_checkpoint_t *self, const char *executor)
{
    for (size_t i = 0; i < self->executor_count; i++)
        if (self->states[i] && strcmp(self->executors[i], executor) == 0)
            return (long)i;
    return -1;
}

const uint8_t *
cairn_checkpoint_state(const cairn_checkpoint_t *self, const char *executor,
                       const char *key, size_t *len)
{
    const cairn__kv_t *map = self->shared;
    if (executor) {
        long i = s_find_executor(self, executor);
        map = i < 0 ? NULL : self->states[i];
    }
    return cairn__kv_get(map, key, len);
}

void
cairn_checkpoint_foreach_state(const cairn_checkpoint_t *self,
                               void (*fn)(const char *executor,
                                          const char *key,
                                          const uint8_t *value, size_t len,
                                          void *userdata),
                               void *userdata)
{
    for (size_t i = 0; i < self->executor_count; i++)
        cairn__kv_visit(self->states[i], self->executors[i], fn, userdata);
    cairn__kv_visit(self->shared, NULL, fn, userdata);
}

size_t
cairn_checkpoint_output_count(const cairn_checkpoint_t *self)
{
    return self->output_count;
}

const uint8_t *
cairn_checkpoint_output(const cairn_checkpoint_t *self, size_t index,
                        size_t *len)
{
    if (index >= self->output_count) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = self->output_lens[index];
    return self->outputs[index];
}

const Cairn__CheckpointRecord *
cairn__checkpoint_manifest(const cairn_checkpoint_t *self)
{
    return self->record;
}

const Cairn__RunRecord *
cairn__checkpoint_run(const cairn_checkpoint_t *self)
{
    return self->run;
}

Cairn__InflightRecord *
cairn__checkpoint_inflight(cairn_checkpoint_t *self)
{
    return self->inflight;
}

cairn__kv_t *
cairn__checkpoint_take_state(cairn_checkpoint_t *self, const char *executor)
{
    long i = s_find_executor(self, executor);
    if (i < 0)
        return NULL;
    cairn__kv_t *map = self->states[i];
    self->states[i] = NULL;
    return map;
}

cairn__kv_t *
cairn__checkpoint_take_shared(cairn_checkpoint_t *self)
{
    cairn__kv_t *map = self->shared;
    self->shared = NULL;
    return map;
}

size_t
cairn_checkpoint_request_count(const cairn_checkpoint_t *self)
{
    return self->inflight->n_requests;
}

int
cairn_checkpoint_request(const cairn_checkpoint_t *self, size_t index,
                         cairn_request_t *out)
{
    if (index >= self->inflight->n_requests)
        return CAIRN_EINVAL;
    cairn__pb_request_view(self->inflight->requests[index], out);
    return CAIRN_OK;
}

size_t
cairn_checkpoint_dead_letter_count(const cairn_checkpoint_t *self)
{
    return self->inflight->n_dead_letters;
}

int
cairn_checkpoint_dead_letter(const cairn_checkpoint_t *self, size_t index,
                             cairn_dead_letter_t *out)
{
    if (index >= self->inflight->n_dead_letters)
        return CAIRN_EINVAL;
    const Cairn__DeadLetter *letter = self->inflight->dead_letters[index];
    const Cairn__Message *msg = letter->message;
    out->executor = letter->executor;
    out->error = letter->error;
    out->superstep = letter->superstep;
    out->payload = msg && msg->payload.data ? msg->payload.data
                                            : (const uint8_t *)"";
    out->payload_len = msg ? msg->payload.len : 0;
    return CAIRN_OK;
}
