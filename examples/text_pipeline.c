/* text_pipeline.c - the five-step text pipeline, built in C.
 *
 *   upper -> reverse -> submit -> lower -> finalize
 *
 * On "hello world" it prints every step, the per-executor states and the
 * shared state, and the final output "dlrow olleh". upper keeps the
 * number of texts it has seen in its own state and publishes the input
 * and its result as shared state; submit, two supersteps later, reads
 * both back.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/cairn.h>

/* Copies the payload into a NUL-terminated buffer the caller frees. */
static char *
s_payload_text(const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *data = cairn_msg_payload(msg, &len);
    char *text = malloc(len + 1);
    if (text) {
        memcpy(text, data, len);
        text[len] = '\0';
    }
    return text;
}

static void
s_print_step(cairn_ctx_t *ctx, const char *in, const char *out)
{
    printf("  [superstep %llu] %-8s %s -> %s\n",
           (unsigned long long)cairn_ctx_superstep(ctx),
           cairn_ctx_executor_id(ctx), in, out);
    fflush(stdout);
}

/* Applies fn to every byte and sends the result on. */
static int
s_transform(cairn_ctx_t *ctx, const cairn_msg_t *msg, int (*fn)(int))
{
    char *text = s_payload_text(msg);
    if (!text)
        return cairn_ctx_fail(ctx, "out of memory");
    char *in = s_payload_text(msg);
    for (char *p = text; *p; p++)
        *p = (char)fn((unsigned char)*p);
    s_print_step(ctx, in ? in : "?", text);
    int rc = cairn_ctx_send(ctx, NULL, text, strlen(text));
    free(in);
    free(text);
    return rc;
}

static int
s_upper(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *input = cairn_msg_payload(msg, &len);
    if (cairn_ctx_shared_set(ctx, "original_input", input, len) != 0)
        return cairn_ctx_fail(ctx, "could not write shared state");
    const uint8_t *seen = cairn_ctx_state_get(ctx, "texts_seen", NULL);
    int count = seen ? atoi((const char *)seen) : 0;
    char count_text[16];
    snprintf(count_text, sizeof count_text, "%d", count + 1);
    /* Stored with its NUL so the next read can atoi it in place. */
    if (cairn_ctx_state_set(ctx, "texts_seen", count_text,
                            strlen(count_text) + 1)
        != 0)
        return cairn_ctx_fail(ctx, "could not write state");
    char *original = s_payload_text(msg);
    char *text = s_payload_text(msg);
    if (!original || !text) {
        free(original);
        free(text);
        return cairn_ctx_fail(ctx, "out of memory");
    }
    for (char *p = text; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    int rc = cairn_ctx_shared_set(ctx, "upper_output", text, strlen(text));
    s_print_step(ctx, original, text);
    if (rc == 0)
        rc = cairn_ctx_send(ctx, NULL, text, strlen(text));
    free(original);
    free(text);
    return rc;
}

static int
s_reverse(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    char *text = s_payload_text(msg);
    if (!text)
        return cairn_ctx_fail(ctx, "out of memory");
    size_t len = strlen(text);
    char *reversed = malloc(len + 1);
    if (!reversed) {
        free(text);
        return cairn_ctx_fail(ctx, "out of memory");
    }
    for (size_t i = 0; i < len; i++)
        reversed[i] = text[len - 1 - i];
    reversed[len] = '\0';
    s_print_step(ctx, text, reversed);
    int rc = cairn_ctx_send(ctx, NULL, reversed, len);
    free(text);
    free(reversed);
    return rc;
}

static int
s_submit(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t input_len, upper_len;
    const uint8_t *input =
        cairn_ctx_shared_get(ctx, "original_input", &input_len);
    const uint8_t *upper =
        cairn_ctx_shared_get(ctx, "upper_output", &upper_len);
    if (!input || !upper)
        return cairn_ctx_fail(ctx, "shared state from upper is missing");
    printf("  [superstep %llu] submit   sees shared original_input=\"%.*s\" "
           "upper_output=\"%.*s\"\n",
           (unsigned long long)cairn_ctx_superstep(ctx), (int)input_len,
           (const char *)input, (int)upper_len, (const char *)upper);
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return cairn_ctx_send(ctx, NULL, payload, len);
}

static int
s_lower(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    return s_transform(ctx, msg, tolower);
}

static int
s_finalize(cairn_ctx_t *ctx, const cairn_msg_t *msg)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    printf("  [superstep %llu] finalize yields \"%.*s\"\n",
           (unsigned long long)cairn_ctx_superstep(ctx), (int)len,
           (const char *)payload);
    return cairn_ctx_yield_output(ctx, payload, len);
}

