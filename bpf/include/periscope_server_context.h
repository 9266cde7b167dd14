/* Deciding the context of a request a traced server thread reads, from the start of its head:
 * its `traceparent` continued, or a trace begun, and a span drawn; remembered for the thread
 * (the calls it makes meanwhile are its children) and reported: in the read's own record for a
 * cleartext read, in a record of its own ahead of the plaintext event for a TLS one.
 * Included by bpf/propagation.bpf.c, which decides on cleartext reads, and bpf/tls.bpf.c,
 * which decides on the plaintext a TLS library returns; the agent hands the TLS probes the
 * propagation object's maps. Needs the tracer's shared maps (periscope_shared_maps.h). */
#ifndef PERISCOPE_SERVER_CONTEXT_H
#define PERISCOPE_SERVER_CONTEXT_H

#include "periscope_propagation.h"

#define HEAD_MASK (PERISCOPE_PROPAGATION_HEAD_MAX - 1)

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct periscope_propagation_config);
} propagation_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, PERISCOPE_MAX_PIDS);
    __type(key, __u32);
    __type(value, __u8);
} propagation_pids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, PERISCOPE_PROP_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} propagation_counters SEC(".maps");

/* The server request a thread is serving, by pid_tgid. */
struct thread_context {
    __u8 trace_id[16];
    __u8 span_id[8];
    __u8 flags;
    /* Taken from the TCP header option of the connection on `socket_id`, for its first
     * request, which has not started yet: a TLS connection's option is read with its records,
     * before the request's plaintext. */
    __u8 from_option;
    __u8 _pad[6];
    __u64 socket_id;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, PERISCOPE_PROPAGATION_THREADS);
    __type(key, __u64);
    __type(value, struct thread_context);
} thread_contexts SEC(".maps");

struct propagation_scratch {
    union {
        __u8 head[PERISCOPE_PROPAGATION_HEAD_MAX];
        /* Read a word at a time; the last word and one more are read past head[]. */
        __u64 head_words[PERISCOPE_PROPAGATION_HEAD_MAX / 8 + 2];
    };
    __u8 line[PERISCOPE_TRACEPARENT_LINE_LEN + 2];
    struct periscope_trace_context context;
    /* A write's context, built here for write_context_handoffs. */
    struct periscope_context_handoff handoff;
    /* The state of the CPU's id generator (next_random); all zero until its first use. */
    __u64 random[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct propagation_scratch);
} propagation_scratch SEC(".maps");

static __always_inline void propagation_count(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&propagation_counters, &index);
    if (value)
        *value += 1;
}

static __always_inline struct propagation_scratch *propagation_scratch_space(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&propagation_scratch, &zero);
}

static __always_inline struct periscope_propagation_config *propagation_settings(void)
{
    __u32 zero = 0;
    struct periscope_propagation_config *settings = bpf_map_lookup_elem(&propagation_config, &zero);
    return settings && settings->enabled ? settings : NULL;
}

/* Whether the policy of a process the tracer selects lets context propagate (`settings`:
 * propagation_settings()). */
static __always_inline bool propagation_allowed(const struct periscope_propagation_config *settings, __u32 tgid)
{
    return !settings->disabled_pids || bpf_map_lookup_elem(&propagation_pids, &tgid) == NULL;
}

/* Whether the tracer selects the process and its policy lets context propagate. The PID maps
 * are looked up only where their counts (pid_slots, disabled_pids) say the process may be
 * there. A function of its own: its keys are not on the stack of the TLS probe's chain of
 * calls, which has none to spare. */
static __noinline bool propagating(const struct periscope_propagation_config *settings, __u32 tgid)
{
    __u32 zero = 0;
    struct periscope_config *cfg = bpf_map_lookup_elem(&config, &zero);
    if (!cfg)
        return false;
    if (!(cfg->flags & PERISCOPE_FLAG_ALL_PIDS)
        && (!pid_slot_used(PERISCOPE_PID_SLOTS_TARGETS, tgid) || !bpf_map_lookup_elem(&target_pids, &tgid)))
        return false;
    if (pid_slot_used(PERISCOPE_PID_SLOTS_EXCLUDED, tgid) && bpf_map_lookup_elem(&excluded_pids, &tgid))
        return false;
    return propagation_allowed(settings, tgid);
}

/* ---- Request heads ---------------------------------------------------------------- */

/* Where a request head's parts are, found by scan_request over scratch->head[0, len). */
struct head_scan {
    __u32 len;
    __u32 at;             /* where the scan goes on */
    __u32 line_start;     /* where the current line starts */
    __u32 first_line_end; /* index after the request line's '\n'; 0: not seen */
    __u32 header_end;     /* index after the blank line ending the head; 0: not seen */
    __u32 value_at;       /* index after "traceparent:"; 0: none */
};

