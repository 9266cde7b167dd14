import CLibBPF
import CPeriscopeBPF
import PeriscopeCore
#if canImport(Glibc)
import Glibc
#endif

/// The TLS library probes of `bpf/tls.bpf.c`, loaded beside a `Tracer` and sharing its maps
/// (ring buffer, selection, configuration, per-socket state, HTTP/2 frame walks), so that
/// plaintext events go the same way as the socket's. `attach(_:path:)` puts one file's
/// probes in place through uprobe_multi links, which need CAP_BPF and CAP_PERFMON only
/// (uprobes through the perf PMU need CAP_SYS_ADMIN since the fix for CVE-2025-38466).
///
/// Thread-safe after init: attaching makes links and reads counters, nothing else.
public final class TLSProbes: @unchecked Sendable {
    private let object: OpaquePointer
    /// The ELF image libbpf opened the object from; kept for as long as the object lives.
    private let image: UnsafeMutableRawBufferPointer
    private let enterProgram: Int32
    private let returnProgram: Int32
    private let counterMap: Int32
    /// The tracer's configuration, which says while probes are attached (the tracer's
    /// transfers look for TLS calls only then).
    private let configuration: TracerConfiguration
    /// The Go crypto/tls probes, loaded with these; nil (with `goUnavailable` saying why)
    /// where the kernel refused them.
    public let go: GoTLSProbes?
    public let goUnavailable: BPFError?

    /// The tracer's maps this object uses instead of its own.
    static let sharedMaps = [
        "events", "config", "ports", "target_pids", "excluded_pids", "pid_slots", "counters", "sockets", "socket_slots", "tls_calls", "tls_sessions",
        "tls_socket_sessions", "tls_threads", "tls_counters", "frame_walks", "read_context_handoff", "write_context_handoffs",
    ]

    /// With `propagation`, a traced server thread's request read through TLS gets its context
    /// decided in the kernel as a cleartext one does, so the calls it makes carry it.
    public init(sharing tracer: Tracer, propagation: Propagation? = nil) throws(BPFError) {
        LibBPFLog.install()
        let path = "tls.bpf.o"
        let (object, image) = try BPFObjectImages.open("tls")
        self.object = object
        self.image = image
        do throws(BPFError) {
            var program = bpf_object__next_program(object, nil)
            while let current = program {
                let name = String(cString: bpf_program__name(current))
                if name.hasPrefix("periscope_tls_") {
                    try libbpfCall(.loadFailed, "cannot make \(name) a uprobe_multi program") {
                        bpf_program__set_expected_attach_type(current, bpf_attach_type(rawValue: UInt32(CPERISCOPEBPF_TRACE_UPROBE_MULTI)))
                    }
                } else {
                    // The tracer's programs come with the include; the tracer runs them.
                    try libbpfCall(.loadFailed, "cannot leave \(name) out") { bpf_program__set_autoload(current, false) }
                }
                program = bpf_object__next_program(object, current)
            }
            for name in Self.sharedMaps {
                guard let mine = bpf_object__find_map_by_name(object, name),
                      let theirs = bpf_object__find_map_by_name(tracer.object, name) else {
                    throw BPFError(.mapFailed, "map `\(name)` missing from the tracer or the TLS probes")
                }
                try libbpfCall(.mapFailed, "cannot share the tracer's map `\(name)`") { bpf_map__reuse_fd(mine, bpf_map__fd(theirs)) }
            }
            for (name, descriptor) in propagation?.serverContextMaps ?? [:] {
                guard let mine = bpf_object__find_map_by_name(object, name) else {
                    throw BPFError(.mapFailed, "map `\(name)` missing from the TLS probes")
                }
                try libbpfCall(.mapFailed, "cannot share the propagation map `\(name)`") { bpf_map__reuse_fd(mine, descriptor) }
            }
            try libbpfCall(.loadFailed, "the kernel refused the TLS probes (libbpf's log above gives the verifier's reason)") { bpf_object__load(object) }
            func programFD(_ name: String) throws(BPFError) -> Int32 {
                guard let program = bpf_object__find_program_by_name(object, name) else {
                    throw BPFError(.loadFailed, "program \(name) missing from \(path)")
                }
                return bpf_program__fd(program)
            }
            enterProgram = try programFD("periscope_tls_enter")
            returnProgram = try programFD("periscope_tls_return")
            guard let counters = bpf_object__find_map_by_name(object, "tls_counters") else {
                throw BPFError(.mapFailed, "map `tls_counters` missing from \(path)")
            }
            counterMap = bpf_map__fd(counters)
            configuration = tracer.configuration
        } catch {
            bpf_object__close(object)
            image.deallocate()
            throw error
        }
        do throws(BPFError) {
            go = try GoTLSProbes(sharing: tracer)
            goUnavailable = nil
        } catch {
            go = nil
            goUnavailable = error
        }
    }

