import CLibBPF
import CPeriscopeBPF
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The loaded and attached kernel programs of `bpf/tracer.bpf.c`: owns the BPF object,
/// its links and the ring buffer reader. Everything is detached and freed in `deinit`.
///
/// Not thread-safe: one thread polls and configures.
public final class Tracer {
    let object: OpaquePointer
    /// The ELF image libbpf opened the object from; kept for as long as the object lives.
    private let image: UnsafeMutableRawBufferPointer
    private var links: [OpaquePointer] = []
    private var ringBuffer: OpaquePointer?
    /// Size of the event ring buffer.
    public let ringBufferBytes: Int
    private let maps: Maps
    /// The `config` map's writer, shared with the TLS probes.
    let configuration: TracerConfiguration
    private var handler: Handler
    /// PIDs currently written into the target and excluded maps by `apply(_:)`.
    private var writtenTargets: [Int32: KernelFilter.Inheritance] = [:]
    private var writtenExcluded: Set<Int32> = []
    private var writtenExecutableNames: Set<[UInt8]> = []

    private struct Maps {
        var config: Int32
        var ports: Int32
        var targets: Int32
        var excluded: Int32
        var counters: Int32
        var events: Int32
        var executableNames: Int32
        var sysExitStages: Int32
        var readContextHandoff: Int32
        var writeContextHandoffs: Int32
        var pidSlots: Int32
        var socketSlots: Int32
    }

    /// The `pid_slots` array mapped into this process: the counts of the target and excluded
    /// maps' PIDs by slot, which every insertion or deletion that succeeds updates.
    private let pidSlots: UnsafeMutablePointer<UInt64>
    private static let pidSlotsBytes = 2 * Int(PERISCOPE_PID_SLOTS) * MemoryLayout<UInt64>.stride

    /// Receives raw ring buffer records during `poll`: the ring buffer's context.
    private final class Handler {
        /// Where the poll under way delivers, held by `poll` meanwhile. Reached without a
        /// reference count changing per record: neither this nor the consumer is retained
        /// for the call (a class reference loaded from a variable would be).
        var delivery: Unmanaged<Delivery>?
    }

    /// Calls a consumer of records, its type known: the handler's way to it.
    private class Delivery {
        func deliver(_ record: UnsafeRawBufferPointer) {}
    }

    private final class ConsumerDelivery<Consumer: RecordConsumer>: Delivery {
        private let consumer: Unmanaged<Consumer>

        /// Holds nothing: `poll` holds `consumer` until the delivery is gone.
        init(_ consumer: Consumer) {
            self.consumer = .passUnretained(consumer)
        }

        override func deliver(_ record: UnsafeRawBufferPointer) {
            consumer._withUnsafeGuaranteedRef { $0.consume(record: record) }
        }
    }

    /// Hands the records of a poll to a closure, for readers without an object of their own.
    private final class ClosureConsumer: RecordConsumer {
        let body: (UnsafeRawBufferPointer) -> Void

        init(_ body: @escaping (UnsafeRawBufferPointer) -> Void) {
            self.body = body
        }

        func consume(record: UnsafeRawBufferPointer) { body(record) }
    }

    /// The two builds of `bpf/tracer.bpf.c`.
    public enum Variant: String, Sendable, CaseIterable {
        /// Kernel memory read through BTF-typed pointers (Linux 6.2+): the fast path.
        case btf = "tracer"
        /// Every kernel read through `bpf_probe_read_kernel`, for older kernels.
        case compat = "tracer_compat"
    }

    /// Names of the programs, as attached.
    public private(set) var attachedPrograms: [String] = []
    public let variant: Variant

    /// Loads and attaches the fastest variant this kernel accepts.
    /// - Parameter beforeAttach: called with each loaded variant before its programs are
    ///   attached, for programs that share its maps and must run ahead of it.
    /// - Returns: the tracer and, when it fell back, why the faster variant was refused.
    public static func loadAndAttach(
        ringBufferBytes: Int = 4 << 20, beforeAttach: (Tracer) -> Void = { _ in }
    ) throws(BPFError) -> (Tracer, fallbackReason: BPFError?) {
        var refused: BPFError?
        for variant in Variant.allCases {
            do throws(BPFError) {
                let tracer = try Tracer(ringBufferBytes: ringBufferBytes, variant: variant)
                beforeAttach(tracer)
                try tracer.attach()
                return (tracer, refused)
            } catch {
                if refused == nil { refused = error } else { throw error }
            }
        }
        throw refused ?? BPFError(.loadFailed, "no tracer variant to load")
    }

