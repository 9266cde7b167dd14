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

/// A descriptor of this process for descriptor `fd` of process `pid` (pidfd_open and
/// pidfd_getfd, Linux 5.6; needs ptrace access to the process), or -errno.
int CPeriscopeBPF_take_descriptor(int pid, int fd);

/// Puts the calling thread under SCHED_BATCH (`batch` non-zero; it then never preempts another
/// task when it wakes) or SCHED_OTHER, with a time slice of `slice_ns` (the EEVDF scheduler's
/// custom slice, Linux 6.12+, clamped by the kernel to 0.1–100 ms; 0: the kernel's default).
/// The thread's nice value is kept. Returns 0 or -errno.
int CPeriscopeBPF_schedule_calling_thread(int batch, uint64_t slice_ns);
#endif
