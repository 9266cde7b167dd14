import Yams

extension DocumentNode {
    /// The tree of a composed YAML node. Quoted and block scalars stay text; a plain scalar
    /// YAML reads as null becomes `.null`. Aliases were resolved by composing; past
    /// `Limits.nodes` values or `Limits.depth` levels, values become `.unsupported`, so that text
    /// written to make the tree explode costs a bounded amount.
    public init(yaml node: Node) {
        var budget = Limits.nodes
        self = Self.convert(node, depth: 0, budget: &budget)
    }

    /// Every document of a YAML stream, as `init(yaml:)` builds it; throws YAML's own errors.
    public static func documents(yaml text: String) throws -> [DocumentNode] {
        let parser = try Parser(yaml: text)
        var documents: [DocumentNode] = []
        while let root = try parser.nextRoot() { documents.append(DocumentNode(yaml: root)) }
        return documents
    }

    private static func convert(_ node: Node, depth: Int, budget: inout Int) -> DocumentNode {
        let line = node.mark?.line
        let column = node.mark?.column
        guard budget > 0 else { return DocumentNode(.unsupported("a value past the \(Limits.nodes)th"), line: line, column: column) }
        budget -= 1
        guard depth < Limits.depth else {
            return DocumentNode(.unsupported("a value nested more than \(Limits.depth) levels deep"), line: line, column: column)
        }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, node.tag == Tag(.null) { return DocumentNode(.null, line: line, column: column) }
            return DocumentNode(.scalar(scalar.string, quoted: scalar.style != .plain), line: line, column: column)
        case .sequence(let sequence):
            var items: [DocumentNode] = []
            for item in sequence {
                guard budget > 0 else {
                    items.append(DocumentNode(.unsupported("a list longer than a document may hold"), line: line, column: column))
                    break
                }
                items.append(convert(item, depth: depth + 1, budget: &budget))
            }
            return DocumentNode(.sequence(items), line: line, column: column)
        case .mapping(let mapping):
            var entries: [Entry] = []
            for (key, value) in mapping {
                guard budget > 0 else {
                    let marker = DocumentNode(.unsupported("a mapping larger than a document may hold"), line: line, column: column)
                    entries.append(Entry(key: marker, value: marker))
                    break
                }
                entries.append(Entry(key: convert(key, depth: depth + 1, budget: &budget), value: convert(value, depth: depth + 1, budget: &budget)))
            }
            return DocumentNode(.mapping(entries), line: line, column: column)
        case .alias:
            return DocumentNode(.unsupported("an alias"), line: line, column: column)
        }
    }
}
