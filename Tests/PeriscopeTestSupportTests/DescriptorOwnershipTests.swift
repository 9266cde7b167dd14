import Foundation
import PeriscopeKubeTestServer
import PeriscopeTestSupport
import Synchronization
import Testing

/// The test helpers close each descriptor they own exactly once. A second close of a number
/// another thread has just been given closes that thread's file: all suites share one process,
/// so it fails an unrelated test (a policy file written with EBADF).
@Suite(.serialized) struct DescriptorOwnershipTests {
    /// Runs `work` over and over (`minimumWork` times at least) on a thread of its own while this
    /// thread opens /dev/null, uses it and closes it (`rounds` times at least); returns how
    /// often a descriptor of this thread was closed under it. The kernel hands out the lowest free number, so a number the work
    /// closes twice is most often the one opened here in between.
    static func descriptorsClosedUnderneath(
        rounds: Int, minimumWork: Int, by work: @escaping @Sendable () -> Void
    ) -> Int {
        let stop = Atomic<Bool>(false)
        let worked = Atomic<Int>(0)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            while !stop.load(ordering: .relaxed) {
                work()
                worked.add(1, ordering: .relaxed)
            }
            finished.signal()
        }.start()
        var null = stat()
        stat("/dev/null", &null)
        var lost = 0
        var round = 0
        while round < rounds || worked.load(ordering: .relaxed) < minimumWork {
            round += 1
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            // Still /dev/null, not closed nor reused for something else (a socket, a file).
            let stillOurs = (0..<8).allSatisfy { _ in
                var status = stat()
                return fstat(fd, &status) == 0 && status.st_rdev == null.st_rdev && status.st_ino == null.st_ino
            }
            if !stillOurs {
                lost += 1
            } else if close(fd) != 0 {
                lost += 1
            }
        }
        stop.store(true, ordering: .relaxed)
        finished.wait()
        return lost
    }

    /// A loopback port on which connections are refused: bound, never listening, kept bound.
    static func refusingPort() throws -> (port: UInt16, holder: Int32) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw TestFailure("cannot bind a loopback port: \(String(cString: strerror(errno)))") }
        return (UInt16(bigEndian: address.sin_port), fd)
    }

    /// What `waitForPort` does until a server listens.
    @Test func aRefusedConnectionClosesItsSocketOnce() throws {
        let (port, holder) = try Self.refusingPort()
        defer { close(holder) }
        #expect(throws: TestFailure.self) { try TCPClient(port: port) }
        let lost = Self.descriptorsClosedUnderneath(rounds: 20_000, minimumWork: 5_000) { _ = try? TCPClient(port: port) }
        #expect(lost == 0, "\(lost) descriptors of another thread closed by failed connection attempts")
    }

    /// How `Kubectl.run` and the manifest tests run a program: Foundation's `Process` with
    /// three pipes, the input closed by hand, the outputs read to their end.
    @Test func runningAProgramThroughPipesClosesEachPipeOnce() throws {
        let lost = Self.descriptorsClosedUnderneath(rounds: 20_000, minimumWork: 100) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/cat")
            let input = Pipe(), output = Pipe(), error = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = error
            guard (try? process.run()) != nil else { return }
            input.fileHandleForWriting.write(Data("x".utf8))
            try? input.fileHandleForWriting.close()
            _ = output.fileHandleForReading.readDataToEndOfFile()
            _ = error.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
        }
        #expect(lost == 0, "\(lost) descriptors of another thread closed while running programs")
    }

    /// Tests stop the server and stop it again in a `defer`.
    @Test func stoppingTheTestAPIServerTwiceClosesItsListenerOnce() throws {
        let lost = Self.descriptorsClosedUnderneath(rounds: 20_000, minimumWork: 300) {
            guard let server = try? TestAPIServer() else { return }
            try? server.start()
            server.stop()
            server.stop()
        }
        #expect(lost == 0, "\(lost) descriptors of another thread closed by a server stopped twice")
    }
}
