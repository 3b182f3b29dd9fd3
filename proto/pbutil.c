/* pbutil.c - building and freeing cairn's protobuf structs (pbutil.h). */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "proto/pbutil.h"

static char *
s_strdup_or_empty(const char *text)
{
    return strdup(text ? text : "");
}

/* A malloc'd copy of len bytes into *out; false on out-of-memory. */
static bool
s_copy_bytes(ProtobufCBinaryData *out, const void *data, size_t len)
{
    if (len == 0)
        return true;
    out->data = malloc(len);
    if (!out->data)
        return false;
    memcpy(out->data, data, len);
    out->len = len;
    return true;
}

static void *
s_guarded_alloc(void *data, size_t size)
{
    cairn__unpack_guard_t *guard = data;
    const char *here = (const char *)__builtin_frame_address(0);
    /* Stacks grow down on every platform we build for. */
    if (guard->base - here > CAIRN__UNPACK_STACK)
        return NULL;
    if (size > guard->budget - guard->used) {
        guard->over_budget = true;
        return NULL;
    }
    guard->used += size;
    return malloc(size);
}

static void
s_guarded_free(void *data, void *pointer)
{
    (void)data;
    free(pointer);
}

void
cairn__unpack_guard_init(cairn__unpack_guard_t *guard, const char *base)
{
    guard->allocator.alloc = s_guarded_alloc;
    guard->allocator.free = s_guarded_free;
    guard->allocator.allocator_data = guard;
    guard->base = base;
    guard->budget = SIZE_MAX;
    guard->used = 0;
    guard->over_budget = false;
}

Cairn__Message *
cairn__pb_message_new(const char *type, const char *source,
                      const char *target, const void *payload, size_t len)
{
    Cairn__Message *msg = malloc(sizeof *msg);
    if (!msg)
        return NULL;
    cairn__message__init(msg);
    msg->type = s_strdup_or_empty(type);
    msg->source = s_strdup_or_empty(source);
    msg->target = s_strdup_or_empty(target);
    bool copied = s_copy_bytes(&msg->payload, payload, len);
    if (!msg->type || !msg->source || !msg->target || !copied) {
        cairn__pb_message_free(msg);
        return NULL;
    }
    return msg;
}

Cairn__Request *
cairn__pb_request_new(const char *id, const char *executor, const char *kind,
                      const void *payload, size_t len, uint64_t superstep)
{
    Cairn__Request *request = malloc(sizeof *request);
    if (!request)
        return NULL;
    cairn__request__init(request);
    request->id = s_strdup_or_empty(id);
    request->executor = s_strdup_or_empty(executor);
    request->kind = s_strdup_or_empty(kind);
    request->superstep = superstep;
    bool copied = s_copy_bytes(&request->payload, payload, len);
    if (!request->id || !request->executor || !request->kind || !copied) {
        cairn__pb_request_free(request);
        return NULL;
    }
    return request;
}

Cairn__Request *
cairn__pb_request_clone(const Cairn__Request *request)
{
    return cairn__pb_request_new(request->id, request->executor,
                                 request->kind, request->payload.data,
                                 request->payload.len, request->superstep);
}

void
cairn__pb_request_view(const Cairn__Request *request, cairn_request_t *view)
{
    view->id = request->id;
    view->executor = request->executor;
    view->kind = request->kind;
    view->payload = request->payload.data ? request->payload.data
                                          : (const uint8_t *)"";
    view->payload_len = request->payload.len;
}

void
cairn__pb_request_free(Cairn__Request *request)
{
    if (request)
        protobuf_c_message_free_unpacked(&request->base, NULL);
}

Cairn__Message *
cairn__pb_message_clone(const Cairn__Message *msg)
{
    Cairn__Message *copy =
        cairn__pb_message_new(msg->type, msg->source, msg->target,
                              msg->payload.data, msg->payload.len);
    if (copy && msg->answers
        && !(copy->answers = cairn__pb_request_clone(msg->answers))) {
        cairn__pb_message_free(copy);
        return NULL;
    }
    if (!copy || msg->n_parts == 0)
        return copy;
    copy->parts = calloc(msg->n_parts, sizeof *copy->parts);
    if (!copy->parts) {
        cairn__pb_message_free(copy);
        return NULL;
    }
    for (size_t i = 0; i < msg->n_parts; i++) {
        copy->parts[i] = cairn__pb_message_clone(msg->parts[i]);
        if (!copy->parts[i]) {
            cairn__pb_message_free(copy);
            return NULL;
        }
        copy->n_parts++;
    }
    return copy;
}

void
cairn__pb_message_free(Cairn__Message *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(&msg->base, NULL);
}

int
cairn__entry_view_init(cairn__entry_view_t *view, const cairn__kv_t *kv)
{
    memset(view, 0, sizeof *view);
    size_t n = cairn__kv_size(kv);
    if (n == 0)
        return CAIRN_OK;
    size_t count;
    const char **keys = cairn__kv_sorted_keys(kv, &count);
    view->entries = calloc(n, sizeof *view->entries);
    view->ptrs = calloc(n, sizeof *view->ptrs);
    if (!keys || !view->entries || !view->ptrs) {
        free(keys);
        cairn__entry_view_fini(view);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        const cairn__kv_value_t *value = cairn__kv_lookup(kv, keys[i]);
        Cairn__StateEntry *entry = &view->entries[i];
        cairn__state_entry__init(entry);
        /* protobuf-c wants non-const pointers; packing never writes. */
        entry->key = (char *)keys[i];
        entry->value.data = value->data;
        entry->value.len = value->len;
        entry->deleted = value->deleted;
        view->ptrs[i] = entry;
    }
    view->count = count;
    free(keys);
    return CAIRN_OK;
}

void
cairn__entry_view_fini(cairn__entry_view_t *view)
{
    free(view->entries);
    free(view->ptrs);
    memset(view, 0, sizeof *view);
}

int
cairn__kv_apply_entries(cairn__kv_t *kv, Cairn__StateEntry *const *entries,
                        size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const Cairn__StateEntry *entry = entries[i];
        int rc = cairn__kv_apply(kv, entry->key, entry->value.data,
                                 entry->value.len, entry->deleted);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}
