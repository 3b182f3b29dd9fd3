/* make_corpus - writes the generated seed corpora of the fuzz targets.
 *
 *   make_corpus DIR
 *
 * fills DIR/envelope (one packed Envelope per body kind, every field
 * set), DIR/checkpoint (the real stored records of run R, fuzz_fixture.h,
 * in fuzz_checkpoint's input layout) and DIR/import (real export files: an
 * interrupted run, a completed one, a fork carrying its parent). The
 * spec corpus is written by hand (tests/fuzz/corpus/spec). The committed
 * corpora under tests/fuzz/corpus/ were made with this program; CTest
 * runs it into a scratch directory and replays the result, so the seeds
 * keep matching what the code writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "fuzz_fixture.h"
#include "proto/codec.h"
#include "storage/record.h"

static const char *s_dir;

static void
s_write(const char *target, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s_dir, target);
    FUZZ_REQUIRE(mkdir(path, 0755) == 0 || errno == EEXIST);
    snprintf(path, sizeof path, "%s/%s/%s", s_dir, target, name);
    FILE *f = fopen(path, "wb");
    FUZZ_REQUIRE(f);
    FUZZ_REQUIRE(fwrite(data, 1, len, f) == len || len == 0);
    FUZZ_REQUIRE(fclose(f) == 0);
}

static void
s_write_envelope(const char *name, Cairn__Envelope *env)
{
    env->protocol = CAIRN__PROTOCOL_VERSION;
    size_t len = cairn__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    FUZZ_REQUIRE(buf);
    cairn__envelope__pack(env, buf);
    s_write("envelope", name, buf, len);
    free(buf);
}

static void
s_envelopes(void)
{
    char *types[] = {"count.inc", "text.output"};
    char *labels[] = {"gpu"};
    Cairn__Hello hello = CAIRN__HELLO__INIT;
    hello.host_id = "host-0";
    hello.executor_types = types;
    hello.n_executor_types = 2;
    hello.labels = labels;
    hello.n_labels = 1;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_write_envelope("hello", &env);

    Cairn__Welcome welcome = CAIRN__WELCOME__INIT;
    welcome.coordinator_id = "inproc://cairn-coordinator-1";
    welcome.heartbeat_ms = 250;
    env.body_case = CAIRN__ENVELOPE__BODY_WELCOME;
    env.welcome = &welcome;
    s_write_envelope("welcome", &env);

    /* A fan-in composite with two parts. */
    Cairn__Message part1 = CAIRN__MESSAGE__INIT, part2 = CAIRN__MESSAGE__INIT;
    part1.type = "text";
    part1.payload.data = (uint8_t *)"left";
    part1.payload.len = 4;
    part1.source = "l";
    part2.payload.data = (uint8_t *)"right";
    part2.payload.len = 5;
    part2.source = "r";
    Cairn__Message *parts[] = {&part1, &part2};
    Cairn__Message composite = CAIRN__MESSAGE__INIT;
    composite.parts = parts;
    composite.n_parts = 2;
    Cairn__Message plain = CAIRN__MESSAGE__INIT;
    plain.type = "text";
    plain.payload.data = (uint8_t *)"41";
    plain.payload.len = 2;
    plain.source = "a";
    plain.target = "b";
    /* A response: answers a human-in-the-loop request. */
    Cairn__Request asked = CAIRN__REQUEST__INIT;
    asked.id = "a.1.1";
    asked.executor = "a";
    asked.kind = "approve";
    asked.payload.data = (uint8_t *)"ok?";
    asked.payload.len = 3;
    asked.superstep = 1;
    Cairn__Message response = CAIRN__MESSAGE__INIT;
    response.type = "approve";
    response.payload.data = (uint8_t *)"yes";
    response.payload.len = 3;
    response.answers = &asked;
    Cairn__Message *messages[] = {&plain, &composite, &response};
    Cairn__Request *requests[] = {&asked};

    Cairn__StateEntry set = CAIRN__STATE_ENTRY__INIT;
    set.key = "count";
    set.value.data = (uint8_t *)"1";
    set.value.len = 1;
    Cairn__StateEntry gone = CAIRN__STATE_ENTRY__INIT;
    gone.key = "old";
    gone.deleted = true;
    Cairn__StateEntry *entries[] = {&set, &gone};

    Cairn__WorkItem item = CAIRN__WORK_ITEM__INIT;
    item.executor_id = "a";
    item.restart = true;
    item.executor_type = "count.inc";
    item.config.data = (uint8_t *)"{\"by\":1}";
    item.config.len = 8;
    item.state = entries;
    item.n_state = 2;
    item.messages = messages;
    item.n_messages = 3;
    item.attempt = 1;
    Cairn__WorkItem *items[] = {&item};
    Cairn__Deliver deliver = CAIRN__DELIVER__INIT;
    deliver.run_id = "R";
    deliver.superstep = 1;
    deliver.max_message_size = 1 << 20;
    deliver.shared_reset = true;
    deliver.shared_updates = entries;
    deliver.n_shared_updates = 2;
    deliver.items = items;
    deliver.n_items = 1;
    env.body_case = CAIRN__ENVELOPE__BODY_DELIVER;
    env.deliver = &deliver;
    s_write_envelope("deliver", &env);

    ProtobufCBinaryData outputs[] = {{2, (uint8_t *)"42"}};
    char *tags[] = {"manual"};
    Cairn__Done done = CAIRN__DONE__INIT;
    done.run_id = "R";
    done.superstep = 1;
    done.executor_id = "a";
    done.attempt = 1;
    done.ok = true;
    done.handled = 2;
    done.sent = messages;
    done.n_sent = 2;
    done.outputs = outputs;
    done.n_outputs = 1;
    done.state_writes = entries;
    done.n_state_writes = 2;
    done.shared_writes = entries;
    done.n_shared_writes = 1;
    done.checkpoint = true;
    done.checkpoint_tags = tags;
    done.n_checkpoint_tags = 1;
    done.requests = requests;
    done.n_requests = 1;
    env.body_case = CAIRN__ENVELOPE__BODY_DONE;
    env.done = &done;
    s_write_envelope("done", &env);

    Cairn__Done failed = CAIRN__DONE__INIT;
    failed.run_id = "R";
    failed.superstep = 2;
    failed.executor_id = "b";
    failed.error = "handler failed: bad input";
    failed.handled = 1;
    env.done = &failed;
    s_write_envelope("done-failed", &env);

    Cairn__Heartbeat beat = CAIRN__HEARTBEAT__INIT;
    beat.sent_at_ms = 1700000000000ull;
    env.body_case = CAIRN__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &beat;
    s_write_envelope("heartbeat", &env);

    Cairn__Control control = CAIRN__CONTROL__INIT;
    control.kind = CAIRN__CONTROL__KIND__END_RUN;
    control.run_id = "R";
    control.text = "done";
    env.body_case = CAIRN__ENVELOPE__BODY_CONTROL;
    env.control = &control;
    s_write_envelope("control", &env);

    Cairn__Shutdown shutdown = CAIRN__SHUTDOWN__INIT;
    shutdown.reason = "engine destroyed";
    env.body_case = CAIRN__ENVELOPE__BODY_SHUTDOWN;
    env.shutdown = &shutdown;
    s_write_envelope("shutdown", &env);
}

