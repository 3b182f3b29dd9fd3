/* store_fork.c - forking a run at a checkpoint, without an engine.
 *
 * A fork NEW of checkpoint P@N is a run record (parent = P@N) and one
 * checkpoint NEW@N (trigger "fork", parent P@N) written in one batch. The
 * checkpoint holds only what the fork changes: the state keys it sets,
 * as versions of NEW at N, and its in-flight record (the parent's mail
 * and fan-in buffers after --drop-messages / --send). Every other key
 * resolves through the lineage to P at or before N (store_load.c), so a
 * fork costs its changes, not a copy of the parent's state, and loads
 * and resumes exactly like a fork the engine makes when it resumes from
 * a checkpoint that is not the latest.
 *
 * Everything is checked before the batch is built; nothing is written
 * unless all of it is valid.
 */
#include <stdlib.h>
#include <string.h>

#include "base/ids.h"
#include "base/util.h"
#include "storage/record.h"
#include "storage/store_internal.h"

/* What the fork reads from its parent (all owned). */
typedef struct {
    Cairn__RunRecord *run;
    Cairn__CheckpointRecord *manifest;
    Cairn__InflightRecord *inflight;
} s_parent_t;

static void
s_parent_free(s_parent_t *p)
{
    if (p->run)
        cairn__run_record__free_unpacked(p->run, NULL);
    if (p->manifest)
        cairn__checkpoint_record__free_unpacked(p->manifest, NULL);
    if (p->inflight)
        cairn__inflight_record__free_unpacked(p->inflight, NULL);
}

/* Reads the parent run record, manifest and in-flight record. */
static int
s_read_parent(cairn_store_t *self, const char *checkpoint_id,
              const char *run_id, uint64_t superstep, s_parent_t *p,
              cairn_error_t *err)
{
    int rc = cairn__store_get_run_record(self, run_id, &p->run, err);
    if (rc != CAIRN_OK)
        return rc;
    return cairn__store_read_checkpoint(self, checkpoint_id, run_id,
                                        superstep, &p->manifest, &p->inflight,
                                        err);
}

/* Whether the workflow of run has executor id: its graph lines (from
 * cairn__workflow_describe) name each as "executor ID type ...". */
static bool
s_has_executor(const Cairn__RunRecord *run, const char *id)
{
    size_t len = strlen(id);
    for (size_t i = 0; i < run->n_graph; i++) {
        const char *line = run->graph[i];
        if (strncmp(line, "executor ", 9) == 0
            && strncmp(line + 9, id, len) == 0 && line[9 + len] == ' ')
            return true;
    }
    return false;
}

static int
s_check_executor(const Cairn__RunRecord *run, const char *id, const char *what,
                 cairn_error_t *err)
{
    if (id && s_has_executor(run, id))
        return CAIRN_OK;
    return cairn_error_set(err, CAIRN_EINVAL,
                           "%s: workflow '%s' of run '%s' has no executor "
                           "'%s'",
                           what, run->workflow_name, run->run_id, id ? id : "");
}

