import Foundation

/// The loopback port a test names `nominal` (18500–18999), moved into a block of ports held
/// by this test process alone.
///
/// Tests that start the agent select traffic by port and the agent sees the whole kernel:
/// two test processes (two checkouts, or a suite run twice at once) on the same fixed port
/// would see each other's requests, and a client of one would talk to the other's server.
/// Each process takes a block of 500 ports for itself by locking a file named after it; the
/// lock goes with the process, however it ends, and a block where something listens already
/// (a server outliving its test process) is passed by. Blocks lie below the kernel's
/// ephemeral range, so that no outgoing connection takes one of their ports as its own, and a
/// test keeps the number it was written with as its offset in the block.
public func testPort(_ nominal: UInt16) -> UInt16 {
    precondition(TestPorts.nominal.contains(nominal), "test ports are named 18500–18999, not \(nominal)")
    return TestPorts.base + (nominal - TestPorts.nominal.lowerBound)
}

public enum TestPorts {
    /// The numbers tests are written with.
    public static let nominal: ClosedRange<UInt16> = 18500...18999
    static let blockSize = UInt16(nominal.count)
    static let lowest: UInt16 = 20000
    static let directory = "/tmp/periscope-test-ports"

    /// The first port of this process's block, taken on first use.
    public static let base: UInt16 = takeBlock()

    /// The first block whose lock this process gets, below the ephemeral range (or at
    /// 18500, where tests were written, when none is free: as before, unshared by luck).
    private static func takeBlock() -> UInt16 {
        let ephemeralLow = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { UInt16($0) } } ?? 32768
        mkdir(directory, 0o1777)
        chmod(directory, 0o1777)
        let listening = ListeningPorts.ports()
        var start = lowest
        while ephemeralLow >= blockSize, start <= ephemeralLow - blockSize {
            let fd = open("\(directory)/\(start).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            if fd >= 0 {
                // Held until the process ends: the descriptor is never closed. A server left
                // running by a test process killed before it could stop it keeps its port.
                if flock(fd, LOCK_EX | LOCK_NB) == 0, !listening.contains(where: { (start..<start + blockSize).contains($0) }) {
                    return start
                }
                close(fd)
            }
            start += blockSize
        }
        return nominal.lowerBound
    }
}
