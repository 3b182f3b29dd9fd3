/* record.c - framing and checking stored values (record.h). */
#include <stdlib.h>
#include <zlib.h>

#include "proto/pbutil.h"
#include "storage/record.h"

#define S_MAGIC 'c'

static uint32_t
s_crc(const uint8_t *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    /* zlib takes uInt lengths: feed large payloads in pieces. */
    while (len > 0) {
        uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = crc32(crc, data, chunk);
        data += chunk;
        len -= chunk;
    }
    return (uint32_t)crc;
}

size_t
cairn__record_packed_size(const ProtobufCMessage *msg)
{
    return CAIRN__RECORD_HEADER + protobuf_c_message_get_packed_size(msg);
}

void
cairn__record_seal(uint8_t *out, size_t len)
{
    uint32_t crc =
        s_crc(out + CAIRN__RECORD_HEADER, len - CAIRN__RECORD_HEADER);
    out[0] = S_MAGIC;
    out[1] = CAIRN__STORE_FORMAT;
    for (int i = 0; i < 4; i++)
        out[2 + i] = (uint8_t)(crc >> (8 * i));
}

void
cairn__record_pack_into(const ProtobufCMessage *msg, uint8_t *out,
                        size_t len)
{
    protobuf_c_message_pack(msg, out + CAIRN__RECORD_HEADER);
    cairn__record_seal(out, len);
}

uint8_t *
cairn__record_pack(const ProtobufCMessage *msg, size_t *len)
{
    size_t size = cairn__record_packed_size(msg);
    uint8_t *buffer = malloc(size);
    if (!buffer)
        return NULL;
    cairn__record_pack_into(msg, buffer, size);
    *len = size;
    return buffer;
}

int
cairn__record_unpack(const ProtobufCMessageDescriptor *desc,
                     const uint8_t *data, size_t len, const char *what,
                     ProtobufCMessage **out, cairn_error_t *err)
{
    *out = NULL;
    if (len < CAIRN__RECORD_HEADER || data[0] != S_MAGIC)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               "%s is corrupt: not a cairn record (%zu "
                               "bytes)",
                               what, len);
    if (data[1] > CAIRN__STORE_FORMAT)
        return cairn_error_set(err, CAIRN_EFORMAT,
                               "%s has store format %u; this cairn reads "
                               "format %u and older",
                               what, data[1], CAIRN__STORE_FORMAT);
    uint32_t stored = 0;
    for (int i = 0; i < 4; i++)
        stored |= (uint32_t)data[2 + i] << (8 * i);
    size_t payload = len - CAIRN__RECORD_HEADER;
    if (s_crc(data + CAIRN__RECORD_HEADER, payload) != stored)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               "%s is corrupt: checksum mismatch", what);
    cairn__unpack_guard_t guard;
    CAIRN__UNPACK_GUARD(guard);
    *out = protobuf_c_message_unpack(desc, &guard.allocator, payload,
                                     data + CAIRN__RECORD_HEADER);
    if (!*out)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               "%s is corrupt: record does not decode", what);
    return CAIRN_OK;
}
