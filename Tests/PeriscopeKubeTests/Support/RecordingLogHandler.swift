import Logging
import Synchronization

/// Keeps what is logged through it, to count messages.
struct RecordingLogHandler: LogHandler {
    final class Store: Sendable {
        private let entries = Mutex<[(Logger.Level, String)]>([])

        func append(_ level: Logger.Level, _ message: String) { entries.withLock { $0.append((level, message)) } }

        /// How often `message` was logged at `level` or above.
        func count(_ message: String, atLeast level: Logger.Level = .trace) -> Int {
            entries.withLock { $0.filter { $0.1 == message && $0.0 >= level }.count }
        }
    }

    let store: Store
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append(event.level, "\(event.message)")
    }

    /// A logger writing into a new store.
    static func logger(label: String) -> (Logger, Store) {
        let store = Store()
        return (Logger(label: label) { _ in RecordingLogHandler(store: store) }, store)
    }
}
