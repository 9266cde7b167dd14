/* Trace context carried in the traffic of traced processes, so that a trace crosses nodes.
 *
 * - A cgroup `sock_ops` program marks the TCP sockets traced processes connect (it runs in
 *   the connecting process at TCP_CONNECT_CB) and puts them into a sockhash once
 *   established; sockets of other processes are never put there, so no other program's
 *   `sk_msg` users are affected.
 * - An `sk_msg` program on that sockhash runs inside each sendmsg of those sockets, before
 *   the data is queued: into an outgoing cleartext HTTP/1 request without `traceparent` it
 *   inserts `traceparent: 00-<trace>-<span>-<flags>` after the request line, and hands the
 *   context it wrote to the tracer's capture of the same write (write_context_handoffs), which
 *   carries it in the write's record, so that the agent reports the client span with exactly
 *   these ids.
 * - A stage of the tracer's `sys_exit` program (a tail call, PERISCOPE_STAGE_SERVER_CONTEXT)
 *   sees a traced server thread read the start of a request: it continues the request's
 *   `traceparent` or begins a trace, draws the server span's id, remembers that context for
 *   the thread (the calls it makes meanwhile are its children) and hands it to the tracer's
 *   capture, called next, which carries it in the read's record. The
 *   decision is in periscope_server_context.h: the TLS probes (bpf/tls.bpf.c) make the
 *   same one on the plaintext SSL_read returns, with this object's maps.
 *
 * What is left alone, and counted: a request that carries `traceparent` already, a request
 * head not whole in one write (a later write might carry the header), requests after the
 * first in one write (pipelining), anything not starting with an HTTP/1 request line.
 * Ids come from a generator per CPU seeded with bpf_get_prandom_u32 (next_random). Maps
 * shared with the tracer (ring buffer, configuration, target and excluded pids and their
 * pid_slots counts, ports, sys_exit stages) are handed over by the agent before load. */
#include "periscope_vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "periscope_events.h"
#include "periscope_propagation.h"

#define KREAD(ptr, field) BPF_CORE_READ(ptr, field)
#define DIRECT_READ(ptr, field) ((ptr)->field)
#include "periscope_arch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define SK_PASS 1

/* Shared with the tracer. */
#include "periscope_shared_maps.h"
/* Deciding a server request's context, shared with the TLS probes. */
#include "periscope_server_context.h"

/* This object's own; the maps deciding a server request's context come with the include below. */
/* Sockets a traced process connected, marked at connect for the established callback; what
 * their first message was, and the context their segments carry in a TCP header option. */
enum socket_kind {
    SOCKET_UNDECIDED = 0,
    SOCKET_HTTP1 = 1,  /* its first message was an HTTP/1 request: traceparent per request */
    SOCKET_OPAQUE = 2, /* anything else: the option, per connection */
};

struct socket_mark {
    __u32 pid;
    __u8 kind;
    __u8 option_set;
    __u8 option_counted;
    __u8 flags;
    __u8 trace_id[16];
    __u8 span_id[8];
    /* This program asked for the header-option callbacks (no other had): it may stop them. */
    __u8 write_callbacks;
    /* Taken out of traced_sockets: its payload is never edited. */
    __u8 left_sockets;
    __u8 _pad[6];
};

/* The option as written: experimental kind with ExID (RFC 6994), then the ids. */
struct tcp_option {
    __u8 kind;
    __u8 len;
    __be16 exid;
    __u8 trace_id[16];
    __u8 span_id[8];
};
_Static_assert(sizeof(struct tcp_option) == PERISCOPE_TCP_OPTION_LEN, "tcp_option layout");

/* A connection, as both sock_ops and a tracepoint can name it; addresses as on the wire. */
struct option_key {
    __u32 family;
    __u32 local[4];
    __u32 remote[4];
    __u16 local_port;  /* host order */
    __u16 remote_port; /* host order */
};

struct received_option {
    __u8 trace_id[16];
    __u8 span_id[8];
    __u8 flags;
    __u8 used;
    __u8 _pad[6];
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, PERISCOPE_PROPAGATION_OPTIONS);
    __type(key, struct option_key);
    __type(value, struct received_option);
} received_options SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct socket_mark);
} socket_marks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __uint(max_entries, PERISCOPE_PROPAGATION_SOCKETS);
    __type(key, __u64);
    __type(value, __u64);
} traced_sockets SEC(".maps");

/* The local ports of connections whose segments brought an option: a server read on another
 * port has none to take, and needs no look-up of received_options. */
struct option_ports {
    __u64 any; /* an option was received at all */
    struct periscope_ports ports;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct option_ports);
} option_ports SEC(".maps");

