extension Policy {
    /// Where a policy document comes from, which decides what to make of the
    /// Kubernetes-only fields `podSelector` and `containers`.
    public enum Environment: Sendable, Hashable {
        /// A file given to a standalone agent: Kubernetes-only fields are errors.
        case standalone
        /// An `InstrumentationPolicy` in a cluster: Kubernetes-only fields are
        /// skipped here (the controller resolves them).
        case cluster
    }

    /// The only `apiVersion` accepted in a full document.
    public static let apiVersion = "periscope.dev/v1alpha1"
    /// The only `kind` accepted in a full document.
    public static let kind = "InstrumentationPolicy"

    /// The policy of one document, whatever text it was parsed from: either a bare spec
    /// (`ports: [8080]`) or a whole resource with `apiVersion`, `kind`, `metadata` and `spec`.
    /// A null document, or a resource without `spec`, is the default policy. Unknown fields
    /// anywhere are errors, so typos are never silently ignored.
    public static func decode(document: DocumentNode, environment: Environment = .standalone) throws(PolicyError) -> Policy {
        let node = PolicyNode(document, path: "")
        if node.isNull { return Policy() }
        guard case .mapping(let entries) = document.content else {
            throw node.error(allowed: "a mapping of policy fields or an InstrumentationPolicy resource")
        }
        let resourceKeys = ["apiVersion", "kind", "metadata", "spec", "status"]
        let isResource = entries.contains { resourceKeys.contains($0.key.scalarText ?? "") }
        guard isResource else {
            return try decode(spec: document, environment: environment)
        }
        var policy = Policy()
        for (key, value) in try node.mapping(knownKeys: resourceKeys) {
            switch key {
            case "apiVersion":
                let text = try value.text(allowed: "\(apiVersion)")
                guard text == apiVersion else {
                    throw value.error(.unsupportedResource, allowed: apiVersion)
                }
            case "kind":
                let text = try value.text(allowed: kind)
                guard text == kind else { throw value.error(.unsupportedResource, allowed: kind) }
            case "spec":
                if !value.isNull { policy = try decodeSpec(value, environment: environment) }
            default:
                // metadata and status belong to the cluster; nothing here depends on them.
                break
            }
        }
        return policy
    }

    /// The policy of a `spec`: an InstrumentationPolicy's as the API server sent it, or a
    /// policy's settings in a NodeInstrumentation. Field paths in errors start with `spec.`.
    public static func decode(spec: DocumentNode, environment: Environment) throws(PolicyError) -> Policy {
        try decodeSpec(PolicyNode(spec, path: "spec"), environment: environment)
    }

    static let specFields = [
        "ports", "executables", "pids", "protocols", "sampling", "exclude", "routes", "capture",
        "export", "resourceAttributes", "propagation", "podSelector", "containers",
    ]

    static func decodeSpec(_ spec: PolicyNode, environment: Environment) throws(PolicyError) -> Policy {
        var policy = Policy()
        for (key, value) in try spec.mapping(knownKeys: specFields, allowed: "a mapping of policy fields") {
            if key == "podSelector" || key == "containers" {
                guard environment == .cluster else {
                    throw PolicyError(
                        code: .clusterOnlyField, field: value.path,
                        message: "only applies to an InstrumentationPolicy in a cluster; "
                            + "remove it from a standalone policy file and select processes with "
                            + "ports, executables or pids",
                        line: value.line, column: value.column
                    )
                }
                continue
            }
            if value.isNull { continue }
            switch key {
            case "ports": policy.ports = try parsePorts(value)
            case "executables": policy.executables = try parseGlobs(value)
            case "pids": policy.pids = try parsePIDs(value)
            case "protocols": policy.protocols = try parseProtocols(value)
            case "sampling": policy.sampler = try parseSampling(value)
            case "exclude": policy.exclude = try parseExclude(value)
            case "routes": policy.routes = try parseRoutes(value)
            case "capture": policy.capture = try parseCapture(value)
            case "export": policy.export = try parseExport(value)
            case "resourceAttributes": policy.resourceAttributes = try parseAttributes(value)
            case "propagation":
                let allowed = "one of " + ContextPropagation.names.joined(separator: ", ")
                guard let mode = ContextPropagation(rawValue: try value.text(allowed: allowed)) else {
                    throw value.error(allowed: allowed)
                }
                policy.propagation = mode
            default: break
            }
        }
        return policy
    }

