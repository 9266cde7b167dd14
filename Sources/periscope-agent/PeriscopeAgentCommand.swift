import ArgumentParser
import Dispatch
import Foundation
import Logging
import PeriscopeAgent
import PeriscopeCore
import ServiceLifecycle

@main
struct PeriscopeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "periscope-agent",
        abstract: "Trace HTTP/1.x requests and TCP connections of this host's processes with eBPF, without changing them.",
        discussion: """
            Runs standalone from a policy file (the InstrumentationPolicy spec without its Kubernetes \
            selectors) and prints one span per request or connection on standard output; logs go to \
            standard error. Needs root (or CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN) and mounts tracefs \
            at /sys/kernel/tracing when it is missing.

            The policy file is watched: an edit takes effect within a second, without restarting. \
            An invalid edit is logged and the previous policy stays in force. An invalid file at \
            start is refused (exit code 2).

            Signals: SIGTERM/SIGINT detach everything and print the self-metrics; SIGHUP re-reads \
            the policy file now; SIGUSR1 prints the self-metrics.

            Example:
              periscope-agent --config policy.yaml --output json
            """
    )

    @Option(name: .long, help: ArgumentHelp("Policy file (YAML). Without it every process on every port is traced.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: "Span output: text (one line per span) or json (one OTLP-shaped object per line).")
    var output: AgentConfiguration.OutputFormat = .text

    @Option(name: .long, help: ArgumentHelp("Kernel ring buffer size in bytes, a power of two.", valueName: "bytes"))
    var ringBufferBytes: Int = 8 << 20

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard ringBufferBytes >= 4096, ringBufferBytes & (ringBufferBytes - 1) == 0 else {
            throw ValidationError("--ring-buffer-bytes must be a power of two of at least 4096, not \(ringBufferBytes)")
        }
    }

    func run() async throws {
        unblockSignals()
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "periscope-agent")

        var policyFile: PolicyFile?
        let policy: Policy
        if let config {
            var file = PolicyFile(path: config)
            do {
                policy = try file.load()
            } catch {
                FileHandle.standardError.write(Data("periscope-agent: invalid policy, not starting: \(error)\n".utf8))
                throw ExitCode(2)
            }
            policyFile = file
        } else {
            policy = Policy()
        }

        let format = output
        let agent = Agent(
            configuration: AgentConfiguration(policyPath: config, output: output, ringBufferBytes: ringBufferBytes),
            policy: policy, policyFile: policyFile, logger: logger,
            makeSink: { SpanPrinter(format: format) }
        )
        let signals = SignalHandlers(control: agent.control)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: agent)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            logger.critical("agent.failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        withExtendedLifetime(signals) {}
        FileHandle.standardError.write(Data((agent.control.metrics.report + "\n").utf8))
    }

    /// A parent may start us with signals blocked (inherited masks survive exec); the
    /// shutdown and reload signals must reach us.
    private func unblockSignals() {
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
    }
}

/// SIGHUP → reload the policy file; SIGUSR1 → print the self-metrics.
final class SignalHandlers {
    private let sources: [DispatchSourceSignal]

    init(control: AgentControl) {
        let queue = DispatchQueue(label: "periscope-agent.signals")
        sources = [(SIGHUP, control.requestReload), (SIGUSR1, control.requestReport)].map { signalNumber, action in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { action() }
            source.resume()
            return source
        }
    }
}

extension AgentConfiguration.OutputFormat: ExpressibleByArgument {}

extension Logger.Level: @retroactive ExpressibleByArgument {}
