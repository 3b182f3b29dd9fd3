/* test_crash.c - kill -9 a durable run at random moments and resume it.
 *
 * The run lives in a child process (child_workflow) with a RocksDB store
 * in a mkdtemp directory. The test SIGKILLs it at random moments, starts
 * it again (it resumes), and finally compares its summary with that of an
 * uninterrupted run: outputs, states, superstep count. It then checks the
 * checkpoint lineage: every superstep exactly once, each checkpoint's
 * parent the one before.
 *
 * The same for the torture workflow (child_workflow torture).
 *
 * CAIRN_CRASH_SEED replays a failure (the seed is printed);
 * CAIRN_CRASH_ROUNDS sets the number of kills of the cycle and
 * CAIRN_TORTURE_KILLS of the torture workflow (default 20 each).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairn/cairn.h>

#include "storage/store_internal.h"
#include "tests/harness/harness.h"
#include "tests/test_util.h"

#define CHILD CAIRN_TEST_BIN_DIR "/child_workflow"
#define WAIT_LIMIT_MS 60000

/* Starts the child with stdout into out_path. */
static pid_t
spawn(const char *scenario, const char *db, const char *run_id,
      const char *steps, const char *log, const char *out_path)
{
    const char *argv[] = {CHILD, scenario, db, run_id, steps, log, NULL};
    th_spawn_t spec = {.argv = argv, .out_path = out_path};
    return th_spawn(&spec);
}

/* Runs the child to completion and returns its summary. */
static char *
run_to_end(const char *scenario, const char *db, const char *run_id,
           const char *steps, const char *log, const char *out_path)
{
    pid_t pid = spawn(scenario, db, run_id, steps, log, out_path);
    assert_int_equal(th_finish(pid, WAIT_LIMIT_MS, CHILD), 0);
    return th_read(out_path, NULL);
}

/* The number in a file, or -1 when it cannot be read. */
static long
read_number(const char *path)
{
    FILE *file = fopen(path, "r");
    long value = -1;
    if (file) {
        if (fscanf(file, "%ld", &value) != 1)
            value = -1;
        fclose(file);
    }
    return value;
}

/* How many Dones of superstep the store holds for run_id (pending
 * writes, docs/storage.md), or -1 when it cannot be read yet (read-only,
 * beside the writer). */
static long
stored_dones(const char *db, const char *run_id, uint64_t superstep)
{
    cairn_store_t *store = NULL;
    cairn_error_t err;
    cairn_store_options_t opts = {.read_only = true};
    if (cairn_store_open(&store, db, &opts, &err) != CAIRN_OK)
        return -1;
    Cairn__Done **dones = NULL;
    size_t count = 0;
    long n = cairn__store_load_pending(store, run_id, superstep, &dones,
                                       &count, &err) == CAIRN_OK
                 ? (long)count
                 : -1;
    for (size_t i = 0; i < count; i++)
        cairn__done__free_unpacked(dones[i], NULL);
    free(dones);
    cairn_store_destroy(&store);
    return n;
}

/* Every superstep 0..last checkpointed exactly once, parents chained. */
static void
check_lineage(const char *db, const char *run_id, uint64_t last)
{
    cairn_store_t *store = NULL;
    cairn_error_t err;
    cairn_store_options_t opts = {.read_only = true};
    assert_int_equal(cairn_store_open(&store, db, &opts, &err), CAIRN_OK);
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    assert_int_equal(cairn_store_list_checkpoints(store, run_id, 0, NULL,
                                                  &infos, &count, &err),
                     CAIRN_OK);
    assert_int_equal(count, last + 1);
    for (size_t i = 0; i < count; i++) {
        uint64_t step = last - i;
        assert_int_equal(infos[i].superstep, step);
        char parent[64] = "";
        if (step > 0)
            snprintf(parent, sizeof parent, "%s@%llu", run_id,
                     (unsigned long long)(step - 1));
        assert_string_equal(infos[i].parent, parent);
    }
    assert_string_equal(infos[0].status, "completed");
    cairn_checkpoint_info_destroy(&infos, count);
    cairn_store_destroy(&store);
}

/* A seed from `env` (to replay a failure) or the clock. */
static unsigned
s_seed(const char *env)
{
    return getenv(env) ? (unsigned)strtoul(getenv(env), NULL, 10)
                       : (unsigned)time(NULL);
}