static __always_inline void note_option_port(__u16 port)
{
    __u32 zero = 0;
    struct option_ports *seen = bpf_map_lookup_elem(&option_ports, &zero);
    if (!seen)
        return;
    __u64 *word = &seen->ports.bits[(port >> 6) & (PERISCOPE_PORT_WORDS - 1)];
    __u64 bit = 1ULL << (port & 63);
    if (!(*word & bit))
        __sync_fetch_and_or(word, bit);
    if (!seen->any)
        seen->any = 1;
}

static __always_inline bool port_selected(__u16 local, __u16 peer)
{
    __u32 zero = 0;
    struct periscope_config *cfg = bpf_map_lookup_elem(&config, &zero);
    if (!cfg)
        return false;
    if (!(cfg->flags & PERISCOPE_FLAG_PORT_FILTER))
        return true;
    struct periscope_ports *set = bpf_map_lookup_elem(&ports, &zero);
    if (!set)
        return false;
    return ((set->bits[(local >> 6) & (PERISCOPE_PORT_WORDS - 1)] >> (local & 63)) & 1)
        || ((set->bits[(peer >> 6) & (PERISCOPE_PORT_WORDS - 1)] >> (peer & 63)) & 1);
}

/* ---- Client side: sockets and requests -------------------------------------------- */

SEC("sockops")
int periscope_sockops(struct bpf_sock_ops *ops)
{
    if (ops->family != AF_INET && ops->family != AF_INET6)
        return 1;
    switch (ops->op) {
    case BPF_SOCK_OPS_TCP_CONNECT_CB: {
        /* Runs in the process calling connect. */
        __u32 tgid = bpf_get_current_pid_tgid() >> 32;
        struct periscope_propagation_config *settings = propagation_settings();
        if (!settings || !propagating(settings, tgid))
            return 1;
        if (!port_selected((__u16)ops->local_port, bpf_ntohl(ops->remote_port) & 0xffff))
            return 1;
        struct bpf_sock *sk = ops->sk;
        if (!sk)
            return 1;
        struct socket_mark *mark = bpf_sk_storage_get(&socket_marks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
        if (mark)
            mark->pid = tgid;
        return 1;
    }
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB: {
        struct bpf_sock *sk = ops->sk;
        struct socket_mark *mark = sk ? bpf_sk_storage_get(&socket_marks, sk, 0, 0) : NULL;
        if (!mark)
            return 1;
        __u64 cookie = bpf_get_socket_cookie(ops);
        bpf_sock_hash_update(ops, &traced_sockets, &cookie, BPF_NOEXIST);
        /* Asked for the option callbacks; they write only once the payload program set one. */
        if (!(ops->bpf_sock_ops_cb_flags & BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG)) {
            mark->write_callbacks = 1;
            bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
        }
        return 1;
    }
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        /* Incoming segments with an option unknown to the kernel reach PARSE_HDR_OPT_CB; the
         * others cost nothing. */
        if (propagation_settings())
            bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG);
        return 1;
    case BPF_SOCK_OPS_HDR_OPT_LEN_CB: {
        struct bpf_sock *sk = ops->sk;
        struct socket_mark *mark = sk ? bpf_sk_storage_get(&socket_marks, sk, 0, 0) : NULL;
        if (mark && mark->option_set) {
            bpf_reserve_hdr_opt(ops, PERISCOPE_TCP_OPTION_LEN, 0);
            /* Its context goes in the option, never in its payload: out of the sockhash, its
             * writes go the plain TCP way again instead of through the payload program (a
             * copy into a message, the program, the message sent page by page), and its reads
             * without the sockhash's look at a queue of its own first. The payload program
             * cannot take it out itself (no map deletes from sk_msg). */
            if (!mark->left_sockets) {
                __u64 cookie = bpf_get_socket_cookie(ops);
                if (bpf_map_delete_elem(&traced_sockets, &cookie) == 0)
                    propagation_count(PERISCOPE_PROP_SOCKETS_LEFT);
                mark->left_sockets = 1;
            }
        } else if (mark && mark->kind == SOCKET_HTTP1 && mark->write_callbacks) {
            /* Its requests carry traceparent, never the option: no callback at its segments
             * (and MSS computations) from now on, unless another program asked for them. */
            mark->write_callbacks = 0;
            bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags & ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
        }
        return 1;
    }
    case BPF_SOCK_OPS_WRITE_HDR_OPT_CB: {
        struct bpf_sock *sk = ops->sk;
        struct socket_mark *mark = sk ? bpf_sk_storage_get(&socket_marks, sk, 0, 0) : NULL;
        if (!mark || !mark->option_set)
            return 1;
        struct tcp_option option = {
            .kind = PERISCOPE_TCP_OPTION_KIND,
            .len = PERISCOPE_TCP_OPTION_LEN,
            .exid = bpf_htons((mark->flags & 1) ? PERISCOPE_TCP_OPTION_EXID_SAMPLED : PERISCOPE_TCP_OPTION_EXID_UNSAMPLED),
        };
        __builtin_memcpy(option.trace_id, mark->trace_id, 16);
        __builtin_memcpy(option.span_id, mark->span_id, 8);
        if (bpf_store_hdr_opt(ops, &option, sizeof(option), 0) == 0 && !mark->option_counted) {
            mark->option_counted = 1;
            propagation_count(PERISCOPE_PROP_OPTIONS);
        }
        return 1;
    }
    case BPF_SOCK_OPS_PARSE_HDR_OPT_CB: {
        struct tcp_option option = {};
        option.kind = PERISCOPE_TCP_OPTION_KIND;
        option.len = 4; /* match the ExID too */
        option.exid = bpf_htons(PERISCOPE_TCP_OPTION_EXID_SAMPLED);
        __u8 flags = 1;
        if (bpf_load_hdr_opt(ops, &option, sizeof(option), 0) != PERISCOPE_TCP_OPTION_LEN) {
            __builtin_memset(&option, 0, sizeof(option));
            option.kind = PERISCOPE_TCP_OPTION_KIND;
            option.len = 4;
            option.exid = bpf_htons(PERISCOPE_TCP_OPTION_EXID_UNSAMPLED);
            flags = 0;
            if (bpf_load_hdr_opt(ops, &option, sizeof(option), 0) != PERISCOPE_TCP_OPTION_LEN)
                return 1;
        }
        struct option_key key = {};
        key.family = ops->family;
        if (ops->family == AF_INET) {
            key.local[0] = ops->local_ip4;
            key.remote[0] = ops->remote_ip4;
        } else {
            for (int k = 0; k < 4; k++) {
                key.local[k] = ops->local_ip6[k];
                key.remote[k] = ops->remote_ip6[k];
            }
        }
        key.local_port = (__u16)ops->local_port;
        key.remote_port = bpf_ntohl(ops->remote_port) & 0xffff;
        struct received_option *known = bpf_map_lookup_elem(&received_options, &key);
        if (known && __builtin_memcmp(known->span_id, option.span_id, 8) == 0)
            return 1;
        struct received_option received = {};
        __builtin_memcpy(received.trace_id, option.trace_id, 16);
        __builtin_memcpy(received.span_id, option.span_id, 8);
        received.flags = flags;
        bpf_map_update_elem(&received_options, &key, &received, BPF_ANY);
        note_option_port(key.local_port);
        return 1;
    }
    }
    return 1;
}

