import FoundationEssentials
import Logging

/// Typed requests to the API server: get, list, create, update, patch, delete and watch, for
/// namespaced and cluster-scoped, built-in and custom resources, and their status subresource.
/// Failures are `KubeAPIError`s decoded from the server's `Status`.
public struct KubeClient: Sendable {
    public let configuration: KubeClientConfiguration
    let transport: any KubeTransport
    let tokens: TokenSource
    let logger: Logger

    /// Uses libcurl with the configuration's TLS settings unless another transport is given.
    public init(configuration: KubeClientConfiguration, transport: (any KubeTransport)? = nil, logger: Logger) {
        self.configuration = configuration
        self.transport =
            transport
            ?? CurlTransport(
                tls: CurlTransport.TLS(
                    certificateAuthority: configuration.certificateAuthority,
                    clientCertificate: configuration.clientCertificate, clientKey: configuration.clientKey,
                    insecureSkipVerify: configuration.insecureSkipTLSVerify))
        self.tokens = TokenSource(configuration.credentials)
        self.logger = logger
    }

    // MARK: Reads

    public func get<T: KubeObject>(_ type: T.Type, _ resource: KubeResourceType, namespace: String?, name: String, subresource: String? = nil)
        async throws -> T
    {
        try await decode(T.self, from: request("GET", resource.path(namespace: namespace, name: name, subresource: subresource)))
    }

    /// One page (or everything, without `limit`).
    public func list<T: KubeObject>(_ type: T.Type, _ resource: KubeResourceType, namespace: String?, options: ListOptions = ListOptions())
        async throws -> KubeList<T>
    {
        try await decode(KubeList<T>.self, from: request("GET", resource.path(namespace: namespace), query: options.queryItems))
    }

    /// Every page, following `continue` tokens; the result carries the first page's resourceVersion.
    public func listAll<T: KubeObject>(_ type: T.Type, _ resource: KubeResourceType, namespace: String?, options: ListOptions = ListOptions())
        async throws -> KubeList<T>
    {
        var options = options
        var result = try await list(T.self, resource, namespace: namespace, options: options)
        var token = result.metadata.continue
        while let next = token, !next.isEmpty {
            options.continue = next
            options.resourceVersion = nil
            options.resourceVersionMatch = nil
            let page = try await list(T.self, resource, namespace: namespace, options: options)
            result.items += page.items
            token = page.metadata.continue
        }
        result.metadata.continue = nil
        return result
    }

    // MARK: Writes

    public func create<T: KubeObject>(_ object: T, _ resource: KubeResourceType, namespace: String? = nil, fieldManager: String? = nil)
        async throws -> T
    {
        let namespace = namespace ?? object.metadata.namespace
        return try await decode(
            T.self,
            from: request("POST", resource.path(namespace: namespace), query: Self.fieldManagerQuery(fieldManager), body: JSONEncoder().encode(object)))
    }

    /// PUT: replaces the object; `metadata.resourceVersion` makes it conditional (409 `Conflict` when stale).
    /// With `subresource: "status"` only the status is written.
    public func update<T: KubeObject>(
        _ object: T, _ resource: KubeResourceType, subresource: String? = nil, fieldManager: String? = nil
    ) async throws -> T {
        let path = resource.path(namespace: object.metadata.namespace, name: object.metadata.name ?? "", subresource: subresource)
        return try await decode(
            T.self, from: request("PUT", path, query: Self.fieldManagerQuery(fieldManager), body: JSONEncoder().encode(object)))
    }

    public func updateStatus<T: KubeObject>(_ object: T, _ resource: KubeResourceType, fieldManager: String? = nil) async throws -> T {
        try await update(object, resource, subresource: "status", fieldManager: fieldManager)
    }

    /// PATCH with a merge patch, JSON patch, strategic merge patch or server-side apply body.
    public func patch<T: KubeObject>(
        _ type: T.Type, _ resource: KubeResourceType, namespace: String?, name: String, patch: JSONValue, as patchType: PatchType,
        subresource: String? = nil, fieldManager: String? = nil
    ) async throws -> T {
        var query = Self.fieldManagerQuery(fieldManager)
        if case .apply(let manager, let force) = patchType {
            query = [("fieldManager", manager)]
            if force { query.append(("force", "true")) }
        }
        let path = resource.path(namespace: namespace, name: name, subresource: subresource)
        return try await decode(
            T.self, from: request("PATCH", path, query: query, body: patch.encoded(), contentType: patchType.contentType))
    }

    /// Server-side apply of `object` as `fieldManager`; `force` takes over conflicting fields.
    public func apply<T: KubeObject>(_ object: T, _ resource: KubeResourceType, fieldManager: String, force: Bool = false, subresource: String? = nil)
        async throws -> T
    {
        try await patch(
            T.self, resource, namespace: object.metadata.namespace, name: object.metadata.name ?? "",
            patch: JSONValue(encoding: object), as: .apply(fieldManager: fieldManager, force: force), subresource: subresource)
    }

