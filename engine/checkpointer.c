/* checkpointer.c - what a run stores and how it comes back.
 *
 * The coordinator tells the checkpointer what each barrier applied
 * (cairn__ckpt_note_done); when a checkpoint is due, only the keys that
 * changed since the previous checkpoint are written, as new versions, so
 * a checkpoint costs what changed, not the size of the state. Outputs are
 * stored per superstep; in-flight messages and fan-in buffers in full
 * (they are small and change every superstep).
 *
 * Restoring reads a checkpoint back into a fresh run: states, shared
 * state, mailboxes, fan-in buffers, outputs and the superstep counter,
 * plus the Dones already stored for the superstep that was interrupted,
 * so those executors are not run again.
 *
 * The split with the run. The checkpointer owns cairn__ckpt_t (below):
 * the store, the last checkpoint, the run's lineage (parent, created,
 * signature_since), the checkpoint policy as the run record keeps it and
 * what changed since the last checkpoint. The run holds only the
 * pointer, run->ckpt. What needs no more than that takes it and its
 * inputs explicitly (note_done, save_pending, check_new_run). A
 * checkpoint is a snapshot of the run, so writing one reads, and
 * restoring fills, the run's identity (run_id, wf, opts, superstep,
 * max_supersteps), its outcome (status, error, reason), its data
 * (states, shared, result outputs) and what is in flight (inbox, pool,
 * router, done, requests, answered, dead_letters), plus events and ctl
 * for the endpoints the run record names; nothing else of the run.
 * Storage is reached only through storage/checkpoint_io.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ids.h"
#include "base/util.h"
#include "cairn/log.h"
#include "engine/result_internal.h"
#include "engine/run_internal.h"
#include "storage/checkpoint_io.h"

#define S_NO_CHECKPOINT UINT64_MAX

struct cairn__ckpt_t {
    cairn_store_t *store;                 /* borrowed from the run options */
    size_t executors;                     /* of the run's workflow */
    char parent[CAIRN_CHECKPOINT_ID_MAX]; /* fork point of this run */
    uint64_t created_ms;      /* RunRecord.created_ms (wall clock) */
    uint64_t signature_since; /* RunRecord.signature_since: where the
                                 checkpoints of wf's signature start */
    uint64_t last_checkpoint; /* superstep, or S_NO_CHECKPOINT */
    uint64_t pending_step;    /* the superstep that may have pending writes
                                 in the store (stored early or found at
                                 restore), else 0: no scan at its barrier */
    char last_checkpoint_id[CAIRN_CHECKPOINT_ID_MAX]; /* "" before the
                                                        first one */
    char policy_text[32];        /* opts.checkpoint as the run record keeps
                                    it ("every:5") */
    cairn__kv_t **unsaved_state; /* per executor: keys changed since the
                                    last checkpoint */
    cairn__kv_t *unsaved_shared; /* shared keys changed since then */
    uint64_t *unsaved_output_steps; /* supersteps with unsaved outputs */
    size_t *unsaved_output_first;   /* their first output index */
    size_t unsaved_output_count;
};

/* The policy as text, the way the CLI's --checkpoint takes it. */
static void
s_policy_text(const cairn_checkpoint_policy_t *policy, char *out, size_t size)
{
    static const char *const names[] = {"every",  "every:", "on-error",
                                        "manual", "predicate", "none"};
    const char *name = (size_t)policy->kind < sizeof names / sizeof names[0]
                           ? names[policy->kind]
                           : "every";
    if (policy->kind == CAIRN_CHECKPOINT_EVERY_N)
        snprintf(out, size, "every:%llu",
                 (unsigned long long)(policy->every_n ? policy->every_n : 1));
    else
        snprintf(out, size, "%s", name);
}

