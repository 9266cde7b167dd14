/// The header fields an HTTP/2 span reads; every other name is passed over without a copy.
enum HTTP2HeaderName: Sendable, Equatable {
    case method, path, authority, status, host, userAgent, traceparent, contentType, grpcStatus, grpcMessage, grpcTraceBin

    private static let names: [(HTTP2HeaderName, [UInt8])] = [
        (.method, Array(":method".utf8)), (.path, Array(":path".utf8)), (.authority, Array(":authority".utf8)),
        (.status, Array(":status".utf8)), (.host, Array("host".utf8)), (.userAgent, Array("user-agent".utf8)),
        (.traceparent, Array("traceparent".utf8)), (.contentType, Array("content-type".utf8)),
        (.grpcStatus, Array("grpc-status".utf8)), (.grpcMessage, Array("grpc-message".utf8)),
        (.grpcTraceBin, Array("grpc-trace-bin".utf8)),
    ]

    /// HTTP/2 field names are lowercase (RFC 9113 §8.2.1): compared as they are.
    init?(_ name: ArraySlice<UInt8>) {
        for (known, bytes) in Self.names where bytes.count == name.count && bytes.elementsEqual(name) {
            self = known
            return
        }
        return nil
    }
}
