/// kubectl's global flags (`--kubeconfig`, `--context`, `-n/--namespace`), accepted before the
/// subcommand as well as after it: `periscopectl --kubeconfig FILE status` means
/// `periscopectl status --kubeconfig FILE`.
public enum GlobalFlags {
    /// Flags that take a value, long and short spellings.
    public static let withValue: Set<String> = ["--kubeconfig", "--context", "--namespace", "-n"]

    /// `arguments` (without the program name) with every global flag written before the first
    /// subcommand moved right after it, values kept with their flags and everything else in
    /// order. Arguments with no subcommand, or only flags after it, are returned as they are.
    public static func normalized(_ arguments: [String], subcommands: Set<String>) -> [String] {
        var leading: [String] = []
        var moved: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" || subcommands.contains(argument) { break }
            if withValue.contains(argument), index + 1 < arguments.count {
                moved += [argument, arguments[index + 1]]
                index += 2
                continue
            }
            if let equals = argument.firstIndex(of: "="), withValue.contains(String(argument[..<equals])) {
                moved.append(argument)
            } else {
                leading.append(argument)
            }
            index += 1
        }
        guard index < arguments.count, arguments[index] != "--", !moved.isEmpty else { return arguments }
        return leading + [arguments[index]] + moved + arguments[(index + 1)...]
    }
}
