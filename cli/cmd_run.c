/* cmd_run.c - `cairn run` and `cairn resume`.
 *
 * Both end the same way: the outputs on stdout, one per line, in order
 * (or one --json object), and an exit code that says how the run ended.
 * The run id is the first line on stderr. A run's record keeps its spec,
 * its plugins (absolute path and SHA-256) and the options a resume must
 * not silently change (run_record.c), so `cairn resume RUN` needs
 * nothing but the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/util.h"

/* Everything run and resume accept. */
typedef struct {
    const char *db;
    const char *run_id;
    const char *input;
    const char *input_file;
    const char *spec_path;     /* run: the spec; resume: --spec */
    const char *checkpoint;    /* --checkpoint text, or NULL */
    const char *durability;    /* --durability text, or NULL */
    uint64_t max_supersteps;   /* 0: the spec's */
    bool json;
    bool events;
    bool allow_exec;
    bool force_signature;
    cli_plugins_t plugins;
    const char *listen;        /* accept workers here */
    uint64_t spawn_workers;    /* local worker processes to start */
    uint64_t min_workers;
    uint64_t worker_wait_ms;
    bool insecure;             /* plain TCP beyond loopback */
    uint64_t keep_events;      /* --keep-events; S_UNSET: the default */
    const char *events_endpoint; /* --events-endpoint, "none", or NULL */
    const char *curve_secret;  /* CURVE on --listen: our secret key */
    const char *allow_keys;    /* ... and the workers' public keys */
    cli_plugins_t responses;   /* resume: --respond ID=VALUE, as given */
    uint64_t auto_resume;      /* resumes after a handler failure */
    const char *cpu_placement; /* --cpu-placement any|shared, or NULL */
    cairn_cpu_placement_t cpu; /* ... parsed */
    const char *on_worker_loss; /* --on-worker-loss text, or NULL */
    cairn_worker_loss_t worker_loss; /* ... parsed */
} s_options_t;

/* State the event callback needs. */
typedef struct {
    const s_options_t *options;
    bool announced;   /* "run ID" printed */
    bool tty;         /* stderr is a terminal: show progress */
    bool progress;    /* a progress line is showing */
} s_watch_t;

#define S_UNSET UINT64_MAX /* --max-supersteps not given */

/* Plain TCP beyond loopback hands executors (and their state) to whoever
 * connects: it needs CURVE (--curve-secret and --allow-keys) or
 * --insecure. */
static int
s_check_listen(const s_options_t *o)
{
    if ((o->curve_secret != NULL) != (o->allow_keys != NULL)) {
        cli_error("--curve-secret and --allow-keys go together");
        return CLI_EXIT_USAGE;
    }
    if (o->curve_secret && !o->listen) {
        cli_error("--curve-secret and --allow-keys need --listen");
        return CLI_EXIT_USAGE;
    }
    if (!o->listen || strncmp(o->listen, "tcp://", 6) != 0 || o->insecure
        || o->curve_secret)
        return CLI_EXIT_OK;
    /* What the host resolves to, not how it is spelled. */
    if (cairn_endpoint_is_loopback(o->listen))
        return CLI_EXIT_OK;
    cli_error("--listen %s is not loopback only (127.0.0.0/8, ::1) and "
              "accepts workers from the network without authentication; "
              "give --curve-secret FILE --allow-keys DIR, or add --insecure "
              "to do that anyway",
              o->listen);
    return CLI_EXIT_USAGE;
}

/* --events-endpoint ipc://FILE: libzmq removes whatever is at FILE
 * before it binds there, so an existing FILE that is not a socket (a
 * user's file, a directory) is refused before anything is written. */
static int
s_check_events_endpoint(const char *endpoint)
{
    struct stat st;
    if (!endpoint || strncmp(endpoint, "ipc://", 6) != 0
        || lstat(endpoint + 6, &st) != 0 || S_ISSOCK(st.st_mode))
        return CLI_EXIT_OK;
    cli_error("--events-endpoint %s: %s exists and is not a socket; give a "
              "path that does not exist yet",
              endpoint, endpoint + 6);
    return CLI_EXIT_USAGE;
}

/* --on-worker-loss worker|in-process: where a lost worker's executors
 * go; only for a run that has workers. */
