import CPeriscopeCurl
import PeriscopeCore
#if canImport(Glibc)
import Glibc
#endif

/// POSTs OTLP protobuf bodies over one libcurl handle, kept for connection reuse.
/// Used from one thread at a time.
final class OTLPHTTPClient {
    /// What one request came to, for the retry policy and the log.
    struct Result {
        var response: ExportRetryPolicy.Response
        /// libcurl's error text when there was no response.
        var transportError: String?
    }

    private let handle: UnsafeMutableRawPointer
    private let headers: [ExportConfiguration.Header]
    private let captured = CapturedHeaders()

    init(headers: [ExportConfiguration.Header]) throws(ExportError) {
        guard let handle = curl_easy_init() else {
            throw ExportError(code: .transport, message: "libcurl could not create a handle")
        }
        self.handle = handle
        self.headers = headers
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends `body` and waits for the answer, at most `timeout`.
    func post(url: String, body: [UInt8], gzip: Bool, timeout: Duration) -> Result {
        curl_easy_reset(handle)
        captured.retryAfter = nil
        var list: UnsafeMutablePointer<curl_slist>?
        var lines = ["Content-Type: application/x-protobuf", "Expect:"]
        if gzip { lines.append("Content-Encoding: gzip") }
        lines += headers.map { "\($0.name): \($0.value)" }
        for line in lines { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }

        let milliseconds = max(1, Int(timeout.nanoseconds / 1_000_000))
        CPeriscopeCurl_easy_setopt_string(handle, CURLOPT_URL, url)
        CPeriscopeCurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        CPeriscopeCurl_easy_setopt_long(handle, CURLOPT_POST, 1)
        CPeriscopeCurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds)
        CPeriscopeCurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(milliseconds, 5000))
        CPeriscopeCurl_easy_setopt_string(handle, CURLOPT_USERAGENT, "periscope-agent/\(TelemetryResource.sdkVersion)")
        CPeriscopeCurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        CPeriscopeCurl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { _, size, count, _ in size * count }
        CPeriscopeCurl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let length = size * count
            guard let data, let context else { return length }
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            if line.lowercased().hasPrefix("retry-after:") {
                let headers = Unmanaged<CapturedHeaders>.fromOpaque(context).takeUnretainedValue()
                headers.retryAfter = String(line.dropFirst("retry-after:".count))
            }
            return length
        }
        CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, Unmanaged.passUnretained(captured).toOpaque())

        let code = body.withUnsafeBytes { raw -> CURLcode in
            var empty: UInt8 = 0
            return withUnsafeMutablePointer(to: &empty) { fallback in
                let pointer = raw.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) } ?? UnsafeMutableRawPointer(fallback)
                CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, pointer)
                CPeriscopeCurl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                return curl_easy_perform(handle)
            }
        }
        CPeriscopeCurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, nil)
        guard code == CURLE_OK else {
            return Result(response: .transportFailure, transportError: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        CPeriscopeCurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let retryAfter = captured.retryAfter.flatMap {
            ExportRetryPolicy.retryAfter($0.trimmingCharacters(in: "\r\n"), nowUnixSeconds: Int64(time(nil)))
        }
        return Result(response: .status(status, retryAfter: retryAfter))
    }

    private final class CapturedHeaders {
        var retryAfter: String?
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
