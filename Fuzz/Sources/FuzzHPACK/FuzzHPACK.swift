import FuzzSupport
import PeriscopeCore

/// Header blocks of one direction: the first two bytes are the SETTINGS_HEADER_TABLE_SIZE
/// (times 16; the first byte's high bit: a table joined midway), then each block is a
/// two-byte big-endian length and the block.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHPACK(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzSegments.bytes(data, size)
    guard input.count >= 2 else { return 0 }
    var decoder = HPACKDecoder(tableKnown: input[0] & 0x80 == 0)
    decoder.setAllowedTableSize((Int(input[0] & 0x7f) << 8 | Int(input[1])) * 16)
    var rest = input.dropFirst(2)
    while let high = rest.popFirst() {
        let length = Int(high) << 8 | Int(rest.popFirst() ?? 0)
        let block = rest.prefix(length)
        rest = rest.dropFirst(block.count)
        var fields = 0
        let result = decoder.decode(block) { field in
            fields += 1
            fuzzCheck((field.name?.count ?? 0) + (field.value?.count ?? 0) <= HPACKDecoder.maxHeaderListSize, "field beyond the list limit")
        }
        fuzzCheck(result.unknownFields <= fields, "more unknown fields than fields")
        fuzzCheck(decoder.dynamicTableSize <= HPACKDecoder.tableMemoryLimit, "table beyond its memory limit")
        fuzzCheck(decoder.dynamicTableSize <= max(decoder.allowedTableSize, HPACKDecoder.defaultTableSize), "table beyond the allowed size")
    }
    return 0
}

@main
enum FuzzHPACK {
    static func main() {
        runFuzzer(fuzzHPACK)
    }
}