    /// Opens and loads the compiled tracer (verifier included) without attaching it.
    /// - Parameter ringBufferBytes: size of the event ring buffer; a power of two, ≥ one page.
    public init(ringBufferBytes: Int = 4 << 20, variant: Variant = .btf) throws(BPFError) {
        LibBPFLog.install()
        self.ringBufferBytes = ringBufferBytes
        self.variant = variant
        let path = "\(variant.rawValue).bpf.o"
        let (object, image) = try BPFObjectImages.open(variant.rawValue)
        self.object = object
        self.image = image
        do throws(BPFError) {
            guard let events = bpf_object__find_map_by_name(object, "events") else {
                throw BPFError(.mapFailed, "map `events` missing from \(path)")
            }
            try libbpfCall(.mapFailed, "cannot size the ring buffer to \(ringBufferBytes) bytes") {
                bpf_map__set_max_entries(events, UInt32(clamping: ringBufferBytes))
            }
            try libbpfCall(.loadFailed, "the kernel refused the \(variant.rawValue) programs") { bpf_object__load(object) }
            func fd(_ name: String) throws(BPFError) -> Int32 {
                guard let map = bpf_object__find_map_by_name(object, name) else {
                    throw BPFError(.mapFailed, "map `\(name)` missing from \(path)")
                }
                return bpf_map__fd(map)
            }
            let stages = try fd("sys_exit_stages")
            maps = Maps(
                config: try fd("config"), ports: try fd("ports"), targets: try fd("target_pids"),
                excluded: try fd("excluded_pids"), counters: try fd("counters"), events: try fd("events"),
                executableNames: try fd("exec_names"), sysExitStages: stages,
                readContextHandoff: try fd("read_context_handoff"), writeContextHandoffs: try fd("write_context_handoffs"),
                pidSlots: try fd("pid_slots"), socketSlots: try fd("socket_slots")
            )
            let mapped = mmap(nil, Self.pidSlotsBytes, PROT_READ | PROT_WRITE, MAP_SHARED, maps.pidSlots, 0)
            guard let mapped, mapped != MAP_FAILED else {
                throw BPFError(.mapFailed, "cannot map pid_slots into memory", errno: errno)
            }
            pidSlots = mapped.bindMemory(to: UInt64.self, capacity: 2 * Int(PERISCOPE_PID_SLOTS))
            // The capture stage of sys_exit, which the one attached sys_exit program calls.
            guard let capture = bpf_object__find_program_by_name(object, Self.captureStage) else {
                throw BPFError(.loadFailed, "program \(Self.captureStage) missing from \(path)")
            }
            var stage = UInt32(PERISCOPE_STAGE_CAPTURE.rawValue)
            var program = bpf_program__fd(capture)
            try libbpfCall(.loadFailed, "cannot make \(Self.captureStage) a stage of sys_exit") {
                bpf_map_update_elem(stages, &stage, &program, UInt64(BPF_ANY))
            }
        } catch {
            bpf_object__close(object)
            image.deallocate()
            throw error
        }
        configuration = TracerConfiguration(map: maps.config)
        handler = Handler()
        // Nothing passes until a filter is applied.
        try apply(KernelFilter(allProcesses: false))
    }

    deinit {
        munmap(pidSlots, Self.pidSlotsBytes)
        if let ringBuffer { ring_buffer__free(ringBuffer) }
        for link in links { bpf_link__destroy(link) }
        bpf_object__close(object)
        image.deallocate()
    }

    /// The program sys_exit's attached program calls for a selected process (a stage, not attached).
    static let captureStage = "periscope_sys_exit_capture"

