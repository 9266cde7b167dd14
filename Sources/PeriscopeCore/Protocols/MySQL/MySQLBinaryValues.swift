/// Skips the binary-protocol parameters MySQL 8 sends before a query's text when query
/// attributes are on: a NULL bitmap, a new-parameters flag, types and names, then values
/// whose sizes their types give.
enum MySQLBinaryValues {
    static func skipParameters(_ cursor: inout MySQLPayloadCursor, count: Int) -> Bool {
        guard let bitmap = cursor.take((count + 7) / 8), let bound = cursor.byte(), bound == 1 else { return false }
        var types: [UInt8] = []
        types.reserveCapacity(count)
        for _ in 0..<count {
            guard let type = cursor.byte(), cursor.byte() != nil, let nameLength = cursor.lengthEncoded(),
                  cursor.skip(nameLength) else { return false }
            types.append(type)
        }
        for (index, type) in types.enumerated() {
            let isNull = bitmap[bitmap.startIndex + index / 8] & (1 << UInt8(index % 8)) != 0
            guard isNull || skipValue(&cursor, type: type) else { return false }
        }
        return true
    }

    static func skipValue(_ cursor: inout MySQLPayloadCursor, type: UInt8) -> Bool {
        switch type {
        case 0x06: return true  // NULL
        case 0x01: return cursor.skip(1)  // TINY
        case 0x02, 0x0D: return cursor.skip(2)  // SHORT, YEAR
        case 0x03, 0x09, 0x04: return cursor.skip(4)  // LONG, INT24, FLOAT
        case 0x08, 0x05: return cursor.skip(8)  // LONGLONG, DOUBLE
        case 0x07, 0x0A, 0x0B, 0x0C:  // TIMESTAMP, DATE, TIME, DATETIME
            guard let length = cursor.byte() else { return false }
            return cursor.skip(Int(length))
        default:  // strings, decimals, blobs, JSON, bits, enums, sets, geometry
            guard let length = cursor.lengthEncoded() else { return false }
            return cursor.skip(length)
        }
    }
}
