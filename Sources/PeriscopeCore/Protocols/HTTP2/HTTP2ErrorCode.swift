/// The error codes of RST_STREAM and GOAWAY (RFC 9113 §7), named for status messages.
enum HTTP2ErrorCode {
    static let names = [
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    ]

    /// `CANCEL` for 8; `0x…` for a code RFC 9113 does not define.
    static func name(_ code: UInt32) -> String {
        code < names.count ? names[Int(code)] : "0x" + String(code, radix: 16)
    }
}
