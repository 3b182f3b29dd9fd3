/* log.c - the process-wide logging sink, and czmq's log routed into it.
 *
 * The sink is installed once at program start, before any engine runs, so
 * it is read without locking (documented in log.h).
 *
 * czmq logs to stdout, which would mix its lines into a command's
 * outputs, in two ways: zsys_error() and friends write to the log stream
 * (stdout once zsys_init ran), and zconfig, which parses key files,
 * calls the old zclock_log(), which always prints to stdout. So
 * cairn__log_capture_czmq gives czmq a stream of ours (a glibc cookie
 * stream), and this file defines zclock_log, which takes the place of
 * czmq's (a call from libczmq goes through its PLT to the first
 * definition: the program's). Both end in the sink as module "czmq", at
 * the level of czmq's letter, with every 'quoted' span removed: czmq
 * quotes the bytes it chokes on (zconfig: invalid syntax 'SECRET=...'
 * for a file in --allow-keys that is not a key), and a log line must
 * never echo a file's contents.
 */
/* fopencookie: _GNU_SOURCE comes from the build */
#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cairn/log.h"
#include "base/log_internal.h"

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

/* ---- czmq's log -------------------------------------------------------------
 */

#define S_CZMQ_LINE_MAX 1024

/* The line czmq is writing; only touched by s_czmq_write, which runs
 * under the stream's lock. */
static char s_czmq_line[S_CZMQ_LINE_MAX];
static size_t s_czmq_used;

/* The level of czmq's letter (E, W, N, I, D), or -1. */
static int
s_czmq_level(char letter)
{
    switch (letter) {
    case 'E':
        return CAIRN_LOG_ERROR;
    case 'W':
        return CAIRN_LOG_WARN;
    case 'N':
    case 'I':
        return CAIRN_LOG_INFO;
    case 'D':
        return CAIRN_LOG_DEBUG;
    default:
        return -1;
    }
}

/* Passes one line of czmq's ("L message", the time stamp removed) to
 * the sink, its quoted spans replaced by '...'. */
static void
s_czmq_emit(const char *line)
{
    cairn_log_level_t level = CAIRN_LOG_WARN;
    if (line[0] && line[1] == ' ' && s_czmq_level(line[0]) >= 0) {
        level = (cairn_log_level_t)s_czmq_level(line[0]);
        line += 2;
    }
    char message[S_CZMQ_LINE_MAX];
    size_t used = 0;
    for (const char *at = line; *at && used + 6 < sizeof message; at++) {
        const char *close = *at == '\'' ? strchr(at + 1, '\'') : NULL;
        if (close) {
            memcpy(message + used, "'...'", 5);
            used += 5;
            at = close;
        } else {
            message[used++] = *at;
        }
    }
    message[used] = '\0';
    cairn_log(level, "czmq", "%s", message);
}

static ssize_t
s_czmq_write(void *cookie, const char *data, size_t size)
{
    (void)cookie;
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '\n') {
            if (s_czmq_used < sizeof s_czmq_line - 1)
                s_czmq_line[s_czmq_used++] = data[i];
            continue;
        }
        s_czmq_line[s_czmq_used] = '\0';
        /* "YY-MM-DD HH:MM:SS " first: 18 characters */
        if (s_czmq_used > 18 && s_czmq_line[17] == ' ')
            s_czmq_emit(s_czmq_line + 18);
        else if (s_czmq_used > 0)
            s_czmq_emit(s_czmq_line);
        s_czmq_used = 0;
    }
    return (ssize_t)size;
}

void
cairn__log_capture_czmq(void)
{
    static FILE *stream; /* for the life of the process */
    if (!stream) {
        cookie_io_functions_t io = {.write = s_czmq_write};
        stream = fopencookie(NULL, "w", io);
        if (stream)
            setvbuf(stream, NULL, _IOLBF, 0);
    }
    /* Without our stream, nothing rather than stdout. */
    zsys_set_logstream(stream);
}

/* czmq's deprecated zclock_log ("E (zconfig): ..." lines), in place of
 * the one that prints to stdout; see the top of the file. */
__attribute__((visibility("default"))) void
zclock_log(const char *format, ...)
{
    char line[S_CZMQ_LINE_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    s_czmq_emit(line);
}
