import FoundationEssentials
import Logging
import PeriscopeCore
import PeriscopeSystem
import ServiceLifecycle
import Synchronization

/// Sends sampled spans and the metrics to an OTLP/HTTP receiver from a thread of its
/// own, so a slow or dead receiver never holds up capture.
///
/// Spans wait in a bounded queue (`maxQueueSize`), encoded as they are queued
/// (`SpanExportQueue`); a full queue refuses and counts them. Batches leave when `maxExportBatchSize` spans wait or the oldest has waited
/// `scheduleDelay`. Failed requests are retried as `ExportRetryPolicy` says, then
/// dropped and counted. Metrics are sent every `metricExportInterval`. On graceful
/// shutdown what is queued is sent within `shutdownTimeout`, then metrics once more.
public final class OTLPExporter: Service, Sendable {
    public let configuration: ExportConfiguration.OTLP
    private let retryPolicy: ExportRetryPolicy
    private let resources: ProcessResources
    private let metricsSource: @Sendable (ExportStatistics) -> [Metric]
    private let logger: Logger
    private let queue: Mutex<SpanExportQueue>
    /// The batch being sent; the export thread's only (the lock is never contended).
    private let batch = Mutex(SpanExportBatch())
    private let statistics = Mutex(ExportStatistics())
    private let stopping = Atomic<Bool>(false)
    private let deadlineNanos = Atomic<UInt64>(0)

    /// - Parameter metricsSource: everything to send as metrics, read on each export,
    ///   given the exporter's own counters.
    public init(
        configuration: ExportConfiguration.OTLP, resources: ProcessResources, logger: Logger,
        metricsSource: @escaping @Sendable (ExportStatistics) -> [Metric]
    ) {
        self.configuration = configuration
        self.resources = resources
        self.logger = logger
        self.metricsSource = metricsSource
        retryPolicy = ExportRetryPolicy(retryTimeout: configuration.retryTimeout)
        queue = Mutex(SpanExportQueue(
            capacity: configuration.maxQueueSize, batchSize: configuration.maxExportBatchSize,
            maximumDelayNanos: configuration.scheduleDelay.nanoseconds
        ))
    }

    /// Encodes and queues spans without waiting on the network; what does not fit is counted
    /// as dropped.
    public func enqueue(_ spans: [Span]) {
        let now = MonotonicClock.now()
        let (refused, length) = queue.withLock { queue in
            (queue.append(contentsOf: spans, now: now), queue.occupancy)
        }
        statistics.withLock { statistics in
            statistics.spansQueued += UInt64(spans.count - refused)
            statistics.spansDroppedQueueFull += UInt64(refused)
            statistics.queueLength = length
        }
    }

    /// The counters as of now.
    public var currentStatistics: ExportStatistics { statistics.withLock { $0 } }

