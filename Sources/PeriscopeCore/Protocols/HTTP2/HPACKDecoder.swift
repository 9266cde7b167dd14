/// Decodes the header blocks of one direction of one HTTP/2 connection (RFC 7541): static
/// and dynamic table, Huffman strings, table size updates within the receiver's SETTINGS.
///
/// Fields are handed to a visitor as slices of the block, the tables or a reused buffer:
/// nothing is copied per field beyond Huffman output, and strings are for the caller to make.
///
/// A table whose start was not seen (connection joined midway) still decodes every field
/// made of static entries, literals and entries inserted since; fields that refer to older
/// entries are visited with what is unknown as nil and counted, never guessed.
public struct HPACKDecoder: Sendable {
    /// SETTINGS_HEADER_TABLE_SIZE before any SETTINGS frame (RFC 9113 §6.5.2).
    public static let defaultTableSize = 4_096
    /// The most this decoder holds of a table, whatever size the peers agreed: entries
    /// beyond it become unknown ones.
    public static let tableMemoryLimit = 65_536
    /// The largest header list (RFC 7541 size accounting) visited for one block; the rest
    /// of a larger block is decoded only to keep the table in step.
    public static let maxHeaderListSize = 65_536

    /// A field as decoded: nil where it referred to a table entry never seen.
    public struct Field {
        public var name: ArraySlice<UInt8>?
        public var value: ArraySlice<UInt8>?
    }

    /// What decoding a block found besides its fields.
    public struct BlockResult: Sendable, Equatable {
        /// The block is not valid HPACK: fields after the error were not visited and the
        /// table is forgotten (its later entries are unknown).
        public var error: HPACKError?
        /// Fields that referred to table entries never seen.
        public var unknownFields = 0
        /// The header list exceeded `maxHeaderListSize`; fields beyond were not visited.
        public var headerListTooLarge = false
    }

    var table: HPACKDynamicTable
    /// The largest table size the encoder may set: the receiver's SETTINGS_HEADER_TABLE_SIZE.
    public private(set) var allowedTableSize: Int
    private var nameBuffer: [UInt8] = []
    private var valueBuffer: [UInt8] = []

    /// `tableKnown`: the table's start is seen (the connection's first header block is
    /// yet to come); false for a connection joined midway.
    public init(tableKnown: Bool = true) {
        table = HPACKDynamicTable(maxSize: Self.defaultTableSize, memoryLimit: Self.tableMemoryLimit, isComplete: tableKnown)
        // Joined midway, the SETTINGS the peers agreed on are unknown: any size is allowed.
        allowedTableSize = tableKnown ? Self.defaultTableSize : Int(UInt32.max)
    }

    /// The receiver's SETTINGS_HEADER_TABLE_SIZE took effect (the encoder acknowledged it).
    /// A smaller one shrinks the table as the size update the encoder owes will.
    public mutating func setAllowedTableSize(_ size: Int) {
        allowedTableSize = size
        if table.maxSize > size { table.setMaxSize(size) }
    }

    /// Forgets the table, after bytes of a header block were lost or could not be decoded.
    public mutating func forgetTable() {
        table.forget()
    }

    /// Entries held in the dynamic table, and its size by the RFC's accounting.
    public var dynamicTableCount: Int { table.count }
    public var dynamicTableSize: Int { table.size }

