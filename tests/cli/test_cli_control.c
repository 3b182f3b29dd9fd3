/* test_cli_control - run control of the real `cairn` command: pause and
 * cancel a live run, SIGINT/SIGTERM pause it at the next barrier (a
 * second SIGINT stops at once), the control endpoint refuses garbage,
 * `cairn keygen` and the CURVE options.
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

#include "cairn.pb-c.h"
#include "tests/cli/cli_harness.h"
#include "tests/test_util.h"

/* The socket file of the control endpoint of `cairn run` process pid. */
static const char *
s_control_socket(pid_t pid)
{
    char *path = NULL;
    assert_true(asprintf(&path, "/tmp/cairn-%lu/ctl-%ld.ipc",
                         (unsigned long)getuid(), (long)pid)
                > 0);
    return tc_keep(path);
}

static void
test_cli_pause_and_cancel_live_run(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 15);
    const char *db = tc_path("db");
    json_t *expected = tc_uninterrupted(spec);
    tc_result_t r = {0};

    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "p",
            "--allow-exec", NULL);
    tc_wait_checkpoints(db, "p", 3);
    assert_true(tc_exists(s_control_socket(writer.pid)));
    tc_cairn(&r, "pause", "p", "--db", db, NULL);
    tc_expect(&r, 0, "", "run p: pausing at the barrier of superstep");
    tc_open_gate(); /* it may be in the gate's superstep */
    tc_wait(&writer, &r);
    tc_expect(&r, 5, NULL, "paused at superstep");
    assert_false(tc_exists(s_control_socket(writer.pid)));
    assert_string_equal(tc_run_status(db, "p"), "paused");
    assert_string_equal(tc_latest_trigger(db, "p"), "pause");
    /* not live any more; unknown runs are bad input */
    tc_cairn(&r, "pause", "p", "--db", db, NULL);
    tc_expect(&r, 1, "", "run p is not live (paused)");
    tc_cairn(&r, "cancel", "nope", "--db", db, NULL);
    tc_expect(&r, 2, "", "unknown run 'nope'");
    tc_resume_matches(db, "p", expected);

    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "c",
            "--allow-exec", NULL);
    tc_wait_checkpoints(db, "c", 3);
    tc_cairn(&r, "cancel", "c", "--db", db, NULL);
    tc_expect(&r, 0, "", "run c: cancelling");
    tc_open_gate();
    tc_wait(&writer, &r);
    tc_expect(&r, 5, NULL, "run c cancelled after superstep");
    assert_string_equal(tc_run_status(db, "c"), "cancelled");
    /* no checkpoint for the cancel: the last one stays the latest */
    assert_string_equal(tc_latest_trigger(db, "c"), "policy");
    tc_cairn(&r, "resume", "c", "--db", db, "--allow-exec", NULL);
    tc_expect(&r, 2, NULL, "run c was cancelled and cannot be resumed");
    assert_false(tc_exists(s_control_socket(writer.pid)));
}

/* runs shows the superstep a live run is in, not only what is stored. */
static void
test_cli_runs_live_superstep(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 30);
    const char *db = tc_path("db");
    tc_proc_t writer;
    /* manual: nothing but the entry checkpoint is stored while it runs */
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id",
            "l", "--checkpoint", "manual", "--allow-exec", NULL);
    tc_wait_checkpoints(db, "l", 1);
    uint64_t deadline = th_now_ms() + TC_TIMEOUT_S * 1000;
    json_int_t superstep = 0;
    while (superstep < 3) {
        json_t *run = tc_run_entry(db, "l");
        assert_string_equal(
            json_string_value(json_object_get(run, "latest_checkpoint")),
            "l@0");
        superstep = json_integer_value(json_object_get(run, "superstep"));
        if (th_now_ms() > deadline)
            fail_msg("runs never showed the live superstep");
        usleep(50000);
    }
    tc_result_t r = {0};
    tc_cairn(&r, "runs", "--db", db, NULL);
    tc_expect(&r, 0, NULL, NULL);
    assert_non_null(strstr(r.out, "running"));
    tc_open_gate();
    tc_wait(&writer, &r);
    tc_expect(&r, 0, "30\n", NULL);
}

