/* Periscope's generic tracer: TCP connections and their payloads, from syscall
 * tracepoints only (no kprobes, no fentry).
 *
 * One raw tracepoint on sys_exit sees every syscall's return: the syscall number comes
 * from regs->orig_ax and the original arguments from regs->di/si/dx, so no map is
 * written between enter and exit. Filtering happens first (syscall number, then PID,
 * then socket type and ports); only selected events reach the ring buffer, submitted
 * without waking the reader until enough data waits. */
#include "periscope_vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "periscope_events.h"
#include "periscope_tls.h"
#include "periscope_arch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* This file builds twice. By default the hot path reads kernel memory through BTF-typed
 * pointers — a tp_btf program, bpf_get_current_task_btf() and the bpf_rdonly_cast kfunc
 * (Linux 6.2+) — which compile to plain loads instead of a helper call per field. With
 * PERISCOPE_PROBE_READS (tracer_compat.bpf.c) every kernel read is a
 * bpf_probe_read_kernel and sys_exit is a plain raw tracepoint, for older kernels. The
 * agent loads the first variant the kernel accepts. */
#ifdef PERISCOPE_PROBE_READS
#define KREAD(ptr, field) BPF_CORE_READ(ptr, field)
#define KCAST(type, ptr) ((struct type *)(ptr))
#define CURRENT_TASK() ((struct task_struct *)bpf_get_current_task())
#define SYS_EXIT_SECTION "raw_tracepoint/sys_exit"
/* The verifier's budget for this variant holds fewer iovec entries per syscall. */
#define IOV_ENTRIES 16
#else
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KREAD(ptr, field) ((ptr)->field)
#define KCAST(type, ptr) ((struct type *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(struct type)))
#define CURRENT_TASK() bpf_get_current_task_btf()
#define SYS_EXIT_SECTION "tp_btf/sys_exit"
#define IOV_ENTRIES PERISCOPE_MAX_IOV
#endif

/* The pointer stored at `address` in kernel memory, or 0 when it cannot be read. */
static __always_inline __u64 kernel_pointer_at(__u64 address)
{
#ifdef PERISCOPE_PROBE_READS
    __u64 value = 0;
    if (bpf_probe_read_kernel(&value, sizeof(value), (const void *)address))
        return 0;
    return value;
#else
    /* A plain load through a type whose first field is a pointer (a fault reads 0), not a
     * helper call. */
    return (__u64)KCAST(llist_node, (const void *)address)->next;
#endif
}

/* iovec entries read with one copy. */
#define IOV_BATCH 4

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115



#include "periscope_shared_maps.h"
#include "periscope_exec.h"

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, PERISCOPE_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, PERISCOPE_MAX_SOCKETS);
    __type(key, __u64);
    __type(value, struct periscope_socket_state);
} sockets SEC(".maps");

/* The state the kernel keeps for `socket_id`, or NULL. */
static __always_inline struct periscope_socket_state *socket_state(__u64 socket_id)
{
#ifndef PERISCOPE_PROBE_READS
    __u32 index = socket_slot_index(socket_id);
    struct socket_slot *slot = bpf_map_lookup_elem(&socket_slots, &index);
    if (slot && slot->socket_id == socket_id)
        return &slot->state;
#endif
    return bpf_map_lookup_elem(&sockets, &socket_id);
}

/* Keeps `fresh` as the state of `socket_id`, which has none (socket_state gave NULL): in its
 * slot when that is free, else in `sockets`. */
static __always_inline void socket_state_add(__u64 socket_id, const struct periscope_socket_state *fresh)
{
#ifndef PERISCOPE_PROBE_READS
    __u32 index = socket_slot_index(socket_id);
    struct socket_slot *slot = bpf_map_lookup_elem(&socket_slots, &index);
    if (slot && slot->socket_id == 0 && __sync_val_compare_and_swap(&slot->socket_id, 0, socket_id) == 0) {
        slot->state = *fresh;
        return;
    }
#endif
    bpf_map_update_elem(&sockets, &socket_id, fresh, BPF_ANY);
}

/* Forgets the state of `socket_id` (its connection ended). A freed slot's state is zero until
 * the next socket claiming it writes its own. */
static __always_inline void socket_state_delete(__u64 socket_id)
{
#ifndef PERISCOPE_PROBE_READS
    __u32 index = socket_slot_index(socket_id);
    struct socket_slot *slot = bpf_map_lookup_elem(&socket_slots, &index);
    if (slot && slot->socket_id == socket_id) {
        __builtin_memset(&slot->state, 0, sizeof(slot->state));
        slot->socket_id = 0;
        return;
    }
#endif
    bpf_map_delete_elem(&sockets, &socket_id);
}

/* Room for one event plus slack, so that variable-offset copies of iovecs stay in bounds. */
struct scratch {
    struct periscope_event event;
    __u8 slack[PERISCOPE_MAX_CAPTURE];
    /* The socket of the event being built and its frame_walks bits, as admission found them:
     * the frame walk looks up no walk state for the lanes of other sockets. */
    __u64 walk_socket;
    __u8 frame_walks;
    /* Admission found the event's bytes going the way its socket's requests go: a write
     * there may carry the context written into it (carry_context). */
    __u8 requests_way;
    /* `waiting` holds what the ring buffer had waiting when admission asked (reader_behind):
     * submit decides the wakeup from it instead of asking again. Cleared by start_event. */
    __u8 waiting_known;
    __u8 _pad[5];
    __u64 waiting;
    /* The iovec entries emit_data_iov reads, IOV_BATCH at a time. */
    struct periscope_iovec iov[IOV_BATCH];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} scratch_space SEC(".maps");

static __always_inline void count(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value)
        *value += 1;
}

static __always_inline struct periscope_config *current_config(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&config, &zero);
}

static __always_inline void pid_slot_add(__u32 slots, __u32 tgid, __s64 delta)
{
    __u32 index = slots + periscope_pid_slot(tgid);
    __u64 *count = bpf_map_lookup_elem(&pid_slots, &index);
    if (count)
        __sync_fetch_and_add(count, delta);
}