    static let portAllowed = "an integer from 1 to 65535"

    static func parsePorts(_ node: PolicyNode) throws(PolicyError) -> PortSet {
        let itemAllowed = "a port (8080), a range (\"8000-9000\") or {port: 8000, endPort: 9000}"
        var ranges: [ClosedRange<UInt16>] = []
        for item in try node.sequence(allowed: "a list of ports") {
            switch item.node.content {
            case .mapping:
                var port: Int?
                var endPort: PolicyNode?
                for (key, value) in try item.mapping(knownKeys: ["port", "endPort"]) {
                    if key == "port" { port = try value.integer(in: 1...65535, allowed: portAllowed) }
                    if key == "endPort" { endPort = value }
                }
                guard let port else {
                    throw PolicyError(
                        code: .missingField, field: "\(item.path).port", allowed: portAllowed,
                        line: item.line, column: item.column
                    )
                }
                var end = port
                if let endPort {
                    let allowed = "\(portAllowed), not below port (\(port))"
                    end = try endPort.integer(in: 1...65535, allowed: allowed)
                    guard end >= port else { throw endPort.error(allowed: allowed) }
                }
                ranges.append(UInt16(port)...UInt16(end))
            case .scalar(let scalar, _):
                let text = scalar.trimmingASCIIWhitespace()
                let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
                let numbers = bounds.map { bound -> Int? in
                    let bound = bound.trimmingASCIIWhitespace()
                    guard bound.first != "+", bound.first != "-", let value = PolicyNode.decimal(bound),
                          (1...65535).contains(value) else { return nil }
                    return value
                }
                guard (1...2).contains(numbers.count), let low = numbers.first ?? nil,
                      let high = numbers.last ?? nil, low <= high
                else {
                    throw item.error(allowed: "\(itemAllowed), ports from 1 to 65535, the first not above the last")
                }
                ranges.append(UInt16(low)...UInt16(high))
            default:
                throw item.error(allowed: itemAllowed)
            }
        }
        return PortSet(ranges)
    }

    static func parseGlobs(_ node: PolicyNode) throws(PolicyError) -> [Glob] {
        let allowed = "a list of globs such as \"*nginx*\" or \"/usr/bin/python3*\""
        var globs: [Glob] = []
        for item in try node.sequence(allowed: allowed) {
            let text = try item.text(allowed: "a glob such as \"*nginx*\"")
            do {
                globs.append(try Glob(text))
            } catch {
                var error = error
                error.field = item.path
                error.line = item.line
                error.column = item.column
                throw error
            }
        }
        return globs
    }

    static func parsePIDs(_ node: PolicyNode) throws(PolicyError) -> [Int32] {
        var pids: [Int32] = []
        for item in try node.sequence(allowed: "a list of process ids") {
            let pid = try item.integer(in: 1...Int(Int32.max), allowed: "a process id from 1 to \(Int32.max)")
            pids.append(Int32(pid))
        }
        return pids
    }

    static func parseProtocols(_ node: PolicyNode) throws(PolicyError) -> Set<TracedProtocol> {
        let names = TracedProtocol.allCases.map(\.rawValue).joined(separator: ", ")
        var protocols: Set<TracedProtocol> = []
        for item in try node.sequence(allowed: "a list with some of \(names)") {
            guard case .scalar(let scalar, _) = item.node.content, let value = TracedProtocol(rawValue: scalar) else {
                throw item.error(allowed: "one of \(names)")
            }
            protocols.insert(value)
        }
        return protocols.isEmpty ? Set(TracedProtocol.allCases) : protocols
    }

