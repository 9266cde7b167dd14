import CLibBPF
import CPeriscopeBPF
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The loaded and attached programs of `bpf/propagation.bpf.c`, which write trace context into
/// the traffic of traced processes: owns their BPF object, its cgroup and tracepoint links and
/// the payload program's attachment to its sockhash; everything is detached in `deinit`.
///
/// It shares the tracer's ring buffer, configuration, PID and port maps, so it selects exactly
/// the processes the tracer traces, and its reports arrive in order with the tracer's events.
/// Create it in `Tracer.loadAndAttach`'s `beforeAttach` (it needs the tracer's variant loaded):
/// its server-context decision is a stage of the tracer's one `sys_exit` program, run before
/// the tracer's capture, so the context of a request a server reads comes in the read's own
/// record, as the context written into a request comes in the write's.
///
/// Not thread-safe: one thread configures.
public final class Propagation {
    private let object: OpaquePointer
    /// The ELF image libbpf opened the object from; kept for as long as the object lives.
    private let image: UnsafeMutableRawBufferPointer
    private var links: [OpaquePointer] = []
    private var messageAttachment: (program: Int32, map: Int32)?
    /// The tracer's sys_exit stages, once the server-context stage is in them.
    private var stageMap: Int32?
    private var settingsMap: Int32 = -1
    private var pidsMap: Int32 = -1
    private var countersMap: Int32 = -1
    private var threadsMap: Int32 = -1
    private var socketsMap: Int32 = -1
    /// `socket_marks`, the sockets `sock_ops` marked at their connect, and the size of a mark.
    private var marksMap: Int32 = -1
    private var markSize = 0
    private var writtenDisabled: Set<Int32> = []
    /// The settings last written by `apply(_:)`.
    public private(set) var settings = PropagationSettings(enabled: false)
    private var released = false

    /// Loads the programs against `tracer`'s maps and attaches them: the socket program to the
    /// cgroup v2 hierarchy at `cgroupPath` (its root covers every process of the node), the
    /// payload program to the sockhash, the request-read program as a stage of the tracer's
    /// `sys_exit` program. Nothing is written into any traffic until `apply(_:)` enables it.
    public init(tracer: Tracer, cgroupPath: String) throws(BPFError) {
        LibBPFLog.install()
        let path = "propagation.bpf.o"
        (object, image) = try BPFObjectImages.open("propagation")
        do throws(BPFError) {
            for (name, descriptor) in tracer.sharedMaps {
                guard let map = bpf_object__find_map_by_name(object, name) else {
                    throw BPFError(.mapFailed, "map `\(name)` missing from \(path)")
                }
                try libbpfCall(.mapFailed, "cannot share the tracer's map `\(name)`") { bpf_map__reuse_fd(map, descriptor) }
            }
            // The server-context stage of the tracer's type only: a tail call stays within one type.
            for variant in Tracer.Variant.allCases where variant != tracer.variant {
                let name = Self.serverContextStage(for: variant)
                guard let other = bpf_object__find_program_by_name(object, name) else {
                    throw BPFError(.loadFailed, "program `\(name)` missing from \(path)")
                }
                try libbpfCall(.loadFailed, "cannot leave \(name) out") { bpf_program__set_autoload(other, false) }
            }
            try libbpfCall(.loadFailed, "the kernel refused the propagation programs") { bpf_object__load(object) }
            func map(_ name: String) throws(BPFError) -> Int32 {
                guard let map = bpf_object__find_map_by_name(object, name) else {
                    throw BPFError(.mapFailed, "map `\(name)` missing from \(path)")
                }
                return bpf_map__fd(map)
            }
            func program(_ name: String) throws(BPFError) -> OpaquePointer {
                guard let program = bpf_object__find_program_by_name(object, name) else {
                    throw BPFError(.loadFailed, "program `\(name)` missing from \(path)")
                }
                return program
            }
            settingsMap = try map("propagation_config")
            pidsMap = try map("propagation_pids")
            countersMap = try map("propagation_counters")
            threadsMap = try map("thread_contexts")
            socketsMap = try map("traced_sockets")
            marksMap = try map("socket_marks")
            markSize = Int(bpf_map__value_size(bpf_object__find_map_by_name(object, "socket_marks")))
            let sockets = socketsMap

            // This object's descriptor of the tracer's map: valid for as long as the object.
            let stages = try map("sys_exit_stages")
            var stage = UInt32(PERISCOPE_STAGE_SERVER_CONTEXT.rawValue)
            var serverContext = bpf_program__fd(try program(Self.serverContextStage(for: tracer.variant)))
            try libbpfCall(.attachFailed, "cannot make the server-context decision a stage of the tracer's sys_exit") {
                bpf_map_update_elem(stages, &stage, &serverContext, UInt64(BPF_ANY))
            }
            stageMap = stages
            let inject = bpf_program__fd(try program("periscope_inject"))
            try libbpfCall(.attachFailed, "cannot attach periscope_inject to its sockhash") {
                bpf_prog_attach(inject, sockets, BPF_SK_MSG_VERDICT, 0)
            }
            messageAttachment = (inject, sockets)
            let cgroup = open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard cgroup >= 0 else {
                throw BPFError(.attachFailed, "cannot open the cgroup v2 hierarchy at \(cgroupPath); mount the host's cgroup2 there or pass its path", errno: errno)
            }
            defer { close(cgroup) }
            guard let socketLink = bpf_program__attach_cgroup(try program("periscope_sockops"), cgroup) else {
                throw BPFError(.attachFailed, "cannot attach periscope_sockops to the cgroup at \(cgroupPath)", errno: errno, libbpfLog: LibBPFLog.shared.drain())
            }
            links.append(socketLink)
        } catch {
            release()
            throw error
        }
    }