/* A stored record as fuzz_checkpoint reads it: selector byte, then the
 * payload without its frame (or, raw, the framed value). */
static void
s_checkpoint_seed(const char *name, uint8_t selector, const uint8_t *value,
                  size_t len)
{
    bool raw = selector & 0x80;
    size_t skip = raw ? 0 : CAIRN__RECORD_HEADER;
    FUZZ_REQUIRE(len >= skip);
    uint8_t *seed = malloc(1 + len - skip);
    FUZZ_REQUIRE(seed);
    seed[0] = selector;
    memcpy(seed + 1, value + skip, len - skip);
    s_write("checkpoint", name, seed, 1 + len - skip);
    free(seed);
}

static void
s_checkpoints(cairn_store_t *store)
{
    static const struct {
        const char *name;
        cairn__cf_t cf;
        uint8_t selector;
    } records[] = {
        {"run-record", CAIRN__CF_RUNS, 0},
        {"manifest", CAIRN__CF_CHECKPOINTS, 1},
        {"inflight", CAIRN__CF_INFLIGHT, 2},
        {"state", CAIRN__CF_STATE, 3},
        {"pending", CAIRN__CF_PENDING, 5},
        {"events", CAIRN__CF_EVENTS, 6},
    };
    cairn__key_t key = {0};
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        cairn__key_reset(&key);
        switch (records[i].cf) {
        case CAIRN__CF_RUNS:
            cairn__key_add_text(&key, "R", false);
            break;
        case CAIRN__CF_STATE:
            cairn__key_state_group(&key, "R", "a", "count");
            cairn__key_add_u64(&key, ~(uint64_t)1);
            break;
        case CAIRN__CF_PENDING:
            cairn__key_step(&key, "R", 2);
            cairn__key_add_text(&key, "b", false);
            break;
        default:
            cairn__key_step(&key, "R", 1);
        }
        uint8_t *value = NULL;
        size_t len = 0;
        cairn_error_t err;
        FUZZ_REQUIRE(store->backend->ops->get(store->backend, records[i].cf,
                                              key.data, key.len, &value, &len,
                                              &err)
                     == CAIRN_OK);
        s_checkpoint_seed(records[i].name, records[i].selector, value, len);
        if (records[i].cf == CAIRN__CF_CHECKPOINTS)
            s_checkpoint_seed("manifest-raw", 0x80 | 1, value, len);
        free(value);
    }
    cairn__key_free(&key);
    /* R@1 has no outputs (a yields none): make an output record. */
    ProtobufCBinaryData items[] = {{1, (uint8_t *)"x"}, {2, (uint8_t *)"yz"}};
    Cairn__OutputRecord outputs = CAIRN__OUTPUT_RECORD__INIT;
    outputs.items = items;
    outputs.n_items = 2;
    size_t len = 0;
    uint8_t *value = cairn__record_pack(&outputs.base, &len);
    FUZZ_REQUIRE(value);
    s_checkpoint_seed("outputs", 4, value, len);
    free(value);
}

