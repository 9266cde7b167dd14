/// Status messages of HTTP spans whose response never completed.
public enum ConnectionEndReason {
    public static let closed = "connection closed before the response completed"
    public static let processExited = "process exited before the response completed"
    public static let idle = "connection idle; tracking stopped before the response completed"
}

extension ConnectionEndReason {
    public static let shed = "capture shed under load before the response completed"
}
