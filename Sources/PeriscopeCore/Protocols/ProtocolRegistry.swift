/// Every protocol Periscope decodes, in the order detection tries them. Adding a protocol
/// is a folder under `Protocols/` and one line here.
public enum ProtocolRegistry {
    public static let all: [ProtocolRegistration] = [
        .http2,
        .http1,
        .postgresql,
        .redis,
        .mysql,
    ]
}
