/* Layouts shared by bpf/propagation.bpf.c and the agent: trace context written into the
 * traffic of traced processes (W3C `traceparent` in HTTP/1 requests, a TCP header option
 * elsewhere) and reported to user space, so that the spans the agent reports carry exactly
 * the ids on the wire. */
#ifndef PERISCOPE_PROPAGATION_H
#define PERISCOPE_PROPAGATION_H

#ifdef __bpf__
#include "periscope_vmlinux.h"
#else
#include <linux/types.h>
#endif
#include "periscope_events.h"

/* Bytes of a request's head the kernel reads to find its end and a `traceparent`. */
#define PERISCOPE_PROPAGATION_HEAD_MAX 4096
/* Messages up to this size that had a `traceparent` line inserted are pulled together into one
 * piece (a page) so that they leave in one segment. */
#define PERISCOPE_PROPAGATION_LINEAR_MAX 4096
/* Threads whose current server request the kernel remembers; least recently used go first. */
#define PERISCOPE_PROPAGATION_THREADS 65536
/* Sockets of traced processes open to the payload program at once. */
#define PERISCOPE_PROPAGATION_SOCKETS 65536
/* `traceparent: 00-<32 hex>-<16 hex>-<2 hex>\r\n` */
#define PERISCOPE_TRACEPARENT_LINE_LEN 70
/* The TCP header option carrying a context: experimental kind 254 with an RFC 6994 ExID, then
 * the trace id (16) and span id (8): 28 bytes, what the 40 bytes of option space leave beside
 * timestamps. The ExID says whether the trace is sampled. */
#define PERISCOPE_TCP_OPTION_KIND 254
#define PERISCOPE_TCP_OPTION_EXID_SAMPLED 0x5053
#define PERISCOPE_TCP_OPTION_EXID_UNSAMPLED 0x5054
#define PERISCOPE_TCP_OPTION_LEN 28
/* Connections whose received option the kernel keeps for the server's next read. */
#define PERISCOPE_PROPAGATION_OPTIONS 65536

/* Who decided a context reported in a PERISCOPE_EVENT_TRACE_CONTEXT record. */
enum periscope_context_origin {
    /* A traced server thread read a request: the server span's context, remembered for the
     * thread so that the calls it makes meanwhile continue its trace. */
    PERISCOPE_CONTEXT_SERVER = 1,
    /* `traceparent` written into an outgoing request: the client span's context. */
    PERISCOPE_CONTEXT_INJECTED = 2,
    /* The payload could not be edited (TLS, HTTP/2, other binary protocols): the context of
     * the connection's first request, written in a TCP header option on its segments. */
    PERISCOPE_CONTEXT_OPTION = 3,
    /* A traced server thread read from a connection whose segments carried an option: the
     * context of the connection's first request on this side. */
    PERISCOPE_CONTEXT_SERVER_OPTION = 4,
};

/* The payload of a PERISCOPE_EVENT_TRACE_CONTEXT record. */
struct periscope_trace_context {
    __u8 trace_id[16];
    __u8 span_id[8];
    __u8 parent_id[8]; /* zero: none */
    __u8 flags;        /* W3C trace flags; bit 0 sampled */
    __u8 origin;       /* enum periscope_context_origin */
    __u8 parent_remote; /* parent_id came from a `traceparent` the process read */
    __u8 _pad[5];
};
_Static_assert(sizeof(struct periscope_trace_context) == 40, "periscope_trace_context layout");
_Static_assert(sizeof(struct periscope_trace_context) == PERISCOPE_EVENT_CONTEXT_BYTES, "a DATA record's trace context");

/* Values of the `propagation_pids` map: processes whose policy says `propagation: none`. */
enum periscope_propagation_mode {
    PERISCOPE_PROPAGATION_OFF = 1,
};

/* The single entry of the `propagation_config` array map. */
struct periscope_propagation_config {
    /* Roots the kernel begins are sampled when the trace id's last eight bytes (big-endian)
     * are below this; all ones: always. Mirrors the node's root sampler. */
    __u64 root_threshold;
    __u32 enabled; /* 0: nothing is written into any traffic */
    /* How many PIDs the agent put in `propagation_pids`, or more: at 0 the programs know a
     * process is not there without a look-up (nearly always: no policy says `none`). */
    __u32 disabled_pids;
};
_Static_assert(sizeof(struct periscope_propagation_config) == 16, "periscope_propagation_config layout");

/* Indexes into the per-CPU `propagation_counters` map. */
enum periscope_propagation_counter {
    PERISCOPE_PROP_INJECTED = 0,          /* `traceparent` lines written into requests */
    PERISCOPE_PROP_OPTIONS = 1,           /* connections whose segments carry a TCP header option */
    PERISCOPE_PROP_KEPT_TRACEPARENT = 2,  /* requests already carrying one, left alone */
    PERISCOPE_PROP_SPLIT_HEAD = 3,        /* request heads not whole in one write, left alone */
    PERISCOPE_PROP_PIPELINED = 4,         /* further requests in a write after the first, left alone */
    PERISCOPE_PROP_NO_ROOM = 5,           /* the kernel could not make room in the message */
    PERISCOPE_PROP_SERVER_CONTEXTS = 6,   /* server requests whose context the kernel decided */
    PERISCOPE_PROP_LOST = 7,              /* context records dropped: ring buffer full */
    PERISCOPE_PROP_OPTIONS_READ = 8,      /* contexts taken from TCP header options by traced servers */
    PERISCOPE_PROP_SOCKETS_LEFT = 9,      /* connections carrying the option taken out of the sockhash */
    PERISCOPE_PROP_COUNTER_COUNT = 10,
};

#endif
