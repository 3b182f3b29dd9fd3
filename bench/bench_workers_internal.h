/* bench_workers_internal.h - what the files of cairn-bench-workers share.
 *
 * One program in three files, split to keep each under the project's
 * 1,000 lines: cairn_bench_workers.c measures (floor, engine scenarios,
 * worker loss, command line); bench_workers_children.c starts, runs and
 * reaps the child processes and makes their endpoints and CURVE keys;
 * bench_workers_graphs.c holds the executor types both sides register and
 * the workflows built from them. Shared names carry bw_; everything else
 * stays static in its file. The coordinator calls these from its main
 * thread only; the handlers run on worker (or host) threads.
 */
#ifndef CAIRN_BENCH_WORKERS_INTERNAL_H_INCLUDED
#define CAIRN_BENCH_WORKERS_INTERNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cairn/cairn.h>

#define BW_FANOUT_WIDTH 64 /* branches of the fan-out scenario */

/* What the command line asked for and the sizes that follow from it. */
typedef struct {
    bool quick;
    size_t reps;          /* repetitions per scenario, at least */
    double min_seconds;   /* repeat until a scenario ran this long */
    size_t round_trips;   /* round trips timed per floor repetition */
    uint64_t cycle_steps; /* supersteps of the cycle */
    uint64_t rounds;      /* rounds of the fan-out / fan-in loop */
    size_t kills;         /* worker kills per transport */
    char machine[256];
    char self_exe[4096];  /* this program, for the children */
} bench_cfg_t;

/* --- bench_workers_children.c: CURVE keys, endpoints, child processes */

/* Server secret, allow dir, worker secret, server public; filled by
 * bw_curve(). */
extern char bw_curve_paths[4][300];

/* --curve: makes fresh keys and names their directory in
 * CAIRN_BENCH_CURVE for the children. Returns 0 or -1. */
int
bw_curve_setup(void);

/* Whether --curve was given (here or in the parent); if so, fills
 * bw_curve_paths. */
bool
bw_curve(void);

/* A fresh ipc or tcp endpoint for transport t ("ipc", "tcp") into out;
 * returns 0 or -1. bw_endpoint_cleanup removes an ipc endpoint's file. */
int
bw_endpoint(const char *t, const char *tag, char *out, size_t size);
void
bw_endpoint_cleanup(const char *endpoint);

/* Starts `self_exe args...` as a child that dies with this process;
 * returns its pid or -1. */
pid_t
bw_spawn(const bench_cfg_t *cfg, char *const args[], int keep_fd);

/* Starts one --worker child on endpoint (token/fd: kill scenario only,
 * else NULL / -1). Returns its pid or -1. */
pid_t
bw_spawn_worker(const bench_cfg_t *cfg, const char *endpoint,
                uint32_t heartbeat_ms, const char *token, int fd);

/* Waits for a child known to be dead; bw_reap_all ends and waits for
 * every child still running. */
void
bw_reap_dead(pid_t pid);
void
bw_reap_all(void);

/* The child modes: --echo ENDPOINT and --worker ENDPOINT HEARTBEAT_MS
 * [TOKEN FD]. Each returns the process's exit status. */
int
bw_echo_main(const char *endpoint);
int
bw_worker_main(int argc, char **argv);

/* --- bench_workers_graphs.c: executor types and workflows */

/* Adds bench.inc, bench.forward and bench.kill_inc. Returns 0 or -1. */
int
bw_registry_fill(cairn_registry_t *registry);

/* Arms bench.kill_inc in a worker process: the step that unlinks token
 * writes its pid to fd and sleeps until killed. */
void
bw_kill_step_arm(const char *token, int fd);

/* Handler calls in this process since the last reset (a run on workers
 * must leave it at 0). */
void
bw_local_invocations_reset(void);
uint64_t
bw_local_invocations(void);

/* Builders: the cycle of bench.inc or bench.kill_inc for `steps`
 * supersteps, the fan-out / fan-in loop for `rounds` rounds. */
int
bw_build_cycle(cairn_builder_t *b, uint64_t steps);
int
bw_build_kill_cycle(cairn_builder_t *b, uint64_t steps);
int
bw_build_fanout(cairn_builder_t *b, uint64_t rounds);

/* Builds a workflow with `build`; NULL (reported on stderr) on failure.
 * Caller owns the result. */
cairn_workflow_t *
bw_workflow(const cairn_registry_t *registry,
            int (*build)(cairn_builder_t *, uint64_t), uint64_t size);

/* --- cairn_bench_workers.c */

/* The log sink of the coordinator and the workers: errors only. */
void
bw_log_sink(cairn_log_level_t level, const char *module, const char *message,
            void *userdata);

#endif
