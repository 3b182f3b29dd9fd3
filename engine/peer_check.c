/* peer_check.c - what the coordinator refuses in frames from its peers
 * (peer_check.h).
 *
 * An honest host builds every Done from a handler's context
 * (actors/context.c, actors/host.c): sent messages carry its executor as
 * source and never parts or answers; request ids are
 * "EXECUTOR.SUPERSTEP.N" with N counting from 1 in request order; every
 * payload, output and value fits the run's message limit (the context
 * refuses bigger ones). So anything else is refused here as a protocol
 * violation, whatever the rest of the Done says.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cairn/common.h"
#include "engine/peer_check.h"
#include "graph/workflow_internal.h"
#include "proto/codec.h"

/* Peer text quoted in a reason: at most 64 bytes, anything but printable
 * ASCII shown as '?', so a reason (logged, and told to the peer) never
 * carries a peer's control characters. */
typedef struct {
    char text[68];
} s_quoted_t;

static s_quoted_t
s_quote(const char *text)
{
    s_quoted_t quoted;
    size_t n = 0;
    for (; text && text[n] && n < 64; n++)
        quoted.text[n] =
            text[n] >= 0x20 && text[n] < 0x7f ? text[n] : '?';
    if (text && text[n])
        quoted.text[n++] = '.', quoted.text[n++] = '.';
    quoted.text[n] = '\0';
    return quoted;
}

/* Formats the reason into why; returns true (a violation). */
static bool CAIRN_PRINTF(3, 4)
s_refuse(char *why, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(why, size, fmt, args);
    va_end(args);
    return true;
}

/* A sent message: only the coordinator makes parts (fan-in) and answers
 * (responses); the source is the executor that sent it. */
static bool
s_sent_violation(const Cairn__Done *done, size_t i, size_t max,
                 char *why, size_t size)
{
    const Cairn__Message *msg = done->sent[i];
    const char *id = done->executor_id;
    if (msg->answers)
        return s_refuse(why, size,
                        "sent[%zu] of executor '%s' answers request '%s': "
                        "only the coordinator answers requests",
                        i, id, s_quote(msg->answers->id).text);
    if (msg->n_parts > 0)
        return s_refuse(why, size,
                        "sent[%zu] of executor '%s' has %zu parts: only the "
                        "coordinator assembles fan-in messages",
                        i, id, msg->n_parts);
    if (strcmp(msg->source, id) != 0)
        return s_refuse(why, size,
                        "sent[%zu] of executor '%s' names source '%s'", i, id,
                        s_quote(msg->source).text);
    if (msg->payload.len > max)
        return s_refuse(why, size,
                        "sent[%zu] of executor '%s' has %zu bytes, more than "
                        "the maximum message size of %zu",
                        i, id, msg->payload.len, max);
    return false;
}

/* A request: its id is made from where it was asked (context.c), so it
 * belongs to this executor and superstep and is unique in the run. */
static bool
s_request_violation(const Cairn__Done *done, size_t i, size_t max,
                    char *why, size_t size)
{
    const Cairn__Request *request = done->requests[i];
    const char *id = done->executor_id;
    char expected[128];
    snprintf(expected, sizeof expected, "%s.%llu.%zu", id,
             (unsigned long long)done->superstep, i + 1);
    if (strcmp(request->id, expected) != 0)
        return s_refuse(why, size,
                        "requests[%zu] of executor '%s' has id '%s', not '%s'",
                        i, id, s_quote(request->id).text, expected);
    if (strcmp(request->executor, id) != 0
        || request->superstep != done->superstep)
        return s_refuse(why, size,
                        "requests[%zu] of executor '%s' names executor '%s' "
                        "and superstep %llu, not its own",
                        i, id, s_quote(request->executor).text,
                        (unsigned long long)request->superstep);
    if (!*request->kind)
        return s_refuse(why, size,
                        "requests[%zu] of executor '%s' has no kind", i, id);
    if (request->payload.len > max)
        return s_refuse(why, size,
                        "requests[%zu] of executor '%s' has %zu bytes, more "
                        "than the maximum message size of %zu",
                        i, id, request->payload.len, max);
    return false;
}

/* State or shared-state writes: every value fits the message limit. */
static bool
s_entries_violation(const char *field, const char *id,
                    Cairn__StateEntry *const *entries, size_t n, size_t max,
                    char *why, size_t size)
{
    for (size_t i = 0; i < n; i++)
        if (entries[i]->value.len > max)
            return s_refuse(why, size,
                            "%s[%zu] of executor '%s' (key '%s') has %zu "
                            "bytes, more than the maximum message size of "
                            "%zu",
                            field, i, id, s_quote(entries[i]->key).text,
                            entries[i]->value.len, max);
    return false;
}

bool
cairn__done_violation(const Cairn__Done *done, size_t delivered,
                      size_t max_message_size, char *why, size_t size)
{
    const char *id = done->executor_id;
    size_t max = max_message_size;
    size_t entries = cairn__done_entries(done);
    if (entries > CAIRN__DONE_MAX_ENTRIES)
        return s_refuse(why, size,
                        "executor '%s' sends %zu entries, more than the %d "
                        "a Done may hold",
                        id, entries, CAIRN__DONE_MAX_ENTRIES);
    if (done->handled > delivered || (done->ok && done->handled != delivered))
        return s_refuse(why, size,
                        "executor '%s' reports %u message(s) handled of %zu "
                        "delivered%s",
                        id, (unsigned)done->handled, delivered,
                        done->ok ? " and success" : "");
    for (size_t i = 0; i < done->n_sent; i++)
        if (s_sent_violation(done, i, max, why, size))
            return true;
    for (size_t i = 0; i < done->n_requests; i++)
        if (s_request_violation(done, i, max, why, size))
            return true;
    for (size_t i = 0; i < done->n_outputs; i++)
        if (done->outputs[i].len > max)
            return s_refuse(why, size,
                            "outputs[%zu] of executor '%s' has %zu bytes, "
                            "more than the maximum message size of %zu",
                            i, id, done->outputs[i].len, max);
    return s_entries_violation("state_writes", id, done->state_writes,
                               done->n_state_writes, max, why, size)
           || s_entries_violation("shared_writes", id, done->shared_writes,
                                  done->n_shared_writes, max, why, size);
}

bool
cairn__hello_violation(const Cairn__Hello *hello, char *why, size_t size)
{
    if (!cairn__valid_id(hello->host_id))
        return s_refuse(why, size,
                        "worker id '%s' must match [A-Za-z0-9_-]{1,64}",
                        s_quote(hello->host_id).text);
    for (size_t i = 0; i < hello->n_executor_types; i++)
        if (!*hello->executor_types[i])
            return s_refuse(why, size,
                            "worker '%s' offers an executor type with no "
                            "name",
                            hello->host_id);
    return false;
}
