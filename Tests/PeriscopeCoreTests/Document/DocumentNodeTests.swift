import Foundation
import Testing
@testable import PeriscopeCore

@Suite struct DocumentNodeTests {
    static func yaml(_ text: String) throws -> DocumentNode {
        try #require(try DocumentNode.documents(yaml: text).first)
    }

    static func json(_ text: String) throws -> DocumentNode {
        try JSONDecoder().decode(DocumentNode.self, from: Data(text.utf8))
    }

    /// The same document written in YAML and in JSON is one tree: plain scalars and numbers
    /// alike, quoted scalars and strings alike, keys names either way.
    @Test func yamlAndJSONGiveTheSameTree() throws {
        let fromYAML = try Self.yaml("""
            a: 8080
            b: "8080"
            c: true
            d: ~
            e: [1, "x"]
            f: {g: 0.25}
            """)
        let fromJSON = try Self.json(#"{"f": {"g": 0.25}, "e": [1, "x"], "d": null, "c": true, "b": "8080", "a": 8080}"#)
        #expect(fromYAML.withoutPositions == fromJSON)
        #expect(fromJSON == ["a": 8080, "b": "8080", "c": true, "d": nil, "e": [1, "x"], "f": ["g": 0.25]])
        #expect(fromYAML["a"]?.line == 1 && fromYAML["f"]?.line == 6, "YAML keeps where values were written")
    }

    @Test func plainScalarsStayPlainAndQuotedOnesQuoted() throws {
        let node = try Self.yaml("[yes, 'yes', \"0x10\", 0x10, '', ]")
        let expected: DocumentNode = [
            DocumentNode(.scalar("yes", quoted: false)), "yes", "0x10", DocumentNode(.scalar("0x10", quoted: false)), "",
        ]
        #expect(node.withoutPositions == expected)
    }

    @Test func encodingWritesNumbersAndBooleansAsJSONAndTheRestAsStrings() throws {
        let node: DocumentNode = ["port": 8080, "ratio": "0.25", "on": true, "none": nil, "list": [1.5, "x"]]
        let text = String(decoding: try JSONEncoder().encode(node), as: UTF8.self)
        let back = try Self.json(text)
        #expect(back == ["list": [1.5, "x"], "none": nil, "on": true, "port": 8080, "ratio": "0.25"])
        let yamlWords = try Self.yaml("{a: yes, b: 1e3, c: .inf}")
        let written = String(decoding: try JSONEncoder().encode(yamlWords), as: UTF8.self)
        #expect(written.contains(#""a":"yes""#) && written.contains(#""c":".inf""#), "\(written)")
    }

    @Test func aliasesThatMultiplyStopAtTheNodeLimit() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<12 {
            yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let clock = ContinuousClock()
        let start = clock.now
        let node = try Self.yaml(yaml)
        #expect(clock.now - start < .seconds(20))
        guard case .mapping(let entries) = node.content else {
            Issue.record("not a mapping")
            return
        }
        #expect(entries.first?.key.scalarText == "a0")
        #expect(Self.contains(node) { if case .unsupported = $0.content { true } else { false } })
    }

    @Test func nestingPastTheDepthLimitIsMarkedNotFollowed() throws {
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        let node = try Self.yaml(deep)
        var depth = 0
        var current = node
        while case .sequence(let items) = current.content, let first = items.first {
            current = first
            depth += 1
        }
        #expect(depth == DocumentNode.Limits.depth)
        #expect(current.content == .unsupported("a value nested more than \(DocumentNode.Limits.depth) levels deep"))
    }

    static func contains(_ node: DocumentNode, where predicate: (DocumentNode) -> Bool) -> Bool {
        if predicate(node) { return true }
        switch node.content {
        case .sequence(let items): return items.contains { contains($0, where: predicate) }
        case .mapping(let entries): return entries.contains { contains($0.key, where: predicate) || contains($0.value, where: predicate) }
        default: return false
        }
    }
}
