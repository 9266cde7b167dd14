import Logging
import PeriscopeBPF
import PeriscopeCore

/// The agent's single capture thread: polls the ring buffer, turns events into spans,
/// and between polls follows the policy file and the process table. Everything that
/// touches the tracer, the connection tracker and the selection happens here, so none
/// of it needs a lock.
///
/// The state touched for every record is `@exclusivity(unchecked)`: only this thread ever
/// reaches it, and no method takes one of these properties `inout` while another touches it
/// again, so the run-time check Swift makes at each access of a class's stored property (seven
/// per record and nine per span, about 5% of the thread's instructions) proves nothing here.
final class CaptureLoop: RecordConsumer {
    private let configuration: AgentConfiguration
    private let tracer: Tracer
    /// Trace context written into traffic; nil where the kernel or the capabilities do not allow it.
    private let propagation: Propagation?
    private let sink: SpanSink
    private let control: AgentControl
    private let logger: Logger
    private let procfs: ProcFS
    private let selfPID: Int32

    /// The policies in force.
    @exclusivity(unchecked) private var policies: PolicySet {
        didSet { onlyPolicyID = policies.id(ofOwner: nil) }
    }
    /// The id every span gets when one policy is in force (nil with none or several).
    @exclusivity(unchecked) private var onlyPolicyID: PolicyID?
    /// The kernel filter's, selection's and pipeline's policy: the policies merged.
    private var policy: Policy { policies.merged }
    /// Which policy each process follows, when there are several.
    @exclusivity(unchecked) private var assignment: PolicyAssignment {
        didSet { forgetRecentPIDs() }
    }
    private var policyFile: PolicyFile?
    @exclusivity(unchecked) private var tracker: ConnectionTracker
    /// One per policy in force, in order, when there are several; `mergedPipeline` serves
    /// processes none of them claims, and every process when there is one policy.
    @exclusivity(unchecked) private var pipelines: [SpanPipeline] = []
    @exclusivity(unchecked) private var mergedPipeline: SpanPipeline
    /// Counts of pipelines replaced by policy changes.
    private var retiredPipelineCounters = SpanPipeline.Counters()
    /// The record being handled, decoded in place: its payload storage is reused.
    @exclusivity(unchecked) private var event = CaptureEvent(kind: .closed, timestamp: 0, pid: 0, tid: 0, fd: -1)
    /// Spans finished by the event being handled, reused.
    @exclusivity(unchecked) private var finished: [Span] = []
    @exclusivity(unchecked) private var selection: ProcessSelection {
        didSet { forgetRecentPIDs() }
    }
    /// The processes known and their executables, exited ones kept a while for their spans.
    @exclusivity(unchecked) private var table = ProcessTable() {
        didSet { forgetRecentPIDs() }
    }
    private var processes: [Int32: ProcessEntry] { table.entries }
    /// Processes the kernel selected at exec (or that inherited such a selection) that the
    /// policy does not select: what they sent before the agent undid it is dropped.
    @exclusivity(unchecked) private var declined: Set<Int32> = [] {
        didSet { forgetRecentPIDs() }
    }
    /// In port-only mode: processes whose connections were seen, for `processesAttached`.
    @exclusivity(unchecked) private var seenProcesses: Set<Int32> = [] {
        didSet { forgetRecentPIDs() }
    }
    /// Processes whose socket records were found to go to the tracker as they are (not
    /// excluded or declined, seen, known when policies are assigned per process): their next
    /// records go there without a look at the sets above. Forgotten when any of them changes.
    @exclusivity(unchecked) private var admitted = RecentPIDs<Void>()
    /// `PolicyAssignment.portOverrides`: the ports of processes traced on fewer than the
    /// kernel lets through.
    @exclusivity(unchecked) private var portsByPID: [Int32: PortSet] = [:]
    /// The executables of processes whose spans were named lately, as the table gives them.
    @exclusivity(unchecked) private var recentExecutables = RecentPIDs<String>()
    @exclusivity(unchecked) private var metrics = AgentMetrics()
    /// Runs the capture thread on otherwise idle CPU time; nil when it is an ordinary thread.
    private var yield: CaptureYield?
    /// Keeps the TLS library probes on what the traced processes map; nil without them.
    private let tlsAttacher: TLSAttacher?
    /// Hands the connections processes opened before they were selected to propagation.
    private var openConnections: OpenConnections
    /// Selected processes whose open connections were handed over since their selection.
    private var adoptedProcesses: Set<Int32> = []
    /// Whether a process could not be looked into for its open connections (logged once).
    private var adoptionRefused = false
    /// Processes started or exited while every process is traced: the TLS attacher is told
    /// once the poll's records are handled, not at each exec and exit (the set it is given
    /// holds every process of the node).
    @exclusivity(unchecked) private var tlsFollowDue = false
    /// The policies in force when every process's open connections were handed over, under
    /// policies that trace every process (nil: not done since such policies came into force).
    private var adoptedEveryProcessFor: PolicySet?

