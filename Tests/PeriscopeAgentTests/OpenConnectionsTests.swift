import Testing
@testable import PeriscopeAgent

/// Which connections a process opened before it was traced are handed to propagation: the
/// pure decisions, over tables as `/proc/<pid>/net/tcp` and `tcp6` print them.
@Suite struct OpenConnectionsTests {
    @Test func listeningPortsAreTheLocalPortsOfListenRowsOnly() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1073 1 00000000e0d463e6 100 0 0 10 0
               1: 0100007F:4A2F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5579205 1 00000000a7da30e7 100 0 0 10 0
               2: 0100007F:9C40 0100007F:4A2F 01 00000000:00000000 00:00000000 00000000     0        0 5579300 1 00000000a7da30e8 20 4 30 10 -1
               3: 0100007F:4A30 0100007F:9C41 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 00000000a7da30e9
            """
        #expect(OpenConnections.listeningPorts(procNetTCP: Array(tcp.utf8)) == [2024, 18991])
        let tcp6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1 0000000000000000 100 0 0 10 0
            """
        #expect(OpenConnections.listeningPorts(procNetTCP: Array(tcp6.utf8)) == [8080])
    }

    @Test(arguments: [
        "garbage", "", "header\n   0: 0100007F 00000000:0000 0A", "header\n   0: 0100007F:ZZZZ 00000000:0000 0A",
        "header\n   0: 0100007F:1F90", "header\n   0: 0100007F:1FFFF 00000000:0000 0A",
    ])
    func malformedTablesGiveNoPorts(table: String) {
        #expect(OpenConnections.listeningPorts(procNetTCP: Array(table.utf8)).isEmpty)
    }

    /// Under a policy tracing every process: the established connections a process of the
    /// namespace opened (to or from a selected port, when it selects ports), never the
    /// accepted side of a listener's.
    @Test func connectionInodesAreTheEstablishedClientConnectionsOnSelectedPorts() {
        var bitmap = [UInt64](repeating: 0, count: 1024)
        for port in [18991, 8080] { bitmap[port >> 6] |= 1 << UInt64(port & 63) }
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:4A2F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5579205 1 00000000a7da30e7 100 0 0 10 0
               1: 0100007F:9C40 0100007F:4A2F 01 00000000:00000000 00:00000000 00000000     0        0 5579300 1 00000000a7da30e8 20 4 30 10 -1
               2: 0100007F:4A2F 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 5579301 1 00000000a7da30e9 20 4 30 10 -1
               3: 0100007F:9C41 0100007F:4A30 01 00000000:00000000 00:00000000 00000000     0        0 5579302 1 00000000a7da30ea 20 4 30 10 -1
               4: 0100007F:9C42 0100007F:4A2F 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 00000000a7da30eb
               5: 0100007F:9C43 0100007F:4A2F 01 00000000:00000000 00:00000000 00000000     0        0 0 1 00000000a7da30ec 20 4 30 10 -1
            """
        // Over IPv6: a connection to 8080 (selected) and one between two ports not selected.
        let tcp6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000000000000000000001000000:C350 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1
               1: 00000000000000000000000001000000:1F91 00000000000000000000000001000000:C351 01 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 20 4 30 10 -1
            """
        #expect(OpenConnections.connectionInodes(procNetTCP: [tcp, tcp6].map { Array($0.utf8) }, bitmap: bitmap) == [5579300, 777])
        // A policy without ports (every process on every port): every established connection
        // from a port nobody listens on, still never an accepted one, a closing one or one
        // without an inode.
        #expect(OpenConnections.connectionInodes(procNetTCP: [tcp, tcp6].map { Array($0.utf8) }, bitmap: nil) == [5579300, 5579302, 777, 778])
        for selected in [bitmap, nil] {
            #expect(OpenConnections.connectionInodes(procNetTCP: ["garbage", "", "header\n   0: 0100007F:9C40 0100007F:4A2F 01"].map { Array($0.utf8) }, bitmap: selected).isEmpty)
        }
    }

    @Test func portsAreSelectedAsTheKernelSelectsThem() {
        var bitmap = [UInt64](repeating: 0, count: 1024)
        bitmap[18991 >> 6] |= 1 << UInt64(18991 & 63)
        #expect(OpenConnections.portSelected(local: 40000, peer: 18991, bitmap: bitmap))
        #expect(OpenConnections.portSelected(local: 18991, peer: 40000, bitmap: bitmap))
        #expect(!OpenConnections.portSelected(local: 40000, peer: 18992, bitmap: bitmap))
        #expect(OpenConnections.portSelected(local: 40000, peer: 1, bitmap: nil))
        #expect(!OpenConnections.portSelected(local: 65535, peer: 65535, bitmap: [1]))
    }
}
