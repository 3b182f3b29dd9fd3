/* util.c - small helpers shared across the library. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "base/util.h"

bool
cairn__grow(void *array_p, size_t count, size_t elem_size)
{
    /* Capacity is implied by count: the next power of two. */
    if (count != 0 && (count & (count - 1)) != 0)
        return true;
    size_t capacity = count == 0 ? 1 : count * 2;
    void *array;
    memcpy(&array, array_p, sizeof array);
    void *fresh = realloc(array, capacity * elem_size);
    if (!fresh)
        return false;
    memcpy(array_p, &fresh, sizeof fresh);
    return true;
}

void *
cairn__memdup(const void *data, size_t len)
{
    if (len == 0)
        return NULL;
    void *copy = malloc(len);
    if (copy)
        memcpy(copy, data, len);
    return copy;
}

int
cairn__replace_string(char **slot, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return CAIRN_ENOMEM;
    free(*slot);
    *slot = copy;
    return CAIRN_OK;
}

char *
cairn__strprintf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int needed = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (needed < 0)
        return NULL;
    char *text = malloc((size_t)needed + 1);
    if (!text)
        return NULL;
    va_start(args, fmt);
    vsnprintf(text, (size_t)needed + 1, fmt, args);
    va_end(args);
    return text;
}

uint64_t
cairn__process_start(int64_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *file = fopen(path, "r");
    if (!file)
        return 0;
    char line[1024];
    uint64_t start = 0;
    if (fgets(line, sizeof line, file)) {
        /* Fields after the command name, which may hold spaces. */
        const char *p = strrchr(line, ')');
        for (int field = 2; p && *p && field < 22; field++)
            p = strchr(p + 1, ' ');
        if (p)
            start = strtoull(p + 1, NULL, 10);
    }
    fclose(file);
    return start;
}

uint64_t
cairn__monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
cairn__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
cairn__ptrs_push(cairn__ptrs_t *ptrs, void *item)
{
    if (ptrs->count == ptrs->capacity) {
        size_t capacity = ptrs->capacity ? ptrs->capacity * 2 : 4;
        void **items = realloc(ptrs->items, capacity * sizeof *items);
        if (!items)
            return CAIRN_ENOMEM;
        ptrs->items = items;
        ptrs->capacity = capacity;
    }
    ptrs->items[ptrs->count++] = item;
    return CAIRN_OK;
}

void
cairn__make_run_id(char *out, size_t size)
{
    uint64_t ms = cairn__wall_ms();
    time_t seconds = (time_t)(ms / 1000u);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
    snprintf(out, size, "%s-%03u-%06x", stamp, (unsigned)(ms % 1000u),
             (unsigned)(randombytes_random() & 0xffffffu));
}

bool
cairn__buf_reserve(cairn__buf_t *self, size_t extra)
{
    if (self->cap - self->len >= extra)
        return true;
    size_t cap = self->cap ? self->cap : 64;
    while (cap - self->len < extra) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    uint8_t *data = realloc(self->data, cap);
    if (!data)
        return false;
    self->data = data;
    self->cap = cap;
    return true;
}

bool
cairn__buf_append(cairn__buf_t *self, const void *data, size_t len)
{
    if (len == 0)
        return true;
    if (!cairn__buf_reserve(self, len))
        return false;
    memcpy(self->data + self->len, data, len);
    self->len += len;
    return true;
}

void
cairn__buf_free(cairn__buf_t *self)
{
    free(self->data);
    *self = (cairn__buf_t){0};
}

/* Writes a printable preview of data into out ('?' for other bytes,
 * "..." when cut). out must hold S_PREVIEW_MAX + 4 bytes. */

int
cairn__read_fd(int fd, size_t max, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errno;
    if (S_ISDIR(st.st_mode))
        return EISDIR;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
        return EFBIG;
    /* Regular files are read in one go; pipes and the like grow, up to
     * max + 1 bytes: one more than allowed is enough to refuse. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
    size_t used = 0;
    char *buf = malloc(cap);
    int error = buf ? 0 : ENOMEM;
    while (error == 0) {
        if (used == cap - 1) {
            size_t grown_cap = cap - 1 > max / 2 ? max + 2 : cap * 2;
            char *grown = used > max ? NULL : realloc(buf, grown_cap);
            if (!grown) {
                error = used > max ? EFBIG : ENOMEM;
                break;
            }
            buf = grown;
            cap = grown_cap;
        }
        ssize_t got = read(fd, buf + used, cap - used - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            error = got < 0 ? errno : 0;
            break;
        }
        used += (size_t)got;
        if (used > max)
            error = EFBIG;
    }
    if (error != 0) {
        free(buf);
        return error;
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return 0;
}