static void
test_cli_sigint_pauses(void **state)
{
    (void)state;
    tc_signal_pauses(SIGINT);
}

static void
test_cli_sigterm_pauses(void **state)
{
    (void)state;
    tc_signal_pauses(SIGTERM);
}

/* A second SIGINT does not wait for the barrier; the last checkpoint
 * resumes. */
static void
test_cli_second_sigint_stops_at_once(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("paced.json", 1);
    const char *db = tc_path("db");
    json_t *expected = tc_uninterrupted(spec);
    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "x",
            "--allow-exec", NULL);
    /* entry, ping and pace stored: superstep 3 waits at the closed gate,
     * so its barrier cannot come, and a run that waited for it would
     * exit 5 (paused) only after the gate opened */
    tc_wait_checkpoints(db, "x", 3);
    assert_int_equal(kill(writer.pid, SIGINT), 0);
    tc_wait_stderr(&writer, "interrupt again to stop at once");
    assert_int_equal(kill(writer.pid, SIGINT), 0);
    tc_result_t r = {0};
    tc_wait(&writer, &r);
    assert_int_equal(r.code, 128 + SIGINT);
    tc_open_gate();
    assert_false(tc_exists(s_control_socket(writer.pid)));
    assert_string_equal(tc_run_status(db, "x"), "interrupted");
    assert_string_equal(tc_checkpoint_ids(db, "x"), "x@2,x@1,x@0");
    tc_resume_matches(db, "x", expected);
}

/* One frame (or a multipart message) to the endpoint on dealer. */
static void
s_send_frames(void *dealer, const void *const *frames, const size_t *lens,
              size_t count)
{
    for (size_t i = 0; i < count; i++)
        assert_true(zmq_send(dealer, frames[i], lens[i],
                             i + 1 < count ? ZMQ_SNDMORE : 0)
                    >= 0);
}

/* Packs a Control envelope (protocol version given) into buf. */
static size_t
s_pack_control(uint8_t *buf, uint32_t protocol, Cairn__Control__Kind kind,
               const char *run_id)
{
    Cairn__Control control = CAIRN__CONTROL__INIT;
    control.kind = kind;
    control.run_id = (char *)run_id;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.protocol = protocol;
    env.body_case = CAIRN__ENVELOPE__BODY_CONTROL;
    env.control = &control;
    assert_true(cairn__envelope__get_packed_size(&env) < 256);
    return cairn__envelope__pack(&env, buf);
}

/* Receives one answer (bounded) and returns its Control kind. */
static int
s_answer_kind(void *dealer)
{
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, TC_TIMEOUT_S * 1000) != 1)
        fail_msg("the control endpoint did not answer");
    uint8_t buf[4096];
    int n = zmq_recv(dealer, buf, sizeof buf, 0);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    Cairn__Envelope *env = cairn__envelope__unpack(NULL, (size_t)n, buf);
    assert_non_null(env);
    assert_int_equal(env->body_case, CAIRN__ENVELOPE__BODY_CONTROL);
    int kind = env->control->kind;
    cairn__envelope__free_unpacked(env, NULL);
    return kind;
}

/* Garbage on the control endpoint is refused and the run goes on to the
 * right result. */