    deinit {
        release()
    }

    /// The server-context stage built for the tracer `variant`'s program type.
    static func serverContextStage(for variant: Tracer.Variant) -> String {
        variant == .btf ? "periscope_server_context" : "periscope_server_context_raw"
    }

    /// The descriptors of the maps with which the TLS probes decide a server request's context
    /// from its plaintext (bpf/include/periscope_server_context.h), by name.
    var serverContextMaps: [String: Int32] {
        [
            "propagation_config": settingsMap, "propagation_pids": pidsMap, "propagation_counters": countersMap,
            "thread_contexts": threadsMap,
        ]
    }

    /// Detaches and frees everything, once (a failed init and then deinit both call it).
    private func release() {
        guard !released else { return }
        released = true
        if let stageMap {
            var stage = UInt32(PERISCOPE_STAGE_SERVER_CONTEXT.rawValue)
            _ = bpf_map_delete_elem(stageMap, &stage)
            self.stageMap = nil
        }
        for link in links { bpf_link__destroy(link) }
        links.removeAll()
        if let attachment = messageAttachment {
            _ = bpf_prog_detach2(attachment.program, attachment.map, BPF_SK_MSG_VERDICT)
            messageAttachment = nil
        }
        bpf_object__close(object)
        image.deallocate()
    }

