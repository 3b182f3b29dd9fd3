/* test_util.h - small helpers every test program wants: a sleep, removing
 * a temporary directory tree, reading a whole file. Header-only (static
 * inline), so each test executable takes only what it uses. */
#ifndef CAIRN_TEST_UTIL_H_INCLUDED
#define CAIRN_TEST_UTIL_H_INCLUDED

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline void
test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline int
test_remove_entry(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it (symlinks are not followed). */
static inline void
test_remove_tree(const char *dir)
{
    nftw(dir, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole file, NUL-terminated (malloc'd, caller frees), its length
 * without the NUL in *len when len is not NULL; NULL when it cannot be
 * opened or read. */
static inline char *
test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, (cap *= 2) + 1);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

#endif
