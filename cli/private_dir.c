/* private_dir.c - the directory the cairn command keeps its sockets in,
 * and the removal of the ones killed processes left behind.
 *
 * Every socket a CLI run binds on its own (control, events, spawned
 * workers) lives in $TMPDIR/cairn-UID (/tmp/cairn-UID without TMPDIR):
 * made 0700, used only when it is a directory this user owns that nobody
 * else may enter, so no other user can connect, pre-create a name or
 * read what a run publishes. Names are NAME-PID.ipc: one run per process.
 *
 * A process killed with SIGKILL cannot remove its sockets. The first
 * time a process asks for an endpoint it sweeps the directory: a
 * NAME-PID.ipc socket is removed when no process PID exists AND nobody
 * accepts a connection on it. Both, because a pid is reused: a live
 * process with that pid keeps the file (it may be a cairn that has just
 * bound it), and a socket something listens on is never removed. Only
 * sockets are touched, never other files.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

#define S_IPC_PATH_MAX 107 /* sun_path less its NUL */

/* $TMPDIR/cairn-UID into dir when TMPDIR is an absolute path short
 * enough for our socket names, else /tmp/cairn-UID. */
static void
s_dir_name(char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    /* room left for "/cairn-UID/workers-PID.ipc" (at most ~40 bytes) */
    if (!tmp || tmp[0] != '/' || strlen(tmp) > S_IPC_PATH_MAX - 48)
        tmp = "/tmp";
    size_t len = strlen(tmp);
    while (len > 1 && tmp[len - 1] == '/')
        len--;
    snprintf(dir, size, "%.*s/cairn-%lu", (int)len, tmp,
             (unsigned long)getuid());
}

/* True when something accepts connections on the socket at path. */
static bool
s_listening(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path)
        return true; /* cannot tell: keep it */
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    int saved = errno;
    close(fd);
    return rc == 0 || saved != ECONNREFUSED;
}

/* The pid in NAME-PID.ipc, or 0 when name is not one of ours. */
static long
s_owner_pid(const char *name)
{
    const char *dash = strrchr(name, '-');
    size_t len = strlen(name);
    if (!dash || len < 5 || strcmp(name + len - 4, ".ipc") != 0)
        return 0;
    char *end;
    long pid = strtol(dash + 1, &end, 10);
    return pid > 0 && end == name + len - 4 ? pid : 0;
}

/* Removes the sockets in dir whose process is gone (see the top). */
static void
s_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        long pid = s_owner_pid(entry->d_name);
        if (pid == 0 || pid == (long)getpid()
            || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[S_IPC_PATH_MAX + 1];
        int n = snprintf(path, sizeof path, "%s/%.*s", dir,
                         (int)(sizeof path - 1), entry->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue; /* not a name we could have bound */
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)
            || st.st_uid != getuid() || s_listening(path))
            continue;
        if (unlink(path) != 0 && errno != ENOENT)
            cli_error("warning: cannot remove stale socket %s: %s", path,
                      strerror(errno));
    }
    closedir(d);
}

bool
cli_private_endpoint(char *out, size_t size, const char *name, char *why,
                     size_t why_size)
{
    static bool swept; /* once per process */
    char dir[S_IPC_PATH_MAX];
    s_dir_name(dir, sizeof dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, why_size, "cannot create %s (%s)", dir, strerror(errno));
        return false;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()
        || (st.st_mode & 0077) != 0) {
        snprintf(why, why_size, "%s is not a directory only we own", dir);
        return false;
    }
    if (!swept)
        s_sweep(dir);
    swept = true;
    int n = snprintf(out, size, "ipc://%s/%s-%ld.ipc", dir, name,
                     (long)getpid());
    if (n < 0 || (size_t)n >= size) {
        snprintf(why, why_size, "the socket path in %s is too long", dir);
        return false;
    }
    return true;
}
