/* test_cli_workers - `cairn run` with worker processes: spawned workers
 * (with and without CURVE) leave nothing behind, workers rejoin a
 * restarted coordinator, placement by labels and worker-only types,
 * executor_moved events when a worker is lost.
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

#include "tests/cli/cli_harness.h"
#include "tests/test_util.h"

/* The distinct pids of the spawned workers (their ids are worker-PID-...)
 * that joined, from --events output, into pids (room for 16). A worker
 * taken for lost on a slow machine may join twice: counted once. */
static int
s_spawned_pids(const char *events, long *pids)
{
    int distinct = 0;
    for (const char *line = events; line && *line;) {
        const char *end = strchr(line, '\n');
        const char *detail = strstr(line, "\"detail\":\"worker-");
        if (strstr(line, "\"event\":\"worker_joined\"") && detail
            && (!end || detail < end)) {
            long pid = strtol(detail + strlen("\"detail\":\"worker-"), NULL,
                              10);
            assert_true(pid > 0);
            bool seen = false;
            for (int i = 0; i < distinct; i++)
                seen = seen || pids[i] == pid;
            if (!seen && distinct < 16)
                pids[distinct++] = pid;
        }
        line = end ? end + 1 : NULL;
    }
    return distinct;
}

/* --spawn-workers 2: the run uses two local worker processes (their
 * pids are in their ids, announced by worker_joined events) and none of
 * them is left once cairn exits. */
static void
test_cli_spawn_workers_leave_nothing_behind(void **state)
{
    (void)state;
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hello world", "--db",
            tc_path("db"), "--spawn-workers", "2", "--events", NULL);
    tc_expect(&r, 0, "dlrow olleh\n", NULL);
    long pids[16];
    int distinct = s_spawned_pids(r.err, pids);
    assert_int_equal(distinct, 2);
    /* Reaped by cairn before it exited: no such process now. */
    for (int i = 0; i < distinct; i++)
        assert_int_equal(kill((pid_t)pids[i], 0), -1);
    assert_non_null(strstr(r.err, "\"event\":\"worker_joined\""));
}

/* --spawn-workers 2 beside a CURVE --listen: the spawned workers join
 * over their private ipc endpoint, which asks for no key, and a remote
 * worker with a listed key over tcp; a remote worker without a key is
 * refused (and says so), the output is the in-process one, and no
 * spawned worker or socket file is left behind. */
static void
test_cli_spawn_workers_with_curve(void **state)
{
    (void)state;
    const char *spec = tc_spec("slow.json", SLOW_SPEC(30));
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
            NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *expected = tc_json(r.out);

    const char *server = tc_path("server"), *listed = tc_path("listed");
    tc_cairn(&r, "keygen", server, NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "keygen", listed, NULL);
    tc_expect(&r, 0, NULL, NULL);
    const char *allow = tc_path("allow");
    assert_int_equal(mkdir(allow, 0700), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/key.pub", listed);
    size_t len;
    const char *listed_public = tc_slurp(path, &len);
    snprintf(path, sizeof path, "%s/listed.pub", allow);
    th_write(path, listed_public, len);
    char secret[256], listed_secret[256], server_public[256];
    snprintf(secret, sizeof secret, "%s/key", server);
    snprintf(listed_secret, sizeof listed_secret, "%s/key", listed);
    snprintf(server_public, sizeof server_public, "%s/key.pub", server);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_port());

    /* The workers are up and connecting before the coordinator starts,
     * and it waits for all three as long as it takes (bounded): on a
     * loaded machine their start-up alone could outlast the default 10 s
     * wait, or the whole run, and the run went on without them. */
    tc_proc_t coordinator, remote, rogue;
    tc_start(&remote, "worker", "--connect", endpoint, "--id", "remote",
            "--curve-secret", listed_secret, "--server-key", server_public,
            "--give-up-after", "30", NULL);
    tc_start(&rogue, "worker", "--connect", endpoint, "--id", "rogue",
            "--give-up-after", "30", NULL);
    tc_wait_stderr(&remote, "worker connecting to");
    tc_wait_stderr(&rogue, "worker connecting to");
    tc_start(&coordinator, "run", spec, "--input", "0", "--durability", "none",
            "--json", "--events", "--spawn-workers", "2", "--min-workers", "3",
            "--worker-wait-ms", TC_WORKER_WAIT_MS, "--listen", endpoint,
            "--curve-secret", secret, "--allow-keys", allow, NULL);
    tc_wait(&rogue, &r);
    tc_expect(&r, 1, "", "refused the connection");
    tc_wait(&coordinator, &r);
    tc_expect(&r, 0, NULL, "refused a worker connection");
    json_t *got = tc_json(r.out);
    tc_assert_same_run(got, expected);
    assert_non_null(strstr(r.err, "\"detail\":\"remote\""));
    assert_null(strstr(r.err, "\"detail\":\"rogue\""));
    long pids[16];
    int distinct = s_spawned_pids(r.err, pids);
    assert_int_equal(distinct, 2);
    for (int i = 0; i < distinct; i++)
        assert_int_equal(kill((pid_t)pids[i], 0), -1);
    snprintf(path, sizeof path, "/tmp/cairn-%lu/workers-%ld.ipc",
             (unsigned long)getuid(), (long)coordinator.pid);
    assert_false(tc_exists(path));

    assert_int_equal(kill(remote.pid, SIGTERM), 0);
    tc_wait(&remote, &r);
    assert_int_equal(r.code, 0);
}