    /// Attaches every program of the object to its tracepoint, except the stages the attached
    /// sys_exit program calls.
    public func attach() throws(BPFError) {
        var program = bpf_object__next_program(object, nil)
        while let current = program {
            let name = String(cString: bpf_program__name(current))
            if name == Self.captureStage {
                program = bpf_object__next_program(object, current)
                continue
            }
            guard let link = bpf_program__attach(current) else {
                throw BPFError(
                    .attachFailed, "cannot attach program \(name) (section \(String(cString: bpf_program__section_name(current))))",
                    errno: errno, libbpfLog: LibBPFLog.shared.drain()
                )
            }
            links.append(link)
            attachedPrograms.append(name)
            program = bpf_object__next_program(object, current)
        }
    }

    /// The descriptors of the maps other kernel programs share with the tracer, by name.
    var sharedMaps: [String: Int32] {
        [
            "events": maps.events, "config": maps.config, "ports": maps.ports, "target_pids": maps.targets,
            "excluded_pids": maps.excluded, "pid_slots": maps.pidSlots, "sys_exit_stages": maps.sysExitStages,
            "read_context_handoff": maps.readContextHandoff, "write_context_handoffs": maps.writeContextHandoffs,
            "socket_slots": maps.socketSlots,
        ]
    }

    /// Detaches every program; the maps stay readable until the tracer is released.
    public func detach() {
        for link in links { bpf_link__destroy(link) }
        links.removeAll()
        attachedPrograms.removeAll()
    }

    /// `pid` called exec: the kernel ended its selection if it was selected for its
    /// executable (`KernelFilter.Inheritance.sameExecutable`), so the next `apply(_:)` writes
    /// it again if it still matches. Returns whether it did.
    @discardableResult
    public func processExecuted(_ pid: Int32) -> Bool {
        guard writtenTargets[pid] == .sameExecutable else { return false }
        writtenTargets[pid] = nil
        return true
    }

    /// Writes a filter into the maps. With `prune` false, PIDs the kernel added itself
    /// (children inheriting selection or exclusion) and PIDs no longer listed are kept;
    /// with `prune` true the maps end up holding exactly the filter's PIDs.
    public func apply(_ filter: KernelFilter, prune: Bool = true) throws(BPFError) {
        var zero: UInt32 = 0
        var config = filter.config
        // Shed new connections and requests once half the ring buffer waits to be read:
        // the other half absorbs what exchanges already being captured still write.
        config.shed_bytes = filter.shedsUnderLoad ? UInt32(clamping: ringBufferBytes / 2) : 0
        try configuration.write(config)
        let words = Int(PERISCOPE_PORT_WORDS)
        var bitmap = filter.portBitmap ?? [UInt64](repeating: 0, count: words)
        precondition(bitmap.count == words, "port bitmap has \(words) words")
        try libbpfCall(.mapFailed, "cannot write the port filter") {
            bpf_map_update_elem(maps.ports, &zero, &bitmap, UInt64(BPF_ANY))
        }
        // Exclusions first, so nothing excluded is ever briefly a target.
        for pid in filter.excluded where !writtenExcluded.contains(pid) {
            try libbpfCall(.mapFailed, "cannot exclude pid \(pid)") {
                put(pid, 1, in: maps.excluded, slots: UInt32(PERISCOPE_PID_SLOTS_EXCLUDED))
            }
        }
        for (pid, inheritance) in filter.targets where writtenTargets[pid] != inheritance {
            try libbpfCall(.mapFailed, "cannot target pid \(pid)") {
                put(pid, inheritance.kernelValue, in: maps.targets, slots: UInt32(PERISCOPE_PID_SLOTS_TARGETS))
            }
        }
        try writeExecutableNames(filter.executableNames)
        if prune {
            deleteKeys(from: maps.targets, slots: UInt32(PERISCOPE_PID_SLOTS_TARGETS)) { filter.targets[$0] == nil }
            deleteKeys(from: maps.excluded, slots: UInt32(PERISCOPE_PID_SLOTS_EXCLUDED)) { !filter.excluded.contains($0) }
        }
        writtenTargets = filter.targets
        writtenExcluded = filter.excluded
    }

