/* cmd_recover.c - `cairn recover`: resume every interrupted run of a store.
 *
 * A run is interrupted when its record says running but the process that
 * drove it is gone (pid and start time recorded in the run record). Since
 * recover holds the store's lock, no other process can be driving any of
 * its runs. Each interrupted run is resumed from its latest checkpoint in
 * a thread of its own, with its own engine and its own handle on the
 * store (cairn_store_share), at most --jobs at a time; then one line per
 * run says how it ended (or one JSON array with --json).
 *
 * Exit code: 0 when every run was resumed and none failed, 1 when one
 * failed or could not be resumed, 2 for usage or a locked store.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define S_DEFAULT_JOBS 4

/* One run to recover and what became of it. */
typedef struct {
    char run_id[CAIRN_CHECKPOINT_ID_MAX];
    cairn_store_t *store; /* this job's handle (shared backend) */
    bool allow_exec;
    int rc;            /* CAIRN_OK when the run could be resumed */
    cairn_error_t err; /* why not */
    cairn_status_t status;
    uint64_t supersteps;
    size_t outputs;
    char reason[512]; /* the run's own error, if it failed */
    size_t left;       /* host threads its engine left stuck in handlers */
} s_job_t;

/* The registry (built-ins + the run's plugins, checked against the
 * hashes kept with them), workflow (its stored spec) and checkpoint
 * policy the run was made with. Nothing is written when one does not
 * fit (a replaced plugin, util.exec without --allow-exec). */
static int
s_load(s_job_t *job, const cairn_run_info_t *info, cli_plugin_ids_t *plugins,
       cairn_registry_t **reg, cairn_workflow_t **wf,
       cairn_checkpoint_policy_t *policy)
{
    int exit_code = cli_run_durability(job->store, info, NULL);
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_plugins_stored(info, plugins);
    if (exit_code == CLI_EXIT_OK)
        *reg = cli_plugin_registry(plugins, job->allow_exec, &exit_code);
    if (!*reg)
        return cairn_error_set(&job->err, CAIRN_EINVAL,
                               "run %s: its plugins could not be loaded",
                               job->run_id);
    if (info->spec_len == 0)
        return cairn_error_set(&job->err, CAIRN_EINVAL,
                               "run %s has no stored spec (it was started "
                               "from the C API)",
                               job->run_id);
    cairn_spec_checkpoint_t from_spec = {0};
    int rc = cairn_spec_load((const char *)info->spec, info->spec_len,
                             "stored spec", *reg, wf, &from_spec, &job->err);
    if (rc == CAIRN_OK && cli_check_exec(*wf, job->allow_exec, job->run_id)
                              != CLI_EXIT_OK)
        rc = cairn_error_set(&job->err, CAIRN_EINVAL,
                             "run %s uses util.exec: give --allow-exec",
                             job->run_id);
    if (rc == CAIRN_OK
        && cli_run_policy(info, NULL, &from_spec.policy, policy)
               != CLI_EXIT_OK)
        rc = cairn_error_set(&job->err, CAIRN_EINVAL,
                             "run %s: its stored checkpoint policy '%s' is "
                             "not one this cairn reads",
                             job->run_id, info->checkpoint_policy);
    return rc;
}

/* Resumes one run (a thread's body). */
static void *
s_recover_one(void *arg)
{
    s_job_t *job = arg;
    cairn_run_info_t *info = NULL;
    cairn_registry_t *registry = NULL;
    cairn_workflow_t *wf = NULL;
    cairn_engine_t *engine = NULL;
    cairn_result_t *result = NULL;
    cairn_checkpoint_policy_t policy = {0};
    cli_plugin_ids_t plugins = {0};
    cairn_engine_options_t engine_opts = {.host_threads = 2};
    job->rc = cairn_store_get_run(job->store, job->run_id, &info, &job->err);
    if (job->rc == CAIRN_OK)
        job->rc = s_load(job, info, &plugins, &registry, &wf, &policy);
    if (job->rc == CAIRN_OK)
        job->rc = cairn_engine_open(&engine, registry, &engine_opts, &job->err);
    if (job->rc == CAIRN_OK) {
        cairn_run_options_t opts = {
            .store = job->store,
            .checkpoint = policy,
            .spec = info->spec,
            .spec_len = info->spec_len,
            .plugins = (const char *const *)plugins.paths,
            .plugin_sha256 = (const char *const *)plugins.sha256,
            .plugin_count = plugins.count,
        };
        job->rc = cairn_engine_resume(engine, wf, job->run_id, &opts, &result,
                                      &job->err);
    }
    if (job->rc == CAIRN_OK) {
        job->status = cairn_result_status(result);
        job->supersteps = cairn_result_supersteps(result);
        job->outputs = cairn_result_output_count(result);
        snprintf(job->reason, sizeof job->reason, "%s",
                 cairn_result_error(result)->message);
    }
    cairn_result_destroy(&result);
    job->left = cairn_engine_close(&engine, CAIRN_ENGINE_STOP_WAIT_MS);
    cairn_workflow_destroy(&wf);
    if (job->left == 0) /* else stuck handlers still use it: the command
                           ends with _exit (cli_exit_leaving) */
        cairn_registry_destroy(&registry);
    cli_plugin_ids_free(&plugins);
    cairn_run_info_destroy(&info, info ? 1 : 0);
    return NULL;
}