/* The 8 characters of lowercase hex of bytes[0, 4), as a little-endian word (the first
 * character in its low byte): each byte spread to two, its high nibble first, then '0' added
 * to each nibble and 'a' - '0' - 10 more to those above 9. */
static __always_inline __u64 hex_word(const __u8 *bytes)
{
    __u64 spread = (__u64)bytes[0] | (__u64)bytes[1] << 16 | (__u64)bytes[2] << 32 | (__u64)bytes[3] << 48;
    __u64 nibbles = ((spread >> 4) & 0x000f000f000f000fULL) | ((spread & 0x000f000f000f000fULL) << 8);
    __u64 letters = ((nibbles + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    return nibbles + 0x3030303030303030ULL + letters * 0x27;
}

/* Writes `traceparent: 00-<trace>-<span>-<flags>\r\n` into scratch->line. */
static __always_inline void format_line(struct propagation_scratch *scratch, const struct periscope_trace_context *context)
{
    static const char digits[16] = "0123456789abcdef";
    __u8 *line = scratch->line;
    __builtin_memcpy(line, "traceparent: 00-", 16);
    for (int k = 0; k < 4; k++) {
        __u64 word = hex_word(&context->trace_id[4 * k]);
        __builtin_memcpy(&line[16 + 8 * k], &word, 8);
    }
    line[48] = '-';
    for (int k = 0; k < 2; k++) {
        __u64 word = hex_word(&context->span_id[4 * k]);
        __builtin_memcpy(&line[49 + 8 * k], &word, 8);
    }
    line[65] = '-';
    line[66] = digits[(context->flags >> 4) & 15];
    line[67] = digits[context->flags & 15];
    line[68] = '\r';
    line[69] = '\n';
}

/* The context of a call whose payload cannot be edited: the thread's request's trace (or a new
 * one) and a new span, written by sock_ops in a TCP header option on the connection's segments. */
static __always_inline int start_option(struct sk_msg_md *msg, struct socket_mark *mark, __u64 id,
                                        const struct periscope_propagation_config *settings)
{
    mark->kind = SOCKET_OPAQUE;
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch)
        return SK_PASS;
    struct periscope_trace_context *context = &scratch->context;
    __builtin_memset(context, 0, sizeof(*context));
    struct thread_context *serving = bpf_map_lookup_elem(&thread_contexts, &id);
    if (serving) {
        __builtin_memcpy(context->trace_id, serving->trace_id, 16);
        __builtin_memcpy(context->parent_id, serving->span_id, 8);
        context->flags = serving->flags;
    } else {
        draw_nonzero(scratch, context->trace_id, 2);
        context->flags = root_flags(settings, context->trace_id);
    }
    draw_nonzero(scratch, context->span_id, 1);
    context->origin = PERISCOPE_CONTEXT_OPTION;
    __builtin_memcpy(mark->trace_id, context->trace_id, 16);
    __builtin_memcpy(mark->span_id, context->span_id, 8);
    mark->flags = context->flags & 1;
    mark->option_set = 1;
    report_context(context, 0, -1, (__u16)msg->local_port, bpf_ntohl(msg->remote_port) & 0xffff);
    return SK_PASS;
}

/* Copies the whole words of the scratch space's head[from, from + count) to the message's
 * bytes [to, to + count), whose first piece they must be in. Whether all were written. A
 * global function of its own: the verifier walks its loop once, not once for each way into it. */
__noinline int copy_head_words(struct sk_msg_md *msg, __u32 from, __u32 to, __u32 count)
{
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch)
        return 0;
    void *data = msg->data, *data_end = msg->data_end;
    void *start = data + (to & (PERISCOPE_PROPAGATION_LINEAR_MAX - 1));
    for (__u32 k = 0; k < PERISCOPE_PROPAGATION_LINEAR_MAX / 8; k++) {
        __u32 offset = 8 * k;
        if (offset + 8 > count)
            return 1;
        void *word = start + offset;
        if (word + 8 > data_end)
            return 0;
        *(__u64 *)word = head_word(scratch, from + offset);
    }
    return 1;
}

