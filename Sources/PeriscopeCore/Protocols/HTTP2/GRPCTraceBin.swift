/// The `grpc-trace-bin` header (OpenCensus binary trace context, base64 as every `-bin`
/// header in HTTP/2): version 0, then field 0 the trace id (16 bytes), field 1 the span
/// id (8), field 2 the options (1).
enum GRPCTraceBin {
    /// The same context as a W3C `traceparent`; nil when the value is not one.
    static func traceparent(_ base64: ArraySlice<UInt8>) -> String? {
        guard let bytes = decodeBase64(base64), bytes.count >= 27, bytes[0] == 0, bytes[1] == 0, bytes[18] == 1 else {
            return nil
        }
        var options: UInt8 = 0
        if bytes.count >= 29, bytes[27] == 2 { options = bytes[28] }
        let traceID = bytes[2..<18]
        let spanID = bytes[19..<27]
        guard traceID.contains(where: { $0 != 0 }), spanID.contains(where: { $0 != 0 }) else { return nil }
        return "00-\(hex(traceID))-\(hex(spanID))-\(hex([options & 1][...]))"
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Standard or URL-safe base64, padded or not; nil on any other byte. At most 64 bytes out.
    static func decodeBase64(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                guard output.count <= 64 else { return nil }
            }
        }
        return output
    }
}
