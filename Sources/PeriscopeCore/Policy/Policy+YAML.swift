import PeriscopeYAML

extension Policy {
    /// Parses a policy from YAML (or JSON) text and decodes it as `decode(document:environment:)`
    /// does. An empty text is the default policy.
    public static func parse(yaml: String, environment: Environment = .standalone) throws(PolicyError) -> Policy {
        let root: YAMLNode?
        do {
            root = try YAML.document(yaml)
        } catch {
            throw PolicyError(yamlError: error)
        }
        guard let root else { return Policy() }
        return try decode(document: DocumentNode(yaml: root), environment: environment)
    }

    /// Parses every document of a YAML stream (documents separated by `---`), each decoded as
    /// `parse(yaml:environment:)` would. Empty documents (a stray or trailing `---`) are
    /// skipped rather than read as the default policy, which would trace everything; text
    /// without any other document gives one default policy. An error names the document
    /// when there is more than one.
    public static func parseDocuments(yaml: String, environment: Environment = .standalone) throws(PolicyError) -> [Policy] {
        try parseNamedDocuments(yaml: yaml, environment: environment).map(\.policy)
    }

    /// `parseDocuments(yaml:environment:)` with each policy's name: its `metadata.name` when the
    /// document is a whole resource that has one, else `document-N` (N counted from 1, empty
    /// documents included).
    public static func parseNamedDocuments(yaml: String, environment: Environment = .standalone) throws(PolicyError)
        -> [(name: String, policy: Policy)]
    {
        let documents: [DocumentNode]
        do {
            documents = try DocumentNode.documents(yaml: yaml)
        } catch {
            throw PolicyError(yamlError: error)
        }
        var policies: [(name: String, policy: Policy)] = []
        for (index, document) in documents.enumerated() where !document.isNull {
            do {
                let name = document["metadata"]?["name"]?.scalarText ?? "document-\(index + 1)"
                policies.append((name, try decode(document: document, environment: environment)))
            } catch {
                guard documents.count > 1 else { throw error }
                var located = error
                located.document = index + 1
                throw located
            }
        }
        return policies.isEmpty ? [("document-1", Policy())] : policies
    }
}

extension PolicyError {
    /// Carries over what the YAML parser knows: the problem and, for syntax errors, where it is.
    init(yamlError: YAMLError) {
        self.init(code: .invalidYAML, field: "", message: yamlError.message, line: yamlError.line, column: yamlError.column)
    }
}