/* The coordinator is SIGKILLed mid-run; resumed on the same endpoint, it
 * gets its two workers back (they say Hello again once it is silent) and
 * the run ends as an uninterrupted one does. */
static void
test_cli_coordinator_killed_workers_rejoin(void **state)
{
    (void)state;
    const char *spec = tc_spec("slow.json", SLOW_SPEC(12));
    const char *db = tc_path("db");
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_port());
    tc_result_t r = {0};
    tc_cairn(&r, "run", spec, "--input", "0", "--durability", "none", "--json",
            NULL);
    tc_expect(&r, 0, NULL, NULL);
    json_t *expected = tc_json(r.out);

    tc_proc_t w1, w2, coordinator;
    tc_start(&w1, "worker", "--connect", endpoint, "--give-up-after", "30",
            NULL);
    tc_start(&w2, "worker", "--connect", endpoint, "--give-up-after", "30",
            NULL);
    tc_start(&coordinator, "run", spec, "--input", "0", "--db", db,
            "--run-id", "c", "--listen", endpoint, "--min-workers", "2",
            NULL);
    tc_wait_checkpoints(db, "c", 4);
    assert_int_equal(kill(coordinator.pid, SIGKILL), 0);
    tc_wait(&coordinator, &r);
    assert_int_equal(r.code, 128 + SIGKILL);

    tc_cairn(&r, "resume", "c", "--db", db, "--listen", endpoint,
            "--min-workers", "2", "--json", "--events", NULL);
    tc_expect(&r, 0, NULL, "worker_joined");
    json_t *got = tc_json(r.out);
    tc_assert_same_run(got, expected);
    /* Both workers came back. */
    const char *second = strstr(r.err, "worker_joined");
    assert_non_null(second);
    assert_non_null(strstr(second + 1, "worker_joined"));

    /* Workers stop cleanly on SIGTERM. */
    assert_int_equal(kill(w1.pid, SIGTERM), 0);
    assert_int_equal(kill(w2.pid, SIGTERM), 0);
    tc_wait(&w1, &r);
    assert_int_equal(r.code, 0);
    tc_wait(&w2, &r);
    assert_int_equal(r.code, 0);
}

/* An ipc endpoint of this test process's own, with a tag. */
static const char *
s_ipc_endpoint(const char *tag)
{
    static char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "ipc:///tmp/cairn-test-%s-%ld.ipc",
             tag, (long)getpid());
    return endpoint;
}

/* Placement from the spec: an executor type no registry here knows is
 * refused without --listen as before (exit 2), and with --listen fails
 * after --worker-wait-ms naming the executor and its type, writing no
 * run; a labelled executor does not run on a worker without its label,
 * nor in-process, and runs once a worker carries it. --on-worker-loss
 * takes worker or in-process, and only with workers. */
