import FoundationEssentials
import Logging
import PeriscopeAPI
import PeriscopeCore
import PeriscopeKube

/// The API calls behind `periscopectl`'s commands; errors are mapped to `CtlError`.
public struct Periscopectl: Sendable {
    public let client: KubeClient

    /// periscopectl's own version.
    public static let version = PeriscopeVersion.current

    public init(client: KubeClient) {
        self.client = client
    }

    /// The client configuration as kubectl finds it: `--kubeconfig`, else `KUBECONFIG` (files
    /// merged, first wins), else the pod's service account, else `~/.kube/config`; `--context`
    /// picks a context other than the current one.
    public static func configuration(kubeconfig: String?, context: String?, environment: [String: String]) throws(CtlError)
        -> KubeClientConfiguration
    {
        do {
            var configuration: KubeClientConfiguration
            if let kubeconfig {
                configuration = try Kubeconfig.load(paths: [kubeconfig]).configuration(context: context)
            } else if context != nil {
                let paths = environment["KUBECONFIG"].map { $0.split(separator: ":").map(String.init) }
                    ?? environment["HOME"].map { ["\($0)/.kube/config"] } ?? []
                configuration = try Kubeconfig.load(paths: paths).configuration(context: context)
            } else {
                configuration = try KubeClientConfiguration.load(environment: environment)
            }
            configuration.userAgent = "periscopectl"
            configuration.maxRetries = 2
            configuration.requestTimeout = .seconds(15)
            return configuration
        } catch {
            throw CtlError(code: .configuration, message: "cannot load a Kubernetes configuration", cause: error)
        }
    }

    /// Creates or updates the namespace's policy (server-side apply); returns it as stored.
    public func instrument(_ request: NamespacePolicy) async throws(CtlError) -> InstrumentationPolicy {
        do {
            _ = try await client.get(Namespace.self, name: request.namespace)
        } catch {
            throw Self.map(error, notFound: CtlError(code: .namespaceNotFound, message: "namespace \(request.namespace) not found"))
        }
        do {
            return try await client.apply(request.policy, .instrumentationPolicies, fieldManager: NamespacePolicy.fieldManager, force: true)
        } catch {
            throw Self.map(error, notFound: nil)
        }
    }

    /// Deletes the namespace's policy; false when there was none.
    public func uninstrument(namespace: String) async throws(CtlError) -> Bool {
        do {
            try await client.delete(.instrumentationPolicies, namespace: namespace, name: NamespacePolicy.name)
            return true
        } catch let error as KubeAPIError where error.code == .notFound {
            return false
        } catch {
            throw Self.map(error, notFound: nil)
        }
    }

    /// Policies of `namespace` (all namespaces when nil) and every node's NodeInstrumentation.
    public func status(namespace: String? = nil) async throws(CtlError) -> StatusReport {
        do {
            let policies = try await client.listAll(InstrumentationPolicy.self, .instrumentationPolicies, namespace: namespace)
            let nodes = try await client.listAll(NodeInstrumentation.self, .nodeInstrumentations, namespace: nil)
            return StatusReport(policies: policies.items, nodes: nodes.items)
        } catch {
            throw Self.map(error, notFound: nil)
        }
    }

    /// The API server's version.
    public func serverVersion() async throws(CtlError) -> ServerVersion {
        do {
            return try await client.serverVersion()
        } catch {
            throw Self.map(error, notFound: nil)
        }
    }

    static func map(_ error: any Error, notFound: CtlError?) -> CtlError {
        guard let api = error as? KubeAPIError else {
            return CtlError(code: .api, message: "request failed: \(error)")
        }
        if api.code == .notFound, let notFound { return notFound }
        if api.code == .transport { return CtlError(code: .unreachable, message: "cannot reach the API server", cause: api) }
        return CtlError(code: .api, message: "the API server refused the request", cause: api)
    }
}
