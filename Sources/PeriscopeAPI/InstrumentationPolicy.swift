import PeriscopeCore
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

    /// `spec` as the API server stores it: a document tree decoded once from the JSON it sent.
    /// What the policy fields mean, their defaults and their validation live in
    /// `PeriscopeCore.Policy` and its decoder, the same one that reads a standalone policy file:
    /// `policy()` decodes them; `podSelector` and `containers`, which only a cluster has, are read
    /// here. Nothing in between knows the policy's fields, so a new field needs no code here.
    public struct Spec: Codable, Sendable, Hashable {
        /// Every field as written, `podSelector` and `containers` included.
        public var document: DocumentNode

        /// The fields only an InstrumentationPolicy has; the rest is the policy.
        public static let selectorFields: Set<String> = ["podSelector", "containers"]

        /// `document` must be a mapping (`{}` for an empty spec).
        public init(_ document: DocumentNode = .emptyMapping) {
            self.document = document
        }

        public init(from decoder: any Decoder) throws {
            document = try DocumentNode(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try document.encode(to: encoder)
        }

        /// The policy the spec describes, decoded as a policy file's would be.
        public func policy() throws(PolicyError) -> Policy {
            try Policy.decode(spec: document, environment: .cluster)
        }

        /// The policy's fields without the selectors: what a NodeInstrumentation carries.
        public var policyDocument: DocumentNode { document.removing(keys: Self.selectorFields) }

        /// Pods of the namespace to instrument; absent or `{}` selects every pod. Nil also when
        /// it is malformed, which `PolicyValidation` reports.
        public var podSelector: PodSelector? { document["podSelector"].flatMap { try? PodSelector(document: $0) } }

        /// Container names; absent or empty selects every container of a selected pod.
        public var containers: [String]? {
            guard case .sequence(let items)? = document["containers"]?.content else { return nil }
            return items.compactMap(\.scalarText)
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
