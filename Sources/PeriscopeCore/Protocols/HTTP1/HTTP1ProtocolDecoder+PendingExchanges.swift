extension HTTP1ProtocolDecoder {
    /// A request on its way through the connection, until its response ends.
    struct PendingExchange: Sendable {
        var id: Int
        var start: UInt64
        var tid: Int32
        /// The span's details, laid out once when the request head is read, in the box the
        /// span will keep; nil until then (or when a capture gap took the head).
        nonisolated(unsafe) var http: HTTPStorage?
        /// `other` until the head is read.
        var method = HTTP1Method.other
        /// The first protocol the request's `Upgrade` headers name.
        var upgradeProtocol: String?
        /// The request's `traceparent` parsed; nil when absent or malformed.
        var traceContext: TraceContext?
        var requestDigest: UInt64 = 0
        /// Nil when a capture gap made it unknown.
        var requestBodySize: Int? = 0
        /// The final response's status code; nil until its head is read.
        var responseStatus: Int?
        var responseStarted = false
        var lastResponseTimestamp: UInt64
    }

    /// The exchanges awaiting their response, oldest first, in a ring of slots: an exchange is
    /// written once where it lies when its request starts and read there when it ends, and
    /// the oldest leaves by moving the ring's start, nothing moved (a list removing its first
    /// element moves the whole exchange out, and the others down). Exchanges are appended
    /// with consecutive ids, so the one with a given id is found by subtraction.
    struct PendingExchanges: Sendable {
        private var slots: [PendingExchange] = []
        /// The slot of the oldest exchange.
        private var head = 0
        private(set) var count = 0

        var isEmpty: Bool { count == 0 }

        /// The exchange at `position` from the oldest (0), where it lies.
        subscript(position: Int) -> PendingExchange {
            @inline(__always) _read { yield slots[slot(position)] }
            @inline(__always) _modify { yield &slots[slot(position)] }
        }

        @inline(__always)
        private func slot(_ position: Int) -> Int {
            let slot = head &+ position
            return slot < slots.count ? slot : slot &- slots.count
        }

        /// The position of the exchange numbered `id`; nil when it is not awaiting a response.
        func position(ofID id: Int) -> Int? {
            guard count > 0 else { return nil }
            let position = id &- slots[head].id
            return position >= 0 && position < count ? position : nil
        }

        /// A new exchange whose request started at `start` on thread `tid`, numbered `id`: in
        /// the usual case written over the fields of a slot an exchange left.
        @inline(__always)
        mutating func append(id: Int, start: UInt64, tid: Int32) {
            guard count < slots.count else {
                return grow(PendingExchange(id: id, start: start, tid: tid, lastResponseTimestamp: start))
            }
            Self.reuse(&slots[slot(count)], id: id, start: start, tid: tid)
            count += 1
        }

        /// A slot an exchange left (`removeFirst` released its references) set for a new one.
        @inline(__always)
        private static func reuse(_ slot: inout PendingExchange, id: Int, start: UInt64, tid: Int32) {
            slot.id = id
            slot.start = start
            slot.tid = tid
            slot.method = .other
            slot.traceContext = nil
            slot.requestDigest = 0
            slot.requestBodySize = 0
            slot.responseStatus = nil
            slot.responseStarted = false
            slot.lastResponseTimestamp = start
        }

        /// Every slot holds an exchange: one more.
        private mutating func grow(_ exchange: PendingExchange) {
            if head != 0 {
                // Laid out from the oldest again, so that the new slot comes after the newest.
                slots = Array(slots[head...] + slots[..<head])
                head = 0
            }
            slots.append(exchange)
            count += 1
        }

        /// Removes the oldest exchange: its slot keeps only values without references, for the
        /// next exchange to take (its details, when reported, went on with the operation).
        @inline(__always)
        mutating func removeFirst() {
            precondition(count > 0, "no exchange to remove")
            slots[head].http = nil
            slots[head].upgradeProtocol = nil
            count -= 1
            head = count == 0 ? 0 : slot(1)
        }

        mutating func removeAll() {
            while !isEmpty { removeFirst() }
        }
    }
}
