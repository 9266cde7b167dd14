import CLibBPF
import CPeriscopeBPF
import Synchronization

/// The tracer's `config` map, written whole: the settings of the filter applied last, plus
/// `PERISCOPE_FLAG_TLS_PROBES` while TLS library probes are attached. The capture thread
/// applies filters and the TLS attacher's thread attaches and releases probes: each write
/// holds the lock, so neither undoes the other's part.
final class TracerConfiguration: Sendable {
    private struct State {
        var config = periscope_config()
        /// Sets of TLS library probes attached now (one per probed file).
        var tlsProbeSets = 0
    }

    private let map: Int32
    private let state = Mutex(State())

    init(map: Int32) {
        self.map = map
    }

    /// Writes `config` (its TLS flag ignored) into the map.
    func write(_ config: periscope_config) throws(BPFError) {
        try state.withLock { (state: inout State) throws(BPFError) in
            state.config = config
            try store(state)
        }
    }

    /// TLS library probes are about to be attached: transfers look for their calls from now on.
    func tlsProbesAttaching() throws(BPFError) {
        try state.withLock { (state: inout State) throws(BPFError) in
            state.tlsProbeSets += 1
            if state.tlsProbeSets == 1 { try store(state) }
        }
    }

    /// A set of TLS library probes was detached (or failed to attach): once none is left,
    /// nothing looks for their calls any more.
    func tlsProbesDetached() {
        state.withLock { state in
            state.tlsProbeSets = max(state.tlsProbeSets - 1, 0)
            if state.tlsProbeSets == 0 { try? store(state) }
        }
    }

    private func store(_ state: State) throws(BPFError) {
        var zero: UInt32 = 0
        var config = state.config
        let tls = UInt32(PERISCOPE_FLAG_TLS_PROBES.rawValue)
        config.flags = state.tlsProbeSets > 0 ? config.flags | tls : config.flags & ~tls
        try libbpfCall(.mapFailed, "cannot write the tracer configuration") {
            bpf_map_update_elem(map, &zero, &config, UInt64(BPF_ANY))
        }
    }
}