static int
s_parse_worker_loss(s_options_t *o)
{
    o->worker_loss = CAIRN_WORKER_LOSS_WORKER;
    if (!o->on_worker_loss)
        return CLI_EXIT_OK;
    if (strcmp(o->on_worker_loss, "in-process") == 0)
        o->worker_loss = CAIRN_WORKER_LOSS_IN_PROCESS;
    else if (strcmp(o->on_worker_loss, "worker") != 0) {
        cli_error("--on-worker-loss must be worker or in-process, not '%s'",
                  o->on_worker_loss);
        return CLI_EXIT_USAGE;
    }
    if (!o->listen && !o->spawn_workers) {
        cli_error("--on-worker-loss needs --listen or --spawn-workers");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* The options run and resume share (o: the s_options_t). */
#define S_SHARED_OPTIONS(o)                                                    \
    CLI_OPTION_DB(&(o)->db),                                                   \
    {"json", CLI_OPT_FLAG, &(o)->json, NULL,                                   \
     "print JSON on stdout instead of text"},                                  \
    {"events", CLI_OPT_FLAG, &(o)->events, NULL,                               \
     "print every event as a JSON line on stderr"},                            \
    {"allow-exec", CLI_OPT_FLAG, &(o)->allow_exec, NULL,                       \
     "permit util.exec executors (never stored with the run)"},                \
    {"max-supersteps", CLI_OPT_NUMBER, &(o)->max_supersteps, "N",              \
     "stop after N supersteps (kept with the run)"},                           \
    {"checkpoint", CLI_OPT_TEXT, &(o)->checkpoint, "POLICY",                   \
     "every, every:N, on-error, manual or none (kept)"},                       \
    {"durability", CLI_OPT_TEXT, &(o)->durability, "MODE",                     \
     "none (memory), process (default) or machine (fsync)"},                   \
    {"plugin", CLI_OPT_LIST, &(o)->plugins, "LIB.so",                          \
     "load executor types from a plugin"},                                     \
    {"listen", CLI_OPT_TEXT, &(o)->listen, "ENDPOINT",                         \
     "accept remote workers on ENDPOINT (tcp://...)"},                         \
    {"spawn-workers", CLI_OPT_NUMBER, &(o)->spawn_workers, "N",                \
     "start N local worker processes"},                                        \
    {"min-workers", CLI_OPT_NUMBER, &(o)->min_workers, "N",                    \
     "wait for N workers before the first superstep"},                         \
    {"worker-wait-ms", CLI_OPT_NUMBER, &(o)->worker_wait_ms, "T",              \
     "wait at most T ms for --min-workers"},                                   \
    {"insecure", CLI_OPT_FLAG, &(o)->insecure, NULL,                           \
     "accept workers on a non-loopback endpoint without CURVE"},               \
    {"keep-events", CLI_OPT_NUMBER, &(o)->keep_events, "N",                    \
     "keep the newest N events of the run (default 10000)"},                   \
    {"events-endpoint", CLI_OPT_TEXT, &(o)->events_endpoint, "E",              \
     "publish live events on E, or none"},                                     \
    {"curve-secret", CLI_OPT_TEXT, &(o)->curve_secret, "FILE",                 \
     "this side's CURVE secret key (cairn keygen)"},                           \
    {"allow-keys", CLI_OPT_TEXT, &(o)->allow_keys, "DIR",                      \
     "the CURVE public keys of the workers allowed"},                          \
    {"auto-resume", CLI_OPT_NUMBER, &(o)->auto_resume, "N",                    \
     "resume a failed run up to N times"},                                     \
    {"cpu-placement", CLI_OPT_TEXT, &(o)->cpu_placement, "MODE",               \
     "any (default) or shared: every thread on one CPU"},                      \
    {"on-worker-loss", CLI_OPT_TEXT, &(o)->on_worker_loss, "MODE",             \
     "worker or in-process: where a lost worker's executors go"}

/* Parses argv for run (a SPEC) or resume (RUN or CHECKPOINT). Returns
 * CLI_EXIT_OK or CLI_EXIT_USAGE (after saying why). */
static int
s_parse(int argc, char **argv, bool resume, s_options_t *o,
        const char **positional)
{
    memset(o, 0, sizeof *o);
    o->db = CLI_DEFAULT_DB;
    o->max_supersteps = S_UNSET;
    o->keep_events = S_UNSET;
    const cli_option_t run_options[] = {
        {"input", CLI_OPT_TEXT, &o->input, "TEXT",
         "the run's input (else --input-file, else stdin)"},
        {"input-file", CLI_OPT_TEXT, &o->input_file, "F",
         "read the run's input from file F"},
        {"run-id", CLI_OPT_TEXT, &o->run_id, "ID",
         "name the new run ID (default: a generated id)"},
        S_SHARED_OPTIONS(o),
    };
    const cli_option_t resume_options[] = {
        {"spec", CLI_OPT_TEXT, &o->spec_path, "F",
         "resume with spec F instead of the run's"},
        {"force-signature", CLI_OPT_FLAG, &o->force_signature, NULL,
         "accept a --spec whose workflow differs"},
        {"respond", CLI_OPT_LIST, &o->responses, "ID=VALUE",
         "answer the pending request ID with VALUE"},
        S_SHARED_OPTIONS(o),
    };
    int exit_code =
        resume ? cli_parse(argc, argv, resume_options,
                           sizeof resume_options / sizeof resume_options[0],
                           1, positional)
               : cli_parse(argc, argv, run_options,
                           sizeof run_options / sizeof run_options[0], 1,
                           positional);
    if (exit_code != CLI_EXIT_OK)
        return exit_code;
    if (o->input && o->input_file) {
        cli_error("run: give --input or --input-file, not both");
        return CLI_EXIT_USAGE;
    }
    if (o->max_supersteps == 0) {
        cli_error("%s: --max-supersteps must be at least 1", argv[0]);
        return CLI_EXIT_USAGE;
    }
    if (o->max_supersteps == S_UNSET)
        o->max_supersteps = 0; /* the spec's (run) or the run's (resume) */
    if (resume && o->durability && strcmp(o->durability, "none") == 0) {
        cli_error("resume: --durability none keeps nothing; a stored run "
                  "resumes with process or machine");
        return CLI_EXIT_USAGE;
    }
    o->cpu = o->cpu_placement && strcmp(o->cpu_placement, "shared") == 0
                 ? CAIRN_CPU_SHARED
                 : CAIRN_CPU_ANY;
    if (o->cpu_placement && o->cpu == CAIRN_CPU_ANY
        && strcmp(o->cpu_placement, "any") != 0) {
        cli_error("%s: --cpu-placement must be 'any' or 'shared', not '%s'",
                  argv[0], o->cpu_placement);
        return CLI_EXIT_USAGE;
    }
    if (!resume)
        o->spec_path = *positional;
    exit_code = s_parse_worker_loss(o);
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_check_events_endpoint(o->events_endpoint);
    return exit_code == CLI_EXIT_OK ? s_check_listen(o) : exit_code;
}

/* Reads the run input: --input, --input-file, else stdin when it is not
 * a terminal, else empty. A directory, an unreadable file and more bytes
 * than a message may have (an endless stdin included: reading stops one
 * byte past the limit) are bad input. */
static int
s_read_input(const s_options_t *o, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (o->input) {
        *data = strdup(o->input);
        *len = strlen(o->input);
        return *data ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    }
    if (!o->input_file && isatty(STDIN_FILENO))
        return CLI_EXIT_OK;
    const char *name = o->input_file ? o->input_file : "stdin";
    int fd = o->input_file ? open(o->input_file, O_RDONLY | O_CLOEXEC)
                           : STDIN_FILENO;
    int error = fd < 0 ? errno
                       : cairn__read_fd(fd, CAIRN_DEFAULT_MAX_MESSAGE_SIZE,
                                        data, len);
    struct stat st; /* a file says how large it is; a stream does not */
    bool sized = error == EFBIG && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (fd >= 0 && o->input_file)
        close(fd);
    if (sized)
        cli_error("run input of %llu bytes exceeds the maximum message size "
                  "of %zu bytes (%s)",
                  (unsigned long long)st.st_size,
                  CAIRN_DEFAULT_MAX_MESSAGE_SIZE, name);
    else if (error == EFBIG)
        cli_error("run input on %s of more than %zu bytes exceeds the "
                  "maximum message size of %zu bytes",
                  name, CAIRN_DEFAULT_MAX_MESSAGE_SIZE,
                  CAIRN_DEFAULT_MAX_MESSAGE_SIZE);
    else if (error != 0)
        cli_error("run: cannot read input %s: %s", name, strerror(error));
    return error == 0        ? CLI_EXIT_OK
           : error == ENOMEM ? CLI_EXIT_FAILED
                             : CLI_EXIT_USAGE;
}

/* ---- events and progress ------------------------------------------------------ */

static void
s_on_event(const cairn_event_t *event, void *userdata)
{
    s_watch_t *watch = userdata;
    if (!watch->announced && event->kind == CAIRN_EVENT_RUN_STARTED) {
        fprintf(stderr, "run %s\n", event->run_id);
        if (event->detail)
            fprintf(stderr, "cairn: %s\n", event->detail);
        watch->announced = true;
    }
    if (watch->options->events) {
        cli_print_event_json(stderr, event);
    } else if (watch->tty
               && (watch->progress
                   || event->kind == CAIRN_EVENT_SUPERSTEP_COMPLETED)) {
        /* On a terminal only: a line that rewrites itself. */
        if (event->kind == CAIRN_EVENT_SUPERSTEP_COMPLETED)
            fprintf(stderr, "\rsuperstep %llu: %llu executor(s) done",
                    (unsigned long long)event->superstep,
                    (unsigned long long)event->count);
        if (event->kind == CAIRN_EVENT_RUN_ENDED)
            fputs("\r\033[K", stderr);
        watch->progress = event->kind != CAIRN_EVENT_RUN_ENDED;
    }
}

/* ---- results ----------------------------------------------------------------- */

static int
s_exit_for_result(const cairn_result_t *result)
{
    switch (cairn_result_status(result)) {
    case CAIRN_STATUS_COMPLETED:
        return CLI_EXIT_OK;
    case CAIRN_STATUS_WAITING:
        return CLI_EXIT_WAITING;
    case CAIRN_STATUS_PAUSED:
    case CAIRN_STATUS_CANCELLED:
        return CLI_EXIT_STOPPED;
    case CAIRN_STATUS_FAILED:
        return cairn_result_error(result)->code == CAIRN_EMAXSTEPS
                   ? CLI_EXIT_MAX_SUPERSTEPS
                   : CLI_EXIT_FAILED;
    default:
        return CLI_EXIT_FAILED;
    }
}

/* The pending requests as a JSON array of {id, executor, kind, payload};
 * each is also told on stderr, with how to answer it. */
static json_t *
s_report_requests(const cairn_result_t *result)
{
    json_t *list = json_array();
    for (size_t i = 0; i < cairn_result_request_count(result); i++) {
        cairn_request_t request;
        if (cairn_result_request(result, i, &request) != CAIRN_OK)
            continue;
        fprintf(stderr, "request %s from %s (%s): %.*s\n", request.id,
                request.executor, request.kind, (int)request.payload_len,
                (const char *)request.payload);
        json_array_append_new(list, cli_request_json(&request));
    }
    if (json_array_size(list) > 0)
        cli_error("run %s is waiting: answer with cairn resume %s --respond "
                  "ID=VALUE",
                  cairn_result_run_id(result), cairn_result_run_id(result));
    return list;
}

/* Prints the outputs (or the --json object) and says how the run ended
 * on stderr; returns the exit code. */
static int
s_report(const s_options_t *o, const cairn_result_t *result)
{
    int exit_code = s_exit_for_result(result);
    size_t n = cairn_result_output_count(result);
    json_t *requests = s_report_requests(result);
    if (o->json) {
        json_t *outputs = json_array();
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const uint8_t *data = cairn_result_output(result, i, &len);
            json_array_append_new(outputs, cli_payload_json(data, len));
        }
        json_t *doc = json_pack(
            "{s:s, s:s, s:i, s:I, s:o, s:O}", "run_id",
            cairn_result_run_id(result), "status",
            cairn_status_name(cairn_result_status(result)), "exit_code",
            exit_code, "supersteps",
            (json_int_t)cairn_result_supersteps(result), "outputs", outputs,
            "requests", requests);
        if (doc)
            cli_print_json(doc);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const uint8_t *data = cairn_result_output(result, i, &len);
            fwrite(data, 1, len, stdout);
            fputc('\n', stdout);
        }
        fflush(stdout);
    }
    json_decref(requests);
    const cairn_error_t *err = cairn_result_error(result);
    if (err->code != CAIRN_OK)
        cli_error("run %s %s: %s", cairn_result_run_id(result),
                  cairn_status_name(cairn_result_status(result)),
                  err->message);
    if (exit_code == CLI_EXIT_MAX_SUPERSTEPS)
        cli_error("resume with a higher --max-supersteps to continue: cairn "
                  "resume %s --max-supersteps N",
                  cairn_result_run_id(result));
    return exit_code;
}