/* Rewrites a message of `size` bytes, all of them in the scratch space's head, as one new
 * piece: the head up to `at`, the line (its `line`), the rest. One page, and the message's own
 * pieces let go, where making room at `at` and pulling the pieces together again costs two pages
 * and a copy; one piece leaves as one segment. Whether the message holds the line; unchanged
 * when not. Only where a pop may reach the message's end (see the caller). */
__noinline int write_one_piece(struct sk_msg_md *msg, __u32 at, __u32 size)
{
    struct propagation_scratch *scratch = propagation_scratch_space();
    __u32 grown = size + PERISCOPE_TRACEPARENT_LINE_LEN;
    if (!scratch || at < 16 || at > size || grown > PERISCOPE_PROPAGATION_LINEAR_MAX)
        return 0;
    if (bpf_msg_push_data(msg, 0, grown, 0))
        return 0;
    /* Word by word: the bytes before `at` (a word over the line's place is written over by
     * it), the bytes after it 70 bytes on, the last eight bytes for a size not a multiple of
     * eight, then the line. */
    if (!copy_head_words(msg, 0, 0, at + 8) || !copy_head_words(msg, at, at + PERISCOPE_TRACEPARENT_LINE_LEN, size - at))
        goto undo;
    void *data = msg->data, *data_end = msg->data_end;
    void *last = data + ((grown - 8) & (PERISCOPE_PROPAGATION_LINEAR_MAX - 1));
    if (last + 8 > data_end)
        goto undo;
    *(__u64 *)last = head_word(scratch, size - 8);
    void *place = data + (at & (PERISCOPE_PROPAGATION_LINEAR_MAX - 1));
    if (place + PERISCOPE_TRACEPARENT_LINE_LEN > data_end)
        goto undo;
    const __u64 *line = (const __u64 *)scratch->line;
    for (int k = 0; k < PERISCOPE_TRACEPARENT_LINE_LEN / 8; k++)
        ((__u64 *)place)[k] = line[k];
    *(__u32 *)(place + 64) = *(const __u32 *)&scratch->line[64];
    *(__u16 *)(place + 68) = *(const __u16 *)&scratch->line[68];
    /* The message's own pieces, now behind the new one. */
    if (bpf_msg_pop_data(msg, grown, size, 0))
        goto undo;
    return 1;
undo:
    bpf_msg_pop_data(msg, 0, grown, 0);
    return 0;
}