/* Checks every change against the parent's workflow. */
static int
s_check_changes(const Cairn__RunRecord *run,
                const cairn_fork_changes_t *changes, cairn_error_t *err)
{
    for (size_t i = 0; i < changes->state_count; i++) {
        const cairn_fork_state_t *s = &changes->states[i];
        if (!s->key || !*s->key)
            return cairn_error_set(err, CAIRN_EINVAL,
                                   "set state: a state key must not be "
                                   "empty");
        if (s->len > 0 && !s->value)
            return cairn_error_set(err, CAIRN_EINVAL,
                                   "set state: value of '%s' is NULL", s->key);
        if (s->executor) {
            int rc = s_check_executor(run, s->executor, "set state", err);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    for (size_t i = 0; i < changes->send_count; i++) {
        const cairn_fork_message_t *m = &changes->sends[i];
        int rc = s_check_executor(run, m->executor, "send", err);
        if (rc != CAIRN_OK)
            return rc;
        if (m->len > 0 && !m->payload)
            return cairn_error_set(err, CAIRN_EINVAL,
                                   "send: payload for '%s' is NULL",
                                   m->executor);
    }
    return CAIRN_OK;
}

/* Picks and checks the new run id into out. */
static int
s_new_run_id(cairn_store_t *self, const char *wanted, char *out, size_t size,
             cairn_error_t *err)
{
    if (wanted && !cairn__valid_id(wanted))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "run id '%s' must match [A-Za-z0-9_-]{1,64}",
                               wanted);
    if (wanted)
        snprintf(out, size, "%s", wanted);
    else
        cairn__make_run_id(out, size);
    Cairn__RunRecord *clash = NULL;
    cairn_error_t ignored;
    int rc = cairn__store_get_run_record(self, out, &clash, &ignored);
    if (clash)
        cairn__run_record__free_unpacked(clash, NULL);
    if (rc == CAIRN_OK)
        return cairn_error_set(err, CAIRN_EEXISTS,
                               "run '%s' already exists in the store", out);
    if (rc != CAIRN_ENOTFOUND)
        return cairn_error_set(err, rc, "%s", ignored.message);
    return CAIRN_OK;
}

/* The in-flight record after the changes. It borrows from the parent's
 * record and the changes; the arrays it points to are malloc'd and freed
 * by s_inflight_free. */
typedef struct {
    Cairn__InflightRecord record;
    Cairn__ExecutorMail **mail; /* the record's mail array */
    Cairn__ExecutorMail *added; /* entries made or extended here */
    size_t added_count;
    Cairn__Message *messages; /* the sent messages */
    Cairn__Message **message_ptrs;
    size_t pending; /* messages in the mailboxes */
} s_inflight_t;

static void
s_inflight_free(s_inflight_t *f)
{
    for (size_t i = 0; i < f->added_count; i++)
        free(f->added[i].messages);
    free(f->added);
    free(f->mail);
    free(f->messages);
    free(f->message_ptrs);
}

/* Index of executor's entry in f's mail, or -1. */
static long
s_find_mail(const s_inflight_t *f, const char *executor)
{
    for (size_t i = 0; i < f->record.n_mail; i++)
        if (strcmp(f->mail[i]->executor, executor) == 0)
            return (long)i;
    return -1;
}

/* Appends message to executor's mail, copying the entry into f->added
 * the first time so the parent's record is never changed. */
static bool
s_append(s_inflight_t *f, const char *executor, Cairn__Message *message)
{
    long i = s_find_mail(f, executor);
    Cairn__ExecutorMail *entry = i >= 0 ? f->mail[i] : NULL;
    bool ours = entry && entry >= f->added && entry < f->added + f->added_count;
    if (!ours) {
        Cairn__ExecutorMail *fresh = &f->added[f->added_count++];
        cairn__executor_mail__init(fresh);
        fresh->executor = (char *)executor;
        size_t n = entry ? entry->n_messages : 0;
        fresh->messages = calloc(n + 1, sizeof *fresh->messages);
        if (!fresh->messages)
            return false;
        if (n)
            memcpy(fresh->messages, entry->messages,
                   n * sizeof *fresh->messages);
        fresh->n_messages = n;
        if (i >= 0)
            f->mail[i] = fresh;
        else
            f->mail[f->record.n_mail++] = fresh;
        entry = fresh;
    } else {
        Cairn__Message **grown = realloc(
            entry->messages, (entry->n_messages + 1) * sizeof *entry->messages);
        if (!grown)
            return false;
        entry->messages = grown;
    }
    entry->messages[entry->n_messages++] = message;
    return true;
}

static int
s_inflight_build(s_inflight_t *f, const Cairn__InflightRecord *parent,
                 const cairn_fork_changes_t *changes)
{
    memset(f, 0, sizeof *f);
    /* Whatever else the record holds is kept as it is: only the mail and
     * the fan-in buffers change. */
    f->record = *parent;
    f->record.n_mail = 0;
    f->record.n_fan_in = 0;
    f->record.fan_in = NULL;
    bool drop = changes->drop_messages;
    size_t keep = drop ? 0 : parent->n_mail;
    size_t sends = changes->send_count;
    f->mail = calloc(keep + sends + 1, sizeof *f->mail);
    f->added = calloc(sends + 1, sizeof *f->added);
    f->messages = calloc(sends + 1, sizeof *f->messages);
    if (!f->mail || !f->added || !f->messages)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < keep; i++)
        f->mail[f->record.n_mail++] = parent->mail[i];
    for (size_t i = 0; i < sends; i++) {
        const cairn_fork_message_t *m = &changes->sends[i];
        Cairn__Message *msg = &f->messages[i];
        cairn__message__init(msg);
        msg->payload.data = (uint8_t *)m->payload;
        msg->payload.len = m->len;
        if (!s_append(f, m->executor, msg))
            return CAIRN_ENOMEM;
    }
    f->record.mail = f->mail;
    if (!drop) {
        f->record.fan_in = parent->fan_in;
        f->record.n_fan_in = parent->n_fan_in;
    }
    for (size_t i = 0; i < f->record.n_mail; i++)
        f->pending += f->mail[i]->n_messages;
    return CAIRN_OK;
}