int
cairn__ckpt_new(cairn__ckpt_t **out, cairn_store_t *store,
                const cairn_checkpoint_policy_t *policy, size_t executors)
{
    cairn__ckpt_t *self = calloc(1, sizeof *self);
    *out = NULL;
    if (!self)
        return CAIRN_ENOMEM;
    self->store = store;
    self->executors = executors;
    self->created_ms = cairn__wall_ms();
    self->last_checkpoint = S_NO_CHECKPOINT;
    s_policy_text(policy, self->policy_text, sizeof self->policy_text);
    self->unsaved_state = calloc(executors, sizeof *self->unsaved_state);
    self->unsaved_shared = cairn__kv_new();
    bool ok = self->unsaved_state && self->unsaved_shared;
    for (size_t x = 0; ok && x < executors; x++)
        ok = (self->unsaved_state[x] = cairn__kv_new()) != NULL;
    if (!ok) {
        cairn__ckpt_destroy(&self);
        return CAIRN_ENOMEM;
    }
    *out = self;
    return CAIRN_OK;
}

void
cairn__ckpt_destroy(cairn__ckpt_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn__ckpt_t *self = *self_p;
    for (size_t x = 0; self->unsaved_state && x < self->executors; x++)
        cairn__kv_destroy(&self->unsaved_state[x]);
    free(self->unsaved_state);
    cairn__kv_destroy(&self->unsaved_shared);
    free(self->unsaved_output_steps);
    free(self->unsaved_output_first);
    free(self);
    *self_p = NULL;
}

const char *
cairn__ckpt_last_id(const cairn__ckpt_t *self)
{
    return self->last_checkpoint_id;
}

int
cairn__ckpt_check_new_run(cairn__ckpt_t *self, const char *run_id,
                          cairn_error_t *err)
{
    return cairn__store_check_new_run(self->store, run_id, err);
}

static int
s_mark_keys(cairn__kv_t *unsaved, Cairn__StateEntry *const *entries,
            size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (cairn__kv_set(unsaved, entries[i]->key, NULL, 0) != CAIRN_OK)
            return CAIRN_ENOMEM;
    return CAIRN_OK;
}

int
cairn__ckpt_note_done(cairn__ckpt_t *self, size_t executor,
                      const Cairn__Done *done, uint64_t superstep,
                      size_t first_output)
{
    int rc = s_mark_keys(self->unsaved_state[executor], done->state_writes,
                         done->n_state_writes);
    if (rc == CAIRN_OK)
        rc = s_mark_keys(self->unsaved_shared, done->shared_writes,
                         done->n_shared_writes);
    size_t n = self->unsaved_output_count;
    if (rc != CAIRN_OK || done->n_outputs == 0
        || (n > 0 && self->unsaved_output_steps[n - 1] == superstep))
        return rc;
    if (!CAIRN__GROW(self->unsaved_output_steps, n)
        || !CAIRN__GROW(self->unsaved_output_first, n))
        return CAIRN_ENOMEM;
    self->unsaved_output_steps[n] = superstep;
    self->unsaved_output_first[n] = first_output;
    self->unsaved_output_count++;
    return CAIRN_OK;
}

/* ---- writing --------------------------------------------------------------- */

static void
s_free_lines(char **lines, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(lines[i]);
    free(lines);
}

/* Fills record with what the run knows about itself; the graph lines are
 * malloc'd into *lines (free with s_free_lines). */
