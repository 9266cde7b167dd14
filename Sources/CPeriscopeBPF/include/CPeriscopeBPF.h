#ifndef CPERISCOPEBPF_H
#define CPERISCOPEBPF_H
// The event and map layouts shared with the kernel programs in bpf/.
#include "../../../bpf/include/periscope_events.h"
#include "../../../bpf/include/periscope_propagation.h"
#include "../../../bpf/include/periscope_tls.h"
#include "../../../bpf/include/periscope_gotls.h"
#include <stdint.h>

/// `BPF_TRACE_UPROBE_MULTI` (Linux 6.6), which the system's headers may predate: the expected
/// attach type of programs attached through uprobe_multi links.
#define CPERISCOPEBPF_TRACE_UPROBE_MULTI 48
/// `BPF_F_UPROBE_MULTI_RETURN`: the link's probes fire on return.
#define CPERISCOPEBPF_UPROBE_MULTI_RETURN 1

/// Creates one uprobe_multi link (BPF_LINK_CREATE) of `program_fd` at `count` file offsets of
/// `path`, each with its attach cookie; every process mapping the file hits them. Returns the
/// link's file descriptor, or -errno.
int CPeriscopeBPF_uprobe_multi_link(int program_fd, const char *path, const uint64_t *offsets,
                                    const uint64_t *cookies, uint32_t count, uint32_t flags);

/// Adds `delta` to the 64-bit count at `count`, atomically: memory kernel programs update too
/// (a BPF_F_MMAPABLE array mapped into this process).
static inline void CPeriscopeBPF_atomic_add(uint64_t *count, int64_t delta)
{
    __atomic_fetch_add(count, (uint64_t)delta, __ATOMIC_SEQ_CST);
}

/// A descriptor referring to process `pid` (pidfd_open, Linux 5.3), or -errno; the caller closes it.
int CPeriscopeBPF_open_process(int pid);

/// A descriptor of this process for descriptor `fd` of the process `pidfd` refers to
/// (pidfd_getfd, Linux 5.6; needs ptrace access to the process), or -errno.
int CPeriscopeBPF_take_descriptor(int pidfd, int fd);

/// How `CPeriscopeBPF_schedule_thread` schedules a thread.
enum {
    /// SCHED_OTHER.
    CPERISCOPEBPF_SCHEDULE_ORDINARY = 0,
    /// SCHED_BATCH: never preempts another task when it wakes.
    CPERISCOPEBPF_SCHEDULE_BATCH = 1,
    /// SCHED_IDLE: runs only when no other task wants the CPU; a CPU running only such tasks
    /// counts as idle where the kernel places a task that wakes, and that task preempts it.
    CPERISCOPEBPF_SCHEDULE_IDLE = 2,
};

/// Schedules thread `tid` of this process (0: the calling thread) as `kind` says, with a time
/// slice of `slice_ns` (the EEVDF scheduler's custom slice, Linux 6.12+, clamped by the kernel to
/// 0.1–100 ms; 0: the kernel's default; not for SCHED_IDLE). The thread's nice value is kept.
/// Leaving SCHED_IDLE needs CAP_SYS_NICE (or an RLIMIT_NICE that allows the thread's nice
/// value). Returns 0 or -errno.
int CPeriscopeBPF_schedule_thread(int tid, int kind, uint64_t slice_ns);

/// The calling thread's id (gettid).
int CPeriscopeBPF_thread_id(void);

/// An acquiring load of a 64-bit word another thread, or the kernel, writes.
uint64_t CPeriscopeBPF_load_acquire_u64(const uint64_t *address);

/// An epoll descriptor watching `fd` edge-triggered: a wait ends when `fd`'s owner wakes its
/// waiters, not while it merely stays readable. Returns the descriptor or -errno.
int CPeriscopeBPF_wakeups_open(int fd);

/// Waits up to `timeout_ms` on a descriptor from `CPeriscopeBPF_wakeups_open`: 1 when woken,
/// 0 at the timeout, or -errno.
int CPeriscopeBPF_wakeups_wait(int epoll, int timeout_ms);
#endif