/* Makes room for the line at `at` and writes it there. The room splits the message's data in
 * three pieces, and the kernel sends each piece of a message as a segment of its own: the
 * request would leave in three segments, which cost the sender three transmissions and the
 * receiver three arrivals (and an ACK for the small ones). A message that fits in a page is
 * pulled together into one piece (one page and one copy), so that it leaves as one segment, as
 * it would have without the line; a larger one is left in pieces, where the segments are large
 * anyway. Whether the message holds the line; unchanged when not. */
static __always_inline bool insert_line(struct sk_msg_md *msg, const struct propagation_scratch *scratch, __u32 at,
                                        __u32 size)
{
    if (bpf_msg_push_data(msg, at, PERISCOPE_TRACEPARENT_LINE_LEN, 0))
        return false;
    __u32 grown = size + PERISCOPE_TRACEPARENT_LINE_LEN;
    if (grown <= PERISCOPE_PROPAGATION_LINEAR_MAX)
        bpf_msg_pull_data(msg, 0, grown, 0); /* failing, the pieces stay: the line goes in all the same */
    /* Never leave the room made without its line: take it out again. */
    if (bpf_msg_pull_data(msg, at, at + PERISCOPE_TRACEPARENT_LINE_LEN, 0)) {
        bpf_msg_pop_data(msg, at, PERISCOPE_TRACEPARENT_LINE_LEN, 0);
        return false;
    }
    void *data = msg->data, *data_end = msg->data_end;
    if (data + PERISCOPE_TRACEPARENT_LINE_LEN > data_end) {
        bpf_msg_pop_data(msg, at, PERISCOPE_TRACEPARENT_LINE_LEN, 0);
        return false;
    }
    __builtin_memcpy(data, scratch->line, PERISCOPE_TRACEPARENT_LINE_LEN);
    return true;
}

SEC("sk_msg")
int periscope_inject(struct sk_msg_md *msg)
{
    __u32 size = msg->size;
    if (size < 16)
        return SK_PASS;
    /* What the message and the socket say first, the process's selection after: most writes
     * are not a request's first (a body, the rest of a stream) and end here. */
    struct bpf_sock *sk = msg->sk;
    struct socket_mark *mark = sk ? bpf_sk_storage_get(&socket_marks, sk, 0, 0) : NULL;
    if (mark && mark->kind == SOCKET_OPAQUE)
        return SK_PASS;
    __u32 len = size < PERISCOPE_PROPAGATION_HEAD_MAX ? size : PERISCOPE_PROPAGATION_HEAD_MAX;
    /* A first look at the start, as it is, before pulling anything together. */
    void *data = msg->data, *data_end = msg->data_end;
    if (data + 4 > data_end)
        return SK_PASS;
    __u8 first = *(__u8 *)data;
    bool request = first == 'G' || first == 'P' || first == 'H' || first == 'D' || first == 'O';
    bool undecided = mark && mark->kind == SOCKET_UNDECIDED;
    if (!request && !undecided)
        return SK_PASS;
    struct periscope_propagation_config *settings = propagation_settings();
    __u64 id = bpf_get_current_pid_tgid();
    if (!settings || !propagating(settings, id >> 32))
        return SK_PASS;
    if (!request)
        return mark ? start_option(msg, mark, id, settings) : SK_PASS;
    if (data + len > data_end) {
        if (bpf_msg_pull_data(msg, 0, len, 0))
            return SK_PASS;
        data = msg->data;
        data_end = msg->data_end;
    }
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch)
        return SK_PASS;
    len &= HEAD_MASK | PERISCOPE_PROPAGATION_HEAD_MAX;
    if (len > PERISCOPE_PROPAGATION_HEAD_MAX || data + len > data_end)
        return SK_PASS;
    if (bpf_probe_read_kernel(scratch->head, len, data))
        return SK_PASS;
    struct head_scan scan;
    if (!scan_request(scratch, &scan, len)) {
        if (mark && mark->kind == SOCKET_UNDECIDED)
            return start_option(msg, mark, id, settings);
        return SK_PASS;
    }
    if (mark)
        mark->kind = SOCKET_HTTP1;
    if (scan.value_at) {
        propagation_count(PERISCOPE_PROP_KEPT_TRACEPARENT);
        return SK_PASS;
    }
    if (!scan.header_end) {
        propagation_count(PERISCOPE_PROP_SPLIT_HEAD);
        return SK_PASS;
    }
    if (scan.header_end + 16 <= len && method_at(scratch, scan.header_end))
        propagation_count(PERISCOPE_PROP_PIPELINED);

    struct periscope_trace_context *context = &scratch->context;
    __builtin_memset(context, 0, sizeof(*context));
    struct thread_context *serving = bpf_map_lookup_elem(&thread_contexts, &id);
    if (serving) {
        __builtin_memcpy(context->trace_id, serving->trace_id, 16);
        __builtin_memcpy(context->parent_id, serving->span_id, 8);
        context->flags = serving->flags;
    } else {
        draw_nonzero(scratch, context->trace_id, 2);
        context->flags = root_flags(settings, context->trace_id);
    }
    draw_nonzero(scratch, context->span_id, 1);
    context->origin = PERISCOPE_CONTEXT_INJECTED;
    format_line(scratch, context);

    __u32 at = scan.first_line_end;
    bool written;
    /* A zero-byte pop at the message's end succeeds only where the kernel's pop can drop a
     * message's last piece (the fixes of 6.13, and the stable kernels they went to); changes
     * nothing either way. */
    if (size == len && size + PERISCOPE_TRACEPARENT_LINE_LEN <= PERISCOPE_PROPAGATION_LINEAR_MAX
        && bpf_msg_pop_data(msg, size, 0, 0) == 0)
        written = write_one_piece(msg, at, size);
    else
        written = insert_line(msg, scratch, at, size);
    if (!written) {
        propagation_count(PERISCOPE_PROP_NO_ROOM);
        return SK_PASS;
    }
    propagation_count(PERISCOPE_PROP_INJECTED);
    /* Carried in the write's own record by the tracer's capture at its return; reported in a
     * record of its own only when it cannot wait for it there. The thread's entry, once there,
     * is filled in place (only this thread writes or takes it): a new entry of the LRU map
     * costs a node off its free list and the bucket's lock, per request. */
    __u16 local_port = (__u16)msg->local_port, peer_port = bpf_ntohl(msg->remote_port) & 0xffff;
    struct periscope_context_handoff *handoff = bpf_map_lookup_elem(&write_context_handoffs, &id);
    if (handoff) {
        handoff->pid_tgid = id;
        handoff->socket_id = 0;
        handoff->local_port = local_port;
        handoff->peer_port = peer_port;
        __builtin_memcpy(handoff->context, context, sizeof(handoff->context));
        handoff->ready = 1;
        return SK_PASS;
    }
    handoff = &scratch->handoff;
    handoff->pid_tgid = id;
    handoff->socket_id = 0;
    handoff->local_port = local_port;
    handoff->peer_port = peer_port;
    handoff->ready = 1;
    __builtin_memcpy(handoff->context, context, sizeof(handoff->context));
    if (bpf_map_update_elem(&write_context_handoffs, &id, handoff, BPF_ANY))
        report_context(context, 0, -1, local_port, peer_port);
    return SK_PASS;
}

