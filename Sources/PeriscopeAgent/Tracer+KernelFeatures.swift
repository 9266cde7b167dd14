import PeriscopeBPF

extension Tracer {
    /// The kernel features this tracer runs on, as reported in a NodeInstrumentation's status:
    /// BTF and CO-RE, the ring buffer, sys_exit as a BTF tracepoint (`tp_btf`) or a raw
    /// tracepoint, and the close tracepoint.
    public var kernelFeatures: [String] {
        var features = ["btf", "ringbuf", "tracepoint"]
        features.append(variant == .btf ? "tp_btf" : "raw_tracepoint")
        return features.sorted()
    }
}
