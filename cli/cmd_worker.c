/* cmd_worker.c - `cairn worker --connect ENDPOINT`: run executors for a
 * coordinator in another process or on another machine. */
#include <signal.h>
#include <string.h>

#include "cli/cli.h"

static volatile int s_stop;

static void
s_on_signal(int signum)
{
    (void)signum;
    s_stop = 1;
}

int
cli_cmd_worker(int argc, char **argv)
{
    const char *endpoint = NULL, *worker_id = NULL;
    const char *curve_secret = NULL, *server_key = NULL;
    cli_plugins_t plugins = {0}, labels = {0};
    uint64_t give_up_after_s = 0, heartbeat_ms = 0;
    bool allow_exec = false;
    const cli_option_t options[] = {
        {"connect", CLI_OPT_TEXT, &endpoint, "ENDPOINT",
         "the coordinator to work for (required)"},
        {"id", CLI_OPT_TEXT, &worker_id, "ID", "this worker's id"},
        {"plugin", CLI_OPT_LIST, &plugins, "LIB.so",
         "load executor types from a plugin"},
        {"label", CLI_OPT_LIST, &labels, "L", "a label executors can ask for"},
        {"give-up-after", CLI_OPT_NUMBER, &give_up_after_s, "S",
         "exit after S seconds without a coordinator"},
        {"heartbeat-ms", CLI_OPT_NUMBER, &heartbeat_ms, "MS",
         "heartbeat interval"},
        {"allow-exec", CLI_OPT_FLAG, &allow_exec, NULL,
         "permit util.exec executors (never stored with the run)"},
        {"curve-secret", CLI_OPT_TEXT, &curve_secret, "FILE",
         "this side's CURVE secret key (cairn keygen)"},
        {"server-key", CLI_OPT_TEXT, &server_key, "FILE",
         "the coordinator's CURVE public key"},
    };
    int exit_code = cli_parse(argc, argv, options,
                              sizeof options / sizeof options[0], 0, NULL);
    if (exit_code == CLI_EXIT_OK && !endpoint) {
        cli_error("worker: --connect ENDPOINT is required");
        exit_code = CLI_EXIT_USAGE;
    }
    if (exit_code == CLI_EXIT_OK && (curve_secret != NULL) != (server_key != NULL)) {
        cli_error("worker: --curve-secret and --server-key go together");
        exit_code = CLI_EXIT_USAGE;
    }
    cairn_registry_t *registry = NULL;
    if (exit_code == CLI_EXIT_OK)
        registry = cli_registry(&plugins, allow_exec, &exit_code);
    if (registry) {
        struct sigaction action = {.sa_handler = s_on_signal};
        sigaction(SIGINT, &action, NULL);
        sigaction(SIGTERM, &action, NULL);
        cairn_worker_options_t opts = {
            .endpoint = endpoint,
            .worker_id = worker_id,
            .labels = labels.paths,
            .label_count = labels.count,
            .heartbeat_ms = (uint32_t)heartbeat_ms,
            .give_up_after_ms = give_up_after_s * 1000u,
            .stop = &s_stop,
            .curve_secret = curve_secret,
            .server_key = server_key,
        };
        cairn_error_t err;
        fprintf(stderr, "cairn: worker connecting to %s\n", endpoint);
        if (cairn_worker_run(registry, &opts, &err) != CAIRN_OK)
            exit_code = cli_fail(&err); /* a bad key file: 2 */
    }
    cairn_registry_destroy(&registry);
    cli_plugins_free(&plugins);
    cli_plugins_free(&labels);
    return exit_code;
}
