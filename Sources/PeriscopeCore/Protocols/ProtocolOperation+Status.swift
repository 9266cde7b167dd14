extension ProtocolOperation {
    /// The gRPC status code the operation ended with (`rpc.grpc.status_code`), if any.
    public var grpcStatusCode: Int? {
        for attribute in attributes where attribute.key == HTTP2Decoder.GRPCAttribute.statusCode {
            if case .int(let code) = attribute.value { return code }
        }
        return nil
    }

    /// The span status as the server (`forServer`) or the client reports the operation:
    /// an error when it was abandoned or reset; for gRPC by its status code (a client's
    /// span for every code but OK, a server's only for UNKNOWN, DEADLINE_EXCEEDED,
    /// UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS); for HTTP by its status (5xx,
    /// and 4xx on the client). `statusMessage` goes with an error only.
    public func status(forServer isServer: Bool) -> Span.Status {
        if status == .error { return .error }
        if let code = grpcStatusCode { return GRPCStatus.isError(code, forServer: isServer) ? .error : status }
        if let statusCode = http?.statusCode, statusCode >= 500 || !isServer && statusCode >= 400 { return .error }
        return status
    }
}
