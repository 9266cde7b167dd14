/* Plaintext at the TLS library: uprobes at the entry and return of OpenSSL's
 * SSL_read/SSL_read_ex/SSL_write/SSL_write_ex (and SSL_do_handshake and SSL_shutdown,
 * which only learn the session's socket), attached by the agent once per library file that
 * traced processes map, through uprobe_multi links (each probe's function is its attach
 * cookie).
 *
 * The tracer's own programs and maps come with the include; the agent loads only the
 * programs below from this object and hands it the tracer's maps, so plaintext events go
 * into the same ring buffer, through the same selection and overload shedding, as the
 * socket's own. Which socket a session uses is learnt from the socket transfers its calls
 * make, or, for a library whose records move outside its calls, from the transfers its
 * thread makes around them (periscope_tls_hook.h); it is remembered per session for calls
 * served from the library's buffers. */
#include "tracer.bpf.c"
/* The propagation object's maps (the agent hands them over when it loaded that object). */
#include "periscope_server_context.h"

/* A traced server thread got a request's plaintext from its library: the request's context
 * is decided as for a cleartext read (periscope_server_context.h), so that the calls it makes
 * meanwhile carry it; reported in a record of its own, ahead of the plaintext event. */
static __noinline int tls_server_context(__u64 buffer, __u64 moved, const struct periscope_tls_socket *socket)
{
    struct periscope_propagation_config *settings = propagation_settings();
    if (!settings || moved < 16 || !propagating(settings, bpf_get_current_pid_tgid() >> 32))
        return 0;
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch || bpf_probe_read_user(scratch->head, 8, (const void *)buffer) || !method_at(scratch, 0))
        return 0;
    struct server_read read = {
        .buffer = buffer,
        .socket_id = socket->socket_id,
        .len = moved < PERISCOPE_PROPAGATION_HEAD_MAX ? (__u32)moved : PERISCOPE_PROPAGATION_HEAD_MAX,
        .fd = socket->fd,
        .local_port = socket->tuple.local_port,
        .peer_port = socket->tuple.peer_port,
        .report = 1,
    };
    return decide_server_context(&read, settings);
}

/* Forgets the frame walks of `socket`'s TLS plaintext lanes (periscope_frame_walk.h). */
static __always_inline void tls_forget_frame_walks(__u64 socket)
{
#ifndef PERISCOPE_PROBE_READS
    for (__u32 lane = PERISCOPE_DIRECTION_INGRESS + 4; lane <= PERISCOPE_DIRECTION_EGRESS + 4; lane++) {
        struct frame_walk_key key = {.socket = socket, .lane = lane};
        bpf_map_delete_elem(&frame_walks, &key);
    }
#endif
}

SEC("uprobe")
int periscope_tls_enter(struct pt_regs *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct periscope_config *cfg = current_config();
    if (!cfg || !pid_selected(id >> 32, cfg))
        return 0;
    struct periscope_tls_call call = {};
    call.function = (__u32)bpf_get_attach_cookie(ctx);
    call.session = USER_ARG0(ctx);
    call.buffer = USER_ARG1(ctx);
    call.requested = USER_ARG2(ctx);
    if (call.function == PERISCOPE_TLS_SSL_READ || call.function == PERISCOPE_TLS_SSL_WRITE)
        call.requested = (__u64)(int)call.requested > 0 ? (__u64)(int)call.requested : 0;
    if (call.function == PERISCOPE_TLS_SSL_READ_EX || call.function == PERISCOPE_TLS_SSL_WRITE_EX)
        call.length_out = USER_ARG3(ctx);
    __u32 tid = (__u32)id;
    if (bpf_map_update_elem(&tls_calls, &tid, &call, BPF_ANY))
        tls_count(PERISCOPE_TLS_COUNTER_CALLS_LOST);
    struct periscope_tls_thread *thread = bpf_map_lookup_elem(&tls_threads, &tid);
    if (!thread) {
        struct periscope_tls_thread fresh = {};
        bpf_map_update_elem(&tls_threads, &tid, &fresh, BPF_NOEXIST);
        return 0;
    }
    /* Records the thread read just before are this session's, whatever it was bound to. */
    if (thread->has_read) {
        thread->has_read = 0;
        tls_bind(call.session, id >> 32, &thread->read, true);
    }
    thread->session = 0;
    return 0;
}

