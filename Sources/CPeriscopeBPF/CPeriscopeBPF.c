// Helpers for Swift callers of the shared BPF layout.
#include "CPeriscopeBPF.h"
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

// The link_create member of union bpf_attr for uprobe_multi, as the kernel lays it out
// (include/uapi/linux/bpf.h, Linux 6.6+), spelled out because the system's headers may predate it.
struct uprobe_multi_link_attr {
    uint32_t prog_fd;
    uint32_t target_fd;
    uint32_t attach_type;
    uint32_t flags;
    uint64_t path;
    uint64_t offsets;
    uint64_t ref_ctr_offsets;
    uint64_t cookies;
    uint32_t cnt;
    uint32_t uprobe_flags;
    uint32_t pid;
    uint32_t _pad;
};
_Static_assert(sizeof(struct uprobe_multi_link_attr) == 64, "uprobe_multi link_create layout");

#define CPERISCOPEBPF_BPF_LINK_CREATE 28

int CPeriscopeBPF_uprobe_multi_link(int program_fd, const char *path, const uint64_t *offsets,
                                    const uint64_t *cookies, uint32_t count, uint32_t flags)
{
    // bpf_attr is larger than this member; the kernel wants the rest zeroed.
    union {
        struct uprobe_multi_link_attr link;
        unsigned char bytes[128];
    } attr;
    memset(&attr, 0, sizeof(attr));
    attr.link.prog_fd = (uint32_t)program_fd;
    attr.link.attach_type = CPERISCOPEBPF_TRACE_UPROBE_MULTI;
    attr.link.path = (uint64_t)(uintptr_t)path;
    attr.link.offsets = (uint64_t)(uintptr_t)offsets;
    attr.link.cookies = (uint64_t)(uintptr_t)cookies;
    attr.link.cnt = count;
    attr.link.uprobe_flags = flags;
    long fd;
    do {
        fd = syscall(SYS_bpf, CPERISCOPEBPF_BPF_LINK_CREATE, &attr, sizeof(attr));
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : (int)fd;
}

#define CPERISCOPEBPF_SYS_PIDFD_OPEN 434
#define CPERISCOPEBPF_SYS_PIDFD_GETFD 438

int CPeriscopeBPF_open_process(int pid)
{
    long pidfd = syscall(CPERISCOPEBPF_SYS_PIDFD_OPEN, pid, 0);
    return pidfd < 0 ? -errno : (int)pidfd;
}

int CPeriscopeBPF_take_descriptor(int pidfd, int fd)
{
    long taken;
    do {
        taken = syscall(CPERISCOPEBPF_SYS_PIDFD_GETFD, pidfd, fd, 0);
    } while (taken < 0 && errno == EINTR);
    return taken < 0 ? -errno : (int)taken;
}

// struct sched_attr (include/uapi/linux/sched/types.h), spelled out because the system's
// headers and C library may lack it and sched_setattr.
struct cperiscopebpf_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};
_Static_assert(sizeof(struct cperiscopebpf_sched_attr) == 48, "sched_attr, first version");

#define CPERISCOPEBPF_SCHED_NORMAL 0
#define CPERISCOPEBPF_SCHED_BATCH 3
#define CPERISCOPEBPF_SCHED_IDLE 5

int CPeriscopeBPF_schedule_thread(int tid, int kind, uint64_t slice_ns)
{
    struct cperiscopebpf_sched_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    switch (kind) {
    case CPERISCOPEBPF_SCHEDULE_BATCH:
        attr.sched_policy = CPERISCOPEBPF_SCHED_BATCH;
        break;
    case CPERISCOPEBPF_SCHEDULE_IDLE:
        attr.sched_policy = CPERISCOPEBPF_SCHED_IDLE;
        break;
    default:
        attr.sched_policy = CPERISCOPEBPF_SCHED_NORMAL;
        break;
    }
    if (kind != CPERISCOPEBPF_SCHEDULE_IDLE)
        attr.sched_runtime = slice_ns;
    // The thread's nice value is kept (SCHED_IDLE keeps it too, for the way back).
    pid_t target = tid > 0 ? (pid_t)tid : (pid_t)syscall(SYS_gettid);
    errno = 0;
    int nice_value = getpriority(PRIO_PROCESS, (id_t)target);
    if (errno == 0)
        attr.sched_nice = nice_value;
    long result = syscall(SYS_sched_setattr, target, &attr, 0);
    return result < 0 ? -errno : 0;
}

int CPeriscopeBPF_thread_id(void)
{
    return (int)syscall(SYS_gettid);
}

uint64_t CPeriscopeBPF_load_acquire_u64(const uint64_t *address)
{
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

int CPeriscopeBPF_wakeups_open(int fd)
{
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0)
        return -errno;
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN | EPOLLET;
    event.data.fd = fd;
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0) {
        int error = errno;
        close(epoll);
        return -error;
    }
    return epoll;
}

int CPeriscopeBPF_wakeups_wait(int epoll, int timeout_ms)
{
    struct epoll_event event;
    int result = epoll_wait(epoll, &event, 1, timeout_ms);
    return result < 0 ? -errno : result;
}
