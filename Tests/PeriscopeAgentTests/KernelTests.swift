import Testing

/// Every test that loads the BPF programs, run one at a time: they share the kernel,
/// the loopback ports and the `bpftool` view of what is loaded.
@Suite(.serialized)
struct KernelTests {}
