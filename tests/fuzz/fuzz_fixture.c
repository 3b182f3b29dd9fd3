/* fuzz_fixture - the workflow and stored run shared by the fuzz targets
 * (fuzz_fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_fixture.h"

cairn_registry_t *
fuzz_registry_new(void)
{
    cairn_registry_t *registry = cairn_registry_new();
    FUZZ_REQUIRE(registry);
    FUZZ_REQUIRE(cairn_builtins_register(registry, NULL) == CAIRN_OK);
    return registry;
}

cairn_workflow_t *
fuzz_workflow_new(const cairn_registry_t *registry)
{
    cairn_builder_t *b = cairn_builder_new(registry);
    FUZZ_REQUIRE(b);
    FUZZ_REQUIRE(cairn_builder_set_name(b, "fuzz") == CAIRN_OK);
    FUZZ_REQUIRE(cairn_builder_add_executor(b, "a", "count.inc", NULL, 0)
                 == CAIRN_OK);
    FUZZ_REQUIRE(cairn_builder_add_executor(b, "b", "text.output", NULL, 0)
                 == CAIRN_OK);
    FUZZ_REQUIRE(cairn_builder_add_edge(b, "a", "b", NULL, NULL, 0)
                 == CAIRN_OK);
    FUZZ_REQUIRE(cairn_builder_set_start(b, "a") == CAIRN_OK);
    cairn_builder_set_max_supersteps(b, 10);
    cairn_workflow_t *wf = NULL;
    cairn_error_t err;
    FUZZ_REQUIRE(cairn_builder_build(b, &wf, &err) == CAIRN_OK);
    cairn_builder_destroy(&b);
    return wf;
}

Cairn__Done *
fuzz_pending_done(void)
{
    Cairn__Done *done = calloc(1, sizeof *done);
    FUZZ_REQUIRE(done);
    cairn__done__init(done);
    done->run_id = strdup("R");
    done->superstep = 2;
    done->executor_id = strdup("b");
    done->attempt = 1;
    done->ok = true;
    done->error = strdup("");
    done->handled = 1;
    done->n_outputs = 1;
    done->outputs = calloc(1, sizeof *done->outputs);
    FUZZ_REQUIRE(done->run_id && done->executor_id && done->error
                 && done->outputs);
    done->outputs[0].data = (uint8_t *)strdup("42");
    FUZZ_REQUIRE(done->outputs[0].data);
    done->outputs[0].len = 2;
    return done;
}

void
fuzz_run_r(cairn_engine_t *engine, const cairn_workflow_t *wf,
           cairn_store_t *store)
{
    cairn_run_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.run_id = "R";
    opts.max_supersteps = 1;
    opts.store = store;
    opts.checkpoint.kind = CAIRN_CHECKPOINT_EVERY;
    cairn_result_t *result = NULL;
    cairn_error_t err;
    FUZZ_REQUIRE(cairn_engine_run(engine, wf, "41", 2, &opts, &result, &err)
                 == CAIRN_OK);
    cairn_result_destroy(&result);
    Cairn__Done *done = fuzz_pending_done();
    FUZZ_REQUIRE(cairn__store_put_pending(store, "R", 2, done, &err)
                 == CAIRN_OK);
    cairn__done__free_unpacked(done, NULL);
}
