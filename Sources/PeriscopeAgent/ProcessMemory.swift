import CPeriscopeMalloc

/// glibc malloc settings that keep the agent's resident memory near what it uses.
public enum ProcessMemory {
    /// At most two malloc arenas: the capture thread does nearly all allocation, and an arena
    /// per helper thread only holds memory that is rarely reused. Call before threads start.
    public static func limitArenas() {
        mallopt(M_ARENA_MAX, 2)
    }

    /// Returns memory freed after a burst to the system instead of keeping it in the arenas.
    static func trim() {
        malloc_trim(0)
    }

}