#define NAME_LEN 12
/* "traceparent:" as the little-endian words it is compared in, every byte | 0x20: header
 * names are case-insensitive, `| 0x20` lowers letters and keeps ':'. */
#define NAME_WORD 0x7261706563617274ULL /* "tracepar" */
#define NAME_TAIL 0x3a746e65U           /* "ent:" */
#define BYTES_LF 0x0a0a0a0a0a0a0a0aULL
#define BYTES_7F 0x7f7f7f7f7f7f7f7fULL

/* The eight bytes of the head at `at` (at most PERISCOPE_PROPAGATION_HEAD_MAX - 1), from the
 * two aligned words they straddle. */
static __always_inline __u64 head_word(const struct propagation_scratch *scratch, __u32 at)
{
    __u32 index = (at >> 3) & (PERISCOPE_PROPAGATION_HEAD_MAX / 8 - 1);
    __u32 shift = (at & 7) * 8;
    __u64 low = scratch->head_words[index], high = scratch->head_words[index + 1];
    /* (high << 1) << (63 - shift): nothing of `high` when shift is 0 */
    return (low >> shift) | ((high << 1) << (63 - shift));
}

/* Whether a header line at `at` names `traceparent`, its twelve bytes within scan->len. */
static __always_inline bool traceparent_at(const struct propagation_scratch *scratch, const struct head_scan *scan,
                                           __u32 at)
{
    if (at + NAME_LEN > scan->len)
        return false;
    return (head_word(scratch, at) | 0x2020202020202020ULL) == NAME_WORD
        && (((__u32)head_word(scratch, at + 8)) | 0x20202020U) == NAME_TAIL;
}

/* One step of the scan: the next LF within eight bytes, or eight bytes without one. At a LF,
 * the line it ends (blank: the head ends) and the line it starts (`traceparent`?). */
static long scan_step(__u64 index, void *data)
{
    struct head_scan *scan = data;
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch)
        return 1;
    __u32 at = scan->at, len = scan->len;
    if (at >= len || at >= PERISCOPE_PROPAGATION_HEAD_MAX)
        return 1;
    __u64 x = head_word(scratch, at) ^ BYTES_LF;
    /* 0x80 in each byte that is a LF, exactly (no carry crosses a byte) */
    __u64 lf = ~(((x & BYTES_7F) + BYTES_7F) | x | BYTES_7F);
    __u32 left = len - at;
    if (left < 8)
        lf &= (1ULL << (left * 8)) - 1;
    if (!lf) {
        scan->at = at + 8;
        return 0;
    }
    /* The first LF's byte index: its bit, (1 << 8k) times bytes 00 01 .. 07, top byte. */
    __u32 p = at + (__u32)((((lf & -lf) >> 7) * 0x0001020304050607ULL) >> 56);
    __u32 line_start = scan->line_start;
    if (scan->first_line_end == 0) {
        scan->first_line_end = p + 1;
    } else if (p == line_start || (p == line_start + 1 && scratch->head[line_start & HEAD_MASK] == '\r')) {
        scan->header_end = p + 1;
        return 1;
    }
    scan->line_start = p + 1;
    scan->at = p + 1;
    if (traceparent_at(scratch, scan, p + 1)) {
        scan->value_at = p + 1 + NAME_LEN;
        return 1;
    }
    return 0;
}

static __always_inline __u8 head_byte(const struct propagation_scratch *scratch, __u32 index)
{
    return scratch->head[index & HEAD_MASK];
}

/* An HTTP/1 request line's method and the space after it, at `at`. */
static __always_inline bool method_at(const struct propagation_scratch *scratch, __u32 at)
{
    __u8 a = head_byte(scratch, at), b = head_byte(scratch, at + 1), c = head_byte(scratch, at + 2),
         d = head_byte(scratch, at + 3), e = head_byte(scratch, at + 4);
    if (a == 'G' && b == 'E' && c == 'T' && d == ' ')
        return true;
    if (a == 'P' && b == 'U' && c == 'T' && d == ' ')
        return true;
    if (a == 'P' && b == 'O' && c == 'S' && d == 'T' && e == ' ')
        return true;
    if (a == 'H' && b == 'E' && c == 'A' && d == 'D' && e == ' ')
        return true;
    __u8 f = head_byte(scratch, at + 5), g = head_byte(scratch, at + 6), h = head_byte(scratch, at + 7);
    if (a == 'P' && b == 'A' && c == 'T' && d == 'C' && e == 'H' && f == ' ')
        return true;
    if (a == 'D' && b == 'E' && c == 'L' && d == 'E' && e == 'T' && f == 'E' && g == ' ')
        return true;
    return a == 'O' && b == 'P' && c == 'T' && d == 'I' && e == 'O' && f == 'N' && g == 'S' && h == ' ';
}

