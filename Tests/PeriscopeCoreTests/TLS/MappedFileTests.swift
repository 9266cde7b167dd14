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

    @Test func aFileMappedAgainLaterIsStillOneFileAndItsSegmentsCount() {
        let maps = """
        1000-2000 r--p 00000000 fe:00 5 /usr/lib/libssl.so.3
        2000-3000 r--p 00000000 fe:00 6 /usr/lib/libc.so.6
        3000-4000 r-xp 00001000 fe:00 5 /usr/lib/libssl.so.3
        4000-5000 r-xp 00000000 fe:01 5 /other/device/same/inode
        5000-6000 r--p 00000000 fe:00 99999999999999999999999 /overflowing/inode
        6000-7000 r--p 00000000 fe:00 12a /not/a/number
        7000-8000 r--p 00000000 fe:00 7 relative/path
        8000-9000 r--p
        """
        #expect(MappedFile.parse(maps: maps) == [
            MappedFile(path: "/usr/lib/libssl.so.3", device: "fe:00", inode: 5, executable: true),
            MappedFile(path: "/usr/lib/libc.so.6", device: "fe:00", inode: 6, executable: false),
            MappedFile(path: "/other/device/same/inode", device: "fe:01", inode: 5, executable: true),
        ])
        #expect(MappedFile.parse(maps: Array(maps.utf8)) == MappedFile.parse(maps: maps))
        #expect(MappedFile.parse(maps: "") == [])
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
