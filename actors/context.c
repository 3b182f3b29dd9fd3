/* context.c - what a handler can do (context.h in include/cairn).
 *
 * Reads look at the overlay first (the executor's own writes in this
 * superstep), then at the host's copy as committed at the last barrier.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/context.h"
#include "base/util.h"
#include "proto/pbutil.h"

int
cairn__ctx_init(cairn_ctx_t *ctx)
{
    ctx->state_writes = cairn__kv_new();
    ctx->shared_writes = cairn__kv_new();
    if (!ctx->state_writes || !ctx->shared_writes) {
        cairn__ctx_fini(ctx);
        return CAIRN_ENOMEM;
    }
    snprintf(ctx->idempotency_key, sizeof ctx->idempotency_key,
             "%s/%llu/%s", ctx->run_id, (unsigned long long)ctx->superstep,
             ctx->executor_id);
    return CAIRN_OK;
}

void
cairn__ctx_fini(cairn_ctx_t *ctx)
{
    cairn__kv_destroy(&ctx->state_writes);
    cairn__kv_destroy(&ctx->shared_writes);
    for (size_t i = 0; i < ctx->sent_count; i++)
        cairn__pb_message_free(ctx->sent[i]);
    free(ctx->sent);
    ctx->sent = NULL;
    ctx->sent_count = 0;
    for (size_t i = 0; i < ctx->output_count; i++)
        free(ctx->outputs[i].data);
    free(ctx->outputs);
    ctx->outputs = NULL;
    ctx->output_count = 0;
    free(ctx->error);
    ctx->error = NULL;
    for (size_t i = 0; i < ctx->checkpoint_tag_count; i++)
        free(ctx->checkpoint_tags[i]);
    free(ctx->checkpoint_tags);
    ctx->checkpoint_tags = NULL;
    ctx->checkpoint_tag_count = 0;
    for (size_t i = 0; i < ctx->request_count; i++)
        cairn__pb_request_free(ctx->requests[i]);
    free(ctx->requests);
    ctx->requests = NULL;
    ctx->request_count = 0;
}

/* Marks the context as failed by out-of-memory and returns the code. */
static int
s_oom(cairn_ctx_t *self)
{
    self->out_of_memory = true;
    return CAIRN_ENOMEM;
}

/* Refuses values over the run's maximum message size. The refusal also
 * becomes the executor's error text if the handler then fails without
 * giving one. */
static int
s_check_size(cairn_ctx_t *self, size_t len)
{
    if (len <= self->max_message_size)
        return CAIRN_OK;
    cairn_ctx_fail(self,
                   "executor '%s': message of %zu bytes exceeds the "
                   "maximum of %zu bytes",
                   self->executor_id, len, self->max_message_size);
    return CAIRN_ETOOLARGE;
}

static int
s_push_message(cairn_ctx_t *self, const char *target, const char *type,
               const void *payload, size_t len)
{
    if (!self || (len > 0 && !payload))
        return CAIRN_EINVAL;
    int rc = s_check_size(self, len);
    if (rc != CAIRN_OK)
        return rc;
    if (!CAIRN__GROW(self->sent, self->sent_count))
        return s_oom(self);
    Cairn__Message *msg = cairn__pb_message_new(type, self->executor_id,
                                                target, payload, len);
    if (!msg)
        return s_oom(self);
    self->sent[self->sent_count++] = msg;
    return CAIRN_OK;
}

int
cairn_ctx_send(cairn_ctx_t *self, const char *type, const void *payload,
               size_t len)
{
    return s_push_message(self, NULL, type, payload, len);
}

int
cairn_ctx_send_to(cairn_ctx_t *self, const char *target, const char *type,
                  const void *payload, size_t len)
{
    if (!target || !*target)
        return CAIRN_EINVAL;
    return s_push_message(self, target, type, payload, len);
}

int
cairn_ctx_yield_output(cairn_ctx_t *self, const void *data, size_t len)
{
    if (!self || (len > 0 && !data))
        return CAIRN_EINVAL;
    int rc = s_check_size(self, len);
    if (rc != CAIRN_OK)
        return rc;
    if (!CAIRN__GROW(self->outputs, self->output_count))
        return s_oom(self);
    ProtobufCBinaryData *out = &self->outputs[self->output_count];
    out->data = cairn__memdup(data, len);
    out->len = len;
    if (len > 0 && !out->data)
        return s_oom(self);
    self->output_count++;
    return CAIRN_OK;
}

/* Reads key through an overlay onto a committed map. */
static const uint8_t *
s_layered_get(const cairn__kv_t *writes, const cairn__kv_t *committed,
              const char *key, size_t *len)
{
    /* A write (or a tombstone) in this superstep hides the committed value. */
    if (cairn__kv_lookup(writes, key))
        return cairn__kv_get(writes, key, len);
    return cairn__kv_get(committed, key, len);
}

