/* record.h - the frame around every value cairn stores.
 *
 *   byte 0     'c' (magic)
 *   byte 1     store format version (CAIRN__STORE_FORMAT)
 *   bytes 2-5  CRC-32 (zlib) of the payload, little endian
 *   bytes 6-   the payload: one protobuf record
 *
 * Nothing read from a store is trusted: a short value, a bad magic, a
 * checksum mismatch or a payload that does not decode is CAIRN_ECORRUPT;
 * a format newer than ours is CAIRN_EFORMAT. Either way the message names
 * the key.
 */
#ifndef CAIRN_RECORD_H_INCLUDED
#define CAIRN_RECORD_H_INCLUDED

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/error.h"

#define CAIRN__STORE_FORMAT 1
#define CAIRN__RECORD_HEADER 6

/* Packs msg into a framed buffer the caller frees. NULL on
 * out-of-memory. */
uint8_t *
cairn__record_pack(const ProtobufCMessage *msg, size_t *len);

/* Bytes the framed record of msg takes. */
size_t
cairn__record_packed_size(const ProtobufCMessage *msg);

/* Frames msg into out, which holds exactly len =
 * cairn__record_packed_size(msg) bytes. */
void
cairn__record_pack_into(const ProtobufCMessage *msg, uint8_t *out,
                        size_t len);

/* Writes the frame header of the len bytes at out, whose payload (from
 * out + CAIRN__RECORD_HEADER) is already there. */
void
cairn__record_seal(uint8_t *out, size_t len);

/* Checks the frame and decodes the payload as a `desc` message. what
 * names the value in errors ("checkpoint run@3"). On success *out is the
 * decoded message (free with protobuf_c_message_free_unpacked). */
int
cairn__record_unpack(const ProtobufCMessageDescriptor *desc,
                     const uint8_t *data, size_t len, const char *what,
                     ProtobufCMessage **out, cairn_error_t *err);

#endif
