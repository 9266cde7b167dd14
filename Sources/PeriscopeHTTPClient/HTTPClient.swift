import CPeriscopeCurl
import FoundationEssentials
import PeriscopeSystem
import Synchronization

/// HTTP(S) over libcurl for everything the binaries send: Kubernetes API requests and watches,
/// OTLP exports. Connections are kept and reused: finished transfers give their curl handle
/// back to a small pool, and a handle keeps its connections open (keep-alive) for the next
/// transfer to the same server. HTTP/2 is used where a TLS server offers it; cleartext stays
/// HTTP/1.1. Transfers block, so they run on threads of their own, never on Swift's
/// cooperative pool: `send` on the client's `BlockingPool`, `stream` on a thread per stream,
/// `perform` on whatever thread calls it.
public final class HTTPClient: Sendable {
    /// TLS and connection settings for every transfer of the client.
    public struct Configuration: Sendable, Hashable {
        /// Key material: a file, or the PEM bytes themselves.
        public enum Material: Sendable, Hashable {
            case file(String)
            case data(Data)
        }

        public var certificateAuthority: Material?
        public var clientCertificate: Material?
        public var clientKey: Material?
        /// Accept any server certificate. Default false.
        public var insecureSkipVerify: Bool
        /// Longest wait for a connection. Default 10 s.
        public var connectTimeout: Duration
        /// Curl handles (each with its open connections) kept between transfers. Default 4. Fewer
        /// than `concurrentTransfers` means a burst of sends closes connections it then opens
        /// again (a TLS handshake each); a client that sends bursts keeps as many as it runs.
        public var idleHandles: Int
        /// Transfers `send` runs at once; more wait their turn. Default 8.
        public var concurrentTransfers: Int

        public init(
            certificateAuthority: Material? = nil, clientCertificate: Material? = nil, clientKey: Material? = nil,
            insecureSkipVerify: Bool = false, connectTimeout: Duration = .seconds(10), idleHandles: Int = 4,
            concurrentTransfers: Int = 8
        ) {
            self.certificateAuthority = certificateAuthority
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.insecureSkipVerify = insecureSkipVerify
            self.connectTimeout = connectTimeout
            self.idleHandles = idleHandles
            self.concurrentTransfers = concurrentTransfers
        }
    }

    public let configuration: Configuration
    private let idle = Mutex<[Handle]>([])
    private let opened = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)
    private let pool: BlockingPool

    public init(configuration: Configuration = Configuration(), name: String = "periscope-http") {
        self.configuration = configuration
        pool = BlockingPool(threads: configuration.concurrentTransfers, name: name)
        _ = CurlGlobal.initialized
    }

    deinit {
        for handle in idle.withLock({ $0 }) { handle.close() }
    }

    /// Connections opened since the client was made: with reuse, far fewer than requests.
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    /// Transfers running now.
    public var transfersInFlight: Int { inFlight.load(ordering: .relaxed) }

    /// Sends `request` and gathers the whole response; cancelling the task aborts the transfer.
    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let cancellation = Cancellation()
        let result: Result<HTTPClientResponse, HTTPClientError> = await withTaskCancellationHandler {
            await pool.run { () -> Result<HTTPClientResponse, HTTPClientError> in
                var body = Data()
                do throws(HTTPClientError) {
                    let head = try self.perform(request, cancellation: cancellation, onHead: nil) { body.append($0) }
                    return .success(HTTPClientResponse(status: head.status, headers: head.headers, body: body))
                } catch {
                    return .failure(error)
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
        return try result.get()
    }

    /// Streams a long response from a thread of its own: the head once, then body bytes as they
    /// arrive. Dropping or cancelling the stream aborts the transfer.
    public func stream(_ request: HTTPClientRequest) -> AsyncThrowingStream<HTTPClientStreamPart, any Error> {
        stream(request, head: { .head(status: $0.status, headers: $0.headers) }, body: { .body($0) }, error: { $0 })
    }

    /// `stream(_:)` with the parts and the failure in the caller's types.
    public func stream<Part: Sendable>(
        _ request: HTTPClientRequest, head: @escaping @Sendable (HTTPClientResponseHead) -> Part,
        body: @escaping @Sendable (Data) -> Part, error: @escaping @Sendable (HTTPClientError) -> any Error
    ) -> AsyncThrowingStream<Part, any Error> {
        let cancellation = Cancellation()
        return AsyncThrowingStream { continuation in
            continuation.onTermination = { _ in cancellation.cancel() }
            PosixThread.start(name: "periscope-stream") {
                var headSent = false
                do throws(HTTPClientError) {
                    let final = try self.perform(
                        request, cancellation: cancellation,
                        onHead: { response in
                            headSent = true
                            continuation.yield(head(response))
                        },
                        onBody: { continuation.yield(body($0)) })
                    if !headSent { continuation.yield(head(final)) }
                    continuation.finish()
                } catch let failure {
                    continuation.finish(throwing: error(failure))
                }
            }
        }
    }

    /// One transfer on the calling thread, with a pooled handle: `onHead` when the final
    /// response head is in, `onBody` for each piece of the body. Throws `cancelled` once
    /// `cancellation` is set.
    public func perform(
        _ request: HTTPClientRequest, cancellation: Cancellation = Cancellation(),
        onHead: ((HTTPClientResponseHead) -> Void)? = nil, onBody: @escaping (Data) -> Void = { _ in }
    ) throws(HTTPClientError) -> HTTPClientResponseHead {
        let handle = try checkOut()
        inFlight.add(1, ordering: .relaxed)
        defer {
            inFlight.subtract(1, ordering: .relaxed)
            checkIn(handle)
        }
        let transfer = Transfer(cancellation: cancellation, onHead: onHead, onBody: onBody)
        let result = handle.perform(request, configuration: configuration, transfer: transfer)
        opened.add(handle.connectsOfLastTransfer, ordering: .relaxed)
        return try result.get()
    }

    private func checkOut() throws(HTTPClientError) -> Handle {
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        guard let handle = Handle() else { throw HTTPClientError(code: .transport, message: "libcurl could not create a handle") }
        return handle
    }

    private func checkIn(_ handle: Handle) {
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < configuration.idleHandles else { return false }
            idle.append(handle)
            return true
        }
        if !kept { handle.close() }
    }

    /// A cancel flag a transfer checks as it runs; set from any thread.
    public final class Cancellation: Sendable {
        private let flag = Atomic<Bool>(false)
        public init() {}
        public func cancel() { flag.store(true, ordering: .relaxed) }
        public var isCancelled: Bool { flag.load(ordering: .relaxed) }
    }
}

enum CurlGlobal {
    static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()
}