    init(
        configuration: AgentConfiguration, policies: PolicySet, policyFile: PolicyFile?, tracer: Tracer,
        propagation: Propagation? = nil, sink: SpanSink, control: AgentControl, logger: Logger, procfs: ProcFS = ProcFS(), selfPID: Int32,
        tlsProbes: TLSProbes? = nil
    ) {
        self.tlsAttacher = tlsProbes.map { TLSAttacher(probes: $0, procRoot: procfs.root, logger: logger) }
        self.configuration = configuration
        let policy = policies.merged
        self.policies = policies
        self.onlyPolicyID = policies.id(ofOwner: nil)
        self.assignment = PolicyAssignment(policies: policies)
        self.policyFile = policyFile
        self.tracer = tracer
        self.propagation = propagation
        self.sink = sink
        self.control = control
        self.logger = logger
        self.procfs = procfs
        self.openConnections = OpenConnections(procRoot: procfs.root)
        self.selfPID = selfPID
        self.tracker = ConnectionTracker(
            configuration: .init(policy: policy), linker: configuration.traces, clock: MonotonicClock.mapping(), generator: FastRandom()
        )
        self.mergedPipeline = SpanPipeline(policy: policy)
        self.pipelines = Self.pipelines(for: policies)
        self.selection = ProcessSelection(allProcesses: false, targets: [], excluded: [selfPID])
    }

    /// Runs until `control.requestStop()`; then finishes open work and returns.
    func run() throws {
        tlsAttacher?.start()
        defer { tlsAttacher?.stop() }
        rescanProcesses(prune: true)
        publishMetrics()
        control.markReady()
        logger.info("agent.ready", metadata: [
            "programs": "\(tracer.attachedPrograms.joined(separator: ","))",
            "variant": "\(tracer.variant.rawValue)",
            "processes": "\(metrics.processesAttached)",
            "mode": "\(selection.allProcesses ? "all processes" : "selected processes")",
        ])
        let yield = startYielding()
        defer { yield?.stop() }
        self.yield = yield
        let idlePoll = max(Int32(clamping: configuration.pollInterval.nanoseconds / 1_000_000), 1)
        let busyPoll = max(Int32(clamping: configuration.busyPollInterval.nanoseconds / 1_000_000), 1)
        var busy = false
        var now = MonotonicClock.now()
        var nextPolicyCheck = now + configuration.policyCheckInterval.nanoseconds
        var nextRescan = now + configuration.processRescanInterval.nanoseconds
        var nextHousekeeping = now + 1_000_000_000
        while !control.stopRequested {
            // The loop takes each record itself: nothing between libbpf's callback and
            // `consume(record:)` changes a reference count.
            let consumed = try tracer.poll(timeoutMilliseconds: busy ? busyPoll : idlePoll, into: self)
            metrics.eventsRead += UInt64(consumed)
            busy = consumed > 0
            now = MonotonicClock.now()
            // Everything that waited was read: back to otherwise idle CPU time if it was raised.
            yield?.caughtUp(now: now)
            tracker.advance(now: now, into: &finished)
            deliverFinished()
            sink.flush()
            if tlsFollowDue { followTLS() }
            let reloadRequested = control.takeReloadRequest()
            if reloadRequested || now >= nextPolicyCheck {
                nextPolicyCheck = now + configuration.policyCheckInterval.nanoseconds
                reloadPolicyIfChanged(force: reloadRequested)
            }
            if let (revision, submitted) = control.takeSubmittedPolicies() {
                adopt(submitted)
                control.markApplied(revision: revision)
            }
            if now >= nextRescan {
                nextRescan = now + configuration.processRescanInterval.nanoseconds
                rescanProcesses(prune: false)
            }
            if now >= nextHousekeeping {
                nextHousekeeping = now + 1_000_000_000
                tracker.clock = MonotonicClock.mapping()
                try expireIdle(now: now)
                table.forgetExited(before: now - min(now, ExitedProcesses.keptNanos))
                publishMetrics()
                ProcessMemory.trim()
            }
            if control.takeReportRequest() {
                publishMetrics()
                logger.info("agent.metrics", metadata: metrics.metadata)
            }
        }
        tlsAttacher?.stop()
        tracer.detach()
        // Drain what was queued before the programs were detached.
        metrics.eventsRead += UInt64(try tracer.poll(timeoutMilliseconds: 0, into: self))
        finished += tracker.finishAll(at: MonotonicClock.now(), reason: "agent stopped")
        deliverFinished()
        sink.finish()
        publishMetrics()
    }

