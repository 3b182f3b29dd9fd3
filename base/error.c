/* error.c - error codes in words, and the detailed error record.
 *
 * The code table comes from CAIRN_ERRNO_MAP so the enum, the names and the
 * descriptions can never drift apart.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cairn/error.h"

const char *
cairn_strerror(int code)
{
    switch (code) {
    case CAIRN_OK:
        return "success";
#define XX(name, value, text)                                                  \
    case CAIRN_E##name:                                                        \
        return text;
        CAIRN_ERRNO_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *
cairn_err_name(int code)
{
    switch (code) {
    case CAIRN_OK:
        return "CAIRN_OK";
#define XX(name, value, text)                                                  \
    case CAIRN_E##name:                                                        \
        return "CAIRN_E" #name;
        CAIRN_ERRNO_MAP(XX)
#undef XX
    default:
        return "CAIRN_EUNKNOWN";
    }
}

int
cairn_error_set(cairn_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list args;
        va_start(args, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, args);
        va_end(args);
    }
    return code;
}

void
cairn_error_clear(cairn_error_t *err)
{
    if (err) {
        err->code = CAIRN_OK;
        err->message[0] = '\0';
    }
}
