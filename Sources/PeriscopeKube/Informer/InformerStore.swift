/// What changed in an informer's cache.
public enum InformerEvent<Object: KubeObject>: Sendable {
    case added(Object)
    case updated(old: Object, new: Object)
    /// The final state from the watch, or the last cached state when a relist found it gone.
    case deleted(Object)
    /// The cache holds a complete list (after the first list and after every relist).
    case synced
}

/// The informer's cache as a value: applying a watch event or a relist returns the changes it
/// made. An event that repeats what the cache already holds (same key and resourceVersion) changes
/// nothing, so nothing is ever applied twice.
public struct InformerStore<Object: KubeObject>: Sendable {
    public private(set) var objects: [String: Object] = [:]

    public init() {}

    /// Replaces everything with a fresh list: new keys are added, changed versions updated,
    /// keys no longer listed deleted.
    public mutating func replace(with items: [Object]) -> [InformerEvent<Object>] {
        var changes: [InformerEvent<Object>] = []
        var fresh: [String: Object] = [:]
        for item in items {
            fresh[item.key] = item
            if let old = objects[item.key] {
                if old.metadata.resourceVersion != item.metadata.resourceVersion { changes.append(.updated(old: old, new: item)) }
            } else {
                changes.append(.added(item))
            }
        }
        for (key, old) in objects.sorted(by: { $0.key < $1.key }) where fresh[key] == nil {
            changes.append(.deleted(old))
        }
        objects = fresh
        return changes
    }

    public mutating func apply(_ event: WatchEvent<Object>) -> [InformerEvent<Object>] {
        switch event {
        case .added(let object), .modified(let object):
            if let old = objects[object.key] {
                guard old.metadata.resourceVersion != object.metadata.resourceVersion else { return [] }
                objects[object.key] = object
                return [.updated(old: old, new: object)]
            }
            objects[object.key] = object
            return [.added(object)]
        case .deleted(let object):
            guard objects.removeValue(forKey: object.key) != nil else { return [] }
            // The watch's object: its final state, at the version of the deletion.
            return [.deleted(object)]
        case .bookmark, .error:
            return []
        }
    }
}