    /// The exec_names map made to hold exactly `names`, each cut to its key's bytes.
    private func writeExecutableNames(_ names: Set<String>) throws(BPFError) {
        let keys = Set(names.map { Array($0.utf8.prefix(KernelFilter.executableNameBytes)) }.filter { !$0.isEmpty && !$0.contains(0) })
        guard keys != writtenExecutableNames else { return }
        func padded(_ name: [UInt8]) -> [UInt8] { name + [UInt8](repeating: 0, count: Int(PERISCOPE_EXEC_NAME_KEY) - name.count) }
        for name in writtenExecutableNames.subtracting(keys) {
            var key = padded(name)
            _ = bpf_map_delete_elem(maps.executableNames, &key)
        }
        for name in keys.subtracting(writtenExecutableNames) {
            var key = padded(name)
            var one: UInt8 = 1
            try libbpfCall(.mapFailed, "cannot select executables named \(String(decoding: name, as: UTF8.self)) at exec") {
                bpf_map_update_elem(maps.executableNames, &key, &one, UInt64(BPF_ANY))
            }
        }
        writtenExecutableNames = keys
    }

    /// `pid` was selected by the kernel (at exec for its executable's name, or by inheriting
    /// such a selection) and the policy does not select it after all: undone.
    public func deselect(_ pid: Int32) {
        delete(UInt32(bitPattern: pid), from: maps.targets, slots: UInt32(PERISCOPE_PID_SLOTS_TARGETS))
        if writtenTargets[pid] != nil { writtenTargets[pid] = nil }
    }

    /// Puts `pid` in a PID map with `value` (or sets the value of the entry there), counting a
    /// new entry in its slot as the kernel programs do (`pid_slots`). 0, or -errno.
    private func put(_ pid: Int32, _ value: UInt8, in map: Int32, slots: UInt32) -> Int32 {
        var key = UInt32(bitPattern: pid)
        var value = value
        var result: Int32 = 0
        // The kernel programs add and delete entries meanwhile (fork, exec, exit): a few tries.
        for _ in 0..<4 {
            result = bpf_map_update_elem(map, &key, &value, UInt64(BPF_NOEXIST))
            if result == 0 {
                CPeriscopeBPF_atomic_add(pidSlots + Int(slots + periscope_pid_slot(key)), 1)
                return 0
            }
            guard result == -EEXIST else { return result }
            result = bpf_map_update_elem(map, &key, &value, UInt64(BPF_EXIST))
            guard result == -ENOENT else { return result }
        }
        return result
    }

    /// The `pid_slots` counts (target slots, then excluded ones) and the PIDs of the two maps
    /// they count, for tests: each count is how many of those PIDs hash to its slot.
    func pidSlotCounts() -> (counts: [UInt64], targets: [UInt32], excluded: [UInt32]) {
        func keys(_ map: Int32) -> [UInt32] {
            var keys: [UInt32] = []
            var key: UInt32 = 0
            var next: UInt32 = 0
            while (keys.isEmpty ? bpf_map_get_next_key(map, nil, &next) : bpf_map_get_next_key(map, &key, &next)) == 0 {
                keys.append(next)
                key = next
            }
            return keys
        }
        let counts = Array(UnsafeBufferPointer(start: pidSlots, count: 2 * Int(PERISCOPE_PID_SLOTS)))
        return (counts, keys(maps.targets), keys(maps.excluded))
    }

    /// Deletes `key` from a PID map, uncounting it from its slot when it was there.
    private func delete(_ key: UInt32, from map: Int32, slots: UInt32) {
        var key = key
        if bpf_map_delete_elem(map, &key) == 0 {
            CPeriscopeBPF_atomic_add(pidSlots + Int(slots + periscope_pid_slot(key)), -1)
        }
    }

    private func deleteKeys(from map: Int32, slots: UInt32, where shouldDelete: (Int32) -> Bool) {
        var stale: [UInt32] = []
        var key: UInt32 = 0
        var next: UInt32 = 0
        var hasKey = false
        while true {
            let result = hasKey
                ? bpf_map_get_next_key(map, &key, &next)
                : bpf_map_get_next_key(map, nil, &next)
            if result != 0 { break }
            if shouldDelete(Int32(bitPattern: next)) { stale.append(next) }
            key = next
            hasKey = true
        }
        for pid in stale { delete(pid, from: map, slots: slots) }
    }

