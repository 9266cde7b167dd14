/// Requests awaiting their answers, oldest first: appended at the back, answered at the
/// front. An array with a moving head, compacted as it drains, so steady traffic reuses
/// its storage.
struct PendingQueue<Element: Sendable>: Sendable {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    var first: Element? {
        get { isEmpty ? nil : storage[head] }
        set {
            guard !isEmpty, let newValue else { return }
            storage[head] = newValue
        }
    }

    var last: Element? { isEmpty ? nil : storage[storage.count - 1] }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Empties the queue, returning what it held, oldest first.
    mutating func drain() -> ArraySlice<Element> {
        let elements = storage[head...]
        storage.removeAll(keepingCapacity: false)
        head = 0
        return elements
    }
}