    static func parseSampling(_ node: PolicyNode) throws(PolicyError) -> Sampler {
        var name = Sampler.default.name
        var ratioNode: PolicyNode?
        for (key, value) in try node.mapping(knownKeys: ["sampler", "ratio"]) {
            if key == "sampler" {
                let allowed = "one of " + Sampler.names.joined(separator: ", ")
                guard case .scalar(let scalar, _) = value.node.content, Sampler.names.contains(scalar) else {
                    throw value.error(allowed: allowed)
                }
                name = scalar
            } else if !value.isNull {
                ratioNode = value
            }
        }
        let needsRatio = name == "traceidratio" || name == "parentbased_traceidratio"
        let ratioAllowed = "a number from 0 to 1, such as \"0.25\""
        guard needsRatio else {
            if let ratioNode {
                throw ratioNode.error(allowed: "no ratio", message: "ratio only applies to traceidratio and parentbased_traceidratio")
            }
            switch name {
            case "always_on": return .alwaysOn
            case "always_off": return .alwaysOff
            case "parentbased_always_off": return .parentBasedAlwaysOff
            default: return .parentBasedAlwaysOn
            }
        }
        guard let ratioNode else {
            throw PolicyError(
                code: .missingField, field: "\(node.path).ratio",
                allowed: "\(ratioAllowed) (required by \(name))", line: node.line, column: node.column
            )
        }
        guard case .scalar(let scalar, _) = ratioNode.node.content,
              let ratio = Double(String(scalar.trimmingASCIIWhitespace())),
              ratio >= 0, ratio <= 1
        else { throw ratioNode.error(allowed: ratioAllowed) }
        return name == "traceidratio" ? .traceIDRatio(ratio) : .parentBasedTraceIDRatio(ratio)
    }

    static func parseExclude(_ node: PolicyNode) throws(PolicyError) -> Exclude {
        var exclude = Exclude()
        for (key, value) in try node.mapping(knownKeys: ["pids", "executables", "routes"]) where !value.isNull {
            switch key {
            case "pids": exclude.pids = try parsePIDs(value)
            case "executables": exclude.executables = try parseGlobs(value)
            default: exclude.routes = try parseRoutes(value)
            }
        }
        return exclude
    }

    static func parseRoutes(_ node: PolicyNode) throws(PolicyError) -> [RoutePattern] {
        var routes: [RoutePattern] = []
        for item in try node.sequence(allowed: "a list of routes such as \"/users/{id}\"") {
            let text = try item.text(allowed: "a route such as \"/users/{id}\" or \"/static/*\"")
            do {
                routes.append(try RoutePattern(text))
            } catch {
                var error = error
                error.field = item.path
                error.line = item.line
                error.column = item.column
                throw error
            }
        }
        return routes
    }

    static func parseCapture(_ node: PolicyNode) throws(PolicyError) -> Capture {
        var capture = Capture()
        let range = Capture.payloadBytesRange
        for (key, value) in try node.mapping(knownKeys: ["payloadBytes", "keepQuery", "keepQueryValues"]) where !value.isNull {
            switch key {
            case "payloadBytes":
                capture.payloadBytes = try value.integer(
                    in: range, allowed: "an integer from \(range.lowerBound) to \(range.upperBound)"
                )
            case "keepQuery":
                capture.keepQuery = try value.bool()
            default:
                capture.keepQueryValues = try value.bool()
            }
        }
        return capture
    }

    static func parseExport(_ node: PolicyNode) throws(PolicyError) -> Export {
        var export = Export()
        for (_, otlp) in try node.mapping(knownKeys: ["otlp"]) where !otlp.isNull {
            let allowed = "an http:// or https:// URL with a host and an optional port from 1 to 65535"
            var endpoint: String?
            for (_, value) in try otlp.mapping(knownKeys: ["endpoint"]) {
                let text = try value.text(allowed: allowed)
                guard HTTPEndpoint(text) != nil else { throw value.error(allowed: allowed) }
                endpoint = text
            }
            guard let endpoint else {
                throw PolicyError(
                    code: .missingField, field: "\(otlp.path).endpoint", allowed: allowed,
                    line: otlp.line, column: otlp.column
                )
            }
            export.otlp = Export.OTLP(endpoint: endpoint)
        }
        return export
    }

    static func parseAttributes(_ node: PolicyNode) throws(PolicyError) -> [String: String] {
        guard case .mapping(let entries) = node.node.content else {
            throw node.error(allowed: "a mapping of attribute names to string values")
        }
        var attributes: [String: String] = [:]
        for entry in entries {
            let key = PolicyNode(entry.key, path: node.path)
            guard case .scalar(let name, _) = entry.key.content, !name.isEmpty else {
                throw key.error(allowed: "a non-empty attribute name")
            }
            let value = PolicyNode(entry.value, path: "\(node.path).\(name)")
            attributes[name] = try value.text(allowed: "a string value")
        }
        return attributes
    }
}
