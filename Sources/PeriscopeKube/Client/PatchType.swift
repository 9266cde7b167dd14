/// How a PATCH body is interpreted.
public enum PatchType: Sendable, Hashable {
    /// RFC 7386 JSON merge patch.
    case merge
    /// RFC 6902 JSON patch (a list of operations).
    case json
    /// Strategic merge patch (built-in kinds only).
    case strategicMerge
    /// Server-side apply: the body is the full intent of `fieldManager`; `force` takes over
    /// fields other managers own instead of failing with a 409 conflict.
    case apply(fieldManager: String, force: Bool)

    public var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategicMerge: return "application/strategic-merge-patch+json"
        case .apply: return "application/apply-patch+yaml"
        }
    }
}
