/* affinity.c - pinning engine threads to one CPU (see affinity.h). */
#include "base/affinity.h"

#include <pthread.h>

int
cairn__affinity_current_cpu(void)
{
    return sched_getcpu();
}

int
cairn__affinity_pin_self(int cpu, cpu_set_t *saved)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE)
        return -1;
    pthread_t self = pthread_self();
    if (saved && pthread_getaffinity_np(self, sizeof *saved, saved) != 0)
        return -1;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(self, sizeof one, &one) == 0 ? 0 : -1;
}

void
cairn__affinity_restore(const cpu_set_t *saved)
{
    pthread_setaffinity_np(pthread_self(), sizeof *saved, saved);
}
