/* store_verify.c - checking a store without changing it.
 *
 * Verification reuses the readers: listing decodes every manifest,
 * loading a checkpoint decodes (and checksums) every record and state
 * version it reads. What it adds is the lineage check (every parent
 * exists) and the walk over every run and checkpoint, reporting each
 * problem instead of stopping at the first.
 */
#include <stdio.h>
#include <string.h>

#include "storage/store_events.h"
#include "storage/store_internal.h"

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

/* Whether a checkpoint id names a stored, readable manifest: one point
 * read (listing the run's checkpoints for each parent made verify
 * quadratic: 2 minutes for 10,001 checkpoints). */
static bool
s_checkpoint_exists(cairn_store_t *self, const char *id)
{
    char run_id[80];
    uint64_t superstep;
    if (!cairn__checkpoint_id_parse(id, run_id, sizeof run_id, &superstep))
        return false;
    cairn__key_step(&self->key, run_id, superstep);
    ProtobufCMessage *manifest = NULL;
    cairn_error_t ignored;
    int rc = cairn__store_read(self, CAIRN__CF_CHECKPOINTS, &self->key,
                               &cairn__checkpoint_record__descriptor,
                               "checkpoint", &manifest, &ignored);
    if (manifest)
        protobuf_c_message_free_unpacked(manifest, NULL);
    return rc == CAIRN_OK;
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

static void
s_verify_run(cairn_store_t *self, const char *run_id, s_report_t *report)
{
    s_event_report_t events = {report, run_id};
    cairn__store_verify_events(self, run_id, s_event_problem, &events);
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    cairn_error_t err;
    if (cairn_store_list_checkpoints(self, run_id, 0, NULL, &infos, &count,
                                     &err)
        != CAIRN_OK) {
        s_problem(report, run_id, NULL, err.message);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const cairn_checkpoint_info_t *info = &infos[i];
        if (info->parent[0] && !s_checkpoint_exists(self, info->parent)) {
            char problem[256];
            snprintf(problem, sizeof problem, "parent %s is missing",
                     info->parent);
            s_problem(report, run_id, info->id, problem);
        }
        cairn_checkpoint_t *cp = NULL;
        if (cairn_store_load(self, info->id, &cp, &err) != CAIRN_OK)
            s_problem(report, run_id, info->id, err.message);
        cairn_checkpoint_destroy(&cp);
    }
    cairn_checkpoint_infos_free(infos, count);
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
        cairn_run_infos_free(info, info ? 1 : 0);
        if (rc == CAIRN_OK)
            s_verify_run(self, run_id, &report);
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
        for (size_t i = 0; i < count; i++)
            s_verify_run(self, runs[i].id, &report);
        cairn_run_infos_free(runs, count);
    }
    if (problems)
        *problems = report.problems;
    return rc;
}