/* The runs of store that say running but whose process is gone. */
static int
s_find_interrupted(cairn_store_t *store, bool allow_exec, s_job_t **jobs,
                   size_t *count)
{
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    cairn_error_t err;
    *jobs = NULL;
    *count = 0;
    if (cairn_store_list_runs(store, &runs, &run_count, &err) != CAIRN_OK)
        return cli_fail(&err);
    *jobs = calloc(run_count ? run_count : 1, sizeof **jobs);
    if (!*jobs) {
        cairn_run_info_destroy(&runs, run_count);
        return CLI_EXIT_FAILED;
    }
    for (size_t i = 0; i < run_count; i++) {
        if (strcmp(runs[i].status, "running") != 0
            || cairn_run_process_alive(&runs[i]))
            continue;
        s_job_t *job = &(*jobs)[(*count)++];
        snprintf(job->run_id, sizeof job->run_id, "%s", runs[i].id);
        job->allow_exec = allow_exec;
    }
    cairn_run_info_destroy(&runs, run_count);
    return CLI_EXIT_OK;
}

/* Runs the jobs, at most `parallel` at a time. */
static int
s_run_jobs(cairn_store_t *store, s_job_t *jobs, size_t count, size_t parallel)
{
    pthread_t *threads = calloc(count ? count : 1, sizeof *threads);
    bool *started = calloc(count ? count : 1, sizeof *started);
    int exit_code = threads && started ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    for (size_t first = 0; exit_code == CLI_EXIT_OK && first < count;
         first += parallel) {
        size_t end = first + parallel < count ? first + parallel : count;
        for (size_t i = first; i < end; i++) {
            cairn_error_t err;
            if (cairn_store_share(&jobs[i].store, store, &err) != CAIRN_OK) {
                jobs[i].rc = err.code;
                jobs[i].err = err;
                continue;
            }
            started[i] =
                pthread_create(&threads[i], NULL, s_recover_one, &jobs[i]) == 0;
            if (!started[i])
                jobs[i].rc = cairn_error_set(&jobs[i].err, CAIRN_ENOMEM,
                                             "could not start a thread");
        }
        for (size_t i = first; i < end; i++) {
            if (started[i])
                pthread_join(threads[i], NULL);
            cairn_store_destroy(&jobs[i].store);
        }
    }
    free(threads);
    free(started);
    return exit_code;
}

/* One line (or JSON object) per job; returns the exit code. */
static int
s_report(const s_job_t *jobs, size_t count, bool json)
{
    int exit_code = CLI_EXIT_OK;
    json_t *list = json ? json_array() : NULL;
    for (size_t i = 0; i < count; i++) {
        const s_job_t *job = &jobs[i];
        bool failed = job->rc != CAIRN_OK || job->status == CAIRN_STATUS_FAILED;
        if (failed)
            exit_code = CLI_EXIT_FAILED;
        const char *status =
            job->rc == CAIRN_OK ? cairn_status_name(job->status) : "error";
        const char *why = job->rc != CAIRN_OK ? job->err.message : job->reason;
        if (job->rc != CAIRN_OK)
            cli_error("run %s could not be recovered: %s", job->run_id, why);
        if (list)
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:I, s:I, s:o}", "run_id",
                                job->run_id, "status", status, "supersteps",
                                (json_int_t)job->supersteps, "outputs",
                                (json_int_t)job->outputs, "error",
                                cli_text_json(why)));
        else
            printf("%-32s %-10s %9llu supersteps  %zu output(s)%s%s\n",
                   job->run_id, status, (unsigned long long)job->supersteps,
                   job->outputs, why[0] ? "  " : "", why);
    }
    if (list) {
        cli_print_json(list);
        json_decref(list);
    }
    return exit_code;
}

int
cli_cmd_recover(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB;
    bool allow_exec = false, json = false;
    uint64_t parallel = S_DEFAULT_JOBS;
    const cli_option_t options[] = {
        CLI_OPTION_DB(&db),
        {"allow-exec", CLI_OPT_FLAG, &allow_exec, NULL,
         "permit util.exec executors (never stored with the run)"},
        {"json", CLI_OPT_FLAG, &json, NULL,
         "print JSON on stdout instead of text"},
        {"jobs", CLI_OPT_NUMBER, &parallel, "N",
         "resume at most N runs at a time (default 4)"},
    };
    int exit_code = cli_parse(argc, argv, options,
                              sizeof options / sizeof options[0], 0, NULL);
    if (exit_code == CLI_EXIT_OK && parallel == 0) {
        cli_error("recover: --jobs must be at least 1");
        exit_code = CLI_EXIT_USAGE;
    }
    cairn_store_t *store = NULL;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_open(&store, db, NULL, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    s_job_t *jobs = NULL;
    size_t count = 0;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_find_interrupted(store, allow_exec, &jobs, &count);
    if (exit_code == CLI_EXIT_OK && count == 0)
        cli_error("recover: no interrupted runs in %s", db);
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_run_jobs(store, jobs, count, (size_t)parallel);
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_report(jobs, count, json);
    size_t left = 0;
    for (size_t i = 0; i < count; i++)
        left += jobs[i].left;
    free(jobs);
    cairn_store_destroy(&store);
    if (left > 0)
        cli_exit_leaving(exit_code, left);
    return exit_code;
}
