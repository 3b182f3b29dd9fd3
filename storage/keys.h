/* keys.h - how store keys are laid out (see docs/storage.md).
 *
 *   runs         RUN
 *   checkpoints  RUN \0 SUPERSTEP            (8 bytes, big endian)
 *   inflight     RUN \0 SUPERSTEP
 *   outputs      RUN \0 SUPERSTEP
 *   pending      RUN \0 SUPERSTEP EXECUTOR
 *   state        RUN \0 SCOPE \0 KEY \0 ~SUPERSTEP
 *   events       RUN \0 SEQ                  (8 bytes, big endian)
 *
 * Run ids, executor ids and state keys never contain NUL, so \0 is an
 * unambiguous separator. SCOPE is the executor id, or empty for shared
 * state. The state version is stored inverted, so a key's versions sort
 * newest first and one seek finds the newest version at or before a
 * superstep.
 */
#ifndef CAIRN_KEYS_H_INCLUDED
#define CAIRN_KEYS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len;
    size_t capacity;
    bool out_of_memory; /* sticky: checked once the key is built */
} cairn__key_t;

void
cairn__key_reset(cairn__key_t *key);
void
cairn__key_free(cairn__key_t *key);

/* Appends text and, with terminate, a \0 separator. */
void
cairn__key_add_text(cairn__key_t *key, const char *text, bool terminate);
void
cairn__key_add_bytes(cairn__key_t *key, const void *data, size_t len);
/* Appends value as 8 big-endian bytes. */
void
cairn__key_add_u64(cairn__key_t *key, uint64_t value);

uint64_t
cairn__key_read_u64(const uint8_t *bytes);

/* RUN \0 SUPERSTEP */
void
cairn__key_step(cairn__key_t *key, const char *run_id, uint64_t superstep);
/* RUN \0 SCOPE \0 NAME \0 (the state key without its version) */
void
cairn__key_state_group(cairn__key_t *key, const char *run_id,
                       const char *scope, const char *name);

/* True when data starts with prefix. */
bool
cairn__key_has_prefix(const uint8_t *data, size_t len, const cairn__key_t *prefix);

/* Splits "RUN@N" into run id and superstep; false when malformed. */
bool
cairn__checkpoint_id_parse(const char *id, char *run_id, size_t run_id_size,
                           uint64_t *superstep);

#endif
