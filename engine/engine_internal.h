/* engine_internal.h - the engine as the coordinator sees it. */
#ifndef CAIRN_ENGINE_INTERNAL_H_INCLUDED
#define CAIRN_ENGINE_INTERNAL_H_INCLUDED

#include <czmq.h>

#include "actors/host.h"
#include "cairn/engine.h"
#include "proto/codec.h"

struct cairn_engine_t {
    const cairn_registry_t *registry; /* borrowed */
    zsock_t *router;                  /* coordinator ROUTER */
    char endpoint[64];                /* inproc endpoint of the ROUTER */
    zactor_t **actors;                /* in-process host threads */
    cairn__host_args_t *host_args;    /* what each actor was started with */
    cairn__peer_t *peers;             /* routing id of host i */
    size_t host_count;
    uint64_t rejected_frames;         /* malformed or unexpected frames */
};

/* Drives one run (coordinator.c). Same contract as cairn_engine_run. */
int
cairn__coordinator_run(cairn_engine_t *engine,
                       const cairn_workflow_t *workflow, const void *input,
                       size_t input_len, const cairn_run_options_t *opts,
                       cairn_result_t **result, cairn_error_t *err);

/* Resumes a run (coordinator.c). Same contract as cairn_engine_resume. */
int
cairn__coordinator_resume(cairn_engine_t *engine,
                          const cairn_workflow_t *workflow,
                          const char *target, const cairn_run_options_t *opts,
                          cairn_result_t **result, cairn_error_t *err);

/* Index of the host with this routing id, or -1. */
long
cairn__engine_find_host(const cairn_engine_t *self,
                        const cairn__peer_t *peer);

#endif