static bool
s_same_scope(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Adds the state changes; a later change of the same key wins. */
static void
s_put_states(cairn__ckpt_writer_t *w, const cairn_fork_changes_t *changes)
{
    for (size_t i = 0; i < changes->state_count; i++) {
        const cairn_fork_state_t *s = &changes->states[i];
        bool replaced = false;
        for (size_t k = i + 1; k < changes->state_count && !replaced; k++)
            replaced = s_same_scope(s->executor, changes->states[k].executor)
                       && strcmp(s->key, changes->states[k].key) == 0;
        if (!replaced)
            cairn__ckpt_put_state(w, s->executor, s->key, s->value, s->len,
                                  false);
    }
}

int
cairn_store_fork(cairn_store_t *self, const char *checkpoint_id,
                 const char *new_run_id, const cairn_fork_changes_t *changes,
                 char out_id[CAIRN_CHECKPOINT_ID_MAX], cairn_error_t *err)
{
    cairn_error_clear(err);
    out_id[0] = '\0';
    static const cairn_fork_changes_t none = {0};
    if (!changes)
        changes = &none;
    if (self->read_only)
        return cairn_error_set(err, CAIRN_ESTATE, "store is read-only");
    char run_id[80];
    uint64_t superstep;
    int parsed = cairn__store_parse_checkpoint_id(
        checkpoint_id, run_id, sizeof run_id, &superstep, err);
    if (parsed != CAIRN_OK)
        return parsed;
    s_parent_t parent = {0};
    s_inflight_t inflight;
    memset(&inflight, 0, sizeof inflight);
    char fork_id[80];
    int rc =
        s_read_parent(self, checkpoint_id, run_id, superstep, &parent, err);
    if (rc == CAIRN_OK)
        rc = s_check_changes(parent.run, changes, err);
    if (rc == CAIRN_OK)
        rc = s_new_run_id(self, new_run_id, fork_id, sizeof fork_id, err);
    if (rc == CAIRN_OK
        && s_inflight_build(&inflight, parent.inflight, changes) != CAIRN_OK)
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__ckpt_writer_t *w =
        rc == CAIRN_OK ? cairn__ckpt_begin(self, fork_id, superstep) : NULL;
    if (rc == CAIRN_OK && !w)
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc != CAIRN_OK)
        goto done;
    cairn__ckpt_set_new_run(w); /* the id check above, made atomic */

    char id[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(id, sizeof id, "%s@%llu", fork_id, (unsigned long long)superstep);
    /* Nothing in flight: the run would end at once, so it has ended —
     * waiting, when requests are still to be answered. */
    const char *status = inflight.pending ? "paused"
                         : inflight.record.n_requests > 0 ? "waiting"
                                                          : "completed";
    uint64_t now = cairn__wall_ms();
    s_put_states(w, changes);
    cairn__ckpt_put_inflight(w, &inflight.record);

    Cairn__CheckpointRecord manifest = CAIRN__CHECKPOINT_RECORD__INIT;
    manifest.run_id = fork_id;
    manifest.superstep = superstep;
    manifest.parent = (char *)checkpoint_id;
    manifest.timestamp_ms = now;
    manifest.trigger = (char *)"fork";
    manifest.workflow_name = parent.manifest->workflow_name;
    manifest.signature = parent.manifest->signature;
    manifest.status = (char *)status;
    manifest.pending_messages = inflight.pending;

    /* What resume needs, from the parent run; the rest is new. Built
     * field by field: what a live process records about itself (its pid,
     * endpoints) must not be inherited. */
    Cairn__RunRecord run = CAIRN__RUN_RECORD__INIT;
    run.run_id = fork_id;
    run.workflow_name = parent.run->workflow_name;
    run.signature = parent.run->signature;
    run.status = (char *)status;
    run.superstep = superstep;
    run.latest_checkpoint = id;
    run.parent = (char *)checkpoint_id;
    run.created_ms = now;
    run.updated_ms = now;
    run.reason = (char *)(inflight.pending ? "fork" : "");
    run.max_supersteps = parent.run->max_supersteps;
    /* The parent went on with another workflow (a forced resume) after
     * the fork point: the fork's checkpoint carries the old signature,
     * its record the run's current one, as after a forced resume. */
    bool same_signature =
        parent.manifest->signature.len == parent.run->signature.len
        && (!parent.run->signature.len
            || memcmp(parent.manifest->signature.data,
                      parent.run->signature.data, parent.run->signature.len)
                   == 0);
    run.signature_since = same_signature ? 0 : superstep + 1;
    run.spec = parent.run->spec;
    run.plugins = parent.run->plugins;
    run.n_plugins = parent.run->n_plugins;
    run.graph = parent.run->graph;
    run.n_graph = parent.run->n_graph;
    rc = cairn__ckpt_commit(w, &manifest, &run, err);
    if (rc == CAIRN_OK)
        snprintf(out_id, CAIRN_CHECKPOINT_ID_MAX, "%s", id);
done:
    s_inflight_free(&inflight);
    s_parent_free(&parent);
    return rc;
}