static void
test_cli_control_hostile_frames(void **state)
{
    (void)state;
    const char *spec = tc_gated_spec("slow.json", 15);
    const char *db = tc_path("db");
    tc_proc_t writer;
    tc_close_gate();
    tc_start(&writer, "run", spec, "--input", "0", "--db", db, "--run-id", "h",
            "--allow-exec", NULL);
    tc_wait_checkpoints(db, "h", 2);
    char endpoint[160];
    snprintf(endpoint, sizeof endpoint, "ipc://%s",
             s_control_socket(writer.pid));
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(dealer, endpoint), 0);

    static uint8_t big[10000];
    uint8_t ok[256], old[256], other[256], resume[256];
    size_t ok_len = s_pack_control(ok, 2, CAIRN__CONTROL__KIND__STATUS, "h");
    size_t old_len = s_pack_control(old, 1, CAIRN__CONTROL__KIND__CANCEL, "h");
    size_t other_len =
        s_pack_control(other, 2, CAIRN__CONTROL__KIND__CANCEL, "other");
    size_t resume_len =
        s_pack_control(resume, 2, CAIRN__CONTROL__KIND__RESUME, "h");
    const char garbage[] = "\xff\xfe not protobuf \x01";
    const void *three[] = {ok, garbage, ok};
    const size_t three_lens[] = {ok_len, sizeof garbage, ok_len};
    const void *one[1];
    size_t one_len[1];
    /* each refused, answered with kind NONE */
    one[0] = garbage, one_len[0] = sizeof garbage;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = "", one_len[0] = 0; /* empty: an envelope without a body */
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    s_send_frames(dealer, three, three_lens, 3);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = old, one_len[0] = old_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = other, one_len[0] = other_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    one[0] = resume, one_len[0] = resume_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__NONE);
    /* too large: libzmq drops the connection, nothing is answered */
    one[0] = big, one_len[0] = sizeof big;
    s_send_frames(dealer, one, one_len, 1);
    zmq_close(dealer);

    /* a fresh client still gets answers */
    dealer = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(dealer, endpoint), 0);
    one[0] = ok, one_len[0] = ok_len;
    s_send_frames(dealer, one, one_len, 1);
    assert_int_equal(s_answer_kind(dealer), CAIRN__CONTROL__KIND__STATUS);
    zmq_close(dealer);
    zmq_ctx_term(ctx);

    tc_result_t r = {0};
    tc_open_gate();
    tc_wait(&writer, &r);
    tc_expect(&r, 0, "15\n", "refused control request");
    assert_string_equal(tc_run_status(db, "h"), "completed");
}

/* cairn keygen writes a pair that run and worker load; bad key files and
 * half the options are usage errors naming what is wrong; CURVE lets a
 * run listen beyond loopback without --insecure (the key is checked before
 * anything is bound). */
static void
test_cli_keygen_and_curve_options(void **state)
{
    (void)state;
    const char *dir = tc_path("keys");
    tc_result_t r = {0};
    tc_cairn(&r, "keygen", dir, NULL);
    char secret[256], public_key[256];
    snprintf(secret, sizeof secret, "%s/key", dir);
    snprintf(public_key, sizeof public_key, "%s/key.pub", dir);
    char listing[600];
    snprintf(listing, sizeof listing, "%s\n%s\n", secret, public_key);
    tc_expect(&r, 0, listing, "keep it private");
    struct stat st;
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    tc_cairn(&r, "keygen", dir, NULL);
    tc_expect(&r, 2, "", "already holds a key");
    tc_cairn(&r, "keygen", NULL);
    tc_expect(&r, 2, "", NULL);

    const char *spec = PIPELINE;
    tc_cairn(&r, "run", spec, "--input", "x", "--listen", "tcp://0.0.0.0:1",
            NULL);
    tc_expect(&r, 2, "", "--insecure");
    tc_cairn(&r, "run", spec, "--input", "x", "--listen", "tcp://0.0.0.0:1",
            "--curve-secret", secret, NULL);
    tc_expect(&r, 2, "", "go together");
    /* CURVE satisfies the check; a public key as secret is refused. */
    tc_cairn(&r, "run", spec, "--input", "x", "--durability", "none",
            "--listen", "tcp://0.0.0.0:1", "--curve-secret", public_key,
            "--allow-keys", dir, NULL);
    tc_expect(&r, 2, "", "holds no CURVE secret key");
    tc_cairn(&r, "worker", "--connect", "tcp://127.0.0.1:1", "--curve-secret",
            tc_path("nope"), "--server-key", public_key, NULL);
    tc_expect(&r, 2, "", tc_path("nope"));
    tc_cairn(&r, "worker", "--connect", "tcp://127.0.0.1:1", "--server-key",
            public_key, NULL);
    tc_expect(&r, 2, "", "go together");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TC_TEST(test_cli_keygen_and_curve_options),
        TC_TEST(test_cli_pause_and_cancel_live_run),
        TC_TEST(test_cli_runs_live_superstep),
        TC_TEST(test_cli_sigint_pauses),
        TC_TEST(test_cli_sigterm_pauses),
        TC_TEST(test_cli_second_sigint_stops_at_once),
        TC_TEST(test_cli_control_hostile_frames),
    };
    return tc_run_tests(tests, sizeof tests / sizeof tests[0]);
}
