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

/* The versions of state keys, met in key order (a key's versions newest
 * first): which superstep wrote the version at hand and which one
 * superseded it. The checkpoints that resolve to that version are those
 * in [step, superseded). gc and verify walk a run's state with it. */
typedef struct {
    uint8_t *group;    /* the current key without its version (owned) */
    size_t group_len;
    uint64_t newer;    /* superstep of its next newer version */
} cairn__versions_t;

/* Feeds the state key (RUN \0 SCOPE \0 NAME \0 ~SUPERSTEP, len >= 8):
 * *step is its version, *superseded that of the next newer version of
 * the same key, UINT64_MAX when it is the newest. false on
 * out-of-memory. */
bool
cairn__versions_next(cairn__versions_t *v, const uint8_t *key, size_t len,
                     uint64_t *step, uint64_t *superseded);
void
cairn__versions_free(cairn__versions_t *v);

#endif
