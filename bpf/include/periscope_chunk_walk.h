/* Chunked HTTP/1 bodies longer than the capture, for bpf/tracer.bpf.c (included once, where
 * the sockets map and the event helpers are defined).
 *
 * A read or write of several chunks past the captured prefix would be counted with their
 * framing (size lines, CRLFs). The kernel walks the chunk headers instead: each next header
 * is CRLF past the end of the chunk's data, a few bytes read at each. A walk reads one user
 * buffer or a readv/writev/recvmsg/sendmsg's iovecs as the one stream of bytes they moved:
 * a writer's framing in buffers of its own (Node's corked writes: size, CRLF, data, CRLF) is
 * walked like framing inside one buffer.
 *
 * Where a walk starts: where the previous syscall's walk on the socket and direction left
 * off (chunk_walks), else at the syscall's first byte when it starts with a chunk-size line,
 * else after the end of an HTTP head in the prefix. Syscalls captured whole are walked too,
 * so that a walk goes on into the next syscall: a body whose first bytes came in a short
 * read and whose next read starts in the middle of a chunk is walked from its head. A walk
 * from a wrong start fails at a header or a CRLF, or is rejected by user space, whose
 * decoder knows where the next header is: nothing is counted on the kernel's word alone. */
#ifndef PERISCOPE_CHUNK_WALK_H
#define PERISCOPE_CHUNK_WALK_H

/* What a walk reads: the `moved` bytes of one user buffer, or of an iovec array. */
struct chunk_source {
    __u64 address;   /* the buffer, or the iovec array */
    __u64 iov_count; /* 0: one buffer */
    __u64 moved;
    __u32 prefix;    /* bytes captured at the start of the event's payload */
    __u8 walks;      /* the socket's chunk_walks bits (periscope_socket_state) */
    /* The caller could not copy the syscall's last bytes: a walk that stops at the last
     * chunk copies what follows its header (when at most PERISCOPE_TAIL_CAPTURE bytes). */
    __u8 tail_wanted;
    __u8 _pad[2];
};

#ifndef PERISCOPE_PROBE_READS

struct chunk_walk_key {
    __u64 socket;
    __u32 direction;
    __u32 _pad;
};

enum chunk_phase {
    CHUNK_DATA_END = 0, /* CR LF at `at`: the end of a chunk's data */
    CHUNK_LF = 1,       /* LF at `at`: its CR came last */
    CHUNK_HEADER = 2,   /* in a chunk-size line */
    CHUNK_COPY = 3,     /* stopped at the last chunk: copying the bytes from `at` to the end */
};

/* Where a walk left off at the end of a syscall, relative to the next one's first byte. */
struct chunk_walk_state {
    __u64 value;       /* CHUNK_HEADER: the size read so far */
    __u32 at;          /* CHUNK_DATA_END: where the CRLF is */
    __u8 phase;        /* enum chunk_phase */
    __u8 line_phase;   /* CHUNK_HEADER: 0 digits, 1 extension, 2 after CR */
    __u8 digits;
    __u8 _pad;
    __u32 line_bytes;
    __u32 _pad2;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, struct chunk_walk_key);
    __type(value, struct chunk_walk_state);
} chunk_walks SEC(".maps");

#define CHUNK_READ 32
#define CHUNK_MAX_LINE 256
/* UIO_MAXIOV: no syscall moves more buffers. */
#define CHUNK_MAX_IOV 1024

enum chunk_result {
    CHUNK_RUNNING = 0,
    CHUNK_REACHED_END = 1, /* the walk reached the end of the syscall: it goes on in the next */
    CHUNK_LAST = 2,        /* stopped at the last chunk's header */
    CHUNK_FAILED = 3,
};

/* The part of the syscall's bytes one buffer holds: [start, start + length) at `base`. */
struct chunk_segment {
    __u64 base;
    __u64 start;
    __u64 length;
    __u64 next; /* the iovec entry after it */
};