/* Puts `pid` in `map` (target_pids or excluded_pids, counted in `slots`), or sets its value. */
static __always_inline void pid_map_put(void *map, __u32 slots, __u32 pid, __u8 value)
{
    if (bpf_map_update_elem(map, &pid, &value, BPF_NOEXIST) == 0)
        pid_slot_add(slots, pid, 1);
    else
        bpf_map_update_elem(map, &pid, &value, BPF_EXIST);
}

static __always_inline void pid_map_delete(void *map, __u32 slots, __u32 pid)
{
    if (bpf_map_delete_elem(map, &pid) == 0)
        pid_slot_add(slots, pid, -1);
}

/* For the processes of the node that are not traced, the common case, no hash table look-up:
 * their slot's count says they are not in the map. */
static __always_inline bool pid_selected(__u32 tgid, const struct periscope_config *cfg)
{
    if (!(cfg->flags & PERISCOPE_FLAG_ALL_PIDS)
        && (!pid_slot_used(PERISCOPE_PID_SLOTS_TARGETS, tgid) || !bpf_map_lookup_elem(&target_pids, &tgid)))
        return false;
    return !pid_slot_used(PERISCOPE_PID_SLOTS_EXCLUDED, tgid) || bpf_map_lookup_elem(&excluded_pids, &tgid) == NULL;
}

/* The open file behind `fd` of the current process, or NULL. */
static __always_inline struct file *file_of_fd(int fd)
{
    if (fd < 0)
        return NULL;
    struct task_struct *task = CURRENT_TASK();
    struct files_struct *files = KREAD(task, files);
    if (!files)
        return NULL;
    struct fdtable *fdt = KREAD(files, fdt);
    if (!fdt)
        return NULL;
    unsigned int max_fds = KREAD(fdt, max_fds);
    if ((unsigned int)fd >= max_fds)
        return NULL;
    struct file **fds = KREAD(fdt, fd);
    __u64 entry = kernel_pointer_at((__u64)&fds[fd]);
    if (!entry)
        return NULL;
    return KCAST(file, (const void *)entry);
}

/* The TCP socket of `file`, or NULL. */
static __always_inline struct sock *tcp_sock_of_file(struct file *file)
{
    if (!file)
        return NULL;
    struct inode *inode = KREAD(file, f_inode);
    if (!inode || (KREAD(inode, i_mode) & S_IFMT) != S_IFSOCK)
        return NULL;
    struct socket *socket = KCAST(socket, KREAD(file, private_data));
    if (!socket)
        return NULL;
    struct sock *sk = KREAD(socket, sk);
    if (!sk || KREAD(sk, sk_type) != SOCK_STREAM || KREAD(sk, sk_protocol) != IPPROTO_TCP)
        return NULL;
    return sk;
}

/* The TCP socket behind `fd` of the current process, or NULL. */
static __always_inline struct sock *tcp_sock_of_fd(int fd)
{
    return tcp_sock_of_file(file_of_fd(fd));
}

/* Whether references other than one descriptor hold `file`: closing that descriptor leaves
 * the socket open for another process (fork, SCM_RIGHTS) or descriptor (dup). */
static __always_inline bool file_held_elsewhere(struct file *file)
{
    if (bpf_core_field_exists(file->f_ref))
        return BPF_CORE_READ(file, f_ref.refcnt.counter) > 0;
    struct file___f_count *old = (struct file___f_count *)file;
    return BPF_CORE_READ(old, f_count.counter) > 1;
}

