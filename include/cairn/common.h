/* common.h - export macro and attributes shared by every public header.
 *
 * The library is built with -fvisibility=hidden; only symbols marked
 * CAIRN_EXPORT are part of the public API.
 */
#ifndef CAIRN_COMMON_H_INCLUDED
#define CAIRN_COMMON_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CAIRN_EXPORT __attribute__((visibility("default")))
#define CAIRN_WARN_UNUSED __attribute__((warn_unused_result))
#define CAIRN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CAIRN_EXPORT
#define CAIRN_WARN_UNUSED
#define CAIRN_PRINTF(fmt, args)
#endif

#endif
