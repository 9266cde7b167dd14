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
        var files: [MappedFile] = []
        var index: [FileKey: Int] = [:]
        for line in maps.split(separator: "\n", omittingEmptySubsequences: true) {
            // start-end perms offset dev inode path (the path may contain spaces)
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, let inode = UInt64(fields[4]), inode != 0 else { continue }
            var path = String(fields[5].drop { $0 == " " })
            guard path.hasPrefix("/") else { continue }
            if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
            let executable = fields[1].count == 4 && fields[1].dropFirst(2).first == "x"
            let file = MappedFile(path: path, device: String(fields[3]), inode: inode, executable: executable)
            if let existing = index[file.key] {
                files[existing].executable = files[existing].executable || executable
            } else {
                index[file.key] = files.count
                files.append(file)
            }
        }
        return files
    }
}