/* ---- Server side: the request a thread reads --------------------------------------- */

/* A BTF tracepoint reads kernel memory directly (loads the JIT guards); a raw one through
 * bpf_probe_read_kernel. Weak: a kernel without it never loads the BTF stage. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* The TCP socket behind `fd` of the current process, or NULL, read directly: only in the
 * BTF tracepoint stage. */
static __always_inline struct sock *tcp_sock_of_fd_btf(int fd)
{
    if (fd < 0)
        return NULL;
    struct task_struct *task = bpf_get_current_task_btf();
    struct files_struct *files = task->files;
    if (!files)
        return NULL;
    struct fdtable *fdt = files->fdt;
    if (!fdt || (unsigned int)fd >= fdt->max_fds)
        return NULL;
    struct file **fds = fdt->fd;
    /* A plain load through a type whose first field is a pointer (a fault reads 0), not a
     * helper call. */
    struct llist_node *slot = bpf_rdonly_cast(&fds[fd], bpf_core_type_id_kernel(struct llist_node));
    void *entry = slot->next;
    if (!entry)
        return NULL;
    struct file *file = bpf_rdonly_cast(entry, bpf_core_type_id_kernel(struct file));
    struct inode *inode = file->f_inode;
    if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
        return NULL;
    struct socket *socket = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
    if (!socket)
        return NULL;
    struct sock *sk = socket->sk;
    if (!sk || sk->sk_type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP)
        return NULL;
    return sk;
}

