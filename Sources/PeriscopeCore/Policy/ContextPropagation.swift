/// `spec.propagation`: whether the kernel writes the trace context of the selected processes'
/// outgoing calls into their traffic, so that the callee's spans (on any node, or in any
/// process with an OpenTelemetry SDK) join the caller's trace.
public enum ContextPropagation: String, Sendable, Hashable, CaseIterable {
    /// The default: `traceparent` inserted into cleartext HTTP/1 requests that carry none.
    case auto
    /// Nothing is written into the traffic of the selected processes.
    case none

    /// Names as written in a policy.
    public static var names: [String] { allCases.map(\.rawValue) }
}
