/* log.h - the library's one logging sink.
 *
 * The library never prints. It reports what a user may want to see
 * (rejected frames, lost peers) through cairn_log, which goes to the sink
 * the program installs (the cairn command installs one writing to stderr).
 * Without a sink, messages are dropped. czmq's own log lines (which czmq
 * would print on stdout) come through the sink too, as module "czmq",
 * once an engine or worker has started, with their 'quoted' parts
 * removed (base/log.c).
 */
#ifndef CAIRN_LOG_H_INCLUDED
#define CAIRN_LOG_H_INCLUDED

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CAIRN_LOG_ERROR = 0,
    CAIRN_LOG_WARN,
    CAIRN_LOG_INFO,
    CAIRN_LOG_DEBUG,
} cairn_log_level_t;

typedef void (*cairn_log_fn)(cairn_log_level_t level, const char *module,
                             const char *message, void *userdata);

/* Installs the sink (NULL removes it). Call before starting engines: the
 * sink is process-wide and read without locking. The sink itself must be
 * thread-safe; it is called from host threads too. */
CAIRN_EXPORT void
cairn_log_set_sink(cairn_log_fn fn, void *userdata);

CAIRN_EXPORT void
cairn_log(cairn_log_level_t level, const char *module, const char *fmt, ...)
    CAIRN_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif
#endif
