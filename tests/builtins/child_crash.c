/* child_crash.c - runs a workflow with util.crash in its own process, for
 * test_builtins: util.crash must SIGKILL the whole process the first time
 * and let the run complete once its marker exists.
 *
 *   child_crash MARKER
 *
 * Workflow (no store): up (text.upper) -> boom (util.crash, superstep 2,
 * marker MARKER) -> out (text.output), input "boom".
 * Exit: 0 when the run completed with the single output "BOOM", 1 when it
 * ended otherwise, 2 on a usage or setup error. (Killed by SIGKILL when
 * util.crash fires.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/cairn.h>

/* Builds and runs the workflow; returns the exit code. */
static int
s_run(cairn_registry_t *registry, const char *marker)
{
    char config[1024];
    snprintf(config, sizeof config, "{\"at_superstep\": 2, \"marker\": \"%s\"}",
             marker);
    cairn_builder_t *b = cairn_builder_new(registry);
    cairn_workflow_t *wf = NULL;
    cairn_engine_t *engine = NULL;
    cairn_result_t *res = NULL;
    cairn_error_t err;
    int code = 2;
    if (!b || cairn_builder_add_executor(b, "up", "text.upper", NULL, 0)
        || cairn_builder_add_executor(b, "boom", "util.crash", config,
                                      strlen(config))
        || cairn_builder_add_executor(b, "out", "text.output", NULL, 0)
        || cairn_builder_add_edge(b, "up", "boom", NULL, NULL, 0)
        || cairn_builder_add_edge(b, "boom", "out", NULL, NULL, 0)
        || cairn_builder_set_start(b, "up") || cairn_builder_build(b, &wf, &err)
        || cairn_engine_open(&engine, registry, NULL, &err)
        || cairn_engine_run(engine, wf, "boom", 4, NULL, &res, &err)) {
        fprintf(stderr, "child_crash: setup failed\n");
        goto done;
    }
    size_t len = 0;
    const uint8_t *out = cairn_result_output_count(res) == 1
                             ? cairn_result_output(res, 0, &len)
                             : NULL;
    code = cairn_result_status(res) == CAIRN_STATUS_COMPLETED && out && len == 4
                   && memcmp(out, "BOOM", 4) == 0
               ? 0
               : 1;
done:
    cairn_result_destroy(&res);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_builder_destroy(&b);
    return code;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: child_crash MARKER\n");
        return 2;
    }
    cairn_registry_t *registry = cairn_registry_new();
    if (!registry || cairn_builtins_register(registry, NULL) != CAIRN_OK) {
        cairn_registry_destroy(&registry);
        return 2;
    }
    int code = s_run(registry, argv[1]);
    cairn_registry_destroy(&registry);
    return code;
}
