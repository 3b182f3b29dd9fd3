/* log.c - the process-wide logging sink.
 *
 * The sink is installed once at program start, before any engine runs, so
 * it is read without locking (documented in log.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "cairn/log.h"

static cairn_log_fn s_sink;
static void *s_sink_userdata;

void
cairn_log_set_sink(cairn_log_fn fn, void *userdata)
{
    s_sink = fn;
    s_sink_userdata = userdata;
}

void
cairn_log(cairn_log_level_t level, const char *module, const char *fmt, ...)
{
    if (!s_sink)
        return;
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    s_sink(level, module, message, s_sink_userdata);
}
