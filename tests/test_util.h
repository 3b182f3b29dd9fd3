/* test_util.h - small helpers every test program wants: a sleep, removing
 * a temporary directory tree, reading a whole file, a loopback TCP port of
 * its own. Header-only (static inline), so each test executable takes
 * only what it uses. */
#ifndef CAIRN_TEST_UTIL_H_INCLUDED
#define CAIRN_TEST_UTIL_H_INCLUDED

#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Whether a listener could bind 127.0.0.1:port now (as libzmq binds:
 * SO_REUSEADDR). */
static inline int
test_port_bindable(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

/* A loopback TCP port in [10000, 20000) that no other test process (of
 * any executable using this, CTest shards included) holds: each port is
 * claimed with an flock on /tmp/cairn-test-ports/PORT, held until this
 * process exits, and must be bindable when claimed. Ports derived from
 * pids collided between test_cli's shards, whose pids are near each
 * other. Below the kernel's ephemeral range (32768 and up), where a
 * reconnecting worker gets its local port. -1 when none is free. */
static inline int
test_port(void)
{
    static int next;
    const char *dir = "/tmp/cairn-test-ports";
    mkdir(dir, 01777);
    int start = (int)(getpid() % 10000);
    for (int i = 0; i < 10000; i++) {
        int port = 10000 + (start + next++) % 10000;
        char path[64];
        snprintf(path, sizeof path, "%s/%d", dir, port);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && test_port_bindable(port))
            return port; /* fd stays open: the claim lasts our lifetime */
        close(fd);
    }
    return -1;
}

#endif
