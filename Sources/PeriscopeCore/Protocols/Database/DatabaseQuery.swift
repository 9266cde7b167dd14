/// What a span says about one statement or command, worked out once from its text:
/// `db.operation.name`, `db.collection.name` and the (sanitized) `db.query.text`.
public struct DatabaseQuery: Sendable, Equatable {
    /// `SELECT`, `INSERT`, `GET`, … uppercased; nil when the text names none.
    public var operation: String?
    /// The one table (or collection) the statement names; nil for none or several.
    public var collection: String?
    /// The statement as `db.query.text` reports it: literals replaced by `?` unless the
    /// options keep values, bounded in length.
    public var text: String?

    public init(operation: String?, collection: String? = nil, text: String? = nil) {
        self.operation = operation
        self.collection = collection
        self.text = text
    }

    /// The span name OpenTelemetry's database conventions give: `{operation} {collection}`,
    /// the operation alone, or the system's name when the operation is unknown.
    public func spanName(system: DatabaseSystem) -> String {
        guard let operation else { return system.rawValue }
        guard let collection else { return operation }
        return operation + " " + collection
    }
}
