/// Message type bytes of protocol 3.0 (some letters mean one thing from the client and
/// another from the server), and the startup-phase request codes.
enum PostgreSQLMessageType {
    // Client to server.
    static let bind = UInt8(ascii: "B")
    static let close = UInt8(ascii: "C")
    static let describe = UInt8(ascii: "D")
    static let execute = UInt8(ascii: "E")
    static let functionCall = UInt8(ascii: "F")
    static let flush = UInt8(ascii: "H")
    static let parse = UInt8(ascii: "P")
    static let query = UInt8(ascii: "Q")
    static let sync = UInt8(ascii: "S")
    static let terminate = UInt8(ascii: "X")
    static let copyFail = UInt8(ascii: "f")
    /// Password, SASL and GSS responses: never read.
    static let password = UInt8(ascii: "p")
    // Both ways.
    static let copyData = UInt8(ascii: "d")
    static let copyDone = UInt8(ascii: "c")
    // Server to client.
    static let authentication = UInt8(ascii: "R")
    static let backendKeyData = UInt8(ascii: "K")
    static let parameterStatus = UInt8(ascii: "S")
    static let readyForQuery = UInt8(ascii: "Z")
    static let rowDescription = UInt8(ascii: "T")
    static let dataRow = UInt8(ascii: "D")
    static let commandComplete = UInt8(ascii: "C")
    static let errorResponse = UInt8(ascii: "E")
    static let noticeResponse = UInt8(ascii: "N")
    static let emptyQueryResponse = UInt8(ascii: "I")
    static let parseComplete = UInt8(ascii: "1")
    static let bindComplete = UInt8(ascii: "2")
    static let closeComplete = UInt8(ascii: "3")
    static let noData = UInt8(ascii: "n")
    static let parameterDescription = UInt8(ascii: "t")
    static let portalSuspended = UInt8(ascii: "s")
    static let copyInResponse = UInt8(ascii: "G")
    static let copyOutResponse = UInt8(ascii: "H")
    static let copyBothResponse = UInt8(ascii: "W")
    static let notificationResponse = UInt8(ascii: "A")
    static let functionCallResponse = UInt8(ascii: "V")
    static let negotiateProtocolVersion = UInt8(ascii: "v")

    // Startup-phase request codes (the first body word of an untyped message).
    static let protocol3: UInt32 = 0x0003_0000
    static let sslRequest: UInt32 = 80_877_103
    static let gssEncryptionRequest: UInt32 = 80_877_104
    static let cancelRequest: UInt32 = 80_877_102

    static func isValid(_ type: UInt8, frontend: Bool) -> Bool {
        if frontend {
            switch type {
            case bind, close, describe, execute, functionCall, flush, parse, query, sync, terminate, copyFail,
                 password, copyData, copyDone:
                return true
            default:
                return false
            }
        }
        switch type {
        case authentication, backendKeyData, parameterStatus, readyForQuery, rowDescription, dataRow,
             commandComplete, errorResponse, noticeResponse, emptyQueryResponse, parseComplete, bindComplete,
             closeComplete, noData, parameterDescription, portalSuspended, copyInResponse, copyOutResponse,
             copyBothResponse, notificationResponse, functionCallResponse, negotiateProtocolVersion, copyData, copyDone:
            return true
        default:
            return false
        }
    }

    /// Lengths a message of `type` can have, for telling a message boundary from bytes
    /// in the middle of one.
    static func hasPlausibleLength(_ type: UInt8, length: Int, frontend: Bool) -> Bool {
        if frontend {
            switch type {
            case sync, flush, terminate, copyDone: return length == 4
            case execute: return length >= 9 && length <= 4 + 64 + 4
            case describe, close: return length >= 6 && length <= 4 + 1 + 64
            case query: return length >= 5
            default: return true
            }
        }
        switch type {
        case readyForQuery: return length == 5
        case parseComplete, bindComplete, closeComplete, noData, emptyQueryResponse, portalSuspended, copyDone:
            return length == 4
        case backendKeyData: return length == 12
        case commandComplete: return length >= 5 && length <= 4 + 64
        case dataRow, rowDescription: return length >= 6
        default: return true
        }
    }
}
