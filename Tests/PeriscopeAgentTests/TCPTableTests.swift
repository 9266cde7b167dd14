import Testing
@testable import PeriscopeAgent

/// Rows of `/proc/net/tcp` and `tcp6` read in place, as the kernel prints them and as a hostile
/// or truncated file could look.
@Suite struct TCPTableTests {
    typealias Row = TCPTable.Row

    @Test func rowsGiveTheirPortsStateAndInode() {
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:4A2F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5579205 1 00000000a7da30e7 100 0 0 10 0
               1: 0100007F:9C40 0100007F:4A2F 01 00000000:00000000 00:00000000 00000000     0        0 5579300 1 00000000a7da30e8 20 4 30 10 -1
               2: 00000000000000000000000001000000:C350 00000000000000000000000001000000:1f90 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 0
            """
        #expect(TCPTable.rows(of: Array(table.utf8)) == [
            Row(localPort: 0x4A2F, peerPort: 0, state: Row.listening, inode: 5579205),
            Row(localPort: 0x9C40, peerPort: 0x4A2F, state: Row.established, inode: 5579300),
            Row(localPort: 0xC350, peerPort: 0x1F90, state: 6, inode: 0),
        ])
    }

    @Test(arguments: [
        ("", []),
        ("no heading newline", []),
        ("heading\n", []),
        // Too short for a state, or a local port that does not parse: passed over.
        ("heading\n   0: 0100007F:1F90", []),
        ("heading\n   0: 0100007F 00000000:0000 0A", []),
        ("heading\n   0: 0100007F:1FFFF 00000000:0000 0A", []),
        ("heading\n   0: 0100007F: 00000000:0000 0A", []),
        ("heading\n   0: 0100007F:ZZZZ 00000000:0000 0A", []),
        ("heading\n   0: 0100007F:1F90 00000000:0000 A", []),
        ("heading\n   0: 0100007F:1F90 00000000:0000 0AB", []),
        ("heading\n   0: 0100007F:1F90 00000000:0000 +A", []),
        // The rest missing or malformed: nil, the row kept.
        ("heading\n   0: 0100007F:1F90 00000000:XYZ 01", [Row(localPort: 0x1F90, peerPort: nil, state: 1, inode: nil)]),
        ("heading\n   0: 0100007F:1F90 00000000:0050 01 a b c d e 99999999999999999999", [Row(localPort: 0x1F90, peerPort: 0x50, state: 1, inode: nil)]),
        ("heading\n   0: 0100007F:1F90 00000000:0050 01 a b c d e -1", [Row(localPort: 0x1F90, peerPort: 0x50, state: 1, inode: nil)]),
        // Leading zeros, no final newline, empty lines and runs of spaces are fine.
        ("heading\n\n\n 0:   0100007F:00001F90    00000000:0050 01 a b c d e 18446744073709551615",
         [Row(localPort: 0x1F90, peerPort: 0x50, state: 1, inode: .max)]),
    ] as [(String, [Row])])
    func hostileOrTruncatedRowsArePassedOverOrKeptWithWhatParses(table: String, expected: [Row]) {
        #expect(TCPTable.rows(of: Array(table.utf8)) == expected)
    }
}
