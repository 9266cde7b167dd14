/// Renders metrics in the Prometheus text exposition format (version 0.0.4) under the
/// conventional names: dots become underscores, the unit becomes a suffix (`_seconds`,
/// `_bytes`), counters end in `_total`. A process's series carry its `service_name`;
/// series that end up with the same labels (several processes of one service) are added up.
public enum PrometheusTextFormatter {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// - Parameter serviceName: the `service.name` of a process's resource.
    public static func format(_ metrics: [Metric], serviceName: (ProcessKey) -> String) -> String {
        var out = ""
        for metric in metrics {
            let name = prometheusName(metric)
            let type = switch metric.kind {
            case .histogram: "histogram"
            case .counter: "counter"
            case .gauge: "gauge"
            }
            var order: [[Label]] = []
            var merged: [[Label]: Metric.Value] = [:]
            for point in metric.points {
                var labels: [Label] = []
                if let process = point.process { labels.append(Label(name: "service_name", value: serviceName(process))) }
                for attribute in point.attributes {
                    labels.append(Label(name: labelName(attribute.key), value: labelValue(attribute.value)))
                }
                if let existing = merged[labels] {
                    merged[labels] = add(existing, point.value)
                } else {
                    order.append(labels)
                    merged[labels] = point.value
                }
            }
            guard !order.isEmpty else { continue }
            out += "# HELP \(name) \(escapeHelp(metric.description))\n# TYPE \(name) \(type)\n"
            for labels in order {
                switch merged[labels]! {
                case .int(let value):
                    out += "\(name)\(render(labels)) \(value)\n"
                case .double(let value):
                    out += "\(name)\(render(labels)) \(number(value))\n"
                case .histogram(let histogram):
                    var cumulative: UInt64 = 0
                    for (index, bound) in histogram.bounds.enumerated() {
                        cumulative += histogram.counts[index]
                        out += "\(name)_bucket\(render(labels + [Label(name: "le", value: number(bound))])) \(cumulative)\n"
                    }
                    out += "\(name)_bucket\(render(labels + [Label(name: "le", value: "+Inf")])) \(histogram.count)\n"
                    out += "\(name)_sum\(render(labels)) \(number(histogram.sum))\n"
                    out += "\(name)_count\(render(labels)) \(histogram.count)\n"
                }
            }
        }
        return out
    }

    struct Label: Hashable {
        var name: String
        var value: String
    }

    /// `http.server.request.duration` in `s` → `http_server_request_duration_seconds`.
    public static func prometheusName(_ metric: Metric) -> String {
        var name = sanitized(metric.name)
        let suffix = switch metric.unit {
        case "s": "_seconds"
        case "By": "_bytes"
        case "ms": "_milliseconds"
        default: ""
        }
        if !suffix.isEmpty, !name.hasSuffix(suffix) { name += suffix }
        if metric.kind == .counter, !name.hasSuffix("_total") { name += "_total" }
        return name
    }

    static func sanitized(_ text: String) -> String {
        var result = String(text.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ":": Character(scalar)
            default: "_"
            }
        })
        if let first = result.first, first.isNumber { result = "_" + result }
        return result
    }

    static func labelName(_ key: String) -> String {
        sanitized(key).replacingColons()
    }

    static func labelValue(_ value: AttributeValue) -> String {
        switch value {
        case .string(let text): text
        case .int(let integer): String(integer)
        case .bool(let flag): flag ? "true" : "false"
        case .double(let real): number(real)
        }
    }

    static func render(_ labels: [Label]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.name)=\"\(escapeLabel($0.value))\"" }.joined(separator: ",") + "}"
    }

    static func escapeLabel(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapeHelp(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func add(_ lhs: Metric.Value, _ rhs: Metric.Value) -> Metric.Value {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)):
            return .int(a &+ b)
        case (.double(let a), .double(let b)):
            return .double(a + b)
        case (.histogram(var a), .histogram(let b)) where a.bounds == b.bounds:
            a.merge(b)
            return .histogram(a)
        default:
            return lhs
        }
    }
}

extension String {
    /// Label names may not contain colons (metric names may).
    fileprivate func replacingColons() -> String { replacing(":", with: "_") }
}
