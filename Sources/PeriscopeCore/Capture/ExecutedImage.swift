/// What a process runs after it called exec, as the kernel read it at the exec: exact even
/// when the process is gone before anyone looks at `/proc`, and for a script the interpreter
/// that runs it, not the script.
public struct ExecutedImage: Sendable, Equatable {
    /// Absolute path of the executable file, as `/proc/<pid>/exe` gives it (symbolic links
    /// resolved, a script's interpreter rather than the script); nil when the kernel could
    /// not read it whole (deeper or longer than an exec event carries).
    public var path: String?
    /// The path that was run: a script's interpreter as its `#!` line names it, otherwise
    /// the path given to exec. Empty when unreadable.
    public var interpreter: String
    /// The parent process at the exec; 0 when not known.
    public var parentPID: Int32
    /// The kernel selected the process at exec because its executable's file name is one
    /// the policy selects; the agent checks the whole path and undoes what does not match.
    public var selectedAtExec: Bool

    public init(path: String?, interpreter: String, parentPID: Int32 = 0, selectedAtExec: Bool = false) {
        self.path = path
        self.interpreter = interpreter
        self.parentPID = parentPID
        self.selectedAtExec = selectedAtExec
    }

    /// From the components of the executable's path, last first as the kernel walks them
    /// up: a path when they reached the root (`complete`) and none is empty or holds `/`.
    public init(
        componentsLastFirst components: [String], complete: Bool, interpreter: String, parentPID: Int32 = 0,
        selectedAtExec: Bool = false
    ) {
        let usable = complete && !components.isEmpty && components.allSatisfy { !$0.isEmpty && !$0.contains("/") }
        self.init(
            path: usable ? "/" + components.reversed().joined(separator: "/") : nil,
            interpreter: interpreter, parentPID: parentPID, selectedAtExec: selectedAtExec
        )
    }

    /// The executable to name the process by: the file's path, else the interpreter's.
    public var executable: String? { path ?? (interpreter.isEmpty ? nil : interpreter) }
}