    deinit {
        bpf_object__close(object)
        image.deallocate()
    }

    /// Puts `plan`'s probes on the file at `path` (any path that reaches it, e.g. through
    /// `/proc/<pid>/root`): every process mapping that file hits them, the programs keep
    /// only selected processes. The probes stay until the returned links are released.
    public func attach(_ plan: TLSProbePlan, path: String) throws(BPFError) -> TLSProbeLinks {
        var fds: [Int32] = []
        // Before the probes can see a call: the tracer then looks for calls at every transfer.
        try configuration.tlsProbesAttaching()
        do throws(BPFError) {
            for (program, probes, flags) in [
                (enterProgram, plan.entries, UInt32(0)),
                (returnProgram, plan.returns, UInt32(CPERISCOPEBPF_UPROBE_MULTI_RETURN)),
            ] where !probes.isEmpty {
                let offsets = probes.map(\.offset)
                let cookies = probes.map(\.function.rawValue)
                let fd = CPeriscopeBPF_uprobe_multi_link(program, path, offsets, cookies, UInt32(probes.count), flags)
                guard fd >= 0 else {
                    throw BPFError(.attachFailed, "cannot attach TLS probes to \(path)", errno: -fd)
                }
                fds.append(fd)
            }
        } catch {
            for fd in fds { close(fd) }
            configuration.tlsProbesDetached()
            throw error
        }
        // Closed first: no probe sees a call once the tracer stops looking for them.
        return TLSProbeLinks(fds: fds) { [configuration] in configuration.tlsProbesDetached() }
    }

    /// Sums the per-CPU TLS counters.
    public func counters() -> TLSCounters {
        let cpus = Int(max(libbpf_num_possible_cpus(), 1))
        var totals = [UInt64](repeating: 0, count: Int(PERISCOPE_TLS_COUNTER_COUNT.rawValue))
        var values = [UInt64](repeating: 0, count: cpus)
        for index in totals.indices {
            var key = UInt32(index)
            if bpf_map_lookup_elem(counterMap, &key, &values) == 0 {
                totals[index] = values.reduce(0, &+)
            }
        }
        return TLSCounters(
            plaintextEvents: totals[Int(PERISCOPE_TLS_COUNTER_PLAINTEXT.rawValue)],
            recordTransfers: totals[Int(PERISCOPE_TLS_COUNTER_CIPHERTEXT.rawValue)],
            unboundSessions: totals[Int(PERISCOPE_TLS_COUNTER_UNBOUND.rawValue)],
            callsLost: totals[Int(PERISCOPE_TLS_COUNTER_CALLS_LOST.rawValue)],
            sessionsBoundAround: totals[Int(PERISCOPE_TLS_COUNTER_BOUND_AROUND.rawValue)]
        )
    }
}

/// The links of one file's TLS probes; released, they detach.
public final class TLSProbeLinks: @unchecked Sendable {
    private let fds: [Int32]
    private let detached: (() -> Void)?

    init(fds: [Int32], detached: (() -> Void)? = nil) {
        self.fds = fds
        self.detached = detached
    }

    deinit {
        for fd in fds { close(fd) }
        detached?()
    }
}

/// What the TLS probes counted in the kernel.
public struct TLSCounters: Sendable, Equatable {
    /// Plaintext events written.
    public var plaintextEvents: UInt64
    /// Socket transfers of TLS records (inside TLS calls, or on a socket whose records move
    /// outside them): counted, not captured.
    public var recordTransfers: UInt64
    /// Plaintext calls of sessions never seen moving bytes on a selected socket: connections
    /// a port filter leaves out, sessions probed after their handshake, or a library doing
    /// its I/O elsewhere. Dropped.
    public var unboundSessions: UInt64
    /// Calls not followed because too many threads were inside TLS calls at once.
    public var callsLost: UInt64
    /// Sessions bound to a socket from the records their thread moved around their calls
    /// (libraries fed through memory buffers, as Node.js does), rebinds included.
    public var sessionsBoundAround: UInt64

    public init(
        plaintextEvents: UInt64 = 0, recordTransfers: UInt64 = 0, unboundSessions: UInt64 = 0, callsLost: UInt64 = 0,
        sessionsBoundAround: UInt64 = 0
    ) {
        self.plaintextEvents = plaintextEvents
        self.recordTransfers = recordTransfers
        self.unboundSessions = unboundSessions
        self.callsLost = callsLost
        self.sessionsBoundAround = sessionsBoundAround
    }
}
