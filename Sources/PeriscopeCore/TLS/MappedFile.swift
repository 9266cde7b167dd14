/// A file a process maps, from one line of `/proc/<pid>/maps`.
public struct MappedFile: Sendable, Hashable {
    /// The path as the process sees it (inside its own mount namespace).
    public var path: String
    /// `major:minor` of the device, as printed.
    public var device: String
    public var inode: UInt64
    /// Whether some mapping of it is executable.
    public var executable: Bool

    public init(path: String, device: String, inode: UInt64, executable: Bool) {
        self.path = path
        self.device = device
        self.inode = inode
        self.executable = executable
    }

    /// Identifies the file on its node, whoever maps it under whichever path.
    public var key: FileKey { FileKey(device: device, inode: inode) }

    public struct FileKey: Sendable, Hashable, CustomStringConvertible {
        public var device: String
        public var inode: UInt64

        public init(device: String, inode: UInt64) {
            self.device = device
            self.inode = inode
        }

        public var description: String { "\(device):\(inode)" }
    }

    /// The files mapped in `maps` (the text of `/proc/<pid>/maps`), once each, in order of
    /// first mapping. Anonymous and special mappings and lines that do not parse are left out.
    public static func parse(maps: some StringProtocol) -> [MappedFile] {
        parse(maps: Array(maps.utf8))
    }

    /// The same from the file's bytes. Read in place, a string made only per file: the TLS
    /// probes read the maps of every process a policy traces as it appears.
    public static func parse(maps: [UInt8]) -> [MappedFile] {
        var files: [MappedFile] = []
        var index: [FileKey: Int] = [:]
        maps.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            // Consecutive mappings of one file (its segments) are recognised without a lookup.
            var previous: (device: Slice<UnsafeBufferPointer<UInt8>>, inode: UInt64, at: Int)?
            while lineStart < buffer.count {
                let lineEnd = buffer[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? buffer.count
                defer { lineStart = lineEnd + 1 }
                guard let line = Line(buffer[lineStart..<lineEnd]) else { continue }
                if let last = previous, last.inode == line.inode, last.device.elementsEqual(line.device) {
                    files[last.at].executable = files[last.at].executable || line.executable
                    continue
                }
                var path = String(decoding: line.path, as: UTF8.self)
                if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
                let file = MappedFile(path: path, device: String(decoding: line.device, as: UTF8.self), inode: line.inode, executable: line.executable)
                let at: Int
                if let existing = index[file.key] {
                    files[existing].executable = files[existing].executable || line.executable
                    at = existing
                } else {
                    at = files.count
                    index[file.key] = at
                    files.append(file)
                }
                previous = (line.device, line.inode, at)
            }
        }
        return files
    }

    /// One line of a maps file that names a file: `start-end perms offset dev inode path`,
    /// the path possibly with spaces.
    private struct Line {
        var device: Slice<UnsafeBufferPointer<UInt8>>
        var inode: UInt64
        var path: Slice<UnsafeBufferPointer<UInt8>>
        var executable: Bool

        init?(_ line: Slice<UnsafeBufferPointer<UInt8>>) {
            var cursor = line.startIndex
            func token() -> Slice<UnsafeBufferPointer<UInt8>>? {
                while cursor < line.endIndex, line[cursor] == UInt8(ascii: " ") { cursor += 1 }
                let start = cursor
                while cursor < line.endIndex, line[cursor] != UInt8(ascii: " ") { cursor += 1 }
                return start < cursor ? line[start..<cursor] : nil
            }
            guard token() != nil, let permissions = token(), token() != nil, let device = token(), let inodeText = token()
            else { return nil }
            while cursor < line.endIndex, line[cursor] == UInt8(ascii: " ") { cursor += 1 }
            guard cursor < line.endIndex, line[cursor] == UInt8(ascii: "/"), inodeText.count <= 20 else { return nil }
            var inode: UInt64 = 0
            for digit in inodeText {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
                let (times, overflowed) = inode.multipliedReportingOverflow(by: 10)
                let (sum, carried) = times.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
                guard !overflowed, !carried else { return nil }
                inode = sum
            }
            guard inode != 0 else { return nil }
            self.device = device
            self.inode = inode
            self.path = line[cursor...]
            executable = permissions.count == 4 && permissions[permissions.startIndex + 2] == UInt8(ascii: "x")
        }
    }
}