/* The TCP socket behind `fd` of the current process, or NULL. */
static __always_inline struct sock *tcp_sock_of_fd(int fd)
{
    if (fd < 0)
        return NULL;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
    if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
        return NULL;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *file = NULL;
    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
    if (!file)
        return NULL;
    if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
        return NULL;
    struct socket *socket = BPF_CORE_READ(file, private_data);
    if (!socket)
        return NULL;
    struct sock *sk = BPF_CORE_READ(socket, sk);
    if (!sk || BPF_CORE_READ(sk, sk_type) != SOCK_STREAM || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
        return NULL;
    return sk;
}

/* The first user buffer a read-family syscall filled (`arg1`: its second argument), and its length. */
static __always_inline __u64 first_buffer(long nr, __u64 arg1, __u64 *length)
{
    if (nr == NR_read || nr == NR_recvfrom) {
        *length = ~0ULL;
        return arg1;
    }
    __u64 iov = arg1;
    if (nr == NR_recvmsg) {
        struct periscope_user_msghdr header;
        if (bpf_probe_read_user(&header, sizeof(header), (const void *)arg1))
            return 0;
        iov = header.msg_iov;
    }
    struct periscope_iovec entry;
    if (bpf_probe_read_user(&entry, sizeof(entry), (const void *)iov))
        return 0;
    *length = entry.iov_len;
    return entry.iov_base;
}

/* Whether the tracer's state for the socket at `socket_id`, in its slot (bpf/tracer.bpf.c),
 * says it was opened by a connect: a client's. A socket whose state is elsewhere, or that was
 * first seen mid-connection, is not known to be one. */
static __always_inline bool client_socket(__u64 socket_id)
{
    __u32 index = socket_slot_index(socket_id);
    struct socket_slot *slot = bpf_map_lookup_elem(&socket_slots, &index);
    return slot && slot->socket_id == socket_id && slot->state.role == PERISCOPE_ROLE_CLIENT;
}

/* A traced server thread read bytes that are not an HTTP/1 request on the socket at
 * `socket_id` (its descriptor `fd`): when its connection's segments brought an option not taken
 * yet, the context of the connection's first request. */
static __noinline int take_option(const struct periscope_propagation_config *settings, __u64 id, int fd,
                                  __u64 socket_id)
{
    __u32 zero = 0;
    struct option_ports *seen = bpf_map_lookup_elem(&option_ports, &zero);
    struct propagation_scratch *head = propagation_scratch_space();
    if (!seen || !seen->any || !head)
        return 0;
    /* A response read by a client: a request's option is only ever taken by its server. */
    if (head->head[0] == 'H' && head->head[1] == 'T' && head->head[2] == 'T' && head->head[3] == 'P' && head->head[4] == '/')
        return 0;
    /* Selected by the tracer (periscope_sys_exit asked); its policy may say `propagation: none`. */
    if (!propagation_allowed(settings, id >> 32))
        return 0;
    struct sock *sk = (struct sock *)socket_id;
    __u16 local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
    if (!((seen->ports.bits[(local_port >> 6) & (PERISCOPE_PORT_WORDS - 1)] >> (local_port & 63)) & 1))
        return 0;
    struct option_key key = {};
    key.family = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (key.family == AF_INET) {
        key.local[0] = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
        key.remote[0] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    } else if (key.family == AF_INET6) {
        BPF_CORE_READ_INTO(&key.local, sk, __sk_common.skc_v6_rcv_saddr);
        BPF_CORE_READ_INTO(&key.remote, sk, __sk_common.skc_v6_daddr);
    } else {
        return 0;
    }
    key.local_port = local_port;
    key.remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
    struct received_option *received = bpf_map_lookup_elem(&received_options, &key);
    if (!received || received->used)
        return 0;
    received->used = 1;
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch)
        return 0;
    struct periscope_trace_context *context = &scratch->context;
    __builtin_memset(context, 0, sizeof(*context));
    __builtin_memcpy(context->trace_id, received->trace_id, 16);
    __builtin_memcpy(context->parent_id, received->span_id, 8);
    context->flags = received->flags;
    context->parent_remote = 1;
    draw_nonzero(scratch, context->span_id, 1);
    context->origin = PERISCOPE_CONTEXT_SERVER_OPTION;
    struct thread_context serving = {};
    __builtin_memcpy(serving.trace_id, context->trace_id, 16);
    __builtin_memcpy(serving.span_id, context->span_id, 8);
    serving.flags = context->flags & 1;
    serving.from_option = 1;
    serving.socket_id = socket_id;
    bpf_map_update_elem(&thread_contexts, &id, &serving, BPF_ANY);
    propagation_count(PERISCOPE_PROP_OPTIONS_READ);
    report_context(context, socket_id, fd, key.local_port, key.remote_port);
    return 0;
}

/* The server-context stage (PERISCOPE_STAGE_SERVER_CONTEXT) of the tracer's sys_exit program,
 * which calls it on reads of selected processes: decides the context of a request read and
 * hands it (read_context_handoff) to the tracer's capture stage, called next, which carries it
 * in the read's own record. A context taken from a TCP option is reported in a record of its
 * own, ahead of the read's.
 * `args`: the tracepoint's (struct pt_regs *regs, long ret). */
