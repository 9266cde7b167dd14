/* Layouts shared by the kernel programs in bpf/ and the agent (Swift, through
 * the CPeriscopeBPF target). Plain fixed-width types, explicit padding, sizes asserted:
 * kernel and user space can never disagree about a layout. */
#ifndef PERISCOPE_EVENTS_H
#define PERISCOPE_EVENTS_H

#ifdef __bpf__
#include "periscope_vmlinux.h"
#else
#include <linux/types.h>
#endif

/* Largest payload prefix one event can carry; a power of two. */
#define PERISCOPE_MAX_CAPTURE 8192
/* Capture size used until the agent configures one. */
#define PERISCOPE_DEFAULT_CAPTURE 2048
/* Entries of the PID maps. */
#define PERISCOPE_MAX_PIDS 65536
/* Bytes of the executable path carried by an EXEC event. */
#define PERISCOPE_MAX_PATH 256
/* An EXEC event's payload (struct periscope_exec_info): the executable's path as components,
 * each at most PERISCOPE_EXEC_NAME bytes with its NUL, and at most this many of them. */
#define PERISCOPE_EXEC_COMPONENTS 16
#define PERISCOPE_EXEC_NAME 64
/* Executable names the kernel selects at exec (exec_names), and the bytes of a name it
 * compares (longer names compare by their first PERISCOPE_EXEC_NAME_KEY - 1 bytes). */
#define PERISCOPE_MAX_EXEC_NAMES 256
#define PERISCOPE_EXEC_NAME_KEY 32
/* At most this many iovec entries of readv/writev/recvmsg/sendmsg are copied. gRPC's core
 * writes HTTP/2 frames as one sendmsg of a slice per header field and frame part (14 to 27
 * entries for a unary call): fewer would drop its trailers; more outgrow the verifier's limit
 * (the probe-read variant copies 16). */
#define PERISCOPE_MAX_IOV 28
/* Last bytes of a data event's syscall captured besides its prefix, when the prefix does not
 * reach them: the framing a writer puts at the end of a write (a chunk's CRLF, the last
 * chunk) stays visible whatever the capture size. */
#define PERISCOPE_TAIL_CAPTURE 64
/* Bytes of an HTTP/2 read or write past its capture that the kernel's frame walk may add to
 * its event (bpf/include/periscope_frame_walk.h): records of struct periscope_frame_record. */
#define PERISCOPE_FRAME_WALK_BYTES 4096
/* Sockets whose capture state (shed or not) the kernel keeps; least recently used go first. */
#define PERISCOPE_MAX_SOCKETS 131072
/* Slots of the array the kernel looks a socket's state up in first (socket_slots in
 * bpf/tracer.bpf.c), by a hash of its address; a power of two. */
#define PERISCOPE_SOCKET_SLOTS 65536

enum periscope_event_kind {
    PERISCOPE_EVENT_DATA = 1,
    PERISCOPE_EVENT_OPEN = 2,
    PERISCOPE_EVENT_CLOSE = 3,
    PERISCOPE_EVENT_EXEC = 4,
    PERISCOPE_EVENT_EXIT = 5,
    /* A trace context the kernel decided (bpf/propagation.bpf.c): the payload is a
     * struct periscope_trace_context (periscope_propagation.h). */
    PERISCOPE_EVENT_TRACE_CONTEXT = 6,
    /* close_range(2): fd is the first descriptor closed, total_len the last */
    PERISCOPE_EVENT_CLOSE_RANGE = 7,
    PERISCOPE_EVENT_FORK = 8, /* pid: the new process; fd: its parent's pid */
};

enum periscope_direction {
    PERISCOPE_DIRECTION_INGRESS = 1, /* the process read */
    PERISCOPE_DIRECTION_EGRESS = 2,  /* the process wrote */
};

enum periscope_role {
    PERISCOPE_ROLE_SERVER = 1, /* accept */
    PERISCOPE_ROLE_CLIENT = 2, /* connect */
};

