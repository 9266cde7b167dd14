import FoundationEssentials

/// Turns the transport's byte stream of one watch into events, pulled by one consumer.
/// Only the consuming task touches it, one `next()` at a time.
final class WatchStreamState<T: KubeObject>: @unchecked Sendable {
    private let client: KubeClient
    private let path: String
    private let query: [(String, String)]
    private var parts: AsyncThrowingStream<KubeHTTPStreamPart, any Error>.AsyncIterator?
    private var decoder = WatchEventDecoder()
    private var pending: [Data] = []
    private var failure: (status: Int, headers: [String: String], body: Data)?
    private var finished = false

    init(client: KubeClient, path: String, query: [(String, String)]) {
        self.client = client
        self.path = path
        self.query = query
    }

    func next() async throws -> WatchEvent<T>? {
        if parts == nil {
            let request = try client.makeRequest("GET", path, query: query, timeout: nil)
            parts = client.transport.stream(request).makeAsyncIterator()
        }
        while true {
            if !pending.isEmpty {
                return try WatchEventDecoder.decode(pending.removeFirst(), as: T.self)
            }
            if finished { return nil }
            guard let part = try await parts!.next() else {
                finished = true
                if let failure {
                    if failure.status == 401 { client.tokens.invalidate() }
                    throw KubeAPIError.from(httpStatus: failure.status, headers: failure.headers, body: failure.body)
                }
                if let last = decoder.finish() { pending.append(last) }
                continue
            }
            switch part {
            case .head(let status, let headers):
                if status != 200 { failure = (status, headers, Data()) }
            case .body(let data):
                if failure != nil {
                    failure!.body.append(data)
                } else {
                    pending += decoder.feed(data)
                }
            }
        }
    }
}
