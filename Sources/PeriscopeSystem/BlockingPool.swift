import Synchronization

/// Threads of their own for blocking work (reading `/proc` and files, waiting on libcurl), so
/// that it never holds a thread of Swift's cooperative pool, which async code everywhere in the
/// process shares. `run` suspends the caller until a pool thread has done the work.
public final class BlockingPool: Sendable {
    /// The process's pool: two threads, started on first use.
    public static let shared = BlockingPool(threads: 2, name: "periscope-blocking")

    private struct State {
        var work: [@Sendable () -> Void] = []
        var idle = 0
        var started = 0
    }

    private let state = Mutex(State())
    private let condition = PosixCondition()
    private let maximumThreads: Int
    private let name: String

    /// - Parameter threads: how many threads work at once at most; they start as work arrives.
    public init(threads: Int, name: String) {
        maximumThreads = max(1, threads)
        self.name = name
    }

    /// Runs `work` on a pool thread and returns what it returned or threw.
    public func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Swift.Result { try work() }) }
        }
    }

    /// `run` for work that cannot fail.
    public func run<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: work()) }
        }
    }

    private func submit(_ item: @escaping @Sendable () -> Void) {
        condition.lock()
        let startThread = state.withLock { state -> Bool in
            state.work.append(item)
            guard state.work.count > state.idle, state.started < maximumThreads else { return false }
            state.started += 1
            return true
        }
        condition.signal()
        condition.unlock()
        if startThread {
            PosixThread.start(name: name) { [self] in serve() }
        }
    }

    private func serve() {
        while true {
            condition.lock()
            var item = state.withLock { $0.work.isEmpty ? nil : $0.work.removeFirst() }
            while item == nil {
                state.withLock { $0.idle += 1 }
                condition.wait()
                item = state.withLock { state in
                    state.idle -= 1
                    return state.work.isEmpty ? nil : state.work.removeFirst()
                }
            }
            condition.unlock()
            item?()
        }
    }
}
