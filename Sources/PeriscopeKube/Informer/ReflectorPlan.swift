/// The list-then-watch decision core: given what just happened, what to do next and after how long.
/// - a list gives the version to watch from;
/// - a watch the server ended (its timeout) resumes at once from the last version seen;
/// - a dropped or failed watch resumes from the last version seen after a backoff;
/// - 410 Expired relists at once; a failed list retries after a backoff;
/// - when the server is unavailable (the connection refused or reset, or 503 while it starts),
///   the backoff is capped and the wait may end as soon as the server says it is ready, so that
///   an outage of any length is followed by a resync within seconds of the server's return.
public struct ReflectorPlan: Sendable {
    public enum Outcome: Sendable, Equatable {
        case listed(resourceVersion: String)
        case listFailed
        /// The list failed because the server is unavailable.
        case listUnavailable
        /// An event or bookmark carrying a newer version.
        case progressed(resourceVersion: String)
        case watchEnded
        case watchExpired
        case watchFailed
        /// The watch failed or broke because the server is unavailable.
        case watchUnavailable
    }

    public enum Action: Sendable, Equatable {
        case list
        case watch(resourceVersion: String)
    }

    public struct Step: Sendable, Equatable {
        public var action: Action
        public var delay: Duration?
        /// The delay waits for an unavailable server: it may end early once the server is ready.
        public var endsWhenServerReady: Bool

        public init(action: Action, delay: Duration?, endsWhenServerReady: Bool = false) {
            self.action = action
            self.delay = delay
            self.endsWhenServerReady = endsWhenServerReady
        }
    }

    public private(set) var resourceVersion: String?
    private var backoff: ExponentialBackoff
    private let unavailableCap: Duration

    /// - Parameter unavailableCap: the longest wait after a failure because the server is unavailable.
    public init(backoff: ExponentialBackoff = ExponentialBackoff(), unavailableCap: Duration = .seconds(4)) {
        self.backoff = backoff
        self.unavailableCap = unavailableCap
    }

    /// The first step: list.
    public var start: Step { Step(action: .list, delay: nil) }

    /// Records an outcome and returns the next step (`nil` after `.progressed`: keep watching).
    public mutating func next(after outcome: Outcome) -> Step? {
        switch outcome {
        case .listed(let version):
            resourceVersion = version
            backoff.reset()
            return Step(action: .watch(resourceVersion: version), delay: nil)
        case .listFailed:
            return Step(action: .list, delay: backoff.next())
        case .progressed(let version):
            resourceVersion = version
            backoff.reset()
            return nil
        case .watchEnded:
            guard let resourceVersion else { return Step(action: .list, delay: nil) }
            return Step(action: .watch(resourceVersion: resourceVersion), delay: nil)
        case .watchExpired:
            resourceVersion = nil
            return Step(action: .list, delay: nil)
        case .watchFailed:
            guard let resourceVersion else { return Step(action: .list, delay: backoff.next()) }
            return Step(action: .watch(resourceVersion: resourceVersion), delay: backoff.next())
        case .listUnavailable:
            return Step(action: .list, delay: min(backoff.next(), unavailableCap), endsWhenServerReady: true)
        case .watchUnavailable:
            let delay = min(backoff.next(), unavailableCap)
            guard let resourceVersion else { return Step(action: .list, delay: delay, endsWhenServerReady: true) }
            return Step(action: .watch(resourceVersion: resourceVersion), delay: delay, endsWhenServerReady: true)
        }
    }
}
