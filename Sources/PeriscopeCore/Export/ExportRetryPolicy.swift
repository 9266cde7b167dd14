/// What to do after one export attempt: OpenTelemetry's OTLP/HTTP rules. 2xx is
/// delivered; 429, 502, 503, 504 and failures to connect are retried with exponential
/// backoff and jitter, or after the server's `Retry-After`, until `retryTimeout` has
/// passed since the first attempt; any other status is final.
public struct ExportRetryPolicy: Sendable, Equatable {
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// How long one batch may be retried, counted from its first attempt.
    public var retryTimeout: Duration

    public init(initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(5), retryTimeout: Duration = .seconds(30)) {
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.retryTimeout = retryTimeout
    }

    /// What came back from one attempt.
    public enum Response: Sendable, Equatable {
        /// The server answered with `status`; `retryAfter` is its parsed `Retry-After`.
        case status(Int, retryAfter: Duration? = nil)
        /// No answer: refused, reset, timed out, name not resolved.
        case transportFailure
    }

    public enum Decision: Sendable, Equatable {
        case delivered
        case retry(after: Duration)
        /// Dropped for good: rejected by the server, or retried for too long.
        case drop(DropReason)
    }

    public enum DropReason: Sendable, Equatable {
        case rejected(status: Int)
        case retriesExhausted
    }

    /// - Parameters:
    ///   - attempt: 1 for the first attempt.
    ///   - elapsed: time since the first attempt started.
    ///   - jitter: a random number in 0..<1; the backoff is scaled into its upper half.
    public func decide(_ response: Response, attempt: Int, elapsed: Duration, jitter: Double) -> Decision {
        let retryAfter: Duration?
        switch response {
        case .status(let status, _) where (200..<300).contains(status):
            return .delivered
        case .status(let status, let after) where [429, 502, 503, 504].contains(status):
            retryAfter = after
        case .status(let status, _):
            return .drop(.rejected(status: status))
        case .transportFailure:
            retryAfter = nil
        }
        let delay = retryAfter ?? backoff(attempt: attempt, jitter: jitter)
        guard elapsed + delay <= retryTimeout else { return .drop(.retriesExhausted) }
        return .retry(after: delay)
    }

    /// `initialBackoff × 2^(attempt−1)`, at most `maximumBackoff`, scaled by 0.5…1 with `jitter`.
    public func backoff(attempt: Int, jitter: Double) -> Duration {
        var base = initialBackoff
        for _ in 1..<max(attempt, 1) {
            base = base * 2
            if base >= maximumBackoff { break }
        }
        base = min(base, maximumBackoff)
        let factor = 0.5 + 0.5 * min(max(jitter, 0), 1)
        return base * factor
    }

    /// Parses a `Retry-After` value: delay-seconds or an IMF-fixdate
    /// (`Wed, 21 Oct 2015 07:28:00 GMT`), the latter relative to `nowUnixSeconds`.
    /// Nil for anything else; a date in the past is zero.
    public static func retryAfter(_ value: some StringProtocol, nowUnixSeconds: Int64) -> Duration? {
        let text = value.trimmingASCIIWhitespace()
        if let seconds = PolicyNode.decimal(text), text.first != "-", text.first != "+" {
            return .seconds(min(seconds, 86_400))
        }
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
              let day = PolicyNode.decimal(parts[1]), let monthIndex = months.firstIndex(of: String(parts[2])),
              let year = PolicyNode.decimal(parts[3]), (1...31).contains(day), (1970...9999).contains(year)
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = PolicyNode.decimal(clock[0]), let minute = PolicyNode.decimal(clock[1]),
              let second = PolicyNode.decimal(clock[2]), hour < 24, minute < 60, second < 61
        else { return nil }
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        let target = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return .seconds(max(0, min(target - nowUnixSeconds, 86_400)))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
