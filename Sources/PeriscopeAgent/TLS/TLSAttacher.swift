import Logging
import PeriscopeBPF
import PeriscopeCore
import PeriscopeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the TLS probes on the library files the traced processes map, on a thread of its
/// own so that reading `/proc/<pid>/maps` and symbol tables and attaching never holds up
/// capture. The capture thread says which processes are traced (`follow`); each one's maps
/// are read through its own `/proc/<pid>/root`, so files inside containers are found; a
/// file gets its probes once (per device and inode) whatever the number of processes
/// mapping it, and loses them when no traced process maps it any more. A process whose
/// library is not mapped yet (loaded later, e.g. Python's `import ssl`) is looked at again,
/// less and less often.
final class TLSAttacher: @unchecked Sendable {
    let probes: TLSProbes
    private let procRoot: String
    let logger: Logger
    private let wanted = Mutex<Wanted>(Wanted())
    private let published = Mutex<TLSProbeStatus>(TLSProbeStatus())
    private let stopped = Atomic<Bool>(false)
    /// Wakes the thread for a new wish, or to stop.
    private let wakeup = Wakeup()
    /// Signalled by the thread as it ends.
    private let finished = Wakeup()
    private var running = false

    /// What the capture thread asks for.
    struct Wanted: Sendable, Equatable {
        var pids: Set<Int32> = []
        var revision = 0
    }

    /// One file with probes, or one that was refused.
    struct ProbedFile {
        var path: String
        var library: TLSLibrary?
        var links: TLSProbeLinks?
        var refusal: String?
        var processes: Set<Int32> = []
    }

    /// One traced process as the attacher last saw it.
    private struct Process {
        var files: [MappedFile.FileKey] = []
        var refusals: [String] = []
        var lookedAt = 0
        var nextLook: UInt64 = 0
    }

    private var files: [MappedFile.FileKey: ProbedFile] = [:]
    private var processes: [Int32: Process] = [:]
    private var seenRevision = -1

    /// How often a process without a probed library is looked at again: doubling from
    /// `firstRetry` up to `maxRetry`.
    static let firstRetry: UInt64 = 100_000_000
    static let maxRetry: UInt64 = 10_000_000_000
    /// Processes whose maps one pass reads at most, the longest waiting first (a process new
    /// to the attacher before any looked at again); the others wait for the next pass, 50 ms
    /// later. A node with thousands of traced processes mapping no TLS library never spends a
    /// pass reading all their maps.
    static let maxLooksPerPass = 32

    init(probes: TLSProbes, procRoot: String = "/proc", logger: Logger) {
        self.probes = probes
        self.procRoot = procRoot
        self.logger = logger
    }

    /// Starts the attacher's thread.
    func start() {
        guard !running else { return }
        running = true
        PosixThread.start(name: "periscope-tls") { [self] in
            run()
            finished.signal()
        }
    }

    /// Stops the thread and detaches every probe; returns once they are gone.
    func stop() {
        guard running else { return }
        running = false
        stopped.store(true, ordering: .releasing)
        wakeup.signal()
        while !finished.wait(nanoseconds: 1_000_000_000) {}
    }

    /// The processes to probe from now on (cheap: the work happens on the attacher's thread).
    func follow(pids: Set<Int32>) {
        let changed = wanted.withLock { wanted in
            guard wanted.pids != pids else { return false }
            wanted.pids = pids
            wanted.revision += 1
            return true
        }
        if changed { wakeup.signal() }
    }

    /// What is probed, as of the attacher's last pass.
    var status: TLSProbeStatus { published.withLock { $0 } }

    private func run() {
        while !stopped.load(ordering: .acquiring) {
            pass(now: MonotonicClock.now())
            // Asleep until the capture thread asks for other processes or the next look is
            // due: no wakeup while nothing changes.
            wakeup.wait(nanoseconds: nextPassDelay(now: MonotonicClock.now()))
        }
        let count = files.values.filter { $0.links != nil }.count
        files.removeAll()  // releases the links: the probes detach
        processes.removeAll()
        published.withLock { $0 = TLSProbeStatus() }
        if count > 0 { logger.info("tls.detached", metadata: ["files": "\(count)"]) }
    }

    /// How long until a process is due to be looked at again: 50 ms at least (processes
    /// beyond `maxLooksPerPass` wait that long), `maxRetry` when none waits.
    private func nextPassDelay(now: UInt64) -> UInt64 {
        var next: UInt64?
        for process in processes.values where process.files.isEmpty && process.refusals.isEmpty {
            next = min(next ?? process.nextLook, process.nextLook)
        }
        guard let next else { return Self.maxRetry }
        return max(next > now ? next - now : 0, 50_000_000)
    }

