import PeriscopeKube

/// `periscope.dev/v1alpha1` InstrumentationPolicy: which pods of one namespace Periscope traces,
/// and how. The spec is written by operators; the status only by the controller.
/// See `crds/instrumentationpolicy.yaml` for every field.
public struct InstrumentationPolicy: KubeResource, Hashable {
    public static let resourceType = KubeResourceType.instrumentationPolicies

    public var apiVersion: String = KubeResourceType.instrumentationPolicies.apiVersion
    public var kind: String = KubeResourceType.instrumentationPolicies.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: InstrumentationPolicyStatus?

    public init(metadata: ObjectMeta, spec: Spec = Spec(), status: InstrumentationPolicyStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `namespace/name`.
    public var policyKey: ObjectKey { ObjectKey(namespace: metadata.namespace, name: metadata.name ?? "") }

    /// `spec`, as stored. Semantics and defaults live in `PeriscopeCore.Policy`, which the
    /// controller builds from this through `PolicyValidation`.
    public struct Spec: Codable, Sendable, Hashable {
        /// Pods of the namespace to instrument; absent or `{}` selects every pod.
        public var podSelector: PodSelector?
        /// Container names; absent or empty selects every container of a selected pod.
        public var containers: [String]?
        /// Server ports or ranges; empty traces every port.
        public var ports: [PortRange]?
        /// Globs on the executable path of processes to trace.
        public var executables: [String]?
        /// Process ids (as seen from the node) to trace with their descendants.
        public var pids: [Int64]?
        /// Decoders to run: `http`, `tcp`; empty runs both.
        public var protocols: [String]?
        /// Route patterns reported as `http.route`, first match wins.
        public var routes: [String]?
        public var sampling: Sampling?
        public var exclude: Exclude?
        public var capture: Capture?
        public var export: Export?
        /// Added to the OpenTelemetry resource of every span.
        public var resourceAttributes: [String: String]?

        public init(
            podSelector: PodSelector? = nil, containers: [String]? = nil, ports: [PortRange]? = nil, executables: [String]? = nil,
            pids: [Int64]? = nil, protocols: [String]? = nil, routes: [String]? = nil, sampling: Sampling? = nil,
            exclude: Exclude? = nil, capture: Capture? = nil, export: Export? = nil, resourceAttributes: [String: String]? = nil
        ) {
            self.podSelector = podSelector
            self.containers = containers
            self.ports = ports
            self.executables = executables
            self.pids = pids
            self.protocols = protocols
            self.routes = routes
            self.sampling = sampling
            self.exclude = exclude
            self.capture = capture
            self.export = export
            self.resourceAttributes = resourceAttributes
        }
    }

    /// `{port: 8000, endPort: 9000}` or `{port: 3000}`.
    public struct PortRange: Codable, Sendable, Hashable {
        public var port: Int64
        /// Last port of the range, inclusive; absent for a single port.
        public var endPort: Int64?

        public init(port: Int64, endPort: Int64? = nil) {
            self.port = port
            self.endPort = endPort
        }
    }

    /// `spec.sampling`: the head sampler and, for the ratio samplers, the ratio as a decimal string.
    public struct Sampling: Codable, Sendable, Hashable {
        public var sampler: String?
        public var ratio: String?

        public init(sampler: String? = nil, ratio: String? = nil) {
            self.sampler = sampler
            self.ratio = ratio
        }
    }

    /// `spec.exclude`: never traced.
    public struct Exclude: Codable, Sendable, Hashable {
        public var pids: [Int64]?
        public var executables: [String]?
        public var routes: [String]?

        public init(pids: [Int64]? = nil, executables: [String]? = nil, routes: [String]? = nil) {
            self.pids = pids
            self.executables = executables
            self.routes = routes
        }
    }

    /// `spec.capture`.
    public struct Capture: Codable, Sendable, Hashable {
        public var payloadBytes: Int64?
        public var keepQuery: Bool?
        public var keepQueryValues: Bool?

        public init(payloadBytes: Int64? = nil, keepQuery: Bool? = nil, keepQueryValues: Bool? = nil) {
            self.payloadBytes = payloadBytes
            self.keepQuery = keepQuery
            self.keepQueryValues = keepQueryValues
        }
    }

    /// `spec.export`.
    public struct Export: Codable, Sendable, Hashable {
        public var otlp: OTLP?

        public init(otlp: OTLP? = nil) {
            self.otlp = otlp
        }

        public struct OTLP: Codable, Sendable, Hashable {
            public var endpoint: String?

            public init(endpoint: String? = nil) {
                self.endpoint = endpoint
            }
        }
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(InstrumentationPolicyStatus.self, forKey: .status)
    }
}
