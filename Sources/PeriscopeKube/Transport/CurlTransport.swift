import CPeriscopeCurl
import Foundation
import Synchronization

/// `KubeTransport` over libcurl. Each transfer runs on its own thread (libcurl's easy interface
/// blocks; the cooperative pool must not), and is aborted through the progress callback when the
/// caller cancels.
public struct CurlTransport: KubeTransport {
    /// TLS settings for every request.
    public struct TLS: Sendable, Hashable {
        public var certificateAuthority: KubeClientConfiguration.Material?
        public var clientCertificate: KubeClientConfiguration.Material?
        public var clientKey: KubeClientConfiguration.Material?
        public var insecureSkipVerify: Bool

        public init(
            certificateAuthority: KubeClientConfiguration.Material? = nil,
            clientCertificate: KubeClientConfiguration.Material? = nil,
            clientKey: KubeClientConfiguration.Material? = nil, insecureSkipVerify: Bool = false
        ) {
            self.certificateAuthority = certificateAuthority
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.insecureSkipVerify = insecureSkipVerify
        }
    }

    public var tls: TLS
    public var connectTimeout: Duration

    public init(tls: TLS = TLS(), connectTimeout: Duration = .seconds(10)) {
        self.tls = tls
        self.connectTimeout = connectTimeout
        _ = CurlGlobal.initialized
    }

    public func send(_ request: KubeHTTPRequest) async throws -> KubeHTTPResponse {
        let transfer = CurlTransfer()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<KubeHTTPResponse, any Error>) in
                let tls = self.tls
                let connectTimeout = self.connectTimeout
                let thread = Thread {
                    var body = Data()
                    transfer.onBody = { body.append($0) }
                    do {
                        let (status, headers) = try transfer.perform(request, tls: tls, connectTimeout: connectTimeout)
                        continuation.resume(returning: KubeHTTPResponse(status: status, headers: headers, body: body))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "periscope-kube-curl"
                thread.start()
            }
        } onCancel: {
            transfer.cancel()
        }
    }

    public func stream(_ request: KubeHTTPRequest) -> AsyncThrowingStream<KubeHTTPStreamPart, any Error> {
        let transfer = CurlTransfer()
        let tls = self.tls
        let connectTimeout = self.connectTimeout
        return AsyncThrowingStream { continuation in
            continuation.onTermination = { _ in transfer.cancel() }
            let thread = Thread {
                var headSent = false
                transfer.onHead = { status, headers in
                    headSent = true
                    continuation.yield(.head(status: status, headers: headers))
                }
                transfer.onBody = { continuation.yield(.body($0)) }
                do {
                    let (status, headers) = try transfer.perform(request, tls: tls, connectTimeout: connectTimeout)
                    if !headSent { continuation.yield(.head(status: status, headers: headers)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.name = "periscope-kube-watch"
            thread.start()
        }
    }
}

enum CurlGlobal {
    static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()
}
