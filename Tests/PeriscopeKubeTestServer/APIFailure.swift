import PeriscopeKube

/// A failed API call, answered with a `Status` body.
struct APIFailure: Error {
    var status: KubeStatus

    init(_ code: Int, _ reason: String, _ message: String, details: KubeStatus.Details? = nil) {
        status = KubeStatus(code: code, reason: reason, message: message, details: details)
    }
}
