/* context.h - the handler context as a host fills and reads it.
 *
 * A host sets up one context per executor per superstep, calls the
 * handler once per message with it, then turns what was collected (sent
 * messages, outputs, state writes) into a Done. Writes go to overlays,
 * never to the host's copies, so a failed attempt leaves nothing behind.
 */
#ifndef CAIRN_ACTORS_CONTEXT_H_INCLUDED
#define CAIRN_ACTORS_CONTEXT_H_INCLUDED

#include "cairn.pb-c.h"
#include "cairn/context.h"
#include "base/kv.h"

struct cairn_ctx_t {
    const char *run_id;           /* borrowed from the Deliver */
    const char *executor_id;      /* borrowed from the work item */
    uint64_t superstep;
    uint32_t attempt;
    size_t max_message_size;
    const uint8_t *config;        /* borrowed from the host's executor */
    size_t config_len;
    void *instance;               /* borrowed from the host's executor */
    const cairn__kv_t *state;     /* host's copy of the executor state */
    const cairn__kv_t *shared;    /* host's copy of the shared state */
    cairn__kv_t *state_writes;    /* overlay: owned */
    cairn__kv_t *shared_writes;   /* overlay: owned */
    Cairn__Message **sent;        /* owned, in send order */
    size_t sent_count;
    ProtobufCBinaryData *outputs; /* owned data, in yield order */
    size_t output_count;
    char *error;                  /* owned; set by cairn_ctx_fail */
    bool checkpoint_requested;    /* cairn_ctx_request_checkpoint */
    char **checkpoint_tags;       /* owned */
    size_t checkpoint_tag_count;
    Cairn__Request **requests;    /* owned, in request order */
    size_t request_count;
    char idempotency_key[256];
    bool out_of_memory;           /* sticky: fails the executor */
};

/* Prepares ctx for one executor's work. 0 or CAIRN_ENOMEM. */
int
cairn__ctx_init(cairn_ctx_t *ctx);

/* Frees what the context collected. */
void
cairn__ctx_fini(cairn_ctx_t *ctx);

#endif