static void
test_cli_placement_labels_and_worker_only_types(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    const char *remote = tc_spec(
        "remote.json",
        "{\"name\": \"remote\", \"start\": \"far\",\n"
        " \"executors\": [{\"id\": \"far\", \"type\": \"test.nowhere\"}],\n"
        " \"edges\": []}\n");
    tc_result_t r = {0};
    tc_cairn(&r, "run", remote, "--input", "x", "--db", db, NULL);
    tc_expect(&r, 2, "",
             "executors[0].type: executor 'far': unknown executor type "
             "'test.nowhere'");
    const char *endpoint = s_ipc_endpoint("place");
    uint64_t started = th_now_ms();
    tc_cairn(&r, "run", remote, "--input", "x", "--db", db, "--listen",
            endpoint, "--worker-wait-ms", "400", NULL);
    tc_expect(&r, 2, "",
             "executor 'far' (type 'test.nowhere'): no worker offering that "
             "type joined within 400 ms");
    assert_true(th_now_ms() - started >= 400);
    tc_cairn(&r, "runs", "--db", db, "--json", NULL);
    tc_expect(&r, 0, "[]\n", NULL);

    const char *labelled = tc_spec(
        "labelled.json",
        "{\"name\": \"labelled\", \"start\": \"up\",\n"
        " \"executors\": [\n"
        "   {\"id\": \"up\", \"type\": \"text.upper\", \"label\": \"gpu\"},\n"
        "   {\"id\": \"out\", \"type\": \"text.output\"}],\n"
        " \"edges\": [{\"from\": \"up\", \"to\": \"out\"}]}\n");
    tc_proc_t plain, gpu;
    tc_start(&plain, "worker", "--connect", endpoint, "--id", "plain",
            "--give-up-after", "30", NULL);
    /* up before the wait starts: its start-up alone may take 1500 ms on
     * a loaded machine, and so may its joining: the run is repeated
     * with a longer wait until the plain worker was there, so the
     * refusal is seen with a worker that lacks only the label */
    tc_wait_stderr(&plain, "worker connecting to");
    bool joined = false;
    for (int wait_ms = 1500; !joined && wait_ms <= 24000; wait_ms *= 2) {
        char wait[16], expected[160];
        snprintf(wait, sizeof wait, "%d", wait_ms);
        snprintf(expected, sizeof expected,
                 "executor 'up' (type 'text.upper', label 'gpu'): no worker "
                 "offering that type with that label joined within %d ms",
                 wait_ms);
        tc_cairn(&r, "run", labelled, "--input", "hi", "--db", db,
                 "--listen", endpoint, "--min-workers", "1",
                 "--worker-wait-ms", wait, "--events", NULL);
        tc_expect(&r, 2, "", expected);
        joined = strstr(r.err, "\"event\":\"worker_joined\"") != NULL;
    }
    assert_true(joined);
    tc_start(&gpu, "worker", "--connect", endpoint, "--id", "gpu-box",
            "--label", "gpu", "--give-up-after", "30", NULL);
    tc_cairn(&r, "run", labelled, "--input", "hi", "--db", db, "--listen",
            endpoint, "--worker-wait-ms", "10000", "--run-id", "l", NULL);
    tc_expect(&r, 0, "HI\n", NULL);
    tc_cairn(&r, "runs", "--db", db, "--json", NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_int_equal(json_array_size(tc_json(r.out)), 1);
    assert_int_equal(kill(plain.pid, SIGTERM), 0);
    assert_int_equal(kill(gpu.pid, SIGTERM), 0);
    tc_wait(&plain, &r);
    assert_int_equal(r.code, 0);
    tc_wait(&gpu, &r);
    assert_int_equal(r.code, 0);

    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "none",
            "--listen", endpoint, "--on-worker-loss", "nowhere", NULL);
    tc_expect(&r, 2, "",
             "--on-worker-loss must be worker or in-process, not 'nowhere'");
    tc_cairn(&r, "run", PIPELINE, "--input", "x", "--durability", "none",
            "--on-worker-loss", "in-process", NULL);
    tc_expect(&r, 2, "", "--on-worker-loss needs --listen or --spawn-workers");
}

