import PeriscopeCore
import Testing

@Suite struct MappedFileTests {
    @Test func parsesFilesOnceWithTheirInodesAndPathsWithSpaces() {
        let maps = """
        560d3cb3f000-560d3cb62000 r--p 00000000 fe:00 14106628                   /usr/sbin/nginx
        560d3cb62000-560d3cc22000 r-xp 00023000 fe:00 14106628                   /usr/sbin/nginx
        7fb419e26000-7fb419e45000 r--p 00000000 fe:00 333668                     /usr/lib/x86_64-linux-gnu/libssl.so.3
        7fb419e45000-7fb419ea2000 r-xp 0001f000 fe:00 333668                     /usr/lib/x86_64-linux-gnu/libssl.so.3
        7fb419ea2000-7fb419ea3000 rw-p 00000000 00:00 0
        7ffd1c5e1000-7ffd1c602000 rw-p 00000000 00:00 0                          [stack]
        7fb41a000000-7fb41a001000 r-xp 00000000 00:1f 77                         /tmp/my lib.so (deleted)
        garbage line
        """
        let files = MappedFile.parse(maps: maps)
        #expect(files == [
            MappedFile(path: "/usr/sbin/nginx", device: "fe:00", inode: 14106628, executable: true),
            MappedFile(path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", device: "fe:00", inode: 333668, executable: true),
            MappedFile(path: "/tmp/my lib.so", device: "00:1f", inode: 77, executable: true),
        ])
    }

    @Test func candidatesAreLibsslAndTheExecutable() {
        let ssl = MappedFile(path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", device: "fe:00", inode: 1, executable: true)
        let node = MappedFile(path: "/usr/bin/node", device: "fe:00", inode: 2, executable: true)
        let libc = MappedFile(path: "/usr/lib/x86_64-linux-gnu/libc.so.6", device: "fe:00", inode: 3, executable: true)
        #expect(TLSProbePlanner.isCandidate(ssl, executable: "/usr/bin/python3"))
        #expect(TLSProbePlanner.isCandidate(node, executable: "/usr/bin/node"))
        #expect(!TLSProbePlanner.isCandidate(node, executable: "/usr/bin/python3"))
        #expect(!TLSProbePlanner.isCandidate(libc, executable: "/usr/bin/python3"))
    }
}
