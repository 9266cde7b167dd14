/* HTTP/2 frames past the capture, included by tracer.bpf.c before its transfers.
 *
 * A read or write of several frames longer than the capture (a server answering ten streams
 * at once, DATA of one stream then the HEADERS of the next) would hide from user space every
 * frame header past the captured prefix: the decoder loses its place, the streams behind it
 * and its HPACK table. The kernel walks the 9-byte frame headers of every read and write of
 * a socket known to carry HTTP/2 instead (a bpf_loop, one header or one copy per step) and
 * appends to the event, after its prefix and tail, what the decoder needs of the bytes it
 * did not capture: each frame header, the whole payload of HEADERS, CONTINUATION,
 * PUSH_PROMISE and the control frames, and the first bytes of DATA (its pad length and a
 * gRPC message prefix), within PERISCOPE_FRAME_WALK_BYTES. They go as records of
 * `struct periscope_frame_record` followed by the bytes copied from that offset of the
 * syscall (periscope_events.h): the bytes are the syscall's own, so a walk that started in
 * the wrong place costs at worst what the decoder would have lost anyway.
 *
 * Where a walk starts: at the end of a connection preface a read or write starts with, or
 * at a read or write that starts with a SETTINGS frame (what a server sends first). It goes
 * on per socket and direction (`frame_walks`), with the rest of the current frame or the
 * bytes of a frame header cut by the end of a syscall, and ends where a header cannot be
 * one or the walk runs out of steps.
 *
 * Under overload the walk goes on through the reads and writes that are shed (nothing is
 * copied), so that it knows where frames are when capture resumes: a socket being walked
 * resumes only at a read or write that starts on a frame boundary, and a captured read or
 * write that starts inside a frame says where its first frame header is (a record of no
 * bytes), for a decoder that lost its place. */
#ifndef PERISCOPE_FRAME_WALK_H
#define PERISCOPE_FRAME_WALK_H

#ifndef PERISCOPE_PROBE_READS

#define FRAME_HEADER_SIZE 9
/* Frames one walk passes at most (a step per header, per copied piece). */
#define FRAME_WALK_STEPS 4096
/* iovec entries one step may pass over to find the one holding its offset. */
#define FRAME_WALK_IOV_SCAN 32
/* frame_walk's `captured` for a transfer that is shed: nothing is copied. */
#define FRAME_WALK_SHED (~0ULL)

struct frame_walk_key {
    __u64 socket;
    __u32 lane; /* direction, + 4 for TLS plaintext */
    __u32 _pad;
};

enum frame_phase {
    FRAME_PHASE_HEADER = 0,  /* reading a frame header: `have` of its bytes read */
    FRAME_PHASE_PAYLOAD = 1, /* inside a frame: `frame_left` payload bytes to go */
};

/* Where a walk left off at the end of a syscall: the next one's first byte continues it. */
struct frame_walk_state {
    __u32 frame_left;
    __u32 copy_left;
    __u8 phase;
    __u8 have;
    __u8 header[FRAME_HEADER_SIZE];
    __u8 _pad[5];
};
_Static_assert(sizeof(struct frame_walk_state) == 24, "frame_walk_state layout");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, struct frame_walk_key);
    __type(value, struct frame_walk_state);
} frame_walks SEC(".maps");

enum frame_result {
    FRAME_RUNNING = 0,
    FRAME_DONE = 1,   /* the walk reached the end of the syscall */
    FRAME_FAILED = 2, /* a header that cannot be one, or bytes that could not be read */
};

struct frame_walker {
    __u64 buffer;    /* the user buffer, or the iovec array when iov_count */
    __u64 iov_count;
    __u64 moved;
    __u64 prefix;    /* bytes captured from the start: not copied again */
    __u64 at;        /* the walk's offset in the syscall's bytes */
    /* The iovec entry holding `at` (the buffer itself when there is no iovec array). */
    __u64 entry_base;
    __u64 entry_start;
    __u64 entry_len;
    __u64 entry_index;
    __u64 record_end;  /* offset in the syscall where the open record's bytes end; ~0: none */
    __u32 area;        /* payload index where the records start */
    __u32 used;        /* record bytes written */
    __u32 record;      /* used-relative index of the open record's header */
    __u32 frame_left;
    __u32 copy_left;
    __u8 phase;
    __u8 have;
    __u8 result;
    __u8 mark; /* the syscall started inside a frame: its first header's offset is to be recorded */
    __u8 noted; /* enum frame_noted: the lane's bit in the socket's frame_walks */
    __u8 header[32];
};

