/* test_cli_sockets_io - the real `cairn` command: the sockets a CLI run binds
 * (private directory, owner-only, stale ones swept, SIGHUP) and for what
 * the command reads and writes (bounded input, czmq's log off stdout,
 * bounded predicate nesting).
 *
 * The socket tests set TMPDIR to a directory of their own so that the
 * private directory ($TMPDIR/cairn-UID) is theirs alone: other test
 * programs running at the same time keep theirs in /tmp/cairn-UID.
 * tc_setup unsets it.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "tests/cli/cli_harness.h"
#include "tests/test_util.h"

#include <arpa/inet.h>

#include <netinet/in.h>

#include <sys/socket.h>

/* Sleeps MS milliseconds in one superstep, then outputs the input. */
#define SLEEP_SPEC(ms)                                                         \
    "{\"name\": \"nap\", \"start\": \"pace\",\n"                               \
    " \"executors\": [\n"                                                      \
    "   {\"id\": \"pace\", \"type\": \"util.sleep\", \"config\": {\"ms\": "    \
    #ms "}},\n"                                                                \
    "   {\"id\": \"out\", \"type\": \"text.output\"}],\n"                      \
    " \"edges\": [{\"from\": \"pace\", \"to\": \"out\"}]}\n"

/* What the tc_before_exec hooks of these tests use (set before tc_start). */
static char s_sio_hook_path[128];

/* Gives this test a TMPDIR of its own; returns it. */
static const char *
s_sio_tmpdir(void)
{
    const char *tmp = tc_path("t");
    assert_int_equal(mkdir(tmp, 0700), 0);
    assert_int_equal(setenv("TMPDIR", tmp, 1), 0);
    return tmp;
}

/* The socket file NAME-PID.ipc in the private directory under tmp. */
static const char *
s_sio_socket(const char *tmp, const char *name, pid_t pid)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/cairn-%lu/%s-%ld.ipc", tmp,
                         (unsigned long)getuid(), name, (long)pid)
                > 0);
    return tc_keep(path);
}

/* Waits (bounded) until path exists while p runs. */
static void
s_sio_wait_path(const tc_proc_t *p, const char *path)
{
    uint64_t deadline = th_now_ms() + TC_TIMEOUT_S * 1000;
    while (!tc_exists(path)) {
        if (!tc_alive(p))
            fail_msg("cairn ended before %s appeared", path);
        if (th_now_ms() > deadline)
            fail_msg("%s never appeared", path);
        usleep(10000);
    }
}

static mode_t
s_sio_mode(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode;
}

static void
s_sio_umask0(void)
{
    umask(0);
}

/* Under umask 000 the run's sockets are still 0600 sockets in a 0700
 * directory, and they are gone when it ends. */
static void
test_cli_sockets_private_under_umask0(void **state)
{
    (void)state;
    const char *tmp = s_sio_tmpdir();
    const char *spec = tc_spec("nap.json", SLEEP_SPEC(3000));
    tc_before_exec = s_sio_umask0;
    tc_proc_t p;
    tc_start(&p, "run", spec, "--input", "hi", "--db", tc_path("db"), NULL);
    const char *events = s_sio_socket(tmp, "events", p.pid);
    const char *ctl = s_sio_socket(tmp, "ctl", p.pid);
    /* the run announces itself after both sockets are bound and made
     * 0600 (bind, then chmod: in between only the 0700 directory
     * guards them) */
    s_sio_wait_path(&p, events);
    s_sio_wait_path(&p, ctl);
    tc_wait_stderr(&p, "run ");
    assert_true(S_ISSOCK(s_sio_mode(events)));
    assert_int_equal(s_sio_mode(events) & 0777, 0600);
    assert_int_equal(s_sio_mode(ctl) & 0777, 0600);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/cairn-%lu", tmp, (unsigned long)getuid());
    assert_true(S_ISDIR(s_sio_mode(dir)));
    assert_int_equal(s_sio_mode(dir) & 0777, 0700);
    tc_result_t r = {0};
    tc_wait(&p, &r);
    tc_expect(&r, 0, "hi\n", NULL);
    assert_false(tc_exists(events));
    assert_false(tc_exists(ctl));
}

