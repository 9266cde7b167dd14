import PeriscopeCore
import Testing

/// `.debug_abbrev` and `.debug_info` written by hand, as Go's linker lays them out: a compile
/// unit holding structure types with member children (name as an inline string, member
/// location as a constant), Go's own attributes in between.
struct DWARFBuilder {
    struct Structure {
        var name: String
        var members: [(String, UInt64)]
    }

    var structures: [Structure]
    var version: UInt16 = 4
    var dwarf64 = false

    static let abbreviations: [UInt8] = [
        1, 0x11, 1, 0x03, 0x08, 0x13, 0x0b, 0, 0,                     // compile_unit: name string, language data1
        2, 0x13, 1, 0x03, 0x08, 0x0b, 0x0b, 0x80, 0x52, 0x0b, 0, 0,   // structure_type: name, byte_size, go kind (0x2900) data1
        3, 0x0d, 0, 0x03, 0x08, 0x38, 0x0f, 0x49, 0x13, 0x83, 0x52, 0x0c, 0, 0,  // member: name, location udata, type ref4, go embedded flag
        4, 0x24, 0, 0x03, 0x08, 0x0b, 0x0b, 0x3e, 0x0b, 0, 0,         // base_type (a DIE without children)
        0,
    ]

    func info() -> [UInt8] {
        var dies: [UInt8] = [1] + cString("runtime") + [22]
        dies += [4] + cString("int") + [8, 5]
        for structure in structures {
            dies += [2] + cString(structure.name) + [UInt8(structure.members.count * 8), 25]
            for (name, location) in structure.members {
                dies += [3] + cString(name) + uleb(location) + [0x10, 0, 0, 0] + [0]
            }
            dies.append(0)
        }
        dies.append(0)
        var header: [UInt8] = le(version)
        if version >= 5 {
            header += [1, 8] + (dwarf64 ? le(UInt64(0)) : le(UInt32(0)))
        } else {
            header += (dwarf64 ? le(UInt64(0)) : le(UInt32(0))) + [8]
        }
        let body = header + dies
        return dwarf64 ? le(UInt32(0xffff_ffff)) + le(UInt64(body.count)) + body : le(UInt32(body.count)) + body
    }

    func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    func uleb(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }

    static let goTLS = DWARFBuilder(structures: [
        .init(name: "internal/poll.FD", members: [("fdmu", 0), ("Sysfd", 16), ("pd", 24)]),
        .init(name: "net.conn", members: [("fd", 0)]),
        .init(name: "net.netFD", members: [("pfd", 0), ("family", 56)]),
        .init(name: "net.TCPConn", members: [("conn", 0)]),
        .init(name: "crypto/tls.Conn", members: [("conn", 0), ("isClient", 16), ("handshakeFn", 24)]),
    ])
}

func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

@Suite struct DWARFStructReaderTests {
    let wanted: Set<DWARFStructReader.Member> = [
        .init("crypto/tls.Conn", "conn"), .init("crypto/tls.Conn", "handshakeFn"), .init("internal/poll.FD", "Sysfd"),
        .init("net.netFD", "family"), .init("net.conn", "fd"),
    ]

    @Test(arguments: [(UInt16(4), false), (4, true), (5, false), (5, true), (2, false)])
    func findsMemberOffsetsOfNamedStructures(version: UInt16, dwarf64: Bool) {
        var builder = DWARFBuilder.goTLS
        builder.version = version
        builder.dwarf64 = dwarf64
        let found = DWARFStructReader.memberOffsets(info: builder.info(), abbreviations: DWARFBuilder.abbreviations, wanted: wanted)
        #expect(found == [
            .init("crypto/tls.Conn", "conn"): 0, .init("crypto/tls.Conn", "handshakeFn"): 24,
            .init("internal/poll.FD", "Sysfd"): 16, .init("net.netFD", "family"): 56, .init("net.conn", "fd"): 0,
        ])
    }

    /// A member of the same name in another structure is not taken for the wanted one.
    @Test func takesMembersOfTheWantedStructureOnly() {
        let builder = DWARFBuilder(structures: [
            .init(name: "crypto/tls.Config", members: [("conn", 99)]),
            .init(name: "crypto/tls.Conn", members: [("isClient", 16), ("conn", 8)]),
        ])
        let found = DWARFStructReader.memberOffsets(info: builder.info(), abbreviations: DWARFBuilder.abbreviations, wanted: [.init("crypto/tls.Conn", "conn")])
        #expect(found == [.init("crypto/tls.Conn", "conn"): 8])
    }

    /// Cut anywhere, or with its abbreviations cut, the input gives what was read before the
    /// cut and never traps.
    @Test func survivesTruncation() {
        let info = DWARFBuilder.goTLS.info()
        for cut in 0..<info.count {
            let found = DWARFStructReader.memberOffsets(info: Array(info[..<cut]), abbreviations: DWARFBuilder.abbreviations, wanted: wanted)
            #expect(found.count <= wanted.count)
        }
        for cut in 0..<DWARFBuilder.abbreviations.count {
            _ = DWARFStructReader.memberOffsets(info: info, abbreviations: Array(DWARFBuilder.abbreviations[..<cut]), wanted: wanted)
        }
    }

    /// An attribute form the reader does not know ends the unit's walk.
    @Test func stopsAtAnUnknownForm() {
        var abbreviations = DWARFBuilder.abbreviations
        abbreviations[4] = 0x7e  // the compile unit's name: an unknown form
        let found = DWARFStructReader.memberOffsets(info: DWARFBuilder.goTLS.info(), abbreviations: abbreviations, wanted: wanted)
        #expect(found.isEmpty)
    }
}
