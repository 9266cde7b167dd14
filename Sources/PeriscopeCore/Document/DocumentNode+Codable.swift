/// JSON (through any `Decoder`) to a document tree and back: how resources from the API server
/// become trees without a detour through text. Object members are sorted by key; keys are
/// names, plain scalars as YAML writes them.
extension DocumentNode: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var entries: [Entry] = []
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                entries.append(Entry(key: DocumentNode(.scalar(key.stringValue, quoted: false)), value: try object.decode(DocumentNode.self, forKey: key)))
            }
            self.init(.mapping(entries))
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [DocumentNode] = []
            if let count = array.count { items.reserveCapacity(count) }
            while !array.isAtEnd { items.append(try array.decode(DocumentNode.self)) }
            self.init(.sequence(items))
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self.init(.null)
        } else if let value = try? single.decode(Bool.self) {
            self.init(booleanLiteral: value)
        } else if let value = try? single.decode(Int64.self) {
            self.init(.scalar(String(value), quoted: false))
        } else if let value = try? single.decode(Double.self) {
            self.init(.scalar(String(value), quoted: false))
        } else {
            self.init(.scalar(try single.decode(String.self), quoted: true))
        }
    }

    /// Plain scalars are written as JSON numbers or booleans when they are one, as strings
    /// otherwise (a YAML `yes`, say, becomes `"yes"`).
    public func encode(to encoder: any Encoder) throws {
        switch content {
        case .null, .unsupported:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .scalar(let text, let quoted):
            var single = encoder.singleValueContainer()
            if quoted {
                try single.encode(text)
            } else if text == "true" || text == "false" {
                try single.encode(text == "true")
            } else if let integer = Int64(text) {
                try single.encode(integer)
            } else if let number = Double(text), number.isFinite, text.first.map({ $0.isNumber || $0 == "-" }) == true {
                try single.encode(number)
            } else {
                try single.encode(text)
            }
        case .sequence(let items):
            var array = encoder.unkeyedContainer()
            for item in items { try array.encode(item) }
        case .mapping(let entries):
            var object = encoder.container(keyedBy: Key.self)
            for entry in entries {
                try object.encode(entry.value, forKey: Key(stringValue: entry.key.scalarText ?? ""))
            }
        }
    }
}