/* ---- shared plumbing ----------------------------------------------------------- */

/* Opens the store the options ask for: memory for durability none. */
static int
s_open_store(const s_options_t *o, cairn_store_t **store)
{
    cairn_error_t err;
    cairn_durability_t durability = CAIRN_DURABILITY_PROCESS;
    if (o->durability
        && cairn_durability_parse(o->durability, &durability) != CAIRN_OK) {
        cli_error("--durability must be none, process or machine, not '%s'",
                  o->durability);
        return CLI_EXIT_USAGE;
    }
    int rc;
    if (durability == CAIRN_DURABILITY_NONE) {
        rc = cairn_store_open_memory(store, &err);
    } else {
        cairn_store_options_t opts = {.durability = durability};
        rc = cairn_store_open(store, o->db, &opts, &err);
    }
    return rc == CAIRN_OK ? CLI_EXIT_OK : cli_fail(&err);
}

/* Loads a spec text into a workflow over registry. A run with workers
 * may use executor types only workers offer (it waits for them). */
static int
s_load_spec(const s_options_t *o, const char *text, size_t len,
            const char *what, const cairn_registry_t *registry,
            cairn_workflow_t **wf, cairn_spec_checkpoint_t *checkpoint)
{
    cairn_error_t err;
    cairn_spec_options_t spec_opts = {.worker_types = o->listen
                                                      || o->spawn_workers};
    if (cairn_spec_load_with(text, len, what, registry, &spec_opts, wf,
                             checkpoint, &err)
        != CAIRN_OK)
        return cli_fail(&err);
    for (size_t i = 0; i < cairn_workflow_warning_count(*wf); i++)
        cli_error("warning: %s: %s", what, cairn_workflow_warning(*wf, i));
    return CLI_EXIT_OK;
}

