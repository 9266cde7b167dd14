/// Constants of the MySQL/MariaDB client/server protocol.
enum MySQLWire {
    enum Command {
        static let quit: UInt8 = 0x01
        static let initDB: UInt8 = 0x02
        static let query: UInt8 = 0x03
        static let fieldList: UInt8 = 0x04
        static let statistics: UInt8 = 0x09
        static let processKill: UInt8 = 0x0C
        static let debug: UInt8 = 0x0D
        static let ping: UInt8 = 0x0E
        static let changeUser: UInt8 = 0x11
        static let binlogDump: UInt8 = 0x12
        static let registerReplica: UInt8 = 0x15
        static let statementPrepare: UInt8 = 0x16
        static let statementExecute: UInt8 = 0x17
        static let statementSendLongData: UInt8 = 0x18
        static let statementClose: UInt8 = 0x19
        static let statementReset: UInt8 = 0x1A
        static let setOption: UInt8 = 0x1B
        static let statementFetch: UInt8 = 0x1C
        static let binlogDumpGTID: UInt8 = 0x1E
        static let resetConnection: UInt8 = 0x1F
        /// MariaDB's COM_STMT_BULK_EXECUTE.
        static let statementBulkExecute: UInt8 = 0xFA
    }

    enum Capability {
        /// Unset by MariaDB clients and servers, which then carry extended capabilities.
        static let mysql: UInt32 = 0x1
        static let connectWithDatabase: UInt32 = 0x8
        static let compress: UInt32 = 0x20
        static let protocol41: UInt32 = 0x200
        static let ssl: UInt32 = 0x800
        static let secureConnection: UInt32 = 0x8000
        static let pluginAuth: UInt32 = 0x8_0000
        static let pluginAuthLengthEncodedData: UInt32 = 0x20_0000
        static let deprecateEOF: UInt32 = 0x100_0000
        static let optionalResultsetMetadata: UInt32 = 0x200_0000
        static let queryAttributes: UInt32 = 0x800_0000
        /// MariaDB extended capability: result sets may skip column definitions.
        static let mariaDBCacheMetadata: UInt32 = 0x10
    }

    /// `SERVER_MORE_RESULTS_EXISTS`: another result set follows.
    static let moreResultsExist: UInt16 = 0x0008

    static let ok: UInt8 = 0x00
    static let eof: UInt8 = 0xFE
    static let error: UInt8 = 0xFF
    static let localInfile: UInt8 = 0xFB
}
