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

/* orig_ax keeps the syscall number; the arguments registers are untouched at exit. */
#define SYSCALL_NR(regs) KREAD(regs, orig_ax)
#define SYSCALL_ARG0(regs) KREAD(regs, di)
#define SYSCALL_ARG1(regs) KREAD(regs, si)
#define SYSCALL_ARG2(regs) KREAD(regs, dx)

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

/* x0 carries the return value at exit; the kernel keeps the first argument in orig_x0. */
#define SYSCALL_NR(regs) KREAD(regs, syscallno)
#define SYSCALL_ARG0(regs) KREAD(regs, orig_x0)
#define SYSCALL_ARG1(regs) KREAD(regs, regs[1])
#define SYSCALL_ARG2(regs) KREAD(regs, regs[2])

#else
#error "define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

#endif