    /// Ends the connections idle for the idle timeout whose sockets are gone. The sockets are
    /// checked first and what waits in the ring buffer is read after: an exchange and a close
    /// queued since the last read belong to the connection, not to a second one after it ended.
    private func expireIdle(now: UInt64) throws {
        let idleNanos = configuration.idleConnectionTimeout.nanoseconds
        let gone = tracker.idleConnections(now: now, idleNanos: idleNanos)
            .filter { !procfs.holdsSocket(pid: $0.pid, fd: $0.fd) }
        if !gone.isEmpty {
            metrics.eventsRead += UInt64(try tracer.poll(timeoutMilliseconds: 0, into: self))
        }
        emit(tracker.expireIdle(now: now, idleNanos: idleNanos) { pid, fd in
            !gone.contains { $0.pid == pid && $0.fd == fd }
        })
    }

    /// The capture thread (the calling one) made to run on otherwise idle CPU time, raised
    /// while behind; nil when it stays an ordinary thread (the default, or refused: logged).
    private func startYielding() -> CaptureYield? {
        let scheduling = configuration.captureScheduling
        guard scheduling.yields else { return nil }
        let watch: RingBufferWatch
        do {
            watch = try tracer.watch()
        } catch {
            logger.warning("capture.yield.refused", metadata: [
                "error": "\(error)", "effect": "the capture thread runs as an ordinary thread",
            ])
            return nil
        }
        // The kernel wakes the ring buffer's readers once this much waits (KernelFilter.wakeupBytes).
        let maxBacklog = UInt64(min(256 * 1024, tracer.ringBufferBytes / 4))
        let busyPoll = configuration.busyPollInterval.nanoseconds
        switch CaptureYield.start(
            scheduling: scheduling, watch: watch, busyPollNanos: busyPoll, pollNanos: configuration.pollInterval.nanoseconds,
            maxBacklogBytes: maxBacklog
        ) {
        case .success(let yield):
            logger.info("capture.yield", metadata: ["max_wait_ms": "\((busyPoll + CaptureYield.graceNanos) / 1_000_000)"])
            return yield
        case .failure(let refused):
            logger.warning("capture.yield.refused", metadata: [
                "errno": "\(refused.errno)", "refused": "\(refused.what)",
                "effect": "the capture thread runs as an ordinary thread (leaving SCHED_IDLE needs CAP_SYS_NICE)",
            ])
            return nil
        }
    }

    /// One record (counted in `metrics.eventsRead` by the caller, per poll).
    func consume(record: UnsafeRawBufferPointer) {
        do {
            try event.update(record: record)
        } catch {
            metrics.malformedRecords += 1
            return
        }
        // Handled where it lies: a copy (or a blank event to swap it with) would cost more
        // than the event, at every record.
        handle(&event)
    }

