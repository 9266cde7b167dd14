/// Encodes metrics as an OTLP `ExportMetricsServiceRequest` (protobuf): one
/// `ResourceMetrics` per process (and one for the agent's own metrics), cumulative
/// temporality, explicit-bucket histograms.
public enum OTLPMetricsEncoder {
    /// - Parameters:
    ///   - timeUnixNano: the collection time of every point.
    ///   - resource: the resource of a process's points; `nil` asks for the agent's.
    public static func encode(
        _ metrics: [Metric], timeUnixNano: UInt64, resource: (ProcessKey?) -> TelemetryResource
    ) -> [UInt8] {
        var order: [ProcessKey?] = []
        var seen: Set<ProcessKey?> = []
        for metric in metrics {
            for point in metric.points where seen.insert(point.process).inserted {
                order.append(point.process)
            }
        }
        var writer = ProtobufWriter(reservingCapacity: 4096)
        for process in order {
            writer.message(1) { resourceMetrics in
                resourceMetrics.resource(1, resource(process))
                resourceMetrics.message(2) { scopeMetrics in
                    scopeMetrics.scope(1)
                    for metric in metrics {
                        let points = metric.points.filter { $0.process == process }
                        guard !points.isEmpty else { continue }
                        scopeMetrics.message(2) { $0.metric(metric, points: points, time: timeUnixNano) }
                    }
                }
            }
        }
        return writer.bytes
    }
}

extension ProtobufWriter {
    /// The fields of one OTLP `Metric` holding `points`.
    mutating func metric(_ metric: Metric, points: [Metric.Point], time: UInt64) {
        string(1, metric.name)
        string(2, metric.description)
        string(3, metric.unit)
        switch metric.kind {
        case .gauge:
            message(5) { gauge in
                for point in points { gauge.message(1) { $0.numberPoint(point, time: time, withStart: false) } }
            }
        case .counter:
            message(7) { sum in
                for point in points { sum.message(1) { $0.numberPoint(point, time: time, withStart: true) } }
                sum.uint64(2, 2)  // AGGREGATION_TEMPORALITY_CUMULATIVE
                sum.bool(3, true)
            }
        case .histogram:
            message(9) { histogram in
                for point in points { histogram.message(1) { $0.histogramPoint(point, time: time) } }
                histogram.uint64(2, 2)  // AGGREGATION_TEMPORALITY_CUMULATIVE
            }
        }
    }

    /// `NumberDataPoint`.
    mutating func numberPoint(_ point: Metric.Point, time: UInt64, withStart: Bool) {
        if withStart { fixed64(2, point.startTimeUnixNano) }
        fixed64(3, time)
        switch point.value {
        case .int(let value):
            tag(6, .fixed64)
            littleEndian64(UInt64(bitPattern: value))
        case .double(let value):
            double(4, value)
        case .histogram(let histogram):
            double(4, histogram.sum)
        }
        attributes(7, point.attributes)
    }

    /// `HistogramDataPoint`.
    mutating func histogramPoint(_ point: Metric.Point, time: UInt64) {
        guard case .histogram(let histogram) = point.value else { return }
        fixed64(2, point.startTimeUnixNano)
        fixed64(3, time)
        tag(4, .fixed64)
        littleEndian64(histogram.count)
        double(5, histogram.sum)
        packedFixed64(6, histogram.counts)
        packedDouble(7, histogram.bounds)
        attributes(9, point.attributes)
        if histogram.count > 0 {
            double(11, histogram.min)
            double(12, histogram.max)
        }
    }
}
