extension ProtocolOperation {
    /// The gRPC status code the call ended with (`rpc.grpc.status_code`), if any.
    public var grpcStatusCode: Int? {
        for attribute in attributes where attribute.key == HTTP2Decoder.GRPCAttribute.statusCode {
            if case .int(let code) = attribute.value { return code }
        }
        return nil
    }
}
