/// One node of a parsed YAML document, as written: scalars keep their text and style, mappings
/// keep their order, an alias is the node its anchor names (shared, not copied).
public struct YAMLNode: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case scalar(Scalar)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    public struct Scalar: Sendable, Equatable {
        public enum Style: Sendable, Equatable {
            case plain, singleQuoted, doubleQuoted, literal, folded
        }

        public var text: String
        public var style: Style
        /// The explicit tag (`!!str` as `tag:yaml.org,2002:str`), nil when none was written.
        public var tag: String?

        public init(text: String, style: Style = .plain, tag: String? = nil) {
            self.text = text
            self.style = style
            self.tag = tag
        }
    }

    public struct Pair: Sendable, Equatable {
        public var key: YAMLNode
        public var value: YAMLNode

        public init(key: YAMLNode, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    public var kind: Kind
    /// Where the node starts, counted from 1.
    public var line: Int
    public var column: Int

    public init(_ kind: Kind, line: Int = 1, column: Int = 1) {
        self.kind = kind
        self.line = line
        self.column = column
    }
}
