import PeriscopeCtl
import Testing

@Suite struct GlobalFlagsTests {
    static let subcommands: Set<String> = ["instrument", "uninstrument", "status", "version"]

    @Test(arguments: [
        (["--kubeconfig", "k", "status"], ["status", "--kubeconfig", "k"]),
        (["--kubeconfig=k", "--context", "c", "status"], ["status", "--kubeconfig=k", "--context", "c"]),
        (["-n", "shop", "instrument", "namespace"], ["instrument", "-n", "shop", "namespace"]),
        (["--namespace=shop", "status", "-n", "x"], ["status", "--namespace=shop", "-n", "x"]),
        (["--context", "c", "instrument", "namespace", "shop", "--ports", "80"], ["instrument", "--context", "c", "namespace", "shop", "--ports", "80"]),
        // Nothing to move, or nothing to move it after: left alone for the parser to judge.
        (["status", "--kubeconfig", "k"], ["status", "--kubeconfig", "k"]),
        (["--help"], ["--help"]),
        (["--kubeconfig", "k"], ["--kubeconfig", "k"]),
        (["--kubeconfig"], ["--kubeconfig"]),
        (["--kubeconfig", "k", "--", "status"], ["--kubeconfig", "k", "--", "status"]),
        // A flag's value that happens to be a subcommand's name stays a value.
        (["--context", "status", "status"], ["status", "--context", "status"]),
        ([], []),
    ])
    func globalFlagsBeforeTheSubcommandMoveAfterIt(arguments: [String], expected: [String]) {
        #expect(GlobalFlags.normalized(arguments, subcommands: Self.subcommands) == expected)
    }
}
