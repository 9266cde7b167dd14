/// gRPC status codes and how OpenTelemetry's RPC conventions turn them into a span status:
/// a client's span is an error for every code but OK; a server's only for codes that say
/// the server failed (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
/// DATA_LOSS), not for those that say the caller asked wrongly (NOT_FOUND, …).
public enum GRPCStatus {
    public static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// `NOT_FOUND` for 5; nil for a code gRPC does not define.
    public static func name(_ code: Int) -> String? {
        names.indices.contains(code) ? names[code] : nil
    }

    /// Whether `code` makes the span of the server (`forServer`) or of the client an error.
    public static func isError(_ code: Int, forServer: Bool) -> Bool {
        guard forServer else { return code != 0 }
        switch code {
        case 2, 4, 12, 13, 14, 15: return true
        default: return name(code) == nil
        }
    }
}
