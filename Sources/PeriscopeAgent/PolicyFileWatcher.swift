import Logging
import PeriscopeCore
import PeriscopeSystem
import ServiceLifecycle
import Synchronization

/// Follows a standalone agent's policy file: checks it every `interval` (and at once on
/// `requestReload()`, SIGHUP), and puts each valid edit in force everywhere at once, the capture
/// thread's decoders, selection and kernel filter (through `AgentControl.submit`) and the
/// exports and resource attributes (`onChange`). An invalid edit is logged and counted; the
/// previous policies stay. The file is read on a thread of its own (`BlockingPool`).
public final class PolicyFileWatcher: Service, Sendable {
    private let initial: PolicyFile
    private let interval: Duration
    private let control: AgentControl
    private let onChange: @Sendable (PolicySet) -> Void
    private let logger: Logger
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let reloadRequested = Atomic<Bool>(false)

    /// - Parameters:
    ///   - file: the file as loaded at start (its identity is what edits are told from).
    ///   - onChange: called with each new set of policies, before the capture thread adopts it.
    public init(
        file: PolicyFile, interval: Duration, control: AgentControl, logger: Logger,
        onChange: @escaping @Sendable (PolicySet) -> Void
    ) {
        initial = file
        self.interval = interval
        self.control = control
        self.logger = logger
        self.onChange = onChange
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Re-reads the file now, even if it looks unchanged (SIGHUP).
    public func requestReload() {
        reloadRequested.store(true, ordering: .releasing)
        wake.yield()
    }

    public func run() async throws {
        let wake = self.wake
        let interval = self.interval
        await withDiscardingTaskGroup { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: interval) } catch { break }
                        wake.yield()
                    }
                }
                wake.finish()
            }
            group.addTask { await self.follow() }
        }
    }

    private enum Outcome: Sendable {
        case unchanged
        case loaded(PolicySet)
        case failed(PolicyFile.LoadError)
    }

    private func follow() async {
        var file = initial
        var revision = 0
        for await _ in wakes {
            let forced = reloadRequested.exchange(false, ordering: .acquiringAndReleasing)
            let checked = file
            let (updated, outcome) = await BlockingPool.shared.run { () -> (PolicyFile, Outcome) in
                var file = checked
                guard forced || file.hasChanged() else { return (file, .unchanged) }
                do throws(PolicyFile.LoadError) {
                    let policies = try file.load()
                    return (file, .loaded(policies))
                } catch {
                    return (file, .failed(error))
                }
            }
            file = updated
            switch outcome {
            case .unchanged:
                continue
            case .loaded(let policies):
                revision += 1
                onChange(policies)
                control.submit(policies: policies, revision: revision)
                logger.info("policy.applied", metadata: ["path": "\(file.path)", "policies": "\(policies.policies.count)"])
            case .failed(let error):
                control.recordPolicyReloadFailure()
                logger.error("policy.rejected", metadata: ["path": "\(file.path)", "error": "\(error)", "kept": "previous policy"])
            }
        }
    }
}
