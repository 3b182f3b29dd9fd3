/* fuzz_spec - a JSON workflow spec through the CLI's loader.
 *
 * The input is a spec document. cairn_spec_load() parses it (jansson),
 * checks its shape, turns it into builder calls and builds the workflow
 * (validation, signature) over a registry with the built-ins, created
 * once. Every answer is fine except a crash; an error must come with a
 * message and no workflow, a workflow with no error.
 */
#include <stdio.h>
#include <string.h>

#include "cairn/spec.h"
#include "fuzz.h"
#include "fuzz_fixture.h"

static cairn_registry_t *s_registry;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_registry = fuzz_registry_new();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_workflow_t *wf = NULL;
    cairn_spec_checkpoint_t checkpoint;
    cairn_error_t err;
    int rc = cairn_spec_load((const char *)data, size, "fuzz.json", s_registry,
                             &wf, &checkpoint, &err);
    if (rc == CAIRN_OK) {
        FUZZ_REQUIRE(wf);
        unsigned sum = fuzz_touch_str(cairn_workflow_name(wf))
                       + fuzz_touch_str(cairn_workflow_signature_hex(wf));
        for (size_t i = 0; i < cairn_workflow_warning_count(wf); i++)
            sum += fuzz_touch_str(cairn_workflow_warning(wf, i));
        (void)sum;
        cairn_workflow_destroy(&wf);
    } else {
        FUZZ_REQUIRE(!wf && err.code == rc && err.message[0]);
        (void)fuzz_touch_str(err.message);
    }
    return 0;
}
