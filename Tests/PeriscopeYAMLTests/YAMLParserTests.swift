import PeriscopeYAML
import Testing

@Suite struct YAMLParserTests {
    @Test func mappingsSequencesAndScalarsKeepTheirOrderStyleAndPlace() throws {
        let root = try #require(try YAML.document("b: 1\na:\n  - 'x'\n  - \"y\"\n  - |\n    text\nc: ~\n"))
        guard case .mapping(let pairs) = root.kind else { Issue.record("not a mapping: \(root)"); return }
        #expect(pairs.map(\.key.kind) == ["b", "a", "c"].map { .scalar(.init(text: $0)) })
        #expect(pairs[0].value.kind == .scalar(.init(text: "1")))
        #expect(pairs[1].value.line == 3 && pairs[1].value.column == 3)
        guard case .sequence(let items) = pairs[1].value.kind else { Issue.record("not a sequence"); return }
        #expect(items.map(\.kind) == [
            .scalar(.init(text: "x", style: .singleQuoted)), .scalar(.init(text: "y", style: .doubleQuoted)),
            .scalar(.init(text: "text\n", style: .literal)),
        ])
        guard case .scalar(let null) = pairs[2].value.kind else { Issue.record("not a scalar"); return }
        #expect(null.isNull)
    }

    @Test func everyDocumentOfAStreamAnEmptyOneAsANullScalar() throws {
        let documents = try YAML.documents("a: 1\n---\n---\n- 2\n")
        #expect(documents.count == 3)
        guard case .scalar(let empty) = documents[1].kind else { Issue.record("not a scalar"); return }
        #expect(empty.isNull)
        #expect(try YAML.documents("").isEmpty)
        #expect(try YAML.document("") == nil)
    }

    @Test func anAliasIsItsAnchorsNodeSharedSoALaughingDocumentIsCheapToParse() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<30 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let root = try #require(try YAML.document(text))
        guard case .mapping(let pairs) = root.kind, case .sequence(let items) = pairs[29].value.kind,
            case .sequence(let inner) = items[9].kind
        else {
            Issue.record("unexpected shape")
            return
        }
        #expect(items.count == 10 && inner.count == 10)
        #expect(items[3].line == 30)
        let scalar = try #require(try YAML.document("a: &x {b: 1}\nc: *x\n"))
        guard case .mapping(let two) = scalar.kind else { Issue.record("not a mapping"); return }
        guard case .mapping(let first) = two[0].value.kind, case .mapping(let second) = two[1].value.kind else {
            Issue.record("not mappings")
            return
        }
        #expect(first == second)
    }

    @Test func anAliasOfAnUndefinedAnchorAndASecondDocumentWhereOneIsExpectedAreErrors() {
        #expect(throws: YAMLError.self) { try YAML.documents("a: *nothing\n") }
        #expect(throws: YAMLError.self) { try YAML.documents("a: &x 1\n---\nb: *x\n") }
        #expect(throws: YAMLError.self) { try YAML.document("a: 1\n---\nb: 2\n") }
    }

    @Test func syntaxErrorsAndDuplicateKeysSayWhere() {
        #expect(throws: YAMLError.self) { try YAML.documents("a: [1, 2\n") }
        do {
            _ = try YAML.documents("a: 1\nb:\n  c: 2\n  c: 3\n")
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.message.contains("duplicate key \"c\""))
            #expect(error.line == 4 && error.column == 3)
        }
        do {
            _ = try YAML.documents("key: \"unterminated\n")
            Issue.record("an unterminated string was accepted")
        } catch {
            #expect(error.line != nil)
        }
    }

    @Test func nestingDeeperThanTheLimitIsRefusedNotBuilt() {
        let text = String(repeating: "[", count: YAML.maximumDepth + 1) + String(repeating: "]", count: YAML.maximumDepth + 1)
        #expect(throws: YAMLError.self) { try YAML.documents(text) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try YAML.documents(fine) }
    }

    @Test func binaryAndInvalidUTF8AreErrorsNotCrashes() {
        #expect(throws: YAMLError.self) { try YAML.documents(String(decoding: [0xFF, 0xFE, 0x00, 0x41], as: UTF8.self) + "\u{0}") }
    }

    @Test(arguments: [
        ("~", .null), ("null", .null), ("", .null), ("true", .bool(true)), ("Off", .bool(false)),
        ("42", .int(42)), ("-0x1F", .int(-31)), ("0o17", .int(15)), ("017", .int(15)), ("0b101", .int(5)), ("1_000", .int(1000)),
        ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)), ("9223372036854775808", .double(9223372036854775808)),
        ("0.25", .double(0.25)), ("1e3", .double(1000)), ("-.inf", .double(-.infinity)), ("1.2.3", .string("1.2.3")),
        ("08x", .string("08x")), ("yes please", .string("yes please")), ("-", .string("-")),
    ] as [(String, YAMLNode.Scalar.Resolved)])
    func plainScalarsResolveByYAML11(text: String, expected: YAMLNode.Scalar.Resolved) {
        #expect(YAMLNode.Scalar(text: text).resolved == expected)
    }

    @Test func quotedScalarsAndStrTagsAreAlwaysText() {
        #expect(YAMLNode.Scalar(text: "42", style: .doubleQuoted).resolved == .string("42"))
        #expect(YAMLNode.Scalar(text: "true", tag: "tag:yaml.org,2002:str").resolved == .string("true"))
    }
}
