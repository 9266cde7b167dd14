/// Instruction lengths of x86-64 code, enough to walk a compiled function from its first
/// byte to its last and find its return instructions. Probing anywhere but an instruction's
/// first byte would corrupt the traced program, so the decoder never guesses: an opcode it
/// does not know, or an instruction running past the end of the code, fails the walk.
public enum X86InstructionDecoder {
    /// Why a function's code could not be walked.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var offset: Int
        public var reason: String

        public var description: String { "at +\(offset): \(reason)" }
    }

    /// The longest instruction the architecture allows.
    static let maximumLength = 15

    /// The offsets of the `RET` instructions (`C3`, `C2 iw`, with any prefixes) in `code`,
    /// which must hold whole instructions from its first byte to its last.
    public static func returns(in code: some RandomAccessCollection<UInt8>) throws(Failure) -> [Int] {
        let bytes = Array(code)
        var offset = 0
        var found: [Int] = []
        while offset < bytes.count {
            let instruction = try decode(bytes, at: offset)
            if instruction.isReturn { found.append(offset) }
            offset += instruction.length
        }
        return found
    }

    /// One decoded instruction: how long it is, and whether it returns.
    public struct Instruction: Sendable, Equatable {
        public var length: Int
        public var isReturn: Bool
    }

    /// The instruction starting at `offset` of `bytes`.
    public static func decode(_ bytes: [UInt8], at start: Int) throws(Failure) -> Instruction {
        var cursor = Cursor(bytes: bytes, start: start)
        var operandSize16 = false
        var addressSize32 = false
        var rexW = false
        // Legacy prefixes, then at most one REX right before the opcode.
        var opcode = try cursor.next()
        while true {
            switch opcode {
            case 0x66: operandSize16 = true
            case 0x67: addressSize32 = true
            case 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65: break
            default:
                if opcode & 0xF0 == 0x40 {
                    rexW = opcode & 0x08 != 0
                    opcode = try cursor.next()
                    if opcode & 0xF0 == 0x40 || isLegacyPrefix(opcode) {
                        throw Failure(offset: start, reason: "prefix after REX")
                    }
                }
                return try decodeOpcode(opcode, &cursor, operandSize16: operandSize16, addressSize32: addressSize32, rexW: rexW)
            }
            rexW = false
            opcode = try cursor.next()
        }
    }

    static func isLegacyPrefix(_ byte: UInt8) -> Bool {
        [0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65].contains(byte)
    }

    private static func decodeOpcode(
        _ opcode: UInt8, _ cursor: inout Cursor, operandSize16: Bool, addressSize32: Bool, rexW: Bool
    ) throws(Failure) -> Instruction {
        // An immediate sized by the operand size: 2 bytes with 66, else 4 (sign-extended with REX.W).
        let immediateZ = operandSize16 && !rexW ? 2 : 4
        var isReturn = false
        switch opcode {
        case 0x0F:
            try decodeTwoByte(&cursor, immediateZ: immediateZ)
        case 0xC4, 0xC5:
            try decodeVEX(opcode, &cursor)
        case 0x62:
            try decodeEVEX(&cursor)
        case 0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F, 0x60, 0x61,
             0x82, 0x9A, 0xCE, 0xD4, 0xD5, 0xD6, 0xEA:
            throw Failure(offset: cursor.start, reason: "opcode \(hex(opcode)) is invalid in 64-bit mode")
        case 0x00...0x3F:
            switch opcode & 7 {
            case 0...3: try cursor.modRM()
            case 4: try cursor.skip(1)
            case 5: try cursor.skip(immediateZ)
            default: throw Failure(offset: cursor.start, reason: "opcode \(hex(opcode))")
            }
        case 0x50...0x5F, 0x6C...0x6F, 0x90...0x99, 0x9B...0x9F, 0xA4...0xA7, 0xAA...0xAF,
             0xC9, 0xCB, 0xCC, 0xCF, 0xD7, 0xEC...0xEF, 0xF1, 0xF4, 0xF5, 0xF8...0xFD:
            break
        case 0x63, 0x84...0x8F, 0xD0...0xD3, 0xD8...0xDF, 0xFE, 0xFF:
            try cursor.modRM()
        case 0x68, 0xA9, 0xE8, 0xE9:
            try cursor.skip(opcode == 0xE8 || opcode == 0xE9 ? 4 : immediateZ)
        case 0x69, 0x81, 0xC7:
            try cursor.modRM()
            try cursor.skip(immediateZ)
        case 0x6A, 0x70...0x7F, 0xA8, 0xB0...0xB7, 0xCD, 0xE0...0xE7, 0xEB:
            try cursor.skip(1)
        case 0x6B, 0x80, 0x83, 0xC0, 0xC1, 0xC6:
            try cursor.modRM()
            try cursor.skip(1)
        case 0xA0...0xA3:
            try cursor.skip(addressSize32 ? 4 : 8)
        case 0xB8...0xBF:
            try cursor.skip(rexW ? 8 : immediateZ)
        case 0xC2:
            try cursor.skip(2)
            isReturn = true
        case 0xC3:
            isReturn = true
        case 0xC8:
            try cursor.skip(3)
        case 0xCA:
            try cursor.skip(2)
        case 0xF6, 0xF7:
            let reg = (try cursor.modRM() >> 3) & 7
            if reg <= 1 { try cursor.skip(opcode == 0xF6 ? 1 : immediateZ) }
        default:
            throw Failure(offset: cursor.start, reason: "opcode \(hex(opcode))")
        }
        return Instruction(length: cursor.offset - cursor.start, isReturn: isReturn)
    }

    private static func decodeTwoByte(_ cursor: inout Cursor, immediateZ: Int) throws(Failure) {
        let opcode = try cursor.next()
        switch opcode {
        case 0x38:
            _ = try cursor.next()
            try cursor.modRM()
        case 0x3A:
            _ = try cursor.next()
            try cursor.modRM()
            try cursor.skip(1)
        case 0x05...0x09, 0x0B, 0x0E, 0x30...0x37, 0x77, 0xA0...0xA2, 0xA8...0xAA, 0xC8...0xCF:
            break
        case 0x80...0x8F:
            try cursor.skip(4)
        case 0x0F, 0x70...0x73, 0xA4, 0xAC, 0xBA, 0xC2, 0xC4...0xC6:
            try cursor.modRM()
            try cursor.skip(1)
        case 0x00...0x03, 0x0D, 0x10...0x1F, 0x20...0x23, 0x28...0x2F, 0x40...0x6F, 0x74...0x76, 0x78...0x7F,
             0x90...0x9F, 0xA3, 0xA5, 0xAB, 0xAD...0xB9, 0xBB...0xC1, 0xC3, 0xC7, 0xD0...0xFF:
            try cursor.modRM()
        default:
            throw Failure(offset: cursor.start, reason: "opcode 0F \(hex(opcode))")
        }
    }

    /// Whether an opcode of the 0F map carries an immediate byte in its VEX/EVEX form.
    private static func vexHasImmediate(map: UInt8, opcode: UInt8) -> Bool {
        map == 3 || (map == 1 && [0x70, 0x71, 0x72, 0x73, 0xC2, 0xC4, 0xC5, 0xC6].contains(opcode))
    }

    private static func decodeVEX(_ escape: UInt8, _ cursor: inout Cursor) throws(Failure) {
        var map: UInt8 = 1
        if escape == 0xC4 {
            map = try cursor.next() & 0x1F
            _ = try cursor.next()
        } else {
            _ = try cursor.next()
        }
        guard (1...3).contains(map) else { throw Failure(offset: cursor.start, reason: "VEX map \(map)") }
        let opcode = try cursor.next()
        if map == 1 && opcode == 0x77 { return }  // vzeroupper, vzeroall
        try cursor.modRM()
        if vexHasImmediate(map: map, opcode: opcode) { try cursor.skip(1) }
    }

    private static func decodeEVEX(_ cursor: inout Cursor) throws(Failure) {
        let p0 = try cursor.next()
        _ = try cursor.next()
        _ = try cursor.next()
        let map = p0 & 0x07
        guard (1...3).contains(map) else { throw Failure(offset: cursor.start, reason: "EVEX map \(map)") }
        let opcode = try cursor.next()
        try cursor.modRM()
        if vexHasImmediate(map: map, opcode: opcode) { try cursor.skip(1) }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    /// Reads an instruction's bytes, never past the code's end nor the longest instruction.
    struct Cursor {
        let bytes: [UInt8]
        let start: Int
        var offset: Int

        init(bytes: [UInt8], start: Int) {
            self.bytes = bytes
            self.start = start
            self.offset = start
        }

        mutating func next() throws(Failure) -> UInt8 {
            guard offset < bytes.count else { throw Failure(offset: start, reason: "instruction runs past the end of the code") }
            guard offset - start < X86InstructionDecoder.maximumLength else { throw Failure(offset: start, reason: "instruction longer than 15 bytes") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func skip(_ count: Int) throws(Failure) {
            for _ in 0..<count { _ = try next() }
        }

        /// A ModRM byte with its SIB byte and displacement; returns the ModRM byte.
        @discardableResult
        mutating func modRM() throws(Failure) -> UInt8 {
            let modRM = try next()
            let mod = modRM >> 6, rm = modRM & 7
            guard mod != 3 else { return modRM }
            var displacement = mod == 1 ? 1 : (mod == 2 ? 4 : 0)
            if rm == 4 {
                let sib = try next()
                if mod == 0 && sib & 7 == 5 { displacement = 4 }
            } else if mod == 0 && rm == 5 {
                displacement = 4  // RIP-relative
            }
            try skip(displacement)
            return modRM
        }
    }
}