enum frame_noted {
    FRAME_NOTED_NOT = 0,
    FRAME_NOTED_WALKING = 1,
    FRAME_NOTED_UNKNOWN = 2,
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct frame_walker);
} frame_walker_space SEC(".maps");

/* Payload indexes are masked with this: with the scratch slack behind the event, a copy of
 * at most PERISCOPE_FRAME_WALK_BYTES at any masked index stays in the map value. */
#define FRAME_PAYLOAD_MASK 16383
_Static_assert(FRAME_PAYLOAD_MASK + PERISCOPE_FRAME_WALK_BYTES
                   <= sizeof(((struct scratch *)0)->slack) + sizeof(((struct periscope_event *)0)->payload),
               "frame walk copies stay inside the scratch space");

/* Moves the walker's iovec entry to the one holding `at`; false when it cannot. */
static __always_inline bool frame_locate(struct frame_walker *w)
{
    if (!w->iov_count)
        return true;
    for (int i = 0; i < FRAME_WALK_IOV_SCAN; i++) {
        if (w->at < w->entry_start + w->entry_len)
            return true;
        __u64 next = w->entry_index + 1;
        if (next >= w->iov_count || next >= PERISCOPE_MAX_IOV)
            return false;
        struct periscope_iovec entry;
        if (bpf_probe_read_user(&entry, sizeof(entry), (const void *)(w->buffer + next * sizeof(entry))))
            return false;
        w->entry_start += w->entry_len;
        w->entry_index = next;
        w->entry_base = entry.iov_base;
        w->entry_len = entry.iov_len;
    }
    return w->at < w->entry_start + w->entry_len;
}

/* Copies `size` bytes at user address `source`, offset `at` of the syscall, into the
 * records (the part before the captured prefix's end is skipped); `starts_frame` when a
 * frame header begins at `at`. False when the budget is used up. */
static __always_inline bool frame_emit(struct frame_walker *w, struct periscope_event *event, __u64 at, __u64 source,
                                       __u64 size, bool starts_frame)
{
    if (at + size <= w->prefix)
        return true;
    if (at < w->prefix) {
        __u64 skip = w->prefix - at;
        at += skip;
        source += skip;
        size -= skip;
        starts_frame = false;
    }
    if (size == 0 || size > PERISCOPE_FRAME_WALK_BYTES)
        return false;
    if (w->record_end != at) {
        if (w->used + sizeof(struct periscope_frame_record) + size > PERISCOPE_FRAME_WALK_BYTES || at > 0xffffffffULL)
            return false;
        __u32 index = (w->area + w->used) & FRAME_PAYLOAD_MASK;
        struct periscope_frame_record record = {
            .offset = (__u32)at,
            .size = 0,
            .flags = starts_frame ? PERISCOPE_FRAME_RECORD_STARTS_FRAME : 0,
        };
        __builtin_memcpy(&event->payload[index], &record, sizeof(record));
        w->record = w->used;
        w->used += sizeof(record);
        w->record_end = at;
    } else if (w->used + size > PERISCOPE_FRAME_WALK_BYTES) {
        return false;
    }
    __u32 index = (w->area + w->used) & FRAME_PAYLOAD_MASK;
    if (bpf_probe_read_user(&event->payload[index], size, (const void *)source))
        return false;
    w->used += size;
    w->record_end += size;
    __u32 header = (w->area + w->record) & FRAME_PAYLOAD_MASK;
    struct periscope_frame_record *open = (struct periscope_frame_record *)&event->payload[header];
    open->size += (__u16)size;
    return true;
}

/* Records that a frame header begins at `at`, inside the captured prefix (a record of no bytes). */
static __always_inline void frame_mark(struct frame_walker *w, struct periscope_event *event, __u64 at)
{
    if (w->used + sizeof(struct periscope_frame_record) > PERISCOPE_FRAME_WALK_BYTES || at > 0xffffffffULL)
        return;
    __u32 index = (w->area + w->used) & FRAME_PAYLOAD_MASK;
    struct periscope_frame_record record = {
        .offset = (__u32)at,
        .size = 0,
        .flags = PERISCOPE_FRAME_RECORD_STARTS_FRAME,
    };
    __builtin_memcpy(&event->payload[index], &record, sizeof(record));
    w->used += sizeof(record);
    w->record_end = ~0ULL;
}