/* Fills both addresses and ports; false for families other than IPv4/IPv6. */
static __always_inline bool read_tuple(struct sock *sk, struct periscope_tuple *tuple)
{
    unsigned short family = KREAD(sk, __sk_common.skc_family);
    __builtin_memset(tuple, 0, sizeof(*tuple));
    if (family == AF_INET) {
        __be32 local = KREAD(sk, __sk_common.skc_rcv_saddr);
        __be32 peer = KREAD(sk, __sk_common.skc_daddr);
        tuple->local_addr[10] = 0xff;
        tuple->local_addr[11] = 0xff;
        tuple->peer_addr[10] = 0xff;
        tuple->peer_addr[11] = 0xff;
        __builtin_memcpy(&tuple->local_addr[12], &local, 4);
        __builtin_memcpy(&tuple->peer_addr[12], &peer, 4);
    } else if (family == AF_INET6) {
        BPF_CORE_READ_INTO(&tuple->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
        BPF_CORE_READ_INTO(&tuple->peer_addr, sk, __sk_common.skc_v6_daddr);
    } else {
        return false;
    }
    tuple->local_port = KREAD(sk, __sk_common.skc_num);
    tuple->peer_port = bpf_ntohs(KREAD(sk, __sk_common.skc_dport));
    return true;
}

static __always_inline bool port_bit(const struct periscope_ports *set, __u16 port)
{
    return (set->bits[(port >> 6) & (PERISCOPE_PORT_WORDS - 1)] >> (port & 63)) & 1;
}

static __always_inline bool ports_selected(const struct periscope_config *cfg,
                                           const struct periscope_tuple *tuple)
{
    if (!(cfg->flags & PERISCOPE_FLAG_PORT_FILTER))
        return true;
    __u32 zero = 0;
    struct periscope_ports *set = bpf_map_lookup_elem(&ports, &zero);
    if (!set)
        return false;
    return port_bit(set, tuple->local_port) || port_bit(set, tuple->peer_port);
}

/* An event in the scratch space, its timestamp not taken yet. */
static __always_inline struct periscope_event *start_untimed_event(__u32 kind, int fd)
{
    __u32 zero = 0;
    struct scratch *scratch = bpf_map_lookup_elem(&scratch_space, &zero);
    if (!scratch)
        return NULL;
    struct periscope_event *event = &scratch->event;
    __u64 id = bpf_get_current_pid_tgid();
    event->socket_id = 0;
    event->kind = kind;
    event->pid = id >> 32;
    event->tid = (__u32)id;
    event->fd = fd;
    event->total_len = 0;
    event->captured_len = 0;
    event->direction = 0;
    event->role = 0;
    event->syscall_nr = 0;
    event->flags = 0;
    event->tail_len = 0;
    event->chunk_flags = 0;
    event->frames_len = 0;
    scratch->waiting_known = 0;
    return event;
}

static __always_inline struct periscope_event *start_event(__u32 kind, int fd)
{
    struct periscope_event *event = start_untimed_event(kind, fd);
    if (event)
        event->timestamp_ns = bpf_ktime_get_ns();
    return event;
}

/* Starts an event about the TCP socket `fd`; NULL when it is not one or its ports are not selected. */
static __always_inline struct periscope_event *start_socket_event(__u32 kind, int fd,
                                                                  const struct periscope_config *cfg)
{
    struct sock *sk = tcp_sock_of_fd(fd);
    if (!sk)
        return NULL;
    struct periscope_event *event = start_untimed_event(kind, fd);
    if (!event)
        return NULL;
    if (!read_tuple(sk, &event->tuple))
        return NULL;
    /* A socket that has already reached CLOSE (e.g. shut down for writing, then the peer's
     * FIN) has given its local port back; its close must still pass or the connection
     * would never end. User space ignores closes of fds it does not track. */
    bool released = kind == PERISCOPE_EVENT_CLOSE && event->tuple.local_port == 0;
    if (!released && !ports_selected(cfg, &event->tuple))
        return NULL;
    /* Taken once the ports are selected: a policy selecting ports looks at every process's
     * sockets, and the clock is the dearest read here. */
    event->timestamp_ns = bpf_ktime_get_ns();
    event->socket_id = (__u64)sk;
    return event;
}

/* HTTP/2 frame headers past the capture (periscope_frame_walk.h). */
#include "periscope_frame_walk.h"

/* Whether more than cfg->shed_bytes wait in the ring buffer. What waits is noted in the scratch
 * space of `event` (the one being built, or NULL), for submit's wakeup decision. */
static __always_inline bool reader_behind(const struct periscope_config *cfg, struct periscope_event *event)
{
    if (!cfg->shed_bytes)
        return false;
    __u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    if (event) {
        struct scratch *scratch = (struct scratch *)event;
        scratch->waiting = waiting;
        scratch->waiting_known = 1;
    }
    return waiting > cfg->shed_bytes;
}

/* Overload shedding, per socket: whether an event about `socket_id` is written. When the
 * reader falls behind, a connection first seen then is not captured at all, and an open
 * connection stops being captured where its next request begins (the direction its
 * requests go comes back after the other); capture resumes at a later request start once
 * the reader caught up, flagged so that user space knows what it missed. An exchange
 * being captured is never cut. */
enum admission {
    ADMIT_NOT = 0,
    ADMIT = 1,
    /* A transfer on a socket bound to a TLS session whose library moves its records outside
     * its calls: records, reported as such and never shed (periscope_tls_hook.h). */
    ADMIT_TLS_RECORDS = 2,
};

/* Admission is a global function where the kernel allows it: checked once by the verifier, not
 * once for every way into it (the state it finds comes from one map or the other, which the
 * verifier follows apart). */
#ifdef PERISCOPE_PROBE_READS
#define ADMISSION_FUNCTION static __always_inline
#else
#define ADMISSION_FUNCTION __noinline
#endif

/* Admission of the event being built in `scratch`; `walks`: the socket's chunk_walks bits, for
 * transfers. */
ADMISSION_FUNCTION int admission(struct scratch *scratch, const struct periscope_config *cfg, __u8 *walks)
{
    if (!scratch || !cfg || !walks)
        return ADMIT_NOT;
    struct periscope_event *event = &scratch->event;
    __u64 key = event->socket_id;
    struct periscope_socket_state *state = socket_state(key);
    if (state)
        *walks = state->chunk_walks;
    scratch->walk_socket = key;
    scratch->frame_walks = state ? state->frame_walks : 0;
    scratch->requests_way = !state || state->request_direction == event->direction;
    if (event->kind == PERISCOPE_EVENT_CLOSE) {
        bool shed = state && state->shed;
        if (state && !(event->flags & PERISCOPE_EVENT_FLAG_STILL_OPEN))
            socket_state_delete(key);
        if (shed)
            count(PERISCOPE_COUNTER_SHED_EVENTS);
        return !shed;
    }
    __u8 direction = event->direction;
    if (!state || event->kind == PERISCOPE_EVENT_OPEN) {
        /* A socket's first event; or a new connection (connect, accept) at the address of a
         * socket whose end was never seen (its process exited, close_range, dup2), whose
         * state starts afresh instead of carrying the old socket's way, walks, shedding and
         * TLS mark (emit_open has the TLS probes forget the session bound at that address, so
         * that they bind and mark it again if the new connection carries one). */
        struct periscope_socket_state fresh = {};
        fresh.shed = reader_behind(cfg, event);
        if (event->kind == PERISCOPE_EVENT_OPEN) {
            fresh.request_direction = event->role == PERISCOPE_ROLE_SERVER ? PERISCOPE_DIRECTION_INGRESS : PERISCOPE_DIRECTION_EGRESS;
            fresh.role = event->role;
        } else
            fresh.request_direction = direction; /* seen first mid-connection: its first bytes */
        fresh.last_direction = direction;
        if (state) {
            *state = fresh;
            *walks = 0;
            scratch->frame_walks = 0;
            scratch->requests_way = 1;
        } else {
            socket_state_add(key, &fresh);
        }
        if (fresh.shed) {
            count(PERISCOPE_COUNTER_SHED_CONNECTIONS);
            count(PERISCOPE_COUNTER_SHED_EVENTS);
        }
        return !fresh.shed;
    }
    if (event->kind != PERISCOPE_EVENT_DATA)
        return !state->shed;
    if (state->tls && !(event->flags & PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT))
        return ADMIT_TLS_RECORDS;
    bool request_starts = direction == state->request_direction && state->last_direction != direction;
    state->last_direction = direction;
    if (request_starts) {
        bool behind = reader_behind(cfg, event);
        if (state->shed && !behind && frame_walk_at_boundary(event, state->frame_walks)) {
            state->shed = 0;
            state->resumed = 1;
        } else if (!state->shed && behind) {
            state->shed = 1;
            count(PERISCOPE_COUNTER_SHED_REQUESTS);
        }
    }
    if (state->shed) {
        count(PERISCOPE_COUNTER_SHED_EVENTS);
        return false;
    }
    if (state->resumed) {
        state->resumed = 0;
        event->flags |= PERISCOPE_EVENT_FLAG_RESUMED;
    }
    return true;
}

/* `walks`: the socket's chunk_walks bits, for transfers. Every event is built in the scratch
 * space (start_event). */
static __always_inline int admit_noting_walks(struct periscope_event *event, const struct periscope_config *cfg, __u8 *walks)
{
    return admission((struct scratch *)event, cfg, walks);
}

static __always_inline int admit(struct periscope_event *event, const struct periscope_config *cfg)
{
    __u8 walks = 0;
    return admit_noting_walks(event, cfg, &walks);
}

/* False when the ring buffer had no room (counted as lost). */
static __always_inline bool submit(struct periscope_event *event, __u32 payload_len,
                                   const struct periscope_config *cfg)
{
    if (payload_len > sizeof(event->payload))
        payload_len = sizeof(event->payload);
    __u32 size = PERISCOPE_EVENT_HEADER_SIZE + payload_len;
    /* The reader is woken when this record takes what waits across a multiple of
     * wakeup_bytes: once per wakeup_bytes queued, not at every record while it lags (each
     * wakeup is an irq_work, a self-IPI in the writing process). The reader polls the ring
     * level-triggered and on a timeout as well, so a crossing two CPUs race past is not lost
     * for longer than its poll interval. What admission found waiting, when it asked, stands
     * for what waits now (the same race). Every event is built in the scratch space. */
    __u64 step = cfg->wakeup_bytes ? cfg->wakeup_bytes : 1;
    struct scratch *scratch = (struct scratch *)event;
    __u64 waiting = scratch->waiting_known ? scratch->waiting : bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    __u64 flags = (waiting + size) / step != waiting / step ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
    if (bpf_ringbuf_output(&events, event, size, flags)) {
        count(PERISCOPE_COUNTER_LOST);
        return false;
    }
    count(PERISCOPE_COUNTER_SUBMITTED);
    return true;
}

static __always_inline __u32 capture_limit(const struct periscope_config *cfg, long moved)
{
    __u32 limit = cfg->capture_bytes;
    if (limit > PERISCOPE_MAX_CAPTURE)
        limit = PERISCOPE_MAX_CAPTURE;
    if ((__u64)moved > limit)
        count(PERISCOPE_COUNTER_TRUNCATED);
    else
        limit = (__u32)moved;
    return limit;
}

/* After a prefix of `length` bytes that stops short of the `moved` bytes at `buffer`, the
 * last of them (at most PERISCOPE_TAIL_CAPTURE) go to payload[length]; flagged as a tail
 * when bytes between the two were not copied. Returns how many were added. */
static __always_inline __u32 capture_tail(struct periscope_event *event, __u32 length, long moved, __u64 buffer)
{
    if ((__u64)moved <= length || length > PERISCOPE_MAX_CAPTURE)
        return 0;
    __u64 missing = (__u64)moved - length;
    __u32 size = missing > PERISCOPE_TAIL_CAPTURE ? PERISCOPE_TAIL_CAPTURE : (__u32)missing;
    if (bpf_probe_read_user(&event->payload[length], size, (const void *)(buffer + moved - size)))
        return 0;
    if (missing > PERISCOPE_TAIL_CAPTURE)
        event->tail_len = size;
    return size;
}

/* Chunked HTTP/1 bodies longer than the capture: the kernel walks their chunk headers. */
#include "periscope_chunk_walk.h"


/* One read- or write-family syscall that moved bytes. BPF calls take at most five
 * arguments, hence the struct. */
struct transfer {
    __u64 buffer; /* user buffer, iovec array, or 0 (sendfile) */
    __u64 iov_count;
    long moved;
    int fd;
    __u16 nr;
    __u8 direction;
    __u8 walks; /* set by start_transfer: the socket's chunk_walks bits */
};

/* The data paths are global functions where the kernel allows it: the verifier checks each
 * once instead of once per call site. */
#ifdef PERISCOPE_PROBE_READS
#define TRANSFER_FUNCTION static __noinline
#else
#define TRANSFER_FUNCTION __noinline
#endif

/* TLS libraries' socket transfers: counted, not captured (bpf/tls.bpf.c has the probes). */
#include "periscope_tls_hook.h"

/* A connect or accept: the socket's state starts afresh (admission), and so does what the TLS
 * probes knew of a session bound at its address (tls_forget_socket). */
static __noinline int emit_open(int fd, __u8 role, const struct periscope_config *cfg)
{
    struct periscope_event *event = start_socket_event(PERISCOPE_EVENT_OPEN, fd, cfg);
    if (!event)
        return 0;
    event->role = role;
    frame_walk_forget(event->socket_id);
    tls_forget_socket(event->socket_id, cfg);
    if (admit(event, cfg))
        submit(event, 0, cfg);
    return 0;
}

static __always_inline struct periscope_event *start_transfer(struct transfer *t,
                                                              const struct periscope_config *cfg, bool tls_possible)
{
    struct periscope_event *event = start_socket_event(PERISCOPE_EVENT_DATA, t->fd, cfg);
    if (!event)
        return NULL;
    event->direction = t->direction;
    event->syscall_nr = t->nr;
    event->total_len = (__u32)t->moved;
    if (tls_possible && tls_ciphertext(event, cfg))
        return NULL;
    int admitted = admit_noting_walks(event, cfg, &t->walks);
    if (admitted == ADMIT_TLS_RECORDS)
        tls_report_records(event, cfg);
    if (admitted == ADMIT_NOT) /* shed: its frames are walked all the same */
        frame_walk(event, t->buffer, t->iov_count, (__u64)t->moved, FRAME_WALK_SHED);
    if (admitted != ADMIT)
        return NULL;
    return event;
}


/* Appends to the DATA record being built (`length` payload bytes so far) the trace context
 * another program decided for this syscall (struct periscope_context_handoff): for a read,
 * the one the server-context stage just handed over on this CPU for this thread and socket;
 * for a write the way its socket's requests go (`requests_way`, as admission found), the one
 * the payload program wrote into it. Returns the payload's new length. A function of its own
 * for the verifier: checked once, not for every path through a transfer's iovecs. */
TRANSFER_FUNCTION __u32 carry_context(struct periscope_event *event, __u32 length, __u32 requests_way)
{
    if (!event || length > PERISCOPE_MAX_CAPTURE + PERISCOPE_TAIL_CAPTURE + PERISCOPE_FRAME_WALK_BYTES)
        return length;
    __u64 id = bpf_get_current_pid_tgid();
    struct periscope_context_handoff *handoff;
    if (event->direction == PERISCOPE_DIRECTION_INGRESS) {
        __u32 zero = 0;
        handoff = bpf_map_lookup_elem(&read_context_handoff, &zero);
        if (!handoff || !handoff->ready)
            return length;
        handoff->ready = 0;
        if (handoff->pid_tgid != id || handoff->socket_id != event->socket_id)
            return length;
        __builtin_memcpy(&event->payload[length], handoff->context, PERISCOPE_EVENT_CONTEXT_BYTES);
    } else {
        if (!requests_way)
            return length;
        handoff = bpf_map_lookup_elem(&write_context_handoffs, &id);
        if (!handoff || !handoff->ready)
            return length;
        /* Taken, not deleted: the thread's next injected write fills the entry again, and a
         * delete costs the map's bucket lock and a node handed back to its free list. */
        handoff->ready = 0;
        if (handoff->local_port != event->tuple.local_port || handoff->peer_port != event->tuple.peer_port)
            return length;
        __builtin_memcpy(&event->payload[length], handoff->context, PERISCOPE_EVENT_CONTEXT_BYTES);
    }
    event->flags |= PERISCOPE_EVENT_FLAG_TRACE_CONTEXT;
    return length + PERISCOPE_EVENT_CONTEXT_BYTES;
}

/* read/write/recvfrom/sendto/sendfile: one user buffer (or none, for sendfile). */
TRANSFER_FUNCTION int emit_data(struct transfer *t, const struct periscope_config *cfg)
{
    if (!t || !cfg)
        return 0;
    /* The one-buffer transfers look for a TLS call only while probes are attached; the
     * iovec ones always (the verifier's budget for emit_data_iov has no room for the branch). */
    struct periscope_event *event = start_transfer(t, cfg, cfg->flags & PERISCOPE_FLAG_TLS_PROBES);
    if (!event)
        return 0;
    long moved = t->moved;
    __u64 buffer = t->buffer;
    __u32 length = 0;
    if (buffer) {
        length = capture_limit(cfg, moved);
        if (length > PERISCOPE_MAX_CAPTURE)
            length = PERISCOPE_MAX_CAPTURE;
        if (bpf_probe_read_user(event->payload, length, (const void *)buffer)) {
            length = 0;
        } else {
            chunk_walk(event, buffer, (__u64)moved, length, t->walks);
            __u32 prefix = length;
            length += capture_tail(event, length, moved, buffer);
            if (frame_walk_wanted(event, prefix))
                length += frame_walk(event, buffer, 0, (__u64)moved, (__u64)length << 32 | prefix);
        }
    }
    event->captured_len = length;
    if (tls_records_around(event, cfg))
        return 0;
    length = carry_context(event, length, ((struct scratch *)event)->requests_way);
    event->captured_len = length;
    submit(event, length, cfg);
    return 0;
}

/* Appends `size` bytes (at most PERISCOPE_TAIL_CAPTURE) from the end of `base` + `used` at
 * payload[at]; false when they could not be read. */
static __always_inline bool copy_tail_part(struct periscope_event *event, __u32 at, __u64 base, __u64 used, __u32 size)
{
    if (!size)
        return true;
    if (at > PERISCOPE_MAX_CAPTURE + PERISCOPE_TAIL_CAPTURE || size > PERISCOPE_TAIL_CAPTURE)
        return false;
    return !bpf_probe_read_user(&event->payload[at], size, (const void *)(base + used - size));
}

/* readv/writev/recvmsg/sendmsg: up to IOV_ENTRIES buffers, copied back to back, and
 * the last bytes moved, from the last three buffers at most (a writer's framing comes in
 * buffers of its own: Node writes a chunk as [size, CRLF, data, CRLF]). */
TRANSFER_FUNCTION int emit_data_iov(struct transfer *t, const struct periscope_config *cfg)
{
    if (!t || !cfg)
        return 0;
    struct periscope_event *event = start_transfer(t, cfg, true);
    if (!event)
        return 0;
    __u64 iov = t->buffer;
    __u64 iov_count = t->iov_count;
    long moved = t->moved;
    __u32 limit = capture_limit(cfg, moved);
    __u32 copied = 0;
    __u32 prefix = 0;
    __u64 start = 0; /* where entry i starts in the bytes moved */
    /* The entry holding the last byte moved, its index and how many of its bytes were moved. */
    __u64 base0 = 0, used0 = 0;
    __u32 last = 0;
    struct periscope_iovec *batch = ((struct scratch *)event)->iov;
    for (int i = 0; i < IOV_ENTRIES; i++) {
        if (i >= iov_count)
            break;
        if (i % IOV_BATCH == 0) {
            __u64 left = iov_count - i;
            __u32 size = (left < IOV_BATCH ? (__u32)left : IOV_BATCH) * sizeof(*batch);
            if (bpf_probe_read_user(batch, size, (const void *)(iov + i * sizeof(*batch))))
                break;
        }
        const struct periscope_iovec *entry = &batch[i % IOV_BATCH];
        if (copied < limit) {
            __u64 chunk = entry->iov_len;
            if (chunk > limit - copied)
                chunk = limit - copied;
            if (chunk > PERISCOPE_MAX_CAPTURE)
                chunk = PERISCOPE_MAX_CAPTURE;
            __u32 offset = copied & (PERISCOPE_MAX_CAPTURE - 1);
            if (bpf_probe_read_user(&event->payload[offset], chunk, (const void *)entry->iov_base))
                break;
            copied += chunk;
        }
        if (start + entry->iov_len >= (__u64)moved) {
            base0 = entry->iov_base;
            used0 = (__u64)moved - start;
            last = i;
            break;
        }
        start += entry->iov_len;
    }
    /* The chunk headers among all the buffers; past the entries read here, the walk copies
     * the last chunk's framing in place of the last bytes. */
    prefix = copied;
    struct chunk_source source = {
        .address = iov_count ? iov : 0, .iov_count = iov_count, .moved = (__u64)moved, .prefix = copied, .walks = t->walks,
        .tail_wanted = !base0,
    };
    __u32 walked_tail = chunk_walk_source(event, &source);
    if (walked_tail <= PERISCOPE_TAIL_CAPTURE)
        copied += walked_tail;
    if (!walked_tail && base0 && copied <= PERISCOPE_MAX_CAPTURE && (__u64)moved > copied) {
        /* The two entries before it, read again into the batch (entry2, entry1), not onto the
         * stack: this function's frame is on the deepest chain of calls. */
        __builtin_memset(batch, 0, 2 * sizeof(*batch));
        if (last >= 2 && bpf_probe_read_user(batch, 2 * sizeof(*batch), (const void *)(iov + (last - 2) * sizeof(*batch))))
            __builtin_memset(batch, 0, 2 * sizeof(*batch));
        if (last == 1 && bpf_probe_read_user(&batch[1], sizeof(*batch), (const void *)iov))
            batch[1].iov_base = 0;
        __u64 base1 = batch[1].iov_base, len1 = batch[1].iov_len, base2 = batch[0].iov_base, len2 = batch[0].iov_len;
        __u64 missing = (__u64)moved - copied;
        __u32 room = missing < PERISCOPE_TAIL_CAPTURE ? (__u32)missing : PERISCOPE_TAIL_CAPTURE;
        __u32 size0 = used0 < room ? (__u32)used0 : room;
        __u32 size1 = len1 < room - size0 ? (__u32)len1 : room - size0;
        __u32 size2 = len2 < room - size0 - size1 ? (__u32)len2 : room - size0 - size1;
        if (!base1)
            size1 = size2 = 0;
        if (!base2)
            size2 = 0;
        __u32 size = size0 + size1 + size2;
        if (copy_tail_part(event, copied, base2, len2, size2)
            && copy_tail_part(event, copied + size2, base1, len1, size1)
            && copy_tail_part(event, copied + size2 + size1, base0, used0, size0)) {
            if (missing > size)
                event->tail_len = size;
            copied += size;
        }
    }
    if (frame_walk_wanted(event, prefix))
        copied += frame_walk(event, iov, iov_count, (__u64)moved, (__u64)copied << 32 | prefix);
    event->captured_len = copied;
    if (tls_records_around(event, cfg))
        return 0;
    copied = carry_context(event, copied, ((struct scratch *)event)->requests_way);
    event->captured_len = copied;
    submit(event, copied, cfg);
    return 0;
}

static __always_inline int emit_msg(struct transfer *t, const struct periscope_config *cfg)
{
    struct periscope_user_msghdr header;
    if (bpf_probe_read_user(&header, sizeof(header), (const void *)t->buffer))
        return 0;
    t->buffer = header.msg_iov;
    t->iov_count = header.msg_iovlen;
    return emit_data_iov(t, cfg);
}

/* Whether `nr` waits for events: a TLS thread's turn of its event loop ends there. */
static __always_inline bool waits_for_events(long nr)
{
#ifdef NR_epoll_wait
    if (nr == NR_epoll_wait || nr == NR_poll)
        return true;
#endif
    return nr == NR_epoll_pwait || nr == NR_ppoll || nr == NR_epoll_pwait2;
}

/* A thread waiting for events has finished with what it read and wrote around its last TLS
 * calls: what it moves after the wait belongs to no call it made before. Only threads of
 * traced processes that made TLS calls have an entry (bpf/tls.bpf.c), and only while TLS
 * probes are attached: every process of the node waits, and looks up nothing otherwise. */
static __always_inline int tls_thread_waits(void)
{
    struct periscope_config *cfg = current_config();
    if (!cfg || !(cfg->flags & PERISCOPE_FLAG_TLS_PROBES))
        return 0;
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct periscope_tls_thread *thread = bpf_map_lookup_elem(&tls_threads, &tid);
    if (thread) {
        thread->has_read = 0;
        thread->session = 0;
    }
    return 0;
}

/* The one program on sys_exit, run at every syscall's return of every process of the node:
 * as little as possible before it knows the process is not traced (the syscall number, then
 * one lookup of the process). For a traced one it goes on by tail calls: the server-context
 * stage when the propagation object filled it (it then calls the capture stage itself), else
 * the capture stage (sys_exit_stages). ctx holds the tracepoint's arguments: (struct pt_regs
 * *regs, long ret). */
SEC(SYS_EXIT_SECTION)
int periscope_sys_exit(unsigned long long *ctx)
{
    struct pt_regs *regs = (struct pt_regs *)ctx[0];
    long nr = SYSCALL_NR(regs);
    switch (nr) {
    case NR_read: case NR_recvfrom: case NR_readv: case NR_recvmsg:
    case NR_write: case NR_writev: case NR_sendfile:
    case NR_connect: case NR_accept: case NR_accept4: case NR_sendto:
    case NR_sendmsg: case NR_splice:
        break;
    default:
        return waits_for_events(nr) ? tls_thread_waits() : 0;
    }
    long ret = (long)ctx[1];
    if (ret < 0 && !(nr == NR_connect && ret == -EINPROGRESS))
        return 0;
    struct periscope_config *cfg = current_config();
    if (!cfg || !pid_selected(bpf_get_current_pid_tgid() >> 32, cfg))
        return 0;
    if (ret >= 16 && (nr == NR_read || nr == NR_recvfrom || nr == NR_readv || nr == NR_recvmsg))
        bpf_tail_call(ctx, &sys_exit_stages, PERISCOPE_STAGE_SERVER_CONTEXT);
    bpf_tail_call(ctx, &sys_exit_stages, PERISCOPE_STAGE_CAPTURE);
    return 0;
}

/* The capture stage (PERISCOPE_STAGE_CAPTURE): what a selected process's syscall moved or
 * opened, as events. Not attached: periscope_sys_exit and the server-context stage call it. */
SEC(SYS_EXIT_SECTION)
int periscope_sys_exit_capture(unsigned long long *ctx)
{
    struct pt_regs *regs = (struct pt_regs *)ctx[0];
    long ret = (long)ctx[1];
    long nr = SYSCALL_NR(regs);
    struct periscope_config *cfg = current_config();
    if (!cfg)
        return 0;

    int fd = (int)SYSCALL_ARG0(regs);
    switch (nr) {
    case NR_accept:
    case NR_accept4:
        return emit_open((int)ret, PERISCOPE_ROLE_SERVER, cfg);
    case NR_connect:
        return emit_open(fd, PERISCOPE_ROLE_CLIENT, cfg);
    }
    if (ret == 0)
        return 0;
    struct transfer t = {
        .buffer = SYSCALL_ARG1(regs),
        .iov_count = 0,
        .moved = ret,
        .fd = fd,
        .nr = (__u16)nr,
        .direction = PERISCOPE_DIRECTION_INGRESS,
    };
    switch (nr) {
    case NR_write:
    case NR_sendto:
    case NR_writev:
    case NR_sendmsg:
    case NR_sendfile:
        t.direction = PERISCOPE_DIRECTION_EGRESS;
    }
    switch (nr) {
    case NR_read:
    case NR_recvfrom:
    case NR_write:
    case NR_sendto:
        return emit_data(&t, cfg);
    case NR_sendfile:
        t.buffer = 0;
        return emit_data(&t, cfg);
    case NR_splice:
        /* splice(fd_in, off_in, fd_out, ...): into a socket is a write, out of one a read. */
        t.buffer = 0;
        if (tcp_sock_of_fd((int)SYSCALL_ARG2(regs))) {
            t.fd = (int)SYSCALL_ARG2(regs);
            t.direction = PERISCOPE_DIRECTION_EGRESS;
        }
        return emit_data(&t, cfg);
    case NR_readv:
    case NR_writev:
        t.iov_count = SYSCALL_ARG2(regs);
        return emit_data_iov(&t, cfg);
    case NR_recvmsg:
    case NR_sendmsg:
        return emit_msg(&t, cfg);
    }
    return 0;
}

/* The layout of syscalls/sys_enter_close, stable across kernels. */
struct sys_enter_close_args {
    __u64 common;
    __s32 syscall_nr;
    __u32 _pad;
    __u64 fd;
};

/* At exit the fd is gone, so close is seen on entry. A socket other descriptors still
 * hold (a forked child's, one passed with SCM_RIGHTS) is flagged: its connection goes on. */
SEC("tracepoint/syscalls/sys_enter_close")
int periscope_close(struct sys_enter_close_args *ctx)
{
    struct periscope_config *cfg = current_config();
    if (!cfg || !pid_selected(bpf_get_current_pid_tgid() >> 32, cfg))
        return 0;
    int fd = (int)ctx->fd;
    struct periscope_event *event = start_socket_event(PERISCOPE_EVENT_CLOSE, fd, cfg);
    if (!event)
        return 0;
    struct file *file = file_of_fd(fd);
    if (file && file_held_elsewhere(file))
        event->flags |= PERISCOPE_EVENT_FLAG_STILL_OPEN;
    else
        tls_forget_socket(event->socket_id, cfg);
    if (admit(event, cfg))
        submit(event, 0, cfg);
    return 0;
}

/* The layout of syscalls/sys_enter_close_range. */
struct sys_enter_close_range_args {
    __u64 common;
    __s32 syscall_nr;
    __u32 _pad;
    __u64 fd;
    __u64 max_fd;
    __u64 flags;
};

#define CLOSE_RANGE_CLOEXEC (1U << 2)

/* close_range(2) closes many descriptors at once (a forked child before exec, a daemon):
 * reported as one range; user space ends what it tracks in it, except the sockets other
 * descriptors still hold (socket_id bit n: descriptor fd + n, n < 64), which go on. */
SEC("tracepoint/syscalls/sys_enter_close_range")
int periscope_close_range(struct sys_enter_close_range_args *ctx)
{
    if (ctx->flags & CLOSE_RANGE_CLOEXEC)
        return 0; /* only marked close-on-exec: the exec reports what it closed */
    struct periscope_config *cfg = current_config();
    if (!cfg || !pid_selected(bpf_get_current_pid_tgid() >> 32, cfg) || ctx->fd > ctx->max_fd)
        return 0;
    struct periscope_event *event = start_event(PERISCOPE_EVENT_CLOSE_RANGE, (int)(ctx->fd & 0x7fffffff));
    if (!event)
        return 0;
    __builtin_memset(&event->tuple, 0, sizeof(event->tuple));
    event->total_len = ctx->max_fd > 0x7fffffff ? 0x7fffffff : (__u32)ctx->max_fd;
    __u64 held = 0;
    int first = (int)(ctx->fd & 0x7fffffff);
    for (int n = 0; n < 64; n++) {
        if ((__u64)first + n > ctx->max_fd)
            break;
        struct file *file = file_of_fd(first + n);
        if (file && tcp_sock_of_file(file) && file_held_elsewhere(file))
            held |= 1ULL << n;
    }
    event->socket_id = held;
    submit(event, 0, cfg);
    return 0;
}

/* Descriptors 0-63 open in the current process: after an exec, those it did not close. */
static __always_inline __u64 open_descriptors(void)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    unsigned long *open = BPF_CORE_READ(task, files, fdt, open_fds);
    __u64 word = 0;
    if (open)
        bpf_probe_read_kernel(&word, sizeof(word), open);
    return word;
}

