/* util.c - small helpers shared across the library. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>

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
