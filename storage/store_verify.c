/* store_verify.c - checking a store without changing it.
 *
 * Verification walks what is stored once: for each run its record, then
 * every key of the run in the checkpoints, in-flight, state, outputs and
 * events families, each value decoded and checksummed exactly once. (It
 * used to load every checkpoint, which resolves every state key again at
 * every checkpoint: 170 s for 10,000 executors x 10,000 checkpoints.)
 * What a load would trip over is found on the way: a value that does not
 * decode, a manifest without its in-flight record, a malformed state key,
 * a lineage whose run records are missing or cyclic.
 *
 * On top of that it checks that the records agree with each other:
 * - every manifest names its own key (run id and superstep);
 * - every checkpoint from the run's signature_since on carries the run's
 *   workflow (name and signature): a run id reused by another workflow
 *   leaves the old run's checkpoints under the new run's record;
 * - the record of a run that has ended names its newest checkpoint;
 * - every parent exists, unless retention deleted it, which it records
 *   in the child (parent_pruned; docs/storage.md, "Retention and gc");
 *   a checkpoint whose parent lies in another run names the run's fork
 *   point.
 * Problems are reported one by one; nothing stops the walk but
 * out-of-memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ids.h"
#include "base/util.h"
#include "storage/record.h"
#include "storage/store_events.h"
#include "storage/store_internal.h"

#define S_MAX_LINEAGE 1024 /* as store_load.c: deeper is corrupt */

typedef struct {
    cairn_verify_fn fn;
    void *userdata;
    size_t problems;
} s_report_t;

static void
s_problem(s_report_t *report, const char *run_id, const char *checkpoint,
          const char *problem)
{
    report->problems++;
    if (report->fn)
        report->fn(run_id, checkpoint, problem, report->userdata);
}

static void CAIRN_PRINTF(4, 5)
s_problemf(s_report_t *report, const char *run_id, const char *checkpoint,
           const char *fmt, ...)
{
    char text[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    s_problem(report, run_id, checkpoint, text);
}

/* One stored manifest of the run being walked. */
typedef struct {
    uint64_t step;
    char *parent;       /* owned; NULL when the manifest did not decode */
    bool parent_pruned; /* retention deleted the parent */
    bool has_inflight;  /* its in-flight record was seen */
} s_ckpt_t;

/* Checkpoints (contiguous in superstep order) that carry another
 * workflow than their run's record. */
typedef struct {
    size_t count;
    uint64_t first, last;
    char workflow[80];
    char signature[17]; /* the first 8 bytes, as hex */
} s_foreign_t;

/* The walk over one run. */
typedef struct {
    cairn_store_t *store;
    s_report_t *report;
    const char *run_id;
    const Cairn__RunRecord *run;
    size_t prefix_len; /* of "RUN\0" */
    s_ckpt_t *ckpts;   /* ascending by superstep, as keys sort */
    size_t count;
    s_foreign_t foreign;
    cairn__versions_t versions; /* of the state walk */
} s_walk_t;

static void
s_walk_free(s_walk_t *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->ckpts[i].parent);
    free(w->ckpts);
    cairn__versions_free(&w->versions);
}