static void
s_sio_take_old_path(void)
{
    /* a directory: even root's libzmq cannot remove it to bind there */
    char path[96];
    snprintf(path, sizeof path, "/tmp/cairn-events-%u-%ld.ipc",
             (unsigned)getuid(), (long)getpid());
    mkdir(path, 0700);
}

/* What another user may create in /tmp no longer stops a run. */
static void
test_cli_sockets_old_events_path_taken(void **state)
{
    (void)state;
    tc_before_exec = s_sio_take_old_path;
    tc_proc_t p;
    tc_start(&p, "run", PIPELINE, "--input", "abc", "--durability", "none",
            NULL);
    tc_result_t r = {0};
    tc_wait(&p, &r);
    char path[96];
    snprintf(path, sizeof path, "/tmp/cairn-events-%u-%ld.ipc",
             (unsigned)getuid(), (long)p.pid);
    rmdir(path);
    tc_expect(&r, 0, "cba\n", NULL);
}

static void
s_sio_block_events_socket(void)
{
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/cairn-%lu", s_sio_hook_path,
             (unsigned long)getuid());
    snprintf(path, sizeof path, "%s/events-%ld.ipc", dir, (long)getpid());
    mkdir(dir, 0700);
    mkdir(path, 0700);
}

/* An events endpoint that cannot be bound is warned about and the run
 * completes: the default one (something that is not a socket is where
 * it goes) and a given one (its tcp port is taken). */
static void
test_cli_sockets_events_bind_failure_warns(void **state)
{
    (void)state;
    const char *tmp = s_sio_tmpdir();
    snprintf(s_sio_hook_path, sizeof s_sio_hook_path, "%s", tmp);
    tc_before_exec = s_sio_block_events_socket;
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "abc", "--db", tc_path("db"),
            NULL);
    tc_expect(&r, 0, "cba\n", "not publishing events");
    tc_before_exec = NULL;

    int port = test_port();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 1), 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    tc_cairn(&r, "run", PIPELINE, "--input", "abc", "--durability", "none",
            "--events-endpoint", endpoint, NULL);
    close(fd);
    tc_expect(&r, 0, "cba\n", "not publishing events");
}

/* --events-endpoint ipc://FILE never removes a FILE that is not a
 * socket: refused before anything is written. */
static void
test_cli_sockets_events_endpoint_not_socket(void **state)
{
    (void)state;
    const char *notes = tc_path("notes.txt");
    th_write(notes, "my notes\n", 9);
    const char *db = tc_path("db");
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "ipc://%s", notes);
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "abc", "--db", db,
            "--events-endpoint", endpoint, NULL);
    tc_expect(&r, 2, "", "exists and is not a socket");
    assert_non_null(strstr(r.err, notes));
    size_t len;
    assert_string_equal(tc_slurp(notes, &len), "my notes\n");
    assert_false(tc_exists(db));
    const char *dir = tc_path("adir");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(endpoint, sizeof endpoint, "ipc://%s", dir);
    tc_cairn(&r, "run", PIPELINE, "--input", "abc", "--db", db,
            "--events-endpoint", endpoint, NULL);
    tc_expect(&r, 2, "", "exists and is not a socket");
    assert_true(S_ISDIR(s_sio_mode(dir)));
}

/* The sockets of runs killed with SIGKILL are removed when the next run
 * starts; a live run's and files that are not sockets stay. */
