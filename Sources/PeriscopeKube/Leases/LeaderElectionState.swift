import FoundationEssentials

/// The leader-election decision core (client-go's `tryAcquireOrRenew`), over a `Lease`'s spec.
/// Expiry is judged by the local clock from when this candidate last saw the record change,
/// never by comparing clocks with the holder.
public struct LeaderElectionState: Sendable {
    public enum Decision: Sendable, Equatable {
        /// No lease yet: create it holding it.
        case create(Lease.Spec)
        /// Write this spec (acquire or renew) conditionally on the observed resourceVersion.
        case update(Lease.Spec)
        /// Someone else holds a lease that has not expired.
        case wait(holder: String)
    }

    public let identity: String
    public let leaseDuration: Duration
    private var observedRecord: Lease.Spec?
    private var observedTime: Date?

    public init(identity: String, leaseDuration: Duration) {
        self.identity = identity
        self.leaseDuration = leaseDuration
    }

    public mutating func decide(current: Lease?, now: Date) -> Decision {
        let seconds = Int(leaseDuration.components.seconds)
        guard let current else {
            let time = Self.microTime(now)
            return .create(Lease.Spec(holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: time, renewTime: time, leaseTransitions: 0))
        }
        let record = current.spec
        if record != observedRecord {
            observedRecord = record
            observedTime = now
        }
        let holder = record.holderIdentity ?? ""
        let recordDuration = TimeInterval(record.leaseDurationSeconds ?? seconds)
        if !holder.isEmpty, holder != identity, let observedTime, observedTime.addingTimeInterval(recordDuration) > now {
            return .wait(holder: holder)
        }
        var spec = record
        spec.holderIdentity = identity
        spec.leaseDurationSeconds = seconds
        spec.renewTime = Self.microTime(now)
        if holder != identity {
            spec.acquireTime = Self.microTime(now)
            spec.leaseTransitions = (record.leaseTransitions ?? 0) + (holder.isEmpty && record.leaseTransitions == nil ? 0 : 1)
        }
        return .update(spec)
    }

    /// The spec that gives the lease up on shutdown, if this candidate holds it.
    public func release(current: Lease, now: Date) -> Lease.Spec? {
        guard current.spec.holderIdentity == identity else { return nil }
        let time = Self.microTime(now)
        return Lease.Spec(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: time, renewTime: time, leaseTransitions: current.spec.leaseTransitions)
    }

    /// Kubernetes `MicroTime`: RFC 3339 with microseconds, UTC.
    public static func microTime(_ date: Date) -> String {
        let since1970 = date.timeIntervalSince1970
        let seconds = since1970.rounded(.down)
        let micros = String(min(max(Int(((since1970 - seconds) * 1_000_000).rounded(.down)), 0), 999_999))
        // `2024-05-01T12:34:56Z` without its zone, then six digits of fraction and the zone.
        let whole = Date(timeIntervalSince1970: seconds).formatted(.iso8601).dropLast()
        return whole + "." + String(repeating: "0", count: 6 - micros.count) + micros + "Z"
    }
}