struct chunk_walker {
    __u64 iov;       /* the iovec array; 0 for one buffer */
    __u64 iov_count;
    __u64 moved;
    __u64 prefix;
    __u64 at;
    __u64 value;
    __u64 data;
    __u64 anchor;       /* ~0 until found */
    __u64 header_start;
    __u64 window_start; /* bytes[] holds window_len bytes from here */
    struct chunk_segment segment;        /* the buffer holding `at` (once reached) */
    struct chunk_segment header_segment; /* the buffer where the current header started */
    __u32 window_len;
    __u32 line_bytes;
    __u32 copied;       /* CHUNK_COPY: bytes in tail[] */
    __u32 scan_length;  /* the head scan's: bytes to look at */
    __u32 scan_at;      /* the next aligned word it looks at */
    __u32 scan_found;   /* offset just past the blank line; 0 until found */
    __u64 scan_word;    /* the last word it looked at */
    __u64 scan_lf;      /* its LF bytes (chunk_bytes_equal) */
    __u8 phase;
    __u8 line_phase;
    __u8 digits;
    __u8 result;
    __u8 bytes[CHUNK_READ];
    __u8 tail[2 * PERISCOPE_TAIL_CAPTURE];
};

/* The walk's state lives in a map value, not on the stack: the verifier then checks the
 * bpf_loop callback once instead of once per distinct value of its fields. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct chunk_walker);
} chunk_walker_space SEC(".maps");

static __always_inline int chunk_hex_value(__u8 c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static __always_inline void chunk_begin_header(struct chunk_walker *w)
{
    w->phase = CHUNK_HEADER;
    w->header_start = w->at;
    w->header_segment = w->segment;
    w->value = 0;
    w->digits = 0;
    w->line_phase = 0;
    w->line_bytes = 0;
}

/* A header line ended just before `end`: the chunk's data follows, or the walk stops at the
 * last chunk. */
static __always_inline void chunk_line_done(struct chunk_walker *w, __u64 end)
{
    if (w->anchor == ~0ULL && end > w->prefix)
        w->anchor = w->header_start;
    if (w->value == 0) {
        w->result = CHUNK_LAST;
        return;
    }
    __u64 data_end = end + w->value;
    if (w->anchor != ~0ULL)
        w->data += (data_end < w->moved ? data_end : w->moved) - end;
    w->at = data_end;
    w->phase = CHUNK_DATA_END;
}

static __always_inline long chunk_fail(struct chunk_walker *w)
{
    w->result = CHUNK_FAILED;
    return 1;
}

/* One step of the walk: the next iovec entry when `at` is past the buffer in hand, a
 * chunk's closing CRLF, one byte of a header line (read CHUNK_READ bytes at a time) or a
 * piece of the bytes after the last chunk's header. One of these per step keeps the
 * verifier's work flat. */
