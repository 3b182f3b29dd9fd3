/* readme.c - README.md's C example, the same text (check-readme.sh).
 * Run it twice: the second time it finds run r1 in ./.cairn and resumes
 * it, which for a completed run gives back its result. Prints "HELLO". */
#include <ctype.h>
#include <stdio.h>

#include <cairn/cairn.h>

/* An executor type's handler: upper-cases the text and yields it as an
 * output of the run (cairn_ctx_send would pass it along the edges). */
static int
upper(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *text = cairn_msg_payload(msg, &len);
    char out[64];
    if (len > sizeof out)
        return cairn_ctx_fail(ctx, "%zu bytes: too long", len);
    for (size_t i = 0; i < len; i++)
        out[i] = (char)toupper(text[i]);
    return cairn_ctx_yield_output(ctx, out, len);
}

int
main(void)
{
    cairn_error_t err;
    cairn_error_clear(&err);
    cairn_executor_type_t type = {.name = "my.upper", .handle = upper};
    cairn_registry_t *reg = cairn_registry_new();
    cairn_builder_t *b = NULL;
    cairn_workflow_t *wf = NULL;
    cairn_store_t *store = NULL; /* RocksDB in a directory */
    cairn_engine_t *engine = NULL;
    cairn_result_t *result = NULL;
    int status = 1;
    if (!reg || cairn_registry_add_executor(reg, &type) != CAIRN_OK
        || !(b = cairn_builder_new(reg))
        || cairn_builder_add_executor(b, "upper", "my.upper", NULL, 0)
               != CAIRN_OK
        || cairn_builder_set_start(b, "upper") != CAIRN_OK) {
        fprintf(stderr, "readme: out of memory\n");
        goto done;
    }
    /* Errors say what was wrong and where (the executor, the edge). */
    if (cairn_builder_build(b, &wf, &err) != CAIRN_OK
        || cairn_store_open(&store, "./.cairn", NULL, &err) != CAIRN_OK
        || cairn_engine_open(&engine, reg, NULL, &err) != CAIRN_OK) {
        fprintf(stderr, "readme: %s\n", err.message);
        goto done;
    }
    /* Resume run r1 if the store has it (after a crash: from its latest
     * checkpoint), else start it. */
    cairn_run_options_t opts = {.store = store, .run_id = "r1"};
    int rc = cairn_engine_resume(engine, wf, "r1", &opts, &result, &err);
    if (rc == CAIRN_ENOTFOUND)
        rc = cairn_engine_run(engine, wf, "hello", 5, &opts, &result, &err);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "readme: %s\n", err.message);
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
    cairn_builder_destroy(&b);
    cairn_registry_destroy(&reg);
    return status;
}
