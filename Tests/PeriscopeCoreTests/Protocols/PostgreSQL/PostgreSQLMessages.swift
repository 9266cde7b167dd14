/// Builds PostgreSQL protocol 3 messages for tests.
enum PG {
    static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count + 4)
        return [UInt8(ascii: type.unicodeScalars.first!)] + be32(length) + body
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    static func startup(_ parameters: [(String, String)]) -> [UInt8] {
        let body = be32(0x0003_0000) + parameters.flatMap { cString($0.0) + cString($0.1) } + [0]
        return be32(UInt32(body.count + 4)) + body
    }

    static let sslRequest = be32(8) + be32(80_877_103)
    static let gssRequest = be32(8) + be32(80_877_104)
    static func query(_ sql: String) -> [UInt8] { message("Q", cString(sql)) }
    static func parse(_ name: String, _ sql: String) -> [UInt8] { message("P", cString(name) + cString(sql) + [0, 0]) }
    static func bind(_ portal: String = "", _ statement: String) -> [UInt8] {
        message("B", cString(portal) + cString(statement) + [0, 0, 0, 0, 0, 0])
    }
    static func describe(_ portal: String = "") -> [UInt8] { message("D", [UInt8(ascii: "P")] + cString(portal)) }
    static func execute(_ portal: String = "") -> [UInt8] { message("E", cString(portal) + be32(0)) }
    static func close(statement: String) -> [UInt8] { message("C", [UInt8(ascii: "S")] + cString(statement)) }
    static let sync = message("S", [])

    static let authenticationOK = message("R", be32(0))
    static let ready = message("Z", [UInt8(ascii: "I")])
    static let parseComplete = message("1", [])
    static let bindComplete = message("2", [])
    static let noData = message("n", [])
    static func row(_ value: String) -> [UInt8] { message("D", [0, 1] + be32(UInt32(value.utf8.count)) + Array(value.utf8)) }
    static func complete(_ tag: String) -> [UInt8] { message("C", cString(tag)) }
    static func error(_ code: String, _ text: String) -> [UInt8] {
        message("E", [UInt8(ascii: "S")] + cString("ERROR") + [UInt8(ascii: "C")] + cString(code) + [UInt8(ascii: "M")] + cString(text) + [0])
    }
}
