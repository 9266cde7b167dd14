/// One OpenTelemetry attribute: a key and a typed value (`KeyValue` in OTLP).
public struct Attribute: Sendable, Hashable {
    public var key: String
    public var value: AttributeValue

    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

extension ProtobufWriter {
    /// `KeyValue { key = 1; AnyValue value = 2 }` as field `field`.
    mutating func attribute(_ field: Int, key: String, value: AttributeValue) {
        message(field) { kv in
            kv.string(1, key)
            kv.message(2) { any in
                switch value {
                case .string(let text): any.stringAlways(1, text)
                case .bool(let flag): any.tag(2, .varint); any.varint(flag ? 1 : 0)
                case .int(let number): any.tag(3, .varint); any.varint(UInt64(bitPattern: Int64(number)))
                case .double(let number): any.double(4, number)
                }
            }
        }
    }

    mutating func attributes(_ field: Int, _ attributes: [Attribute]) {
        for attribute in attributes { self.attribute(field, key: attribute.key, value: attribute.value) }
    }
}
