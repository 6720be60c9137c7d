/* processshim.c — see include/processshim.h. */
#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include "processshim.h"
#include <string.h>

_Static_assert(sizeof(emu_cpu_mask) == sizeof(cpu_set_t), "emu_cpu_mask is a cpu_set_t");

int emu_start_elsewhere(pid_t pid) {
    /* The kernel moves a queued task at once when its own CPU leaves its mask; with the mask
       given back, nothing moves it back: the scheduler leaves a task on an allowed CPU. */
    if (!emu_keep_off_this_cpu(pid)) return 0;
    emu_allow_every_cpu(pid);
    return 1;
}

void emu_close_descriptors_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
#endif
    struct rlimit limit;
    long last = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (long)limit.rlim_cur : 65536;
    if (last > 65536) last = 65536;
    for (long fd = first; fd < last; fd++) close((int)fd);
}

int emu_thread_id(void) { return (int)syscall(SYS_gettid); }

/* The calling thread's CPU mask and the CPU it runs on, which the mask holds; -1 when either
   cannot be read (a kernel with more CPUs than cpu_set_t holds, 1024, fails with EINVAL). */
static int this_cpu(cpu_set_t *allowed) {
    if (sched_getaffinity(0, sizeof *allowed, allowed) != 0) return -1;
    int here = sched_getcpu();
    return here >= 0 && here < CPU_SETSIZE && CPU_ISSET(here, allowed) ? here : -1;
}

int emu_keep_off_this_cpu(int tid) {
    cpu_set_t allowed, others;
    int here = this_cpu(&allowed);
    if (here < 0) return 0;
    others = allowed;
    CPU_CLR(here, &others);
    if (CPU_COUNT(&others) == 0) return 0;
    return sched_setaffinity(tid, sizeof others, &others) == 0;
}

void emu_allow_every_cpu(int tid) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) sched_setaffinity(tid, sizeof allowed, &allowed);
}

int emu_stay_on_this_cpu(emu_cpu_mask *saved) {
    cpu_set_t allowed, here;
    int cpu = this_cpu(&allowed);
    if (cpu < 0 || CPU_COUNT(&allowed) < 2) return 0;
    CPU_ZERO(&here);
    CPU_SET(cpu, &here);
    if (sched_setaffinity(0, sizeof here, &here) != 0) return 0;
    memcpy(saved, &allowed, sizeof allowed);
    return 1;
}

void emu_restore_cpus(const emu_cpu_mask *saved) {
    cpu_set_t allowed;
    memcpy(&allowed, saved, sizeof allowed);
    sched_setaffinity(0, sizeof allowed, &allowed);
}