static long chunk_step(__u64 index, void *ctx)
{
    __u32 zero = 0;
    struct chunk_walker *w = bpf_map_lookup_elem(&chunk_walker_space, &zero);
    if (!w)
        return 1;
    if (w->at >= w->moved) {
        if (w->phase != CHUNK_COPY)
            w->result = CHUNK_REACHED_END;
        return 1;
    }
    if (w->at >= w->segment.start + w->segment.length) {
        if (!w->iov || w->segment.next >= w->iov_count || w->segment.next >= CHUNK_MAX_IOV)
            return chunk_fail(w);
        struct periscope_iovec entry;
        if (bpf_probe_read_user(&entry, sizeof(entry), (const void *)(w->iov + w->segment.next * sizeof(entry))))
            return chunk_fail(w);
        w->segment.start += w->segment.length;
        w->segment.base = entry.iov_base;
        w->segment.length = entry.iov_len;
        w->segment.next += 1;
        return 0;
    }
    __u64 segment_end = w->segment.start + w->segment.length;
    __u64 left = (segment_end < w->moved ? segment_end : w->moved) - w->at;
    __u64 address = w->segment.base + (w->at - w->segment.start);
    if (w->phase == CHUNK_COPY) {
        __u32 room = PERISCOPE_TAIL_CAPTURE - w->copied;
        __u32 size = left < room ? (__u32)left : room;
        __u32 offset = w->copied & (PERISCOPE_TAIL_CAPTURE - 1);
        if (size == 0 || size > PERISCOPE_TAIL_CAPTURE || bpf_probe_read_user(&w->tail[offset], size, (const void *)address))
            return chunk_fail(w);
        w->copied += size;
        w->at += size;
        return 0;
    }
    if (w->phase == CHUNK_DATA_END || w->phase == CHUNK_LF) {
        __u8 pair[2] = {};
        /* A CR and LF in two buffers are read one at a time. */
        __u32 size = w->phase == CHUNK_LF || left < 2 ? 1 : 2;
        if (bpf_probe_read_user(pair, size, (const void *)address))
            return chunk_fail(w);
        if (w->phase == CHUNK_LF) {
            if (pair[0] != '\n')
                return chunk_fail(w);
            w->at += 1;
        } else {
            if (pair[0] != '\r')
                return chunk_fail(w);
            if (size == 1) { /* the LF comes in the next buffer or syscall */
                w->at += 1;
                w->phase = CHUNK_LF;
                return 0;
            }
            if (pair[1] != '\n')
                return chunk_fail(w);
            w->at += 2;
        }
        chunk_begin_header(w);
        return 0;
    }
    if (w->at < w->window_start || w->at >= w->window_start + w->window_len) {
        __u32 size = left < CHUNK_READ ? (__u32)left : CHUNK_READ;
        if (size == 0 || size > CHUNK_READ || bpf_probe_read_user(w->bytes, size, (const void *)address))
            return chunk_fail(w);
        w->window_start = w->at;
        w->window_len = size;
    }
    __u8 c = w->bytes[(w->at - w->window_start) & (CHUNK_READ - 1)];
    w->at += 1;
    if (++w->line_bytes > CHUNK_MAX_LINE)
        return chunk_fail(w);
    if (c == '\n' && w->digits) {
        chunk_line_done(w, w->at);
        return w->result ? 1 : 0;
    }
    if (w->line_phase == 2)
        return chunk_fail(w);
    if (c == '\r' && w->digits) {
        w->line_phase = 2;
        return 0;
    }
    if (w->line_phase == 0) {
        int v = chunk_hex_value(c);
        if (v >= 0 && w->digits < 15) {
            w->value = (w->value << 4) | (__u64)v;
            w->digits++;
            return 0;
        }
        if (w->digits && (c == ';' || c == ' ' || c == '\t')) {
            w->line_phase = 1;
            return 0;
        }
        return chunk_fail(w);
    }
    if (c < 0x20 && c != '\t') /* extensions: printable bytes only */
        return chunk_fail(w);
    return 0;
}

#define CHUNK_BYTES_7F 0x7f7f7f7f7f7f7f7fULL
#define CHUNK_BYTES_CR 0x0d0d0d0d0d0d0d0dULL
#define CHUNK_BYTES_LF 0x0a0a0a0a0a0a0a0aULL
/* Aligned words of the prefix the head scan looks at per step. */
#define CHUNK_SCAN_WORDS 32

/* 0x80 in each byte of `word` that equals the byte repeated in `pattern`, exactly (no carry
 * crosses a byte). */
static __always_inline __u64 chunk_bytes_equal(__u64 word, __u64 pattern)
{
    __u64 x = word ^ pattern;
    return ~(((x & CHUNK_BYTES_7F) + CHUNK_BYTES_7F) | x | CHUNK_BYTES_7F);
}

/* Finds the end of an HTTP head ("\r\n\r\n") in the captured prefix of the event being built
 * (scratch_space): a step looks at CHUNK_SCAN_WORDS aligned words (the payload starts eight-byte
 * aligned); a word holding a LF two bytes after another LF (their flags carried from word to
 * word) is checked for the CRs of a blank line ending there, the bytes before each taken from
 * it and the word before. The eight bytes past the prefix are zero
 * (chunk_head_end), so that no match reaches beyond it. Its state is in the walker's map value,
 * for the verifier's sake as the walk's. */
