import CPeriscopeCurl
import Foundation
import Synchronization

/// One libcurl easy handle's transfer. Only `cancel()` is called from other threads.
final class CurlTransfer: @unchecked Sendable {
    private let cancelled = Atomic<Bool>(false)
    var onHead: ((Int, [String: String]) -> Void)?
    var onBody: ((Data) -> Void)?
    private var status = 0
    private var headers: [String: String] = [:]
    private var headDelivered = false

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func perform(_ request: KubeHTTPRequest, tls: CurlTransport.TLS, connectTimeout: Duration) throws -> (Int, [String: String]) {
        guard let handle = curl_easy_init() else {
            throw KubeAPIError(code: .transport, message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        func set(_ option: CURLoption, _ value: Int) { _ = CPeriscopeCurl_easy_setopt_long(handle, option, value) }
        func set(_ option: CURLoption, _ value: String) { _ = CPeriscopeCurl_easy_setopt_string(handle, option, value) }
        func setMaterial(_ material: KubeClientConfiguration.Material, file: CURLoption, blob: CURLoption) {
            switch material {
            case .file(let path): set(file, path)
            case .data(let data):
                data.withUnsafeBytes { raw in
                    _ = CPeriscopeCurl_easy_setopt_blob(handle, blob, raw.baseAddress, raw.count)
                }
            }
        }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_CUSTOMREQUEST, request.method)
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout.components.seconds * 1000))
        if let timeout = request.timeout {
            set(CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        }
        if request.method == "HEAD" { set(CURLOPT_NOBODY, 1) }
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip for bodies.
        headerList = curl_slist_append(headerList, "Expect:")
        _ = CPeriscopeCurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        if let body = request.body {
            set(CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeBytes { raw in
                _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        }
        if let ca = tls.certificateAuthority { setMaterial(ca, file: CURLOPT_CAINFO, blob: CURLOPT_CAINFO_BLOB) }
        if let certificate = tls.clientCertificate {
            set(CURLOPT_SSLCERTTYPE, "PEM")
            setMaterial(certificate, file: CURLOPT_SSLCERT, blob: CURLOPT_SSLCERT_BLOB)
        }
        if let key = tls.clientKey {
            set(CURLOPT_SSLKEYTYPE, "PEM")
            setMaterial(key, file: CURLOPT_SSLKEY, blob: CURLOPT_SSLKEY_BLOB)
        }
        if tls.insecureSkipVerify {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        errorBuffer.withUnsafeMutableBytes { raw in
            _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, raw.baseAddress)
        }

        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = CPeriscopeCurl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            transfer.headerLine(line)
            return length
        }
        _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        _ = CPeriscopeCurl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            if transfer.isCancelled { return 0 }
            let length = size * count
            transfer.deliverHead()
            transfer.onBody?(Data(bytes: data!, count: length))
            return length
        }
        _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = CPeriscopeCurl_easy_setopt_xferinfo_callback(handle) { context, _, _, _, _ in
            Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue().isCancelled ? 1 : 0
        }
        _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
        set(CURLOPT_NOPROGRESS, 0)

        let result = withExtendedLifetime(self) { curl_easy_perform(handle) }
        if result != CURLE_OK {
            if isCancelled { throw CancellationError() }
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let summary = String(cString: curl_easy_strerror(result))
            var message = "\(request.method) \(request.url): \(detail.isEmpty ? summary : detail)"
            if result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CACERT_BADFILE {
                message += " — the API server's certificate is not trusted by the configured certificate authority"
                    + " (check certificate-authority / certificate-authority-data, or the service account's ca.crt)"
            }
            throw KubeAPIError(code: .transport, message: message, cause: CurlError(code: Int(result.rawValue), message: summary))
        }
        var responseCode = 0
        _ = CPeriscopeCurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &responseCode)
        return (responseCode, headers)
    }

    private func headerLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            let parts = trimmed.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = [:]
        } else if let colon = trimmed.firstIndex(of: ":") {
            headers[trimmed[..<colon].lowercased()] = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        } else if trimmed.isEmpty, status >= 200 {
            deliverHead()
        }
    }

    private func deliverHead() {
        guard !headDelivered, status >= 200 else { return }
        headDelivered = true
        onHead?(status, headers)
    }
}

/// A libcurl failure: `CURLcode` and its text.
public struct CurlError: Error, Sendable, Hashable {
    public var code: Int
    public var message: String
}
