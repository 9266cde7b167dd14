import Foundation
@testable import PeriscopeTestSupport
import Testing

/// Servers told to listen on port 0 are found on the port the kernel gave them.
@Suite struct ListeningPortsTests {
    @Test func theListenRowsOfTheGivenSocketsGiveTheirPorts() {
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1073 1 0000000000000000 100 0 0 10 0
               1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 1074 1 0000000000000000 20 4 30 10 -1
               2: 0100007F:A411 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2000 1 0000000000000000 100 0 0 10 0
               3: garbage
            """
        #expect(ListeningPorts.ports(procNetTCP: table, ofSocketInodes: nil) == [8080, 42001])
        #expect(ListeningPorts.ports(procNetTCP: table, ofSocketInodes: [2000, 1074]) == [42001])
        #expect(ListeningPorts.ports(procNetTCP: table, ofSocketInodes: []).isEmpty)
    }

    @Test func aServerOnPortZeroIsFoundWhereItListens() throws {
        let server = try TestProcess("python3", ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", "/tmp"])
        defer { server.stop() }
        let port = try listeningPort(of: server)
        #expect(port != 0)
        #expect(try run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"]) == "200")
    }

    @Test func aProcessThatListensNowhereFailsWithWhatItPrinted() throws {
        let process = try TestProcess("sh", ["-c", "echo no server here"])
        #expect(throws: TestFailure.self) { try listeningPort(of: process, timeout: .seconds(2)) }
    }
}
