/// Why a header block could not be decoded. The code's raw value is the stable token
/// counted among decode errors (`ProtocolOutput.decodeError(reason:)`).
public struct HPACKError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Index 0, or beyond the static and dynamic tables of a table known from its start.
        case invalidIndex = "hpack_invalid_index"
        /// An integer longer than 2^31 or than its encoding allows.
        case integerOverflow = "hpack_integer_overflow"
        /// The block ended inside a representation.
        case truncated = "hpack_truncated"
        /// A Huffman string with EOS inside or padding that is not up to seven 1 bits.
        case invalidHuffman = "hpack_invalid_huffman"
        /// A dynamic table size update above the size the receiver allowed in SETTINGS.
        case tableSizeExceeded = "hpack_table_size_exceeded"
        /// A dynamic table size update after the block's first header field.
        case misplacedTableSizeUpdate = "hpack_misplaced_table_size_update"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var reason: String { code.rawValue }
    public var description: String { "\(code.rawValue): \(message)" }
}
