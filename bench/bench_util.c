/* bench_util.c - shared by the bench programs (see bench_util.h). */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stats_t
bench_stats(double *values, size_t n)
{
    bench_stats_t st = {0, 0, 0, 0};
    if (n == 0)
        return st;
    qsort(values, n, sizeof *values, s_cmp_double);
    st.median =
        n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
    st.p99 = values[(99 * n + 99) / 100 - 1];
    st.min = values[0];
    st.max = values[n - 1];
    return st;
}

void
bench_machine(char *buf, size_t size)
{
    char model[192] = "unknown cpu";
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(model, sizeof model, "%s", colon + 1 + (colon[1] == ' '));
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    snprintf(buf, size, "%s, %ld cores", model, sysconf(_SC_NPROCESSORS_ONLN));
}

/* Writes s as a JSON string (quotes included). */
static void
s_print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

void
bench_print_line(const char *name, const char *params, const bench_stats_t *st,
                 const char *units, const char *machine, double multiple,
                 const char *extra)
{
    printf("{\"name\":");
    s_print_json_string(name);
    printf(",\"params\":%s,\"median\":%.3f,\"p99\":%.3f,\"min\":%.3f,"
           "\"max\":%.3f,\"units\":",
           params, st->median, st->p99, st->min, st->max);
    s_print_json_string(units);
    printf(",\"machine\":");
    s_print_json_string(machine);
    if (multiple >= 0)
        printf(",\"floor_multiple\":%.2f", multiple);
    printf("%s}\n", extra);
    fflush(stdout);
}

int
bench_repeat(size_t reps, double min_seconds, bench_rep_fn rep, void *arg,
             bench_samples_t *out)
{
    double start = bench_now();
    out->n = 0;
    while (out->n < BENCH_MAX_REPS
           && (out->n < reps || bench_now() - start < min_seconds)) {
        int rc = rep(arg, &out->values[out->n]);
        if (rc < 0)
            return rc;
        out->n++;
    }
    return 0;
}

bench_stats_t
bench_rates(const bench_samples_t *secs, uint64_t count)
{
    double values[BENCH_MAX_REPS];
    for (size_t i = 0; i < secs->n; i++)
        values[i] = (double)count / secs->values[i];
    return bench_stats(values, secs->n);
}

bench_stats_t
bench_us_per_step(const bench_samples_t *secs, uint64_t steps)
{
    double values[BENCH_MAX_REPS];
    for (size_t i = 0; i < secs->n; i++)
        values[i] = secs->values[i] * 1e6 / (double)steps;
    return bench_stats(values, secs->n);
}

int
bench_router_recv(bench_roundtrip_t *rt, uint8_t *payload, size_t size)
{
    int n = zmq_recv(rt->router, rt->peer, sizeof rt->peer, 0);
    if (n < 0)
        return -1;
    rt->peer_len = (size_t)n;
    return zmq_recv(rt->router, payload, size, 0);
}

int
bench_roundtrip_rep(void *arg, double *value)
{
    bench_roundtrip_t *rt = arg;
    uint8_t frame[BENCH_FRAME_BYTES];
    memset(frame, 'x', sizeof frame);
    for (size_t i = 0; i < rt->round_trips; i++) {
        double t0 = bench_now();
        if (zmq_send(rt->router, rt->peer, rt->peer_len, ZMQ_SNDMORE) < 0
            || zmq_send(rt->router, frame, sizeof frame, 0) < 0
            || bench_router_recv(rt, frame, sizeof frame) != BENCH_FRAME_BYTES)
            return -1;
        rt->samples[i] = (bench_now() - t0) * 1e6;
    }
    *value = bench_stats(rt->samples, rt->round_trips).median;
    return 0;
}