/* One step: a frame header's bytes (all, or those before the iovec entry or syscall
 * ends), a piece of payload to copy, or the rest of a payload to skip. */
static long frame_step(__u64 index, void *ctx)
{
    __u32 zero = 0;
    struct frame_walker *w = bpf_map_lookup_elem(&frame_walker_space, &zero);
    struct scratch *scratch = bpf_map_lookup_elem(&scratch_space, &zero);
    if (!w || !scratch)
        return 1;
    struct periscope_event *event = &scratch->event;
    if (w->at >= w->moved) {
        w->result = FRAME_DONE;
        return 1;
    }
    if (w->phase == FRAME_PHASE_PAYLOAD && w->copy_left == 0) {
        __u64 step = w->moved - w->at;
        if (step > w->frame_left)
            step = w->frame_left;
        w->at += step;
        w->frame_left -= (__u32)step;
        if (w->frame_left == 0)
            w->phase = FRAME_PHASE_HEADER;
        return 0;
    }
    if (!frame_locate(w)) {
        w->result = FRAME_FAILED;
        return 1;
    }
    __u64 available = w->entry_start + w->entry_len - w->at;
    if (available > w->moved - w->at)
        available = w->moved - w->at;
    __u64 source = w->entry_base + (w->at - w->entry_start);
    if (w->phase == FRAME_PHASE_PAYLOAD) {
        __u64 step = w->copy_left < available ? w->copy_left : available;
        if (w->at < w->prefix && step > w->prefix - w->at)
            step = w->prefix - w->at; /* captured: passed over */
        else if (!frame_emit(w, event, w->at, source, step, false))
            w->copy_left = (__u32)step; /* out of room: the rest of it is skipped */
        w->at += step;
        w->frame_left -= (__u32)step;
        w->copy_left -= (__u32)step;
        if (w->frame_left == 0)
            w->phase = FRAME_PHASE_HEADER;
        return 0;
    }
    __u32 have = w->have;
    if (have >= FRAME_HEADER_SIZE) {
        w->result = FRAME_FAILED;
        return 1;
    }
    __u64 size = FRAME_HEADER_SIZE - have;
    if (size > available)
        size = available;
    if (size == 0 || size > FRAME_HEADER_SIZE
        || bpf_probe_read_user(&w->header[have & 15], size, (const void *)source)) {
        w->result = FRAME_FAILED;
        return 1;
    }
    if (have == 0 && w->mark) {
        w->mark = 0;
        if (w->at < w->prefix)
            frame_mark(w, event, w->at);
    }
    frame_emit(w, event, w->at, source, size, have == 0);
    w->at += size;
    w->have = (__u8)(have + size);
    if (w->have < FRAME_HEADER_SIZE)
        return 0;
    __u32 length = (__u32)w->header[0] << 16 | (__u32)w->header[1] << 8 | w->header[2];
    __u8 type = w->header[3], flags = w->header[4];
    /* The reserved bit is sent as 0; types past PRIORITY_UPDATE are not met in practice. */
    if ((w->header[5] & 0x80) || type > 0x10) {
        w->result = FRAME_FAILED;
        return 1;
    }
    __u32 copy = 0;
    switch (type) {
    case 0x0: /* DATA: its pad length and the first content bytes (a gRPC message prefix) */
        copy = (flags & 0x8) ? 6 : 5;
        break;
    case 0x1: case 0x3: case 0x4: case 0x5: case 0x7: case 0x9:
        copy = length; /* HEADERS, RST_STREAM, SETTINGS, PUSH_PROMISE, GOAWAY, CONTINUATION */
        break;
    }
    w->have = 0;
    w->frame_left = length;
    w->copy_left = copy < length ? copy : length;
    w->phase = length ? FRAME_PHASE_PAYLOAD : FRAME_PHASE_HEADER;
    return 0;
}

static __always_inline __u32 frame_walk_lane(const struct periscope_event *event)
{
    return (event->direction & 3) + ((event->flags & PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT) ? 4 : 0);
}

