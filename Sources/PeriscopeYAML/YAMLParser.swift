import CYAML

/// YAML text to nodes, through libyaml's event parser. An alias becomes the node its anchor names,
/// shared rather than copied (so a document of aliases of aliases costs what its text weighs; a
/// consumer walking the tree bounds its own walk). Duplicate keys in a mapping, aliases of
/// anchors not defined before, nesting deeper than `maximumDepth` and libyaml's own errors are
/// `YAMLError`s with the place they were found.
public enum YAML {
    /// How deep collections may nest: deeper text is refused rather than built.
    public static let maximumDepth = 512

    /// Every document of a YAML stream (`---` separated); an empty document is an empty plain
    /// scalar, which reads as null.
    public static func documents(_ text: String) throws(YAMLError) -> [YAMLNode] {
        // A terminating zero keeps the buffer's address non-nil for empty text; libyaml is given
        // the length without it.
        var bytes = Array(text.utf8)
        bytes.append(0)
        return try bytes.withUnsafeBufferPointer { buffer throws(YAMLError) in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) != 0 else { throw YAMLError("cannot start the YAML parser: out of memory") }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count - 1)
            var builder = Builder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else { throw error(of: parser) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.add(event)
            }
            return builder.documents
        }
    }

    /// The one document of `text`, nil when it has none; more than one is an error.
    public static func document(_ text: String) throws(YAMLError) -> YAMLNode? {
        let all = try documents(text)
        guard all.count <= 1 else {
            throw YAMLError("expected a single document in the stream but found another document", line: all[1].line, column: all[1].column)
        }
        return all.first
    }

    private static func error(of parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = parser.context.map { String(cString: $0) }
        let message = context.map { "\(problem) \($0)" } ?? problem
        guard parser.error == YAML_SCANNER_ERROR || parser.error == YAML_PARSER_ERROR else { return YAMLError(message) }
        return YAMLError(message, line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
    }

    /// Nodes from events: collections open on a stack, each finished one added to its parent.
    private struct Builder {
        private struct Open {
            var node: YAMLNode
            var anchor: String?
            var items: [YAMLNode] = []
            var pairs: [YAMLNode.Pair] = []
            var key: YAMLNode?
            var keys: Set<String> = []
        }

        var documents: [YAMLNode] = []
        private var open: [Open] = []
        /// The anchored nodes of the document being read.
        private var anchors: [String: YAMLNode] = [:]

        mutating func add(_ event: yaml_event_t) throws(YAMLError) {
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = scalar.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self) } ?? ""
                let node = YAMLNode(.scalar(.init(text: text, style: Self.style(scalar.style), tag: scalar.tag.map { String(cString: $0) })), line: line, column: column)
                if let anchor = scalar.anchor { anchors[String(cString: anchor)] = node }
                try finish(node)
            case YAML_ALIAS_EVENT:
                let anchor = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                guard var node = anchors[anchor] else {
                    throw YAMLError("found undefined alias \"\(anchor)\"", line: line, column: column)
                }
                node.line = line
                node.column = column
                try finish(node)
            case YAML_SEQUENCE_START_EVENT:
                try push(YAMLNode(.sequence([]), line: line, column: column), anchor: event.data.sequence_start.anchor)
            case YAML_MAPPING_START_EVENT:
                try push(YAMLNode(.mapping([]), line: line, column: column), anchor: event.data.mapping_start.anchor)
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard var closed = open.popLast() else { throw YAMLError("a collection ends that never started", line: line, column: column) }
                switch closed.node.kind {
                case .sequence: closed.node.kind = .sequence(closed.items)
                default: closed.node.kind = .mapping(closed.pairs)
                }
                if let anchor = closed.anchor { anchors[anchor] = closed.node }
                try finish(closed.node)
            default:
                break
            }
        }

        private mutating func push(_ node: YAMLNode, anchor: UnsafeMutablePointer<yaml_char_t>?) throws(YAMLError) {
            guard open.count < YAML.maximumDepth else {
                throw YAMLError("collections nested more than \(YAML.maximumDepth) levels deep", line: node.line, column: node.column)
            }
            open.append(Open(node: node, anchor: anchor.map { String(cString: $0) }))
        }

        private mutating func finish(_ node: YAMLNode) throws(YAMLError) {
            guard let top = open.indices.last else {
                documents.append(node)
                return
            }
            if case .sequence = open[top].node.kind {
                open[top].items.append(node)
            } else if let key = open[top].key {
                open[top].pairs.append(.init(key: key, value: node))
                open[top].key = nil
            } else {
                if case .scalar(let scalar) = node.kind, !open[top].keys.insert(scalar.text).inserted {
                    throw YAMLError("duplicate key \"\(scalar.text)\" in a mapping", line: node.line, column: node.column)
                }
                open[top].key = node
            }
        }

        private static func style(_ style: yaml_scalar_style_t) -> YAMLNode.Scalar.Style {
            switch style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: .literal
            case YAML_FOLDED_SCALAR_STYLE: .folded
            default: .plain
            }
        }
    }
}
