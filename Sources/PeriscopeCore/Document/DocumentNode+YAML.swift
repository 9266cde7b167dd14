import PeriscopeYAML

extension DocumentNode {
    /// The tree of a parsed YAML node. Quoted and block scalars stay text; a plain scalar YAML
    /// reads as null becomes `.null`. Past `Limits.nodes` values or `Limits.depth` levels,
    /// values become `.unsupported`, so that text written to make the tree explode through
    /// aliases costs a bounded amount.
    public init(yaml node: YAMLNode) {
        var budget = Limits.nodes
        self = Self.convert(node, depth: 0, budget: &budget)
    }

    /// Every document of a YAML stream, as `init(yaml:)` builds it; throws YAML's own errors.
    public static func documents(yaml text: String) throws(YAMLError) -> [DocumentNode] {
        try YAML.documents(text).map { DocumentNode(yaml: $0) }
    }

    private static func convert(_ node: YAMLNode, depth: Int, budget: inout Int) -> DocumentNode {
        let line = node.line
        let column = node.column
        guard budget > 0 else { return DocumentNode(.unsupported("a value past the \(Limits.nodes)th"), line: line, column: column) }
        budget -= 1
        guard depth < Limits.depth else {
            return DocumentNode(.unsupported("a value nested more than \(Limits.depth) levels deep"), line: line, column: column)
        }
        switch node.kind {
        case .scalar(let scalar):
            if scalar.isNull { return DocumentNode(.null, line: line, column: column) }
            return DocumentNode(.scalar(scalar.text, quoted: scalar.style != .plain), line: line, column: column)
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
            for pair in mapping {
                guard budget > 0 else {
                    let marker = DocumentNode(.unsupported("a mapping larger than a document may hold"), line: line, column: column)
                    entries.append(Entry(key: marker, value: marker))
                    break
                }
                entries.append(Entry(key: convert(pair.key, depth: depth + 1, budget: &budget), value: convert(pair.value, depth: depth + 1, budget: &budget)))
            }
            return DocumentNode(.mapping(entries), line: line, column: column)
        }
    }
}
