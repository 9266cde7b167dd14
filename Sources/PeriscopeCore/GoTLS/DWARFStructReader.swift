/// Finds where members of named structures are, from a program's DWARF (`.debug_info` and
/// `.debug_abbrev`, DWARF 2 to 5, 32- and 64-bit). A pure reader of untrusted bytes: every
/// length is checked, an attribute form it does not know ends the walk with what was found
/// so far, and nothing else is interpreted.
public enum DWARFStructReader {
    /// A member of a structure type: `("crypto/tls.Conn", "conn")`.
    public struct Member: Sendable, Hashable, CustomStringConvertible {
        public var structure: String
        public var name: String

        public init(_ structure: String, _ name: String) {
            self.structure = structure
            self.name = name
        }

        public var description: String { "\(structure).\(name)" }
    }

    static let tagStructure: UInt64 = 0x13
    static let tagMember: UInt64 = 0x0d
    static let attributeName: UInt64 = 0x03
    static let attributeMemberLocation: UInt64 = 0x38

    /// The byte offsets of `wanted` members within their structures, as far as `info` says.
    /// A member appearing more than once keeps its first offset.
    public static func memberOffsets(info: [UInt8], abbreviations: [UInt8], wanted: Set<Member>) -> [Member: UInt64] {
        let structures = Set(wanted.map(\.structure))
        var found: [Member: UInt64] = [:]
        var tables: [UInt64: [UInt64: Abbreviation]] = [:]
        var reader = ByteReader(bytes: info)
        while reader.remaining > 0, found.count < wanted.count {
            guard let short = reader.u32() else { break }
            var length = UInt64(short)
            var offsetSize = 4
            if short == 0xffff_ffff {
                guard let long = reader.u64() else { break }
                length = long
                offsetSize = 8
            } else if short >= 0xffff_fff0 {
                break  // reserved lengths
            }
            guard let end = checkedEnd(reader.offset, length, info.count) else { break }
            walkUnit(&reader, end: end, offsetSize: offsetSize, abbreviations: abbreviations, tables: &tables,
                     structures: structures, wanted: wanted, found: &found)
            reader.offset = end
        }
        return found
    }

    private static func checkedEnd(_ offset: Int, _ length: UInt64, _ count: Int) -> Int? {
        guard length <= UInt64(count - offset) else { return nil }
        return offset + Int(length)
    }

    struct Abbreviation {
        var tag: UInt64
        var hasChildren: Bool
        /// (attribute, form, implicit constant)
        var attributes: [(UInt64, UInt64, Int64)]
    }

    private static func walkUnit(
        _ reader: inout ByteReader, end: Int, offsetSize: Int, abbreviations: [UInt8],
        tables: inout [UInt64: [UInt64: Abbreviation]], structures: Set<String>, wanted: Set<Member>,
        found: inout [Member: UInt64]
    ) {
        var unit = ByteReader(bytes: reader.bytes, offset: reader.offset, end: end)
        guard let version = unit.u16(), (2...5).contains(version) else { return }
        var addressSize = 8
        let abbreviationOffset: UInt64?
        if version >= 5 {
            guard let type = unit.u8(), let size = unit.u8() else { return }
            addressSize = Int(size)
            abbreviationOffset = offsetSize == 8 ? unit.u64() : unit.u32().map(UInt64.init)
            // Skeleton and type units carry an id (and a type offset) before their DIEs.
            switch type {
            case 2, 6: unit.offset += 8 + offsetSize
            case 4, 5: unit.offset += 8
            default: break
            }
        } else {
            abbreviationOffset = offsetSize == 8 ? unit.u64() : unit.u32().map(UInt64.init)
            guard let size = unit.u8() else { return }
            addressSize = Int(size)
        }
        guard let abbreviationOffset, addressSize == 4 || addressSize == 8 else { return }
        if tables[abbreviationOffset] == nil {
            tables[abbreviationOffset] = parseAbbreviations(abbreviations, at: abbreviationOffset)
        }
        guard let table = tables[abbreviationOffset], !table.isEmpty else { return }
        let context = FormContext(version: version, offsetSize: offsetSize, addressSize: addressSize)
        var depth = 0
        // The structure being read (a wanted one) and the depth of its members.
        var structure: String?
        var structureDepth = -1
        while unit.offset < unit.end {
            guard let code = unit.uleb() else { return }
            if code == 0 {
                depth -= 1
                if depth < structureDepth { structure = nil; structureDepth = -1 }
                if depth < 0 { return }
                continue
            }
            guard let abbreviation = table[code] else { return }
            var name: String?
            var location: UInt64?
            for (attribute, form, implicit) in abbreviation.attributes {
                if attribute == attributeName, form == 0x08 {
                    guard let text = unit.cString() else { return }
                    name = text
                } else if attribute == attributeMemberLocation, let value = unit.constant(form: form, implicit: implicit, context) {
                    location = value
                } else if !unit.skip(form: form, context) {
                    return
                }
            }
            if abbreviation.tag == tagStructure, let name, structures.contains(name), abbreviation.hasChildren {
                structure = name
                structureDepth = depth + 1
            } else if abbreviation.tag == tagMember, depth == structureDepth, let structure, let name, let location {
                let member = Member(structure, name)
                if wanted.contains(member), found[member] == nil { found[member] = location }
            }
            if abbreviation.hasChildren { depth += 1 }
        }
    }

