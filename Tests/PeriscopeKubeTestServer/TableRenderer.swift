import Foundation
import PeriscopeKube

/// `meta.k8s.io/v1` Table responses for `kubectl get`, with a CRD's printer columns.
enum TableRenderer {
    static func table(_ resource: ServedResource, list: JSONValue) -> JSONValue {
        var columns: [JSONValue] = [
            ["name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0]
        ]
        var paths: [String] = []
        for column in resource.printerColumns {
            columns.append([
                "name": column["name"] ?? "", "type": column["type"] ?? "string", "format": column["format"] ?? "",
                "description": column["description"] ?? "", "priority": column["priority"] ?? 0,
            ])
            paths.append(column["jsonPath"]?.stringValue ?? "")
        }
        if resource.type == .pods {
            columns.append(["name": "Status", "type": "string", "format": "", "description": "The pod phase.", "priority": 0])
            paths.append(".status.phase")
            columns.append(["name": "Node", "type": "string", "format": "", "description": "The node the pod runs on.", "priority": 0])
            paths.append(".spec.nodeName")
        }
        if !paths.contains(".metadata.creationTimestamp") {
            columns.append(["name": "Age", "type": "date", "format": "", "description": "CreationTimestamp.", "priority": 0])
            paths.append(".metadata.creationTimestamp")
        }
        let rows: [JSONValue] = (list["items"]?.arrayValue ?? []).map { object in
            var cells: [JSONValue] = [object["metadata"]?["name"] ?? ""]
            cells += paths.map { evaluate($0, on: object) ?? .null }
            var metadata = object["metadata"] ?? [:]
            metadata["managedFields"] = nil
            return [
                "cells": .array(cells),
                "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata],
            ]
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": ["resourceVersion": list["metadata"]?["resourceVersion"] ?? ""],
            "columnDefinitions": .array(columns), "rows": .array(rows),
        ]
    }

    /// Dotted JSONPath with `[?(@.key=="value")]` filters on lists, as printer columns use.
    static func evaluate(_ path: String, on object: JSONValue) -> JSONValue? {
        var current: JSONValue? = object
        var remaining = Substring(path.hasPrefix(".") ? String(path.dropFirst()) : path)
        while !remaining.isEmpty, let value = current {
            if remaining.hasPrefix("[?(@.") {
                guard let end = remaining.range(of: ")]") else { return nil }
                let condition = remaining[remaining.index(remaining.startIndex, offsetBy: 5)..<end.lowerBound]
                let parts = condition.components(separatedBy: "==")
                guard parts.count == 2 else { return nil }
                let wanted = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
                current = value.arrayValue?.first { $0[parts[0]]?.displayString == wanted }
                remaining = remaining[end.upperBound...]
                if remaining.hasPrefix(".") { remaining = remaining.dropFirst() }
                continue
            }
            let end = remaining.firstIndex(where: { $0 == "." || $0 == "[" }) ?? remaining.endIndex
            current = value[String(remaining[..<end])]
            remaining = remaining[end...]
            if remaining.hasPrefix(".") { remaining = remaining.dropFirst() }
        }
        return current
    }
}