static long chunk_head_scan_step(__u64 index, void *ctx)
{
    __u32 zero = 0;
    struct chunk_walker *w = bpf_map_lookup_elem(&chunk_walker_space, &zero);
    struct scratch *scratch = bpf_map_lookup_elem(&scratch_space, &zero);
    if (!w || !scratch)
        return 1;
    /* scan_at: the next word's offset; scan_length: the prefix's length; scan_word: the word
     * before, scan_lf its LF bytes. */
    __u32 at = w->scan_at, length = w->scan_length;
    __u64 before = w->scan_word, before_lf = w->scan_lf;
    const __u64 *words = __builtin_assume_aligned(scratch->event.payload, 8);
#pragma clang loop unroll(disable)
    for (int k = 0; k < CHUNK_SCAN_WORDS; k++) {
        if (at >= length || at >= PERISCOPE_MAX_CAPTURE)
            return 1;
        __u32 index = at >> 3;
        barrier_var(index); /* masked here, where it indexes: the verifier sees the bound */
        index &= PERISCOPE_MAX_CAPTURE / 8 - 1;
        __u64 word = words[index];
        __u64 lf = chunk_bytes_equal(word, CHUNK_BYTES_LF);
        /* A LF two bytes after a LF (their flags, the word before's shifted in): only where a
         * blank line may end, whose CRs are then checked. */
        __u64 found = lf & ((lf << 16) | (before_lf >> 48));
        if (found) {
            found &= chunk_bytes_equal((word << 8) | (before >> 56), CHUNK_BYTES_CR)
                & chunk_bytes_equal((word << 24) | (before >> 40), CHUNK_BYTES_CR);
            if (found) {
                /* The first one's byte index: its bit, (1 << 8k) times bytes 00 01 .. 07, top byte. */
                w->scan_found = at + (__u32)((((found & -found) >> 7) * 0x0001020304050607ULL) >> 56) + 1;
                return 1;
            }
        }
        before = word;
        before_lf = lf;
        at += 8;
    }
    w->scan_at = at;
    w->scan_word = before;
    w->scan_lf = before_lf;
    return 0;
}

/* Where the HTTP head that starts the captured prefix of `event` (the one being built in
 * scratch_space) ends: the offset just past its blank line, 0 when the prefix holds none. A
 * global function: the verifier checks its scan once, not on every path of the walk. */
__noinline int chunk_head_end(struct periscope_event *event, __u32 prefix)
{
    __u32 zero = 0;
    struct chunk_walker *w = bpf_map_lookup_elem(&chunk_walker_space, &zero);
    if (!event || !w || prefix > PERISCOPE_MAX_CAPTURE)
        return 0;
    /* The bytes past the prefix are the tail's and the frame walk's, written later. */
    __builtin_memset(&event->payload[prefix], 0, 8);
    w->scan_length = prefix;
    w->scan_at = 0;
    w->scan_word = 0;
    w->scan_lf = 0;
    w->scan_found = 0;
    bpf_loop(PERISCOPE_MAX_CAPTURE / (8 * CHUNK_SCAN_WORDS), chunk_head_scan_step, NULL, 0);
    return (int)w->scan_found;
}

/* Whether the captured prefix starts with a chunk-size line: hex digits, then CR or ';'. */
static __always_inline bool starts_with_chunk_header(const struct periscope_event *event, __u32 prefix)
{
    for (int i = 0; i < 17; i++) {
        if (i >= prefix)
            return false;
        __u8 c = event->payload[i];
        if (chunk_hex_value(c) >= 0)
            continue;
        return i > 0 && (c == '\r' || c == ';');
    }
    return false;
}

/* Whether the captured prefix ends with a blank line: a syscall captured whole that ends
 * there leaves nothing for the next to continue (a head alone, a whole chunked message). */
