import Foundation
import PeriscopeKube
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An in-process Kubernetes API server for tests, on loopback over plain HTTP (put a TLS proxy
/// in front for TLS). It keeps real semantics: discovery, opaque increasing resourceVersions,
/// generation on spec changes only, the status subresource, optimistic concurrency, label and
/// field selectors, pagination, watches with bookmarks, 410 after compaction, merge/JSON/apply
/// patches, CRD schema validation and bearer-token authentication.
public final class TestAPIServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Bearer tokens accepted. Requests without a token are anonymous (403); others 401.
        public var tokens: Set<String> = ["test-token"]
        /// The revision before the first write (the real server's starts well above 1).
        public var initialRevision = 1
        /// How often an idle watch with `allowWatchBookmarks` gets a BOOKMARK.
        public var bookmarkInterval: Duration = .seconds(1)
        /// CRD files (YAML) to serve, e.g. the project's `crds/`.
        public var crdFiles: [String] = []
        /// Namespaces that exist from the start.
        public var namespaces: [String] = ["default", "kube-system"]

        public init() {}
    }

    let store: APIStore
    private let configuration: Configuration
    private var tokens: Set<String>
    /// The listening socket and the thread accepting on it, while started. The thread owns the
    /// descriptor and closes it once `stop()` has shut it down; `stop()` waits for that.
    private var acceptor: Acceptor?
    public private(set) var port: Int = 0
    private let connectionsLock = NSLock()
    private var watchSockets: [ObjectIdentifier: BlockingSocket] = [:]
    private var allSockets: [ObjectIdentifier: BlockingSocket] = [:]
    private var faults: [(pathPrefix: String, status: Int, retryAfter: Int?)] = []
    private var starting = false
    private var accepted = 0
    private var requestLog: [String] = []
    private var userAgentLog: [String] = []

    public init(configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        tokens = configuration.tokens
        store = APIStore(initialRevision: configuration.initialRevision)
        for file in configuration.crdFiles {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for document in try JSONValue.documents(yaml: text) {
                try installCRD(document)
            }
        }
        for namespace in configuration.namespaces {
            _ = try store.create(
                ServedResource.builtIn[0], namespace: nil, body: ["metadata": ["name": .string(namespace)]], manager: "test-server", strict: false)
        }
    }

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Starts listening on a loopback port: ephemeral by default, or the given one (to restart
    /// a stopped server where its clients expect it; the stored objects survive).
    public func start(port requestedPort: Int = 0) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw TestServerError(message: "cannot make a socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(requestedPort).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 128) == 0 else {
            let error = errno
            Glibc.close(listener)
            throw TestServerError(message: "cannot listen on 127.0.0.1:\(requestedPort): errno \(error)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let acceptor = Acceptor(listener: listener)
        connectionsLock.withLock { self.acceptor = acceptor }
        let thread = Thread { [self] in
            defer {
                Glibc.close(listener)
                acceptor.finished.signal()
            }
            while true {
                let descriptor = accept(listener, nil, nil)
                if descriptor < 0 {
                    // Shut down by `stop()`; anything else (EINTR, ECONNABORTED, EMFILE) passes.
                    if acceptor.stopping.withLock({ $0 }) { return }
                    if errno != EINTR, errno != ECONNABORTED { usleep(1_000) }
                    continue
                }
                let socket = BlockingSocket(descriptor: descriptor)
                connectionsLock.withLock { accepted += 1 }
                let connection = Thread { [self] in
                    connectionsLock.withLock { allSockets[ObjectIdentifier(socket)] = socket }
                    HTTPConnection(socket: socket, handler: { self.handle($0, socket: socket) }).serve()
                    connectionsLock.withLock {
                        allSockets[ObjectIdentifier(socket)] = nil
                        watchSockets[ObjectIdentifier(socket)] = nil
                    }
                    socket.close()
                }
                connection.start()
            }
        }
        thread.start()
    }

    /// Stops accepting and closes every connection; once stopped, the port is free again. A
    /// second call does nothing.
    public func stop() {
        let acceptor = connectionsLock.withLock { () -> Acceptor? in
            defer { self.acceptor = nil }
            return self.acceptor
        }
        if let acceptor {
            // Flag and shutdown together: the thread that sees the flag closes a shut-down socket.
            acceptor.stopping.withLock { stopping in
                stopping = true
                Glibc.shutdown(acceptor.listener, Int32(SHUT_RDWR))
            }
            acceptor.finished.wait()
        }
        let sockets = connectionsLock.withLock { Array(allSockets.values) }
        for socket in sockets { socket.shutdown() }
        store.condition.broadcast()
    }

    // MARK: Test controls

    /// Replaces the accepted tokens (a rotated service-account token).
    public func setTokens(_ tokens: Set<String>) {
        connectionsLock.withLock { self.tokens = tokens }
    }

    /// Drops every open watch connection mid-stream, as a load balancer or a restart would.
    public func dropWatchConnections() {
        let sockets = connectionsLock.withLock { Array(watchSockets.values) }
        for socket in sockets { socket.shutdown() }
        store.condition.broadcast()
    }

    /// Compacts history: lists and watches from older versions get 410.
    public func compact() {
        store.condition.lock()
        store.compact()
        store.condition.unlock()
    }

    /// The next `count` requests whose path starts with `pathPrefix` fail with `status`
    /// (a `Retry-After` header when given).
    public func injectFault(pathPrefix: String, status: Int, retryAfter: Int?, count: Int = 1) {
        connectionsLock.withLock {
            for _ in 0..<count { faults.append((pathPrefix, status, retryAfter)) }
        }
    }

    /// While starting, as a real server does after a restart until its post-start hooks are
    /// done: `/readyz` fails (500) and every API request gets 503 "the server is starting";
    /// `/livez`, `/healthz` and `/version` answer.
    public func setStarting(_ starting: Bool) {
        connectionsLock.withLock { self.starting = starting }
    }

    /// Watches being served now.
    public var openWatches: Int { connectionsLock.withLock { watchSockets.count } }

    /// TCP connections accepted since start: what clients that reuse connections keep low.
    public var connectionsAccepted: Int { connectionsLock.withLock { accepted } }

    /// Method and path of every request received, in order.
    public var requests: [String] { connectionsLock.withLock { requestLog } }

    /// Current objects of a resource, keyed `namespace/name` (or `name`).
    public func objects(_ type: KubeResourceType) -> [String: JSONValue] {
        store.condition.lock()
        defer { store.condition.unlock() }
        guard let resource = store.resources.first(where: { $0.type.group == type.group && $0.type.plural == type.plural }) else { return [:] }
        return Dictionary(uniqueKeysWithValues: store.current(resource).map { ($0.key.description, $0.value) })
    }

    /// Like `requests`, each with the `User-Agent` it came with.
    public var requestsWithUserAgent: [(request: String, userAgent: String)] {
        connectionsLock.withLock { Array(zip(requestLog, userAgentLog)).map { (request: $0.0, userAgent: $0.1) } }
    }

    /// The current revision.
    public var resourceVersion: String {
        store.condition.lock()
        defer { store.condition.unlock() }
        return String(store.revision)
    }

    /// Every committed event of a resource still in history: (revision, type, key).
    public func history(_ type: KubeResourceType) -> [(revision: Int, type: String, key: String)] {
        store.condition.lock()
        defer { store.condition.unlock() }
        let id = APIStore.id(type)
        return store.log.filter { $0.resource == id }.map { ($0.revision, $0.type, $0.key.description) }
    }

    func installCRD(_ document: JSONValue) throws {
        for resource in try ServedResource.fromCRD(document) {
            store.condition.lock()
            store.register(resource)
            store.condition.unlock()
        }
    }

    // MARK: Dispatch

    func handle(_ request: HTTPRequest, socket: BlockingSocket) -> HTTPReply {
        let query = request.query.isEmpty ? "" : "?" + request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let (fault, isStarting): ((pathPrefix: String, status: Int, retryAfter: Int?)?, Bool) = connectionsLock.withLock {
            requestLog.append("\(request.method) \(request.path)\(query)")
            userAgentLog.append(request.headers["user-agent"] ?? "")
            guard !starting else { return (nil, true) }
            guard let index = faults.firstIndex(where: { request.path.hasPrefix($0.pathPrefix) }) else { return (nil, false) }
            return (faults.remove(at: index), false)
        }
        if isStarting, !["/livez", "/healthz", "/version"].contains(request.path) {
            if request.path == "/readyz" {
                return .full(status: 500, headers: ["Content-Type": "text/plain"], body: Data("[-]poststarthook/start-apiextensions-controllers failed: not finished\nreadyz check failed\n".utf8))
            }
            return statusReply(APIFailure(503, "ServiceUnavailable", "the server is starting, please try again later"))
        }
        if let fault {
            var headers = ["Content-Type": "application/json"]
            if let retryAfter = fault.retryAfter { headers["Retry-After"] = String(retryAfter) }
            let reason = fault.status == 429 ? "TooManyRequests" : fault.status == 503 ? "ServiceUnavailable" : "InternalError"
            let message = fault.status == 429 ? "Too many requests, please try again later." : "the server is currently unable to handle the request"
            return statusReply(APIFailure(fault.status, reason, message, details: fault.retryAfter.map { .init(retryAfterSeconds: $0) }), extraHeaders: headers)
        }
        if let failure = authenticate(request) { return statusReply(failure) }
        let router = APIRouter(store: store, bookmarkInterval: configuration.bookmarkInterval, server: self)
        return router.route(request, socket: socket)
    }

    func registerWatch(_ socket: BlockingSocket) {
        connectionsLock.withLock { watchSockets[ObjectIdentifier(socket)] = socket }
    }

    func unregisterWatch(_ socket: BlockingSocket) {
        connectionsLock.withLock { watchSockets[ObjectIdentifier(socket)] = nil }
    }

    private func authenticate(_ request: HTTPRequest) -> APIFailure? {
        if ["/version", "/healthz", "/readyz", "/livez"].contains(request.path) { return nil }
        guard let header = request.headers["authorization"], header.hasPrefix("Bearer ") else {
            let resource = request.path.split(separator: "/").last.map(String.init) ?? ""
            return APIFailure(
                403, "Forbidden",
                "\(resource) is forbidden: User \"system:anonymous\" cannot list resource \"\(resource)\" in API group \"\" at the cluster scope",
                details: .init(kind: resource))
        }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        let accepted = connectionsLock.withLock { tokens.contains(token) }
        return accepted ? nil : APIFailure(401, "Unauthorized", "Unauthorized")
    }
}

/// The listening socket of a started server and what its accepting thread and `stop()` share.
private final class Acceptor: Sendable {
    let listener: Int32
    /// Set, with the socket shut down, by `stop()`.
    let stopping = Mutex(false)
    /// Signalled by the thread once it has closed the socket.
    let finished = DispatchSemaphore(value: 0)

    init(listener: Int32) { self.listener = listener }
}

func statusReply(_ failure: APIFailure, extraHeaders: [String: String] = ["Content-Type": "application/json"]) -> HTTPReply {
    var status = failure.status
    status.kind = "Status"
    status.apiVersion = "v1"
    var body = (try? JSONValue(encoding: status)) ?? .object([:])
    body["metadata"] = .object([:])
    return .full(status: status.code ?? 500, headers: extraHeaders, body: (try? body.encoded()) ?? Data())
}