static int
s_run_record(const cairn__run_t *run, Cairn__RunRecord *record,
             char ***lines, size_t *line_count)
{
    const cairn__ckpt_t *ckpt = run->ckpt;
    cairn__run_record__init(record);
    if (cairn__workflow_describe(run->wf, lines, line_count) != CAIRN_OK)
        return CAIRN_ENOMEM;
    record->run_id = (char *)run->run_id;
    record->workflow_name = run->wf->name;
    record->signature.data = (uint8_t *)run->wf->signature;
    record->signature.len = CAIRN_SIGNATURE_SIZE;
    record->status = (char *)cairn_status_name(run->status);
    record->superstep = run->superstep;
    record->latest_checkpoint = (char *)ckpt->last_checkpoint_id;
    record->parent = (char *)ckpt->parent;
    record->created_ms = ckpt->created_ms;
    record->signature_since = ckpt->signature_since;
    record->updated_ms = cairn__wall_ms();
    record->pid = (int64_t)getpid();
    record->pid_start = cairn__process_start((int64_t)getpid());
    record->error = (char *)run->error.message;
    record->reason = (char *)(run->reason ? run->reason : "");
    record->max_supersteps = run->max_supersteps;
    record->spec.data = (uint8_t *)run->opts.spec;
    record->spec.len = run->opts.spec_len;
    record->plugins = (char **)run->opts.plugins;
    record->n_plugins = run->opts.plugin_count;
    record->plugin_sha256 = (char **)run->opts.plugin_sha256;
    record->n_plugin_sha256 =
        run->opts.plugin_sha256 ? run->opts.plugin_count : 0;
    record->checkpoint_policy = (char *)ckpt->policy_text;
    record->keep_events = run->opts.keep_events;
    record->durability =
        (char *)cairn_durability_name(cairn_store_durability(ckpt->store));
    record->graph = *lines;
    record->n_graph = *line_count;
    /* Only while the run is live is anyone there to subscribe to. */
    record->events_endpoint =
        (char *)(run->status == CAIRN_STATUS_RUNNING
                         && cairn__events_published(run->events)
                     ? run->opts.events_endpoint
                     : "");
    record->control_endpoint = run->status == CAIRN_STATUS_RUNNING
                                   ? (char *)run->ctl.endpoint
                                   : (char *)"";
    return CAIRN_OK;
}

/* Adds the state versions changed since the last checkpoint. */
static void
s_put_unsaved_scope(cairn__ckpt_writer_t *w, cairn__kv_t *unsaved,
                    const cairn__kv_t *state, const char *scope, bool *ok)
{
    size_t count;
    const char **keys = cairn__kv_sorted_keys(unsaved, &count);
    if (!keys && cairn__kv_size(unsaved) > 0)
        *ok = false;
    for (size_t i = 0; keys && i < count; i++) {
        const cairn__kv_value_t *value = cairn__kv_lookup(state, keys[i]);
        cairn__ckpt_put_state(w, scope, keys[i], value ? value->data : NULL,
                              value ? value->len : 0, value == NULL);
    }
    free(keys);
}

/* Adds the outputs yielded since the last checkpoint (in result), one
 * record per superstep. */
static bool
s_put_unsaved_outputs(const cairn__ckpt_t *self, const cairn_result_t *result,
                      cairn__ckpt_writer_t *w)
{
    size_t total = cairn_result_output_count(result);
    for (size_t i = 0; i < self->unsaved_output_count; i++) {
        size_t first = self->unsaved_output_first[i];
        size_t end = i + 1 < self->unsaved_output_count
                         ? self->unsaved_output_first[i + 1]
                         : total;
        ProtobufCBinaryData *items = calloc(end - first, sizeof *items);
        if (!items)
            return false;
        for (size_t k = first; k < end; k++)
            items[k - first].data = (uint8_t *)cairn_result_output(
                result, k, &items[k - first].len);
        Cairn__OutputRecord record = CAIRN__OUTPUT_RECORD__INIT;
        record.items = items;
        record.n_items = end - first;
        cairn__ckpt_put_outputs(w, self->unsaved_output_steps[i], &record);
        free(items);
    }
    return true;
}

