/* message.h - read-only view of a message delivered to a handler.
 *
 * A message has a type tag, a source executor and either a payload or, when
 * it was assembled by a fan-in edge, a list of parts (one per source, in
 * the order the sources are listed on the edge). Messages handed to a
 * handler are borrowed: valid until the handler returns.
 */
#ifndef CAIRN_MESSAGE_H_INCLUDED
#define CAIRN_MESSAGE_H_INCLUDED

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_msg_t cairn_msg_t;

/* Type tag ("" when the sender gave none). Borrowed; valid until the
 * handler returns (as is every pointer below). */
CAIRN_EXPORT const char *
cairn_msg_type(const cairn_msg_t *self);

/* Id of the executor that sent the message ("" for the run input).
 * Borrowed; valid until the handler returns. */
CAIRN_EXPORT const char *
cairn_msg_source(const cairn_msg_t *self);

/* Payload bytes and their length. For a fan-in message the payload is
 * empty; read the parts instead. Borrowed; valid until the handler
 * returns. */
CAIRN_EXPORT const uint8_t *
cairn_msg_payload(const cairn_msg_t *self, size_t *len);

/* Number of parts: 0 for an ordinary message. */
CAIRN_EXPORT size_t
cairn_msg_part_count(const cairn_msg_t *self);

/* Part i (0-based) of a fan-in message, or NULL when out of range.
 * Borrowed; valid until the handler returns. */
CAIRN_EXPORT const cairn_msg_t *
cairn_msg_part(const cairn_msg_t *self, size_t index);

/* A human-in-the-loop request (cairn_ctx_request): what an executor
 * asked for, as the response handler and the run's result see it.
 * Borrowed; valid until the handler returns (from a result or a
 * checkpoint: until that is destroyed). */
typedef struct {
    const char *id;       /* "EXECUTOR.SUPERSTEP.N": unique in a run, the
                             same on every attempt of the superstep */
    const char *executor; /* who asked, and gets the response */
    const char *kind;     /* what the executor asked for, e.g. "approve" */
    const uint8_t *payload;
    size_t payload_len;
} cairn_request_t;

#ifdef __cplusplus
}
#endif
#endif
