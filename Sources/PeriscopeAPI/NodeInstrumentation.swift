import PeriscopeCore
import PeriscopeKube

/// `periscope.dev/v1alpha1` NodeInstrumentation: everything the agent on one node must trace,
/// resolved from all InstrumentationPolicies. Cluster-scoped and named after its node. The
/// controller owns `spec` (server-side apply, field manager `periscope-controller`); the node's
/// agent owns `status`. See `crds/nodeinstrumentation.yaml`.
public struct NodeInstrumentation: KubeResource, Hashable {
    public static let resourceType = KubeResourceType.nodeInstrumentations

    public var apiVersion: String = KubeResourceType.nodeInstrumentations.apiVersion
    public var kind: String = KubeResourceType.nodeInstrumentations.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// What to trace on the node. Lists are sorted (policies by namespace and name, targets by
    /// namespace, name and policy) so equal content always encodes the same way.
    public struct Spec: Codable, Sendable, Hashable {
        /// The node this object is for (equal to `metadata.name`).
        public var nodeName: String
        /// The effective settings of every policy in force for at least one target here.
        public var policies: [PolicySettings]
        /// One entry per pod and winning policy: the containers of a running pod on this node
        /// that policy is in force for.
        public var targets: [Target]

        public init(nodeName: String, policies: [PolicySettings] = [], targets: [Target] = []) {
            self.nodeName = nodeName
            self.policies = policies
            self.targets = targets
        }

