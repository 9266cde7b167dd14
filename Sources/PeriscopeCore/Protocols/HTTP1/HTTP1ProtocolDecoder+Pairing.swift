extension HTTP1ProtocolDecoder {
    /// Pairs requests with responses as the decoders find their starts, heads and ends, and
    /// reports exchanges as operations.
    struct Pairing: Sendable {
        let keepQuery: Bool
        var pending = PendingExchanges()
        var nextID = 0
        /// The exchange whose request bytes are being read.
        var currentRequestID: Int?
        /// The response in progress answers no known request.
        var orphanResponse = false
        /// The response in progress is an interim (1xx) one.
        var interimResponse = false
        /// The protocol a `101 Switching Protocols` response switched to.
        var switchedTo: String?
        /// True once the connection stopped being HTTP (error or upgrade).
        var isOpaque = false

        /// While one segment is decoded: the stream, the syscall's time and thread, what the
        /// response decoder ended with (its upgrade or error, handled once it is done) and
        /// the caller's output, moved in.
        var stream = MessageStream.requests
        var timestamp: UInt64 = 0
        var tid: Int32 = 0
        var responsesSwitched = false
        var responsesFailed = false
        var output: [ProtocolOutput] = []
        /// The decoders not decoding, where they lie in the protocol decoder, for their
        /// figures: set only for the length of a call from it, nil for the one decoding.
        nonisolated(unsafe) var requestDecoder: UnsafeMutablePointer<HTTP1Decoder>?
        nonisolated(unsafe) var responseDecoder: UnsafeMutablePointer<HTTP1Decoder>?

        init(keepQuery: Bool) {
            self.keepQuery = keepQuery
        }

        private mutating func handleRequest(_ event: HTTP1DecoderEvent) {
            switch event {
            case .messageBegin:
                // A new request shows that a response without framing is over.
                if responseDecoder?.pointee.isInUnframedMessage == true {
                    let size = responseDecoder?.pointee.endUnframedMessage() ?? nil
                    if !orphanResponse, !pending.isEmpty { completeFront(bodySize: size, end: pending[0].lastResponseTimestamp) }
                }
                orphanResponse = false
                if pending.count >= HTTP1ProtocolDecoder.maxPendingExchanges {
                    abandonFront(reason: "too many requests awaiting a response", end: timestamp)
                }
                pending.append(id: nextID, start: timestamp, tid: tid)
                currentRequestID = nextID
                nextID += 1
            case .head:
                break  // heads come to `decodedHead`
            case .messageEnd(let size):
                setRequestBodySize(size)
                currentRequestID = nil
            case .resynchronized(let ended, let previousSize):
                if ended { setRequestBodySize(previousSize) }
                currentRequestID = nil
            case .lostSync:
                output.append(.lostSync)
            case .upgraded:
                break
            case .error:
                output.append(.decodeError(reason: "invalid_message"))
            }
        }

        private mutating func handleResponse(_ event: HTTP1DecoderEvent) {
            switch event {
            case .resynchronized(let ended, let previousSize):
                if ended, !orphanResponse, !interimResponse, !pending.isEmpty {
                    completeFront(bodySize: previousSize, end: pending[0].lastResponseTimestamp)
                }
                orphanResponse = false
                interimResponse = false
            case .messageBegin:
                if pending.isEmpty {
                    orphanResponse = true
                } else if !pending[0].responseStarted {
                    pending[0].responseStarted = true
                    pending[0].lastResponseTimestamp = timestamp
                }
            case .head:
                break  // heads come to `decodedHead`
            case .messageEnd(let size):
                if orphanResponse {
                    orphanResponse = false
                } else if interimResponse {
                    interimResponse = false
                } else if !pending.isEmpty, pending[0].responseStatus != 101 {
                    completeFront(bodySize: size, end: timestamp)
                }
            case .lostSync:
                output.append(.lostSync)
            case .upgraded:
                responsesSwitched = true  // reported once the bytes after the switch are known
            case .error:
                output.append(.decodeError(reason: "invalid_message"))
                responsesFailed = true  // what awaits a response is abandoned once the decoder is back
            }
        }

        /// The response decoder switched protocols in this segment: a `101`'s exchange is held
        /// back with the switch (the new protocol may answer its request); a `CONNECT`'s ended
        /// with its head.
        mutating func switchProtocols(_ segment: ProtocolSegment, remainder: ArraySlice<UInt8>) {
            responsesSwitched = false
            var upgrade = ProtocolUpgrade(protocolName: switchedTo, timestamp: timestamp)
            if !orphanResponse, !pending.isEmpty, pending[0].responseStatus == 101 {
                upgrade.operation = removeFront(responseBodySize: 0, end: timestamp, incompleteReason: nil)
            }
            if !remainder.isEmpty {
                var rest = segment
                rest.bytes = remainder
                upgrade.remainder = rest
            }
            output.append(.upgraded(upgrade))
            pending.removeAll()
            isOpaque = true
        }

        /// A request head: the exchange's span details are laid out from it where it lies, once
        /// (the span keeps them as they are, with the response's figures added when it ends),
        /// and the request announces its start.
        private mutating func requestHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
            guard let index = currentRequestIndex else { return }
            let digest = Self.digest(method: bytes[field: head.methodBytes], target: bytes[field: head.target])
            let traceContext = head.traceparent.flatMap { TraceContext.parse(bytes[field: $0]) }
            let http = HTTP1ProtocolDecoder.spanDetails(of: head, in: bytes, keepingQuery: keepQuery)
            let upgradeProtocol = head.upgradeProtocol.map { bytes.string($0) }
            // One access to the stored exchange.
            let (id, start, tid) = Self.setRequest(
                &pending[index], http: http, method: head.method, upgradeProtocol: upgradeProtocol, traceContext: traceContext, digest: digest
            )
            output.append(.requestStarted(RequestStart(
                exchangeID: UInt64(id), timestamp: start, tid: tid, requestDigest: digest, traceContext: traceContext
            )))
        }

        /// Sets what a request's head says in its exchange; returns the exchange's id, start and thread.
        @inline(__always)
        private static func setRequest(
            _ exchange: inout PendingExchange, http: HTTPStorage, method: HTTP1Method, upgradeProtocol: String?,
            traceContext: TraceContext?, digest: UInt64
        ) -> (Int, UInt64, Int32) {
            exchange.http = http
            exchange.method = method
            exchange.upgradeProtocol = upgradeProtocol
            exchange.traceContext = traceContext
            exchange.requestDigest = digest
            return (exchange.id, exchange.start, exchange.tid)
        }

        /// `SpanLinkHints.digest(method:target:)` of the bytes where they lie; through strings
        /// only when they are not ASCII (the string repairs invalid UTF-8). ASCII is told by
        /// the bytes OR-ed together, a loop without a branch that the compiler vectorizes.
        static func digest(method: UnsafeBufferPointer<UInt8>, target: UnsafeBufferPointer<UInt8>) -> UInt64 {
            var bits: UInt8 = 0
            for byte in method { bits |= byte }
            for byte in target { bits |= byte }
            guard bits < 0x80 else {
                return SpanLinkHints.digest(method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self))
            }
            var hash = FNV1a()
            hash.add(method)
            hash.add(CollectionOfOne(HTTP1Syntax.space))
            hash.add(target)
            return hash.value
        }

        /// A response head: a final one's status is the exchange's; a `101` names the protocol
        /// switched to (its `Upgrade`, or the request's).
        private mutating func responseHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
            guard !orphanResponse, !pending.isEmpty, let status = head.statusCode else { return }
            if status < 200, status != 101 {
                interimResponse = true
                return
            }
            pending[0].responseStatus = status
            guard status == 101 else { return }
            if let named = head.upgradeProtocol {
                switchedTo = bytes.string(named).lowercased()
            } else if let named = pending[0].upgradeProtocol {
                switchedTo = named.lowercased()
            } else {
                switchedTo = nil
            }
        }

        @inline(__always)
        private var currentRequestIndex: Int? {
            guard let id = currentRequestID else { return nil }
            return pending.position(ofID: id)
        }

        mutating func setRequestBodySize(_ size: Int?) {
            if let index = currentRequestIndex { pending[index].requestBodySize = size }
        }

        mutating func completeFront(bodySize: Int?, end: UInt64) {
            reportFront(responseBodySize: bodySize, end: end, incompleteReason: nil)
        }

        mutating func abandonFront(reason: String, end: UInt64) {
            let responseBodySize = pending[0].responseStatus == nil ? 0 : responseDecoder?.pointee.currentBodySize ?? nil
            reportFront(responseBodySize: responseBodySize, end: end, incompleteReason: reason)
        }

        /// Removes the oldest exchange and reports it as an operation, built from the exchange
        /// where it lies and where it is appended; nothing when its request head was never captured.
        private mutating func reportFront(responseBodySize: Int?, end: UInt64, incompleteReason: String?) {
            let requestBodySize = requestBodySizeOfFront
            if let operation = Self.takeOperation(
                from: &pending[0], requestBodySize: requestBodySize, responseBodySize: responseBodySize, end: end,
                incompleteReason: incompleteReason
            ) {
                output.append(.operation(operation))
            }
            pending.removeFirst()
        }

        /// The oldest exchange, removed, as an operation; nil when its request head was never captured.
        private mutating func removeFront(responseBodySize: Int?, end: UInt64, incompleteReason: String?) -> ProtocolOperation? {
            let requestBodySize = requestBodySizeOfFront
            defer { pending.removeFirst() }
            return Self.takeOperation(
                from: &pending[0], requestBodySize: requestBodySize, responseBodySize: responseBodySize, end: end,
                incompleteReason: incompleteReason
            )
        }

        /// The oldest exchange's request body size. The request decoder is in place whenever an
        /// exchange is removed: only the response decoder's events and a new request's start
        /// remove exchanges, and no request is being read at a start.
        @inline(__always)
        private var requestBodySizeOfFront: Int? {
            pending[0].id == currentRequestID ? requestDecoder?.pointee.currentBodySize ?? nil : pending[0].requestBodySize
        }

        /// An exchange as an operation, its details moved out of it into the operation; nil when
        /// its request head was never captured.
        @inline(__always)
        static func takeOperation(
            from exchange: inout PendingExchange, requestBodySize: Int?, responseBodySize: Int?, end: UInt64, incompleteReason: String?
        ) -> ProtocolOperation? {
            guard let http = exchange.http.take() else { return nil }
            return operation(
                for: exchange, http: http, requestBodySize: requestBodySize, responseBodySize: responseBodySize, end: end,
                incompleteReason: incompleteReason
            )
        }

        /// An exchange as an operation: named by the method; an error when abandoned, on a 5xx,
        /// or, for the client, on a 4xx. Its details, laid out when its head was read, are
        /// completed in their box, which the operation (then the span) takes as it is.
        @inline(__always)
        static func operation(
            for exchange: PendingExchange, http: HTTPStorage, requestBodySize: Int?, responseBodySize: Int?, end: UInt64,
            incompleteReason: String?
        ) -> ProtocolOperation {
            let statusCode = exchange.responseStatus
            let status: Span.Status = incompleteReason != nil || (statusCode ?? 0) >= 500 ? .error : .unset
            http.fields.statusCode = statusCode
            http.fields.requestBodySize = requestBodySize
            http.fields.responseBodySize = responseBodySize
            // Built whole by the memberwise initializer, where it is stored.
            return ProtocolOperation(
                exchangeID: UInt64(exchange.id), start: exchange.start, end: max(end, exchange.start), tid: exchange.tid,
                name: exchange.method.string ?? http.details.method, status: status,
                clientStatus: status != .error && (statusCode ?? 0) >= 400 ? .error : nil, statusMessage: incompleteReason,
                http: http.details, attributes: [], requestDigest: exchange.requestDigest, traceContext: exchange.traceContext
            )
        }
    }
}

extension HTTP1ProtocolDecoder.Pairing: HTTP1DecoderEventSink {
    mutating func decoded(_ event: HTTP1DecoderEvent) {
        switch stream {
        case .requests: handleRequest(event)
        case .responses: handleResponse(event)
        }
    }

    mutating func decodedHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
        switch stream {
        case .requests: requestHead(head, in: bytes)
        case .responses: responseHead(head, in: bytes)
        }
    }

    /// The oldest exchange's method: a final response answers it (`responseHead` set its
    /// status), unless the response answers no known request. The decoder's own list stays empty.
    mutating func answeredRequestMethod(waiting: inout [HTTP1Method]) -> HTTP1Method? {
        orphanResponse || pending.isEmpty ? nil : pending[0].method
    }
}