/* Whether the read or write of `event` starts on a frame boundary of its socket's walk, or
 * the socket is not walked (`walking`: its frame_walks bits): where capture may resume after
 * shedding. */
static __always_inline bool frame_walk_at_boundary(const struct periscope_event *event, __u8 walking)
{
    __u32 lane = frame_walk_lane(event);
    if (!(walking & (1 << lane)))
        return true;
    struct frame_walk_key key = { .socket = event->socket_id, .lane = lane };
    struct frame_walk_state *state = bpf_map_lookup_elem(&frame_walks, &key);
    return !state || (state->phase == FRAME_PHASE_HEADER && state->have == 0);
}

/* Sets or clears `lane`'s bit of the socket's frame_walks (periscope_socket_state), and of
 * the copy admission left in the scratch space. */
static __always_inline void frame_walk_note(__u64 socket, __u32 lane, bool walking)
{
    __u8 bit = 1 << lane;
    struct periscope_socket_state *state = socket_state(socket);
    if (state)
        state->frame_walks = walking ? (state->frame_walks | bit) : (state->frame_walks & ~bit);
    __u32 zero = 0;
    struct scratch *scratch = bpf_map_lookup_elem(&scratch_space, &zero);
    if (scratch && scratch->walk_socket == socket)
        scratch->frame_walks = walking ? (scratch->frame_walks | bit) : (scratch->frame_walks & ~bit);
}

/* Whether the captured prefix starts with a connection preface (returns its length) or a
 * SETTINGS frame that is not an ACK (returns 0); -1 otherwise. */
static __always_inline int frame_walk_start(const struct periscope_event *event, __u32 prefix)
{
    if (prefix < FRAME_HEADER_SIZE)
        return -1;
    const __u8 *p = event->payload;
    if (prefix >= 24 && p[0] == 'P' && p[1] == 'R' && p[2] == 'I' && p[3] == ' ' && p[4] == '*' && p[5] == ' '
        && p[6] == 'H' && p[7] == 'T' && p[8] == 'T' && p[9] == 'P' && p[10] == '/' && p[11] == '2' && p[12] == '.'
        && p[13] == '0' && p[14] == '\r' && p[15] == '\n' && p[16] == '\r' && p[17] == '\n' && p[18] == 'S'
        && p[19] == 'M' && p[20] == '\r' && p[21] == '\n' && p[22] == '\r' && p[23] == '\n')
        return 24;
    __u32 length = (__u32)p[0] << 16 | (__u32)p[1] << 8 | p[2];
    if (p[3] == 0x4 && p[4] == 0 && !p[5] && !p[6] && !p[7] && !p[8] && length % 6 == 0 && length <= 6 * 16)
        return 0;
    return -1;
}

/* Walks the frame headers of the `moved` bytes of a read or write (at `buffer`, or in the
 * `iov_count` entries of the iovec array at `buffer`) on the socket of `event`, whose first
 * `prefix` bytes were captured, and appends the records at payload[area] (`captured`: area
 * << 32 | prefix); returns their size, also set in event->frames_len. A global function:
 * the verifier checks it once. */
