/// A `metav1.Condition`: one aspect of an object's state, keyed by `type`.
/// `lastTransitionTime` moves only when `status` changes.
public struct Condition: Codable, Sendable, Hashable {
    /// `Accepted` or `Ready`.
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    /// CamelCase, machine-readable: why the condition has this status.
    public var reason: String
    /// For a person: what is wrong and what to do.
    public var message: String
    /// RFC 3339, when `status` last changed.
    public var lastTransitionTime: String?
    /// The `metadata.generation` the condition was computed from.
    public var observedGeneration: Int64?

    public init(type: String, status: String, reason: String, message: String, lastTransitionTime: String? = nil, observedGeneration: Int64? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    /// Equal in everything but `lastTransitionTime`.
    public func sameState(as other: Condition) -> Bool {
        type == other.type && status == other.status && reason == other.reason && message == other.message
            && observedGeneration == other.observedGeneration
    }
}