/* periscope_event.flags */
enum periscope_event_flag {
    /* The first event of a connection after requests on it were shed: what came before it
     * on this socket since its previous event was not captured. */
    PERISCOPE_EVENT_FLAG_RESUMED = 1 << 0,
    /* CLOSE only: other descriptors still hold the socket — inherited by a fork, passed
     * with SCM_RIGHTS, dup'ed — so the connection goes on with whoever uses it next. */
    PERISCOPE_EVENT_FLAG_STILL_OPEN = 1 << 1,
    /* DATA only: the last PERISCOPE_EVENT_CONTEXT_BYTES payload bytes (after the prefix, the
     * tail and the frame walk's records) are the struct periscope_trace_context
     * (periscope_propagation.h) the kernel decided for the request this read or write starts:
     * the context of a server request read, or the one written into an outgoing request as
     * `traceparent`. */
    PERISCOPE_EVENT_FLAG_TRACE_CONTEXT = 1 << 2,
};

/* Bytes of a trace context carried at the end of a DATA record (sizeof(struct
 * periscope_trace_context), asserted in periscope_propagation.h). */
#define PERISCOPE_EVENT_CONTEXT_BYTES 40
/* Writes whose injected context waits, keyed by thread, for the tracer's capture at the
 * write's return (a write is inside its syscall while it waits: few at once per CPU). */
#define PERISCOPE_CONTEXT_HANDOFFS 16384

/* A trace context handed from the program that decided it to the tracer's capture of the
 * same syscall, which carries it in the syscall's DATA record (PERISCOPE_EVENT_FLAG_TRACE_CONTEXT):
 * a server read's from the server-context stage (a tail call, same CPU), a write's from the
 * payload program (inside the write, same thread). */
struct periscope_context_handoff {
    __u64 pid_tgid;
    __u64 socket_id;   /* a read's socket; 0 for a write */
    __u16 local_port;  /* a write's socket's ports */
    __u16 peer_port;
    __u32 ready;       /* the server-context stage's slot holds a context for the read being captured */
    __u8 context[PERISCOPE_EVENT_CONTEXT_BYTES];
};
_Static_assert(sizeof(struct periscope_context_handoff) == 64, "periscope_context_handoff layout");

/* periscope_event.chunk_flags */
enum periscope_chunk_flag {
    PERISCOPE_CHUNK_WALKED = 1 << 0,    /* chunk_anchor, chunk_data and chunk_end are set */
    PERISCOPE_CHUNK_AT_HEADER = 1 << 1, /* chunk_end is the start of a chunk header */
};

/* One range of a syscall's bytes past the captured prefix, copied by the kernel's walk of
 * HTTP/2 frames; `size` bytes follow it. Host byte order. */
struct periscope_frame_record {
    __u32 offset; /* from the syscall's first byte */
    __u16 size;
    __u16 flags;  /* enum periscope_frame_record_flag */
};
_Static_assert(sizeof(struct periscope_frame_record) == 8, "periscope_frame_record layout");

enum periscope_frame_record_flag {
    PERISCOPE_FRAME_RECORD_STARTS_FRAME = 1 << 0, /* a frame header begins at `offset` */
};

/* Steps of a walk of chunk headers in one syscall at most (a chunk's CRLF, a byte of its
 * size line: some 7 a chunk); a body of more, smaller chunks is counted with its framing
 * past the capture. */
#define PERISCOPE_MAX_CHUNK_STEPS 8192

/* What the kernel keeps per socket, in its slot of `socket_slots` or in the `sockets` map:
 * whether it is being shed, and which way its requests go, to see where one request ends and
 * the next begins. */
struct periscope_socket_state {
    __u8 shed;
    __u8 request_direction; /* enum periscope_direction; 0 until known */
    __u8 last_direction;
    __u8 resumed;           /* the next event carries PERISCOPE_EVENT_FLAG_RESUMED */
    __u8 tls;               /* a TLS session is bound to it: what moves outside its calls is records */
    __u8 chunk_walks;       /* bit (1 << direction), (1 << (4 + direction)) for TLS plaintext:
                             * that direction is inside a chunked body */
    __u8 frame_walks;       /* the same bits: that direction's HTTP/2 frames are being walked */
    __u8 role;              /* enum periscope_role of the connect or accept that opened it; 0 when
                             * first seen mid-connection */
};
_Static_assert(sizeof(struct periscope_socket_state) == 8, "periscope_socket_state layout");

/* periscope_config.flags */
enum periscope_config_flag {
    /* Every process not excluded is selected; otherwise only those in target_pids. */
    PERISCOPE_FLAG_ALL_PIDS = 1 << 0,
    /* Only connections whose local or peer port is set in the ports bitmap. */
    PERISCOPE_FLAG_PORT_FILTER = 1 << 1,
    /* TLS library probes (bpf/tls.bpf.c) are attached: a transfer may be a TLS library's
     * records, and a thread's wait for events ends its turn around TLS calls. Without it,
     * neither the transfers of selected processes nor the waits of every process on the node
     * look up any TLS state. */
    PERISCOPE_FLAG_TLS_PROBES = 1 << 2,
};