__noinline int frame_walk(struct periscope_event *event, __u64 buffer, __u64 iov_count, __u64 moved, __u64 captured)
{
    bool shed = captured == FRAME_WALK_SHED;
    __u32 prefix = shed ? 0 : (__u32)captured, area = shed ? 0 : (__u32)(captured >> 32);
    if (!event || !buffer || moved == 0 || prefix > PERISCOPE_MAX_CAPTURE || area > PERISCOPE_MAX_CAPTURE + PERISCOPE_TAIL_CAPTURE)
        return 0;
    struct frame_walk_key key = { .socket = event->socket_id, .lane = frame_walk_lane(event) };
    /* Whether a walk goes on in the lane, as the socket's frame_walks bits say: no look-up
     * for the lanes of sockets not walked (a socket admission did not name is looked up). */
    __u32 zero = 0;
    struct scratch *scratch = bpf_map_lookup_elem(&scratch_space, &zero);
    __u8 noted = FRAME_NOTED_UNKNOWN;
    if (scratch && scratch->walk_socket == event->socket_id)
        noted = (scratch->frame_walks >> key.lane) & 1;
    struct frame_walk_state *carried = noted ? bpf_map_lookup_elem(&frame_walks, &key) : NULL;
    int start = shed ? -1 : frame_walk_start(event, prefix);
    if (start < 0 && !carried) {
        if (noted == FRAME_NOTED_WALKING)
            frame_walk_note(event->socket_id, key.lane, false);
        return 0;
    }
    struct frame_walker *w = bpf_map_lookup_elem(&frame_walker_space, &zero);
    if (!w)
        return 0;
    __builtin_memset(w, 0, sizeof(*w));
    w->noted = noted;
    w->buffer = buffer;
    w->iov_count = iov_count;
    w->moved = moved;
    w->prefix = shed ? moved : prefix; /* shed: nothing past it to copy */
    w->area = area;
    w->record_end = ~0ULL;
    if (iov_count) {
        struct periscope_iovec entry;
        if (bpf_probe_read_user(&entry, sizeof(entry), (const void *)buffer))
            return 0;
        w->entry_base = entry.iov_base;
        w->entry_len = entry.iov_len;
    } else {
        w->entry_base = buffer;
        w->entry_len = moved;
    }
    /* A preface always starts afresh (a socket reused by a new connection); a SETTINGS
     * frame only where no walk goes on (it could be a DATA frame's bytes). */
    if (start > 0 || !carried) {
        w->at = (__u64)start;
    } else {
        w->phase = carried->phase;
        w->have = carried->have < FRAME_HEADER_SIZE ? carried->have : 0;
        __builtin_memcpy(w->header, carried->header, FRAME_HEADER_SIZE);
        w->frame_left = carried->frame_left;
        w->copy_left = carried->copy_left;
        w->mark = !shed && (w->phase != FRAME_PHASE_HEADER || w->have != 0);
    }
    bpf_loop(FRAME_WALK_STEPS, frame_step, NULL, 0);
    if (w->result == FRAME_DONE) {
        struct frame_walk_state next = {
            .frame_left = w->frame_left,
            .copy_left = w->copy_left,
            .phase = w->phase,
            .have = w->have,
        };
        __builtin_memcpy(next.header, w->header, FRAME_HEADER_SIZE);
        bpf_map_update_elem(&frame_walks, &key, &next, BPF_ANY);
        if (w->noted != FRAME_NOTED_WALKING)
            frame_walk_note(key.socket, key.lane, true);
    } else {
        if (carried)
            bpf_map_delete_elem(&frame_walks, &key);
        if (w->noted)
            frame_walk_note(key.socket, key.lane, false);
    }
    __u32 used = w->used;
    if (used > PERISCOPE_FRAME_WALK_BYTES || shed)
        used = 0;
    event->frames_len = (__u16)used;
    return (int)used;
}

/* Whether frame_walk has anything to do for a captured read or write whose first `prefix`
 * bytes are in `event`: a walk goes on in its lane (or admission did not say), or the prefix
 * may start one (what frame_walk_start accepts begins with 'P' or has the SETTINGS type).
 * Asked inline before the call: nearly every read and write is not HTTP/2. */
static __always_inline bool frame_walk_wanted(const struct periscope_event *event, __u32 prefix)
{
    const struct scratch *scratch = (const struct scratch *)event;
    if (scratch->walk_socket != event->socket_id || ((scratch->frame_walks >> frame_walk_lane(event)) & 1))
        return true;
    return prefix >= FRAME_HEADER_SIZE && (event->payload[0] == 'P' || event->payload[3] == 0x4);
}

/* A connection on the socket starts (accept, connect): no walk of an earlier one goes on. */
static __always_inline void frame_walk_forget(__u64 socket)
{
    for (__u32 lane = 1; lane <= 2; lane++) {
        struct frame_walk_key key = { .socket = socket, .lane = lane };
        bpf_map_delete_elem(&frame_walks, &key);
    }
}

#else
#define FRAME_WALK_SHED (~0ULL)

static __always_inline bool frame_walk_at_boundary(const struct periscope_event *event, __u8 walking)
{
    return true;
}

static __always_inline int frame_walk(struct periscope_event *event, __u64 buffer, __u64 iov_count, __u64 moved,
                                      __u64 captured)
{
    return 0; /* bpf_loop and typed global functions are newer than the kernels this variant is for */
}

static __always_inline bool frame_walk_wanted(const struct periscope_event *event, __u32 prefix)
{
    return false;
}

static __always_inline void frame_walk_forget(__u64 socket)
{
}
#endif

#endif
