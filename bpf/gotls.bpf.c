/* Plaintext at Go's crypto/tls: uprobes on crypto/tls.(*Conn).Read and Write in Go
 * executables (Go 1.17+, register ABI), attached by the agent through uprobe_multi links,
 * once per executable file that traced processes run. Each probe's attach cookie says what
 * it is (enum periscope_gotls_probe) and which executable (its slot in `gotls_binaries`).
 *
 * Read is probed at its entry and at every RET instruction of its code (the agent finds
 * them by decoding the function's instructions): a uretprobe rewrites the return address
 * on the goroutine's stack, which Go's stack copying and unwinding do not expect. Entry
 * and return are paired per goroutine (its g), not per thread: a goroutine blocked in Read
 * resumes on whichever thread the scheduler gives it. A Write's plaintext is reported at
 * its entry, before its records go out, as a cleartext write is at its syscall.
 *
 * The connection is the descriptor of the net.Conn the *tls.Conn wraps, read through
 * *net.TCPConn → *net.netFD → internal/poll.FD.Sysfd at offsets the agent found for this
 * executable, and from it the socket as the tracer sees it. The tracer's programs and maps
 * come with the include; the agent loads only the program below and hands it the tracer's
 * maps, so plaintext events share the ring buffer, selection and overload shedding. Once a
 * socket carried plaintext, its own transfers are records: counted, never copied (the
 * handshake before the first plaintext is held and dropped by user space). */
#include "tracer.bpf.c"
#include "periscope_gotls.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, PERISCOPE_GOTLS_MAX_BINARIES);
    __type(key, __u32);
    __type(value, struct periscope_gotls_binary);
} gotls_binaries SEC(".maps");

/* LRU: a goroutine that never returns from Read (its process exited) is forgotten. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, PERISCOPE_GOTLS_MAX_CALLS);
    __type(key, struct periscope_gotls_call_key);
    __type(value, struct periscope_gotls_call);
} gotls_calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, PERISCOPE_GOTLS_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} gotls_counters SEC(".maps");

static __always_inline void gotls_count(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&gotls_counters, &index);
    if (value)
        *value += 1;
}

/* The descriptor of the connection `conn` (a *tls.Conn) wraps, or -1. `bias` is what the
 * executable was moved by when loaded (0 unless position-independent). */
static __always_inline int gotls_descriptor(const struct periscope_gotls_binary *binary, __u64 conn, __u64 bias)
{
    __u64 interface[2] = {}; /* net.Conn: itab, data */
    if (bpf_probe_read_user(interface, sizeof(interface), (const void *)(conn + binary->conn_in_tls_conn))) {
        gotls_count(PERISCOPE_GOTLS_COUNTER_UNREADABLE);
        return -1;
    }
    if (binary->tcp_conn_itab && interface[0] != binary->tcp_conn_itab + bias) {
        gotls_count(PERISCOPE_GOTLS_COUNTER_NOT_TCP);
        return -1;
    }
    __u64 net_fd = 0;
    __s64 fd = -1;
    if (!interface[1] ||
        bpf_probe_read_user(&net_fd, sizeof(net_fd), (const void *)(interface[1] + binary->fd_in_conn)) || !net_fd ||
        bpf_probe_read_user(&fd, sizeof(fd), (const void *)(net_fd + binary->pfd_in_net_fd + binary->sysfd_in_fd))) {
        gotls_count(PERISCOPE_GOTLS_COUNTER_UNREADABLE);
        return -1;
    }
    return fd >= 0 && fd < 0x7fffffff ? (int)fd : -1;
}

/* Writes a plaintext event of `moved` bytes at `buffer` on descriptor `fd`. */
static __noinline int gotls_emit(int fd, __u64 buffer, __u64 moved, __u32 direction, const struct periscope_config *cfg)
{
    struct periscope_event *event = start_socket_event(PERISCOPE_EVENT_DATA, fd, cfg);
    if (!event)
        return 0;
    event->direction = (__u8)direction;
    event->total_len = moved > 0xffffffffULL ? 0xffffffffU : (__u32)moved;
    event->flags = PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT;
    if (admit(event, cfg) != ADMIT)
        return 0;
    /* From now on what moves on the socket is crypto/tls's records: reported with their
     * length only (admit in tracer.bpf.c), never copied. */
    __u64 socket_id = event->socket_id;
    struct periscope_socket_state *state = socket_state(socket_id);
    if (state)
        state->tls = 1;
    __u32 length = capture_limit(cfg, (long)moved);
    if (length > PERISCOPE_MAX_CAPTURE)
        length = PERISCOPE_MAX_CAPTURE;
    if (bpf_probe_read_user(event->payload, length, (const void *)buffer))
        length = 0;
    else
        length += capture_tail(event, length, (long)moved, buffer);
    event->captured_len = length;
    submit(event, length, cfg);
    gotls_count(PERISCOPE_GOTLS_COUNTER_PLAINTEXT);
    return 0;
}

SEC("uprobe")
int periscope_gotls_probe(struct pt_regs *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct periscope_config *cfg = current_config();
    if (!cfg || !pid_selected(id >> 32, cfg))
        return 0;
    __u64 cookie = bpf_get_attach_cookie(ctx);
    __u32 probe = (__u32)(cookie & 0xff);
    __u32 slot = (__u32)(cookie >> 8);
    struct periscope_gotls_binary *binary = bpf_map_lookup_elem(&gotls_binaries, &slot);
    if (!binary)
        return 0;
    struct periscope_gotls_call_key key = {.goroutine = GO_G(ctx), .pid = id >> 32};
    if (probe == PERISCOPE_GOTLS_READ_RETURN) {
        struct periscope_gotls_call *entry = bpf_map_lookup_elem(&gotls_calls, &key);
        if (!entry)
            return 0;
        struct periscope_gotls_call call = *entry;
        bpf_map_delete_elem(&gotls_calls, &key);
        long moved = (long)GO_RET0(ctx);
        if (moved <= 0)
            return 0;
        return gotls_emit(call.fd, call.buffer, (__u64)moved, PERISCOPE_DIRECTION_INGRESS, cfg);
    }
    /* At an entry probe, the instruction pointer is the function's first instruction. */
    __u64 address = probe == PERISCOPE_GOTLS_READ_ENTRY ? binary->read_address : binary->write_address;
    __u64 bias = bpf_get_func_ip(ctx) - address;
    int fd = gotls_descriptor(binary, GO_ARG0(ctx), bias);
    if (fd < 0)
        return 0;
    if (probe == PERISCOPE_GOTLS_WRITE_ENTRY) {
        long length = (long)GO_ARG2(ctx);
        if (length <= 0)
            return 0;
        return gotls_emit(fd, GO_ARG1(ctx), (__u64)length, PERISCOPE_DIRECTION_EGRESS, cfg);
    }
    if (probe != PERISCOPE_GOTLS_READ_ENTRY)
        return 0;
    struct periscope_gotls_call call = {.buffer = GO_ARG1(ctx), .fd = fd};
    if (bpf_map_update_elem(&gotls_calls, &key, &call, BPF_ANY))
        gotls_count(PERISCOPE_GOTLS_COUNTER_CALLS_LOST);
    return 0;
}
