/* The tracer's side of TLS capture, included by tracer.bpf.c before its transfers. A socket
 * transfer made by a thread inside a probed TLS library call (bpf/tls.bpf.c marks it in
 * `tls_calls`) is that library's records: the socket is remembered for the session, so
 * that plaintext events carry the connection, and the transfer is reported with its
 * length only, never copied or parsed. A write's plaintext is reported at the library's
 * first socket write, when its bytes go out (as a cleartext write's are at its syscall),
 * not at the call's return, which the peer's answer may overtake.
 *
 * A library may instead move its records outside its calls, through memory buffers the
 * application fills and drains (Node.js: libuv reads the socket into OpenSSL's input
 * buffer, then calls SSL_read; SSL_write fills the output buffer, then libuv writes it to
 * the socket). Its sessions are bound by what their thread does around the calls, with no
 * event loop turn in between: records read from a socket belong to the session of the
 * thread's next call, and records written to a socket to the session of the call it
 * returned from last (`tls_threads`). Once a session is bound, what moves on its socket
 * outside calls is records too: counted, never copied. Interleaved connections on one
 * event loop thread each read, decrypt, encrypt and write in turn, so each read or write
 * sits next to its own session's call. */
#ifndef PERISCOPE_TLS_HOOK_H
#define PERISCOPE_TLS_HOOK_H

#include "periscope_tls.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, PERISCOPE_TLS_MAX_CALLS);
    __type(key, __u32);
    __type(value, struct periscope_tls_call);
} tls_calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, PERISCOPE_TLS_MAX_SESSIONS);
    __type(key, struct periscope_tls_session_key);
    __type(value, struct periscope_tls_socket);
} tls_sessions SEC(".maps");

/* The session last bound to each socket (by its address, as socket_id): what is forgotten
 * when the socket closes or its address starts another connection (tls_forget_socket). */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, PERISCOPE_TLS_MAX_SESSIONS);
    __type(key, __u64);
    __type(value, struct periscope_tls_session_key);
} tls_socket_sessions SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, PERISCOPE_TLS_MAX_THREADS);
    __type(key, __u32);
    __type(value, struct periscope_tls_thread);
} tls_threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, PERISCOPE_TLS_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} tls_counters SEC(".maps");

static __always_inline void tls_count(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&tls_counters, &index);
    if (value)
        *value += 1;
}

/* Notes that the session `key` is now bound to `socket_id`, so that the binding is forgotten
 * with the socket. */
static __always_inline void tls_note_binding(__u64 socket_id, const struct periscope_tls_session_key *key)
{
    bpf_map_update_elem(&tls_socket_sessions, &socket_id, key, BPF_ANY);
}

/* The socket at `socket_id` closed, or its address starts another connection (connect,
 * accept): the session bound to it is forgotten, so that a session the library keeps at the
 * same address for a later connection there is bound (and the socket marked) afresh. Only
 * while TLS probes are attached. */
static __always_inline void tls_forget_socket(__u64 socket_id, const struct periscope_config *cfg)
{
    if (!(cfg->flags & PERISCOPE_FLAG_TLS_PROBES))
        return;
    struct periscope_tls_session_key *bound = bpf_map_lookup_elem(&tls_socket_sessions, &socket_id);
    if (!bound)
        return;
    struct periscope_tls_session_key key = *bound;
    bpf_map_delete_elem(&tls_socket_sessions, &socket_id);
    struct periscope_tls_socket *known = bpf_map_lookup_elem(&tls_sessions, &key);
    if (known && known->socket_id == socket_id)
        bpf_map_delete_elem(&tls_sessions, &key);
}

/* Binds `session` of `pid` to `socket`, learnt around the session's calls; `replace`: also
 * when the session was bound to another socket (an SSL object freed and its address reused). */
static __always_inline void tls_bind(__u64 session, __u32 pid, const struct periscope_tls_socket *socket, bool replace)
{
    struct periscope_tls_session_key key = {.session = session, .pid = pid};
    struct periscope_tls_socket *known = bpf_map_lookup_elem(&tls_sessions, &key);
    if (known && (!replace || known->socket_id == socket->socket_id))
        return;
    struct periscope_tls_socket bound = *socket;
    bound.pending_write = 0;
    bpf_map_update_elem(&tls_sessions, &key, &bound, BPF_ANY);
    __u64 socket_id = socket->socket_id;
    tls_note_binding(socket_id, &key);
    struct periscope_socket_state *state = socket_state(socket_id);
    if (state)
        state->tls = 1;
    tls_count(PERISCOPE_TLS_COUNTER_BOUND_AROUND);
}

/* Whether `bytes` begin like a TLS record: content type change_cipher_spec, alert,
 * handshake or application_data, version 3.x, a length a record can have. */
static __always_inline bool tls_record_header(const __u8 *bytes)
{
    if (bytes[0] < 20 || bytes[0] > 23 || bytes[1] != 3 || bytes[2] > 4)
        return false;
    __u32 length = (__u32)bytes[3] << 8 | bytes[4];
    return length > 0 && length <= PERISCOPE_TLS_MAX_RECORD;
}

/* Reports `event` (a transfer on a selected socket) as TLS records: its length only. */
static __always_inline void tls_report_records(struct periscope_event *event, const struct periscope_config *cfg)
{
    event->flags |= PERISCOPE_EVENT_FLAG_TLS_CIPHERTEXT;
    event->captured_len = 0;
    event->tail_len = 0;
    submit(event, 0, cfg);
    tls_count(PERISCOPE_TLS_COUNTER_CIPHERTEXT);
}

