/// A database product as OpenTelemetry's `db.system.name` names it.
public enum DatabaseSystem: String, Sendable, Equatable {
    case postgresql
    case mysql
    case mariadb
    case redis
}