static void
s_print_state(const char *executor, const char *key, const uint8_t *value,
              size_t len, void *userdata)
{
    (void)userdata;
    /* Values may carry a trailing NUL; print up to it. */
    const uint8_t *nul = memchr(value, '\0', len);
    size_t shown = nul ? (size_t)(nul - value) : len;
    printf("  %-8s %-16s = \"%.*s\"\n", executor ? executor : "(shared)", key,
           (int)shown, (const char *)value);
}

static int
s_register(cairn_registry_t *registry)
{
    const cairn_executor_type_t types[] = {
        {.name = "demo.upper", .handle = s_upper},
        {.name = "demo.reverse", .handle = s_reverse},
        {.name = "demo.submit", .handle = s_submit},
        {.name = "demo.lower", .handle = s_lower},
        {.name = "demo.finalize", .handle = s_finalize},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cairn_registry_add_executor(registry, &types[i]) != 0)
            return -1;
    return 0;
}

static int
s_build(cairn_registry_t *registry, cairn_workflow_t **wf, cairn_error_t *err)
{
    static const char *const steps[][2] = {
        {"upper", "demo.upper"},   {"reverse", "demo.reverse"},
        {"submit", "demo.submit"}, {"lower", "demo.lower"},
        {"finalize", "demo.finalize"},
    };
    const size_t n = sizeof steps / sizeof steps[0];
    cairn_builder_t *b = cairn_builder_new(registry);
    int rc = b ? cairn_builder_set_name(b, "text-pipeline") : CAIRN_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cairn_builder_add_executor(b, steps[i][0], steps[i][1], NULL, 0);
    for (size_t i = 0; rc == 0 && i + 1 < n; i++)
        rc = cairn_builder_add_edge(b, steps[i][0], steps[i + 1][0], NULL,
                                    NULL, 0);
    if (rc == 0)
        rc = cairn_builder_set_start(b, "upper");
    if (rc == 0)
        rc = cairn_builder_build(b, wf, err);
    cairn_builder_destroy(&b);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *input = argc > 1 ? argv[1] : "hello world";
    cairn_error_t err;
    cairn_error_clear(&err);
    cairn_registry_t *registry = cairn_registry_new();
    cairn_workflow_t *wf = NULL;
    cairn_engine_t *engine = NULL;
    cairn_result_t *result = NULL;
    int status = 1;
    if (!registry || s_register(registry) != 0) {
        fprintf(stderr, "text_pipeline: could not register executors\n");
        goto done;
    }
    if (s_build(registry, &wf, &err) != 0
        || cairn_engine_open(&engine, registry, NULL, &err) != 0) {
        fprintf(stderr, "text_pipeline: %s\n", err.message);
        goto done;
    }
    printf("cairn text pipeline: upper -> reverse -> submit -> lower -> "
           "finalize\n  signature %.16s..., %zu executor hosts, input \"%s\"\n",
           cairn_workflow_signature_hex(wf), cairn_engine_host_count(engine),
           input);
    if (cairn_engine_run(engine, wf, input, strlen(input), NULL, &result,
                         &err)
        != 0) {
        fprintf(stderr, "text_pipeline: %s\n", err.message);
        goto done;
    }
    printf("run %s %s after %llu supersteps\n", cairn_result_run_id(result),
           cairn_status_name(cairn_result_status(result)),
           (unsigned long long)cairn_result_supersteps(result));
    printf("states:\n");
    cairn_result_foreach_state(result, s_print_state, NULL);
    for (size_t i = 0; i < cairn_result_output_count(result); i++) {
        size_t len;
        const uint8_t *out = cairn_result_output(result, i, &len);
        printf("output: %.*s\n", (int)len, (const char *)out);
    }
    status = cairn_result_status(result) == CAIRN_STATUS_COMPLETED ? 0 : 1;
done:
    cairn_result_destroy(&result);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    return status;
}
