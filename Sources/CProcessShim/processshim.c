/* processshim.c — see include/processshim.h. */
#define _GNU_SOURCE
#include <sched.h>
#include "processshim.h"

int emu_place_apart(pid_t pid) {
    cpu_set_t allowed;
    /* A kernel with more CPUs than cpu_set_t holds (1024) fails here with EINVAL: no placement. */
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    int here = sched_getcpu();
    if (here < 0 || here >= CPU_SETSIZE || !CPU_ISSET(here, &allowed)) return 0;
    CPU_CLR(here, &allowed);
    if (CPU_COUNT(&allowed) == 0) return 0;
    return sched_setaffinity(pid, sizeof allowed, &allowed) == 0 ? 1 : 0;
}

int emu_place_anywhere(pid_t pid) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    return sched_setaffinity(pid, sizeof allowed, &allowed) == 0 ? 0 : -1;
}
