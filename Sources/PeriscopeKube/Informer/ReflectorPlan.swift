/// The list-then-watch decision core: given what just happened, what to do next and after how long.
/// - a list gives the version to watch from;
/// - a watch the server ended (its timeout) resumes at once from the last version seen;
/// - a dropped or failed watch resumes from the last version seen after a backoff;
/// - 410 Expired relists at once; a failed list retries after a backoff.
public struct ReflectorPlan: Sendable {
    public enum Outcome: Sendable, Equatable {
        case listed(resourceVersion: String)
        case listFailed
        /// An event or bookmark carrying a newer version.
        case progressed(resourceVersion: String)
        case watchEnded
        case watchExpired
        case watchFailed
    }

    public enum Action: Sendable, Equatable {
        case list
        case watch(resourceVersion: String)
    }

    public struct Step: Sendable, Equatable {
        public var action: Action
        public var delay: Duration?

        public init(action: Action, delay: Duration?) {
            self.action = action
            self.delay = delay
        }
    }

    public private(set) var resourceVersion: String?
    private var backoff: ExponentialBackoff

    public init(backoff: ExponentialBackoff = ExponentialBackoff()) {
        self.backoff = backoff
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
        }
    }
}
