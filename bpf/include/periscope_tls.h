/* Layouts shared by the TLS library probes (bpf/tls.bpf.c), the tracer's hook that sees
 * what a TLS library moves on its socket (periscope_tls_hook.h) and the agent. */
#ifndef PERISCOPE_TLS_H
#define PERISCOPE_TLS_H

#ifdef __bpf__
#include "periscope_vmlinux.h"
#else
#include <linux/types.h>
#endif
#include "periscope_events.h"

/* Threads inside a probed TLS call at once; TLS sessions whose socket is remembered;
 * threads that made TLS calls whose socket I/O is watched around them. */
#define PERISCOPE_TLS_MAX_CALLS 16384
#define PERISCOPE_TLS_MAX_SESSIONS 65536
#define PERISCOPE_TLS_MAX_THREADS 16384
/* The largest TLS record a peer may send: 2^14 bytes of plaintext plus expansion. */
#define PERISCOPE_TLS_MAX_RECORD (16384 + 2048)

/* The attach cookie of a probe: which library function it is at. */
enum periscope_tls_function {
    PERISCOPE_TLS_SSL_READ = 1,       /* int SSL_read(SSL *, void *buf, int num) */
    PERISCOPE_TLS_SSL_READ_EX = 2,    /* int SSL_read_ex(SSL *, void *buf, size_t num, size_t *readbytes) */
    PERISCOPE_TLS_SSL_WRITE = 3,      /* int SSL_write(SSL *, const void *buf, int num) */
    PERISCOPE_TLS_SSL_WRITE_EX = 4,   /* int SSL_write_ex(SSL *, const void *buf, size_t num, size_t *written) */
    PERISCOPE_TLS_SSL_HANDSHAKE = 5,  /* int SSL_do_handshake(SSL *) */
    PERISCOPE_TLS_SSL_SHUTDOWN = 6,   /* int SSL_shutdown(SSL *): may write an alert */
};

/* periscope_event.flags of events about TLS connections (beside enum periscope_event_flag). */
enum periscope_tls_event_flag {
    /* Plaintext the process handed to or got from its TLS library. */
    PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT = 1 << 8,
    /* Bytes a TLS library moved on the socket (records): counted, never captured. */
    PERISCOPE_EVENT_FLAG_TLS_CIPHERTEXT = 1 << 9,
};

/* Indexes into the per-CPU `tls_counters` map. */
enum periscope_tls_counter {
    PERISCOPE_TLS_COUNTER_PLAINTEXT = 0,  /* plaintext events written */
    PERISCOPE_TLS_COUNTER_CIPHERTEXT = 1, /* socket transfers inside TLS calls, counted only */
    PERISCOPE_TLS_COUNTER_UNBOUND = 2,    /* plaintext of a session never seen on a selected socket: dropped */
    PERISCOPE_TLS_COUNTER_CALLS_LOST = 3, /* calls not followed: too many threads inside TLS calls */
    /* sessions bound to a socket their thread moved records on around a call, not inside it */
    PERISCOPE_TLS_COUNTER_BOUND_AROUND = 4,
    PERISCOPE_TLS_COUNTER_COUNT = 5,
};

/* A session's socket as the tracer saw it (what an event about it carries), and the
 * length of a write whose plaintext was reported but which the library has not finished
 * (it returned "want write"; the caller retries with the same length). */
struct periscope_tls_socket {
    __u64 socket_id;
    struct periscope_tuple tuple;
    __s32 fd;
    __u32 pending_write;
};
_Static_assert(sizeof(struct periscope_tls_socket) == 56, "periscope_tls_socket layout");

/* A thread inside a probed TLS call (`tls_calls`, keyed by thread id), from entry to return. */
struct periscope_tls_call {
    __u64 session;  /* the SSL object */
    __u64 buffer;   /* the caller's plaintext buffer */
    __u64 length_out; /* SSL_read_ex/SSL_write_ex: where the library stores the length */
    __u64 requested; /* the length the caller passed */
    __u32 function; /* enum periscope_tls_function */
    __u16 seen_socket; /* a transfer on `socket` happened inside the call */
    __u16 reported; /* a write's plaintext was reported at its first socket write */
    struct periscope_tls_socket socket;
};
_Static_assert(sizeof(struct periscope_tls_call) == 96, "periscope_tls_call layout");

/* Sessions (SSL objects) of a process: the key of `tls_sessions`. */
struct periscope_tls_session_key {
    __u64 session;
    __u32 pid;
    __u32 _pad;
};
_Static_assert(sizeof(struct periscope_tls_session_key) == 16, "periscope_tls_session_key layout");

/* A thread that made TLS calls (`tls_threads`, keyed by thread id), for libraries that move
 * their records on the socket outside their calls (Node.js feeds OpenSSL memory BIOs from
 * libuv): what the thread did last around its calls, from which a session's socket is
 * learnt. Both are forgotten when the thread waits for events (an event loop's turn). */
struct periscope_tls_thread {
    /* The socket the thread read records from outside a call, for the next call to begin:
     * a library fed from a socket decrypts right after reading it. */
    struct periscope_tls_socket read;
    /* The session whose call the thread returned from last, for the next records it writes
     * outside a call: a library writing into a memory buffer has it sent right after. */
    __u64 session;
    __u32 has_read;
    __u32 _pad;
};
_Static_assert(sizeof(struct periscope_tls_thread) == 72, "periscope_tls_thread layout");

#endif