/* Runs scenario to `steps` uninterrupted, then again SIGKILLed `kills`
 * times at random moments and resumed each time, and checks that the
 * result (outputs, states, superstep count) is byte for byte the same and
 * the lineage has every superstep exactly once. Each round waits until
 * the child's handlers make progress (they write the superstep they are
 * in to a file), then kills it a random 0-15 ms later: mid-superstep,
 * mid-write or mid-barrier, whatever the machine's speed. */
/* Where a kill-and-resume test keeps things, in a fresh directory. */
typedef struct {
    char *dir;
    char db[512];        /* the store that is killed */
    char out[512];       /* the child's stdout */
    char steps_text[32]; /* STEPS for the child */
} s_torture_t;

/* Makes the directory and runs the scenario uninterrupted in a store of
 * its own; returns that run's summary (caller frees). */
static char *
s_torture_begin(s_torture_t *t, const char *scenario, long steps,
                long supersteps)
{
    t->dir = th_dir_new("crash");
    char reference_db[512], done[64];
    snprintf(reference_db, sizeof reference_db, "%s/reference", t->dir);
    snprintf(t->db, sizeof t->db, "%s/crashed", t->dir);
    snprintf(t->out, sizeof t->out, "%s/out.txt", t->dir);
    snprintf(t->steps_text, sizeof t->steps_text, "%ld", steps);
    snprintf(done, sizeof done, "status=completed supersteps=%ld", supersteps);
    char *expected =
        run_to_end(scenario, reference_db, "run", t->steps_text, "", t->out);
    assert_non_null(strstr(expected, done));
    return expected;
}

/* Compares the killed run's end with the uninterrupted one and cleans
 * up; actual and expected are freed. */
static void
s_torture_end(s_torture_t *t, char *expected, char *actual, long supersteps)
{
    assert_string_equal(actual, expected);
    check_lineage(t->db, "run", (uint64_t)supersteps);
    free(expected);
    free(actual);
    th_dir_destroy(&t->dir);
}

static void
s_kill_and_resume(const char *scenario, long steps, long supersteps, int kills,
                  unsigned seed)
{
    printf("%s: seed %u, %d kills\n", scenario, seed, kills);
    srand(seed);
    s_torture_t t;
    char *expected = s_torture_begin(&t, scenario, steps, supersteps);
    const char *dir = t.dir, *db = t.db, *out = t.out;
    const char *steps_text = t.steps_text;
    char progress[512];
    snprintf(progress, sizeof progress, "%s/progress", dir);
    setenv("CAIRN_CHILD_PROGRESS", progress, 1);
    int mid_run = 0;
    long previous = -1;
    for (int round = 0; round < kills && previous < supersteps; round++) {
        remove(progress);
        pid_t pid = spawn(scenario, db, "run", steps_text, "", out);
        for (int waited = 0; waited < WAIT_LIMIT_MS; waited += 1) {
            if (read_number(progress) > previous
                || waitpid(pid, NULL, WNOHANG) == pid)
                break;
            test_sleep_ms(1);
        }
        test_sleep_ms(rand() % 16);
        th_kill(pid);
        long latest = th_latest_superstep(db, "run", NULL);
        assert_true(latest >= previous); /* nothing committed is lost */
        mid_run += latest > previous && latest < supersteps;
        previous = latest;
    }
    printf("%s: %d of %d kills landed mid-run; the last left superstep "
           "%ld (seed %u)\n",
           scenario, mid_run, kills, previous, seed);
    /* The kills must really interrupt running work, or this tests
     * nothing. */
    assert_true(mid_run >= kills / 2);
    unsetenv("CAIRN_CHILD_PROGRESS");
    char *actual = run_to_end(scenario, db, "run", steps_text, "", out);
    s_torture_end(&t, expected, actual, supersteps);
}

/* The counter cycle: 200 steps, CAIRN_CRASH_ROUNDS kills (default 20),
 * supersteps slowed to 5 ms so every round is a few supersteps. */
static void
test_crash_cycle_survives_random_sigkills(void **state)
{
    (void)state;
    int kills =
        getenv("CAIRN_CRASH_ROUNDS") ? atoi(getenv("CAIRN_CRASH_ROUNDS")) : 20;
    setenv("CAIRN_CHILD_STEP_MS", "5", 1);
    s_kill_and_resume("cycle", 200, 201, kills, s_seed("CAIRN_CRASH_SEED"));
    unsetenv("CAIRN_CHILD_STEP_MS");
}