static void
test_cli_sockets_stale_swept(void **state)
{
    (void)state;
    const char *tmp = s_sio_tmpdir();
    const char *spec = tc_spec("nap.json", SLEEP_SPEC(60000));
    tc_result_t r = {0};
    const char *stale[6];
    pid_t dead = 0;
    for (int i = 0; i < 3; i++) {
        char db[16];
        snprintf(db, sizeof db, "db%d", i);
        tc_proc_t victim;
        tc_start(&victim, "run", spec, "--input", "x", "--db", tc_path(db),
                NULL);
        stale[2 * i] = s_sio_socket(tmp, "events", victim.pid);
        stale[2 * i + 1] = s_sio_socket(tmp, "ctl", victim.pid);
        s_sio_wait_path(&victim, stale[2 * i]);
        s_sio_wait_path(&victim, stale[2 * i + 1]);
        assert_int_equal(kill(victim.pid, SIGKILL), 0);
        tc_wait(&victim, &r);
        assert_int_equal(r.code, 128 + SIGKILL);
        assert_true(tc_exists(stale[2 * i]));
        dead = victim.pid;
    }
    /* named like ours, with a dead pid, but not a socket */
    const char *plain = s_sio_socket(tmp, "workers", dead);
    th_write(plain, "x", 1);

    tc_proc_t live;
    tc_start(&live, "run", spec, "--input", "x", "--db", tc_path("live"),
            NULL);
    const char *live_events = s_sio_socket(tmp, "events", live.pid);
    const char *live_ctl = s_sio_socket(tmp, "ctl", live.pid);
    s_sio_wait_path(&live, live_events);
    s_sio_wait_path(&live, live_ctl);
    tc_cairn(&r, "run", PIPELINE, "--input", "abc", "--db", tc_path("next"),
            NULL);
    tc_expect(&r, 0, "cba\n", NULL);
    for (int i = 0; i < 6; i++)
        if (tc_exists(stale[i]))
            fail_msg("stale socket %s was not removed", stale[i]);
    assert_true(tc_exists(plain));
    assert_true(S_ISSOCK(s_sio_mode(live_events)));
    assert_true(S_ISSOCK(s_sio_mode(live_ctl)));
    assert_int_equal(kill(live.pid, SIGKILL), 0);
    tc_wait(&live, &r);
}

/* SIGHUP (the terminal went away) pauses like SIGINT and SIGTERM. */
static void
test_cli_sockets_sighup_pauses(void **state)
{
    (void)state;
    tc_signal_pauses(SIGHUP);
}

/* ---- reading input ---- */

static void
s_sio_stdin_zero(void)
{
    int fd = open("/dev/zero", O_RDONLY);
    if (fd >= 0)
        dup2(fd, 0);
}

/* A directory is not input, and neither is more than a message may
 * hold: reading stops one byte past the limit. */
static void
test_cli_input_directory_and_endless(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input-file", tc_dir, "--db", db, NULL);
    tc_expect(&r, 2, "", "Is a directory");
    assert_false(tc_exists(db));
    tc_cairn(&r, "run", PIPELINE, "--input-file", "/dev/zero", "--db", db,
            NULL);
    tc_expect(&r, 2, "",
             "run input on /dev/zero of more than 16777216 bytes exceeds the "
             "maximum message size of 16777216 bytes");
    assert_false(tc_exists(db));
    tc_before_exec = s_sio_stdin_zero;
    tc_cairn(&r, "run", PIPELINE, "--db", db, NULL);
    tc_expect(&r, 2, "", "run input on stdin of more than 16777216 bytes");
    tc_before_exec = NULL;
    assert_false(tc_exists(db));
    /* one byte over the limit from a file */
    const char *big = tc_path("big");
    FILE *f = fopen(big, "wb");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)(16 * 1024 * 1024), SEEK_SET), 0);
    assert_int_equal(fputc('x', f), 'x');
    assert_int_equal(fclose(f), 0);
    tc_cairn(&r, "run", PIPELINE, "--input-file", big, "--db", db, NULL);
    tc_expect(&r, 2, "", "run input of 16777217 bytes exceeds");
    /* the other file readers: spec, import */
    tc_cairn(&r, "run", "/dev/zero", "--db", db, NULL);
    tc_expect(&r, 2, "", "too large for a spec");
    tc_cairn(&r, "run", tc_dir, "--db", db, NULL);
    tc_expect(&r, 2, "", "Is a directory");
    tc_cairn(&r, "import", tc_dir, "--db", db, NULL);
    tc_expect(&r, 2, "", "Is a directory");
    assert_false(tc_exists(db));
    tc_cairn(&r, "import", "/dev/zero", "--db", db, NULL);
    tc_expect(&r, 2, "", "not a cairn export");
}

/* ---- czmq's log ---- */

/* A file in --allow-keys that is not a key: stdout is exactly the
 * outputs, and nothing echoes what the file holds. */
