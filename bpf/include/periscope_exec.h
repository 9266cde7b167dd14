/* What a process runs after exec, read at sched_process_exec (tracer.bpf.c): the
 * executable's path as /proc/<pid>/exe gives it, the interpreter a script named, and
 * whether the name is one the policy selects, decided before the process returns to user
 * space so that its first connection is traced. Kernel reads go through BPF_CORE_READ, so
 * both variants of the tracer build this alike. */
#ifndef PERISCOPE_EXEC_H
#define PERISCOPE_EXEC_H

/* File names of executables the policy selects, written by the agent: a process that
 * execs a file of one of these names is selected at once (PERISCOPE_TARGET_SAME_EXECUTABLE),
 * provisionally: the agent checks the whole path against the policy and undoes what does
 * not match. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, PERISCOPE_MAX_EXEC_NAMES);
    __type(key, struct periscope_exec_name);
    __type(value, __u8);
} exec_names SEC(".maps");

/* Mount crossings and components together, at most. */
#define PERISCOPE_EXEC_WALK_STEPS (PERISCOPE_EXEC_COMPONENTS + 8)

/* A walk from the executable's dentry up, one step per bpf_loop iteration (verified once,
 * whatever the path). */
struct periscope_exec_walk {
    struct periscope_exec_info *info;
    struct dentry *dentry;
    struct mount *mnt;
    __u64 inside; /* offset of struct mount's vfsmount */
    __u32 count;
    __u8 cut;
    __u8 complete;
    __u8 _pad[2];
};

static long periscope_exec_walk_step(__u32 index, void *data)
{
    struct periscope_exec_walk *walk = data;
    /* Locals, not walk's fields, go into BPF_CORE_READ: it relocates every step of its
     * expression against the kernel's types. */
    struct mount *mnt = walk->mnt;
    struct dentry *dentry = walk->dentry;
    struct vfsmount *vfsmnt = (struct vfsmount *)((__u8 *)mnt + walk->inside);
    struct dentry *root = BPF_CORE_READ(vfsmnt, mnt_root);
    if (dentry == root) {
        struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
        if (up == mnt) {
            walk->complete = 1;
            return 1;
        }
        walk->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
        walk->mnt = up;
        return 0;
    }
    struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
    __u32 count = walk->count;
    if (dentry == parent || count >= PERISCOPE_EXEC_COMPONENTS)
        return 1; /* outside its mount's tree, or deeper than the event carries */
    const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
    struct periscope_exec_info *info = walk->info;
    long length = bpf_probe_read_kernel_str(info->names[count & (PERISCOPE_EXEC_COMPONENTS - 1)], PERISCOPE_EXEC_NAME, name);
    if (length <= 1 || length >= PERISCOPE_EXEC_NAME)
        walk->cut = 1; /* unreadable, empty or longer than a slot */
    walk->count = count + 1;
    walk->dentry = parent;
    return 0;
}

/* Fills info->names from the current process's executable file, walking its dentries up to
 * the root of its mount namespace, across mounts, as d_path does. */
static __always_inline void periscope_exec_path(struct periscope_exec_info *info)
{
    info->name_count = 0;
    info->path_complete = 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct file *file = BPF_CORE_READ(task, mm, exe_file);
    if (!file)
        return;
    struct periscope_exec_walk walk = {};
    walk.info = info;
    walk.inside = bpf_core_field_offset(struct mount, mnt);
    walk.dentry = BPF_CORE_READ(file, f_path.dentry);
    walk.mnt = (struct mount *)((__u8 *)BPF_CORE_READ(file, f_path.mnt) - walk.inside);
    bpf_loop(PERISCOPE_EXEC_WALK_STEPS, periscope_exec_walk_step, &walk, 0);
    info->name_count = walk.count > PERISCOPE_EXEC_COMPONENTS ? PERISCOPE_EXEC_COMPONENTS : walk.count;
    info->path_complete = walk.complete && !walk.cut;
}

/* Whether the current process's executable file is named in exec_names. */
static __always_inline bool periscope_exec_name_selected(void)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    const unsigned char *name = BPF_CORE_READ(task, mm, exe_file, f_path.dentry, d_name.name);
    if (!name)
        return false;
    struct periscope_exec_name key = {};
    if (bpf_probe_read_kernel_str(key.name, sizeof(key.name), name) <= 1)
        return false;
    return bpf_map_lookup_elem(&exec_names, &key) != NULL;
}

#endif