/* A new process inherits exclusion, and selection when its parent passes it on. */
SEC("raw_tracepoint/sched_process_fork")
int periscope_fork(struct bpf_raw_tracepoint_args *ctx)
{
    struct task_struct *child = (struct task_struct *)ctx->args[1];
    __u32 parent = bpf_get_current_pid_tgid() >> 32;
    __u32 child_tgid = BPF_CORE_READ(child, tgid);
    if (child_tgid == parent)
        return 0; /* a new thread */
    __u8 *target = bpf_map_lookup_elem(&target_pids, &parent);
    if (bpf_map_lookup_elem(&excluded_pids, &parent)) {
        pid_map_put(&excluded_pids, PERISCOPE_PID_SLOTS_EXCLUDED, child_tgid, 1);
        return 0;
    }
    /* A child runs its parent's executable until it calls exec: a postmaster's backends, a
     * forking server's handlers are selected from their first byte. */
    if (target && (*target == PERISCOPE_TARGET_WITH_DESCENDANTS || *target == PERISCOPE_TARGET_SAME_EXECUTABLE)) {
        pid_map_put(&target_pids, PERISCOPE_PID_SLOTS_TARGETS, child_tgid, *target);
    }
    /* A selected process's child may serve the sockets it inherits (a fork-per-connection
     * server, PostgreSQL's backends) and exit before the agent reads /proc: reported, so
     * that the agent knows it runs its parent's executable. Never shed: the child's socket
     * events, which the ring buffer orders after this one, are named by it. */
    struct periscope_config *cfg = current_config();
    if (!cfg || !pid_selected(parent, cfg))
        return 0;
    struct periscope_event *event = start_event(PERISCOPE_EVENT_FORK, (int)parent);
    if (!event)
        return 0;
    event->pid = child_tgid;
    event->tid = child_tgid;
    __builtin_memset(&event->tuple, 0, sizeof(event->tuple));
    submit(event, 0, cfg);
    return 0;
}