    private static func parseAbbreviations(_ bytes: [UInt8], at offset: UInt64) -> [UInt64: Abbreviation] {
        guard offset < UInt64(bytes.count) else { return [:] }
        var reader = ByteReader(bytes: bytes, offset: Int(offset))
        var table: [UInt64: Abbreviation] = [:]
        while let code = reader.uleb(), code != 0 {
            guard let tag = reader.uleb(), let children = reader.u8() else { return table }
            var attributes: [(UInt64, UInt64, Int64)] = []
            while true {
                guard let attribute = reader.uleb(), let form = reader.uleb() else { return table }
                if attribute == 0 && form == 0 { break }
                var implicit: Int64 = 0
                if form == 0x21 {
                    guard let value = reader.sleb() else { return table }
                    implicit = value
                }
                guard attributes.count < 256 else { return table }
                attributes.append((attribute, form, implicit))
            }
            table[code] = Abbreviation(tag: tag, hasChildren: children != 0, attributes: attributes)
            guard table.count < 1 << 16 else { return table }
        }
        return table
    }

    struct FormContext {
        var version: UInt16
        var offsetSize: Int
        var addressSize: Int
    }

    /// Little-endian reads within `offset..<end` of `bytes`; nil past the end.
    struct ByteReader {
        let bytes: [UInt8]
        var offset: Int
        let end: Int

        init(bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
            self.bytes = bytes
            self.offset = offset
            self.end = min(end ?? bytes.count, bytes.count)
        }

        var remaining: Int { max(0, end - offset) }

        mutating func u8() -> UInt8? {
            guard offset < end else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func fixed(_ count: Int) -> UInt64? {
            guard count <= 8, count <= remaining else { return nil }
            var value: UInt64 = 0
            for index in 0..<count { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            offset += count
            return value
        }

        mutating func u16() -> UInt16? { fixed(2).map { UInt16($0) } }
        mutating func u32() -> UInt32? { fixed(4).map { UInt32($0) } }
        mutating func u64() -> UInt64? { fixed(8) }

        mutating func uleb() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = u8() {
                if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }

        mutating func sleb() -> Int64? {
            var value: Int64 = 0
            var shift: Int64 = 0
            while let byte = u8() {
                if shift < 64 { value |= Int64(byte & 0x7f) << shift }
                shift += 7
                if byte & 0x80 == 0 {
                    if shift < 64, byte & 0x40 != 0 { value |= ~Int64(0) << shift }
                    return value
                }
            }
            return nil
        }

        mutating func cString() -> String? {
            var index = offset
            while index < end, bytes[index] != 0 { index += 1 }
            guard index < end else { return nil }
            defer { offset = index + 1 }
            return String(decoding: bytes[offset..<index], as: UTF8.self)
        }

        mutating func advance(_ count: UInt64) -> Bool {
            guard count <= UInt64(remaining) else { return false }
            offset += Int(count)
            return true
        }

        /// A member location given as a constant (not an expression).
        mutating func constant(form: UInt64, implicit: Int64, _ context: FormContext) -> UInt64? {
            switch form {
            case 0x0b: return fixed(1)
            case 0x05: return fixed(2)
            case 0x06: return fixed(4)
            case 0x07: return fixed(8)
            case 0x0f: return uleb()
            case 0x0d: return sleb().flatMap { $0 >= 0 ? UInt64($0) : nil }
            case 0x21: return implicit >= 0 ? UInt64(implicit) : nil
            default: return nil
            }
        }

        /// Steps over one attribute value; false for a form this reader does not know.
        mutating func skip(form: UInt64, _ context: FormContext) -> Bool {
            switch form {
            case 0x01: return advance(UInt64(context.addressSize))
            case 0x03: return fixed(2).map { advance($0) } ?? false
            case 0x04: return fixed(4).map { advance($0) } ?? false
            case 0x05: return advance(2)
            case 0x06: return advance(4)
            case 0x07: return advance(8)
            case 0x08: return cString() != nil
            case 0x09, 0x18: return uleb().map { advance($0) } ?? false
            case 0x0a: return u8().map { advance(UInt64($0)) } ?? false
            case 0x0b, 0x0c, 0x11, 0x25, 0x29: return advance(1)
            case 0x0d: return sleb() != nil
            case 0x0e, 0x17, 0x1d, 0x1f, 0x1f20, 0x1f21: return advance(UInt64(context.offsetSize))
            case 0x0f, 0x15, 0x1a, 0x1b, 0x22, 0x23, 0x1f01, 0x1f02: return uleb() != nil
            case 0x10: return advance(UInt64(context.version <= 2 ? context.addressSize : context.offsetSize))
            case 0x12, 0x26, 0x2a: return advance(2)
            case 0x13, 0x1c, 0x28, 0x2c: return advance(4)
            case 0x14, 0x20, 0x24: return advance(8)
            case 0x27, 0x2b: return advance(3)
            case 0x1e: return advance(16)
            case 0x19, 0x21: return true
            case 0x16:
                guard let actual = uleb(), actual != 0x16 else { return false }
                return skip(form: actual, context)
            default: return false
            }
        }
    }
}
