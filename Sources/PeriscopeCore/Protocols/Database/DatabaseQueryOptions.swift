/// What database decoders keep of the statements and commands they see. One value per
/// decoder, from the policy of the connection's process.
public struct DatabaseQueryOptions: Sendable, Equatable {
    /// Keep literal values in `db.query.text` (policy `capture.keepQueryValues`). Default
    /// false: SQL literals become `?` and Redis commands keep their name and key only.
    /// Passwords (`AUTH`, `HELLO … AUTH`) are never kept.
    public var keepQueryValues: Bool
    /// `db.query.text` is cut to this many bytes (at a character boundary). Default 2048.
    public var maxQueryTextLength: Int

    public init(keepQueryValues: Bool = false, maxQueryTextLength: Int = 2048) {
        self.keepQueryValues = keepQueryValues
        self.maxQueryTextLength = max(16, maxQueryTextLength)
    }

    /// What a policy's configuration asks of database decoders.
    public init(_ configuration: ProtocolConfiguration) {
        self.init(keepQueryValues: configuration.keepQueryValues)
    }
}
