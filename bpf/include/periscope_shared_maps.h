#ifndef PERISCOPE_SHARED_MAPS_H
#define PERISCOPE_SHARED_MAPS_H
/* The maps the tracer owns and the propagation programs reuse (bpf_map__reuse_fd): one
 * definition, included by both objects, so that their types and sizes always agree. */

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 << 20); /* resized by the agent before load */
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct periscope_config);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct periscope_ports);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, PERISCOPE_MAX_PIDS);
    __type(key, __u32);
    __type(value, __u8);
} target_pids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, PERISCOPE_MAX_PIDS);
    __type(key, __u32);
    __type(value, __u8);
} excluded_pids SEC(".maps");

/* The target_pids and excluded_pids counts by slot (PERISCOPE_PID_SLOTS), which the agent
 * maps into its memory. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 2 * PERISCOPE_PID_SLOTS);
    __type(key, __u32);
    __type(value, __u64);
} pid_slots SEC(".maps");

/* Whether a PID of `slots` (PERISCOPE_PID_SLOTS_TARGETS or _EXCLUDED) may be `tgid`: false
 * when none hashes to its slot. */
static __always_inline bool pid_slot_used(__u32 slots, __u32 tgid)
{
    __u32 index = slots + periscope_pid_slot(tgid);
    __u64 *count = bpf_map_lookup_elem(&pid_slots, &index);
    return !count || *count != 0;
}

/* A socket's state in the slot its address hashes to (socket_id 0: a free slot). */
struct socket_slot {
    __u64 socket_id;
    struct periscope_socket_state state;
};

/* Where a socket's state is looked up first: one slot per hash of its address, read with an
 * inlined array access where the `sockets` map costs a hash, a bucket and an element to walk
 * (each a cache line of its own) on every captured syscall. A socket whose slot another one
 * holds keeps its state in `sockets`, as does every socket in the variant for older kernels
 * (no compare-and-swap to claim a slot with). The server-context stage reads it too
 * (server_context in bpf/propagation.bpf.c). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, PERISCOPE_SOCKET_SLOTS);
    __type(key, __u32);
    __type(value, struct socket_slot);
} socket_slots SEC(".maps");

static __always_inline __u32 socket_slot_index(__u64 socket_id)
{
    /* Fibonacci hashing: the top bits of the product mix all of the address's. */
    return (__u32)((socket_id * 0x9e3779b97f4a7c15ULL) >> 48) & (PERISCOPE_SOCKET_SLOTS - 1);
}

/* The stages of the tracer's sys_exit program (enum periscope_sys_exit_stage), by tail call. */
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, PERISCOPE_STAGE_COUNT);
    __type(key, __u32);
    __type(value, __u32);
} sys_exit_stages SEC(".maps");

/* Trace contexts the propagation programs decided for a syscall, handed to the tracer's
 * capture of it (struct periscope_context_handoff): a server read's, in the one slot of the
 * CPU running the sys_exit stages; a write's, by thread (pid_tgid), until the write returns. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct periscope_context_handoff);
} read_context_handoff SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    /* Each CPU evicts from its own list: one CPU's writes never push out another's. */
    __uint(map_flags, BPF_F_NO_COMMON_LRU);
    __uint(max_entries, PERISCOPE_CONTEXT_HANDOFFS);
    __type(key, __u64);
    __type(value, struct periscope_context_handoff);
} write_context_handoffs SEC(".maps");

#endif
