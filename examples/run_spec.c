/* run_spec.c - loads a JSON workflow spec from C and runs it once.
 *
 *   run_spec SPEC.json [INPUT]
 *
 * The same spec `cairn run SPEC.json --input INPUT` takes (docs/spec.md),
 * over a registry with the built-in executor types: the spec is read
 * with cairn_spec_read_file, turned into a workflow with cairn_spec_load
 * (include/cairn/spec.h) and run in memory, without a store. Prints each
 * output on its own line; exits 0 when the run completed. On
 * examples/text-pipeline.json with "hello world" it prints "dlrow olleh".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/cairn.h>

/* Reads path and builds its workflow over registry into *wf. */
static int
s_load(const char *path, const cairn_registry_t *registry,
       cairn_workflow_t **wf, cairn_error_t *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cairn_spec_read_file(path, &text, &len, err);
    if (rc == CAIRN_OK)
        rc = cairn_spec_load(text, len, path, registry, wf, NULL, err);
    free(text);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: run_spec SPEC.json [INPUT]\n");
        return 2;
    }
    const char *input = argc > 2 ? argv[2] : "";
    cairn_error_t err;
    cairn_error_clear(&err);
    cairn_registry_t *registry = cairn_registry_new();
    cairn_workflow_t *wf = NULL;
    cairn_engine_t *engine = NULL;
    cairn_result_t *result = NULL;
    int status = 1;
    if (!registry || cairn_builtins_register(registry, NULL) != CAIRN_OK) {
        fprintf(stderr, "run_spec: could not register the built-ins\n");
        goto done;
    }
    if (s_load(argv[1], registry, &wf, &err) != CAIRN_OK
        || cairn_engine_open(&engine, registry, NULL, &err) != CAIRN_OK
        || cairn_engine_run(engine, wf, input, strlen(input), NULL, &result,
                            &err)
               != CAIRN_OK) {
        fprintf(stderr, "run_spec: %s\n", err.message);
        goto done;
    }
    for (size_t i = 0; i < cairn_result_output_count(result); i++) {
        size_t len;
        const uint8_t *out = cairn_result_output(result, i, &len);
        printf("%.*s\n", (int)len, (const char *)out);
    }
    status = cairn_result_status(result) == CAIRN_STATUS_COMPLETED ? 0 : 1;
done:
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    return status;
}
