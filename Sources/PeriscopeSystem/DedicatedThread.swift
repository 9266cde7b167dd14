/// A thread of its own for work that blocks for as long as it runs (the capture loop, an
/// export loop, a listener): the one way async code hands such work off the cooperative pool
/// and waits for it to end.
public enum DedicatedThread {
    /// Runs `body` on a new thread named `name` (as `top -H` shows it) and returns, or throws,
    /// what it did once it has finished.
    public static func run<Value: Sendable>(name: String, _ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            PosixThread.start(name: name) {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// `run(name:_:)` for work that cannot fail.
    public static func run<Value: Sendable>(name: String, _ body: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            PosixThread.start(name: name) {
                continuation.resume(returning: body())
            }
        }
    }
}
