/* durable_spec.c - runs a JSON workflow spec durably, resuming it after
 * a crash.
 *
 *   durable_spec SPEC.json DB RUN_ID [INPUT]
 *
 * Every superstep leaves a checkpoint of run RUN_ID in the RocksDB store
 * in directory DB. Started again with the same arguments after it was
 * killed (SIGKILL, a power loss), it resumes the run from its latest
 * checkpoint instead of starting over, and prints the same outputs an
 * uninterrupted run prints, one per line; "resuming RUN_ID" goes to
 * stderr. Exits 0 when the run completed. On examples/counter.json with
 * input 0 it prints 101 (tests/install kills it mid-way and resumes it).
 * Builds against the installed library alone (README.md, "Install").
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

/* Resumes the run opts->run_id names when the store has it, else starts
 * it on input. */
static int
s_run_or_resume(cairn_engine_t *engine, const cairn_workflow_t *wf,
                const char *input, const cairn_run_options_t *opts,
                cairn_result_t **result, cairn_error_t *err)
{
    int rc = cairn_engine_resume(engine, wf, opts->run_id, opts, result, err);
    if (rc == CAIRN_OK)
        fprintf(stderr, "resuming %s\n", opts->run_id);
    if (rc != CAIRN_ENOTFOUND)
        return rc;
    cairn_error_clear(err);
    return cairn_engine_run(engine, wf, input, strlen(input), opts, result,
                            err);
}

int
main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: durable_spec SPEC.json DB RUN_ID [INPUT]\n");
        return 2;
    }
    const char *input = argc > 4 ? argv[4] : "";
    cairn_error_t err;
    cairn_error_clear(&err);
    cairn_registry_t *registry = cairn_registry_new();
    cairn_workflow_t *wf = NULL;
    cairn_store_t *store = NULL;
    cairn_engine_t *engine = NULL;
    cairn_result_t *result = NULL;
    int status = 1;
    if (!registry || cairn_builtins_register(registry, NULL) != CAIRN_OK) {
        fprintf(stderr, "durable_spec: could not register the built-ins\n");
        goto done;
    }
    if (s_load(argv[1], registry, &wf, &err) != CAIRN_OK
        || cairn_store_open(&store, argv[2], NULL, &err) != CAIRN_OK
        || cairn_engine_open(&engine, registry, NULL, &err) != CAIRN_OK) {
        fprintf(stderr, "durable_spec: %s\n", err.message);
        goto done;
    }
    cairn_run_options_t opts = {.store = store, .run_id = argv[3]};
    if (s_run_or_resume(engine, wf, input, &opts, &result, &err)
        != CAIRN_OK) {
        fprintf(stderr, "durable_spec: %s\n", err.message);
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
    cairn_store_destroy(&store);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    return status;
}