    /// The record just decoded, `event` being the loop's own (nothing else touches it meanwhile).
    private func handle(_ event: inout CaptureEvent) {
        if admitted.contains(event.pid), event.kind.isAboutASocket {
            if !portsByPID.isEmpty, isOutsidePorts(&event) { return }
            tracker.handle(inPlace: &event, into: &finished)
            if !finished.isEmpty { deliverFinished() }
            return
        }
        if selection.excluded.contains(event.pid) || (!declined.isEmpty && declined.contains(event.pid) && event.kind.isAboutASocket) {
            metrics.eventsFromExcluded += 1
            return
        }
        switch event.kind {
        case .processExec:
            // What the exec closed ends under the executable that had it open.
            tracker.handle(inPlace: &event, into: &finished)
            if !finished.isEmpty { deliverFinished() }
            let image = ExecutedImage(execPayload: event.payload) ?? ExecutedImage(path: nil, interpreter: "")
            let deselected = tracer.processExecuted(event.pid)
            processStarted(event.pid, image: image, reapply: deselected || image.selectedAtExec)
        case .processForked(let parent):
            processForked(event.pid, parent: parent)
        case .processExited:
            tracker.handle(inPlace: &event, into: &finished)
            deliverFinished()
            table.exited(event.pid, at: event.timestamp)
            declined.remove(event.pid)
            seenProcesses.remove(event.pid)
            selection.remove(pid: event.pid)
            adoptedProcesses.remove(event.pid)
            tlsFollowDue = true
            if assignment.isTracking {
                assignment.remove(pid: event.pid)
                applyAssignment()
            }
        case .opened, .data, .closed, .closedRange, .traceContext:
            if selection.allProcesses, !seenProcesses.contains(event.pid) { seenProcesses.insert(event.pid) }
            if assignment.isTracking, processes[event.pid] == nil { processFound(event.pid) }
            if !portsByPID.isEmpty, isOutsidePorts(&event) { return }
            admitted.remember(event.pid, as: ())
            tracker.handle(inPlace: &event, into: &finished)
            if !finished.isEmpty { deliverFinished() }
        }
    }

    /// Spans that ended, decided by their process's policy and handed to the sink.
    private func emit(_ spans: [Span]) {
        finished += spans
        deliverFinished()
    }

    /// Each finished span is named, sampled (its trace's decision travels with it), counted
    /// and emitted at once: nothing is held here.
    private func deliverFinished() {
        guard !finished.isEmpty else { return }
        // Each span is decided and handed on where it lies in the list: neither copied nor
        // moved (a copy would also make its HTTP details shared, copied again when named).
        finished.withUnsafeMutableBufferPointer { spans in
            for index in spans.indices { deliver(&spans[index]) }
        }
        finished.removeAll(keepingCapacity: true)
    }

    private func deliver(_ span: inout Span) {
        span.executable = executable(of: span.pid)
        let verdict: SpanPipeline.Verdict
        if pipelines.isEmpty {
            // One policy in force (or none): every process follows it.
            span.policy = onlyPolicyID
            verdict = mergedPipeline.judge(&span)
        } else {
            let owner = assignment.owner(of: span.pid)
            span.policy = policies.id(ofOwner: owner)
            verdict = if let owner, pipelines.indices.contains(owner) {
                pipelines[owner].judge(&span)
            } else {
                mergedPipeline.judge(&span)
            }
        }
        switch verdict {
        case .excluded:
            return
        case .sampledOut:
            sink.observe(span)
        case .kept:
            sink.observe(span)
            sink.emit(span)
            metrics.spansEmitted += 1
        }
    }

    /// The executable `pid` runs, or ran when it exited lately; `/proc` for a process not
    /// seen start (nil once it is gone), read once: the process is known from then on, and
    /// its next spans cost no system call.
    private func executable(of pid: Int32) -> String? {
        if let recent = recentExecutables[pid] { return recent }
        if let known = table.executable(of: pid) {
            recentExecutables.remember(pid, as: known)
            return known
        }
        guard let read = procfs.executable(of: pid) else { return nil }
        table.found(ProcessEntry(pid: pid, ppid: procfs.parentPID(of: pid) ?? 0, executable: read))
        return read
    }