static __always_inline bool ends_with_blank_line(const struct periscope_event *event, __u32 prefix)
{
    if (prefix < 4 || prefix > PERISCOPE_MAX_CAPTURE)
        return false;
    __u32 last = prefix - 4;
    return event->payload[last & (PERISCOPE_MAX_CAPTURE - 1)] == '\r'
        && event->payload[(last + 1) & (PERISCOPE_MAX_CAPTURE - 1)] == '\n'
        && event->payload[(last + 2) & (PERISCOPE_MAX_CAPTURE - 1)] == '\r'
        && event->payload[(last + 3) & (PERISCOPE_MAX_CAPTURE - 1)] == '\n';
}

/* Walks the chunk headers of what `source` moved, of which the first source->prefix bytes
 * were captured into `event` (the one being built in scratch_space), and reports them in the event when they go past the prefix.
 * Returns how many bytes it appended to the payload after the prefix (source->tail_wanted).
 * A global function: the verifier checks it once, not at every call site. */
__noinline int chunk_walk_source(struct periscope_event *event, struct chunk_source *source)
{
    if (!event || !source)
        return 0;
    __u64 moved = source->moved;
    __u32 prefix = source->prefix;
    __u8 walks = source->walks;
    if (!source->address || moved == 0 || prefix > PERISCOPE_MAX_CAPTURE)
        return 0;
    /* A TLS connection's plaintext (bpf/tls.bpf.c) walks apart from its records. */
    __u8 lane = (event->direction & 3) + ((event->flags & PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT) ? 4 : 0);
    __u8 bit = 1 << lane;
    struct chunk_walk_key key = { .socket = event->socket_id, .direction = lane };
    __u32 zero = 0;
    struct chunk_walker *walker = bpf_map_lookup_elem(&chunk_walker_space, &zero);
    if (!walker)
        return 0;
#define w (*walker)
    struct chunk_walk_state *carried = (walks & bit) ? bpf_map_lookup_elem(&chunk_walks, &key) : NULL;
    if ((walks & bit) && !carried) {
        /* Its state is gone (least recently used): no walk goes on in the lane. */
        __u64 socket = event->socket_id;
        struct periscope_socket_state *state = socket_state(socket);
        if (state)
            state->chunk_walks &= ~bit;
    }
    /* Where a walk not carried over starts, decided before the walker is set up: most
     * syscalls have none. */
    __u32 head_end = 0;
    if (!carried) {
        if (prefix == 0)
            return 0;
        __u8 first = event->payload[0];
        if (starts_with_chunk_header(event, prefix)) {
            head_end = 0;
        } else if (first >= 'A' && first <= 'Z') {
            if (moved <= prefix && ends_with_blank_line(event, prefix))
                return 0;
            head_end = chunk_head_end(event, prefix);
            if (!head_end || head_end >= moved)
                return 0;
            /* A body captured from its first byte that does not start with a chunk size. */
            if (head_end < prefix && chunk_hex_value(event->payload[head_end & (PERISCOPE_MAX_CAPTURE - 1)]) < 0)
                return 0;
        } else {
            return 0;
        }
    }
    __builtin_memset(walker, 0, sizeof(*walker));
    w.moved = moved;
    w.prefix = prefix;
    w.anchor = ~0ULL;
    if (source->iov_count) {
        w.iov = source->address;
        w.iov_count = source->iov_count;
        w.segment = (struct chunk_segment){};
    } else {
        w.iov = 0;
        w.iov_count = 0;
        w.segment = (struct chunk_segment){ .base = source->address, .length = moved };
    }
    w.header_segment = w.segment;
    if (carried) {
        w.phase = carried->phase;
        w.at = carried->phase == CHUNK_DATA_END ? carried->at : 0;
        w.value = carried->value;
        w.digits = carried->digits;
        w.line_phase = carried->line_phase;
        w.line_bytes = carried->line_bytes;
        w.header_start = 0;
    } else {
        w.at = head_end;
        chunk_begin_header(&w);
    }
    w.result = CHUNK_RUNNING;
    bpf_loop(PERISCOPE_MAX_CHUNK_STEPS, chunk_step, NULL, 0);
    if (w.result == CHUNK_REACHED_END) {
        struct chunk_walk_state next = {};
        next.phase = w.phase;
        next.at = w.phase == CHUNK_DATA_END ? (__u32)(w.at - moved) : 0;
        if (w.phase == CHUNK_DATA_END && w.at - moved > 0xffffffffULL)
            w.result = CHUNK_FAILED;
        next.value = w.value;
        next.digits = w.digits;
        next.line_phase = w.line_phase;
        next.line_bytes = w.phase == CHUNK_HEADER ? (__u32)(moved - w.header_start) : 0;
        if (w.result == CHUNK_REACHED_END)
            bpf_map_update_elem(&chunk_walks, &key, &next, BPF_ANY);
    }
    if (w.result != CHUNK_REACHED_END && carried)
        bpf_map_delete_elem(&chunk_walks, &key);
    bool walking = w.result == CHUNK_REACHED_END;
    if (walking != (carried != NULL)) { /* the lane's bit is set when a state was carried */
        __u64 socket = event->socket_id;
        struct periscope_socket_state *state = socket_state(socket);
        if (state)
            state->chunk_walks = walking ? (state->chunk_walks | bit) : (state->chunk_walks & ~bit);
    }
    if ((w.result != CHUNK_REACHED_END && w.result != CHUNK_LAST) || w.anchor == ~0ULL || moved <= prefix)
        return 0;
    __u64 end;
    if (w.result == CHUNK_LAST)
        end = w.header_start;
    else if (w.phase == CHUNK_DATA_END)
        end = w.at;
    else if (w.phase == CHUNK_LF)
        end = w.at - 1;
    else
        end = w.header_start;
    if (w.anchor > 0xffffffffULL || end > 0xffffffffULL || w.data > 0xffffffffULL)
        return 0;
    event->chunk_anchor = (__u32)w.anchor;
    event->chunk_data = (__u32)w.data;
    event->chunk_end = (__u32)end;
    event->chunk_flags = PERISCOPE_CHUNK_WALKED;
    if (w.result == CHUNK_LAST || w.phase == CHUNK_HEADER)
        event->chunk_flags |= PERISCOPE_CHUNK_AT_HEADER;
    /* The last chunk's header and the trailers after it, when the caller could not copy
     * the syscall's last bytes and they are few: the decoder reads them as a tail. */
    if (w.result != CHUNK_LAST || !source->tail_wanted)
        return 0;
    __u64 from = end > prefix ? end : prefix;
    if (moved - from > PERISCOPE_TAIL_CAPTURE || moved <= from)
        return 0;
    w.segment = w.header_segment;
    w.at = from;
    w.phase = CHUNK_COPY;
    w.copied = 0;
    bpf_loop(2 * CHUNK_MAX_IOV, chunk_step, NULL, 0);
    __u32 size = w.copied;
    if (w.result != CHUNK_LAST || w.at != moved || size != moved - from || size == 0 || size > PERISCOPE_TAIL_CAPTURE)
        return 0;
    if (bpf_probe_read_kernel(&event->payload[prefix & (PERISCOPE_MAX_CAPTURE - 1)], size, w.tail))
        return 0;
    if (from > prefix)
        event->tail_len = size;
    return (int)size;
#undef w
}

/* Walks one user buffer; see chunk_walk_source. */
static __always_inline int chunk_walk(struct periscope_event *event, __u64 buffer, __u64 moved, __u32 prefix, __u8 walks)
{
    struct chunk_source source = { .address = buffer, .moved = moved, .prefix = prefix, .walks = walks };
    return chunk_walk_source(event, &source);
}
#else
static __always_inline int chunk_walk_source(struct periscope_event *event, struct chunk_source *source)
{
    return 0; /* bpf_loop and typed global functions are newer than the kernels this variant is for */
}

static __always_inline int chunk_walk(struct periscope_event *event, __u64 buffer, __u64 moved, __u32 prefix, __u8 walks)
{
    return 0;
}
#endif

#endif