/* A run that failed because a handler did (after its retries) may get
 * past it when resumed: the cause may have been transient. */
static bool
s_worth_resuming(const cairn_result_t *result)
{
    return cairn_result_status(result) == CAIRN_STATUS_FAILED
           && cairn_result_error(result)->code == CAIRN_EHANDLER;
}

/* --auto-resume N: resumes a run that failed on a handler error from its
 * last checkpoint, up to N times, waiting 200 ms, 400 ms, ... (at most
 * 10 s) before each. */
static int
s_auto_resume(const s_options_t *o, cairn_engine_t *engine,
              const cairn_workflow_t *wf, cairn_run_options_t *run_opts,
              cairn_result_t **result, cairn_error_t *err)
{
    /* Responses were delivered by the first resume; never again. */
    run_opts->responses = NULL;
    run_opts->response_count = 0;
    int rc = CAIRN_OK;
    for (uint64_t k = 0; rc == CAIRN_OK && k < o->auto_resume
                         && s_worth_resuming(*result);
         k++) {
        uint64_t delay_ms = k < 6 ? 200u << k : 10000u;
        char run_id[CAIRN_CHECKPOINT_ID_MAX];
        snprintf(run_id, sizeof run_id, "%s", cairn_result_run_id(*result));
        cli_error("run %s failed: %s; resuming it in %llu ms (auto-resume "
                  "%llu of %llu)",
                  run_id, cairn_result_error(*result)->message,
                  (unsigned long long)delay_ms, (unsigned long long)k + 1,
                  (unsigned long long)o->auto_resume);
        usleep((useconds_t)(delay_ms * 1000u));
        cairn_result_destroy(result);
        rc = cairn_engine_resume(engine, wf, run_id, run_opts, result, err);
    }
    return rc;
}