    /// A process called exec: its executable may now match, or be excluded by, the policy.
    /// The kernel read what it runs at the exec (exact even when the process is already
    /// gone, and for a script its interpreter); `/proc` stands in where it could not.
    /// `reapply`: the kernel ended or made the process's selection at the exec, so the
    /// filter is written again even if the selection did not change.
    private func processStarted(_ pid: Int32, image: ExecutedImage, reapply: Bool) {
        let entry = table.executed(
            pid, image: image, procExecutable: { procfs.executable(of: pid) }, procParent: { procfs.parentPID(of: pid) }
        )
        declined.remove(pid)
        assignPolicy(with: entry)
        let updated = selection.updating(with: entry, policy: policy)
        if image.selectedAtExec, !updated.isSelected(pid: pid) {
            // The name matched, the whole path or an exclusion did not.
            tracer.deselect(pid)
            declined.insert(pid)
        }
        // Every process is traced: the new one's TLS libraries get probed now, not at the next scan.
        if updated == selection, selection.allProcesses { tlsFollowDue = true }
        guard updated != selection || reapply else { return }
        selection = updated
        applyFilter(prune: false)
    }

    /// A selected process forked: the child runs its parent's executable until it calls exec,
    /// known even when it serves one connection and exits before `/proc` is read.
    private func processForked(_ pid: Int32, parent: Int32) {
        if declined.contains(parent) {
            // It inherited a selection the agent undid for its parent.
            tracer.deselect(pid)
            declined.insert(pid)
        }
        let entry = table.forked(pid, parent: parent) { procfs.executable(of: $0) }
        assignPolicy(with: entry)
    }

    /// A process the kernel reports that the last scan did not know (forked since, without
    /// exec): looked up once, so that its own policy applies from its first connection.
    private func processFound(_ pid: Int32) {
        let entry = ProcessEntry(pid: pid, ppid: procfs.parentPID(of: pid) ?? 0, executable: procfs.executable(of: pid))
        table.found(entry)
        assignPolicy(with: entry)
    }

    private func assignPolicy(with entry: ProcessEntry) {
        guard assignment.isTracking else { return }
        assignment.update(with: entry)
        applyAssignment()
    }

    /// Whether `event` is about a connection on ports the policies selecting its process leave
    /// out. Closes always pass: a socket already closed has given its local port back, and the
    /// tracker ignores the close of a connection it does not hold.
    /// `inout` only so that the event is read where it lies, not copied.
    private func isOutsidePorts(_ event: inout CaptureEvent) -> Bool {
        switch event.kind {
        case .opened, .data, .traceContext:
            guard let ports = portsByPID[event.pid],
                  !ports.contains(event.local.port), !ports.contains(event.peer.port) else { return false }
            metrics.eventsOutsidePorts += 1
            return true
        default:
            return false
        }
    }

    /// Each process's decoders, sampler and ports, when several policies are in force.
    private func applyAssignment() {
        tracker.configuration.protocolsByPID = assignment.protocolOverrides
        portsByPID = assignment.portOverrides
        tracker.configuration.samplersByPID = assignment.owners.compactMapValues { owner in
            policies.policies.indices.contains(owner) ? policies.policies[owner].sampler : nil
        }
        applyPropagation()
    }

    /// Where trace context may be written into traffic, after the policies or their processes changed.
    private func applyPropagation() {
        guard let propagation else { return }
        do {
            try propagation.apply(PropagationSettings(policies: policies, owners: assignment.owners))
        } catch {
            logger.error("propagation.apply.failed", metadata: ["error": "\(error)"])
        }
    }

    private func rescanProcesses(prune: Bool) {
        let scanned = table.replace(withScan: procfs.processes(), at: MonotonicClock.now())
        assignment.assign(processes: scanned, agentPID: selfPID)
        applyAssignment()
        selection = ProcessSelector.select(processes: scanned, policy: policy, selfPID: selfPID)
        declined = declined.filter { processes[$0] != nil && !selection.isSelected(pid: $0) }
        seenProcesses.formIntersection(processes.keys)
        applyFilter(prune: prune)
    }

