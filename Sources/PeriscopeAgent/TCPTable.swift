/// The rows of a `/proc/net/tcp` or `tcp6` table the agent reads — local and peer ports, state
/// and socket inode — parsed in place from the bytes the kernel printed, without a string or an
/// array per row: a network namespace holding tens of thousands of connections prints as many
/// rows, all read when a policy that traces every process comes into force.
///
/// The first line is the heading. Fields are separated by runs of spaces: `sl`, the local and
/// the remote `ADDRESS:PORT` (hexadecimal), the state (two hexadecimal digits), and the inode
/// tenth. A row whose local port or state does not parse is passed over; a peer port or an
/// inode that does not parse (or is missing) is nil.
enum TCPTable {
    struct Row: Equatable {
        var localPort: UInt16
        var peerPort: UInt16?
        var state: UInt8
        var inode: UInt64?

        /// `TCP_ESTABLISHED` and `TCP_LISTEN`, as the table prints them.
        static let established: UInt8 = 0x01
        static let listening: UInt8 = 0x0A
    }

    /// Calls `body` with each row of `table` that parses, in order.
    static func forEachRow(in table: UnsafeBufferPointer<UInt8>, _ body: (Row) -> Void) {
        let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " ")
        var index = 0
        while index < table.count, table[index] != newline { index += 1 }
        while index < table.count {
            index += 1  // past the newline
            var field = 0
            var local: UInt16?, peer: UInt16?, state: UInt8?, inode: UInt64?
            while index < table.count, table[index] != newline {
                if table[index] == space {
                    index += 1
                    continue
                }
                let start = index
                while index < table.count, table[index] != space, table[index] != newline { index += 1 }
                let text = UnsafeBufferPointer(rebasing: table[start..<index])
                switch field {
                case 1: local = port(ofAddress: text)
                case 2: peer = port(ofAddress: text)
                case 3: state = text.count == 2 ? hex(text).flatMap { UInt8(exactly: $0) } : nil
                case 9: inode = decimal(text)
                default: break
                }
                field += 1
            }
            if let local, let state { body(Row(localPort: local, peerPort: peer, state: state, inode: inode)) }
        }
    }

    /// The rows of `table` that parse.
    static func rows(of table: [UInt8]) -> [Row] {
        var rows: [Row] = []
        table.withUnsafeBufferPointer { bytes in forEachRow(in: bytes) { rows.append($0) } }
        return rows
    }

    /// The port of an `ADDRESS:PORT` field: the hexadecimal digits after its last colon.
    private static func port(ofAddress field: UnsafeBufferPointer<UInt8>) -> UInt16? {
        guard let colon = field.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        return hex(UnsafeBufferPointer(rebasing: field[(colon + 1)...])).flatMap { UInt16(exactly: $0) }
    }

    /// A non-empty run of hexadecimal digits up to 0xFFFF (more is nil).
    private static func hex(_ digits: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard !digits.isEmpty else { return nil }
        var value: UInt32 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            guard value <= 0xFFFF else { return nil }
        }
        return value
    }

    /// A non-empty run of decimal digits that fits 64 bits.
    private static func decimal(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflowTimes, !overflowSum else { return nil }
            value = sum
        }
        return value
    }
}
