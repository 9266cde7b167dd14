/// gRPC over HTTP/2 as OpenTelemetry's RPC conventions describe it: a stream whose request
/// has `content-type: application/grpc` (or `application/grpc+…`, `…;…`) is named
/// `package.Service/Method` and carries `rpc.system`, `rpc.service`, `rpc.method`,
/// `rpc.grpc.status_code` (from trailers, or a trailers-only response) and the number of
/// messages each way. Whether its code is an error depends on the side that reports it
/// (`GRPCStatus.isError`): `status` is the server's, `clientStatus` the client's.
extension HTTP2Decoder {
    public enum GRPCAttribute {
        public static let system = "rpc.system"
        public static let service = "rpc.service"
        public static let method = "rpc.method"
        public static let statusCode = "rpc.grpc.status_code"
        /// Length-prefixed messages the client sent and the server sent on the stream.
        public static let requestMessageCount = "rpc.grpc.request.message_count"
        public static let responseMessageCount = "rpc.grpc.response.message_count"
    }

    static func isGRPC(contentType: String?) -> Bool {
        guard let contentType else { return false }
        let utf8 = contentType.utf8
        let prefix = "application/grpc".utf8
        guard utf8.starts(with: prefix) else { return false }
        let rest = utf8.dropFirst(prefix.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: ";")
    }

    func addGRPC(_ stream: HTTP2Stream, to operation: inout ProtocolOperation) {
        let path = stream.request.target
        var attributes = [Attribute(GRPCAttribute.system, .string("grpc"))]
        // `/package.Service/Method`
        let trimmed = path.utf8.first == UInt8(ascii: "/") ? path.dropFirst() : Substring(path)
        if let slash = trimmed.lastIndex(of: "/"), slash != trimmed.startIndex, trimmed.index(after: slash) != trimmed.endIndex {
            attributes.append(Attribute(GRPCAttribute.service, .string(String(trimmed[..<slash]))))
            attributes.append(Attribute(GRPCAttribute.method, .string(String(trimmed[trimmed.index(after: slash)...]))))
            operation.name = String(trimmed)
        }
        if let code = stream.grpcStatus {
            attributes.append(Attribute(GRPCAttribute.statusCode, .int(code)))
            if operation.status != .error {
                // The code, not the HTTP status, says how the call went.
                operation.status = GRPCStatus.isError(code, forServer: true) ? .error : .unset
                operation.clientStatus = GRPCStatus.isError(code, forServer: false) && operation.status != .error ? .error : nil
            }
            if code != 0, operation.statusMessage == nil {
                operation.statusMessage = stream.grpcMessage ?? GRPCStatus.name(code)
            }
        }
        if let count = stream.requestMessages?.count {
            attributes.append(Attribute(GRPCAttribute.requestMessageCount, .int(count)))
        }
        if let count = stream.responseMessages?.count {
            attributes.append(Attribute(GRPCAttribute.responseMessageCount, .int(count)))
        }
        operation.attributes = attributes
    }
}
