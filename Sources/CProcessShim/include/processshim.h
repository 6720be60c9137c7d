/*
 * processshim.h — CPU placement of a child process, for EmulsionIO's decode worker.
 *
 * What: keep a just-forked child off the CPU its parent runs on, and later give it the parent's
 * CPUs back.
 * Why: Linux queues a new task on its parent's CPU. While the parent stays busy there, the child
 * waits for it: on the project's 2-core machine (Linux 6.18) a child forked by a parent that kept
 * computing first ran 2.85 ms later at the median, 0.13 ms when the parent moved it to the other
 * CPU at once (docs/PERFORMANCE.md, session 19). The decode worker is forked exactly so that it
 * decodes while the parent loads the profile.
 * The calls are Linux's sched_getcpu / sched_getaffinity / sched_setaffinity, which glibc declares
 * only under _GNU_SOURCE (Swift's Glibc module is built without it), hence C.
 * Reference: sched_setaffinity(2), sched_getcpu(3).
 */
#pragma once

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Restricts `pid` to the CPUs the calling thread may use, less the one it runs on now. Returns 1
 *  when it did, 0 when there is no other CPU or a call failed (the child is then left as it was). */
int emu_place_apart(pid_t pid);

/** Gives `pid` the calling thread's CPU mask. Returns 0 on success, -1 on failure. */
int emu_place_anywhere(pid_t pid);

#ifdef __cplusplus
}
#endif
