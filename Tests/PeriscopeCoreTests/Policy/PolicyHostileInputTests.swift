import Testing
@testable import PeriscopeCore

/// Policy files come from people and tools that make mistakes; none of them may crash
/// or hang the agent.
@Suite struct PolicyHostileInputTests {
    static let junkValues = [
        "~", "null", "''", "\"\"", "true", "-1", "0", "-9223372036854775808", "9223372036854775807",
        "99999999999999999999999999999999", "1e308", "-1e308", ".inf", "-.inf", ".nan", "0x7fffffff",
        "0o777", "1_000", "1:30", "3.5", "[]", "{}", "[[[[]]]]", "{a: {b: {c: [1, {d: ~}]}}}",
        "[~, ~]", "[1, [2, [3]]]", "[{port: ~}]", "[{port: [1]}]", "[{endPort: 1, port: {}}]",
        "!!str 5", "!!int '12'", "!!float 1", "!!map {}", "!!seq []", "!!bool yes", "!custom x",
        "\"\\u0000\"", "\"\\t\\n\"", "'\u{202E}evil'", "2001-12-14", "!!binary aGVsbG8=",
    ]

    static let fields = [
        "ports", "executables", "pids", "protocols", "sampling", "exclude", "routes", "capture",
        "export", "resourceAttributes", "sampling.sampler", "sampling.ratio", "exclude.pids",
        "exclude.executables", "exclude.routes", "capture.payloadBytes", "capture.keepQuery", "capture.keepQueryValues",
        "export.otlp", "export.otlp.endpoint",
    ]

    static func document(field: String, value: String) -> String {
        let parts = field.split(separator: ".")
        var yaml = ""
        for (depth, part) in parts.enumerated() {
            yaml += String(repeating: "  ", count: depth) + part + ":"
            yaml += depth == parts.count - 1 ? " \(value)\n" : "\n"
        }
        return yaml
    }

    @Test(arguments: fields)
    func junkInAnyFieldIsAnErrorOrADefaultNeverACrash(field: String) {
        for value in Self.junkValues {
            let yaml = Self.document(field: field, value: value)
            do {
                _ = try Policy.parse(yaml: yaml)
            } catch {
                #expect(!error.description.isEmpty)
                #expect(error.field.hasPrefix("spec.\(field)"), "\(yaml)")
            }
        }
    }

    @Test(arguments: [10, 200, 5000])
    func deeplyNestedJunkIsRejected(depth: Int) {
        let flow = "ports: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let block = (0..<depth).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        let mixed = "resourceAttributes: " + String(repeating: "{a: [", count: depth) + String(repeating: "]}", count: depth)
        for yaml in [flow, block, mixed] {
            #expect(throws: PolicyError.self) { try Policy.parse(yaml: yaml) }
        }
    }

    @Test func exponentialAliasesInValuesAreRejectedWithoutExpandingThem() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<12 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(i): &a\(i) [\(refs)]\n"
        }
        yaml += "ports: *a11\n"
        let error = #expect(throws: PolicyError.self) { try Policy.parse(yaml: yaml) }
        #expect(error?.code == .unknownField)
    }

    @Test func aliasesToValidValuesWork() throws {
        let policy = try Policy.parse(yaml: """
            resourceAttributes: {team: &team payments, owner: *team}
            """)
        #expect(policy.resourceAttributes == ["team": "payments", "owner": "payments"])
    }

    @Test func hugeListsAndStringsAreHandled() throws {
        let ports = (1...20000).map(String.init).joined(separator: ", ")
        let policy = try Policy.parse(yaml: "ports: [\(ports)]")
        #expect(policy.ports.ranges == [1...20000])
        let long = String(repeating: "x", count: 100_000)
        let error = #expect(throws: PolicyError.self) { try Policy.parse(yaml: "ports: [\(long)]") }
        #expect((error?.value?.count ?? .max) < 100)
    }

    @Test func randomTextNeverCrashesTheParser() {
        var generator = SeededGenerator(seed: 0x5EED)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 :-[]{},\"'*&!?|>#%@`~\n\t\\/.=ports sampling exclude")
        var parsed = 0
        for _ in 0..<3000 {
            let length = Int.random(in: 0..<120, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            if (try? Policy.parse(yaml: text)) != nil { parsed += 1 }
        }
        #expect(parsed < 3000)
    }

    @Test func randomSpecsBuiltFromFieldsAndJunkNeverCrash() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            var yaml = ""
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let field = Self.fields.filter { !$0.contains(".") }.randomElement(using: &generator)!
                let value = Self.junkValues.randomElement(using: &generator)!
                if !yaml.contains("\(field):") { yaml += "\(field): \(value)\n" }
            }
            _ = try? Policy.parse(yaml: yaml)
        }
    }
}