    /// DELETE; with `resourceVersion` only if the object is still at that version; with
    /// `gracePeriodSeconds` 0 at once (a pod's kubelet does that once its containers stopped).
    public func delete(
        _ resource: KubeResourceType, namespace: String?, name: String, resourceVersion: String? = nil, gracePeriodSeconds: Int? = nil
    ) async throws {
        var body: Data?
        if resourceVersion != nil || gracePeriodSeconds != nil {
            var options: [String: JSONValue] = ["kind": "DeleteOptions", "apiVersion": "v1"]
            if let resourceVersion { options["preconditions"] = .object(["resourceVersion": .string(resourceVersion)]) }
            if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
            body = try JSONValue.object(options).encoded()
        }
        _ = try await request("DELETE", resource.path(namespace: namespace, name: name), body: body)
    }

    // MARK: Watch

    /// A watch from `options.resourceVersion` (usually a list's), with bookmarks. The stream ends
    /// when the server closes it (its timeout); it throws when the connection fails; a `410`
    /// arrives as an `.error` event whose status code is 410.
    public func watch<T: KubeObject>(_ type: T.Type, _ resource: KubeResourceType, namespace: String?, options: ListOptions = ListOptions())
        -> AsyncThrowingStream<WatchEvent<T>, any Error>
    {
        var query = options.queryItems
        query.append(("watch", "1"))
        query.append(("allowWatchBookmarks", "true"))
        let state = WatchStreamState<T>(client: self, path: resource.path(namespace: namespace), query: query)
        return AsyncThrowingStream { try await state.next() }
    }

    // MARK: Plumbing

    static func fieldManagerQuery(_ manager: String?) -> [(String, String)] {
        manager.map { [("fieldManager", $0)] } ?? []
    }

    func makeRequest(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil, contentType: String = "application/json",
        timeout: Duration?
    ) throws -> KubeHTTPRequest {
        var url = configuration.server + path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\($0.1.percentEncodedQueryValue)" }.joined(separator: "&")
        }
        var headers = ["Accept": "application/json", "User-Agent": configuration.userAgent]
        if body != nil { headers["Content-Type"] = contentType }
        if let token = try tokens.token() { headers["Authorization"] = "Bearer \(token)" }
        return KubeHTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout)
    }

    /// Sends a request; retries 429/5xx that carry `Retry-After` (as client-go does) and a 401 once
    /// after re-reading a token file.
    @discardableResult
    func request(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil, contentType: String = "application/json"
    ) async throws -> KubeHTTPResponse {
        var attempt = 0
        var reauthenticated = false
        while true {
            let request = try makeRequest(method, path, query: query, body: body, contentType: contentType, timeout: configuration.requestTimeout)
            let response = try await transport.send(request)
            if (200..<300).contains(response.status) { return response }
            let error = KubeAPIError.from(httpStatus: response.status, headers: response.headers, body: response.body)
            if response.status == 401, tokens.isFileBased, !reauthenticated {
                reauthenticated = true
                tokens.invalidate()
                continue
            }
            if (response.status == 429 || response.status >= 500), let delay = error.retryAfter, attempt < configuration.maxRetries {
                attempt += 1
                logger.debug(
                    "kube.request.retry",
                    metadata: ["kube.method": "\(method)", "kube.path": "\(path)", "kube.status": "\(response.status)", "kube.retry_after": "\(delay)"])
                try await Task.sleep(for: delay)
                continue
            }
            throw error
        }
    }

    func decode<T: Decodable>(_ type: T.Type, from response: KubeHTTPResponse) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            throw KubeAPIError(
                code: .decoding, httpStatus: response.status, message: "cannot decode \(T.self) from the response",
                cause: DecodingFailure(description: "\(error)"))
        }
    }
}

extension KubeClient {
    // Conveniences for types that know their resource.

    public func get<T: KubeResource>(_ type: T.Type, namespace: String? = nil, name: String) async throws -> T {
        try await get(T.self, T.resourceType, namespace: namespace, name: name)
    }

    public func list<T: KubeResource>(_ type: T.Type, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> KubeList<T> {
        try await listAll(T.self, T.resourceType, namespace: namespace, options: options)
    }

    public func create<T: KubeResource>(_ object: T, fieldManager: String? = nil) async throws -> T {
        try await create(object, T.resourceType, fieldManager: fieldManager)
    }

    public func update<T: KubeResource>(_ object: T, fieldManager: String? = nil) async throws -> T {
        try await update(object, T.resourceType, fieldManager: fieldManager)
    }

    public func delete<T: KubeResource>(_ type: T.Type, namespace: String? = nil, name: String) async throws {
        try await delete(T.resourceType, namespace: namespace, name: name)
    }
}