SEC("uprobe")
int periscope_tls_return(struct pt_regs *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)id;
    struct periscope_tls_call *entry = bpf_map_lookup_elem(&tls_calls, &tid);
    if (!entry)
        return 0;
    struct periscope_tls_call call = *entry;
    bpf_map_delete_elem(&tls_calls, &tid);
    struct periscope_tls_thread *thread = bpf_map_lookup_elem(&tls_threads, &tid);
    if (thread)
        thread->session = call.session;
    struct periscope_tls_session_key key = {.session = call.session, .pid = id >> 32};
    struct periscope_tls_socket socket;
    long ret = (long)USER_RET(ctx);
    bool write = call.function == PERISCOPE_TLS_SSL_WRITE || call.function == PERISCOPE_TLS_SSL_WRITE_EX;
    if (call.seen_socket) {
        socket = call.socket;
        /* A write reported at its first socket write that did not finish is retried with
         * the same length: that retry is not reported again. */
        bool finished = call.function == PERISCOPE_TLS_SSL_WRITE ? (int)ret > 0 : (int)ret == 1;
        struct periscope_tls_socket *known = bpf_map_lookup_elem(&tls_sessions, &key);
        /* The session's first call on this socket (its handshake, mostly): a frame walk of
         * plaintext left by an earlier connection whose socket this one reuses is forgotten
         * (a write reported at its socket write was walked already, for this connection). */
        if (!known || known->socket_id != socket.socket_id) {
            if (!(write && call.reported))
                tls_forget_frame_walks(socket.socket_id);
            tls_note_binding(socket.socket_id, &key);
        }
        if (write)
            socket.pending_write = call.reported && !finished ? (__u32)call.requested : 0;
        else
            socket.pending_write = known ? known->pending_write : 0;
        bpf_map_update_elem(&tls_sessions, &key, &socket, BPF_ANY);
        if (write && call.reported)
            return 0;
    } else {
        struct periscope_tls_socket *known = bpf_map_lookup_elem(&tls_sessions, &key);
        if (!known) {
            /* Plaintext lost: a call that moved some (not one that failed or only shook hands). */
            bool moved_plaintext = call.function == PERISCOPE_TLS_SSL_READ || call.function == PERISCOPE_TLS_SSL_WRITE
                ? (int)ret > 0
                : (call.function == PERISCOPE_TLS_SSL_READ_EX || call.function == PERISCOPE_TLS_SSL_WRITE_EX) && (int)ret == 1;
            if (moved_plaintext)
                tls_count(PERISCOPE_TLS_COUNTER_UNBOUND);
            return 0;
        }
        socket = *known;
    }
    __u64 moved = 0;
    __u8 direction = PERISCOPE_DIRECTION_INGRESS;
    switch (call.function) {
    case PERISCOPE_TLS_SSL_WRITE:
        direction = PERISCOPE_DIRECTION_EGRESS;
        /* fallthrough */
    case PERISCOPE_TLS_SSL_READ:
        if ((int)ret <= 0)
            return 0;
        moved = (__u64)(int)ret;
        break;
    case PERISCOPE_TLS_SSL_WRITE_EX:
        direction = PERISCOPE_DIRECTION_EGRESS;
        /* fallthrough */
    case PERISCOPE_TLS_SSL_READ_EX:
        if ((int)ret != 1 || !call.length_out)
            return 0;
        if (bpf_probe_read_user(&moved, sizeof(moved), (const void *)call.length_out) || moved == 0)
            return 0;
        break;
    default:
        return 0;
    }
    struct periscope_config *cfg = current_config();
    if (!cfg)
        return 0;
    if (direction == PERISCOPE_DIRECTION_INGRESS)
        tls_server_context(call.buffer, moved, &socket);
    struct periscope_event *event = start_event(PERISCOPE_EVENT_DATA, socket.fd);
    if (!event)
        return 0;
    event->socket_id = socket.socket_id;
    __builtin_memcpy(&event->tuple, &socket.tuple, sizeof(event->tuple));
    event->direction = direction;
    event->total_len = moved > 0xffffffffULL ? 0xffffffffU : (__u32)moved;
    event->flags = PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT;
    __u8 walks = 0;
    if (!admit_noting_walks(event, cfg, &walks)) {
        frame_walk(event, call.buffer, 0, moved, FRAME_WALK_SHED);
        return 0;
    }
    __u32 length = capture_limit(cfg, (long)moved);
    if (length > PERISCOPE_MAX_CAPTURE)
        length = PERISCOPE_MAX_CAPTURE;
    /* Like a syscall's: the last bytes past the capture, chunk headers and HTTP/2 frame
     * headers walked past it (each in the lanes of TLS plaintext). */
    if (bpf_probe_read_user(event->payload, length, (const void *)call.buffer)) {
        length = 0;
    } else {
        chunk_walk(event, call.buffer, moved, length, walks);
        __u32 prefix = length;
        length += capture_tail(event, length, (long)moved, call.buffer);
        length += frame_walk(event, call.buffer, 0, moved, (__u64)length << 32 | prefix);
    }
    event->captured_len = length;
    submit(event, length, cfg);
    tls_count(PERISCOPE_TLS_COUNTER_PLAINTEXT);
    return 0;
}