/* The torture workflow (a cycle through a fan-out and a fan-in, shared
 * state, a sleeping branch): CAIRN_TORTURE_KILLS kills (default 20; `make
 * torture` runs 200), six rounds of the cycle per kill. */
static void
test_crash_torture(void **state)
{
    (void)state;
    int kills = getenv("CAIRN_TORTURE_KILLS")
                    ? atoi(getenv("CAIRN_TORTURE_KILLS"))
                    : 20;
    long steps = kills < 20 ? 120 : 6L * kills;
    s_kill_and_resume("torture", steps, 3 * (steps - 1) + 1, kills,
                      s_seed("CAIRN_CRASH_SEED"));
}

/* Starts `child_workflow worker ENDPOINT ID` (stdout discarded). */
static pid_t
spawn_worker(const char *endpoint, int n)
{
    char id[32];
    snprintf(id, sizeof id, "w%d", n);
    const char *argv[] = {CHILD, "worker", endpoint, id, NULL};
    th_spawn_t spec = {.argv = argv, .out_path = "/dev/null"};
    return th_spawn(&spec);
}

/* Waits (bounded) until the run's newest checkpoint is past `after` or
 * the coordinator has exited (*status: its wait status, else -1);
 * returns that superstep. */
static long
wait_past(const char *db, long after, pid_t coordinator, int *status)
{
    long latest = after;
    *status = -1;
    for (int waited = 0; waited < WAIT_LIMIT_MS && latest <= after;
         waited += 5) {
        if (waitpid(coordinator, status, WNOHANG) == coordinator)
            return th_latest_superstep(db, "run", NULL);
        *status = -1;
        test_sleep_ms(5);
        latest = th_latest_superstep(db, "run", NULL);
    }
    return latest;
}

/* Prints how a torture process ended before its time (wait status) and
 * fails the test when it crashed or TSan stopped it (halt_on_error exits
 * 66): going on past that would hide it. */
static void
s_report_exit(const char *who, long superstep, long supersteps, int status)
{
    printf("torture with workers: %s exited at superstep %ld of %ld (%s "
           "%d)\n",
           who, superstep, supersteps, WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 66);
}

/* The torture workflow with every executor on two worker processes over
 * ipc: CAIRN_TORTURE_WORKER_KILLS SIGKILLs (default 10; `make torture`
 * runs 100) of a random victim, a worker (replaced at once by a new
 * process under a new id) or the coordinator (restarted; the workers
 * come back to it). After each kill the run must make progress again
 * before the next. The end result and lineage equal an in-process run's. */
static void
test_crash_torture_with_workers(void **state)
{
    (void)state;
    int kills = getenv("CAIRN_TORTURE_WORKER_KILLS")
                    ? atoi(getenv("CAIRN_TORTURE_WORKER_KILLS"))
                    : 10;
    unsigned seed = s_seed("CAIRN_CRASH_SEED");
    printf("torture with workers: seed %u, %d kills\n", seed, kills);
    srand(seed);
    long steps = 40L + 15L * kills, supersteps = 3 * (steps - 1) + 1;
    s_torture_t t;
    char *expected = s_torture_begin(&t, "torture", steps, supersteps);
    const char *db = t.db, *out = t.out, *steps_text = t.steps_text;
    char endpoint[600];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/w.ipc", t.dir);
    setenv("CAIRN_CHILD_LISTEN", endpoint, 1);
    setenv("CAIRN_CHILD_MIN_WORKERS", "2", 1);
    int next_id = 0;
    pid_t workers[2] = {spawn_worker(endpoint, next_id++),
                        spawn_worker(endpoint, next_id++)};
    pid_t coordinator = 0;
    long previous = -1;
    int coordinator_kills = 0, worker_kills = 0;
    for (int round = 0; round < kills && previous < supersteps; round++) {
        if (!coordinator)
            coordinator = spawn("torture", db, "run", steps_text, "", out);
        int status;
        previous = wait_past(db, previous, coordinator, &status);
        if (status != -1 && previous >= supersteps) { /* finished */
            coordinator = 0;
            break;
        }
        if (status != -1) { /* reaped by wait_past */
            s_report_exit("the coordinator", previous, supersteps, status);
            coordinator = 0;
        }
        /* A worker that ended by itself is replaced like a killed one. */
        for (int i = 0; i < 2; i++)
            if (waitpid(workers[i], &status, WNOHANG) == workers[i]) {
                s_report_exit("a worker", previous, supersteps, status);
                workers[i] = spawn_worker(endpoint, next_id++);
            }
        if (coordinator == 0) { /* failed before its end: resumed */
            printf("torture with workers: resumed\n");
            continue;
        }
        test_sleep_ms(rand() % 16);
        int victim = rand() % 3;
        if (victim == 0) {
            th_kill(coordinator);
            coordinator = 0;
            coordinator_kills++;
        } else {
            th_kill(workers[victim - 1]);
            workers[victim - 1] = spawn_worker(endpoint, next_id++);
            worker_kills++;
        }
        long latest = th_latest_superstep(db, "run", NULL);
        assert_true(latest >= previous); /* nothing committed is lost */
        previous = latest;
    }
    printf("torture with workers: %d coordinator and %d worker kills; the "
           "last left superstep %ld (seed %u)\n",
           coordinator_kills, worker_kills, previous, seed);
    if (coordinator) {
        th_kill(coordinator);
    }
    char *actual = run_to_end("torture", db, "run", steps_text, "", out);
    for (int i = 0; i < 2; i++) {
        th_kill(workers[i]);
    }
    unsetenv("CAIRN_CHILD_LISTEN");
    unsetenv("CAIRN_CHILD_MIN_WORKERS");
    assert_true(coordinator_kills + worker_kills >= kills / 2);
    s_torture_end(&t, expected, actual, supersteps);
}