/* A transfer outside any TLS call, its payload captured: when it begins like a record and
 * its thread makes TLS calls, it is records, reported as such and taken as evidence of
 * which session the socket carries (see the top of this file). */
static __noinline bool tls_records_around(struct periscope_event *event, const struct periscope_config *cfg)
{
    if (event->captured_len < 5 || event->total_len < 5 || !tls_record_header(event->payload))
        return false;
    __u32 tid = event->tid;
    struct periscope_tls_thread *thread = bpf_map_lookup_elem(&tls_threads, &tid);
    if (!thread)
        return false;
    struct periscope_tls_socket socket = {};
    socket.socket_id = event->socket_id;
    socket.fd = event->fd;
    __builtin_memcpy(&socket.tuple, &event->tuple, sizeof(event->tuple));
    if (event->direction == PERISCOPE_DIRECTION_INGRESS) {
        thread->read = socket;
        thread->has_read = 1;
    } else if (thread->session) {
        __u64 session = thread->session;
        thread->session = 0;
        tls_bind(session, event->pid, &socket, false);
    }
    tls_report_records(event, cfg);
    return true;
}

/* The plaintext of a write admitted for capture (tls_report_write), at `buffer`: its prefix,
 * chunk headers and last bytes, and its HTTP/2 frame headers past the prefix; submitted. */
static __noinline int tls_capture_write(struct periscope_event *event, __u64 buffer, __u8 walks)
{
    const struct periscope_config *cfg = current_config();
    if (!cfg)
        return 0;
    __u64 requested = event->total_len;
    __u32 length = capture_limit(cfg, (long)requested);
    if (length > PERISCOPE_MAX_CAPTURE)
        length = PERISCOPE_MAX_CAPTURE;
    if (bpf_probe_read_user(event->payload, length, (const void *)buffer)) {
        length = 0;
    } else {
        chunk_walk(event, buffer, requested, length, walks);
        __u32 tail = capture_tail(event, length, (long)requested, buffer);
        length += tail + frame_walk(event, buffer, 0, requested, (__u64)(length + tail) << 32 | length);
    }
    event->captured_len = length;
    submit(event, length, current_config());
    tls_count(PERISCOPE_TLS_COUNTER_PLAINTEXT);
    return 0;
}

/* Whether a write's plaintext on the socket `event` is about (reusing the event) is to be
 * captured; its frames are walked all the same when it is shed. `walks`: the socket's
 * chunk_walks bits. */
static __noinline bool tls_admit_write(struct periscope_event *event, __u64 buffer, __u64 requested,
                                       const struct periscope_config *cfg, __u8 *walks)
{
    event->kind = PERISCOPE_EVENT_DATA;
    event->direction = PERISCOPE_DIRECTION_EGRESS;
    event->flags = PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT;
    event->total_len = requested > 0xffffffffULL ? 0xffffffffU : (__u32)requested;
    event->captured_len = 0;
    event->tail_len = 0;
    event->chunk_flags = 0;
    if (admit_noting_walks(event, cfg, walks))
        return true;
    /* Shed: its HTTP/2 frames are walked all the same, as a syscall's are. */
    frame_walk(event, buffer, 0, event->total_len, FRAME_WALK_SHED);
    return false;
}

/* Reports a write's plaintext on the socket `event` is about, reusing the event. Two calls
 * one after the other, each with a small frame, rather than one inside the other: the chain
 * from the tracer's sys_exit through emit_data_iov, this and frame_walk to its loop's step
 * must stay within the verifier's 512 bytes of combined stack (one function doing both came
 * to 544, and the kernel refused the tracer). */
static __always_inline void tls_report_write(struct periscope_event *event, __u64 buffer, __u64 requested,
                                             const struct periscope_config *cfg)
{
    __u8 walks = 0;
    if (tls_admit_write(event, buffer, requested, cfg, &walks))
        tls_capture_write(event, buffer, walks);
}

/* True when `event` (a transfer on a selected socket) is TLS records moved inside a
 * library call; it has then been reported without payload. */
static __always_inline bool tls_ciphertext(struct periscope_event *event, const struct periscope_config *cfg)
{
    __u32 tid = event->tid;
    struct periscope_tls_call *call = bpf_map_lookup_elem(&tls_calls, &tid);
    if (!call)
        return false;
    call->socket.socket_id = event->socket_id;
    call->socket.fd = event->fd;
    __builtin_memcpy(&call->socket.tuple, &event->tuple, sizeof(event->tuple));
    call->seen_socket = 1;
    bool write_starts = !call->reported && event->direction == PERISCOPE_DIRECTION_EGRESS &&
        (call->function == PERISCOPE_TLS_SSL_WRITE || call->function == PERISCOPE_TLS_SSL_WRITE_EX);
    __u64 buffer = call->buffer;
    __u64 requested = call->requested;
    struct periscope_tls_session_key key = {.session = call->session, .pid = event->pid};
    if (write_starts)
        call->reported = 1;
    tls_report_records(event, cfg);
    if (!write_starts || requested == 0)
        return true;
    struct periscope_tls_socket *known = bpf_map_lookup_elem(&tls_sessions, &key);
    if (known && known->pending_write == (__u32)requested) {
        /* The retry of a write already reported. */
        known->pending_write = 0;
        return true;
    }
    tls_report_write(event, buffer, requested, cfg);
    return true;
}

#endif
