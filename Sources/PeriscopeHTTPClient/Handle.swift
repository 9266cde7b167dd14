import CPeriscopeCurl
import FoundationEssentials

/// One libcurl easy handle. Reset between transfers, which keeps its open connections for the
/// next one. Used by one thread at a time: the idle list hands it to one transfer at a time.
final class Handle: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private(set) var connectsOfLastTransfer = 0

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
    }

    func close() { curl_easy_cleanup(handle) }

    func perform(
        _ request: HTTPClientRequest, configuration: HTTPClient.Configuration, transfer: Transfer
    ) -> Result<HTTPClientResponseHead, HTTPClientError> {
        curl_easy_reset(handle)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        func set(_ option: CURLoption, _ value: Int) { _ = CPeriscopeCurl_easy_setopt_long(handle, option, value) }
        func set(_ option: CURLoption, _ value: String) { _ = CPeriscopeCurl_easy_setopt_string(handle, option, value) }
        func setMaterial(_ material: HTTPClient.Configuration.Material, file: CURLoption, blob: CURLoption) {
            switch material {
            case .file(let path): set(file, path)
            case .data(let data):
                data.withUnsafeBytes { raw in _ = CPeriscopeCurl_easy_setopt_blob(handle, blob, raw.baseAddress, raw.count) }
            }
        }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_CUSTOMREQUEST, request.method)
        set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        set(CURLOPT_TCP_KEEPALIVE, 1)
        let connectTimeout = min(configuration.connectTimeout, request.connectTimeout ?? configuration.connectTimeout)
        set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connectTimeout.milliseconds)))
        if let timeout = request.timeout { set(CURLOPT_TIMEOUT_MS, max(1, Int(timeout.milliseconds))) }
        if request.method == "HEAD" { set(CURLOPT_NOBODY, 1) }
        for header in request.headers { headerList = curl_slist_append(headerList, "\(header.name): \(header.value)") }
        // No "Expect: 100-continue" round trip for bodies.
        headerList = curl_slist_append(headerList, "Expect:")
        _ = CPeriscopeCurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        if let body = request.body {
            set(CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeBytes { raw in
                _ = CPeriscopeCurl_easy_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        }
        if let ca = configuration.certificateAuthority { setMaterial(ca, file: CURLOPT_CAINFO, blob: CURLOPT_CAINFO_BLOB) }
        if let certificate = configuration.clientCertificate {
            set(CURLOPT_SSLCERTTYPE, "PEM")
            setMaterial(certificate, file: CURLOPT_SSLCERT, blob: CURLOPT_SSLCERT_BLOB)
        }
        if let key = configuration.clientKey {
            set(CURLOPT_SSLKEYTYPE, "PEM")
            setMaterial(key, file: CURLOPT_SSLKEY, blob: CURLOPT_SSLKEY_BLOB)
        }
        if configuration.insecureSkipVerify {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        errorBuffer.withUnsafeMutableBytes { raw in _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, raw.baseAddress) }

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = CPeriscopeCurl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            transfer.headerLine(String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
            return length
        }
        _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        _ = CPeriscopeCurl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            if transfer.cancellation.isCancelled { return 0 }
            let length = size * count
            transfer.deliverHead()
            transfer.onBody(Data(bytes: data!, count: length))
            return length
        }
        _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = CPeriscopeCurl_easy_setopt_xferinfo_callback(handle) { context, _, _, _, _ in
            Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().cancellation.isCancelled ? 1 : 0
        }
        _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
        set(CURLOPT_NOPROGRESS, 0)

        let result = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        var connects = 0
        _ = CPeriscopeCurl_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        connectsOfLastTransfer = connects
        // Callbacks and buffers of this transfer must not outlive it.
        _ = CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
        if result != CURLE_OK {
            if transfer.cancellation.isCancelled { return .failure(HTTPClientError(code: .cancelled, message: "\(request.method) \(request.url): cancelled")) }
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let summary = String(cString: curl_easy_strerror(result))
            let message = "\(request.method) \(request.url): \(detail.isEmpty ? summary : detail)"
            let untrusted = result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CACERT_BADFILE
            return .failure(HTTPClientError(code: untrusted ? .untrustedServer : .transport, message: message, curlCode: Int(result.rawValue)))
        }
        var status = 0
        _ = CPeriscopeCurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var version = 0
        _ = CPeriscopeCurl_easy_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        let versions = [Int(CURL_HTTP_VERSION_1_0): "1.0", Int(CURL_HTTP_VERSION_1_1): "1.1", Int(CURL_HTTP_VERSION_2_0): "2"]
        return .success(HTTPClientResponseHead(status: status, headers: transfer.headers, version: versions[version]))
    }
}

/// What one transfer collects as libcurl calls back.
final class Transfer {
    let cancellation: HTTPClient.Cancellation
    let onHead: ((HTTPClientResponseHead) -> Void)?
    let onBody: (Data) -> Void
    private var status = 0
    private(set) var headers: [String: String] = [:]
    private var headDelivered = false

    init(cancellation: HTTPClient.Cancellation, onHead: ((HTTPClientResponseHead) -> Void)?, onBody: @escaping (Data) -> Void) {
        self.cancellation = cancellation
        self.onHead = onHead
        self.onBody = onBody
    }

    func headerLine(_ line: String) {
        let trimmed = line.trimmingWhitespace()
        if trimmed.hasPrefix("HTTP/") {
            let parts = trimmed.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = [:]
        } else if let colon = trimmed.firstIndex(of: ":") {
            headers[trimmed[..<colon].lowercased()] = String(trimmed[trimmed.index(after: colon)...].trimmingWhitespace())
        } else if trimmed.isEmpty, status >= 200 {
            deliverHead()
        }
    }

    func deliverHead() {
        guard !headDelivered, status >= 200 else { return }
        headDelivered = true
        onHead?(HTTPClientResponseHead(status: status, headers: headers))
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