/* Indexes into the per-CPU counters map. */
enum periscope_counter {
    PERISCOPE_COUNTER_SUBMITTED = 0, /* events written to the ring buffer */
    PERISCOPE_COUNTER_LOST = 1,      /* events dropped: ring buffer full */
    PERISCOPE_COUNTER_TRUNCATED = 2, /* data events whose payload exceeded the capture size */
    PERISCOPE_COUNTER_SHED_CONNECTIONS = 3, /* new connections not captured: the reader was behind */
    PERISCOPE_COUNTER_SHED_REQUESTS = 4,    /* new requests not captured on a connection: the same */
    PERISCOPE_COUNTER_SHED_EVENTS = 5,      /* events of those not written */
    PERISCOPE_COUNTER_COUNT = 6,
};

/* The single entry of the `config` array map; written live by the agent. */
struct periscope_config {
    __u32 flags;
    __u32 capture_bytes;  /* payload prefix per event, at most PERISCOPE_MAX_CAPTURE */
    __u32 wakeup_bytes;   /* wake the reader once this much is waiting */
    __u32 shed_bytes;     /* with more than this waiting, new connections and requests are shed (0: never) */
};
_Static_assert(sizeof(struct periscope_config) == 16, "periscope_config layout");

/* The `pid_slots` map: how many PIDs of target_pids (entries [0, PERISCOPE_PID_SLOTS)) and of
 * excluded_pids (the next PERISCOPE_PID_SLOTS) hash to each slot (periscope_pid_slot). A slot
 * at 0 says a PID is not in the map without a hash table look-up: the answer for nearly every
 * syscall of the node. Counted at each insertion and deletion that succeeds, by the kernel
 * programs and by the agent (which maps the array into its memory). */
#define PERISCOPE_PID_SLOT_BITS 12
#define PERISCOPE_PID_SLOTS (1U << PERISCOPE_PID_SLOT_BITS)
#define PERISCOPE_PID_SLOTS_TARGETS 0U
#define PERISCOPE_PID_SLOTS_EXCLUDED PERISCOPE_PID_SLOTS

/* A PID's slot: the top bits of a multiplicative hash. */
static inline __u32 periscope_pid_slot(__u32 pid)
{
    return (__u32)(pid * 2654435761U) >> (32 - PERISCOPE_PID_SLOT_BITS);
}

/* Values of the `target_pids` map: how a selected process passes selection on. */
enum periscope_target {
    PERISCOPE_TARGET_SELF = 1,             /* the process only */
    PERISCOPE_TARGET_WITH_DESCENDANTS = 2, /* and every process it forks from now on */
    /* Selected for its executable: so is every process it forks, as long as it runs the same
     * executable; an exec ends the selection (the agent selects again what matches). */
    PERISCOPE_TARGET_SAME_EXECUTABLE = 3,
};

/* What sys_exit does for a selected process, after the tracer's one attached program
 * (periscope_sys_exit) has filtered: its stages, tail calls through the `sys_exit_stages`
 * program array, in this order. Every process of the node runs that one program at each
 * syscall and nothing more: each further program attached to sys_exit would cost every
 * syscall again. */
enum periscope_sys_exit_stage {
    /* The propagation object's server-context decision (bpf/propagation.bpf.c), on reads,
     * when that object is loaded: it hands a request's context to the capture stage
     * (read_context_handoff), which it calls next, to be carried in the read's own record. */
    PERISCOPE_STAGE_SERVER_CONTEXT = 0,
    /* The tracer's capture of the syscall. */
    PERISCOPE_STAGE_CAPTURE = 1,
    PERISCOPE_STAGE_COUNT = 2,
};

/* Words of the port bitmap. */
#define PERISCOPE_PORT_WORDS 1024

/* The single entry of the `ports` array map: bit p%64 of word p/64 set = port p selected. */
struct periscope_ports {
    __u64 bits[PERISCOPE_PORT_WORDS];
};
_Static_assert(sizeof(struct periscope_ports) == 8192, "periscope_ports layout");

/* The payload of an EXEC event: what the process runs from now on, read by the kernel at
 * exec, so that a process that exits before the agent looks at /proc is still named right. */
