import Testing
@testable import PeriscopeCore

@Suite struct ExportRetryPolicyTests {
    let policy = ExportRetryPolicy(initialBackoff: .seconds(1), maximumBackoff: .seconds(5), retryTimeout: .seconds(30))

    @Test(arguments: [200, 202, 204])
    func successIsDelivered(status: Int) {
        #expect(policy.decide(.status(status), attempt: 1, elapsed: .zero, jitter: 0) == .delivered)
    }

    @Test(arguments: [429, 502, 503, 504])
    func throttlingAndGatewayErrorsAreRetried(status: Int) {
        #expect(policy.decide(.status(status), attempt: 1, elapsed: .zero, jitter: 1) == .retry(after: .seconds(1)))
    }

    @Test(arguments: [400, 401, 404, 413, 500])
    func otherStatusesAreFinal(status: Int) {
        #expect(policy.decide(.status(status), attempt: 1, elapsed: .zero, jitter: 0) == .drop(.rejected(status: status)))
    }

    @Test func connectionFailuresBackOffExponentiallyUpToTheMaximum() {
        let delays = (1...6).map { policy.decide(.transportFailure, attempt: $0, elapsed: .zero, jitter: 1) }
        #expect(delays == [1, 2, 4, 5, 5, 5].map { .retry(after: .seconds($0)) })
    }

    @Test func jitterScalesIntoTheUpperHalf() {
        #expect(policy.backoff(attempt: 3, jitter: 0) == .seconds(2))
        #expect(policy.backoff(attempt: 3, jitter: 0.5) == .seconds(3))
    }

    @Test func retryAfterIsHonoured() {
        #expect(policy.decide(.status(429, retryAfter: .seconds(7)), attempt: 1, elapsed: .zero, jitter: 0) == .retry(after: .seconds(7)))
    }

    @Test func retriesStopAtTheTimeout() {
        #expect(policy.decide(.transportFailure, attempt: 9, elapsed: .seconds(27), jitter: 1) == .drop(.retriesExhausted))
        #expect(policy.decide(.status(503, retryAfter: .seconds(60)), attempt: 1, elapsed: .zero, jitter: 0) == .drop(.retriesExhausted))
    }

    @Test(arguments: [
        ("120", Duration.seconds(120) as Duration?),
        (" 3 ", .seconds(3)),
        ("Wed, 21 Oct 2015 07:28:00 GMT", .seconds(30)),
        ("Wed, 21 Oct 2015 07:00:00 GMT", .zero),
        ("-1", nil), ("soon", nil), ("Wed, 32 Oct 2015 07:28:00 GMT", nil),
    ])
    func parsesRetryAfter(text: String, expected: Duration?) {
        // 2015-10-21T07:27:30Z
        #expect(ExportRetryPolicy.retryAfter(text, nowUnixSeconds: 1_445_412_450) == expected)
    }
}
