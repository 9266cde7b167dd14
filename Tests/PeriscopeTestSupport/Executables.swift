import Foundation

/// Files a test runs as programs, written by a child process rather than by the test itself.
///
/// A file some process holds open for writing cannot be executed (`ETXTBSY`, "Text file
/// busy"). When the test process writes the file itself, every child it starts meanwhile — the
/// tests of other suites run concurrently and start programs all the time — holds a copy of
/// the descriptor from its fork until its own exec; on a busy machine that window is long
/// enough for the test's exec of the file to fail. A file written by `cp` or `sh` is only ever
/// open in that child, which has exited when these return.
public enum Executables {
    /// Copies the program at `source` to `destination`, with its mode.
    public static func copy(_ source: String, to destination: String) throws {
        let copying = try TestProcess("cp", [source, destination])
        guard copying.wait() == 0 else { throw TestFailure("cp \(source) \(destination) failed: \(copying.log)") }
    }

    /// Writes `contents` (a script, with its `#!` line) to `path`, executable.
    public static func write(_ contents: String, to path: String) throws {
        let writing = try TestProcess("sh", ["-c", "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", contents, path])
        guard writing.wait() == 0 else { throw TestFailure("cannot write \(path): \(writing.log)") }
    }
}
