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

#include "base/util.h"
#include "graph/workflow_internal.h"

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

/* ---- description ------------------------------------------------------------ */

static const char *
s_kind_name(cairn__edge_kind_t kind)
{
    static const char *const names[] = {"edge", "fan-out", "switch",
                                        "fan-in"};
    return names[kind];
}

/* "name(arg)" for a predicate, "" when there is none. Caller frees. */
static char *
s_describe_pred(const cairn__pred_t *pred)
{
    if (!pred->name)
        return strdup("");
    return cairn__strprintf(" %s(%.*s)", pred->name,
                            (int)(pred->arg_len > 60 ? 60 : pred->arg_len),
                            pred->arg ? (const char *)pred->arg : "");
}

static char *
s_describe_executor(const cairn__executor_t *exec)
{
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, exec->config ? exec->config : (const uint8_t *)"",
                       exec->config_len);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, digest, 8);
    size_t accepts_len = 1;
    for (size_t i = 0; i < exec->accept_count; i++)
        accepts_len += strlen(exec->accepts[i]) + 1;
    char *accepts = calloc(1, accepts_len);
    if (!accepts)
        return NULL;
    char *end = accepts;
    for (size_t i = 0; i < exec->accept_count; i++) {
        size_t len = strlen(exec->accepts[i]);
        if (i > 0)
            *end++ = ',';
        memcpy(end, exec->accepts[i], len);
        end += len;
    }
    char *line = cairn__strprintf("executor %s type %s config %s%s%s",
                                  exec->id, exec->type, hex,
                                  exec->accept_count ? " accepts " : "",
                                  accepts);
    free(accepts);
    return line;
}

static char *
s_describe_edge(const cairn_workflow_t *wf, const cairn__edge_t *edge)
{
    char *text = cairn__strprintf("%s", s_kind_name(edge->kind));
    for (size_t i = 0; text && i < edge->source_count; i++) {
        char *next = cairn__strprintf("%s %s", text,
                                      wf->executors[edge->sources[i]].id);
        free(text);
        text = next;
    }
    for (size_t i = 0; text && i < edge->target_count; i++) {
        const cairn__target_t *target = &edge->targets[i];
        char *pred = s_describe_pred(&target->pred);
        char *next = pred ? cairn__strprintf(
                                "%s %s %s%s%s", text, i ? "," : "->",
                                wf->executors[target->executor].id, pred,
                                target->is_default ? " default" : "")
                          : NULL;
        free(pred);
        free(text);
        text = next;
    }
    if (text && edge->selector.name) {
        char *pred = s_describe_pred(&edge->selector);
        char *next = pred ? cairn__strprintf("%s select%s", text, pred) : NULL;
        free(pred);
        free(text);
        text = next;
    }
    return text;
}

int
cairn__workflow_describe(const cairn_workflow_t *self, char ***lines,
                         size_t *count)
{
    size_t n = 1 + self->executor_count + self->edge_count;
    char **out = calloc(n, sizeof *out);
    if (!out)
        return CAIRN_ENOMEM;
    size_t i = 0;
    out[i++] = cairn__strprintf("start %s", self->executors[self->start].id);
    for (size_t x = 0; x < self->executor_count; x++)
        out[i++] = s_describe_executor(&self->executors[x]);
    for (size_t x = 0; x < self->executor_count; x++) {
        const cairn__executor_t *exec = &self->executors[x];
        for (size_t e = 0; e < exec->out_edge_count; e++) {
            const cairn__edge_t *edge = &self->edges[exec->out_edges[e]];
            if (edge->sources[0] == x)
                out[i++] = s_describe_edge(self, edge);
        }
    }
    bool ok = true;
    for (size_t k = 0; k < i; k++)
        ok = ok && out[k];
    if (!ok) {
        for (size_t k = 0; k < i; k++)
            free(out[k]);
        free(out);
        return CAIRN_ENOMEM;
    }
    *lines = out;
    *count = i;
    return CAIRN_OK;
}
