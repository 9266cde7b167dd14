import CPeriscopeBPF

/// What the kernel programs let through, written into their maps without reloading.
public struct KernelFilter: Sendable, Equatable {
    /// How a target PID's children are treated when they fork.
    public enum Inheritance: Sendable {
        /// Only this process.
        case selfOnly
        /// This process and every process it forks from now on.
        case withDescendants
        /// This process and every process it forks while they run the same executable: the
        /// kernel ends a target's selection when it calls exec, and the agent selects it
        /// again if the new executable matches.
        case sameExecutable

        /// The `target_pids` value the kernel programs read (`enum periscope_target`).
        var kernelValue: UInt8 {
            switch self {
            case .selfOnly: UInt8(PERISCOPE_TARGET_SELF.rawValue)
            case .withDescendants: UInt8(PERISCOPE_TARGET_WITH_DESCENDANTS.rawValue)
            case .sameExecutable: UInt8(PERISCOPE_TARGET_SAME_EXECUTABLE.rawValue)
            }
        }
    }

    /// Every process not excluded is traced (the policy selects by port only).
    public var allProcesses: Bool
    /// Processes traced when `allProcesses` is false.
    public var targets: [Int32: Inheritance]
    /// Never traced, nor are their children; wins over everything else.
    public var excluded: Set<Int32>
    /// 1024 words, bit p%64 of word p/64 = port p; nil = every port.
    public var portBitmap: [UInt64]?
    /// Payload bytes copied per event, at most `KernelFilter.maximumCaptureBytes`.
    public var captureBytes: Int
    /// The kernel wakes the reader once this many bytes wait in the ring buffer.
    public var wakeupBytes: Int
    /// File names of executables the policy selects: a process that execs a file of one of
    /// these names is selected by the kernel before it returns to user space (its first
    /// connection is traced), provisionally: the agent confirms it from the exec event or
    /// undoes it. Names compare by their first `executableNameBytes` bytes.
    public var executableNames: Set<String> = []
    public static let executableNameBytes = Int(PERISCOPE_EXEC_NAME_KEY) - 1

    /// Whether the kernel sheds new connections and requests when the reader falls behind
    /// (the tracer sets the threshold from its ring buffer's size). Default: true.
    public var shedsUnderLoad: Bool = true

    public static let maximumCaptureBytes = Int(PERISCOPE_MAX_CAPTURE)
    public static let defaultCaptureBytes = Int(PERISCOPE_DEFAULT_CAPTURE)

    public init(
        allProcesses: Bool, targets: [Int32: Inheritance] = [:], excluded: Set<Int32> = [],
        portBitmap: [UInt64]? = nil, captureBytes: Int = KernelFilter.defaultCaptureBytes,
        wakeupBytes: Int = 256 * 1024
    ) {
        self.allProcesses = allProcesses
        self.targets = targets
        self.excluded = excluded
        self.portBitmap = portBitmap
        self.captureBytes = captureBytes
        self.wakeupBytes = wakeupBytes
    }

    var config: periscope_config {
        var flags: UInt32 = 0
        if allProcesses { flags |= UInt32(PERISCOPE_FLAG_ALL_PIDS.rawValue) }
        if portBitmap != nil { flags |= UInt32(PERISCOPE_FLAG_PORT_FILTER.rawValue) }
        return periscope_config(
            flags: flags,
            capture_bytes: UInt32(min(max(captureBytes, 0), KernelFilter.maximumCaptureBytes)),
            wakeup_bytes: UInt32(clamping: max(wakeupBytes, 1)),
            shed_bytes: 0
        )
    }
}

/// Totals of the kernel programs' per-CPU counters.
public struct KernelCounters: Sendable, Equatable {
    /// Events written to the ring buffer.
    public var submitted: UInt64 = 0
    /// Events dropped because the ring buffer was full.
    public var lost: UInt64 = 0
    /// Data events whose payload was longer than the capture size (prefix kept).
    public var truncated: UInt64 = 0
    /// New connections, and new requests on open connections, not captured because the
    /// reader was behind; and the events of those not written.
    public var shedConnections: UInt64 = 0
    public var shedRequests: UInt64 = 0
    public var shedEvents: UInt64 = 0

    public init(
        submitted: UInt64 = 0, lost: UInt64 = 0, truncated: UInt64 = 0, shedConnections: UInt64 = 0,
        shedRequests: UInt64 = 0, shedEvents: UInt64 = 0
    ) {
        self.submitted = submitted
        self.lost = lost
        self.truncated = truncated
        self.shedConnections = shedConnections
        self.shedRequests = shedRequests
        self.shedEvents = shedEvents
    }
}