    private func pass(now: UInt64) {
        let current = wanted.withLock { $0 }
        var changed = false
        if current.revision != seenRevision {
            seenRevision = current.revision
            for pid in processes.keys where !current.pids.contains(pid) {
                forget(pid)
                changed = true
            }
            for pid in current.pids where processes[pid] == nil {
                processes[pid] = Process()
            }
        }
        var due: [(pid: Int32, nextLook: UInt64)] = []
        for (pid, process) in processes where process.files.isEmpty && process.refusals.isEmpty && process.nextLook <= now {
            due.append((pid, process.nextLook))
        }
        if due.count > Self.maxLooksPerPass {
            due.sort { $0.nextLook < $1.nextLook }
            due.removeSubrange(Self.maxLooksPerPass...)
        }
        for (pid, _) in due {
            look(at: pid, now: now)
            changed = true
        }
        if changed { publish() }
    }

    /// Reads the process's maps and probes the TLS libraries it maps.
    private func look(at pid: Int32, now: UInt64) {
        guard var process = processes[pid] else { return }
        process.lookedAt += 1
        let delay = min(Self.firstRetry << UInt64(min(process.lookedAt - 1, 20)), Self.maxRetry)
        process.nextLook = now + delay
        defer { processes[pid] = process }
        guard let maps = System.readFile("\(procRoot)/\(pid)/maps", limit: 8 << 20) else { return }
        let executable = executablePath(of: pid)
        for file in MappedFile.parse(maps: maps)
        where TLSProbePlanner.isCandidate(file, executable: executable) {
            let key = file.key
            if files[key] == nil {
                files[key] = probe(file, of: pid)
            }
            guard var probed = files[key] else { continue }
            if let refusal = probed.refusal {
                process.refusals.append("\(file.path): \(refusal)")
            } else if probed.library != nil {
                probed.processes.insert(pid)
                files[key] = probed
                process.files.append(key)
            }
        }
    }

    /// Opens a file through the process's root, plans and attaches its probes. Nil library
    /// and nil refusal: not a TLS library (an executable without OpenSSL).
    private func probe(_ file: MappedFile, of pid: Int32) -> ProbedFile {
        let path = "\(procRoot)/\(pid)/root\(file.path)"
        var result = ProbedFile(path: file.path)
        guard let handle = ReadOnlyFile(path: path) else {
            result.refusal = "tls.unreadable: cannot open \(path) (errno \(errno))"
            return result
        }
        let size = handle.size ?? 0
        let plan: TLSProbePlan?
        let elf: ELFFile
        do {
            elf = try ELFFile { offset, count in
                guard offset < size else { return [] }
                return handle.read(at: offset, count: Int(min(UInt64(count), size - offset)))
            }
            plan = try TLSProbePlanner.plan(for: elf)
        } catch let error as TLSProbePlanner.Refusal {
            result.refusal = error.description
            return result
        } catch {
            result.refusal = "\(error)"
            return result
        }
        guard let plan else {
            if let go = probeGo(elf, file: file, path: path, pid: pid) { return go }
            if file.path.split(separator: "/").last?.hasPrefix("libssl.so") == true {
                result.refusal = TLSProbePlanner.Refusal.noSymbols("SSL_read and SSL_write not in its symbol tables").description
            }
            return result
        }
        do {
            result.links = try probes.attach(plan, path: path)
            result.library = plan.library
            logger.info("tls.probed", metadata: [
                "file": "\(file.path)", "library": "\(plan.library.rawValue)", "inode": "\(file.key)",
                "functions": "\(plan.entries.map(\.function.symbol).joined(separator: ","))",
            ])
        } catch {
            result.refusal = "tls.attach_failed: \(error)"
            logger.warning("tls.attach.failed", metadata: ["file": "\(file.path)", "error": "\(error)"])
        }
        return result
    }

    /// The process is no longer traced: its files lose it, and their probes once unused.
    private func forget(_ pid: Int32) {
        guard let process = processes.removeValue(forKey: pid) else { return }
        for key in process.files {
            guard var probed = files[key] else { continue }
            probed.processes.remove(pid)
            if probed.processes.isEmpty {
                files[key] = nil
                logger.info("tls.detached", metadata: ["file": "\(probed.path)", "inode": "\(key)"])
            } else {
                files[key] = probed
            }
        }
    }

    private func executablePath(of pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("\(procRoot)/\(pid)/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        var path = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
        return path
    }

    private func publish() {
        var status = TLSProbeStatus()
        for probed in files.values {
            if let library = probed.library, !probed.processes.isEmpty {
                status.files.append(.init(path: probed.path, library: library.rawValue, processes: probed.processes.count))
            }
        }
        status.files.sort { $0.path < $1.path }
        status.processesProbed = processes.values.filter { !$0.files.isEmpty }.count
        status.refusals = processes.compactMap { pid, process in
            process.files.isEmpty && !process.refusals.isEmpty ? .init(pid: pid, reason: process.refusals.joined(separator: "; ")) : nil
        }.sorted { $0.pid < $1.pid }
        published.withLock { $0 = status }
    }
}