    /// Writes the settings into the programs' maps. The count of disabled PIDs the programs
    /// read (`disabled_pids`, at 0 they look none up) is never below what the map holds: the
    /// union of the PIDs before and after while it changes, then the new ones.
    public func apply(_ settings: PropagationSettings) throws(BPFError) {
        func write(disabled count: Int) throws(BPFError) {
            var zero: UInt32 = 0
            var value = periscope_propagation_config(
                root_threshold: settings.rootThreshold, enabled: settings.enabled ? 1 : 0,
                disabled_pids: UInt32(clamping: count)
            )
            try libbpfCall(.mapFailed, "cannot write the propagation settings") {
                bpf_map_update_elem(settingsMap, &zero, &value, UInt64(BPF_ANY))
            }
        }
        let changing = writtenDisabled.union(settings.disabledPIDs).count
        try write(disabled: changing)
        for pid in settings.disabledPIDs where !writtenDisabled.contains(pid) {
            var key = UInt32(bitPattern: pid)
            var off = UInt8(PERISCOPE_PROPAGATION_OFF.rawValue)
            try libbpfCall(.mapFailed, "cannot turn propagation off for pid \(pid)") {
                bpf_map_update_elem(pidsMap, &key, &off, UInt64(BPF_ANY))
            }
        }
        for pid in writtenDisabled where !settings.disabledPIDs.contains(pid) {
            var key = UInt32(bitPattern: pid)
            _ = bpf_map_delete_elem(pidsMap, &key)
        }
        writtenDisabled = settings.disabledPIDs
        if writtenDisabled.count != changing { try write(disabled: writtenDisabled.count) }
        self.settings = settings
    }

    /// Puts the TCP connection behind `descriptor` (this process's descriptor of a traced
    /// process's socket) into the sockhash, as `sock_ops` does with the connections traced
    /// processes open: from its next write, its HTTP/1 requests get `traceparent`. For the
    /// connections a process opened before it was traced. Whether it was put there: not when
    /// it is there already, or is not an established TCP connection.
    public func adopt(socket descriptor: Int32) -> Bool {
        var cookie: UInt64 = 0
        var length = socklen_t(MemoryLayout<UInt64>.size)
        guard getsockopt(descriptor, SOL_SOCKET, Self.socketCookieOption, &cookie, &length) == 0 else { return false }
        var value = UInt64(UInt32(bitPattern: descriptor))
        return bpf_map_update_elem(socketsMap, &cookie, &value, UInt64(BPF_NOEXIST)) == 0
    }

    /// Whether `sock_ops` marked the TCP connection behind `descriptor` (this process's
    /// descriptor of a traced process's socket) at its connect: it put the connection into the
    /// sockhash itself, and took it out for good if its context went into a TCP header option
    /// since. Not one to `adopt(socket:)`.
    public func sockOpsMarked(socket descriptor: Int32) -> Bool {
        // A socket's storage is looked up by a descriptor of this process.
        var socket = descriptor
        var mark = [UInt8](repeating: 0, count: markSize)
        return bpf_map_lookup_elem(marksMap, &socket, &mark) == 0
    }

    /// `SO_COOKIE`, which the C library's headers may not name.
    private static let socketCookieOption: Int32 = 57

    /// Sums the per-CPU counters.
    public func counters() -> PropagationCounters {
        let cpus = Int(max(libbpf_num_possible_cpus(), 1))
        var totals = [UInt64](repeating: 0, count: Int(PERISCOPE_PROP_COUNTER_COUNT.rawValue))
        var values = [UInt64](repeating: 0, count: cpus)
        for index in totals.indices {
            var key = UInt32(index)
            if bpf_map_lookup_elem(countersMap, &key, &values) == 0 {
                totals[index] = values.reduce(0, &+)
            }
        }
        func total(_ counter: periscope_propagation_counter) -> UInt64 { totals[Int(counter.rawValue)] }
        return PropagationCounters(
            headersInjected: total(PERISCOPE_PROP_INJECTED),
            optionsWritten: total(PERISCOPE_PROP_OPTIONS),
            serverContexts: total(PERISCOPE_PROP_SERVER_CONTEXTS),
            optionsRead: total(PERISCOPE_PROP_OPTIONS_READ),
            socketsLeft: total(PERISCOPE_PROP_SOCKETS_LEFT),
            untouchedCarryingTraceparent: total(PERISCOPE_PROP_KEPT_TRACEPARENT),
            untouchedSplitHead: total(PERISCOPE_PROP_SPLIT_HEAD),
            untouchedPipelined: total(PERISCOPE_PROP_PIPELINED),
            untouchedNoRoom: total(PERISCOPE_PROP_NO_ROOM),
            reportsLost: total(PERISCOPE_PROP_LOST)
        )
    }