static void
test_cli_czmq_log_off_stdout(void **state)
{
    (void)state;
    const char *keys = tc_path("keys");
    tc_result_t r = {0};
    tc_cairn(&r, "keygen", keys, NULL);
    tc_expect(&r, 0, NULL, NULL);
    const char *allow = tc_path("allow");
    assert_int_equal(mkdir(allow, 0700), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/key.pub", keys);
    size_t len;
    const char *public_key = tc_slurp(path, &len);
    snprintf(path, sizeof path, "%s/worker.pub", allow);
    th_write(path, public_key, len);
    snprintf(path, sizeof path, "%s/secrets.env", allow);
    th_write(path, "export SECRET=hunter2\n", 22);
    char secret[256], endpoint[64];
    snprintf(secret, sizeof secret, "%s/key", keys);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_port());
    /* czmq 4.2.1's zconfig_load leaks its zfile on a file it cannot
     * parse (once for our check, once for zauth's store): not ours, so
     * a sanitizer build is told to overlook czmq's leaks here. */
    const char *supp = tc_path("lsan.supp");
    th_write(supp, "leak:libczmq.so\n", 16);
    char lsan[160];
    snprintf(lsan, sizeof lsan, "suppressions=%s:print_suppressions=0", supp);
    assert_int_equal(setenv("LSAN_OPTIONS", lsan, 1), 0);
    tc_cairn(&r, "run", PIPELINE, "--input", "abc", "--durability", "none",
            "--listen", endpoint, "--curve-secret", secret, "--allow-keys",
            allow, NULL);
    unsetenv("LSAN_OPTIONS");
    tc_expect(&r, 0, "cba\n", "secrets.env is not a CURVE public key file");
    assert_null(strstr(r.err, "hunter2"));
}

/* ---- predicate nesting ---- */

/* A spec whose edge condition is n "not" around {"eq": "x"}. */
static const char *
s_sio_deep_spec(int n)
{
    size_t size = (size_t)n * 9 + 512;
    char *text = tc_keep(malloc(size));
    size_t used = (size_t)snprintf(
        text, size,
        "{\"name\": \"deep\", \"start\": \"a\", \"executors\": "
        "[{\"id\": \"a\", \"type\": \"text.upper\"}, "
        "{\"id\": \"b\", \"type\": \"text.output\"}], "
        "\"edges\": [{\"from\": \"a\", \"to\": \"b\", \"when\": ");
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, size - used, "{\"not\": ");
    used += (size_t)snprintf(text + used, size - used, "{\"eq\": \"X\"}");
    for (int i = 0; i < n; i++)
        text[used++] = '}';
    snprintf(text + used, size - used, "}]}\n");
    char name[32];
    snprintf(name, sizeof name, "deep%d.json", n);
    return tc_spec(name, text);
}

/* not / all / any nest at most 64 deep: 64 runs, 65 and 2,000 are
 * refused naming the condition's path (2,000 used to cost seconds and
 * hundreds of MB). */
static void
test_cli_predicate_depth_bounded(void **state)
{
    (void)state;
    tc_result_t r = {0};
    /* an even number of "not": the edge is taken for input x */
    tc_cairn(&r, "run", s_sio_deep_spec(64), "--input", "x", "--durability",
            "none", NULL);
    tc_expect(&r, 0, "X\n", NULL);
    tc_cairn(&r, "run", s_sio_deep_spec(65), "--input", "x", "--durability",
            "none", NULL);
    tc_expect(&r, 2, "", "edges[0].when");
    assert_non_null(strstr(r.err, "deeper than 64"));
    uint64_t start = th_now_ms();
    tc_cairn(&r, "run", s_sio_deep_spec(2000), "--input", "x", "--durability",
            "none", NULL);
    tc_expect(&r, 2, "", "edges[0].when");
    assert_non_null(strstr(r.err, "deeper than 64"));
    /* generous for a loaded machine: it takes well under 1 s */
    assert_true(th_now_ms() - start < 20000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_sockets_private_under_umask0),
        TC_TEST(test_cli_sockets_old_events_path_taken),
        TC_TEST(test_cli_sockets_events_bind_failure_warns),
        TC_TEST(test_cli_sockets_events_endpoint_not_socket),
        TC_TEST(test_cli_sockets_stale_swept),
        TC_TEST(test_cli_sockets_sighup_pauses),
        TC_TEST(test_cli_input_directory_and_endless),
        TC_TEST(test_cli_czmq_log_off_stdout),
        TC_TEST(test_cli_predicate_depth_bounded),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
