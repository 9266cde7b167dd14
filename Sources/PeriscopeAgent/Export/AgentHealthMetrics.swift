import PeriscopeCore

/// The agent's own health as metrics (`periscope.agent.*`), reported under the agent's
/// resource next to the RED metrics of the processes it traces.
public enum AgentHealthMetrics {
    public static func metrics(
        agent: AgentMetrics, export: ExportStatistics?, overflowedSpans: UInt64, startTimeUnixNano: UInt64
    ) -> [Metric] {
        func counter(_ name: String, _ unit: String, _ description: String, _ values: [([Attribute], UInt64)]) -> Metric {
            Metric(
                name: name, description: description, unit: unit, kind: .counter,
                points: values.map {
                    Metric.Point(process: nil, attributes: $0.0, startTimeUnixNano: startTimeUnixNano, value: .int(Int64(clamping: $0.1)))
                }
            )
        }
        func gauge(_ name: String, _ unit: String, _ description: String, _ value: Int) -> Metric {
            gauges(name, unit, description, [([], value)])
        }
        func gauges(_ name: String, _ unit: String, _ description: String, _ values: [([Attribute], Int)]) -> Metric {
            Metric(
                name: name, description: description, unit: unit, kind: .gauge,
                points: values.map {
                    Metric.Point(process: nil, attributes: $0.0, startTimeUnixNano: startTimeUnixNano, value: .int(Int64($0.1)))
                }
            )
        }
        var result = [
            counter("periscope.agent.events.read", "{event}", "Kernel events read from the ring buffer.", [([], agent.eventsRead)]),
            counter("periscope.agent.events.lost", "{event}", "Kernel events lost because the ring buffer was full.", [([], agent.eventsLost)]),
            counter("periscope.agent.shed", "{item}", "Connections and requests not captured because the agent was behind (whole exchanges only).",
                    [([Attribute("kind", .string("connection"))], agent.connectionsShed), ([Attribute("kind", .string("request"))], agent.requestsShed)]),
            counter("periscope.agent.decode.errors", "{error}", "Bytes that could not be decoded as the protocol they claimed to be, by protocol and reason.",
                    decodeErrorPoints(agent)),
            counter("periscope.agent.decode.opaque", "{item}", "Traffic decoders do not read by design: encrypted or compressed sessions, replication streams, pushed messages.",
                    [([], agent.opaqueTraffic)]),
            counter("periscope.agent.spans.emitted", "{span}", "Spans sampled and handed to the outputs.", [([], agent.spansEmitted)]),
            counter("periscope.agent.spans.sampled_out", "{span}", "Spans dropped by the sampler (still counted in metrics).",
                    [([], agent.spansSampledOut)]),
            counter("periscope.agent.metric.overflow", "{span}", "Spans counted in an overflow series because of the series limit.",
                    [([], overflowedSpans)]),
            gauge("periscope.agent.processes.attached", "{process}", "Processes being traced.", agent.processesAttached),
        ]
        result += tlsMetrics(agent.tls, counter: counter, gauges: gauges)
        if let export {
            let reason = { (value: String) in [Attribute("reason", .string(value))] }
            result += [
                counter("periscope.agent.spans.exported", "{span}", "Spans the OTLP receiver acknowledged.", [([], export.spansExported)]),
                counter("periscope.agent.spans.dropped", "{span}", "Spans that were not exported, by reason.", [
                    (reason("queue_full"), export.spansDroppedQueueFull),
                    (reason("export_failed"), export.spansDroppedExportFailed),
                    (reason("shutdown"), export.spansDroppedShutdown),
                ]),
                counter("periscope.agent.export.failures", "{request}", "OTLP requests that failed, retried or not.", [([], export.exportFailures)]),
                gauge("periscope.agent.export.queue.size", "{span}", "Spans waiting to be exported.", export.queueLength),
            ]
        }
        return result
    }

    /// One point per protocol and reason, and the kernel's records that were not an event.
    static func decodeErrorPoints(_ agent: AgentMetrics) -> [([Attribute], UInt64)] {
        let attributes = { (protocolName: String, reason: String) in
            [Attribute("protocol", .string(protocolName)), Attribute("reason", .string(reason))]
        }
        var points = agent.decodeErrorsByKind.sorted { $0.key < $1.key }.map { (attributes($0.key.protocol, $0.key.reason), $0.value) }
        let unlabelled = agent.decodeErrors - min(agent.decodeErrors, agent.decodeErrorsByKind.values.reduce(0, +))
        if unlabelled > 0 || points.isEmpty { points.append(([], unlabelled)) }
        if agent.malformedRecords > 0 { points.append((attributes("none", "malformed_record"), agent.malformedRecords)) }
        return points
    }

    /// What the TLS probes read: files probed with the traced processes mapping each, processes
    /// refused by reason, plaintext events by library, plaintext dropped for want of a socket.
    static func tlsMetrics(
        _ tls: AgentMetrics.TLS,
        counter: (String, String, String, [([Attribute], UInt64)]) -> Metric,
        gauges: (String, String, String, [([Attribute], Int)]) -> Metric
    ) -> [Metric] {
        let library = { (name: String) in [Attribute("library", .string(name))] }
        var result: [Metric] = []
        if !tls.files.isEmpty {
            result.append(gauges(
                "periscope.agent.tls.processes.probed", "{process}",
                "Traced processes whose TLS plaintext is read, by library and file probed.",
                tls.files.map { (library($0.library) + [Attribute("file", .string($0.path))], $0.processes) }))
        }
        if !tls.refusalsByCode.isEmpty {
            result.append(gauges(
                "periscope.agent.tls.processes.refused", "{process}",
                "Traced processes that map a TLS library or are Go programs but could not be probed, by reason.",
                tls.refusalsByCode.sorted { $0.key < $1.key }.map { ([Attribute("reason", .string($0.key))], $0.value) }))
        }
        result.append(counter(
            "periscope.agent.tls.plaintext", "{event}", "Plaintext events read at TLS libraries, by library.",
            [(library("openssl"), tls.plaintextEvents), (library("go_crypto_tls"), tls.goPlaintextEvents)]))
        result.append(counter(
            "periscope.agent.tls.plaintext.dropped", "{call}",
            "TLS calls whose plaintext was dropped: the session was never seen on a selected socket, or (Go) its socket could not be read.",
            [(library("openssl"), tls.unboundSessions), (library("go_crypto_tls"), tls.goCallsUnresolved)]))
        return result
    }
}
