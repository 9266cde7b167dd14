/// The Huffman code of HPACK string literals (RFC 7541 Appendix B), decoded four bits at
/// a time through a table of 256 states × 16 nibbles built once from the code lengths.
enum HPACKHuffman {
    /// Bit length of each symbol's code, symbols 0–255 then EOS (256). The code is
    /// canonical: codes of one length are consecutive in symbol order and shorter codes
    /// come first, so the lengths alone define it.
    static let codeLengths: [UInt8] = [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ]

    static let endOfString = 256

    /// Each symbol's code, right-aligned, from the canonical assignment.
    static let codes: [UInt32] = {
        let order = (0...endOfString).sorted { (codeLengths[$0], $0) < (codeLengths[$1], $1) }
        var codes = [UInt32](repeating: 0, count: endOfString + 1)
        var code: UInt32 = 0
        var length = codeLengths[order[0]]
        for (position, symbol) in order.enumerated() {
            if position > 0 {
                code = (code + 1) << UInt32(codeLengths[symbol] - length)
                length = codeLengths[symbol]
            }
            codes[symbol] = code
        }
        return codes
    }()

    /// One step of the decoder: from a state (a node of the code tree), four bits lead to
    /// `next` and may complete one symbol (the shortest code has five bits, so never two).
    struct Transition {
        static let emits: UInt32 = 1 << 16
        static let fails: UInt32 = 1 << 17
    }

    /// `transitions[state << 4 | nibble]`: next state in bits 0–7, symbol in bits 8–15,
    /// `Transition.emits` and `Transition.fails` flags. `accepting[state]`: ending there is
    /// valid padding (at most seven bits, all ones).
    static let tables: (transitions: [UInt32], accepting: [Bool]) = {
        // Internal nodes of the code tree; a child >= 0 is a node, < 0 is symbol -(child + 1).
        var children: [(Int, Int)] = [(0, 0)]
        var depth: [Int] = [0]
        var allOnes: [Bool] = [true]
        for symbol in 0...endOfString {
            let length = Int(codeLengths[symbol])
            var node = 0
            for position in stride(from: length - 1, through: 0, by: -1) {
                let bit = Int(codes[symbol] >> UInt32(position)) & 1
                let child = bit == 0 ? children[node].0 : children[node].1
                if position == 0 {
                    if bit == 0 { children[node].0 = -(symbol + 1) } else { children[node].1 = -(symbol + 1) }
                } else if child > 0 {
                    node = child
                } else {
                    children.append((0, 0))
                    depth.append(depth[node] + 1)
                    allOnes.append(allOnes[node] && bit == 1)
                    let created = children.count - 1
                    if bit == 0 { children[node].0 = created } else { children[node].1 = created }
                    node = created
                }
            }
        }
        precondition(children.count == 256, "the HPACK code has 256 internal nodes")
        var transitions = [UInt32](repeating: 0, count: 256 * 16)
        for state in 0..<256 {
            for nibble in 0..<16 {
                var node = state
                var entry: UInt32 = 0
                for position in stride(from: 3, through: 0, by: -1) {
                    let child = (nibble >> position) & 1 == 0 ? children[node].0 : children[node].1
                    if child >= 0 {
                        node = child
                        continue
                    }
                    let symbol = -child - 1
                    if symbol == endOfString {
                        entry |= Transition.fails
                        break
                    }
                    entry |= Transition.emits | UInt32(symbol) << 8
                    node = 0
                }
                transitions[state << 4 | nibble] = entry | UInt32(node)
            }
        }
        let accepting = (0..<256).map { allOnes[$0] && depth[$0] <= 7 }
        return (transitions, accepting)
    }()

    /// Appends the decoded form of `bytes` to `output`; false when they are not a valid
    /// encoding (EOS inside, padding longer than seven bits or not all ones).
    static func decode(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) -> Bool {
        let (transitions, accepting) = tables
        var state = 0
        return transitions.withUnsafeBufferPointer { table in
            for byte in bytes {
                let high = table[state << 4 | Int(byte >> 4)]
                if high & Transition.fails != 0 { return false }
                if high & Transition.emits != 0 { output.append(UInt8(truncatingIfNeeded: high >> 8)) }
                let low = table[Int(high & 0xff) << 4 | Int(byte & 0x0f)]
                if low & Transition.fails != 0 { return false }
                if low & Transition.emits != 0 { output.append(UInt8(truncatingIfNeeded: low >> 8)) }
                state = Int(low & 0xff)
            }
            return accepting[state]
        }
    }
}