/* Adds the mailboxes and fan-in buffers (all borrowed). */
static bool
s_put_inflight(cairn__run_t *run, cairn__ckpt_writer_t *w, size_t *pending)
{
    size_t n = run->wf->executor_count;
    Cairn__ExecutorMail *mail = calloc(n, sizeof *mail);
    Cairn__ExecutorMail **mail_ptrs = calloc(n, sizeof *mail_ptrs);
    Cairn__FanInBuffer **buffers = NULL;
    size_t buffer_count = 0;
    bool ok = mail && mail_ptrs
              && cairn__router_export(run->router, &buffers, &buffer_count)
                     == CAIRN_OK;
    Cairn__InflightRecord record = CAIRN__INFLIGHT_RECORD__INIT;
    *pending = 0;
    for (size_t x = 0; ok && x < n; x++) {
        if (run->inbox[x].count == 0)
            continue;
        Cairn__ExecutorMail *entry = &mail[record.n_mail];
        cairn__executor_mail__init(entry);
        entry->executor = run->wf->executors[x].id;
        entry->messages = (Cairn__Message **)run->inbox[x].items;
        entry->n_messages = run->inbox[x].count;
        *pending += entry->n_messages;
        mail_ptrs[record.n_mail++] = entry;
    }
    if (ok) {
        record.mail = mail_ptrs;
        record.fan_in = buffers;
        record.n_fan_in = buffer_count;
        record.requests = (Cairn__Request **)run->requests.items;
        record.n_requests = run->requests.count;
        record.answered = (char **)run->answered.items;
        record.n_answered = run->answered.count;
        record.dead_letters = (Cairn__DeadLetter **)run->dead_letters.items;
        record.n_dead_letters = run->dead_letters.count;
        cairn__ckpt_put_inflight(w, &record);
    }
    cairn__router_export_free(buffers, buffer_count);
    free(mail);
    free(mail_ptrs);
    return ok;
}

static void
s_forget_unsaved(cairn__ckpt_t *self)
{
    for (size_t x = 0; x < self->executors; x++)
        cairn__kv_clear(self->unsaved_state[x]);
    cairn__kv_clear(self->unsaved_shared);
    self->unsaved_output_count = 0;
}

/* Writes checkpoint RUN@run->superstep; with_record also rewrites the
 * run record (start, end and status changes). */
