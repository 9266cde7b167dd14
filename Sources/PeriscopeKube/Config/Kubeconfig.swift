import FoundationEssentials

/// A kubeconfig file (or several merged): clusters, users and contexts by name.
public struct Kubeconfig: Sendable, Hashable {
    public struct Cluster: Sendable, Hashable {
        public var server: String
        public var certificateAuthority: KubeClientConfiguration.Material?
        public var insecureSkipTLSVerify: Bool
    }

    public struct User: Sendable, Hashable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: KubeClientConfiguration.Material?
        public var clientKey: KubeClientConfiguration.Material?
        /// `exec`/`auth-provider` plugins are not supported; named here so the error can say so.
        public var unsupportedAuthentication: String?
    }

    public struct Context: Sendable, Hashable {
        public var cluster: String
        public var user: String
        public var namespace: String?
    }

    public var currentContext: String?
    public var clusters: [String: Cluster]
    public var users: [String: User]
    public var contexts: [String: Context]

    public init(
        currentContext: String? = nil, clusters: [String: Cluster] = [:], users: [String: User] = [:],
        contexts: [String: Context] = [:]
    ) {
        self.currentContext = currentContext
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
    }

    /// Parses one file's text. Relative file paths in it resolve against `directory`, as kubectl does.
    public init(yaml text: String, directory: String? = nil) throws {
        let document: JSONValue
        do {
            document = try JSONValue(yaml: text)
        } catch {
            throw KubeConfigurationError(code: .invalidKubeconfig, message: "kubeconfig is not valid YAML: \(error)")
        }
        guard document == .null || document.objectValue != nil else {
            throw KubeConfigurationError(code: .invalidKubeconfig, message: "kubeconfig must be a mapping")
        }
        func resolve(_ path: String?) -> String? {
            guard let path, !path.isEmpty else { return nil }
            if path.hasPrefix("/") || directory == nil { return path }
            return "\(directory!)/\(path)"
        }
        func material(_ entry: JSONValue, file: String, data: String) throws -> KubeClientConfiguration.Material? {
            if let encoded = entry[data]?.stringValue, !encoded.isEmpty {
                guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                    throw KubeConfigurationError(code: .invalidKubeconfig, message: "\(data) is not valid base64")
                }
                return .data(decoded)
            }
            return resolve(entry[file]?.stringValue).map { .file($0) }
        }
        func named(_ list: String, _ field: String) -> [(String, JSONValue)] {
            (document[list]?.arrayValue ?? []).compactMap { item in
                guard let name = item["name"]?.stringValue else { return nil }
                return (name, item[field] ?? .object([:]))
            }
        }
        currentContext = document["current-context"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        clusters = [:]
        users = [:]
        contexts = [:]
        for (name, entry) in named("clusters", "cluster") where clusters[name] == nil {
            clusters[name] = Cluster(
                server: entry["server"]?.stringValue ?? "",
                certificateAuthority: try material(entry, file: "certificate-authority", data: "certificate-authority-data"),
                insecureSkipTLSVerify: entry["insecure-skip-tls-verify"] == .bool(true))
        }
        for (name, entry) in named("users", "user") where users[name] == nil {
            users[name] = User(
                token: entry["token"]?.stringValue,
                tokenFile: resolve(entry["tokenFile"]?.stringValue),
                clientCertificate: try material(entry, file: "client-certificate", data: "client-certificate-data"),
                clientKey: try material(entry, file: "client-key", data: "client-key-data"),
                unsupportedAuthentication: entry["exec"] != nil ? "exec" : entry["auth-provider"] != nil ? "auth-provider" : nil)
        }
        for (name, entry) in named("contexts", "context") where contexts[name] == nil {
            contexts[name] = Context(
                cluster: entry["cluster"]?.stringValue ?? "", user: entry["user"]?.stringValue ?? "",
                namespace: entry["namespace"]?.stringValue)
        }
    }

    /// Reads and merges the files of `KUBECONFIG` in order; missing files are skipped, as kubectl does.
    public static func load(paths: [String]) throws -> Kubeconfig {
        var files: [Kubeconfig] = []
        for path in paths where !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KubeConfigurationError(code: .unreadableFile, message: "cannot read kubeconfig \(path)")
            }
            files.append(try Kubeconfig(yaml: text, directory: Self.directory(of: path)))
        }
        guard !files.isEmpty else {
            throw KubeConfigurationError(code: .noConfiguration, message: "none of the kubeconfig files exist: \(paths.joined(separator: ":"))")
        }
        return merged(files)
    }

    /// The directory part of `path`: `.` for a bare file name, `/` for a file at the root.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// kubectl's merge: the first file to define a cluster, user or context by a name wins, and the
    /// first file that sets `current-context` decides it.
    public static func merged(_ files: [Kubeconfig]) -> Kubeconfig {
        var result = Kubeconfig()
        for file in files {
            if result.currentContext == nil { result.currentContext = file.currentContext }
            result.clusters.merge(file.clusters) { first, _ in first }
            result.users.merge(file.users) { first, _ in first }
            result.contexts.merge(file.contexts) { first, _ in first }
        }
        return result
    }

    /// The configuration of `context`, or of the current context.
    public func configuration(context name: String? = nil) throws -> KubeClientConfiguration {
        guard let contextName = name ?? currentContext else {
            throw KubeConfigurationError(code: .missingContext, message: "kubeconfig has no current-context and none was given")
        }
        guard let context = contexts[contextName] else {
            throw KubeConfigurationError(code: .missingContext, message: "context \"\(contextName)\" is not in the kubeconfig")
        }
        guard let cluster = clusters[context.cluster], !cluster.server.isEmpty else {
            throw KubeConfigurationError(
                code: .missingCluster, message: "cluster \"\(context.cluster)\" of context \"\(contextName)\" is missing or has no server")
        }
        let user = users[context.user] ?? User()
        if let plugin = user.unsupportedAuthentication, user.token == nil, user.tokenFile == nil, user.clientCertificate == nil {
            throw KubeConfigurationError(
                code: .unsupportedAuthentication,
                message: "user \"\(context.user)\" authenticates with \(plugin), which is not supported; use a token or a client certificate")
        }
        let credentials: KubeClientConfiguration.Credentials =
            user.token.map { .token($0) } ?? user.tokenFile.map { .tokenFile($0) } ?? .none
        return KubeClientConfiguration(
            server: cluster.server.hasSuffix("/") ? String(cluster.server.dropLast()) : cluster.server,
            certificateAuthority: cluster.certificateAuthority,
            clientCertificate: user.clientCertificate, clientKey: user.clientKey,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify, credentials: credentials,
            namespace: context.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default")
    }
}
