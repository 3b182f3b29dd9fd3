/* affinity.h - keeping an engine's threads on one CPU.
 *
 * With CAIRN_CPU_SHARED the coordinator (the thread inside
 * cairn_engine_run / cairn_engine_resume) and every executor host thread
 * run on one CPU: each hand-off between them is then a same-CPU wake-up
 * instead of a cross-CPU one, which on virtual machines costs several
 * times more (bench/RESULTS.md, "Thread placement").
 */
#ifndef CAIRN_AFFINITY_H_INCLUDED
#define CAIRN_AFFINITY_H_INCLUDED

#include <sched.h> /* cpu_set_t: _GNU_SOURCE is set for the whole build */

/* The CPU the calling thread runs on now, or -1 when unknown. */
int cairn__affinity_current_cpu(void);

/* Pins the calling thread to cpu. When saved is not NULL it first gets
 * the thread's previous CPU set. 0, or -1 (errno) when the CPU is not
 * allowed or the call failed; the thread is then left as it was. */
int cairn__affinity_pin_self(int cpu, cpu_set_t *saved);

/* Gives the calling thread back the CPU set saved by pin_self. */
void cairn__affinity_restore(const cpu_set_t *saved);

#endif