/* Every exec is reported (unless excluded), with what the process runs now: the path of its
 * executable file as /proc/<pid>/exe gives it and the interpreter a script named (struct
 * periscope_exec_info). The agent matches executables against the policy from this, even
 * for processes gone before it looks. A process whose executable's name the policy selects
 * is selected here, before it returns to user space: its first connection is traced. */
SEC("raw_tracepoint/sched_process_exec")
int periscope_exec(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    /* Selected for the executable it ran until now: whether the new one matches is decided
     * by its name below and by the agent from this event. */
    __u8 *target = bpf_map_lookup_elem(&target_pids, &tgid);
    bool kept = target && *target != PERISCOPE_TARGET_SAME_EXECUTABLE;
    if (target && !kept)
        pid_map_delete(&target_pids, PERISCOPE_PID_SLOTS_TARGETS, tgid);
    if (bpf_map_lookup_elem(&excluded_pids, &tgid))
        return 0;
    struct periscope_config *cfg = current_config();
    if (!cfg)
        return 0;
    bool all = cfg->flags & PERISCOPE_FLAG_ALL_PIDS;
    bool selected = !all && !kept && periscope_exec_name_selected();
    /* Execs happen node-wide; when the reader is behind, those of processes not traced are
     * shed (a periodic rescan of /proc finds what was missed). */
    if (!all && !kept && !selected && reader_behind(cfg, NULL)) {
        count(PERISCOPE_COUNTER_SHED_EVENTS);
        return 0;
    }
    struct periscope_event *event = start_event(PERISCOPE_EVENT_EXEC, -1);
    if (!event)
        return 0;
    __builtin_memset(&event->tuple, 0, sizeof(event->tuple));
    /* Descriptors marked close-on-exec are closed by now: the agent ends their connections. */
    event->socket_id = open_descriptors();
    struct periscope_exec_info *info = (struct periscope_exec_info *)event->payload;
    struct linux_binprm *binprm = (struct linux_binprm *)ctx->args[2];
    const char *interp = BPF_CORE_READ(binprm, interp);
    if (bpf_probe_read_kernel_str(info->interp, PERISCOPE_MAX_PATH, interp) < 0)
        info->interp[0] = 0;
    periscope_exec_path(info);
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    info->ppid = BPF_CORE_READ(task, real_parent, tgid);
    info->selected = selected;
    info->_pad = 0;
    event->captured_len = sizeof(*info);
    if (selected) {
        pid_map_put(&target_pids, PERISCOPE_PID_SLOTS_TARGETS, tgid, PERISCOPE_TARGET_SAME_EXECUTABLE);
    }
    /* A selection the agent would never hear of is not made. */
    if (!submit(event, sizeof(*info), cfg) && selected)
        pid_map_delete(&target_pids, PERISCOPE_PID_SLOTS_TARGETS, tgid);
    return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int periscope_exit(struct bpf_raw_tracepoint_args *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    if ((__u32)id != tgid)
        return 0; /* a thread, not the process */
    struct periscope_config *cfg = current_config();
    bool selected = cfg && pid_selected(tgid, cfg);
    pid_map_delete(&excluded_pids, PERISCOPE_PID_SLOTS_EXCLUDED, tgid);
    pid_map_delete(&target_pids, PERISCOPE_PID_SLOTS_TARGETS, tgid);
    if (!selected)
        return 0;
    struct periscope_event *event = start_event(PERISCOPE_EVENT_EXIT, -1);
    if (!event)
        return 0;
    __builtin_memset(&event->tuple, 0, sizeof(event->tuple));
    submit(event, 0, cfg);
    return 0;
}
