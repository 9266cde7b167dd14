import Logging
import PeriscopeCore

/// The agent's view of its own health.
public struct AgentMetrics: Sendable, Equatable {
    /// Ring buffer records read.
    public var eventsRead: UInt64 = 0
    /// Events the kernel could not hand over because the ring buffer was full.
    public var eventsLost: UInt64 = 0
    /// Data events longer than the capture size (the prefix was kept).
    public var eventsTruncated: UInt64 = 0
    /// Records that were not a valid event layout.
    public var malformedRecords: UInt64 = 0
    /// Events from processes excluded after their records were queued.
    public var eventsFromExcluded: UInt64 = 0
    /// Events of connections on ports no policy selecting their process selects (several
    /// policies in force; see `PolicyAssignment.portOverrides`).
    public var eventsOutsidePorts: UInt64 = 0
    /// Bytes that could not be decoded as the protocol they claimed to be.
    public var decodeErrors: UInt64 = 0
    /// Traffic decoders do not read by design (an encrypted or compressed session, a
    /// replication stream, a message pushed to a subscriber): not errors.
    public var opaqueTraffic: UInt64 = 0
    /// `decodeErrors` by protocol and reason.
    public var decodeErrorsByKind: [ConnectionTrackerCounters.DecodeErrorKind: UInt64] = [:]
    /// Spans printed or exported.
    public var spansEmitted: UInt64 = 0
    /// Spans dropped by sampling.
    public var spansSampledOut: UInt64 = 0
    /// Spans dropped because their route is excluded.
    public var spansExcludedByRoute: UInt64 = 0
    /// Connections forgotten to bound memory.
    public var connectionsEvicted: UInt64 = 0
    /// Under overload the kernel sheds whole new connections and requests, never part of
    /// an exchange being captured: how many, and the events not written for them.
    public var connectionsShed: UInt64 = 0
    public var requestsShed: UInt64 = 0
    public var eventsShed: UInt64 = 0
    /// Times the capture thread, which runs on otherwise idle CPU time, fell behind and was
    /// raised to an ordinary thread until it caught up (`CaptureYield`).
    public var captureRaised: UInt64 = 0
    /// Requests in flight whose trace context is remembered (memory follows this, not the rate).
    public var requestsInFlight: Int = 0
    /// Finished spans waiting for a late caller's context (at most the reorder window).
    public var spansWaiting: Int = 0
    /// Server requests read before their traced caller's context arrived, and of those the
    /// ones whose caller's context never came within the reorder window (they became roots).
    public var callersLate: UInt64 = 0
    public var callersMissed: UInt64 = 0
    /// Trace context written into traffic: `traceparent` lines inserted into HTTP/1 requests,
    /// TCP header options written, server requests whose context the kernel decided (and of
    /// those, taken from an option), connections carrying an option taken out of the payload
    /// program's sockhash; requests
    /// left untouched, by reason (they carried `traceparent`, their head was split across
    /// writes, they were pipelined behind another in one write, no room could be made); and
    /// reports of written contexts lost to a full ring buffer.
    public var propagationHeadersInjected: UInt64 = 0
    public var propagationOptionsWritten: UInt64 = 0
    public var propagationServerContexts: UInt64 = 0
    public var propagationOptionsRead: UInt64 = 0
    public var propagationSocketsLeft: UInt64 = 0
    public var propagationUntouchedCarryingTraceparent: UInt64 = 0
    public var propagationUntouchedSplitHead: UInt64 = 0
    public var propagationUntouchedPipelined: UInt64 = 0
    public var propagationUntouchedNoRoom: UInt64 = 0
    public var propagationReportsLost: UInt64 = 0
    /// Processes currently selected for tracing.
    public var processesAttached: Int = 0
    /// Policy reloads applied / rejected since start.
    public var policyReloads: UInt64 = 0
    public var policyReloadFailures: UInt64 = 0
    /// The TLS library probes (all zero without them).
    public var tls = TLS()