/* A worker SIGKILLed mid-run: its executors move, each move is an
 * executor_moved event (in `cairn events` too) saying from where to
 * where, and the run ends as an uninterrupted one does; with
 * --on-worker-loss in-process they move into the coordinator. The run
 * waits at its gate until the coordinator has seen the loss, so it
 * cannot end first on a loaded machine. */
static void
test_cli_lost_worker_executors_moved_events(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 12);
    const char *db = tc_path("db");
    tc_result_t r = {0};
    for (int round = 0; round < 2; round++) {
        bool in_process = round == 1;
        const char *endpoint = s_ipc_endpoint(in_process ? "lossb" : "lossa");
        const char *run = in_process ? "m2" : "m1";
        tc_proc_t a, b, coordinator;
        tc_start(&a, "worker", "--connect", endpoint, "--id", "w-a",
                "--give-up-after", "30", "--allow-exec", NULL);
        tc_start(&b, "worker", "--connect", endpoint, "--id", "w-b",
                "--give-up-after", "30", "--allow-exec", NULL);
        tc_close_gate();
        tc_start(&coordinator, "run", spec, "--input", "0", "--db", db,
                "--run-id", run, "--listen", endpoint, "--min-workers", "2",
                "--on-worker-loss", in_process ? "in-process" : "worker",
                "--allow-exec", "--events", NULL);
        tc_wait_checkpoints(db, run, 4);
        assert_int_equal(kill(a.pid, SIGKILL), 0);
        tc_wait(&a, &r);
        tc_wait_stderr(&coordinator, "\"worker_lost\"");
        tc_open_gate();
        tc_wait(&coordinator, &r);
        tc_expect(&r, 0, "12\n", NULL);
        tc_cairn(&r, "events", run, "--db", db, "--json", NULL);
        tc_expect(&r, 0, NULL, NULL);
        size_t count = 0, moved = 0, lost = 0;
        json_t **lines = tc_json_lines(r.out, &count);
        for (size_t i = 0; i < count; i++) {
            const char *kind =
                json_string_value(json_object_get(lines[i], "event"));
            const char *detail =
                json_string_value(json_object_get(lines[i], "detail"));
            lost += strcmp(kind, "worker_lost") == 0;
            if (strcmp(kind, "executor_moved") != 0)
                continue;
            moved++;
            assert_string_equal(detail, in_process ? "from w-a to in-process"
                                                   : "from w-a to w-b");
            assert_non_null(json_string_value(
                json_object_get(lines[i], "executor")));
        }
        assert_int_equal(lost, 1);
        /* w-a held some of the four executors, w-b the others */
        assert_true(moved >= 1 && moved <= 3);
        tc_cairn(&r, "events", run, "--db", db, NULL);
        tc_expect(&r, 0, NULL, NULL);
        assert_non_null(strstr(r.out, "executor_moved"));
        assert_int_equal(kill(b.pid, SIGTERM), 0);
        tc_wait(&b, &r);
        assert_int_equal(r.code, 0);
    }
}

/* verify: a sound store exits 0; an unknown run exits 2. */
static void
test_cli_verify(void **state)
{
    (void)state;
    const char *db = tc_path("db");
    tc_result_t r = {0};
    tc_cairn(&r, "run", PIPELINE, "--input", "hi", "--db", db, "--run-id", "v",
            NULL);
    tc_expect(&r, 0, NULL, NULL);
    tc_cairn(&r, "verify", "--db", db, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
    tc_cairn(&r, "verify", "v", "--db", db, NULL);
    tc_expect(&r, 0, "", "0 problem(s)");
    tc_cairn(&r, "verify", "nope", "--db", db, NULL);
    tc_expect(&r, 2, NULL, "unknown run 'nope'");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_spawn_workers_leave_nothing_behind),
        TC_TEST(test_cli_spawn_workers_with_curve),
        TC_TEST(test_cli_verify),
        TC_TEST(test_cli_coordinator_killed_workers_rejoin),
        TC_TEST(test_cli_placement_labels_and_worker_only_types),
        TC_TEST(test_cli_lost_worker_executors_moved_events),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
