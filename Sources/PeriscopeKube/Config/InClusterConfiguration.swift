import FoundationEssentials
import PeriscopeSystem

/// The configuration a pod gets from its service account.
public enum InClusterConfiguration {
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (an IPv6 host bracketed), the CA at
    /// `<dir>/ca.crt`, the token at `<dir>/token` (re-read as it rotates) and the namespace at `<dir>/namespace`.
    public static func load(environment: [String: String], serviceAccountDirectory: String = defaultServiceAccountDirectory)
        throws -> KubeClientConfiguration
    {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubeConfigurationError(
                code: .inClusterEnvironment,
                message: "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set to run in a cluster")
        }
        let tokenPath = "\(serviceAccountDirectory)/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigurationError(
                code: .unreadableFile, message: "service account token \(tokenPath) is not readable (is a service account mounted?)")
        }
        let namespace = (try? String(contentsOfFile: "\(serviceAccountDirectory)/namespace", encoding: .utf8))?
            .trimmingWhitespace()
        let caPath = "\(serviceAccountDirectory)/ca.crt"
        return KubeClientConfiguration(
            server: "https://\(hostForURL(host)):\(port)",
            certificateAuthority: FileManager.default.fileExists(atPath: caPath) ? .file(caPath) : nil,
            credentials: .tokenFile(tokenPath),
            namespace: (namespace?.isEmpty ?? true) ? "default" : namespace!)
    }

    /// Brackets an IPv6 literal for use in a URL.
    public static func hostForURL(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}
