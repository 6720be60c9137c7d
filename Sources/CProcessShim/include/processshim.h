/*
 * processshim.h — CPU placement of a child process, for EmulsionIO's decode worker.
 *
 * What: move a just-forked child off the CPU its parent runs on.
 * Why: Linux queues a new task on its parent's CPU. While the parent stays busy there, the child
 * waits for it: on the project's 2-core machine (Linux 6.18) a child forked by a parent that kept
 * computing first ran 2.85 ms later at the median, 0.13 ms when the parent moved it to the other
 * CPU at once, and as soon when the parent gave the child its whole mask back right after the
 * move (docs/PERFORMANCE.md, session 19). The decode worker is forked exactly so that it decodes
 * while the parent loads the profile; with its mask whole again, LibRaw's OpenMP threads and a
 * worker serving a batch run anywhere.
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

/** Closes every descriptor from `first` up (close_range(2); a loop where the kernel lacks it).
 *  Async-signal-safe: for a forked child before it runs anything else. */
void emu_close_descriptors_from(int first);

#ifdef __cplusplus
}
#endif