    public struct TLS: Sendable, Equatable {
        /// Library or executable files probed, traced processes probed through them, and
        /// traced processes mapping a TLS library that could not be probed (their reasons
        /// are in the agent's status and log).
        public var filesProbed = 0
        public var processesProbed = 0
        public var processesRefused = 0
        /// Plaintext events from the probes; socket transfers of TLS records, counted and
        /// not captured; plaintext calls dropped because their session was never seen on a
        /// selected socket (left out by a port filter, or probed after its handshake);
        /// sessions bound from the records their thread moved around their calls (libraries
        /// fed through memory buffers, as Node.js does).
        public var plaintextEvents: UInt64 = 0
        public var recordTransfers: UInt64 = 0
        public var unboundSessions: UInt64 = 0
        public var sessionsBoundAround: UInt64 = 0
        /// Go executables whose crypto/tls is probed; plaintext events from them; calls on a
        /// `tls.Conn` whose socket could not be found (not over a `*net.TCPConn`, or its
        /// fields unreadable); Reads not followed because too many goroutines were inside one.
        public var goFilesProbed = 0
        public var goPlaintextEvents: UInt64 = 0
        public var goCallsUnresolved: UInt64 = 0
        public var goCallsLost: UInt64 = 0
        /// Each file probed with the traced processes mapping it, and refused processes by
        /// reason code (`TLSProbeStatus`), for the labelled self-metrics.
        public var files: [TLSProbeStatus.ProbedFile] = []
        public var refusalsByCode: [String: Int] = [:]
    }

    public init() {}

    /// `periscope_<name> <value>` lines, stable names, for scripts.
    public var report: String {
        values.map { "periscope_\($0.0) \($0.1)" }.joined(separator: "\n")
    }

    /// The same values as log metadata, one key per metric.
    public var metadata: Logger.Metadata {
        Dictionary(uniqueKeysWithValues: values.map { ($0.0, Logger.MetadataValue.string($0.1)) })
    }

    private var values: [(String, String)] {
        [
            ("events_read", "\(eventsRead)"),
            ("events_lost", "\(eventsLost)"),
            ("events_truncated", "\(eventsTruncated)"),
            ("malformed_records", "\(malformedRecords)"),
            ("events_from_excluded", "\(eventsFromExcluded)"),
            ("events_outside_ports", "\(eventsOutsidePorts)"),
            ("decode_errors", "\(decodeErrors)"),
        ] + decodeErrorsByKind.sorted { $0.key < $1.key }.map {
            ("decode_errors{protocol=\"\($0.key.protocol)\",reason=\"\($0.key.reason)\"}", "\($0.value)")
        } + [
            ("opaque_traffic", "\(opaqueTraffic)"),
            ("spans_emitted", "\(spansEmitted)"),
            ("spans_sampled_out", "\(spansSampledOut)"),
            ("spans_excluded_by_route", "\(spansExcludedByRoute)"),
            ("connections_evicted", "\(connectionsEvicted)"),
            ("connections_shed", "\(connectionsShed)"),
            ("requests_shed", "\(requestsShed)"),
            ("events_shed", "\(eventsShed)"),
            ("capture_raised", "\(captureRaised)"),
            ("requests_in_flight", "\(requestsInFlight)"),
            ("spans_waiting", "\(spansWaiting)"),
            ("callers_late", "\(callersLate)"),
            ("callers_missed", "\(callersMissed)"),
            ("propagation_headers_injected", "\(propagationHeadersInjected)"),
            ("propagation_options_written", "\(propagationOptionsWritten)"),
            ("propagation_server_contexts", "\(propagationServerContexts)"),
            ("propagation_options_read", "\(propagationOptionsRead)"),
            ("propagation_sockets_left", "\(propagationSocketsLeft)"),
            ("propagation_untouched_carrying_traceparent", "\(propagationUntouchedCarryingTraceparent)"),
            ("propagation_untouched_split_head", "\(propagationUntouchedSplitHead)"),
            ("propagation_untouched_pipelined", "\(propagationUntouchedPipelined)"),
            ("propagation_untouched_no_room", "\(propagationUntouchedNoRoom)"),
            ("propagation_reports_lost", "\(propagationReportsLost)"),
            ("processes_attached", "\(processesAttached)"),
            ("policy_reloads", "\(policyReloads)"),
            ("policy_reload_failures", "\(policyReloadFailures)"),
            ("tls_files_probed", "\(tls.filesProbed)"),
            ("tls_processes_probed", "\(tls.processesProbed)"),
            ("tls_processes_refused", "\(tls.processesRefused)"),
            ("tls_plaintext_events", "\(tls.plaintextEvents)"),
            ("tls_record_transfers", "\(tls.recordTransfers)"),
            ("tls_unbound_sessions", "\(tls.unboundSessions)"),
            ("tls_sessions_bound_around_calls", "\(tls.sessionsBoundAround)"),
            ("tls_go_files_probed", "\(tls.goFilesProbed)"),
            ("tls_go_plaintext_events", "\(tls.goPlaintextEvents)"),
            ("tls_go_calls_unresolved", "\(tls.goCallsUnresolved)"),
            ("tls_go_calls_lost", "\(tls.goCallsLost)"),
        ]
    }
}
