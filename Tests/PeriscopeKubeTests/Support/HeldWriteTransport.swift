import PeriscopeKube
import Synchronization

/// A transport to the test API server that holds one request in flight on demand, to play a
/// race against a request already on its way. `holdNext(where:)` arms it; the next matching
/// request waits (`held` yields) until `release()`. A caller that stops waiting for it
/// (its task cancelled) gets `CancellationError` at once, yet the request still reaches the
/// server, just before the next write: a request already sent lands whether or not its
/// caller is still there.
final class HeldWriteTransport: KubeTransport {
    private struct State {
        var matches: (@Sendable (KubeHTTPRequest) -> Bool)?
        var waiter: CheckedContinuation<Void, Never>?
        var released = false
        /// The caller was cancelled before `release()`.
        var abandoned = false
        /// An abandoned request, sent before the next write.
        var pending: KubeHTTPRequest?
    }

    private let inner = CurlTransport()
    private let state = Mutex(State())
    /// Yields once the armed request is held.
    let held: AsyncStream<Void>
    private let heldContinuation: AsyncStream<Void>.Continuation

    init() {
        (held, heldContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// Holds the next request for which `matches` is true.
    func holdNext(where matches: @escaping @Sendable (KubeHTTPRequest) -> Bool) {
        state.withLock { $0.matches = matches }
    }

    /// Whether the held request's caller stopped waiting for it.
    var wasAbandoned: Bool { state.withLock { $0.abandoned } }

    /// Lets the held request go on (or, when its caller gave up on it, nothing more).
    func release() {
        let waiter = state.withLock { state in
            state.released = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func send(_ request: KubeHTTPRequest) async throws -> KubeHTTPResponse {
        if request.method != "GET", let pending = state.withLock({ state in
            defer { state.pending = nil }
            return state.pending
        }) {
            _ = try? await inner.send(pending)
        }
        let hold = state.withLock { state -> Bool in
            guard let matches = state.matches, matches(request) else { return false }
            state.matches = nil
            return true
        }
        guard hold else { return try await inner.send(request) }
        heldContinuation.yield()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let goOn = state.withLock { state -> Bool in
                    if state.released || state.abandoned { return true }
                    state.waiter = continuation
                    return false
                }
                if goOn { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                if !state.released { state.abandoned = true }
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        if state.withLock({ $0.abandoned }) {
            state.withLock { $0.pending = request }
            throw CancellationError()
        }
        return try await inner.send(request)
    }

    func stream(_ request: KubeHTTPRequest) -> AsyncThrowingStream<KubeHTTPStreamPart, any Error> {
        inner.stream(request)
    }
}