/* Drives run or resume on a fresh engine and reports. *left is how many
 * host threads, stuck in handlers, the engine left behind. */
static int
s_drive(const s_options_t *o, const cairn_registry_t *registry,
        const cairn_workflow_t *wf, cairn_run_options_t *run_opts,
        const char *resume_target, const char *input, size_t input_len,
        size_t *left)
{
    /* Always watched: the run id is announced from run_started. */
    s_watch_t watch = {.options = o, .tty = isatty(STDERR_FILENO) != 0};
    run_opts->on_event = s_on_event;
    run_opts->event_userdata = &watch;
    /* Events: the newest --keep-events stored (0: none), and published
     * on an ipc endpoint of our own unless told otherwise. */
    run_opts->keep_events = o->keep_events == S_UNSET ? 0
                            : o->keep_events == 0     ? CAIRN_KEEP_NO_EVENTS
                                                      : (size_t)o->keep_events;
    char events_endpoint[CAIRN_CONTROL_ENDPOINT_MAX], events_why[128];
    if (!o->events_endpoint
        && cli_private_endpoint(events_endpoint, sizeof events_endpoint,
                                "events", events_why, sizeof events_why))
        run_opts->events_endpoint = events_endpoint;
    else if (!o->events_endpoint)
        cli_error("warning: %s: the run's events are not published",
                  events_why);
    else if (strcmp(o->events_endpoint, "none") != 0)
        run_opts->events_endpoint = o->events_endpoint;
    /* (the run removes the socket file when it ends) */
    cairn_engine_t *engine = NULL;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    cairn_engine_options_t engine_opts = {
        .listen = o->listen,
        .min_workers = (size_t)o->min_workers,
        .worker_wait_ms = (uint32_t)o->worker_wait_ms,
        .curve_secret = o->curve_secret,
        .allow_keys = o->allow_keys,
        .cpu_placement = o->cpu,
        .on_worker_loss = o->worker_loss,
    };
    /* --spawn-workers: local workers on an ipc endpoint of our own, in a
     * directory only we can enter. They never use --listen: beside one
     * it is a second endpoint, without CURVE even when --listen has it
     * (docs/workers.md). */
    char spawn_endpoint[96], spawn_why[128] = "";
    size_t spawned = o->spawn_workers > 64 ? 64 : (size_t)o->spawn_workers;
    pid_t pids[64] = {0};
    bool spawn_ok =
        spawned == 0
        || cli_private_endpoint(spawn_endpoint, sizeof spawn_endpoint,
                                "workers", spawn_why, sizeof spawn_why);
    if (spawned > 0 && spawn_ok && o->listen)
        engine_opts.local_listen = spawn_endpoint;
    else if (spawned > 0 && spawn_ok)
        engine_opts.listen = spawn_endpoint;
    if (spawned > 0 && engine_opts.min_workers < spawned)
        engine_opts.min_workers = spawned;
    /* Pause and cancel from other processes and from signals. */
    char control_endpoint[CAIRN_CONTROL_ENDPOINT_MAX];
    cairn_run_control_t *control = cairn_run_control_new();
    run_opts->control = control;
    if (control && cli_control_endpoint(control_endpoint,
                                        sizeof control_endpoint))
        run_opts->control_endpoint = control_endpoint;
    if (control)
        cli_signals_install(control, run_opts->control_endpoint,
                            run_opts->events_endpoint);
    int rc = spawn_ok ? cairn_engine_open(&engine, registry, &engine_opts, &err)
                      : cairn_error_set(&err, CAIRN_ETRANSPORT,
                                        "cannot start worker processes: %s",
                                        spawn_why);
    if (rc == CAIRN_OK && spawned > 0
        && cli_spawn_workers(spawned, spawn_endpoint, run_opts->plugins,
                             run_opts->plugin_count, o->allow_exec, pids)
               != CLI_EXIT_OK)
        rc = cairn_error_set(&err, CAIRN_ETRANSPORT,
                             "could not start the worker processes");
    if (rc == CAIRN_OK && resume_target)
        rc = cairn_engine_resume(engine, wf, resume_target, run_opts, &result,
                                 &err);
    else if (rc == CAIRN_OK)
        rc = cairn_engine_run(engine, wf, input, input_len, run_opts, &result,
                              &err);
    if (rc == CAIRN_OK && o->auto_resume > 0 && run_opts->store
        && cairn_store_durability(run_opts->store) != CAIRN_DURABILITY_NONE)
        rc = s_auto_resume(o, engine, wf, run_opts, &result, &err);
    cli_signals_restore();
    cairn_run_control_destroy(&control);
    int exit_code = rc == CAIRN_OK ? s_report(o, result) : cli_fail(&err);
    if (rc == CAIRN_OK && cairn_result_status(result) == CAIRN_STATUS_PAUSED)
        cli_error("run %s paused at superstep %llu; continue with: cairn "
                  "resume %s",
                  cairn_result_run_id(result),
                  (unsigned long long)cairn_result_supersteps(result),
                  cairn_result_run_id(result));
    if (rc == CAIRN_OK
        && cairn_result_status(result) == CAIRN_STATUS_CANCELLED)
        cli_error("run %s cancelled after superstep %llu; its last "
                  "checkpoint stays",
                  cairn_result_run_id(result),
                  (unsigned long long)cairn_result_supersteps(result));
    cairn_result_destroy(&result);
    cli_reap_workers(pids, spawned);
    *left = cairn_engine_close(&engine, CAIRN_ENGINE_STOP_WAIT_MS);
    if (spawned > 0 && spawn_ok)
        unlink(spawn_endpoint + strlen("ipc://"));
    return exit_code;
}

