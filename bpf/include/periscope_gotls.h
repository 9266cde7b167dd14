/* Layouts shared by the Go crypto/tls probes (bpf/gotls.bpf.c) and the agent. */
#ifndef PERISCOPE_GOTLS_H
#define PERISCOPE_GOTLS_H

#ifdef __bpf__
#include "periscope_vmlinux.h"
#else
#include <linux/types.h>
#endif

/* Go executables probed at once; goroutines inside a probed Read at once. */
#define PERISCOPE_GOTLS_MAX_BINARIES 1024
#define PERISCOPE_GOTLS_MAX_CALLS 65536

/* What a probe is at: the low byte of its attach cookie. The rest of the cookie is the
 * binary's slot in `gotls_binaries` (cookie >> 8). */
enum periscope_gotls_probe {
    /* func (c *Conn) Read(b []byte) (int, error), at its first instruction */
    PERISCOPE_GOTLS_READ_ENTRY = 1,
    /* the same function, at one of its RET instructions */
    PERISCOPE_GOTLS_READ_RETURN = 2,
    /* func (c *Conn) Write(b []byte) (int, error), at its first instruction */
    PERISCOPE_GOTLS_WRITE_ENTRY = 3,
};

/* One probed Go executable: where the fields on the way from a *tls.Conn to its socket's
 * descriptor are (from the binary's DWARF, or a table by Go version), and the link-time
 * addresses that tell a position-independent executable's load bias. */
struct periscope_gotls_binary {
    __u64 read_address;   /* crypto/tls.(*Conn).Read's address in the file */
    __u64 write_address;  /* crypto/tls.(*Conn).Write's */
    __u64 tcp_conn_itab;  /* the itab of (*net.TCPConn, net.Conn), 0 when unknown */
    __u32 conn_in_tls_conn; /* crypto/tls.Conn.conn: the net.Conn interface (itab, data) */
    __u32 fd_in_conn;     /* net.conn.fd (at net.TCPConn.conn): the *net.netFD */
    __u32 pfd_in_net_fd;  /* net.netFD.pfd: an internal/poll.FD */
    __u32 sysfd_in_fd;    /* internal/poll.FD.Sysfd: the descriptor */
};
_Static_assert(sizeof(struct periscope_gotls_binary) == 40, "periscope_gotls_binary layout");

/* A goroutine inside Read (`gotls_calls`), from entry to return. */
struct periscope_gotls_call {
    __u64 buffer;
    __s32 fd;
    __u32 _pad;
};
_Static_assert(sizeof(struct periscope_gotls_call) == 16, "periscope_gotls_call layout");

/* Goroutines of a process: the g pointer (R14 under the register ABI) and the process. */
struct periscope_gotls_call_key {
    __u64 goroutine;
    __u32 pid;
    __u32 _pad;
};
_Static_assert(sizeof(struct periscope_gotls_call_key) == 16, "periscope_gotls_call_key layout");

/* Indexes into the per-CPU `gotls_counters` map. */
enum periscope_gotls_counter {
    PERISCOPE_GOTLS_COUNTER_PLAINTEXT = 0,   /* plaintext events written */
    PERISCOPE_GOTLS_COUNTER_NOT_TCP = 1,     /* the Conn wraps something other than a *net.TCPConn */
    PERISCOPE_GOTLS_COUNTER_UNREADABLE = 2,  /* the way to the descriptor could not be read */
    PERISCOPE_GOTLS_COUNTER_CALLS_LOST = 3,  /* Reads not followed: too many goroutines inside at once */
    PERISCOPE_GOTLS_COUNTER_COUNT = 4,
};

#endif
