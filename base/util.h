/* util.h - small helpers shared across the library (memory, strings,
 * time). Nothing here knows about workflows. */
#ifndef CAIRN_UTIL_H_INCLUDED
#define CAIRN_UTIL_H_INCLUDED

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/common.h"

/* ALWAYS(x) / NEVER(x) mark conditions that cannot happen unless the
 * library itself is wrong (sqlite's convention): a debug build asserts
 * them, a release build (NDEBUG) evaluates to x, so the branch that
 * handles the impossible case still runs and degrades gracefully:
 *     if (NEVER(run->done[x] != NULL))
 *         return -1;  // a second Done: refused, not counted twice
 * Plain assert() is for invariants with no sensible way out. Neither is
 * ever used for I/O, peer data or user input. */
#ifndef NDEBUG
#define ALWAYS(x) ((x) ? true : (assert(!"ALWAYS(" #x ")"), false))
#define NEVER(x) ((x) ? (assert(!"NEVER(" #x ")"), true) : false)
#else
#define ALWAYS(x) (!!(x))
#define NEVER(x) (!!(x))
#endif

/* Ensures room for element `count` in an array grown only by this call:
 * capacity doubles when count reaches a power of two. array_p points to
 * the array pointer. Returns false on out-of-memory (array unchanged). */
bool
cairn__grow(void *array_p, size_t count, size_t elem_size);
#define CAIRN__GROW(array, count)                                              \
    cairn__grow(&(array), (count), sizeof *(array))

/* A growable array of pointers. */
typedef struct {
    void **items;
    size_t count;
    size_t capacity;
} cairn__ptrs_t;

/* Appends item. 0 or CAIRN_ENOMEM (ptrs unchanged). */
int
cairn__ptrs_push(cairn__ptrs_t *ptrs, void *item);

/* A growable byte buffer. */
typedef struct {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
} cairn__buf_t;

/* Makes room for extra more bytes; false on out-of-memory. */
bool
cairn__buf_reserve(cairn__buf_t *self, size_t extra);

/* Appends len bytes; false on out-of-memory (self unchanged). */
bool
cairn__buf_append(cairn__buf_t *self, const void *data, size_t len);

/* Frees the bytes and empties self. */
void
cairn__buf_free(cairn__buf_t *self);

/* Reads what fd holds, to its end, into *text (malloc'd, NUL-terminated;
 * *len without the NUL), refusing more than max bytes after reading at
 * most max + 1 (so an endless stream costs max, not memory without
 * bound). Returns 0, EISDIR for a directory, EFBIG when larger than max,
 * or the errno of a failed read / ENOMEM. Caller owns the result. */
int
cairn__read_fd(int fd, size_t max, char **text, size_t *len);

/* malloc'd copy of len bytes; NULL when len is 0 or on out-of-memory. */
void *
cairn__memdup(const void *data, size_t len);

/* Replaces *slot with a copy of text. 0 or CAIRN_ENOMEM. */
int
cairn__replace_string(char **slot, const char *text);

/* malloc'd formatted string, or NULL on out-of-memory. */
char *
cairn__strprintf(const char *fmt, ...) CAIRN_PRINTF(1, 2);

/* Start time of process pid (clock ticks since boot, /proc/PID/stat
 * field 22), or 0 when it is not running. With the pid it identifies a
 * process even after the pid is reused. */
uint64_t
cairn__process_start(int64_t pid);

/* Monotonic and wall clocks in microseconds / milliseconds. */
uint64_t
cairn__monotonic_us(void);
uint64_t
cairn__wall_ms(void);

/* A fresh time-ordered run id into out (size >= 32): the UTC time to the
 * millisecond and 24 random bits, "20261201-214220-123-a1b2c3". Used for
 * runs started and forked without a chosen id. */
void
cairn__make_run_id(char *out, size_t size);

#endif