int
cli_cmd_run(int argc, char **argv)
{
    s_options_t o;
    const char *spec_path = NULL;
    int exit_code = s_parse(argc, argv, false, &o, &spec_path);
    char *spec = NULL, *input = NULL;
    size_t spec_len = 0, input_len = 0;
    cairn_registry_t *registry = NULL;
    cairn_workflow_t *wf = NULL;
    cairn_store_t *store = NULL;
    cairn_spec_checkpoint_t from_spec = {0};
    cairn_checkpoint_policy_t policy = {0};
    cli_plugin_ids_t plugins = {0};
    cairn_error_t err;
    size_t left = 0;
    if (exit_code == CLI_EXIT_OK
        && cairn_spec_read_file(spec_path, &spec, &spec_len, &err)
               != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_plugins_identify(&o.plugins, &plugins);
    if (exit_code == CLI_EXIT_OK
        && !(registry = cli_plugin_registry(&plugins, o.allow_exec,
                                            &exit_code)))
        goto done;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_load_spec(&o, spec, spec_len, spec_path, registry, &wf,
                                &from_spec);
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_check_exec(wf, o.allow_exec, spec_path);
    if (exit_code == CLI_EXIT_OK && from_spec.has_policy)
        policy = from_spec.policy;
    if (exit_code == CLI_EXIT_OK && o.checkpoint)
        exit_code = cli_parse_policy(o.checkpoint, &policy);
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_read_input(&o, &input, &input_len);
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_open_store(&o, &store);
    if (exit_code == CLI_EXIT_OK) {
        cairn_run_options_t run_opts = {
            .run_id = o.run_id,
            .max_supersteps = o.max_supersteps,
            .store = store,
            .checkpoint = policy,
            .spec = spec,
            .spec_len = spec_len,
            .plugins = (const char *const *)plugins.paths,
            .plugin_sha256 = (const char *const *)plugins.sha256,
            .plugin_count = plugins.count,
        };
        exit_code = s_drive(&o, registry, wf, &run_opts, NULL, input,
                            input_len, &left);
    }
done:
    cli_plugin_ids_free(&plugins);
    cairn_store_destroy(&store);
    if (left > 0) /* the registry stays: stuck handlers use it */
        cli_exit_leaving(exit_code, left);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    cli_plugins_free(&o.plugins);
    free(spec);
    free(input);
    return exit_code;
}

/* Splits each --respond ID=VALUE at its first '=' into responses (a
 * malloc'd array borrowing from the arguments). */
static int
s_parse_responses(const cli_plugins_t *given, cairn_response_t **out)
{
    *out = calloc(given->count ? given->count : 1, sizeof **out);
    if (!*out)
        return CLI_EXIT_FAILED;
    for (size_t i = 0; i < given->count; i++) {
        const char *text = given->paths[i];
        const char *eq = strchr(text, '=');
        if (!eq || eq == text) {
            cli_error("resume: --respond wants REQUEST_ID=VALUE, not '%s'",
                      text);
            return CLI_EXIT_USAGE;
        }
        /* The id is a copy; the value borrows from the argument. */
        char *id = strndup(text, (size_t)(eq - text));
        if (!id)
            return CLI_EXIT_FAILED;
        (*out)[i] = (cairn_response_t){id, eq + 1, strlen(eq + 1)};
    }
    return CLI_EXIT_OK;
}

static void
s_free_responses(cairn_response_t *responses, size_t count)
{
    for (size_t i = 0; responses && i < count; i++)
        free((char *)responses[i].request_id);
    free(responses);
}

/* The run id part of RUN or RUN@N. */
static void
s_run_part(const char *target, char *out, size_t size)
{
    snprintf(out, size, "%s", target);
    char *at = strrchr(out, '@');
    if (at)
        *at = '\0';
}

int
cli_cmd_resume(int argc, char **argv)
{
    s_options_t o;
    const char *target = NULL;
    int exit_code = s_parse(argc, argv, true, &o, &target);
    cairn_store_t *store = NULL;
    cairn_run_info_t *info = NULL;
    cairn_registry_t *registry = NULL;
    cairn_workflow_t *wf = NULL;
    cli_plugin_ids_t plugins = {0};
    cairn_spec_checkpoint_t from_spec = {0};
    char *spec_file = NULL;
    size_t spec_file_len = 0;
    cairn_response_t *responses = NULL;
    cairn_error_t err;
    size_t left = 0;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_parse_responses(&o.responses, &responses);
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_open_store(&o, &store);
    char run_id[CAIRN_CHECKPOINT_ID_MAX];
    s_run_part(target ? target : "", run_id, sizeof run_id);
    if (exit_code == CLI_EXIT_OK
        && cairn_store_get_run(store, run_id, &info, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_run_durability(store, info, o.durability);
    if (exit_code == CLI_EXIT_OK && o.spec_path
        && cairn_spec_read_file(o.spec_path, &spec_file, &spec_file_len, &err)
               != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK && !o.spec_path && info->spec_len == 0) {
        cli_error("run %s has no stored spec (it was started from the C "
                  "API): give --spec FILE",
                  run_id);
        exit_code = CLI_EXIT_USAGE;
    }
    /* --plugin replaces the run's plugins (and is kept for later). */
    if (exit_code == CLI_EXIT_OK)
        exit_code = o.plugins.count ? cli_plugins_identify(&o.plugins, &plugins)
                                    : cli_plugins_stored(info, &plugins);
    if (exit_code == CLI_EXIT_OK
        && !(registry = cli_plugin_registry(&plugins, o.allow_exec,
                                            &exit_code)))
        goto done;
    const char *spec = o.spec_path || !info ? spec_file
                                            : (const char *)info->spec;
    size_t spec_len = o.spec_path || !info ? spec_file_len : info->spec_len;
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_load_spec(&o, spec, spec_len,
                                o.spec_path ? o.spec_path : "stored spec",
                                registry, &wf, &from_spec);
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_check_exec(wf, o.allow_exec, run_id);
    cairn_checkpoint_policy_t policy = {0};
    if (exit_code == CLI_EXIT_OK)
        exit_code =
            cli_run_policy(info, o.checkpoint, &from_spec.policy, &policy);
    if (exit_code == CLI_EXIT_OK) {
        cairn_run_options_t run_opts = {
            .max_supersteps = o.max_supersteps,
            .store = store,
            .force_signature = o.force_signature,
            .checkpoint = policy,
            .spec = spec,
            .spec_len = spec_len,
            .plugins = (const char *const *)plugins.paths,
            .plugin_sha256 = (const char *const *)plugins.sha256,
            .plugin_count = plugins.count,
            .responses = responses,
            .response_count = o.responses.count,
        };
        exit_code = s_drive(&o, registry, wf, &run_opts, target, NULL, 0,
                            &left);
    }
done:
    cairn_store_destroy(&store);
    if (left > 0) /* the registry stays: stuck handlers use it */
        cli_exit_leaving(exit_code, left);
    cli_plugin_ids_free(&plugins);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    cairn_run_info_destroy(&info, info ? 1 : 0);
    cli_plugins_free(&o.plugins);
    s_free_responses(responses, o.responses.count);
    cli_plugins_free(&o.responses);
    free(spec_file);
    return exit_code;
}
