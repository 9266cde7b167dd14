/* The few kernel types the programs read, declared with preserve_access_index so that
 * libbpf relocates every field access against the running kernel's BTF (CO-RE).
 * Only field names matter; their order and offsets here are irrelevant. A type or
 * field missing from the running kernel fails the load with a relocation error naming it.
 *
 * This replaces a generated vmlinux.h: nothing to regenerate per kernel. To add a field,
 * find its name with `bpftool btf dump file /sys/kernel/btf/vmlinux format c` and
 * declare it below. */
#ifndef PERISCOPE_VMLINUX_H
#define PERISCOPE_VMLINUX_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <stdbool.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

#if defined(__TARGET_ARCH_x86)
struct pt_regs {
    unsigned long di;
    unsigned long si;
    unsigned long dx;
    unsigned long r10;
    unsigned long orig_ax;
};
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
    __u64 regs[31];
    __u64 orig_x0;
    __s32 syscallno;
};
#endif

struct in6_addr {
    __u8 s6_addr[16];
};

struct sock_common {
    __be32 skc_daddr;
    __be32 skc_rcv_saddr;
    __be16 skc_dport;
    __u16 skc_num;
    unsigned short skc_family;
    struct in6_addr skc_v6_daddr;
    struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
    struct sock_common __sk_common;
    __u16 sk_type;
    __u16 sk_protocol;
};

struct socket {
    struct sock *sk;
};

struct inode {
    unsigned short i_mode;
};

typedef struct {
    __s64 counter;
} atomic64_t;

/* Linux 6.13+: references minus one. */
typedef struct {
    atomic64_t refcnt;
} file_ref_t;

struct qstr {
    const unsigned char *name;
};

struct dentry {
    struct dentry *d_parent;
    struct qstr d_name;
};

struct vfsmount {
    struct dentry *mnt_root;
};

/* A mounted filesystem; its vfsmount is the `mnt` member inside it. */
struct mount {
    struct mount *mnt_parent;
    struct dentry *mnt_mountpoint;
    struct vfsmount mnt;
};

struct path {
    struct vfsmount *mnt;
    struct dentry *dentry;
};

struct file {
    struct inode *f_inode;
    void *private_data;
    file_ref_t f_ref;
    struct path f_path;
};

struct mm_struct {
    struct file *exe_file;
};

/* Before Linux 6.13: the reference count itself. */
struct file___f_count {
    struct {
        long counter;
    } f_count;
};

struct fdtable {
    unsigned int max_fds;
    struct file **fd;
    unsigned long *open_fds;
};

struct files_struct {
    struct fdtable *fdt;
};

struct linux_binprm {
    const char *filename;
    const char *interp;
};

/* Read only as a pointer-sized word at an address (tracer.bpf.c, kernel_pointer_at). */
struct llist_node {
    struct llist_node *next;
};

struct task_struct {
    int pid;
    int tgid;
    struct files_struct *files;
    struct mm_struct *mm;
    struct task_struct *real_parent;
};

#pragma clang attribute pop

/* User-space ABI structs, read with bpf_probe_read_user: fixed layouts, no relocation. */
struct periscope_iovec {
    __u64 iov_base;
    __u64 iov_len;
};

struct periscope_user_msghdr {
    __u64 msg_name;
    __s32 msg_namelen;
    __u32 _pad;
    __u64 msg_iov;
    __u64 msg_iovlen;
    __u64 msg_control;
    __u64 msg_controllen;
    __u32 msg_flags;
};

#endif
