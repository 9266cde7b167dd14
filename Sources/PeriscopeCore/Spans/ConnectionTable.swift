/// The tracked connections in contiguous storage addressed by integer handles: a read or
/// write finds its connection with one lookup in a `FixedKeyTable` (no SipHash) and is
/// decoded where it is stored, never copied out and back.
struct ConnectionTable: Sendable {
    struct Key: FixedKey {
        var pid: Int32
        var fd: Int32

        var folded: UInt64 { UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(bitPattern: fd)) }
    }

    /// Connections by handle; free slots hold `TrackedConnection.vacant`. Not optional, so
    /// that reading a field of a slot reads it in place instead of copying the connection.
    var slots: [TrackedConnection] = []
    private var occupied: [Bool] = []
    private var free: [Int] = []
    private var handles = FixedKeyTable<Key, Int>()
    /// Handles by kernel socket: a descriptor of another process (or another descriptor)
    /// finds the connection it shares.
    private var bySocket = FixedKeyTable<UInt64, Int>()
    /// How many connections each process has.
    private var perProcess: [Int32: Int] = [:]

    var count: Int { handles.count }

    func handle(pid: Int32, fd: Int32) -> Int? {
        handles[Key(pid: pid, fd: fd)]
    }

    /// The connection of kernel socket `socketID`, whichever descriptor holds it.
    func handle(socketID: UInt64) -> Int? {
        socketID == 0 ? nil : bySocket[socketID]
    }

    /// Stores a connection for (its pid, its fd), which must be free.
    @discardableResult
    mutating func insert(_ connection: TrackedConnection) -> Int {
        let handle: Int
        if let reused = free.popLast() {
            handle = reused
            slots[handle] = connection
            occupied[handle] = true
        } else {
            handle = slots.count
            slots.append(connection)
            occupied.append(true)
        }
        handles[Key(pid: connection.pid, fd: connection.fd)] = handle
        if connection.socketID != 0 { bySocket[connection.socketID] = handle }
        perProcess[connection.pid, default: 0] += 1
        return handle
    }

    mutating func remove(pid: Int32, fd: Int32) -> TrackedConnection? {
        guard let handle = handles.removeValue(forKey: Key(pid: pid, fd: fd)) else { return nil }
        let connection = slots[handle]
        release(handle, pid: pid)
        return connection
    }

    /// Every connection of `pid`, removed.
    mutating func removeAll(of pid: Int32) -> [TrackedConnection] {
        guard perProcess[pid] != nil else { return [] }
        var removed: [TrackedConnection] = []
        for handle in slots.indices where occupied[handle] && slots[handle].pid == pid {
            let connection = slots[handle]
            handles[Key(pid: pid, fd: connection.fd)] = nil
            release(handle, pid: pid)
            removed.append(connection)
        }
        return removed
    }

    /// The descriptors of `pid`'s connections, in no particular order.
    func descriptors(of pid: Int32) -> [Int32] {
        guard perProcess[pid] != nil else { return [] }
        return slots.indices.filter { occupied[$0] && slots[$0].pid == pid }.map { slots[$0].fd }
    }

    /// Every connection, removed.
    mutating func removeAll() -> [TrackedConnection] {
        let all = self.all
        slots.removeAll()
        occupied.removeAll()
        free.removeAll()
        handles.removeAll()
        bySocket.removeAll()
        perProcess.removeAll()
        return all
    }

    /// Every connection, in no particular order.
    var all: [TrackedConnection] { slots.indices.filter { occupied[$0] }.map { slots[$0] } }

    private mutating func release(_ handle: Int, pid: Int32) {
        let socketID = slots[handle].socketID
        if socketID != 0, bySocket[socketID] == handle { bySocket[socketID] = nil }
        slots[handle] = .vacant
        occupied[handle] = false
        free.append(handle)
        if let count = perProcess[pid] { perProcess[pid] = count > 1 ? count - 1 : nil }
    }
}