    /// The first cgroup v2 mount in `mounts` (the text of `/proc/self/mounts`), or nil.
    public static func cgroup2MountPoint(mounts: String) -> String? {
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 3, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    /// The cgroup v2 hierarchy at `path` by `mounts` (the text of `/proc/self/mounts`): `path`
    /// itself when it is one, else its `unified` directory when that is (a host with a hybrid
    /// hierarchy, whose `/sys/fs/cgroup` the DaemonSet mounts), else `path` unchanged
    /// (attaching then says what is wrong).
    public static func cgroup2Hierarchy(at path: String, mounts: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var points: Set<Substring> = []
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 3, fields[2] == "cgroup2" { points.insert(fields[1]) }
        }
        if points.contains(Substring(trimmed)) { return trimmed }
        let unified = trimmed + "/unified"
        return points.contains(Substring(unified)) ? unified : path
    }
}

/// What `Propagation` writes into the traffic, set live.
public struct PropagationSettings: Sendable, Equatable {
    /// Whether anything is written at all.
    public var enabled: Bool
    /// Traced processes whose policy says `propagation: none`.
    public var disabledPIDs: Set<Int32>
    /// Roots the kernel begins are sampled when the last eight bytes of their trace id, read
    /// big-endian, are below this (the ratio samplers' rule); `UInt64.max`: always.
    public var rootThreshold: UInt64

    public init(enabled: Bool, disabledPIDs: Set<Int32> = [], rootThreshold: UInt64 = .max) {
        self.enabled = enabled
        self.disabledPIDs = disabledPIDs
        self.rootThreshold = rootThreshold
    }
}

/// Totals of the propagation programs' counters.
public struct PropagationCounters: Sendable, Equatable {
    /// `traceparent` lines written into outgoing HTTP/1 requests.
    public var headersInjected: UInt64 = 0
    /// Connections whose segments carry a TCP header option (their payload cannot be edited).
    public var optionsWritten: UInt64 = 0
    /// Server requests whose context the kernel decided when they were read.
    public var serverContexts: UInt64 = 0
    /// Of the contexts decided on the server side, those taken from a received TCP header option.
    public var optionsRead: UInt64 = 0
    /// Connections carrying the option taken out of the payload program's sockhash at their
    /// first segment: their writes and reads go the plain TCP way from then on.
    public var socketsLeft: UInt64 = 0
    /// Requests left untouched, by reason: they carried `traceparent` already; their head was
    /// not whole in one write; they followed another request in the same write; the kernel had
    /// no room to insert the line.
    public var untouchedCarryingTraceparent: UInt64 = 0
    public var untouchedSplitHead: UInt64 = 0
    public var untouchedPipelined: UInt64 = 0
    public var untouchedNoRoom: UInt64 = 0
    /// Context reports dropped because the ring buffer was full.
    public var reportsLost: UInt64 = 0

    public init(
        headersInjected: UInt64 = 0, optionsWritten: UInt64 = 0, serverContexts: UInt64 = 0, optionsRead: UInt64 = 0,
        socketsLeft: UInt64 = 0, untouchedCarryingTraceparent: UInt64 = 0, untouchedSplitHead: UInt64 = 0, untouchedPipelined: UInt64 = 0,
        untouchedNoRoom: UInt64 = 0, reportsLost: UInt64 = 0
    ) {
        self.headersInjected = headersInjected
        self.optionsWritten = optionsWritten
        self.serverContexts = serverContexts
        self.optionsRead = optionsRead
        self.socketsLeft = socketsLeft
        self.untouchedCarryingTraceparent = untouchedCarryingTraceparent
        self.untouchedSplitHead = untouchedSplitHead
        self.untouchedPipelined = untouchedPipelined
        self.untouchedNoRoom = untouchedNoRoom
        self.reportsLost = reportsLost
    }
}