static __always_inline int server_context(const unsigned long long *args, bool btf)
{
    struct pt_regs *regs = (struct pt_regs *)args[0];
    long ret = (long)args[1];
    if (ret < 16)
        return 0;
    /* A BTF tracepoint's regs are read with plain loads, not a helper call each. */
    long nr = btf ? SYSCALL_NR_BY(DIRECT_READ, regs) : SYSCALL_NR(regs);
    if (nr != NR_read && nr != NR_recvfrom && nr != NR_readv && nr != NR_recvmsg)
        return 0;
    /* The slot handing a context to the capture of this read: nothing in it is this read's yet. */
    __u32 zero = 0;
    struct periscope_context_handoff *handoff = bpf_map_lookup_elem(&read_context_handoff, &zero);
    if (!handoff)
        return 0;
    handoff->ready = 0;
    struct periscope_propagation_config *settings = propagation_settings();
    if (!settings)
        return 0;
    __u64 id = bpf_get_current_pid_tgid();
    int fd = (int)(btf ? SYSCALL_ARG0_BY(DIRECT_READ, regs) : SYSCALL_ARG0(regs));
    struct server_read read = {.fd = fd};
    if (btf) {
        struct sock *sk = tcp_sock_of_fd_btf(fd);
        if (!sk)
            return 0;
        read.socket_id = (__u64)sk;
        read.local_port = sk->__sk_common.skc_num;
        read.peer_port = bpf_ntohs(sk->__sk_common.skc_dport);
    } else {
        struct sock *sk = tcp_sock_of_fd(fd);
        if (!sk)
            return 0;
        read.socket_id = (__u64)sk;
        read.local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
        read.peer_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
    }
    /* The socket's address as a number, read back from map memory: a BTF socket pointer
     * allows no arithmetic (its slot is found by a product). The slot's socket_id means
     * nothing until `ready`. */
    handoff->socket_id = read.socket_id;
    read.socket_id = *(volatile __u64 *)&handoff->socket_id;
    /* A socket the tracer saw connect reads responses: neither a request nor a server's
     * option comes its way, and its bytes are not copied here. */
    if (client_socket(read.socket_id))
        return 0;
    __u64 length = 0;
    __u64 buffer = first_buffer(nr, btf ? SYSCALL_ARG1_BY(DIRECT_READ, regs) : SYSCALL_ARG1(regs), &length);
    if (!buffer)
        return 0;
    if (length > (__u64)ret)
        length = (__u64)ret;
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch || length < 16)
        return 0;
    /* The head's first bytes, read once: decide_server_context reads only what is past them. */
    __u32 have = length < SERVER_HEAD_FIRST_READ ? (__u32)length : SERVER_HEAD_FIRST_READ;
    if (bpf_probe_read_user(scratch->head, have, (const void *)buffer))
        return 0;
    if (!method_at(scratch, 0))
        return take_option(settings, id, fd, read.socket_id);
    /* periscope_sys_exit called this stage for a process it selects (target, not excluded):
     * what is left to ask is whether its policy lets context propagate. */
    if (!propagation_allowed(settings, id >> 32))
        return 0;
    read.buffer = buffer;
    read.len = length < PERISCOPE_PROPAGATION_HEAD_MAX ? (__u32)length : PERISCOPE_PROPAGATION_HEAD_MAX;
    read.have = have;
    /* A connection the tracer leaves out (a policy selecting by port selects every process):
     * no context to decide, nothing to hand over. */
    if (!port_selected(read.local_port, read.peer_port))
        return 0;
    if (!decide_server_context(&read, settings))
        return 0;
    /* Carried in the read's own record by the capture stage, which runs next on this CPU. */
    handoff->pid_tgid = id;
    handoff->socket_id = read.socket_id;
    handoff->local_port = read.local_port;
    handoff->peer_port = read.peer_port;
    __builtin_memcpy(handoff->context, &scratch->context, sizeof(handoff->context));
    handoff->ready = 1;
    return 0;
}

/* The stage has the tracer's program type, which the agent picks with the tracer's variant: a
 * BTF tracepoint for the tracer's fast build, a raw tracepoint for its compatible one (a tail
 * call stays within one type). The BTF one reads the socket behind the descriptor directly, the
 * raw one with BPF_CORE_READ. */
SEC("tp_btf/sys_exit")
int periscope_server_context(unsigned long long *ctx)
{
    server_context(ctx, true);
    bpf_tail_call(ctx, &sys_exit_stages, PERISCOPE_STAGE_CAPTURE);
    return 0;
}

SEC("raw_tracepoint/sys_exit")
int periscope_server_context_raw(struct bpf_raw_tracepoint_args *ctx)
{
    server_context(ctx->args, false);
    bpf_tail_call(ctx, &sys_exit_stages, PERISCOPE_STAGE_CAPTURE);
    return 0;
}
