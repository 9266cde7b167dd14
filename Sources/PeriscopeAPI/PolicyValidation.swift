import PeriscopeCore
import PeriscopeKube

/// The checks a CRD schema cannot make, on top of the policy decoder's own
/// (`PeriscopeCore.Policy.decode(spec:environment:)`): duplicate and overlapping ports, globs
/// that do not compile, excludes that contradict the policy, malformed selector expressions.
public enum PolicyValidation {
    /// The policy for a spec, decoded once, or why it cannot be accepted.
    public static func validate(_ spec: InstrumentationPolicy.Spec) -> Result<Policy, PolicyRejection> {
        let selector: PodSelector
        do {
            selector = try spec.document["podSelector"].map { try PodSelector(document: $0) } ?? PodSelector()
        } catch {
            return .failure(PolicyRejection(.invalidSelector, "\(error)"))
        }
        if let rejection = checkSelector(selector) ?? checkContainers(spec) ?? checkPorts(spec) {
            return .failure(rejection)
        }
        let policy: Policy
        do {
            policy = try spec.policy()
        } catch {
            let reason: PolicyRejection.Reason = error.field.contains("executables") ? .invalidGlob : .invalidSpec
            return .failure(PolicyRejection(reason, "\(error)"))
        }
        if let rejection = checkExcludes(policy) { return .failure(rejection) }
        return .success(policy)
    }

    static func checkSelector(_ selector: PodSelector) -> PolicyRejection? {
        for (index, expression) in (selector.matchExpressions ?? []).enumerated() {
            let field = "spec.podSelector.matchExpressions[\(index)]"
            let values = expression.values ?? []
            let needsValues = ["In", "NotIn"].contains(expression.operator)
            guard needsValues || ["Exists", "DoesNotExist"].contains(expression.operator) else {
                return PolicyRejection(.invalidSelector, "\(field): unknown operator \(expression.operator); use In, NotIn, Exists or DoesNotExist")
            }
            if needsValues, values.isEmpty {
                return PolicyRejection(
                    .invalidSelector, "\(field): operator \(expression.operator) needs at least one value; list the values of \(expression.key) to match")
            }
            if !needsValues, !values.isEmpty {
                return PolicyRejection(
                    .invalidSelector, "\(field): operator \(expression.operator) takes no values; remove values or use In/NotIn")
            }
        }
        return nil
    }

    static func checkContainers(_ spec: InstrumentationPolicy.Spec) -> PolicyRejection? {
        if let containers = spec.document["containers"], !containers.isNull {
            guard case .sequence(let items) = containers.content, items.allSatisfy({ $0.scalarText != nil }) else {
                return PolicyRejection(.invalidSpec, "spec.containers: expected a list of container names")
            }
        }
        var seen: Set<String> = []
        for (index, name) in (spec.containers ?? []).enumerated() where !seen.insert(name).inserted {
            return PolicyRejection(.duplicateContainers, "spec.containers[\(index)]: \(name) is listed twice; list each container once")
        }
        return nil
    }

    /// `spec.ports` entries written as `{port, endPort}` (the API's form), each with its index;
    /// other entries are left to the policy decoder, which explains what is wrong with them.
    static func portRanges(_ spec: InstrumentationPolicy.Spec) -> [(index: Int, port: Int, end: Int)] {
        guard case .sequence(let items)? = spec.document["ports"]?.content else { return [] }
        return items.enumerated().compactMap { index, item in
            guard let port = item["port"]?.scalarText.flatMap({ Int($0) }) else { return nil }
            let end = item["endPort"].flatMap { $0.isNull ? nil : $0.scalarText.flatMap { Int($0) } } ?? port
            return (index, port, end)
        }
    }

    static func checkPorts(_ spec: InstrumentationPolicy.Spec) -> PolicyRejection? {
        let ports = portRanges(spec)
        func text(_ range: (index: Int, port: Int, end: Int)) -> String {
            range.end == range.port ? "\(range.port)" : "\(range.port)-\(range.end)"
        }
        for (i, first) in ports.enumerated() {
            guard first.end >= first.port else { continue }  // the policy decoder explains this one
            for second in ports[(i + 1)...] where second.end >= second.port {
                if first.port == second.port, first.end == second.end {
                    return PolicyRejection(
                        .duplicatePorts, "spec.ports[\(second.index)] (\(text(second))) repeats spec.ports[\(first.index)]; remove one of them")
                }
                if first.port <= second.end, second.port <= first.end {
                    return PolicyRejection(
                        .overlappingPorts,
                        "spec.ports[\(first.index)] (\(text(first))) and spec.ports[\(second.index)] (\(text(second))) overlap; merge them into one range or make them disjoint")
                }
            }
        }
        return nil
    }

    static func checkExcludes(_ policy: Policy) -> PolicyRejection? {
        let excluded = Set(policy.exclude.pids)
        if let pid = policy.pids.first(where: excluded.contains) {
            return PolicyRejection(
                .conflictingExcludes, "spec.exclude.pids lists \(pid), which spec.pids asks to trace; remove it from one of the two")
        }
        let included = Set(policy.executables.map(\.pattern))
        if let glob = policy.exclude.executables.first(where: { included.contains($0.pattern) }) {
            return PolicyRejection(
                .conflictingExcludes,
                "spec.exclude.executables lists \"\(glob.pattern)\", which spec.executables asks to trace; remove it from one of the two")
        }
        if let glob = policy.exclude.executables.first(where: { $0.pattern.allSatisfy { $0 == "*" } }) {
            return PolicyRejection(
                .conflictingExcludes, "spec.exclude.executables \"\(glob.pattern)\" excludes every process, so nothing would be traced; narrow it")
        }
        let routes = Set(policy.routes.map(\.pattern))
        if let route = policy.exclude.routes.first(where: { routes.contains($0.pattern) }) {
            return PolicyRejection(
                .conflictingExcludes, "spec.exclude.routes lists \"\(route.pattern)\", which spec.routes reports; remove it from one of the two")
        }
        return nil
    }
}