    private func applyFilter(prune: Bool) {
        let filter = KernelFilter(policy: policy, selection: selection, processes: processes)
        do {
            try tracer.apply(filter, prune: prune)
        } catch {
            logger.error("filter.apply.failed", metadata: ["error": "\(error)"])
        }
        applyPropagation()
        adoptOpenConnections(portBitmap: filter.portBitmap)
        followTLS()
    }

    /// The connections newly selected processes opened before their selection (since their
    /// exec, or before the agent started) get trace context like those they open from now on:
    /// `sock_ops` marks only the latter. Done after the filter is written, so that a connection
    /// opened meanwhile is marked by the kernel if not found here.
    /// Under policies that trace every process (no selector, or ports only): every process's
    /// connections (on those ports), once when the policies come into force, at the agent's
    /// start or a change of the policies. The agent's own and those of processes excluded or
    /// whose propagation is off are left as they are.
    /// A connection is handed over once: a later look passes by those handed over before, and
    /// those propagation's `sock_ops` marked (a connection whose context travels in a TCP
    /// header option left the sockhash for good).
    private func adoptOpenConnections(portBitmap: [UInt64]?) {
        adoptedProcesses.formIntersection(selection.targets)
        let known = processes
        openConnections.keepProcesses { known[$0] != nil }
        guard let propagation, propagation.settings.enabled else {
            adoptedEveryProcessFor = nil
            return
        }
        func refused(_ pid: Int32?) {
            guard !adoptionRefused else { return }
            adoptionRefused = true
            logger.warning("propagation.open_connections.refused", metadata: [
                "pid": "\(pid.map(String.init) ?? "any")", "effect": "connections processes opened before they were selected carry no trace context",
            ])
        }
        if selection.allProcesses {
            guard adoptedEveryProcessFor != policies else { return }
            adoptedEveryProcessFor = policies
            let started = MonotonicClock.now()
            let pids = processes.keys.filter { $0 != selfPID && selection.isSelected(pid: $0) && !propagation.settings.disabledPIDs.contains($0) }
            let adopted = openConnections.adopt(pids: pids, portBitmap: portBitmap, into: propagation)
            if adopted == nil { refused(nil) }
            logger.info("propagation.open_connections.adopted", metadata: [
                "connections": "\(adopted ?? 0)", "processes": "\(pids.count)",
                "milliseconds": "\((MonotonicClock.now() - started) / 1_000_000)",
            ])
            return
        }
        adoptedEveryProcessFor = nil
        for pid in selection.targets where !adoptedProcesses.contains(pid) {
            adoptedProcesses.insert(pid)
            guard !propagation.settings.disabledPIDs.contains(pid) else { continue }
            if openConnections.adopt(pid: pid, portBitmap: portBitmap, into: propagation) == nil { refused(pid) }
        }
    }

    /// The traced processes get TLS probes: the selected ones, or every process not excluded.
    private func followTLS() {
        tlsFollowDue = false
        guard let tlsAttacher else { return }
        let pids = selection.allProcesses ? Set(processes.keys).subtracting(selection.excluded) : selection.targets
        tlsAttacher.follow(pids: pids)
    }

    private func reloadPolicyIfChanged(force: Bool) {
        guard var file = policyFile, force || file.hasChanged() else { return }
        do {
            let updated = try file.load()
            policyFile = file
            guard updated != policies else { return }
            adopt(updated)
            logger.info("policy.applied", metadata: [
                "path": "\(file.path)", "processes": "\(metrics.processesAttached)",
            ])
        } catch {
            policyFile = file
            metrics.policyReloadFailures += 1
            logger.error("policy.rejected", metadata: [
                "path": "\(file.path)", "error": "\(error)", "kept": "previous policy",
            ])
        }
    }

    /// Puts `updated` in force: decoders, pipeline, selection and kernel filter.
    private func adopt(_ updated: PolicySet) {
        guard updated != policies else { return }
        policies = updated
        assignment = PolicyAssignment(policies: updated)
        tracker.configuration = .init(policy: policy)
        retiredPipelineCounters = pipelineCounters
        mergedPipeline = SpanPipeline(policy: policy)
        pipelines = Self.pipelines(for: updated)
        rescanProcesses(prune: true)
        metrics.policyReloads += 1
    }

