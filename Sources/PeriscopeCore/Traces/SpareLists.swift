/// Emptied lists kept with their storage for reuse: a table whose entries come and go with
/// each request (`TraceLinker.servers`) would otherwise allocate a list per request.
struct SpareLists<Element>: Sendable where Element: Sendable {
    private var lists: [[Element]] = []

    /// Lists kept at most.
    static var limit: Int { 64 }

    /// An empty list, with storage when one was kept.
    mutating func take() -> [Element] {
        lists.popLast() ?? []
    }

    /// Keeps `list`'s storage, emptied, when it is the only reference to it.
    mutating func keep(_ list: consuming [Element]) {
        guard lists.count < Self.limit else { return }
        var list = list
        list.removeAll(keepingCapacity: true)
        lists.append(list)
    }
}