    /// Asks the thread to finish; `run()` returns once it has.
    public func requestStop() { stopping.store(true, ordering: .releasing) }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await DedicatedThread.run(name: "periscope-export") { [self] in
                    exportLoop(client: OTLPHTTPClient(headers: configuration.headers))
                }
            } onCancel: {
                self.requestStop()
            }
        } onGracefulShutdown: {
            self.requestStop()
        }
        logger.info("export.stopped", metadata: [
            "spans.exported": "\(currentStatistics.spansExported)", "spans.dropped": "\(currentStatistics.spansDropped)",
        ])
    }

    private var stopRequested: Bool { stopping.load(ordering: .acquiring) }

    private func exportLoop(client: OTLPHTTPClient) {
        let interval = configuration.metricExportInterval.nanoseconds
        var nextMetrics = MonotonicClock.now() + interval
        var failing = false
        // One encoding buffer for every batch, sent from directly.
        var encoder = ProtobufWriter(reservingCapacity: 64 * 1024)
        while !stopRequested {
            let now = MonotonicClock.now()
            let readiness = readiness(now: now)
            if readiness == .due {
                let count = takeRequest(into: &encoder)
                exportSpans(count, request: encoder, client: client, failing: &failing)
                continue
            }
            if now >= nextMetrics {
                nextMetrics = now + interval
                exportMetrics(client: client, failing: &failing)
                continue
            }
            var wake = nextMetrics
            if case .waitUntil(let due) = readiness { wake = min(wake, due) }
            sleep(untilMonotonic: min(wake, now + 20_000_000))
        }
        let deadline = shutdownDeadline() ?? MonotonicClock.now()
        while MonotonicClock.now() < deadline {
            let count = takeRequest(into: &encoder)
            if count == 0 { break }
            exportSpans(count, request: encoder, client: client, failing: &failing)
        }
        let left = queue.withLock { $0.removeAll() } + batch.withLock { $0.removeAll() }
        statistics.withLock { $0.spansDroppedShutdown += UInt64(left); $0.queueLength = 0 }
        if left > 0 {
            logger.warning("export.shutdown.dropped", metadata: ["spans": "\(left)"])
        }
        if MonotonicClock.now() < deadline {
            exportMetrics(client: client, failing: &failing)
        }
    }

    /// Takes up to `maxExportBatchSize` queued spans, oldest first, due or not, and writes the
    /// export request that carries them into `request`, emptied first: what the export thread
    /// sends. Returns how many spans it carries; 0, and `request` empty, when none were queued.
    /// Public so that the export thread's work can be measured without a network.
    public func takeRequest(into request: inout ProtobufWriter) -> Int {
        let batchSize = configuration.maxExportBatchSize
        return batch.withLock { batch in
            queue.withLock { $0.takeBatch(into: &batch) }
            let count = batch.encodeRequest(into: &request, maximum: batchSize) { resources.resource(for: $0) }
            let pending = batch.pending
            let left = queue.withLock { queue in
                queue.holding(pending)
                return queue.count + pending
            }
            statistics.withLock { $0.queueLength = left }
            return count
        }
    }

    /// Whether a request is due: spans taken and not yet sent, or the queue's batch.
    private func readiness(now: UInt64) -> SpanExportQueue.Readiness {
        if batch.withLock({ $0.pending }) > 0 { return .due }
        return queue.withLock { $0.readiness(now: now) }
    }

    /// Sends `request`, which carries `count` spans, and counts them exported or dropped.
    private func exportSpans(_ count: Int, request: borrowing ProtobufWriter, client: OTLPHTTPClient, failing: inout Bool) {
        guard count > 0 else { return }
        let delivered = request.withUnsafeBytes { body in
            send(body, to: configuration.tracesEndpoint, signal: "traces", client: client, failing: &failing)
        }
        let length = queue.withLock { $0.count } + batch.withLock { $0.pending }
        statistics.withLock { statistics in
            if delivered {
                statistics.spansExported += UInt64(count)
            } else {
                statistics.spansDroppedExportFailed += UInt64(count)
            }
            statistics.queueLength = length
        }
    }

    private func exportMetrics(client: OTLPHTTPClient, failing: inout Bool) {
        let metrics = metricsSource(currentStatistics)
        guard !metrics.isEmpty else { return }
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let body = OTLPMetricsEncoder.encode(metrics, timeUnixNano: now) { resources.resource(for: $0) }
        // Metrics are cumulative: a failed export is superseded by the next one, so it is
        // counted but not retried.
        _ = body.withUnsafeBufferPointer { body in
            send(body, to: configuration.metricsEndpoint, signal: "metrics", client: client, failing: &failing, retry: false)
        }
    }

    /// Sends one request, retrying as the policy says; true when delivered.
    private func send(
        _ body: UnsafeBufferPointer<UInt8>, to url: String, signal: String, client: OTLPHTTPClient, failing: inout Bool, retry: Bool = true
    ) -> Bool {
        let payload = configuration.compression == .gzip ? Data(Gzip.compress(body)) : Data(buffer: body)
        let started = MonotonicClock.now()
        var attempt = 1
        while true {
            var timeout = configuration.timeout
            if let deadline = shutdownDeadline() {
                let now = MonotonicClock.now()
                guard now < deadline else { return false }
                timeout = min(timeout, .nanoseconds(Int64(deadline - now)))
            }
            let result = client.post(url: url, body: payload, gzip: configuration.compression == .gzip, timeout: timeout)
            let elapsed = Duration.nanoseconds(Int64(MonotonicClock.now() - started))
            let decision = retryPolicy.decide(result.response, attempt: attempt, elapsed: elapsed, jitter: Double.random(in: 0..<1))
            if decision == .delivered {
                statistics.withLock { $0.requestsSucceeded += 1; $0.bytesSent += UInt64(payload.count) }
                if failing {
                    failing = false
                    logger.notice("export.recovered", metadata: ["signal": "\(signal)", "url": "\(url)"])
                }
                return true
            }
            statistics.withLock { $0.exportFailures += 1 }
            var metadata: Logger.Metadata = ["signal": "\(signal)", "url": "\(url)", "attempt": "\(attempt)"]
            switch result.response {
            case .status(let status, _): metadata["status"] = "\(status)"
            case .transportFailure: metadata["error"] = "\(result.transportError ?? "no response")"
            }
            if !failing {
                failing = true
                logger.warning("export.failing", metadata: metadata)
            } else {
                logger.debug("export.failed", metadata: metadata)
            }
            guard retry, case .retry(let delay) = decision else {
                if case .drop(let reason) = decision {
                    logger.debug("export.batch.dropped", metadata: ["signal": "\(signal)", "reason": "\(reason)"])
                }
                return false
            }
            let wake = MonotonicClock.now() + delay.nanoseconds
            // Shutdown ends an open-ended wait: the batch then gets what is left of the
            // shutdown deadline.
            while MonotonicClock.now() < wake {
                if let deadline = shutdownDeadline(), wake >= deadline { return false }
                sleep(untilMonotonic: min(wake, MonotonicClock.now() + 50_000_000))
            }
            attempt += 1
        }
    }

    /// When shutdown must be done by; nil until shutdown begins. Exporter thread only.
    private func shutdownDeadline() -> UInt64? {
        guard stopRequested else { return nil }
        let stored = deadlineNanos.load(ordering: .relaxed)
        if stored != 0 { return stored }
        let deadline = MonotonicClock.now() + configuration.shutdownTimeout.nanoseconds
        deadlineNanos.store(deadline, ordering: .relaxed)
        return deadline
    }

    private func sleep(untilMonotonic target: UInt64) {
        let now = MonotonicClock.now()
        guard target > now else { return }
        System.sleep(nanoseconds: target - now)
    }
}