static int
s_layered_set(cairn_ctx_t *self, cairn__kv_t *writes, const char *key,
              const void *value, size_t len)
{
    if (!key || (len > 0 && !value))
        return CAIRN_EINVAL;
    int rc = s_check_size(self, len);
    if (rc != CAIRN_OK)
        return rc;
    if (cairn__kv_set(writes, key, value, len) != CAIRN_OK)
        return s_oom(self);
    return CAIRN_OK;
}

static int
s_layered_del(cairn_ctx_t *self, cairn__kv_t *writes, const char *key)
{
    if (!key)
        return CAIRN_EINVAL;
    if (cairn__kv_set_tombstone(writes, key) != CAIRN_OK)
        return s_oom(self);
    return CAIRN_OK;
}

const uint8_t *
cairn_ctx_state_get(cairn_ctx_t *self, const char *key, size_t *len)
{
    return s_layered_get(self->state_writes, self->state, key, len);
}

int
cairn_ctx_state_set(cairn_ctx_t *self, const char *key, const void *value,
                    size_t len)
{
    return s_layered_set(self, self->state_writes, key, value, len);
}

int
cairn_ctx_state_del(cairn_ctx_t *self, const char *key)
{
    return s_layered_del(self, self->state_writes, key);
}

const uint8_t *
cairn_ctx_shared_get(cairn_ctx_t *self, const char *key, size_t *len)
{
    return s_layered_get(self->shared_writes, self->shared, key, len);
}

int
cairn_ctx_shared_set(cairn_ctx_t *self, const char *key, const void *value,
                     size_t len)
{
    return s_layered_set(self, self->shared_writes, key, value, len);
}

int
cairn_ctx_shared_del(cairn_ctx_t *self, const char *key)
{
    return s_layered_del(self, self->shared_writes, key);
}

uint64_t
cairn_ctx_superstep(const cairn_ctx_t *self)
{
    return self->superstep;
}

const char *
cairn_ctx_run_id(const cairn_ctx_t *self)
{
    return self->run_id;
}

const char *
cairn_ctx_executor_id(const cairn_ctx_t *self)
{
    return self->executor_id;
}

uint32_t
cairn_ctx_attempt(const cairn_ctx_t *self)
{
    return self->attempt;
}

const char *
cairn_ctx_idempotency_key(const cairn_ctx_t *self)
{
    return self->idempotency_key;
}

const uint8_t *
cairn_ctx_config(const cairn_ctx_t *self, size_t *len)
{
    if (len)
        *len = self->config_len;
    return self->config;
}

void *
cairn_ctx_instance(const cairn_ctx_t *self)
{
    return self->instance;
}

int
cairn_ctx_request_checkpoint(cairn_ctx_t *self, const char *tag)
{
    if (!self)
        return CAIRN_EINVAL;
    self->checkpoint_requested = true;
    if (!tag || !*tag)
        return CAIRN_OK;
    char *copy = strdup(tag);
    if (!copy || !CAIRN__GROW(self->checkpoint_tags,
                              self->checkpoint_tag_count)) {
        free(copy);
        return s_oom(self);
    }
    self->checkpoint_tags[self->checkpoint_tag_count++] = copy;
    return CAIRN_OK;
}

int
cairn_ctx_request(cairn_ctx_t *self, const char *kind, const void *payload,
                  size_t len, const char **id)
{
    if (!self || !kind || !*kind || (len > 0 && !payload))
        return CAIRN_EINVAL;
    int rc = s_check_size(self, len);
    if (rc != CAIRN_OK)
        return rc;
    /* Derived from where the request is made, not from a counter that
     * lives on, so a retried or re-run superstep asks under the same id. */
    char request_id[128];
    snprintf(request_id, sizeof request_id, "%s.%llu.%zu", self->executor_id,
             (unsigned long long)self->superstep, self->request_count + 1);
    if (!CAIRN__GROW(self->requests, self->request_count))
        return s_oom(self);
    Cairn__Request *request =
        cairn__pb_request_new(request_id, self->executor_id, kind, payload,
                              len, self->superstep);
    if (!request)
        return s_oom(self);
    self->requests[self->request_count++] = request;
    if (id)
        *id = request->id;
    return CAIRN_OK;
}

int
cairn_ctx_fail(cairn_ctx_t *self, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char text[512];
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    /* The first reason wins: it is usually the cause of the others. */
    if (!self->error)
        self->error = strdup(text);
    return CAIRN_EHANDLER;
}
