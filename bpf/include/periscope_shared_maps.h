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