    /// What `admitted` and `recentExecutables` remember was decided from the selection, the
    /// processes known and their policies: any change of those makes it forgotten.
    private func forgetRecentPIDs() {
        admitted.forgetAll()
        recentExecutables.forgetAll()
    }

    private static func pipelines(for policies: PolicySet) -> [SpanPipeline] {
        policies.policies.count > 1 ? policies.policies.map { SpanPipeline(policy: $0) } : []
    }

    /// What every pipeline did since the agent started.
    private var pipelineCounters: SpanPipeline.Counters {
        pipelines.reduce(retiredPipelineCounters + mergedPipeline.counters) { $0 + $1.counters }
    }

    private func publishMetrics() {
        let kernel = tracer.counters()
        metrics.eventsLost = kernel.lost
        metrics.eventsTruncated = kernel.truncated
        metrics.connectionsShed = kernel.shedConnections
        metrics.requestsShed = kernel.shedRequests
        metrics.eventsShed = kernel.shedEvents
        metrics.captureRaised = yield?.raises ?? 0
        metrics.decodeErrors = UInt64(tracker.counters.decodeErrors)
        metrics.opaqueTraffic = UInt64(tracker.counters.opaque)
        metrics.decodeErrorsByKind = tracker.counters.decodeErrorsByKind.mapValues { UInt64($0) }
        metrics.connectionsEvicted = UInt64(tracker.counters.connectionsEvicted)
        let pipelineCounters = self.pipelineCounters
        metrics.spansSampledOut = UInt64(pipelineCounters.sampledOut)
        metrics.spansExcludedByRoute = UInt64(pipelineCounters.excludedByRoute)
        let linking = tracker.linker.counters
        metrics.requestsInFlight = linking.requestsInFlight
        metrics.spansWaiting = linking.heldSpans
        metrics.callersLate = UInt64(linking.provisionalTraces)
        metrics.callersMissed = UInt64(linking.provisionalExpired)
        if let propagation {
            let written = propagation.counters()
            metrics.propagationHeadersInjected = written.headersInjected
            metrics.propagationOptionsWritten = written.optionsWritten
            metrics.propagationServerContexts = written.serverContexts + written.optionsRead
            metrics.propagationOptionsRead = written.optionsRead
            metrics.propagationSocketsLeft = written.socketsLeft
            metrics.propagationUntouchedCarryingTraceparent = written.untouchedCarryingTraceparent
            metrics.propagationUntouchedSplitHead = written.untouchedSplitHead
            metrics.propagationUntouchedPipelined = written.untouchedPipelined
            metrics.propagationUntouchedNoRoom = written.untouchedNoRoom
            metrics.propagationReportsLost = written.reportsLost
        }
        metrics.processesAttached = selection.allProcesses ? seenProcesses.count : selection.targets.count
        if let tlsAttacher {
            let status = tlsAttacher.status
            let kernel = tlsAttacher.probes.counters()
            metrics.tls = AgentMetrics.TLS(
                filesProbed: status.files.count, processesProbed: status.processesProbed,
                processesRefused: status.refusals.count, plaintextEvents: kernel.plaintextEvents,
                recordTransfers: kernel.recordTransfers, unboundSessions: kernel.unboundSessions,
                sessionsBoundAround: kernel.sessionsBoundAround, files: status.files, refusalsByCode: status.refusalsByCode
            )
            if let go = tlsAttacher.probes.go?.counters() {
                metrics.tls.goFilesProbed = status.files.filter { $0.library == TLSLibrary.goCryptoTLS.rawValue }.count
                metrics.tls.goPlaintextEvents = go.plaintextEvents
                metrics.tls.goCallsUnresolved = go.notTCP + go.unreadable
                metrics.tls.goCallsLost = go.callsLost
            }
            control.setTLSStatus(status)
        }
        control.publish(metrics)
    }
}

private extension CaptureEvent.Kind {
    /// What a process does with its sockets, as opposed to its own start, exec and exit.
    var isAboutASocket: Bool {
        switch self {
        case .processExec, .processExited, .processForked: false
        case .opened, .data, .closed, .closedRange, .traceContext: true
        }
    }
}