    /// Decodes one complete header block (HEADERS or PUSH_PROMISE plus its CONTINUATIONs),
    /// visiting each field in order.
    public mutating func decode(_ block: ArraySlice<UInt8>, _ visit: (Field) -> Void) -> BlockResult {
        var result = BlockResult()
        var position = block.startIndex
        var sawField = false
        var listSize = 0
        do throws(HPACKError) {
            while position < block.endIndex {
                let first = block[position]
                if first & 0x80 != 0 {
                    // Indexed header field.
                    let index = try Self.integer(block, &position, prefixBits: 7)
                    sawField = true
                    if let (name, value) = try lookup(index) {
                        if name == nil { result.unknownFields += 1 }
                        listSize += Self.visit(name, value, listSize: listSize, &result, visit)
                    } else {
                        result.unknownFields += 1
                        visit(Field(name: nil, value: nil))
                    }
                } else if first & 0xe0 == 0x20 {
                    // Dynamic table size update.
                    let size = try Self.integer(block, &position, prefixBits: 5)
                    guard !sawField else {
                        throw HPACKError(.misplacedTableSizeUpdate, "table size update after a header field")
                    }
                    guard size <= allowedTableSize else {
                        throw HPACKError(.tableSizeExceeded, "table size \(size) above the \(allowedTableSize) allowed")
                    }
                    table.setMaxSize(size)
                } else {
                    // Literal: with incremental indexing (01), without indexing (0000) or never indexed (0001).
                    let indexing = first & 0xc0 == 0x40
                    let nameIndex = try Self.integer(block, &position, prefixBits: indexing ? 6 : 4)
                    sawField = true
                    var name: ArraySlice<UInt8>?
                    var nameKnown = true
                    if nameIndex == 0 {
                        name = try Self.string(block, &position, into: &nameBuffer)
                    } else if let entry = try lookup(nameIndex) {
                        name = entry.name
                        nameKnown = name != nil
                        if indexing, nameIndex > HPACKStaticTable.count, let known = name {
                            // The entry named may be evicted by the insertion: keep its name apart.
                            nameBuffer.removeAll(keepingCapacity: true)
                            nameBuffer.append(contentsOf: known)
                            name = nameBuffer[...]
                        }
                    } else {
                        nameKnown = false
                    }
                    let value = try Self.string(block, &position, into: &valueBuffer)
                    if nameKnown {
                        listSize += Self.visit(name, value, listSize: listSize, &result, visit)
                    } else {
                        result.unknownFields += 1
                        visit(Field(name: nil, value: value))
                    }
                    if indexing { table.insert(name: name, value: value) }
                }
            }
        } catch {
            result.error = error
            table.forget()
        }
        return result
    }

    /// Visits a field unless the list grew too large; returns its size by the RFC's accounting.
    private static func visit(
        _ name: ArraySlice<UInt8>?, _ value: ArraySlice<UInt8>, listSize: Int, _ result: inout BlockResult,
        _ visit: (Field) -> Void
    ) -> Int {
        let size = (name?.count ?? 0) + value.count + 32
        if listSize + size > maxHeaderListSize {
            result.headerListTooLarge = true
        } else if !result.headerListTooLarge {
            visit(Field(name: name, value: value))
        }
        return size
    }

    /// The static or dynamic entry at `index`; nil for a dynamic entry never seen.
    private func lookup(_ index: Int) throws(HPACKError) -> (name: ArraySlice<UInt8>?, value: ArraySlice<UInt8>)? {
        guard index > 0 else { throw HPACKError(.invalidIndex, "index 0") }
        if index <= HPACKStaticTable.count {
            let entry = HPACKStaticTable.entry(index)
            return (entry.name, entry.value)
        }
        if let entry = table.entry(index - HPACKStaticTable.count) { return entry }
        guard table.isComplete else { return nil }
        throw HPACKError(.invalidIndex, "index \(index) beyond the \(table.count) dynamic entries")
    }

    /// An integer with an N-bit prefix (RFC 7541 §5.1), at most 2^31 - 1.
    static func integer(_ block: ArraySlice<UInt8>, _ position: inout Int, prefixBits: Int) throws(HPACKError) -> Int {
        let mask = (1 << prefixBits) - 1
        var value = Int(block[position]) & mask
        position += 1
        guard value == mask else { return value }
        var shift = 0
        while true {
            guard position < block.endIndex else { throw HPACKError(.truncated, "block ends inside an integer") }
            let byte = block[position]
            position += 1
            value += Int(byte & 0x7f) << shift
            guard value <= Int(Int32.max) else { throw HPACKError(.integerOverflow, "integer above 2^31") }
            if byte & 0x80 == 0 { return value }
            shift += 7
            guard shift <= 28 else { throw HPACKError(.integerOverflow, "integer with too many bytes") }
        }
    }

    /// A string literal (RFC 7541 §5.2): a slice of the block, or of `buffer` when Huffman coded.
    private static func string(
        _ block: ArraySlice<UInt8>, _ position: inout Int, into buffer: inout [UInt8]
    ) throws(HPACKError) -> ArraySlice<UInt8> {
        guard position < block.endIndex else { throw HPACKError(.truncated, "block ends before a string") }
        let huffman = block[position] & 0x80 != 0
        let length = try Self.integer(block, &position, prefixBits: 7)
        guard length <= block.endIndex - position else {
            throw HPACKError(.truncated, "string of \(length) bytes beyond the block's end")
        }
        let encoded = block[position..<position + length]
        position += length
        guard huffman else { return encoded }
        buffer.removeAll(keepingCapacity: true)
        guard HPACKHuffman.decode(encoded, into: &buffer) else {
            throw HPACKError(.invalidHuffman, "invalid Huffman string")
        }
        return buffer[...]
    }
}
