/*
 * processshim.h — CPU placement of a child process (EmulsionIO's decode worker) and of a
 * helper thread (EmulsionCore's ParallelLoop), and of a thread waiting for a worker's answer.
 *
 * What: move a just-forked child, or a helper about to be woken, off the CPU its parent runs on.
 * Why: Linux queues a new task on its parent's CPU. While the parent stays busy there, the child
 * waits for it: on the project's 2-core machine (Linux 6.18) a child forked by a parent that kept
 * computing first ran 2.85 ms later at the median, 0.13 ms when the parent moved it to the other
 * CPU at once, and as soon when the parent gave the child its whole mask back right after the
 * move (docs/PERFORMANCE.md, session 19). The decode worker is forked exactly so that it decodes
 * while the parent loads the profile; with its mask whole again, LibRaw's OpenMP threads and a
 * worker serving a batch run anywhere. A helper thread woken by a thread that goes on computing
 * is queued the same way: ParallelLoop keeps it off the waker's CPU for the wake-up only
 * (docs/PERFORMANCE.md, session 21).
 * The calls are Linux's sched_getcpu / sched_getaffinity / sched_setaffinity, which glibc declares
 * only under _GNU_SOURCE (Swift's Glibc module is built without it), hence C.
 * Reference: sched_setaffinity(2), sched_getcpu(3).
 */
#pragma once

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Moves `pid`, a task that has not run yet, to another CPU the calling thread may use, then
 *  gives it the calling thread's whole CPU mask. Returns 1 when it moved it, 0 when there is no
 *  other CPU or a call failed (the child is then left as it was). */
int emu_start_elsewhere(pid_t pid);

/** The calling thread's kernel thread ID (gettid(2)). */
int emu_thread_id(void);

/** Lets thread `tid` run only on the CPUs the calling thread may use other than the one it runs
 *  on now: set before waking a helper, so that the kernel places it elsewhere. Returns 1 when
 *  it did, 0 when there is no other CPU or a call failed. */
int emu_keep_off_this_cpu(int tid);

/** Gives thread `tid` the calling thread's whole CPU mask again (a thread already placed stays
 *  where it is). */
void emu_allow_every_cpu(int tid);

/** A CPU mask (1024 CPUs, as glibc's cpu_set_t), opaque to Swift. */
typedef struct { unsigned long bits[1024 / (8 * sizeof(unsigned long))]; } emu_cpu_mask;

/** Lets the calling thread run only on the CPU it runs on now, its mask saved in `saved`, for
 *  a wait whose waker should not take it to the waker's CPU; returns 1 when it did. */
int emu_stay_on_this_cpu(emu_cpu_mask *saved);

/** Gives the calling thread the mask `emu_stay_on_this_cpu` saved. */
void emu_restore_cpus(const emu_cpu_mask *saved);

/** Closes every descriptor from `first` up (close_range(2); a loop where the kernel lacks it).
 *  Async-signal-safe: for a forked child before it runs anything else. */
void emu_close_descriptors_from(int first);

#ifdef __cplusplus
}
#endif
