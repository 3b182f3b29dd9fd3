/* bench_util.h - what every bench program shares: the clock, statistics
 * over repetitions, the machine line and the JSON result line. */
#ifndef CAIRN_BENCH_UTIL_H_INCLUDED
#define CAIRN_BENCH_UTIL_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_REPS 1000  /* repetitions per scenario, at most */
#define BENCH_FRAME_BYTES 64 /* the floors' round-trip frame size */

/* Summary of the values of one scenario over its repetitions. */
typedef struct {
    double median;
    double p99;
    double min;
    double max;
} bench_stats_t;

/* The values a scenario collected, one per repetition. */
typedef struct {
    double values[BENCH_MAX_REPS];
    size_t n;
} bench_samples_t;

/* One repetition: stores what it measured in *value; returns 0 or < 0. */
typedef int (*bench_rep_fn)(void *arg, double *value);

/* A ROUTER <-> DEALER round-trip floor, shared by its repetitions. */
typedef struct {
    void *router;      /* ZMQ_ROUTER (raw handle), the peer connected */
    uint8_t peer[256]; /* the echoing peer's routing id, once it spoke */
    size_t peer_len;
    size_t round_trips; /* timed per repetition */
    double *samples;    /* round_trips entries, scratch */
} bench_roundtrip_t;

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* Sorts values in place and summarises them: the median (the mean of the
 * two middle values when n is even), p99 by nearest rank. All 0 when n is
 * 0. */
bench_stats_t bench_stats(double *values, size_t n);

/* Calls rep until it ran reps times and for min_seconds, at most
 * BENCH_MAX_REPS times. 0, or the first failure. */
int bench_repeat(size_t reps, double min_seconds, bench_rep_fn rep, void *arg,
                 bench_samples_t *out);

/* Stats of count / seconds over the repetitions' run times. */
bench_stats_t bench_rates(const bench_samples_t *secs, uint64_t count);

/* Stats of microseconds per step over the repetitions' run times. */
bench_stats_t bench_us_per_step(const bench_samples_t *secs, uint64_t steps);

/* Receives [routing id][payload] on rt->router, keeping the routing id;
 * the payload size, or -1. */
int bench_router_recv(bench_roundtrip_t *rt, uint8_t *payload, size_t size);

/* A bench_rep_fn (arg: bench_roundtrip_t): the median of rt->round_trips
 * timed round trips of a BENCH_FRAME_BYTES frame, in microseconds. */
int bench_roundtrip_rep(void *arg, double *value);

/* Fills buf with "<cpu model>, <n> cores" (/proc/cpuinfo, online CPUs). */
void bench_machine(char *buf, size_t size);

/* Prints one result line on stdout and flushes it:
 * {"name", "params", "median", "p99", "min", "max", "units", "machine"},
 * then "floor_multiple" when multiple >= 0, then extra (more members as
 * ",\"k\":v" text, or ""). params is a JSON object's text. */
void bench_print_line(const char *name, const char *params,
                      const bench_stats_t *st, const char *units,
                      const char *machine, double multiple, const char *extra);

#endif