struct periscope_exec_info {
    /* bprm->interp: the path that was run — for a script, its interpreter's, as its #! line
     * names it; NUL-terminated, cut at PERISCOPE_MAX_PATH - 1 bytes. */
    __u8 interp[PERISCOPE_MAX_PATH];
    /* The path of the executable file the process now runs (its mm's exe_file, what
     * /proc/<pid>/exe shows), last component first, each NUL-terminated. */
    __u8 names[PERISCOPE_EXEC_COMPONENTS][PERISCOPE_EXEC_NAME];
    __u32 ppid;         /* the parent's thread group id */
    __u8 name_count;    /* entries of `names` filled */
    __u8 path_complete; /* `names` reach the root of the process's mount namespace, none cut */
    __u8 selected;      /* its name is in exec_names: the kernel selected it at exec
                         * (PERISCOPE_TARGET_SAME_EXECUTABLE); the agent confirms or undoes that */
    __u8 _pad;
};
_Static_assert(sizeof(struct periscope_exec_info) == PERISCOPE_MAX_PATH + PERISCOPE_EXEC_COMPONENTS * PERISCOPE_EXEC_NAME + 8,
               "periscope_exec_info layout");

/* A key of the exec_names map: an executable's file name, NUL-padded. */
struct periscope_exec_name {
    __u8 name[PERISCOPE_EXEC_NAME_KEY];
};
_Static_assert(sizeof(struct periscope_exec_name) == PERISCOPE_EXEC_NAME_KEY, "periscope_exec_name layout");

/* Both ends of a TCP connection. IPv4 addresses are IPv4-mapped IPv6 (::ffff:a.b.c.d). */
struct periscope_tuple {
    __u8 local_addr[16];
    __u8 peer_addr[16];
    __u16 local_port; /* host byte order */
    __u16 peer_port;  /* host byte order */
    __u32 _pad;
};
_Static_assert(sizeof(struct periscope_tuple) == 40, "periscope_tuple layout");

/* One ring buffer record: a fixed header followed by `captured_len` payload bytes. */
struct periscope_event {
    __u64 timestamp_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    __u64 socket_id;    /* opaque identity of the kernel socket; EXEC: bit n set = descriptor n
                         * (n < 64) still open after the exec closed those marked close-on-exec */
    __u32 kind;         /* enum periscope_event_kind */
    __u32 pid;          /* thread group id */
    __u32 tid;
    __s32 fd;
    __u32 total_len;    /* bytes the syscall moved */
    __u32 captured_len; /* payload bytes that follow (EXEC: the executable path) */
    __u8 direction;     /* enum periscope_direction, DATA only */
    __u8 role;          /* enum periscope_role, OPEN only */
    __u16 syscall_nr;
    __u16 flags;        /* enum periscope_event_flag */
    __u16 tail_len;     /* DATA: the last tail_len payload bytes are the syscall's last bytes,
                         * not contiguous with the prefix before them (0: one prefix) */
    struct periscope_tuple tuple;
    /* DATA of a chunked HTTP/1 body longer than the capture (chunk_flags set): the kernel
     * walked its chunk headers. chunk_anchor: where the first chunk header starts whose line
     * ends past the captured prefix; chunk_data: the chunk-data bytes from there to the end
     * of the syscall; chunk_end: where the chunk data the walk ended in stops (its CRLF
     * follows), or with PERISCOPE_CHUNK_AT_HEADER where a header starts the walk did not
     * pass (the last chunk, or one cut by the end of the syscall). Offsets from the
     * syscall's first byte; user space checks the anchor against its own decoding. */
    __u32 chunk_anchor;
    __u32 chunk_data;
    __u32 chunk_end;
    __u16 chunk_flags; /* enum periscope_chunk_flag */
    /* DATA of a socket carrying HTTP/2: the frames_len payload bytes after the prefix and the
     * tail (the last ones, but for a trace context) are the frame walk's records (struct
     * periscope_frame_record). */
    __u16 frames_len;
    __u8 payload[PERISCOPE_MAX_CAPTURE + PERISCOPE_TAIL_CAPTURE + PERISCOPE_FRAME_WALK_BYTES + PERISCOPE_EVENT_CONTEXT_BYTES];
};
#define PERISCOPE_EVENT_HEADER_SIZE 104
_Static_assert(__builtin_offsetof(struct periscope_event, payload) == PERISCOPE_EVENT_HEADER_SIZE,
               "periscope_event header layout");

#endif
