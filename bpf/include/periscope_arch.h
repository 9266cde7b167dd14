/* What differs between the architectures the tracer builds for: syscall numbers and where
 * a syscall's number and original arguments are in `struct pt_regs` at sys_exit. The
 * build defines __TARGET_ARCH_x86 or __TARGET_ARCH_arm64 (the BPFCompiler plugin, from
 * the architecture it builds on). */
#ifndef PERISCOPE_ARCH_H
#define PERISCOPE_ARCH_H

#if defined(__TARGET_ARCH_x86)

#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_accept4 288
#define NR_splice 275
/* Waits for events, which end what a TLS thread did around its calls (periscope_tls_hook.h). */
#define NR_poll 7
#define NR_ppoll 271
#define NR_epoll_wait 232
#define NR_epoll_pwait 281
#define NR_epoll_pwait2 441

/* orig_ax keeps the syscall number; the arguments registers are untouched at exit. Each
 * read through `read(ptr, field)`: KREAD, or direct loads where the program's regs are BTF
 * typed. */
#define SYSCALL_NR_BY(read, regs) read(regs, orig_ax)
#define SYSCALL_ARG0_BY(read, regs) read(regs, di)
#define SYSCALL_ARG1_BY(read, regs) read(regs, si)
#define SYSCALL_ARG2_BY(read, regs) read(regs, dx)

#elif defined(__TARGET_ARCH_arm64)

/* The generic syscall table (include/uapi/asm-generic/unistd.h). */
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendfile 71
#define NR_accept 202
#define NR_connect 203
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_accept4 242
#define NR_splice 76
/* No poll nor epoll_wait in the generic table. */
#define NR_ppoll 73
#define NR_epoll_pwait 22
#define NR_epoll_pwait2 441

/* x0 carries the return value at exit; the kernel keeps the first argument in orig_x0. */
#define SYSCALL_NR_BY(read, regs) read(regs, syscallno)
#define SYSCALL_ARG0_BY(read, regs) read(regs, orig_x0)
#define SYSCALL_ARG1_BY(read, regs) read(regs, regs[1])
#define SYSCALL_ARG2_BY(read, regs) read(regs, regs[2])

#else
#error "define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

#define SYSCALL_NR(regs) SYSCALL_NR_BY(KREAD, regs)
#define SYSCALL_ARG0(regs) SYSCALL_ARG0_BY(KREAD, regs)
#define SYSCALL_ARG1(regs) SYSCALL_ARG1_BY(KREAD, regs)
#define SYSCALL_ARG2(regs) SYSCALL_ARG2_BY(KREAD, regs)

/* User-space calling conventions at a uprobe, for the TLS library probes: the context is
 * the traced thread's registers, read as an array of 64-bit words (struct pt_regs). */
#if defined(__TARGET_ARCH_x86)
/* r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss */
#define UREG(ctx, word) (((const __u64 *)(ctx))[word])
#define USER_ARG0(ctx) UREG(ctx, 14) /* di */
#define USER_ARG1(ctx) UREG(ctx, 13) /* si */
#define USER_ARG2(ctx) UREG(ctx, 12) /* dx */
#define USER_ARG3(ctx) UREG(ctx, 11) /* cx */
#define USER_RET(ctx) UREG(ctx, 10)  /* ax */
#elif defined(__TARGET_ARCH_arm64)
/* x0..x30 sp pc pstate */
#define UREG(ctx, word) (((const __u64 *)(ctx))[word])
#define USER_ARG0(ctx) UREG(ctx, 0)
#define USER_ARG1(ctx) UREG(ctx, 1)
#define USER_ARG2(ctx) UREG(ctx, 2)
#define USER_ARG3(ctx) UREG(ctx, 3)
#define USER_RET(ctx) UREG(ctx, 0)
#endif


/* Go's internal register ABI (Go 1.17+ on x86-64, 1.18+ on arm64), for the crypto/tls
 * probes: integer arguments and results in order, and the running goroutine's g. */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG0(ctx) UREG(ctx, 10) /* ax */
#define GO_ARG1(ctx) UREG(ctx, 5)  /* bx */
#define GO_ARG2(ctx) UREG(ctx, 11) /* cx */
#define GO_RET0(ctx) UREG(ctx, 10) /* ax */
#define GO_G(ctx) UREG(ctx, 1)     /* r14 */
#elif defined(__TARGET_ARCH_arm64)
#define GO_ARG0(ctx) UREG(ctx, 0)
#define GO_ARG1(ctx) UREG(ctx, 1)
#define GO_ARG2(ctx) UREG(ctx, 2)
#define GO_RET0(ctx) UREG(ctx, 0)
#define GO_G(ctx) UREG(ctx, 28)
#endif

#endif
