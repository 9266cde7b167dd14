import PeriscopeAPI
import PeriscopeCore
import PeriscopeKube

/// The InstrumentationPolicy `periscopectl instrument namespace` writes: an empty podSelector
/// (every pod of the namespace) with the ports and sampling given on the command line.
public struct NamespacePolicy: Sendable, Hashable {
    /// The policy's name in each instrumented namespace.
    public static let name = "periscope-namespace"
    /// The field manager of `periscopectl`'s server-side applies.
    public static let fieldManager = "periscopectl"

    /// `--ports`: a port or `port-endPort`.
    public struct PortRange: Sendable, Hashable {
        public var port: Int64
        public var endPort: Int64?

        public init(port: Int64, endPort: Int64? = nil) {
            self.port = port
            self.endPort = endPort
        }

        /// `{port: 8000, endPort: 9000}`, as the policy's `ports` lists it.
        public var document: DocumentNode {
            endPort.map { ["port": DocumentNode(integerLiteral: Int(port)), "endPort": DocumentNode(integerLiteral: Int($0))] }
                ?? ["port": DocumentNode(integerLiteral: Int(port))]
        }
    }

    /// `--sampling`: a sampler name and, for the ratio samplers, the ratio as written.
    public struct Sampling: Sendable, Hashable {
        public var sampler: String
        public var ratio: String?

        public init(sampler: String, ratio: String? = nil) {
            self.sampler = sampler
            self.ratio = ratio
        }

        /// The policy's `sampling`.
        public var document: DocumentNode {
            ratio.map { ["sampler": DocumentNode(stringLiteral: sampler), "ratio": DocumentNode(stringLiteral: $0)] }
                ?? ["sampler": DocumentNode(stringLiteral: sampler)]
        }
    }

    public var namespace: String
    public var ports: [PortRange]
    public var sampling: Sampling?

    public init(namespace: String, ports: String? = nil, sampling: String? = nil) throws(CtlError) {
        self.namespace = namespace
        self.ports = try ports.map(Self.parsePorts) ?? []
        self.sampling = try sampling.map(Self.parseSampling)
        if case .failure(let rejection) = PolicyValidation.validate(policy.spec) {
            throw CtlError(code: .invalidArgument, message: "the policy would be rejected: \(rejection)")
        }
    }

    /// The object to apply.
    public var policy: InstrumentationPolicy {
        InstrumentationPolicy(
            metadata: ObjectMeta(
                name: Self.name, namespace: namespace, labels: ["app.kubernetes.io/managed-by": Self.fieldManager]),
            spec: InstrumentationPolicy.Spec(DocumentNode(.mapping(specEntries))))
    }

    /// `podSelector: {}` and the flags given.
    private var specEntries: [DocumentNode.Entry] {
        var entries = [DocumentNode.Entry("podSelector", .emptyMapping)]
        if !ports.isEmpty { entries.append(.init("ports", DocumentNode(.sequence(ports.map(\.document))))) }
        if let sampling { entries.append(.init("sampling", sampling.document)) }
        return entries
    }

    /// `8080,9000-9100` → ranges; each port 1…65535, ranges ascending.
    public static func parsePorts(_ text: String) throws(CtlError) -> [PortRange] {
        var ranges: [PortRange] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            let numbers = bounds.map { Int64($0.trimmingSpaces()) }
            guard (1...2).contains(bounds.count), numbers.allSatisfy({ $0.map { (1...65535).contains($0) } == true }) else {
                throw CtlError(code: .invalidArgument, message: "--ports: '\(item)' is not a port (1-65535) or a range like 9000-9100")
            }
            let low = numbers[0]!
            if bounds.count == 2 {
                let high = numbers[1]!
                guard high >= low else {
                    throw CtlError(code: .invalidArgument, message: "--ports: range '\(item)' ends before it starts")
                }
                ranges.append(.init(port: low, endPort: high == low ? nil : high))
            } else {
                ranges.append(.init(port: low))
            }
        }
        return ranges
    }

    /// `0.25` (parent-based ratio), a sampler name (`always_on`), or `NAME:RATIO`.
    public static func parseSampling(_ text: String) throws(CtlError) -> Sampling {
        if let ratio = Double(text) {
            guard (0...1).contains(ratio) else {
                throw CtlError(code: .invalidArgument, message: "--sampling: ratio \(text) is not between 0 and 1")
            }
            return .init(sampler: "parentbased_traceidratio", ratio: text)
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else {
            throw CtlError(code: .invalidArgument, message: "--sampling: empty")
        }
        return .init(sampler: name, ratio: parts.count == 2 ? parts[1] : nil)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        drop { $0 == " " }.reversed().drop { $0 == " " }.reversed().map { $0 }.reduce(into: "") { $0.append($1) }[...]
    }
}
