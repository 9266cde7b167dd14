/// One process as the agent sees it in `/proc`: enough to decide whether to trace it.
public struct ProcessEntry: Sendable, Hashable {
    public var pid: Int32
    /// Parent pid; may name a process that is gone or was never listed.
    public var ppid: Int32
    /// Absolute path of the executable (`/proc/<pid>/exe`); nil when unreadable, as
    /// for kernel threads or processes that exited while being read.
    public var executable: String?

    public init(pid: Int32, ppid: Int32, executable: String?) {
        self.pid = pid
        self.ppid = ppid
        self.executable = executable
    }
}