static void
s_export(cairn_store_t *store, const char *run_id, const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FUZZ_REQUIRE(f);
    cairn_error_t err;
    FUZZ_REQUIRE(cairn_store_export(store, run_id, f, &err) == CAIRN_OK);
    FUZZ_REQUIRE(fclose(f) == 0);
    s_write("import", name, buf, len);
    free(buf);
}

static void
s_imports(cairn_engine_t *engine, const cairn_workflow_t *wf,
          cairn_store_t *store)
{
    s_export(store, "R", "interrupted");
    cairn_run_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.store = store;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    /* A fork of R at its entry checkpoint, run to the end. */
    opts.run_id = "F";
    FUZZ_REQUIRE(cairn_engine_resume(engine, wf, "R@0", &opts, &result, &err)
                 == CAIRN_OK);
    cairn_result_destroy(&result);
    s_export(store, "F", "fork");
    opts.run_id = "C";
    FUZZ_REQUIRE(cairn_engine_run(engine, wf, "7", 1, &opts, &result, &err)
                 == CAIRN_OK);
    cairn_result_destroy(&result);
    s_export(store, "C", "completed");
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    s_dir = argv[1];
    FUZZ_REQUIRE(mkdir(s_dir, 0755) == 0 || errno == EEXIST);
    s_envelopes();

    cairn_registry_t *registry = fuzz_registry_new();
    cairn_workflow_t *wf = fuzz_workflow_new(registry);
    cairn_engine_options_t eopts;
    memset(&eopts, 0, sizeof eopts);
    eopts.host_threads = 1;
    cairn_engine_t *engine = NULL;
    cairn_error_t err;
    FUZZ_REQUIRE(cairn_engine_open(&engine, registry, &eopts, &err)
                 == CAIRN_OK);
    cairn_store_t *store = NULL;
    FUZZ_REQUIRE(cairn_store_open_memory(&store, &err) == CAIRN_OK);
    fuzz_run_r(engine, wf, store);
    s_checkpoints(store);
    s_imports(engine, wf, store);
    cairn_store_destroy(&store);
    cairn_engine_destroy(&engine);
    cairn_workflow_destroy(&wf);
    cairn_registry_destroy(&registry);
    return 0;
}
