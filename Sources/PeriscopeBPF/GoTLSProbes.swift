import CLibBPF
import CPeriscopeBPF
import PeriscopeCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The Go crypto/tls probes of `bpf/gotls.bpf.c`, loaded beside a `Tracer` and sharing its
/// maps like `TLSProbes`. Each probed executable gets a slot in `gotls_binaries` holding
/// what the programs need to find a connection's descriptor in it; its probes (entry and
/// every return of Read, entry of Write) are one uprobe_multi link whose cookies carry the
/// slot. Releasing the links detaches them and frees the slot.
///
/// Thread-safe after init.
public final class GoTLSProbes: @unchecked Sendable {
    private let object: OpaquePointer
    private let image: UnsafeMutableRawBufferPointer
    private let program: Int32
    private let binaryMap: Int32
    private let counterMap: Int32
    private let freeSlots = Mutex<[UInt32]>(Array((0..<UInt32(PERISCOPE_GOTLS_MAX_BINARIES)).reversed()))

    public init(sharing tracer: Tracer) throws(BPFError) {
        LibBPFLog.install()
        let (object, image) = try BPFObjectImages.open("gotls")
        self.object = object
        self.image = image
        do throws(BPFError) {
            var current = bpf_object__next_program(object, nil)
            while let program = current {
                let name = String(cString: bpf_program__name(program))
                if name == "periscope_gotls_probe" {
                    try libbpfCall(.loadFailed, "cannot make \(name) a uprobe_multi program") {
                        bpf_program__set_expected_attach_type(program, bpf_attach_type(rawValue: UInt32(CPERISCOPEBPF_TRACE_UPROBE_MULTI)))
                    }
                } else {
                    try libbpfCall(.loadFailed, "cannot leave \(name) out") { bpf_program__set_autoload(program, false) }
                }
                current = bpf_object__next_program(object, program)
            }
            for name in TLSProbes.sharedMaps {
                guard let mine = bpf_object__find_map_by_name(object, name),
                      let theirs = bpf_object__find_map_by_name(tracer.object, name) else {
                    throw BPFError(.mapFailed, "map `\(name)` missing from the tracer or the Go TLS probes")
                }
                try libbpfCall(.mapFailed, "cannot share the tracer's map `\(name)`") { bpf_map__reuse_fd(mine, bpf_map__fd(theirs)) }
            }
            try libbpfCall(.loadFailed, "the kernel refused the Go TLS probes (libbpf's log above gives the verifier's reason)") { bpf_object__load(object) }
            guard let program = bpf_object__find_program_by_name(object, "periscope_gotls_probe"),
                  let binaries = bpf_object__find_map_by_name(object, "gotls_binaries"),
                  let counters = bpf_object__find_map_by_name(object, "gotls_counters") else {
                throw BPFError(.loadFailed, "gotls.bpf.o lacks its program or maps")
            }
            self.program = bpf_program__fd(program)
            binaryMap = bpf_map__fd(binaries)
            counterMap = bpf_map__fd(counters)
        } catch {
            bpf_object__close(object)
            image.deallocate()
            throw error
        }
    }

    deinit {
        bpf_object__close(object)
        image.deallocate()
    }

    /// Puts `plan`'s probes on the executable at `path` (any path that reaches it, e.g.
    /// through `/proc/<pid>/root`). The probes stay until the returned links are released.
    public func attach(_ plan: GoTLSProbePlan, path: String) throws(BPFError) -> TLSProbeLinks {
        guard let slot = freeSlots.withLock({ $0.popLast() }) else {
            throw BPFError(.attachFailed, "\(PERISCOPE_GOTLS_MAX_BINARIES) Go executables are probed already")
        }
        var binary = periscope_gotls_binary()
        binary.read_address = plan.readAddress
        binary.write_address = plan.writeAddress
        binary.tcp_conn_itab = plan.tcpConnItab ?? 0
        binary.conn_in_tls_conn = UInt32(plan.offsets.connInTLSConn)
        binary.fd_in_conn = UInt32(plan.offsets.fdInConn)
        binary.pfd_in_net_fd = UInt32(plan.offsets.pfdInNetFD)
        binary.sysfd_in_fd = UInt32(plan.offsets.sysfdInFD)
        var key = slot
        guard bpf_map_update_elem(binaryMap, &key, &binary, UInt64(BPF_ANY)) == 0 else {
            let error = errno
            freeSlots.withLock { $0.append(slot) }
            throw BPFError(.mapFailed, "cannot describe \(path) to the Go TLS probes", errno: error)
        }
        let offsets = plan.probes.map(\.offset)
        let cookies = plan.probes.map { UInt64(slot) << 8 | $0.kind.rawValue }
        let fd = CPeriscopeBPF_uprobe_multi_link(program, path, offsets, cookies, UInt32(offsets.count), 0)
        guard fd >= 0 else {
            freeSlots.withLock { $0.append(slot) }
            throw BPFError(.attachFailed, "cannot attach Go TLS probes to \(path)", errno: -fd)
        }
        return TLSProbeLinks(fds: [fd]) { [self] in
            // The link is closed first: no probe reads the slot once it is reused.
            freeSlots.withLock { $0.append(slot) }
        }
    }

    /// Sums the per-CPU counters.
    public func counters() -> GoTLSCounters {
        let cpus = Int(max(libbpf_num_possible_cpus(), 1))
        var totals = [UInt64](repeating: 0, count: Int(PERISCOPE_GOTLS_COUNTER_COUNT.rawValue))
        var values = [UInt64](repeating: 0, count: cpus)
        for index in totals.indices {
            var key = UInt32(index)
            if bpf_map_lookup_elem(counterMap, &key, &values) == 0 {
                totals[index] = values.reduce(0, &+)
            }
        }
        return GoTLSCounters(
            plaintextEvents: totals[Int(PERISCOPE_GOTLS_COUNTER_PLAINTEXT.rawValue)],
            notTCP: totals[Int(PERISCOPE_GOTLS_COUNTER_NOT_TCP.rawValue)],
            unreadable: totals[Int(PERISCOPE_GOTLS_COUNTER_UNREADABLE.rawValue)],
            callsLost: totals[Int(PERISCOPE_GOTLS_COUNTER_CALLS_LOST.rawValue)]
        )
    }
}

/// What the Go TLS probes counted in the kernel.
public struct GoTLSCounters: Sendable, Equatable {
    /// Plaintext events written.
    public var plaintextEvents: UInt64
    /// Calls on a `tls.Conn` over something other than a `*net.TCPConn`: not followed.
    public var notTCP: UInt64
    /// Calls whose way to the descriptor could not be read: not followed.
    public var unreadable: UInt64
    /// Reads not followed because too many goroutines were inside one at once.
    public var callsLost: UInt64

    public init(plaintextEvents: UInt64 = 0, notTCP: UInt64 = 0, unreadable: UInt64 = 0, callsLost: UInt64 = 0) {
        self.plaintextEvents = plaintextEvents
        self.notTCP = notTCP
        self.unreadable = unreadable
        self.callsLost = callsLost
    }
}
