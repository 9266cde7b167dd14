import Foundation

/// A real program started by a test and stopped when the test is done.
///
/// Spawned with an empty signal mask and default signal dispositions: the test runner's
/// threads block signals, and a child inheriting that mask would ignore SIGTERM. It leads
/// its own process group, so stopping it also stops whatever it started.
public final class TestProcess: @unchecked Sendable {
    public let pid: Int32
    private var exited = false
    /// Where the program's standard output (and standard error, unless separated) go.
    public let logPath: String
    /// Where standard error goes when separated from standard output.
    public let errorLogPath: String?

    /// Starts `executable` (looked up on PATH when not absolute) with `arguments`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
         separateStandardError: Bool = false) throws {
        let path = executable.hasPrefix("/") ? executable : try Self.which(executable)
        logPath = NSTemporaryDirectory() + "periscope-test-\(UUID().uuidString).log"
        errorLogPath = separateStandardError ? logPath + ".stderr" : nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errorLogPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorLogPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw TestFailure("cannot start \(path): \(String(cString: strerror(result)))") }
        pid = child
    }

    /// Sends `signal` and waits for the program to end; returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) -> Int32 {
        guard !exited else { return 0 }
        kill(pid, signal)
        defer { kill(-pid, SIGKILL) }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(10_000)
        }
        exited = true
        return status
    }

    /// Waits for the program to end by itself; returns its exit status.
    @discardableResult
    public func wait() -> Int32 {
        guard !exited else { return 0 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exited = true
        kill(-pid, SIGKILL)
        return status
    }

    public var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exited = true
            return false
        }
        return true
    }

    /// What the program printed so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the program printed `text`; fails with `failure` and what it printed when
    /// it exits first or `timeout` passes.
    public func waitForLog(_ text: String, timeout: Duration = .seconds(10), failure: String) throws {
        let deadline = ContinuousClock.now + timeout
        while !log.contains(text) {
            guard ContinuousClock.now < deadline, isRunning else {
                throw TestFailure("\(failure):\n\(log)")
            }
            usleep(20_000)
        }
    }

    /// What the program printed on standard error, when separated.
    public var errorLog: String {
        errorLogPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
    }

    deinit {
        stop()
        unlink(logPath)
        if let errorLogPath { unlink(errorLogPath) }
    }

    public static func which(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] + path.split(separator: ":").map(String.init)
        for directory in directories {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestFailure("\(name) is not installed; the test setup (hack/test.sh) installs it")
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a program to completion and returns what it printed on standard output.
@discardableResult
public func run(_ executable: String, _ arguments: [String]) throws -> String {
    let process = try TestProcess(executable, arguments)
    process.wait()
    return process.log
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`; when `process`
/// is given, fails as soon as it exits, with what it printed.
public func waitForPort(_ port: UInt16, of process: TestProcess? = nil, timeout: Duration = .seconds(10)) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? TCPClient(port: port)) != nil { return }
        if let process, !process.isRunning {
            throw TestFailure("the process meant to listen on \(port) exited:\n\(process.log)")
        }
        usleep(50_000)
    }
    throw TestFailure("nothing listens on 127.0.0.1:\(port) after \(timeout):\n\(process?.log ?? "")")
}