    /// Whether the kernel programs look for TLS library calls now (`PERISCOPE_FLAG_TLS_PROBES`
    /// in the `config` map): only while TLS probes are attached.
    public var looksForTLSCalls: Bool {
        var zero: UInt32 = 0
        var config = periscope_config()
        guard bpf_map_lookup_elem(maps.config, &zero, &config) == 0 else { return false }
        return config.flags & UInt32(PERISCOPE_FLAG_TLS_PROBES.rawValue) != 0
    }

    /// Sums the per-CPU counters.
    public func counters() -> KernelCounters {
        let cpus = Int(max(libbpf_num_possible_cpus(), 1))
        var totals = [UInt64](repeating: 0, count: Int(PERISCOPE_COUNTER_COUNT.rawValue))
        var values = [UInt64](repeating: 0, count: cpus)
        for index in totals.indices {
            var key = UInt32(index)
            if bpf_map_lookup_elem(maps.counters, &key, &values) == 0 {
                totals[index] = values.reduce(0, &+)
            }
        }
        return KernelCounters(
            submitted: totals[Int(PERISCOPE_COUNTER_SUBMITTED.rawValue)],
            lost: totals[Int(PERISCOPE_COUNTER_LOST.rawValue)],
            truncated: totals[Int(PERISCOPE_COUNTER_TRUNCATED.rawValue)],
            shedConnections: totals[Int(PERISCOPE_COUNTER_SHED_CONNECTIONS.rawValue)],
            shedRequests: totals[Int(PERISCOPE_COUNTER_SHED_REQUESTS.rawValue)],
            shedEvents: totals[Int(PERISCOPE_COUNTER_SHED_EVENTS.rawValue)]
        )
    }

    /// A watch of the event ring buffer's positions and wakeups, for another thread.
    public func watch() throws(BPFError) -> RingBufferWatch {
        try RingBufferWatch(mapDescriptor: maps.events)
    }

    /// Waits up to `timeoutMilliseconds` for records, then hands every waiting record to
    /// `body` in order. Returns the number of records consumed.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, _ body: (UnsafeRawBufferPointer) -> Void) throws(BPFError) -> Int {
        try withoutActuallyEscaping(body) { (body) throws(BPFError) in
            try poll(timeoutMilliseconds: timeoutMilliseconds, into: ClosureConsumer(body))
        }
    }

    /// Waits up to `timeoutMilliseconds` for records, then hands every waiting record to
    /// `consumer` in order. Returns the number of records consumed.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, into consumer: some RecordConsumer) throws(BPFError) -> Int {
        let delivery = ConsumerDelivery(consumer)
        handler.delivery = .passUnretained(delivery)
        defer {
            handler.delivery = nil
            withExtendedLifetime((delivery, consumer)) {}
        }
        if ringBuffer == nil {
            let context = Unmanaged.passUnretained(handler).toOpaque()
            ringBuffer = ring_buffer__new(maps.events, { context, data, size in
                guard let context, let data else { return 0 }
                // Borrowed where they are: the tracer holds the handler and `poll` the consumer.
                Unmanaged<Handler>.fromOpaque(context)._withUnsafeGuaranteedRef { handler in
                    handler.delivery?._withUnsafeGuaranteedRef { $0.deliver(UnsafeRawBufferPointer(start: data, count: size)) }
                }
                return 0
            }, context, nil)
            guard ringBuffer != nil else {
                throw BPFError(.ringBufferFailed, "cannot open the event ring buffer", errno: errno)
            }
        }
        // The kernel submits without waking us until enough has queued, so waiting
        // ends at the timeout or on that wakeup; either way everything queued is consumed.
        let woken = ring_buffer__poll(ringBuffer, timeoutMilliseconds)
        if woken < 0, -woken != EINTR {
            throw BPFError(.ringBufferFailed, "polling the event ring buffer failed", errno: -woken)
        }
        let consumed = ring_buffer__consume(ringBuffer)
        if consumed < 0 {
            throw BPFError(.ringBufferFailed, "reading the event ring buffer failed", errno: -consumed)
        }
        return Int(max(woken, 0) + consumed)
    }
}