/* Index of the first checkpoint at or after step (count when none). */
static size_t
s_lower_bound(const s_walk_t *w, uint64_t step)
{
    size_t low = 0, high = w->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (w->ckpts[mid].step < step)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

static s_ckpt_t *
s_find(const s_walk_t *w, uint64_t step)
{
    size_t i = s_lower_bound(w, step);
    return i < w->count && w->ckpts[i].step == step ? &w->ckpts[i] : NULL;
}

static void
s_hex(const ProtobufCBinaryData *signature, char out[17])
{
    static const char digits[] = "0123456789abcdef";
    size_t n = signature->len < 8 ? signature->len : 8;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[signature->data[i] >> 4];
        out[2 * i + 1] = digits[signature->data[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Reports the open range of foreign checkpoints, if any. */
static void
s_flush_foreign(s_walk_t *w)
{
    s_foreign_t *f = &w->foreign;
    if (!f->count)
        return;
    char first[CAIRN_CHECKPOINT_ID_MAX], sig[17];
    snprintf(first, sizeof first, "%s@%llu", w->run_id,
             (unsigned long long)f->first);
    s_hex(&w->run->signature, sig);
    s_problemf(w->report, w->run_id, first,
               "%zu checkpoint(s) %s..%s@%llu are of workflow '%s' "
               "(signature %s...), not of run %s's workflow '%s' (signature "
               "%s...): they belong to another run that used the same id",
               f->count, first, w->run_id, (unsigned long long)f->last,
               f->workflow, f->signature, w->run_id, w->run->workflow_name,
               sig);
    f->count = 0;
}

static bool
s_same_workflow(const Cairn__RunRecord *run, const Cairn__CheckpointRecord *m)
{
    return strcmp(run->workflow_name, m->workflow_name) == 0
           && run->signature.len == m->signature.len
           && (!m->signature.len
               || memcmp(run->signature.data, m->signature.data,
                         m->signature.len)
                      == 0);
}

/* Checks the manifest's workflow against the run record's; adjacent
 * checkpoints of the same other workflow are reported as one range. */
static void
s_check_workflow(s_walk_t *w, uint64_t step, const Cairn__CheckpointRecord *m)
{
    s_foreign_t *f = &w->foreign;
    if (step < w->run->signature_since || s_same_workflow(w->run, m)) {
        s_flush_foreign(w);
        return;
    }
    char sig[17];
    s_hex(&m->signature, sig);
    if (f->count
        && (strcmp(f->workflow, m->workflow_name) != 0
            || strcmp(f->signature, sig) != 0))
        s_flush_foreign(w);
    if (!f->count) {
        f->first = step;
        snprintf(f->workflow, sizeof f->workflow, "%s", m->workflow_name);
        snprintf(f->signature, sizeof f->signature, "%s", sig);
    }
    f->last = step;
    f->count++;
}

/* Calls fn for every key of cf that belongs to the walked run. */
static int
s_each(s_walk_t *w, cairn__cf_t cf,
       int (*fn)(s_walk_t *w, const uint8_t *key, size_t len,
                 const uint8_t *value, size_t value_len))
{
    const cairn__backend_ops_t *ops = w->store->backend->ops;
    cairn__key_t prefix = {0};
    cairn__key_add_text(&prefix, w->run_id, true);
    cairn__iter_t *it =
        prefix.out_of_memory ? NULL : ops->iter_new(w->store->backend, cf);
    int rc = it ? CAIRN_OK : CAIRN_ENOMEM;
    if (it)
        ops->iter_seek(it, prefix.data, prefix.len);
    for (; rc == CAIRN_OK && it && ops->iter_valid(it); ops->iter_next(it)) {
        size_t len, value_len;
        const uint8_t *key = ops->iter_key(it, &len);
        if (!cairn__key_has_prefix(key, len, &prefix))
            break;
        const uint8_t *value = ops->iter_value(it, &value_len);
        rc = fn(w, key, len, value, value_len);
    }
    /* A read error ends the walk like the end of the data would: it is
     * a problem of the run (the damaged block, named), and the other
     * families are still walked. */
    cairn_error_t why;
    if (cairn__store_iter_end(w->store, it, rc, &why) != CAIRN_OK
        && rc == CAIRN_OK)
        s_problemf(w->report, w->run_id, NULL, "%s", why.message);
    cairn__key_free(&prefix);
    return rc;
}

/* The superstep of a RUN \0 SUPERSTEP key of family (named in the
 * problem) and its checkpoint id; false, reported, when malformed. */
static bool
s_step_key(s_walk_t *w, const char *family, const uint8_t *key, size_t len,
           uint64_t *step, char id[CAIRN_CHECKPOINT_ID_MAX])
{
    if (len != w->prefix_len + 8) {
        s_problemf(w->report, w->run_id, NULL,
                   "a %s key of run '%s' is malformed", family, w->run_id);
        return false;
    }
    *step = cairn__key_read_u64(key + w->prefix_len);
    snprintf(id, CAIRN_CHECKPOINT_ID_MAX, "%s@%llu", w->run_id,
             (unsigned long long)*step);
    return true;
}

/* ---- the families ------------------------------------------------------- */

static int
s_walk_manifest(s_walk_t *w, const uint8_t *key, size_t len,
                const uint8_t *value, size_t value_len)
{
    uint64_t step;
    char id[CAIRN_CHECKPOINT_ID_MAX], what[160];
    if (!s_step_key(w, "checkpoint", key, len, &step, id))
        return CAIRN_OK;
    snprintf(what, sizeof what, "checkpoint %s", id);
    if (!CAIRN__GROW(w->ckpts, w->count))
        return CAIRN_ENOMEM;
    s_ckpt_t *c = &w->ckpts[w->count++];
    memset(c, 0, sizeof *c);
    c->step = step;
    Cairn__CheckpointRecord *m = NULL;
    cairn_error_t err;
    if (cairn__record_unpack(&cairn__checkpoint_record__descriptor, value,
                             value_len, what, (ProtobufCMessage **)&m, &err)
        != CAIRN_OK) {
        s_flush_foreign(w);
        s_problem(w->report, w->run_id, id, err.message);
        return CAIRN_OK;
    }
    c->parent = strdup(m->parent);
    c->parent_pruned = m->parent_pruned;
    if (strcmp(m->run_id, w->run_id) != 0 || m->superstep != step)
        s_problemf(w->report, w->run_id, id,
                   "its record names checkpoint %s@%llu", m->run_id,
                   (unsigned long long)m->superstep);
    s_check_workflow(w, step, m);
    cairn__checkpoint_record__free_unpacked(m, NULL);
    return c->parent ? CAIRN_OK : CAIRN_ENOMEM;
}

static int
s_walk_inflight(s_walk_t *w, const uint8_t *key, size_t len,
                const uint8_t *value, size_t value_len)
{
    uint64_t step;
    char id[CAIRN_CHECKPOINT_ID_MAX], what[160];
    if (!s_step_key(w, "in-flight", key, len, &step, id))
        return CAIRN_OK;
    snprintf(what, sizeof what, "in-flight messages of checkpoint %s", id);
    s_ckpt_t *c = s_find(w, step);
    if (c)
        c->has_inflight = true;
    else
        s_problemf(w->report, w->run_id, id,
                   "%s are stored, but the checkpoint is not", what);
    ProtobufCMessage *record = NULL;
    cairn_error_t err;
    if (cairn__record_unpack(&cairn__inflight_record__descriptor, value,
                             value_len, what, &record, &err)
        != CAIRN_OK)
        s_problem(w->report, w->run_id, id, err.message);
    if (record)
        protobuf_c_message_free_unpacked(record, NULL);
    return CAIRN_OK;
}

/* Names the run's checkpoints that resolve a state version written at
 * step and superseded at newer: those in [step, newer). */
static void
s_readers(const s_walk_t *w, uint64_t step, uint64_t newer, char *first,
          char *out, size_t size)
{
    size_t from = s_lower_bound(w, step), to = s_lower_bound(w, newer);
    first[0] = '\0';
    if (from >= to) {
        snprintf(out, size, "no checkpoint of run %s reads it", w->run_id);
        return;
    }
    snprintf(first, CAIRN_CHECKPOINT_ID_MAX, "%s@%llu", w->run_id,
             (unsigned long long)w->ckpts[from].step);
    if (to - from == 1)
        snprintf(out, size, "read by %s", first);
    else
        snprintf(out, size, "read by %s..%s@%llu (%zu checkpoints)", first,
                 w->run_id, (unsigned long long)w->ckpts[to - 1].step,
                 to - from);
}

/* Visits versions newest first within a key (keys sort that way), so the
 * version before tells which checkpoints read this one. */
static int
s_walk_state(s_walk_t *w, const uint8_t *key, size_t len,
             const uint8_t *value, size_t value_len)
{
    const uint8_t *scope = key + w->prefix_len;
    const uint8_t *end = key + len;
    const uint8_t *scope_end =
        len >= w->prefix_len + 10 ? memchr(scope, '\0', (size_t)(end - scope))
                                  : NULL;
    const uint8_t *name = scope_end ? scope_end + 1 : NULL;
    const uint8_t *name_end =
        name && name < end ? memchr(name, '\0', (size_t)(end - name)) : NULL;
    if (!name_end || name_end != end - 9) {
        s_problemf(w->report, w->run_id, NULL,
                   "a state key of run '%s' is malformed", w->run_id);
        return CAIRN_OK;
    }
    uint64_t step, superseded;
    if (!cairn__versions_next(&w->versions, key, len, &step, &superseded))
        return CAIRN_ENOMEM;
    char what[256];
    snprintf(what, sizeof what, "state value '%s' of %s%s written at %s@%llu",
             (const char *)name, *scope ? "executor " : "shared state",
             (const char *)scope, w->run_id, (unsigned long long)step);
    ProtobufCMessage *record = NULL;
    cairn_error_t err;
    if (cairn__record_unpack(&cairn__value_record__descriptor, value,
                             value_len, what, &record, &err)
        != CAIRN_OK) {
        char first[CAIRN_CHECKPOINT_ID_MAX], readers[256];
        s_readers(w, step, superseded, first, readers, sizeof readers);
        s_problemf(w->report, w->run_id, first[0] ? first : NULL, "%s; %s",
                   err.message, readers);
    }
    if (record)
        protobuf_c_message_free_unpacked(record, NULL);
    return CAIRN_OK;
}

static int
s_walk_outputs(s_walk_t *w, const uint8_t *key, size_t len,
               const uint8_t *value, size_t value_len)
{
    uint64_t step;
    char id[CAIRN_CHECKPOINT_ID_MAX], what[160];
    if (!s_step_key(w, "output", key, len, &step, id))
        return CAIRN_OK;
    snprintf(what, sizeof what, "outputs of %s", id);
    ProtobufCMessage *record = NULL;
    cairn_error_t err;
    if (cairn__record_unpack(&cairn__output_record__descriptor, value,
                             value_len, what, &record, &err)
        != CAIRN_OK)
        s_problem(w->report, w->run_id, NULL, err.message);
    if (record)
        protobuf_c_message_free_unpacked(record, NULL);
    return CAIRN_OK;
}

/* ---- agreement between the records ---------------------------------------- */

/* Whether checkpoint id (of another run) has a stored manifest: one
 * point read. */
static bool
s_checkpoint_exists(cairn_store_t *self, const char *id)
{
    char run_id[80];
    uint64_t superstep;
    if (!cairn__checkpoint_id_parse(id, run_id, sizeof run_id, &superstep))
        return false;
    cairn__key_step(&self->key, run_id, superstep);
    uint8_t *value = NULL;
    size_t len = 0;
    cairn_error_t ignored;
    int rc = self->backend->ops->get(self->backend, CAIRN__CF_CHECKPOINTS,
                                     self->key.data, self->key.len, &value,
                                     &len, &ignored);
    free(value);
    return rc == CAIRN_OK;
}

/* Every parent exists, is older, and leaves the run only at its fork
 * point; a missing one is fine when retention recorded deleting it. */
static void
s_check_parents(s_walk_t *w)
{
    for (size_t i = 0; i < w->count; i++) {
        const s_ckpt_t *c = &w->ckpts[i];
        if (!c->parent || !*c->parent)
            continue;
        char id[CAIRN_CHECKPOINT_ID_MAX], parent_run[80];
        snprintf(id, sizeof id, "%s@%llu", w->run_id,
                 (unsigned long long)c->step);
        uint64_t step;
        if (!cairn__checkpoint_id_parse(c->parent, parent_run,
                                        sizeof parent_run, &step)) {
            s_problemf(w->report, w->run_id, id, "parent '%s' is malformed",
                       c->parent);
        } else if (strcmp(parent_run, w->run_id) == 0) {
            if (step >= c->step)
                s_problemf(w->report, w->run_id, id,
                           "parent %s is not older than it", c->parent);
            else if (!s_find(w, step) && !c->parent_pruned)
                s_problemf(w->report, w->run_id, id, "parent %s is missing",
                           c->parent);
        } else if (strcmp(c->parent, w->run->parent) != 0) {
            s_problemf(w->report, w->run_id, id,
                       "parent %s is in another run, but run %s was forked "
                       "from '%s'",
                       c->parent, w->run_id, w->run->parent);
        } else if (!c->parent_pruned
                   && !s_checkpoint_exists(w->store, c->parent)) {
            s_problemf(w->report, w->run_id, id,
                       "parent %s (the fork point) is missing", c->parent);
        }
    }
}

/* The record of a run that has ended was written with its last
 * checkpoint, so it names the newest one. (A live or interrupted run's
 * record lags behind its policy checkpoints.) */
static void
s_check_latest(s_walk_t *w)
{
    const char *latest = w->run->latest_checkpoint;
    if (!w->count || !*latest || strcmp(w->run->status, "running") == 0)
        return;
    char newest[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(newest, sizeof newest, "%s@%llu", w->run_id,
             (unsigned long long)w->ckpts[w->count - 1].step);
    if (strcmp(latest, newest) != 0)
        s_problemf(w->report, w->run_id, newest,
                   "run %s ended (%s) at checkpoint %s, but %s is newer",
                   w->run_id, w->run->status, latest, newest);
}

/* The run records up the lineage exist, parse and end. */
static void
s_check_lineage(cairn_store_t *self, const Cairn__RunRecord *run,
                s_report_t *report)
{
    char at[80], parent_run[80];
    snprintf(at, sizeof at, "%s", run->run_id);
    const char *parent = run->parent;
    Cairn__RunRecord *current = NULL;
    for (size_t depth = 0; parent && *parent; depth++) {
        uint64_t step;
        cairn_error_t err;
        Cairn__RunRecord *up = NULL;
        if (depth == S_MAX_LINEAGE) {
            s_problemf(report, run->run_id, NULL,
                       "lineage of run '%s' is too long or cyclic",
                       run->run_id);
        } else if (!cairn__checkpoint_id_parse(parent, parent_run,
                                               sizeof parent_run, &step)) {
            s_problemf(report, run->run_id, NULL,
                       "run '%s' has a malformed parent '%s'", at, parent);
        } else if (cairn__store_get_run_record(self, parent_run, &up, &err)
                   != CAIRN_OK) {
            s_problemf(report, run->run_id, NULL,
                       "run '%s' was forked from %s: %s", at, parent,
                       err.message);
        }
        if (current)
            cairn__run_record__free_unpacked(current, NULL);
        current = up;
        if (!up)
            break;
        snprintf(at, sizeof at, "%s", up->run_id);
        parent = up->parent;
    }
    if (current)
        cairn__run_record__free_unpacked(current, NULL);
}

typedef struct {
    s_report_t *report;
    const char *run_id;
} s_event_report_t;

static void
s_event_problem(void *userdata, const char *text)
{
    s_event_report_t *r = userdata;
    s_problem(r->report, r->run_id, NULL, text);
}

static int
s_verify_run(cairn_store_t *self, const char *run_id, s_report_t *report,
             cairn_error_t *err)
{
    Cairn__RunRecord *run = NULL;
    cairn_error_t why;
    if (cairn__store_get_run_record(self, run_id, &run, &why) != CAIRN_OK) {
        s_problem(report, run_id, NULL, why.message);
        return CAIRN_OK;
    }
    s_event_report_t events = {report, run_id};
    cairn__store_verify_events(self, run_id, s_event_problem, &events);
    s_check_lineage(self, run, report);
    s_walk_t w = {.store = self,
                  .report = report,
                  .run_id = run_id,
                  .run = run,
                  .prefix_len = strlen(run_id) + 1};
    int rc = s_each(&w, CAIRN__CF_CHECKPOINTS, s_walk_manifest);
    s_flush_foreign(&w);
    if (rc == CAIRN_OK)
        rc = s_each(&w, CAIRN__CF_INFLIGHT, s_walk_inflight);
    for (size_t i = 0; rc == CAIRN_OK && i < w.count; i++) {
        if (!w.ckpts[i].parent || w.ckpts[i].has_inflight)
            continue;
        char id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(id, sizeof id, "%s@%llu", run_id,
                 (unsigned long long)w.ckpts[i].step);
        s_problemf(report, run_id, id,
                   "in-flight messages of checkpoint %s are missing", id);
    }
    if (rc == CAIRN_OK)
        rc = s_each(&w, CAIRN__CF_STATE, s_walk_state);
    if (rc == CAIRN_OK)
        rc = s_each(&w, CAIRN__CF_OUTPUTS, s_walk_outputs);
    if (rc == CAIRN_OK) {
        s_check_parents(&w);
        s_check_latest(&w);
    }
    s_walk_free(&w);
    cairn__run_record__free_unpacked(run, NULL);
    return rc == CAIRN_OK ? CAIRN_OK
                          : cairn_error_set(err, rc, "out of memory");
}

/* run_id and the runs it was forked from, closest first: what a load of
 * its checkpoints reads. Stops quietly where the lineage breaks (the
 * walk of run_id reports that). */
static int
s_verify_with_lineage(cairn_store_t *self, const char *run_id,
                      s_report_t *report, cairn_error_t *err)
{
    char at[80];
    snprintf(at, sizeof at, "%s", run_id);
    int rc = CAIRN_OK;
    for (size_t depth = 0; rc == CAIRN_OK && depth < S_MAX_LINEAGE;
         depth++) {
        rc = s_verify_run(self, at, report, err);
        Cairn__RunRecord *run = NULL;
        cairn_error_t ignored;
        uint64_t step;
        bool more = rc == CAIRN_OK
                    && cairn__store_get_run_record(self, at, &run, &ignored)
                           == CAIRN_OK
                    && cairn__checkpoint_id_parse(run->parent, at, sizeof at,
                                                  &step);
        if (run)
            cairn__run_record__free_unpacked(run, NULL);
        if (!more)
            break;
    }
    return rc;
}

int
cairn_store_verify(cairn_store_t *self, const char *run_id,
                   cairn_verify_fn fn, void *userdata, size_t *problems,
                   cairn_error_t *err)
{
    cairn_error_clear(err);
    s_report_t report = {fn, userdata, 0};
    int rc = CAIRN_OK;
    if (run_id) {
        cairn_run_info_t *info = NULL;
        rc = cairn_store_get_run(self, run_id, &info, err);
        cairn_run_info_destroy(&info, info ? 1 : 0);
        if (rc == CAIRN_OK)
            rc = s_verify_with_lineage(self, run_id, &report, err);
        else if (rc == CAIRN_ECORRUPT) {
            s_problem(&report, run_id, NULL, err->message);
            cairn_error_clear(err);
            rc = CAIRN_OK;
        }
    } else {
        cairn_run_info_t *runs = NULL;
        size_t count = 0;
        rc = cairn_store_list_runs(self, &runs, &count, err);
        if (rc == CAIRN_ECORRUPT) {
            /* One bad run record hides the list: report it and stop. */
            s_problem(&report, "(runs)", NULL, err->message);
            cairn_error_clear(err);
            rc = CAIRN_OK;
        }
        for (size_t i = 0; rc == CAIRN_OK && i < count; i++)
            rc = s_verify_run(self, runs[i].id, &report, err);
        cairn_run_info_destroy(&runs, count);
    }
    if (problems)
        *problems = report.problems;
    return rc;
}
