/* signature.c - the workflow signature: SHA-256 (libsodium) over a
 * canonical encoding of the graph.
 *
 * Every field is length-prefixed (8 bytes, little endian) so no two
 * different graphs encode alike. Executors are encoded in id order (their
 * storage order). Edges are grouped by their first source in id order;
 * within one source they keep the order they were added in, because that
 * order decides the order messages are routed in. Name and max supersteps
 * are not part of the signature: resuming with a higher limit is allowed.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "engine/workflow_internal.h"

#define S_SIGNATURE_TAG "cairn-signature-v1"

static void
s_put_bytes(crypto_hash_sha256_state *hash, const void *data, size_t len)
{
    uint8_t prefix[8];
    for (int i = 0; i < 8; i++)
        prefix[i] = (uint8_t)((uint64_t)len >> (8 * i));
    crypto_hash_sha256_update(hash, prefix, sizeof prefix);
    if (len > 0)
        crypto_hash_sha256_update(hash, data, len);
}

static void
s_put_string(crypto_hash_sha256_state *hash, const char *text)
{
    s_put_bytes(hash, text ? text : "", text ? strlen(text) : 0);
}

static void
s_put_number(crypto_hash_sha256_state *hash, uint64_t value)
{
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
    s_put_bytes(hash, bytes, sizeof bytes);
}

static void
s_put_pred(crypto_hash_sha256_state *hash, const cairn__pred_t *pred)
{
    s_put_string(hash, pred->name);
    s_put_bytes(hash, pred->arg, pred->arg_len);
}

static void
s_put_executor(crypto_hash_sha256_state *hash, const cairn__executor_t *exec)
{
    s_put_string(hash, exec->id);
    s_put_string(hash, exec->type);
    s_put_bytes(hash, exec->config, exec->config_len);
    s_put_number(hash, exec->accept_count);
    for (size_t i = 0; i < exec->accept_count; i++)
        s_put_string(hash, exec->accepts[i]);
}

static void
s_put_edge(crypto_hash_sha256_state *hash, const cairn_workflow_t *wf,
           const cairn__edge_t *edge)
{
    s_put_number(hash, (uint64_t)edge->kind);
    s_put_number(hash, edge->source_count);
    for (size_t i = 0; i < edge->source_count; i++)
        s_put_string(hash, wf->executors[edge->sources[i]].id);
    s_put_number(hash, edge->target_count);
    for (size_t i = 0; i < edge->target_count; i++) {
        s_put_string(hash, wf->executors[edge->targets[i].executor].id);
        s_put_pred(hash, &edge->targets[i].pred);
        s_put_number(hash, edge->targets[i].is_default);
    }
    s_put_pred(hash, &edge->selector);
}

void
cairn__workflow_sign(cairn_workflow_t *self)
{
    crypto_hash_sha256_state hash;
    crypto_hash_sha256_init(&hash);
    s_put_string(&hash, S_SIGNATURE_TAG);
    s_put_string(&hash, self->executors[self->start].id);
    s_put_number(&hash, self->executor_count);
    for (size_t i = 0; i < self->executor_count; i++)
        s_put_executor(&hash, &self->executors[i]);
    s_put_number(&hash, self->edge_count);
    /* Executors are sorted by id, so walking each executor's out edges
     * whose first source it is gives "by first source, then added order". */
    for (size_t x = 0; x < self->executor_count; x++) {
        const cairn__executor_t *exec = &self->executors[x];
        for (size_t i = 0; i < exec->out_edge_count; i++) {
            const cairn__edge_t *edge = &self->edges[exec->out_edges[i]];
            if (edge->sources[0] == x)
                s_put_edge(&hash, self, edge);
        }
    }
    crypto_hash_sha256_final(&hash, self->signature);
    sodium_bin2hex(self->signature_hex, sizeof self->signature_hex,
                   self->signature, sizeof self->signature);
}
