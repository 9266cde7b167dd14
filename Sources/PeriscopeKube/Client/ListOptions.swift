/// Query parameters of a list or watch.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: LabelSelector?
    public var fieldSelector: FieldSelector?
    /// Page size; the server returns a `continue` token when more remain.
    public var limit: Int?
    public var `continue`: String?
    public var resourceVersion: String?
    /// `Exact` or `NotOlderThan` (with `resourceVersion`).
    public var resourceVersionMatch: String?
    public var timeoutSeconds: Int?

    public init(
        labelSelector: LabelSelector? = nil, fieldSelector: FieldSelector? = nil, limit: Int? = nil,
        continue: String? = nil, resourceVersion: String? = nil, resourceVersionMatch: String? = nil,
        timeoutSeconds: Int? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continue = `continue`
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
        self.timeoutSeconds = timeoutSeconds
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let labelSelector, !labelSelector.requirements.isEmpty { items.append(("labelSelector", labelSelector.description)) }
        if let fieldSelector, !fieldSelector.terms.isEmpty { items.append(("fieldSelector", fieldSelector.description)) }
        if let limit { items.append(("limit", String(limit))) }
        if let token = self.continue, !token.isEmpty { items.append(("continue", token)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch { items.append(("resourceVersionMatch", resourceVersionMatch)) }
        if let timeoutSeconds { items.append(("timeoutSeconds", String(timeoutSeconds))) }
        return items
    }
}
