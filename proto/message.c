/* message.c - the public read-only message view.
 *
 * cairn_msg_t is never defined: a cairn_msg_t pointer is a pointer to the
 * decoded protobuf Cairn__Message, so handlers read delivered messages
 * where the decoder put them, without a copy.
 */
#include "cairn.pb-c.h"
#include "cairn/message.h"

static const Cairn__Message *
s_pb(const cairn_msg_t *self)
{
    return (const Cairn__Message *)(const void *)self;
}

const char *
cairn_msg_type(const cairn_msg_t *self)
{
    return s_pb(self)->type;
}

const char *
cairn_msg_source(const cairn_msg_t *self)
{
    return s_pb(self)->source;
}

const uint8_t *
cairn_msg_payload(const cairn_msg_t *self, size_t *len)
{
    const Cairn__Message *msg = s_pb(self);
    if (len)
        *len = msg->payload.len;
    return msg->payload.len ? msg->payload.data : (const uint8_t *)"";
}

size_t
cairn_msg_part_count(const cairn_msg_t *self)
{
    return s_pb(self)->n_parts;
}

const cairn_msg_t *
cairn_msg_part(const cairn_msg_t *self, size_t index)
{
    const Cairn__Message *msg = s_pb(self);
    if (index >= msg->n_parts)
        return NULL;
    return (const cairn_msg_t *)(const void *)msg->parts[index];
}