        enum CodingKeys: String, CodingKey { case nodeName, policies, targets }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            nodeName = try container.decodeIfPresent(String.self, forKey: .nodeName) ?? ""
            policies = try container.decodeIfPresent([PolicySettings].self, forKey: .policies) ?? []
            targets = try container.decodeIfPresent([Target].self, forKey: .targets) ?? []
        }
    }

    /// A policy in force on the node: its name, the generation it was read at, and its spec as
    /// the operator wrote it without the selectors (`podSelector`, `containers`), which the
    /// controller has already applied. The agent decodes the spec with the same decoder the
    /// controller validated it with, so neither side lists the policy's fields.
    public struct PolicySettings: Codable, Sendable, Hashable {
        /// The policy's namespace; it only selects pods there.
        public var namespace: String
        public var name: String
        /// The policy's `metadata.generation` these settings come from.
        public var generation: Int64
        /// The policy's fields (`ports`, `sampling`, `export`, …) as written.
        public var spec: DocumentNode

        public init(namespace: String, name: String, generation: Int64, spec: DocumentNode = .emptyMapping) {
            self.namespace = namespace
            self.name = name
            self.generation = generation
            self.spec = spec
        }

        /// `namespace/name`: the policy's name on the node, and where its identity comes from.
        public var key: String { "\(namespace)/\(name)" }

        /// The policy, decoded.
        public func policy() throws(PolicyError) -> Policy {
            try Policy.decode(spec: spec, environment: .cluster)
        }

        enum CodingKeys: String, CodingKey { case namespace, name, generation, spec }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            namespace = try container.decode(String.self, forKey: .namespace)
            name = try container.decode(String.self, forKey: .name)
            generation = try container.decodeIfPresent(Int64.self, forKey: .generation) ?? 0
            spec = try container.decodeIfPresent(DocumentNode.self, forKey: .spec) ?? .emptyMapping
        }
    }

    /// Containers of one running pod that one policy is in force for.
    public struct Target: Codable, Sendable, Hashable {
        /// The pod's `metadata.uid`.
        public var uid: String
        public var namespace: String
        public var name: String
        /// The workload an operator knows the pod by, resolved through controller references
        /// (ReplicaSet → Deployment, Job → CronJob); absent for a bare pod.
        public var owner: Owner?
        /// The pod's labels.
        public var labels: [String: String]
        /// The pod's `resource.opentelemetry.io/*` annotations; absent when it has none.
        public var annotations: [String: String]?
        /// Name of the winning policy, in the pod's namespace (an entry of `spec.policies`).
        public var policy: String
        /// The containers to trace, sorted by name; only those whose ID is known.
        public var containers: [Container]

        public init(
            uid: String, namespace: String, name: String, owner: Owner?, labels: [String: String], annotations: [String: String]? = nil,
            policy: String, containers: [Container]
        ) {
            self.uid = uid
            self.namespace = namespace
            self.name = name
            self.owner = owner
            self.labels = labels
            self.annotations = annotations
            self.policy = policy
            self.containers = containers
        }
    }

    /// `{kind: Deployment, name: checkout}`.
    public struct Owner: Codable, Sendable, Hashable {
        public var kind: String
        public var name: String

        public init(kind: String, name: String) {
            self.kind = kind
            self.name = name
        }
    }

    /// A container and the runtime's ID for it (`containerd://<64 hex>`), which the agent
    /// finds in `/proc/<pid>/cgroup`.
    public struct Container: Codable, Sendable, Hashable {
        public var name: String
        public var id: String

        public init(name: String, id: String) {
            self.name = name
            self.id = id
        }
    }

    /// Written by the node's agent.
    public struct Status: Codable, Sendable, Hashable {
        /// The `metadata.generation` the agent has applied.
        public var observedGeneration: Int64?
        /// The policies the agent has in force, each at the generation of its settings it applied.
        /// The controller reads this to tell whether a policy is applied on the node.
        public var policies: [PolicyReference]?
        /// Processes the agent currently traces.
        public var processesAttached: Int64?
        /// Kernel events the agent lost since it started (ring buffer full).
        public var eventsDropped: Int64?
        /// Connections and requests the kernel did not capture since the agent started because
        /// the agent was behind (shed whole, never in part).
        public var requestsShed: Int64?
        /// Kernel features the agent found and uses (e.g. `raw_tracepoint`, `ringbuf`, `btf`).
        public var kernelFeatures: [String]?
        /// Trace context the kernel wrote into traced processes' traffic since the agent started.
        public var propagation: PropagationStatus?
        /// TLS libraries whose plaintext the agent reads, and traced processes it could not probe.
        public var tls: TLSStatus?
        /// The last failure applying this object, absent when the last apply succeeded.
        public var lastError: LastError?

        public init(
            observedGeneration: Int64? = nil, policies: [PolicyReference]? = nil, processesAttached: Int64? = nil,
            eventsDropped: Int64? = nil, requestsShed: Int64? = nil, kernelFeatures: [String]? = nil,
            propagation: PropagationStatus? = nil, tls: TLSStatus? = nil, lastError: LastError? = nil
        ) {
            self.requestsShed = requestsShed
            self.propagation = propagation
            self.tls = tls
            self.observedGeneration = observedGeneration
            self.policies = policies
            self.processesAttached = processesAttached
            self.eventsDropped = eventsDropped
            self.kernelFeatures = kernelFeatures
            self.lastError = lastError
        }
    }

    /// `status.propagation`: trace context written into traffic, and requests left as they were.
    public struct PropagationStatus: Codable, Sendable, Hashable {
        /// `traceparent` lines inserted into outgoing HTTP/1 requests.
        public var headersInjected: Int64?
        /// TCP header options written.
        public var optionsWritten: Int64?
        /// Requests left untouched, by reason: `carryingTraceparent`, `splitHead`, `pipelined`, `noRoom`.
        public var requestsUntouched: [String: Int64]?

        public init(headersInjected: Int64? = nil, optionsWritten: Int64? = nil, requestsUntouched: [String: Int64]? = nil) {
            self.headersInjected = headersInjected
            self.optionsWritten = optionsWritten
            self.requestsUntouched = requestsUntouched
        }
    }

    /// `status.tls`: the TLS library and executable files whose plaintext the agent reads through
    /// uprobes, with how many traced processes map each, and the traced processes it could not
    /// probe, with why.
    public struct TLSStatus: Codable, Sendable, Hashable {
        /// Files probed, by path.
        public var files: [ProbedFile]?
        /// Traced processes probed through at least one file.
        public var processesProbed: Int64?
        /// Traced processes that map a TLS library or are Go programs but could not be probed,
        /// by reason code (`tls.no_symbols`, `tls.unsupported_version`, `tls.attach_failed`, …).
        public var processesRefused: [String: Int64]?
        /// The first of them by pid (at most `maxRefusalsListed`), each with its reasons in full.
        public var refusals: [Refusal]?

        /// Refused processes listed by pid at most; the counts by reason cover them all.
        public static let maxRefusalsListed = 10

        public init(files: [ProbedFile]? = nil, processesProbed: Int64? = nil, processesRefused: [String: Int64]? = nil, refusals: [Refusal]? = nil) {
            self.files = files
            self.processesProbed = processesProbed
            self.processesRefused = processesRefused
            self.refusals = refusals
        }

        /// `status.tls.files[]`.
        public struct ProbedFile: Codable, Sendable, Hashable {
            /// The path as the first traced process seen mapping it names it (inside its container).
            public var path: String
            /// `openssl` or `go_crypto_tls`.
            public var library: String
            /// Traced processes mapping it.
            public var processes: Int64

            public init(path: String, library: String, processes: Int64) {
                self.path = path
                self.library = library
                self.processes = processes
            }
        }

        /// `status.tls.refusals[]`.
        public struct Refusal: Codable, Sendable, Hashable {
            public var pid: Int64
            /// Stable code first, then details, per file refused.
            public var reason: String

            public init(pid: Int64, reason: String) {
                self.pid = pid
                self.reason = reason
            }
        }
    }

    /// A policy at one generation: `{namespace, name, generation}`.
    public struct PolicyReference: Codable, Sendable, Hashable {
        public var namespace: String
        public var name: String
        /// The policy's `metadata.generation` (equal to `spec.policies[].generation`).
        public var generation: Int64

        public init(namespace: String, name: String, generation: Int64) {
            self.namespace = namespace
            self.name = name
            self.generation = generation
        }
    }

    /// `status.lastError`.
    public struct LastError: Codable, Sendable, Hashable {
        /// What failed, for a person.
        public var message: String
        /// RFC 3339, when it happened.
        public var time: String?

        public init(message: String, time: String? = nil) {
            self.message = message
            self.time = time
        }
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec(nodeName: metadata.name ?? "")
        status = try container.decodeIfPresent(Status.self, forKey: .status)
    }

    /// Whether the agent reports having applied the current generation.
    public var isApplied: Bool {
        guard let generation = metadata.generation, let observed = status?.observedGeneration else { return false }
        return observed >= generation
    }

    /// Whether the agent reports a policy in force at `generation`.
    public func hasApplied(namespace: String, name: String, generation: Int64) -> Bool {
        status?.policies?.contains { $0.namespace == namespace && $0.name == name && $0.generation == generation } ?? false
    }
}
