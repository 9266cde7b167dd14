import PeriscopeCore

/// How the standalone agent runs. Defaults suit a production host.
public struct AgentConfiguration: Sendable {
    public enum OutputFormat: String, Sendable, CaseIterable {
        /// One human-readable line per span.
        case text
        /// One JSON object per line, OTLP field names.
        case json
    }

    /// The policy file (`--config`); nil traces every process on every port.
    public var policyPath: String?
    /// `--output`.
    public var output: OutputFormat
    /// 4 MiB. Each event takes 112 bytes and the payload captured with it; the kernel sheds new
    /// requests once half of the buffer waits unread. The pages count twice in RSS, as libbpf
    /// maps them twice to read across the wrap.
    public static let defaultRingBufferBytes = 4 << 20

    /// Size of the kernel ring buffer in bytes (`--ring-buffer-bytes`); a power of two.
    public var ringBufferBytes: Int
    /// How long one ring buffer poll may wait while nothing arrives; also the longest a span
    /// waits to be printed.
    public var pollInterval: Duration
    /// How long a poll waits right after one that found events. Short, so that a busy agent
    /// works in small slices and never holds a core long enough to delay the services it
    /// watches (at 50k requests/s on two cores, nginx's p99 rose 45% with 10 ms slices and
    /// 5–30% with 2 ms ones). Default: 2 ms.
    public var busyPollInterval: Duration
    /// How often the policy file is checked for changes (SIGHUP checks at once).
    public var policyCheckInterval: Duration
    /// How often /proc is rescanned to catch processes whose start was missed.
    public var processRescanInterval: Duration
    /// Connections idle this long whose process no longer holds their socket are ended
    /// (their pending spans are emitted); one still held is checked again as long after
    /// (`--idle-timeout`, seconds).
    public var idleConnectionTimeout: Duration
    /// How long a server request read before its traced caller's context arrived waits
    /// for it, and the most finished spans waiting so (`--reorder-window`).
    public var traces: TraceLinker.Configuration
    /// The host's cgroup v2 hierarchy, where the socket program that lets trace context into
    /// traffic attaches (`--cgroup-path`); nil: the first cgroup2 mount in /proc/self/mounts.
    public var cgroupPath: String?
    /// How the kernel schedules the capture thread (`--capture-batch`, `--capture-slice`).
    public var captureScheduling: CaptureScheduling

    public init(
        policyPath: String? = nil,
        output: OutputFormat = .text,
        ringBufferBytes: Int = AgentConfiguration.defaultRingBufferBytes,
        pollInterval: Duration = .milliseconds(10),
        busyPollInterval: Duration = .milliseconds(2),
        policyCheckInterval: Duration = .milliseconds(250),
        processRescanInterval: Duration = .seconds(5),
        idleConnectionTimeout: Duration = .seconds(300),
        traces: TraceLinker.Configuration = .init(),
        cgroupPath: String? = nil,
        captureScheduling: CaptureScheduling = CaptureScheduling()
    ) {
        self.policyPath = policyPath
        self.output = output
        self.ringBufferBytes = ringBufferBytes
        self.pollInterval = pollInterval
        self.busyPollInterval = busyPollInterval
        self.policyCheckInterval = policyCheckInterval
        self.processRescanInterval = processRescanInterval
        self.idleConnectionTimeout = idleConnectionTimeout
        self.traces = traces
        self.cgroupPath = cgroupPath
        self.captureScheduling = captureScheduling
    }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
    }
}