/* Scans scratch->head[0, len): a request line ending in HTTP/1.x, and where its head ends. */
static __always_inline bool scan_request(struct propagation_scratch *scratch, struct head_scan *scan, __u32 len)
{
    if (len < 16 || !method_at(scratch, 0))
        return false;
    __builtin_memset(scan, 0, sizeof(*scan));
    scan->len = len;
    /* A step per LF or per eight bytes: never more than len steps. */
    bpf_loop(len, scan_step, scan, 0);
    __u32 end = scan->first_line_end;
    if (end < 16)
        return false;
    /* " HTTP/1.x\r\n" */
    __u32 at = end - 11;
    return head_byte(scratch, at) == ' ' && head_byte(scratch, at + 1) == 'H' && head_byte(scratch, at + 2) == 'T'
        && head_byte(scratch, at + 3) == 'T' && head_byte(scratch, at + 4) == 'P' && head_byte(scratch, at + 5) == '/'
        && head_byte(scratch, at + 6) == '1' && head_byte(scratch, at + 7) == '.' && head_byte(scratch, at + 9) == '\r';
}

#define BYTES_01 0x0101010101010101ULL
#define BYTES_0F 0x0f0f0f0f0f0f0f0fULL
#define BYTES_80 0x8080808080808080ULL

static __always_inline int hex_value(__u8 c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parses `count` bytes of lowercase hex at `at` into out, a byte at a time; false on anything
 * else. */
static __always_inline bool parse_hex(const struct propagation_scratch *scratch, __u32 at, __u8 *out, int count)
{
    for (int k = 0; k < count; k++) {
        int high = hex_value(head_byte(scratch, at + 2 * k));
        int low = hex_value(head_byte(scratch, at + 2 * k + 1));
        if (high < 0 || low < 0)
            return false;
        out[k] = (__u8)(high << 4 | low);
    }
    return true;
}

/* Parses the 8 characters of lowercase hex in `word` (little-endian: its first character in
 * its low byte) into out[0, 4); false unless every one is [0-9a-f]. Eight at once: a byte b
 * is in [lo, hi] when b + (0x80 - lo) has its top bit and b + (0x7f - hi) has not (no carry
 * crosses a byte for b < 0x80); its value is b & 15, plus 9 for a letter (bit 6). */
static __always_inline bool parse_hex_word(__u64 word, __u8 *out)
{
    if (word & BYTES_80)
        return false;
    __u64 digit = (word + 0x50 * BYTES_01) & ~(word + 0x46 * BYTES_01);
    __u64 letter = (word + 0x1f * BYTES_01) & ~(word + 0x19 * BYTES_01);
    if (((digit | letter) & BYTES_80) != BYTES_80)
        return false;
    __u64 nibbles = (word & BYTES_0F) + ((word >> 6) & BYTES_01) * 9;
    /* characters 2k and 2k+1 make byte k: its high and low nibble */
    __u64 pairs = ((nibbles & 0x000f000f000f000fULL) << 4) | ((nibbles >> 8) & 0x000f000f000f000fULL);
    out[0] = (__u8)pairs;
    out[1] = (__u8)(pairs >> 16);
    out[2] = (__u8)(pairs >> 32);
    out[3] = (__u8)(pairs >> 48);
    return true;
}

/* Parses 8 * `words` characters of lowercase hex at `at` (within the head read) into out. */
static __always_inline bool parse_hex_words(const struct propagation_scratch *scratch, __u32 at, __u8 *out, int words)
{
    for (int k = 0; k < words; k++) {
        if (!parse_hex_word(head_word(scratch, (at + 8 * k) & HEAD_MASK), &out[4 * k]))
            return false;
    }
    return true;
}

static __always_inline bool all_zero(const __u8 *bytes, int count)
{
    __u8 any = 0;
    for (int k = 0; k < count; k++)
        any |= bytes[k];
    return any == 0;
}

/* The `traceparent` value at scan->value_at, as W3C Trace Context reads it: version (not
 * ff), trace id, parent id, flags; version 00 has exactly those four fields. */
static __always_inline bool parse_traceparent(const struct propagation_scratch *scratch, const struct head_scan *scan,
                                              struct periscope_trace_context *out)
{
    __u32 at = scan->value_at;
    for (int k = 0; k < 4; k++) {
        __u8 c = head_byte(scratch, at);
        if (c != ' ' && c != '\t')
            break;
        at++;
    }
    if (at + 55 > scan->len)
        return false;
    __u8 version[1], flags[1];
    if (!parse_hex(scratch, at, version, 1) || version[0] == 0xff || head_byte(scratch, at + 2) != '-')
        return false;
    if (!parse_hex_words(scratch, at + 3, out->trace_id, 4) || head_byte(scratch, at + 35) != '-')
        return false;
    if (!parse_hex_words(scratch, at + 36, out->parent_id, 2) || head_byte(scratch, at + 52) != '-')
        return false;
    if (!parse_hex(scratch, at + 53, flags, 1))
        return false;
    __u8 next = at + 55 < scan->len ? head_byte(scratch, at + 55) : '\r';
    if (version[0] == 0 ? (next != '\r' && next != '\n' && next != ' ' && next != '\t') : (next != '-' && next != '\r' && next != '\n'))
        return false;
    if (all_zero(out->trace_id, 16) || all_zero(out->parent_id, 8))
        return false;
    out->flags = flags[0];
    return true;
}

static __always_inline __u64 rotate_left(__u64 x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 bits of the CPU's id generator: xoshiro256** (Blackman and Vigna), its state in
 * the scratch space, seeded from bpf_get_prandom_u32 at its first use. 64 bits a step and no
 * helper call, where the helper gives 32 bits a call. It is 4-dimensionally equidistributed:
 * the two steps of a trace id cover the 128-bit values uniformly (W3C asks for random trace
 * ids), which four calls of the helper's 113-bit generator cannot. Neither is for secrets. As
 * the rest of the scratch space, the state is used by one program at a time on its CPU. */
static __always_inline __u64 next_random(struct propagation_scratch *scratch)
{
    __u64 *s = scratch->random;
    if (!(s[0] | s[1] | s[2] | s[3])) {
        for (int k = 0; k < 4; k++)
            s[k] = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32();
        s[0] |= 1; /* never all zero, the one state it cannot leave */
    }
    __u64 result = rotate_left(s[1] * 5, 7) * 9;
    __u64 t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

/* `words` random 64-bit words into `bytes`, not all zero (W3C: an all-zero id is invalid). */
static __always_inline void draw_nonzero(struct propagation_scratch *scratch, __u8 *bytes, int words)
{
    __u64 any = 0;
    for (int k = 0; k < words; k++) {
        __u64 value = next_random(scratch);
        any |= value;
        __builtin_memcpy(&bytes[8 * k], &value, 8);
    }
    if (!any)
        bytes[0] = 1;
}

/* A root's sampled flag, by the node's root sampler on the trace id's last eight bytes. */
static __always_inline __u8 root_flags(const struct periscope_propagation_config *settings, const __u8 *trace_id)
{
    if (settings->root_threshold == ~0ULL)
        return 1;
    __u64 low = 0;
    for (int k = 8; k < 16; k++)
        low = low << 8 | trace_id[k];
    return low < settings->root_threshold ? 1 : 0;
}

static __always_inline void report_context(const struct periscope_trace_context *context, __u64 socket_id, int fd,
                                   __u16 local_port, __u16 peer_port)
{
    struct periscope_event *event = bpf_ringbuf_reserve(&events, PERISCOPE_EVENT_HEADER_SIZE + sizeof(*context), 0);
    if (!event) {
        propagation_count(PERISCOPE_PROP_LOST);
        return;
    }
    __u64 id = bpf_get_current_pid_tgid();
    event->timestamp_ns = bpf_ktime_get_ns();
    event->socket_id = socket_id;
    event->kind = PERISCOPE_EVENT_TRACE_CONTEXT;
    event->pid = id >> 32;
    event->tid = (__u32)id;
    event->fd = fd;
    event->total_len = 0;
    event->captured_len = sizeof(*context);
    event->direction = 0;
    event->role = 0;
    event->syscall_nr = 0;
    event->flags = 0;
    event->tail_len = 0;
    __builtin_memset(&event->tuple, 0, sizeof(event->tuple));
    event->tuple.local_port = local_port;
    event->tuple.peer_port = peer_port;
    __builtin_memcpy(event->payload, context, sizeof(*context));
    bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
}

/* A request read by a traced server thread: where its first bytes are, on which socket. */
struct server_read {
    __u64 buffer;    /* user memory holding the start of what was read */
    __u64 socket_id;
    __u32 len;       /* bytes at `buffer` that were read */
    __s32 fd;
    __u16 local_port;
    __u16 peer_port;
    __u8 report;     /* the decision is reported in a record of its own (TLS plaintext) */
    __u8 _pad;
    __u16 have;      /* bytes of `buffer` already in the scratch space's head: its first
                      * SERVER_HEAD_FIRST_READ, or all `len` (0: none) */
};

/* What the server-context stage reads of a read's first bytes before it knows whether they
 * start a request: most request heads whole (one copy from user memory for the decision), a
 * few words more than the method for what is not one. */
#define SERVER_HEAD_FIRST_READ 256

/* The thread read bytes starting with a request method at read->buffer: when they hold an
 * HTTP/1 request head (whole, or at least up to its `traceparent`), the request's context is
 * decided and remembered for the thread; returns 1 with it in the scratch space's `context`,
 * reported here when read->report says so (else the caller hands it on). A head that goes on
 * in a later read leaves the thread with no context. The first request of a connection whose option the thread took keeps the option's
 * context (reported when it was taken), unless it carries `traceparent`. */
static __noinline int decide_server_context(const struct server_read *read,
                                            const struct periscope_propagation_config *settings)
{
    struct propagation_scratch *scratch = propagation_scratch_space();
    if (!scratch)
        return 0;
    __u64 id = bpf_get_current_pid_tgid();
    __u32 len = read->len < PERISCOPE_PROPAGATION_HEAD_MAX ? read->len : PERISCOPE_PROPAGATION_HEAD_MAX;
    len &= HEAD_MASK | PERISCOPE_PROPAGATION_HEAD_MAX;
    if (len < 16 || len > PERISCOPE_PROPAGATION_HEAD_MAX)
        return 0;
    /* What the caller has not read already: nothing when it read the whole head or its
     * first SERVER_HEAD_FIRST_READ bytes (read->have), else all of it. */
    if (read->have == SERVER_HEAD_FIRST_READ && len > SERVER_HEAD_FIRST_READ) {
        __u32 rest = len - SERVER_HEAD_FIRST_READ;
        if (rest > PERISCOPE_PROPAGATION_HEAD_MAX - SERVER_HEAD_FIRST_READ
            || bpf_probe_read_user(&scratch->head[SERVER_HEAD_FIRST_READ], rest,
                                   (const void *)(read->buffer + SERVER_HEAD_FIRST_READ)))
            return 0;
    } else if (read->have < len && bpf_probe_read_user(scratch->head, len, (const void *)read->buffer)) {
        return 0;
    }
    struct head_scan scan;
    if (!scan_request(scratch, &scan, len))
        return 0;
    if (!scan.header_end && !scan.value_at) {
        /* The head goes on in a later read, which may carry `traceparent`: no context is
         * decided, and none of an earlier request stays with the thread. */
        bpf_map_delete_elem(&thread_contexts, &id);
        return 0;
    }
    struct periscope_trace_context *context = &scratch->context;
    __builtin_memset(context, 0, sizeof(*context));
    /* The thread's entry from its previous request, rewritten in place below. */
    struct thread_context *current = bpf_map_lookup_elem(&thread_contexts, &id);
    if (scan.value_at && parse_traceparent(scratch, &scan, context)) {
        context->parent_remote = 1;
    } else {
        if (current && current->from_option && current->socket_id == read->socket_id) {
            /* Reported when the option was taken: the connection's first request has it. */
            current->from_option = 0;
            return 0;
        }
        __builtin_memset(context, 0, sizeof(*context));
        draw_nonzero(scratch, context->trace_id, 2);
        context->flags = root_flags(settings, context->trace_id);
    }
    draw_nonzero(scratch, context->span_id, 1);
    context->origin = PERISCOPE_CONTEXT_SERVER;
    if (current) {
        /* Only this thread reads or writes its entry: no other sees it half written. */
        __builtin_memcpy(current->trace_id, context->trace_id, 16);
        __builtin_memcpy(current->span_id, context->span_id, 8);
        current->flags = context->flags & 1;
        current->from_option = 0;
        current->socket_id = read->socket_id;
    } else {
        struct thread_context serving = {};
        __builtin_memcpy(serving.trace_id, context->trace_id, 16);
        __builtin_memcpy(serving.span_id, context->span_id, 8);
        serving.flags = context->flags & 1;
        serving.socket_id = read->socket_id;
        bpf_map_update_elem(&thread_contexts, &id, &serving, BPF_ANY);
    }
    propagation_count(PERISCOPE_PROP_SERVER_CONTEXTS);
    /* Here, not in the caller: a TLS probe's chain of calls has no stack to spare. */
    if (read->report)
        report_context(context, read->socket_id, read->fd, read->local_port, read->peer_port);
    return 1;
}

#endif
