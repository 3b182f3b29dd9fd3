/* faultshim.c - an LD_PRELOAD library that makes a store's disk fail.
 *
 * RocksDB 7.8.3's C API has no custom Env, so storage faults are injected
 * below it, at the libc calls its PosixEnv makes. Only files under
 * CAIRN_FAULT_DIR are touched (the path of each fd is read from
 * /proc/self/fd); everything else writes as usual.
 *
 *   CAIRN_FAULT_DIR=D          the directory whose files fail (required)
 *   CAIRN_FAULT_WAL_WRITE=K    the K-th write (from 1) to a write-ahead log
 *                              file (D/NNNNNN.log) writes half its bytes and
 *                              returns the short count, like a disk that
 *                              has just filled; from then on every write,
 *                              sync and allocation under D fails
 *   CAIRN_FAULT_TRIGGER=F      while file F exists, every write, sync and
 *                              allocation under D fails
 *   CAIRN_FAULT_ERRNO=N        the errno of a failure (default ENOSPC)
 *   CAIRN_FAULT_TRACE=F        appends one line per write under D to F:
 *                              "wal|other BYTES NAME"
 *
 * Thread-safe: the counters are atomics; RocksDB writes from its own
 * threads too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long s_wal_writes; /* writes to WAL files so far */
static atomic_bool s_full;       /* the disk has filled */

/* Whether fd is a file under CAIRN_FAULT_DIR; *wal: a WAL file. */
static bool
s_watched(int fd, bool *wal, char *name, size_t name_size)
{
    const char *dir = getenv("CAIRN_FAULT_DIR");
    if (!dir || !*dir)
        return false;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return false;
    path[n] = '\0';
    char real[4096];
    const char *root = realpath(dir, real) ? real : dir;
    size_t len = strlen(root);
    if (strncmp(path, root, len) != 0 || path[len] != '/')
        return false;
    const char *base = strrchr(path, '/') + 1;
    size_t blen = strlen(base);
    *wal = blen > 4 && strcmp(base + blen - 4, ".log") == 0;
    snprintf(name, name_size, "%s", base);
    return true;
}

static int
s_errno(void)
{
    const char *e = getenv("CAIRN_FAULT_ERRNO");
    return e ? atoi(e) : ENOSPC;
}

static bool
s_triggered(void)
{
    const char *trigger = getenv("CAIRN_FAULT_TRIGGER");
    struct stat st;
    return atomic_load(&s_full) || (trigger && stat(trigger, &st) == 0);
}

/* Decides a write of len bytes to fd: returns the bytes to let through
 * (len, fewer, or -1 for a failure with errno set). */
static ssize_t
s_decide(int fd, size_t len)
{
    bool wal = false;
    char name[256];
    if (!s_watched(fd, &wal, name, sizeof name))
        return (ssize_t)len;
    const char *trace = getenv("CAIRN_FAULT_TRACE");
    if (trace) {
        FILE *f = fopen(trace, "a");
        if (f) {
            fprintf(f, "%s %zu %s\n", wal ? "wal" : "other", len, name);
            fclose(f);
        }
    }
    if (s_triggered()) {
        errno = s_errno();
        return -1;
    }
    const char *k = getenv("CAIRN_FAULT_WAL_WRITE");
    if (wal && k && atomic_fetch_add(&s_wal_writes, 1) + 1 == atol(k)) {
        atomic_store(&s_full, true);
        if (len / 2 == 0) {
            errno = s_errno();
            return -1;
        }
        return (ssize_t)(len / 2);
    }
    return (ssize_t)len;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t
write(int fd, const void *buf, size_t len)
{
    ssize_t allowed = s_decide(fd, len);
    return allowed < 0 ? -1 : REAL(write)(fd, buf, (size_t)allowed);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t offset)
{
    ssize_t allowed = s_decide(fd, len);
    return allowed < 0 ? -1 : REAL(pwrite)(fd, buf, (size_t)allowed, offset);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t offset)
{
    ssize_t allowed = s_decide(fd, len);
    return allowed < 0 ? -1 : REAL(pwrite64)(fd, buf, (size_t)allowed, offset);
}

ssize_t
writev(int fd, const struct iovec *iov, int count)
{
    size_t len = 0;
    for (int i = 0; i < count; i++)
        len += iov[i].iov_len;
    ssize_t allowed = s_decide(fd, len);
    if (allowed < 0)
        return -1;
    if ((size_t)allowed == len)
        return REAL(writev)(fd, iov, count);
    return REAL(write)(fd, iov[0].iov_base,
                       (size_t)allowed < iov[0].iov_len ? (size_t)allowed
                                                        : iov[0].iov_len);
}

/* Syncs and allocations fail once the disk is full. */
static int
s_sync_fails(int fd)
{
    bool wal;
    char name[256];
    if (s_watched(fd, &wal, name, sizeof name) && s_triggered()) {
        errno = s_errno();
        return 1;
    }
    return 0;
}

int
fsync(int fd)
{
    return s_sync_fails(fd) ? -1 : REAL(fsync)(fd);
}

int
fdatasync(int fd)
{
    return s_sync_fails(fd) ? -1 : REAL(fdatasync)(fd);
}

int
fallocate(int fd, int mode, off_t offset, off_t len)
{
    return s_sync_fails(fd) ? -1 : REAL(fallocate)(fd, mode, offset, len);
}

int
fallocate64(int fd, int mode, off_t offset, off_t len)
{
    return s_sync_fails(fd) ? -1 : REAL(fallocate64)(fd, mode, offset, len);
}