static int
s_write(cairn__run_t *run, const char *trigger, const char *const *tags,
        size_t tag_count, bool with_record, cairn_error_t *err)
{
    cairn__ckpt_t *ckpt = run->ckpt;
    cairn__ckpt_writer_t *w =
        cairn__ckpt_begin(ckpt->store, run->run_id, run->superstep);
    if (!w)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    /* A new run (or fork): its id must be free when the write lands. */
    if (!ckpt->last_checkpoint_id[0])
        cairn__ckpt_set_new_run(w);
    bool ok = true;
    for (size_t x = 0; x < run->wf->executor_count; x++)
        s_put_unsaved_scope(w, ckpt->unsaved_state[x], run->states[x],
                            run->wf->executors[x].id, &ok);
    s_put_unsaved_scope(w, ckpt->unsaved_shared, run->shared, NULL, &ok);
    size_t pending = 0;
    ok = ok && s_put_unsaved_outputs(ckpt, run->result, w)
         && s_put_inflight(run, w, &pending);
    if (ckpt->pending_step == run->superstep)
        cairn__ckpt_drop_pending(w, run->superstep);
    char previous[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(previous, sizeof previous, "%s",
             ckpt->last_checkpoint_id[0] ? ckpt->last_checkpoint_id
                                         : ckpt->parent);
    snprintf(ckpt->last_checkpoint_id, sizeof ckpt->last_checkpoint_id,
             "%s@%llu", run->run_id, (unsigned long long)run->superstep);
    Cairn__CheckpointRecord manifest = CAIRN__CHECKPOINT_RECORD__INIT;
    manifest.run_id = run->run_id;
    manifest.superstep = run->superstep;
    manifest.parent = previous;
    manifest.timestamp_ms = cairn__wall_ms();
    manifest.trigger = (char *)trigger;
    manifest.workflow_name = run->wf->name;
    manifest.signature.data = (uint8_t *)run->wf->signature;
    manifest.signature.len = CAIRN_SIGNATURE_SIZE;
    manifest.status = (char *)cairn_status_name(run->status);
    manifest.tags = (char **)tags;
    manifest.n_tags = tag_count;
    manifest.pending_messages = pending;
    manifest.error = run->error.message;
    manifest.reason = (char *)(run->reason ? run->reason : "");
    Cairn__RunRecord record;
    char **lines = NULL;
    size_t line_count = 0;
    if (ok && with_record)
        ok = s_run_record(run, &record, &lines, &line_count) == CAIRN_OK;
    if (ok) /* in the same batch: never more events than checkpoints */
        cairn__events_put(run->events, w);
    int rc;
    if (!ok) {
        cairn__ckpt_abort(w);
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    } else {
        rc = cairn__ckpt_commit(w, &manifest, with_record ? &record : NULL,
                                err);
    }
    s_free_lines(lines, line_count);
    if (rc != CAIRN_OK) {
        /* Nothing was written: the previous checkpoint still stands. */
        snprintf(ckpt->last_checkpoint_id, sizeof ckpt->last_checkpoint_id,
                 "%s", previous);
        return rc;
    }
    ckpt->last_checkpoint = run->superstep;
    s_forget_unsaved(ckpt);
    cairn__events_saved(run->events);
    return CAIRN_OK;
}

int
cairn__ckpt_write_entry(cairn__run_t *run, cairn_error_t *err)
{
    int rc = s_write(run, "entry", NULL, 0, true, err);
    if (rc == CAIRN_ESTORE) { /* the store has no trace of the run */
        char reason[sizeof err->message];
        snprintf(reason, sizeof reason, "%s", err->message);
        cairn_error_set(err, rc,
                        "%s; nothing of run '%s' was stored: run it again",
                        reason, run->run_id);
    }
    return rc;
}

int
cairn__ckpt_write_barrier(cairn__run_t *run, const char *trigger,
                          const char *const *tags, size_t tag_count,
                          cairn_error_t *err)
{
    bool ending = run->status != CAIRN_STATUS_RUNNING;
    return s_write(run, trigger, tags, tag_count, ending, err);
}

int
cairn__ckpt_write_record(cairn__run_t *run, cairn_error_t *err)
{
    Cairn__RunRecord record;
    char **lines = NULL;
    size_t line_count = 0;
    int rc = s_run_record(run, &record, &lines, &line_count);
    rc = rc == CAIRN_OK
             ? cairn__store_put_run_record(run->ckpt->store, &record, err)
             : cairn_error_set(err, rc, "out of memory");
    s_free_lines(lines, line_count);
    return rc;
}

int
cairn__ckpt_write_failure(cairn__run_t *run, cairn_error_t *err)
{
    /* The failed superstep applied nothing: its barrier state is that of
     * superstep - 1, with this superstep's mail still in the inbox. */
    uint64_t failed = run->superstep;
    if (run->ckpt->last_checkpoint == failed - 1)
        return cairn__ckpt_write_record(run, err);
    run->superstep = failed - 1;
    int rc = s_write(run, "error", NULL, 0, true, err);
    run->superstep = failed;
    return rc;
}

void
cairn__ckpt_save_pending(cairn__ckpt_t *self, const char *run_id,
                         uint64_t superstep, const Cairn__Done *done)
{
    /* Pending writes only help a resume from the previous barrier, and a
     * memory store does not outlive the process anyway. */
    if (cairn_store_durability(self->store) == CAIRN_DURABILITY_NONE
        || self->last_checkpoint != superstep - 1)
        return;
    self->pending_step = superstep;
    cairn_error_t err;
    if (cairn__store_put_pending(self->store, run_id, superstep, done, &err)
        != CAIRN_OK)
        cairn_log(CAIRN_LOG_WARN, "checkpoint",
                  "run %s: could not store the result of '%s' early (%s); "
                  "it would run again after a crash",
                  run_id, done->executor_id, err.message);
}

/* ---- restoring ------------------------------------------------------------ */

/* Lists, into err, the graph lines only one side has. */
static int
s_signature_error(const cairn__run_t *run, const Cairn__RunRecord *stored,
                  cairn_error_t *err)
{
    char **lines = NULL;
    size_t count = 0;
    if (cairn__workflow_describe(run->wf, &lines, &count) != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    char diff[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < stored->n_graph; i++) {
        bool found = false;
        for (size_t k = 0; k < count && !found; k++)
            found = strcmp(stored->graph[i], lines[k]) == 0;
        if (!found && used < sizeof diff)
            used += (size_t)snprintf(diff + used, sizeof diff - used,
                                     "; removed: %s", stored->graph[i]);
    }
    for (size_t k = 0; k < count; k++) {
        bool found = false;
        for (size_t i = 0; i < stored->n_graph && !found; i++)
            found = strcmp(stored->graph[i], lines[k]) == 0;
        if (!found && used < sizeof diff)
            used += (size_t)snprintf(diff + used, sizeof diff - used,
                                     "; added: %s", lines[k]);
    }
    s_free_lines(lines, count);
    return cairn_error_set(err, CAIRN_ESIGNATURE,
                           "workflow '%s' differs from the one run '%s' was "
                           "made with%s",
                           run->wf->name, stored->run_id,
                           used ? diff : " (same graph text, other config)");
}

/* Moves the checkpoint's mail into the run's mailboxes. */
static int
s_restore_mail(cairn__run_t *run, Cairn__InflightRecord *inflight,
               cairn_error_t *err)
{
    for (size_t i = 0; i < inflight->n_mail; i++) {
        Cairn__ExecutorMail *mail = inflight->mail[i];
        long x = cairn__workflow_find(run->wf, mail->executor);
        for (size_t m = 0; m < mail->n_messages; m++) {
            Cairn__Message *msg = mail->messages[m];
            mail->messages[m] = NULL;
            if (cairn__ptrs_push(&run->pool.messages, msg) != CAIRN_OK) {
                cairn__pb_message_free(msg);
                return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            }
            if (x < 0) {
                cairn_log(CAIRN_LOG_WARN, "checkpoint",
                          "run %s: dropping mail for '%s', which this "
                          "workflow does not have",
                          run->run_id, mail->executor);
                continue;
            }
            if (cairn__ptrs_push(&run->inbox[x], msg) != CAIRN_OK)
                return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        }
        mail->n_messages = 0;
    }
    if (cairn__router_import(run->router, inflight->fan_in,
                             inflight->n_fan_in)
        != CAIRN_OK)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               "fan-in buffers of run '%s' do not fit "
                               "workflow '%s'",
                               run->run_id, run->wf->name);
    return CAIRN_OK;
}

/* Moves states, shared state and outputs into the run. */
static int
s_restore_state(cairn__run_t *run, cairn_checkpoint_t *cp,
                cairn_error_t *err)
{
    for (size_t x = 0; x < run->wf->executor_count; x++) {
        cairn__kv_t *state =
            cairn__checkpoint_take_state(cp, run->wf->executors[x].id);
        if (state) {
            cairn__kv_destroy(&run->states[x]);
            run->states[x] = state;
        }
    }
    cairn__kv_t *shared = cairn__checkpoint_take_shared(cp);
    if (shared) {
        cairn__kv_destroy(&run->shared);
        run->shared = shared;
    }
    for (size_t i = 0; i < cairn_checkpoint_output_count(cp); i++) {
        size_t len;
        const uint8_t *data = cairn_checkpoint_output(cp, i, &len);
        if (cairn__result_add_output(run->result, data, len) != CAIRN_OK)
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    return CAIRN_OK;
}

/* Puts the results already stored for the next superstep in place, so
 * those executors are not run again. */
static int
s_restore_pending(cairn__run_t *run, cairn_error_t *err)
{
    Cairn__Done **dones = NULL;
    size_t count = 0;
    run->ckpt->pending_step = run->superstep + 1; /* even those not decoded */
    int rc = cairn__store_load_pending(run->ckpt->store, run->run_id,
                                       run->superstep + 1, &dones, &count, err);
    for (size_t i = 0; i < count; i++) {
        long x = rc == CAIRN_OK
                     ? cairn__workflow_find(run->wf, dones[i]->executor_id)
                     : -1;
        Cairn__Envelope *env = NULL;
        if (x >= 0 && run->inbox[x].count > 0 && !run->done[x]
            && dones[i]->ok && (env = malloc(sizeof *env)) != NULL) {
            cairn__envelope__init(env);
            env->body_case = CAIRN__ENVELOPE__BODY_DONE;
            env->done = dones[i];
            run->done[x] = env;
        } else {
            cairn__done__free_unpacked(dones[i], NULL);
        }
    }
    free(dones);
    return rc;
}

/* Decides the run id and lineage the resumed run continues under. */
static int
s_restore_identity(cairn__run_t *run, const cairn_checkpoint_t *cp,
                   bool is_latest, cairn_error_t *err)
{
    cairn__ckpt_t *ckpt = run->ckpt;
    const char *checkpoint_id = cairn_checkpoint_info(cp)->id;
    const Cairn__RunRecord *stored = cairn__checkpoint_run(cp);
    if (is_latest) {
        snprintf(run->run_id, sizeof run->run_id, "%s", stored->run_id);
        snprintf(ckpt->parent, sizeof ckpt->parent, "%s", stored->parent);
        snprintf(ckpt->last_checkpoint_id, sizeof ckpt->last_checkpoint_id,
                 "%s", checkpoint_id);
        ckpt->created_ms = stored->created_ms;
        ckpt->signature_since = stored->signature_since;
        if (cairn__result_set_run_id(run->result, run->run_id) != CAIRN_OK)
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        return CAIRN_OK;
    }
    /* History is never rewritten: continue as a new run forked there. */
    int rc = cairn__store_check_new_run(ckpt->store, run->run_id, err);
    if (rc != CAIRN_OK)
        return rc;
    snprintf(ckpt->parent, sizeof ckpt->parent, "%s", checkpoint_id);
    ckpt->last_checkpoint_id[0] = '\0';
    cairn__result_set_note(run->result,
                           "%s is not the latest checkpoint of run %s: "
                           "continuing as new run %s forked from it",
                           checkpoint_id, stored->run_id, run->run_id);
    return CAIRN_OK;
}

/* Finds the checkpoint a resume target names and loads it. */
static int
s_load_target(cairn__run_t *run, const char *target, cairn_checkpoint_t **cp,
              bool *is_latest, cairn_error_t *err)
{
    char latest[CAIRN_CHECKPOINT_ID_MAX];
    char run_id[80];
    uint64_t superstep;
    bool is_checkpoint = strchr(target, '@') != NULL;
    if (is_checkpoint
        && !cairn__checkpoint_id_parse(target, run_id, sizeof run_id,
                                       &superstep))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "'%s' is neither a run id nor a checkpoint "
                               "id (RUN@SUPERSTEP)",
                               target);
    if (!is_checkpoint)
        snprintf(run_id, sizeof run_id, "%s", target);
    int rc = cairn_store_get_latest_checkpoint(run->ckpt->store, run_id,
                                               latest, err);
    if (rc == CAIRN_ENOTFOUND && !is_checkpoint)
        return cairn_error_set(err, rc, "unknown run '%s'", run_id);
    if (rc != CAIRN_OK && rc != CAIRN_ENOTFOUND)
        return rc;
    const char *id = is_checkpoint ? target : latest;
    *is_latest = rc == CAIRN_OK && strcmp(id, latest) == 0;
    return cairn_store_get_checkpoint(run->ckpt->store, id, cp, err);
}

int
cairn__ckpt_restore(cairn__run_t *run, const char *target, bool *finished,
                    cairn_error_t *err)
{
    *finished = false;
    cairn_checkpoint_t *cp = NULL;
    bool is_latest = false, forced = false;
    int rc = s_load_target(run, target, &cp, &is_latest, err);
    if (rc != CAIRN_OK)
        return rc;
    const Cairn__CheckpointRecord *manifest = cairn__checkpoint_manifest(cp);
    const Cairn__RunRecord *stored = cairn__checkpoint_run(cp);
    Cairn__InflightRecord *inflight = cairn__checkpoint_inflight(cp);
    const char *checkpoint_id = cairn_checkpoint_info(cp)->id;
    if (manifest->signature.len != CAIRN_SIGNATURE_SIZE
        || memcmp(manifest->signature.data, run->wf->signature,
                  CAIRN_SIGNATURE_SIZE)
               != 0) {
        if (!run->opts.force_signature) {
            rc = s_signature_error(run, stored, err);
            cairn_checkpoint_destroy(&cp);
            return rc;
        }
        cairn_log(CAIRN_LOG_WARN, "checkpoint",
                  "resuming %s with a different workflow (forced)",
                  checkpoint_id);
        forced = true;
    }
    if (is_latest && strcmp(stored->status, "cancelled") == 0) {
        /* Cancelling was a decision not to finish: resuming must not undo
         * it by accident. A fork from a checkpoint continues on purpose. */
        rc = cairn_error_set(err, CAIRN_EINVAL,
                             "run %s was cancelled and cannot be resumed; "
                             "fork it from checkpoint %s to continue from "
                             "there",
                             stored->run_id, checkpoint_id);
        cairn_checkpoint_destroy(&cp);
        return rc;
    }
    run->superstep = manifest->superstep;
    run->ckpt->last_checkpoint = manifest->superstep;
    /* The limit belongs to the run: only a resume that names a new one
     * changes it (and the record then keeps the new one). */
    if (!run->opts.max_supersteps && stored->max_supersteps)
        run->max_supersteps = stored->max_supersteps;
    if (!run->opts.keep_events && stored->keep_events) { /* the same */
        run->opts.keep_events = (size_t)stored->keep_events;
        cairn__events_keep(run->events, run->opts.keep_events);
    }
    rc = s_restore_identity(run, cp, is_latest, err);
    /* The run goes on under its id with another workflow: its older
     * checkpoints keep the old signature (verify must not take them for
     * another run's). A fork starts a run of the new workflow. */
    if (forced && is_latest)
        run->ckpt->signature_since = run->superstep + 1;
    if (rc == CAIRN_OK)
        rc = s_restore_state(run, cp, err);
    if (rc == CAIRN_OK)
        rc = s_restore_mail(run, inflight, err);
    if (rc == CAIRN_OK
        && (cairn__requests_restore(run, inflight) != CAIRN_OK
            || cairn__dead_letter_restore(run, inflight) != CAIRN_OK))
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc == CAIRN_OK)
        rc = cairn__requests_answer(run, err);
    bool completed = strcmp(stored->status, "completed") == 0;
    if (rc == CAIRN_OK && is_latest && completed) {
        *finished = true;
        run->status = CAIRN_STATUS_COMPLETED;
        cairn__result_set_note(run->result,
                               "run %s is already completed; nothing to do",
                               run->run_id);
    } else if (rc == CAIRN_OK && is_latest) {
        rc = s_restore_pending(run, err);
        if (rc == CAIRN_OK)
            rc = cairn__ckpt_write_record(run, err);
    } else if (rc == CAIRN_OK) {
        rc = s_write(run, "fork", NULL, 0, true, err);
    }
    cairn_checkpoint_destroy(&cp);
    return rc;
}
