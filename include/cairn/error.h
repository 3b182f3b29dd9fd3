/* error.h - error codes and the detailed error record.
 *
 * Every function that can fail returns int: 0 on success, a negative
 * CAIRN_E* code on failure. Where a caller needs more than the code (which
 * executor, which edge, which key), the function also fills a cairn_error_t.
 */
#ifndef CAIRN_ERROR_H_INCLUDED
#define CAIRN_ERROR_H_INCLUDED

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XX(NAME, value, description) */
#define CAIRN_ERRNO_MAP(XX)                                                    \
    XX(NOMEM, -1, "out of memory")                                             \
    XX(INVAL, -2, "invalid argument")                                          \
    XX(NOTFOUND, -3, "not found")                                              \
    XX(EXISTS, -4, "already exists")                                           \
    XX(TOOLARGE, -5, "message too large")                                      \
    XX(PROTO, -6, "malformed or unexpected protocol frame")                    \
    XX(TRANSPORT, -7, "transport (ZeroMQ) failure")                            \
    XX(HANDLER, -8, "executor handler failed")                                 \
    XX(MAXSTEPS, -9, "maximum number of supersteps reached")                   \
    XX(VALIDATION, -10, "workflow validation failed")                          \
    XX(STORE, -11, "storage failure")                                          \
    XX(CORRUPT, -12, "corrupt data")                                           \
    XX(LOCKED, -13, "store is in use by another process")                      \
    XX(SIGNATURE, -14, "workflow signature mismatch")                          \
    XX(STATE, -15, "operation not allowed in the current state")              \
    XX(FORMAT, -16, "store format is newer than this cairn supports")

enum cairn_err {
    CAIRN_OK = 0,
#define CAIRN_XX_ENUM(name, value, text) CAIRN_E##name = (value),
    CAIRN_ERRNO_MAP(CAIRN_XX_ENUM)
#undef CAIRN_XX_ENUM
};

/* A detailed error: the code plus a message naming what was wrong and
 * where. Plain struct so callers can keep it on the stack. */
typedef struct {
    int code;           /* CAIRN_OK or a CAIRN_E* code */
    char message[512];  /* NUL-terminated, "" when code is CAIRN_OK */
} cairn_error_t;

/* Describes an error code in words ("out of memory"); never NULL. */
CAIRN_EXPORT const char *
cairn_strerror(int code);

/* The symbolic name of an error code ("CAIRN_ENOMEM"); never NULL. */
CAIRN_EXPORT const char *
cairn_err_name(int code);

/* Fills err (if not NULL) with code and a formatted message; returns code
 * so callers can write `return cairn_error_set(err, CAIRN_EINVAL, ...)`. */
CAIRN_EXPORT int
cairn_error_set(cairn_error_t *err, int code, const char *fmt, ...)
    CAIRN_PRINTF(3, 4);

/* Resets err to CAIRN_OK with an empty message. Accepts NULL. */
CAIRN_EXPORT void
cairn_error_clear(cairn_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