/* Counts lines equal to id in the invocation log. */
static int
count_lines(const char *text, const char *id)
{
    int n = 0;
    size_t len = strlen(id);
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t line = end ? (size_t)(end - p) : strlen(p);
        n += line == len && strncmp(p, id, len) == 0;
        p += line + (end ? 1 : 0);
    }
    return n;
}

static void
test_crash_finished_executors_are_not_run_again(void **state)
{
    (void)state;
    char *dir = th_dir_new("crash");
    char reference_db[512], db[512], out[512], log[512], reference_log[512];
    char gate[512];
    snprintf(reference_db, sizeof reference_db, "%s/reference", dir);
    snprintf(db, sizeof db, "%s/crashed", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    snprintf(log, sizeof log, "%s/calls.log", dir);
    snprintf(reference_log, sizeof reference_log, "%s/reference.log", dir);
    char *expected =
        run_to_end("fanout", reference_db, "fan", "0", reference_log, out);

    /* slow waits for the gate, so it surely still runs at the kill. */
    snprintf(gate, sizeof gate, "%s/gate", dir);
    setenv("CAIRN_CHILD_GATE", gate, 1);
    pid_t pid = spawn("fanout", db, "fan", "0", log, out);
    /* Wait (bounded) until a, b and c have run and slow is running, and
     * the Dones of a, b and c are in the store: a fixed wait for them
     * lost the race on a loaded machine. */
    bool ready = false;
    for (int waited = 0; !ready && waited < WAIT_LIMIT_MS; waited += 10) {
        test_sleep_ms(10);
        FILE *probe = fopen(log, "r");
        if (!probe)
            continue;
        fclose(probe);
        char *calls = th_read(log, NULL);
        ready = count_lines(calls, "a") && count_lines(calls, "b")
                && count_lines(calls, "c") && count_lines(calls, "slow")
                && stored_dones(db, "fan", 2) == 3;
        free(calls);
    }
    assert_true(ready);
    th_kill(pid);
    int fd = open(gate, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);

    char *actual = run_to_end("fanout", db, "fan", "0", log, out);
    assert_string_equal(actual, expected);
    char *calls = th_read(log, NULL);
    assert_int_equal(count_lines(calls, "start"), 1);
    assert_int_equal(count_lines(calls, "a"), 1);
    assert_int_equal(count_lines(calls, "b"), 1);
    assert_int_equal(count_lines(calls, "c"), 1);
    assert_int_equal(count_lines(calls, "slow"), 2);
    assert_int_equal(count_lines(calls, "join"), 1);
    unsetenv("CAIRN_CHILD_GATE");
    free(calls);
    free(expected);
    free(actual);
    th_dir_destroy(&dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_cycle_survives_random_sigkills),
        cmocka_unit_test(test_crash_torture),
        cmocka_unit_test(test_crash_torture_with_workers),
        cmocka_unit_test(test_crash_finished_executors_are_not_run_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
