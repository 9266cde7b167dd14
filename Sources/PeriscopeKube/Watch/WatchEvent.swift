/// One event of a watch stream.
public enum WatchEvent<Object: KubeObject>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// Progress marker: nothing to apply, but watches may resume from this version.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with a `Status` (410 `Expired` when the version is too old).
    case error(KubeStatus)

    /// The version to resume a watch from after this event, if it carries one.
    public var resourceVersion: String? {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object): return object.metadata.resourceVersion
        case .bookmark(let version): return version
        case .error: return nil
        }
    }
}
