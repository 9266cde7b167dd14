/* The tracer for kernels without BTF-typed tracepoints or the bpf_rdonly_cast kfunc
 * (before Linux 6.2): the same programs, every kernel read a bpf_probe_read_kernel. */
#define PERISCOPE_PROBE_READS 1
#include "tracer.bpf.c"
