/// The processes the agent knows and the executable each runs, kept from what the kernel
/// reports as it happens — a fork (the child runs its parent's executable), an exec (what
/// the process runs now, read at the exec), an exit — and from scans of `/proc`. A span
/// names its process's executable however short-lived the process was: the kernel's word
/// wins over a `/proc` read that raced an exit, and a process that exited keeps its
/// executable a while for spans still on their way (`ExitedProcesses`).
///
/// `/proc` is asked only where the kernel did not say, through the closures passed in, so
/// the table itself does no I/O.
public struct ProcessTable: Sendable {
    /// Live processes, by pid.
    public private(set) var entries: [Int32: ProcessEntry] = [:]
    private var exited: ExitedProcesses

    public init(exitedCapacity: Int = 16384) {
        exited = ExitedProcesses(capacity: exitedCapacity)
    }

    public subscript(pid: Int32) -> ProcessEntry? { entries[pid] }

    /// The executable `pid` runs, or ran when it exited lately; nil when not known here.
    public func executable(of pid: Int32) -> String? {
        entries[pid]?.executable ?? exited.executable(of: pid)
    }

    /// `pid` called exec: its executable is the one the kernel read (`/proc` only where it
    /// could not, then the interpreter's path as run), its parent the kernel's when known.
    @discardableResult
    public mutating func executed(
        _ pid: Int32, image: ExecutedImage, procExecutable: () -> String?, procParent: () -> Int32?
    ) -> ProcessEntry {
        let ppid = image.parentPID > 0 ? image.parentPID : procParent() ?? entries[pid]?.ppid ?? 0
        let entry = ProcessEntry(pid: pid, ppid: ppid, executable: image.path ?? procExecutable() ?? image.executable)
        entries[pid] = entry
        return entry
    }

    /// `pid` was forked by `parent`: it runs its parent's executable until it calls exec.
    @discardableResult
    public mutating func forked(_ pid: Int32, parent: Int32, procExecutable: (Int32) -> String?) -> ProcessEntry {
        let entry = ProcessEntry(pid: pid, ppid: parent, executable: executable(of: parent) ?? procExecutable(parent) ?? procExecutable(pid))
        entries[pid] = entry
        return entry
    }

    /// A process first seen by its events (the last scan did not list it).
    public mutating func found(_ entry: ProcessEntry) {
        entries[entry.pid] = entry
    }

    /// `pid` exited at `timestamp` (monotonic nanoseconds).
    public mutating func exited(_ pid: Int32, at timestamp: UInt64) {
        if let entry = entries.removeValue(forKey: pid) { exited.add(entry, at: timestamp) }
    }

    /// A scan of `/proc` at `timestamp` replaces the live processes: an executable it could
    /// not read (a process exiting, or gone between listing and reading) stays what was
    /// known; processes it no longer lists count as exited then. Returns the scan so amended.
    public mutating func replace(withScan scanned: [ProcessEntry], at timestamp: UInt64) -> [ProcessEntry] {
        let known = entries
        let amended = scanned.map { entry in
            var entry = entry
            if entry.executable == nil { entry.executable = known[entry.pid]?.executable }
            return entry
        }
        entries = Dictionary(amended.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
        for (pid, entry) in known where entries[pid] == nil { exited.add(entry, at: timestamp) }
        return amended
    }

    /// Forgets processes that exited before `timestamp`.
    public mutating func forgetExited(before timestamp: UInt64) {
        exited.forget(before: timestamp)
    }
}
