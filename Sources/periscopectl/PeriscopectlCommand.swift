import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import PeriscopeSystem
import Logging
import PeriscopeCtl
import PeriscopeKube

@main
struct PeriscopectlCommand: AsyncParsableCommand {
    /// kubectl's habit: global flags may come before the subcommand.
    static func main() async {
        let subcommands = Set(configuration.subcommands.compactMap { $0.configuration.commandName ?? "\($0)".lowercased() })
        await main(GlobalFlags.normalized(Array(CommandLine.arguments.dropFirst()), subcommands: subcommands))
    }

    static let configuration = CommandConfiguration(
        commandName: "periscopectl",
        abstract: "Instrument Kubernetes namespaces with Periscope and see what is traced.",
        discussion: """
            Finds the cluster as kubectl does: --kubeconfig, else KUBECONFIG (several files merged, \
            the first setting wins), else the pod's service account, else ~/.kube/config; --context \
            picks another context. --kubeconfig, --context and -n/--namespace may come before or \
            after the command.

            Exit status: 0 done (status: everything applied and healthy); 1 the API server refused \
            or failed a request; 2 no configuration or the cluster is unreachable; 3 status found a \
            policy not Ready or an agent not healthy; 4 the namespace does not exist; 64 bad usage.

            Examples:
              periscopectl instrument namespace shop
              periscopectl instrument namespace shop --ports 8080,9000-9100 --sampling 0.25
              periscopectl status
              periscopectl uninstrument namespace shop
              periscopectl --context prod status -n shop
              periscopectl version
            """,
        subcommands: [Instrument.self, Uninstrument.self, Status.self, Version.self]
    )
}

struct ClusterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path to the kubeconfig file to use.", valueName: "file"))
    var kubeconfig: String?

    @Option(name: .long, help: ArgumentHelp("The kubeconfig context to use.", valueName: "name"))
    var context: String?

    @Option(name: [.short, .long], help: ArgumentHelp("The namespace the command is about.", valueName: "namespace"))
    var namespace: String?

    /// The namespace named by the positional argument or by -n; naming two different ones is a usage error.
    func namespace(positional: String?) throws -> String {
        switch (positional, namespace) {
        case (let given?, let flag?) where given != flag:
            throw ValidationError("two namespaces given: \(given) and -n \(flag); name one")
        case (let given?, _), (nil, let given?):
            return given
        case (nil, nil):
            throw ValidationError("which namespace? name it, as in `namespace shop`, or give -n shop")
        }
    }

    func client() throws -> Periscopectl {
        let configuration = try reporting { () throws(CtlError) in
            try Periscopectl.configuration(kubeconfig: kubeconfig, context: context, environment: ProcessInfo.processInfo.environment)
        }
        var logger = Logger(label: "periscopectl")
        logger.logLevel = .critical
        return Periscopectl(client: KubeClient(configuration: configuration, logger: logger))
    }
}

/// Runs `body`; a `CtlError` is printed to standard error and becomes its exit status.
func reporting<T>(_ body: () async throws(CtlError) -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        System.writeStandardError("periscopectl: \(error)\n")
        throw ExitCode(error.exitStatus)
    }
}

func reporting<T>(_ body: () throws(CtlError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        System.writeStandardError("periscopectl: \(error)\n")
        throw ExitCode(error.exitStatus)
    }
}

enum Target: String, ExpressibleByArgument, CaseIterable {
    case namespace
}

struct Instrument: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Trace every pod of a namespace (creates or updates its InstrumentationPolicy).",
        discussion: """
            Applies the InstrumentationPolicy periscope-namespace with an empty podSelector in the \
            namespace. Running it again with other flags updates it; agents follow without restarting.

            Examples:
              periscopectl instrument namespace shop
              periscopectl instrument namespace shop --ports 8080,9000-9100
              periscopectl instrument namespace shop --sampling 0.1
              periscopectl instrument namespace shop --sampling always_on
            """)

    @Argument(help: "What to instrument: namespace.") var target: Target
    @Argument(help: "The namespace (or -n NAMESPACE).") var name: String?
    @Option(help: ArgumentHelp("Server ports to trace, e.g. 8080,9000-9100 (default: every port).", valueName: "ports"))
    var ports: String?
    @Option(help: ArgumentHelp("A ratio like 0.25 (parent-based), a sampler name, or NAME:RATIO.", valueName: "sampling"))
    var sampling: String?
    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let namespace = try cluster.namespace(positional: name)
        let request = try reporting { () throws(CtlError) in try NamespacePolicy(namespace: namespace, ports: ports, sampling: sampling) }
        let ctl = try cluster.client()
        let policy = try await reporting { () async throws(CtlError) in try await ctl.instrument(request) }
        print("namespace \(namespace) instrumented (InstrumentationPolicy \(policy.metadata.name ?? NamespacePolicy.name), generation \(policy.metadata.generation ?? 0))")
    }
}

struct Uninstrument: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop tracing a namespace (deletes the policy instrument created).",
        discussion: """
            Succeeds when the namespace was not instrumented.

            Example:
              periscopectl uninstrument namespace shop
            """)

    @Argument(help: "What to uninstrument: namespace.") var target: Target
    @Argument(help: "The namespace (or -n NAMESPACE).") var name: String?
    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let namespace = try cluster.namespace(positional: name)
        let ctl = try cluster.client()
        let deleted = try await reporting { () async throws(CtlError) in try await ctl.uninstrument(namespace: namespace) }
        print(deleted ? "namespace \(namespace) uninstrumented" : "namespace \(namespace) was not instrumented")
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Policies with matched pods and nodes applied; agents with health, drops and processes.",
        discussion: """
            Exits 3 when a policy is not Ready or an agent is not healthy. With -n, only the \
            policies of that namespace (and every agent).

            Examples:
              periscopectl status
              periscopectl status -n shop
            """)

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let ctl = try cluster.client()
        let namespace = cluster.namespace
        let report = try await reporting { () async throws(CtlError) in try await ctl.status(namespace: namespace) }
        print(report.text, terminator: "")
        if !report.isHealthy { throw ExitCode(ExitStatus.degraded) }
    }
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print periscopectl's version and the API server's.",
        discussion: """
            Without --client, also asks the cluster for its version; exits 2 when it cannot be reached.

            Examples:
              periscopectl version
              periscopectl version --client
            """)

    @Flag(help: "Only periscopectl's own version, without contacting the cluster.") var client = false
    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        print("Client Version: \(Periscopectl.version)")
        guard !client else { return }
        let ctl = try cluster.client()
        let server = try await reporting { () async throws(CtlError) in try await ctl.serverVersion() }
        print("Server Version: \(server.gitVersion)")
    }
}
