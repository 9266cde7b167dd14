import Foundation
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

/// One recorded exchange of Tests/Fixtures/kube-api.
struct Transcript: CustomStringConvertible {
    var file: String
    var method: String
    var path: String
    var anonymous: Bool
    var contentType: String?
    var requestBody: String
    var status: Int
    var responseBody: String

    var description: String { file }

    init(file: String, text: String) {
        self.file = file
        var requestLines: [String] = []
        var responseLines: [String] = []
        var inBody = false
        var requestLine = ""
        var contentType: String?
        var status = 0
        var bodyStarted = false
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("> ") || line == ">" {
                let content = line == ">" ? "" : String(line.dropFirst(2))
                if requestLine.isEmpty {
                    requestLine = content
                } else if !inBody, content.lowercased().hasPrefix("content-type:") {
                    contentType = content.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
                } else if content.isEmpty, !inBody {
                    inBody = true
                } else {
                    requestLines.append(content)
                }
            } else if line.hasPrefix("< HTTP ") {
                status = Int(line.dropFirst(7).prefix(3)) ?? 0
            } else if line == "<" {
                bodyStarted = true
            } else if bodyStarted {
                responseLines.append(line)
            }
        }
        let parts = requestLine.split(separator: " ")
        method = String(parts[0])
        path = String(parts[1])
        anonymous = requestLine.contains("(no token)")
        self.contentType = contentType
        requestBody = requestLines.joined(separator: "\n")
        self.status = status
        responseBody = responseLines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var responseJSON: JSONValue? { try? JSONValue(json: Data(responseBody.utf8)) }
    var isWatch: Bool { path.contains("watch=1") }

    static func all() throws -> [Transcript] {
        let directory = Fixtures.transcriptDirectory
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".txt") && $0.first!.isNumber }.sorted()
            .map { Transcript(file: $0, text: try String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8)) }
    }
}

@Suite(.serialized)
struct TranscriptReplayTests {
    /// Replays every transcript in order against one test server whose revisions start where the
    /// recording's did, and compares status code, Status reason/message/causes, the objects'
    /// server-managed fields, list pages and watch event framing.
    @Test func everyTranscriptIsAnsweredLikeTheRealAPIServer() async throws {
        let transcripts = try Transcript.all()
        #expect(transcripts.count >= 27)
        // The recording's namespace got revision 186; the test server creates two namespaces first.
        let server = try Fixtures.server(initialRevision: 183)
        defer { server.stop() }
        let transport = CurlTransport()

        @Sendable func send(_ method: String, _ path: String, body: String? = nil, contentType: String? = nil, token: Bool = true)
            async throws -> KubeHTTPResponse
        {
            var headers = ["Accept": "application/json"]
            if token { headers["Authorization"] = "Bearer test-token" }
            if let contentType { headers["Content-Type"] = contentType }
            return try await transport.send(
                KubeHTTPRequest(method: method, url: server.url + path, headers: headers, body: body.map { Data($0.utf8) }, timeout: .seconds(30)))
        }

        for transcript in transcripts {
            // Writes the recording made between exchanges, which its lists and watch show.
            if transcript.file.hasPrefix("16-") {
                for index in 0..<5 {
                    _ = try await send(
                        "POST", "/apis/periscope.dev/v1alpha1/namespaces/transcripts/instrumentationpolicies",
                        body: #"{"apiVersion":"periscope.dev/v1alpha1","kind":"InstrumentationPolicy","metadata":{"name":"p\#(index)","labels":{"team":"shop"}},"spec":{"ports":[{"port":\#(8000 + index)}]}}"#,
                        contentType: "application/json")
                }
            }
            if transcript.isWatch {
                try await replayWatch(transcript, server: server, transport: transport, send: { try await send($0, $1, body: $2, contentType: $3, token: $4) })
                continue
            }
            let path = transcript.path
            let response = try await send(
                transcript.method, path, body: transcript.requestBody.isEmpty ? nil : transcript.requestBody, contentType: transcript.contentType,
                token: !transcript.anonymous)
            #expect(response.status == transcript.status, "\(transcript): status")
            let actual = try JSONValue(json: response.body)
            guard let expected = transcript.responseJSON else {
                Issue.record("\(transcript): the recorded body is not JSON")
                continue
            }
            compare(expected, actual, transcript)
        }
    }

    func compare(_ expected: JSONValue, _ actual: JSONValue, _ transcript: Transcript) {
        let kind = expected["kind"]?.stringValue ?? ""
        #expect(actual["kind"] == expected["kind"], "\(transcript): kind")
        switch kind {
        case "Status":
            for field in ["status", "reason", "code"] {
                #expect(actual[field] == expected[field], "\(transcript): Status \(field)")
            }
            if !transcript.file.hasPrefix("20-") {
                #expect(actual["message"] == expected["message"], "\(transcript): Status message")
            }
            #expect(actual["details"]?["causes"] == expected["details"]?["causes"], "\(transcript): causes")
            #expect(actual["details"]?["name"] == expected["details"]?["name"], "\(transcript): details.name")
            #expect(actual["details"]?["kind"] == expected["details"]?["kind"], "\(transcript): details.kind")
        case let list where list.hasSuffix("List"):
            let names = { (value: JSONValue) in (value["items"]?.arrayValue ?? []).map { $0["metadata"]?["name"] } }
            #expect(names(actual) == names(expected), "\(transcript): item names")
            #expect(actual["metadata"]?["remainingItemCount"] == expected["metadata"]?["remainingItemCount"], "\(transcript): remainingItemCount")
            let expectedContinue = expected["metadata"]?["continue"]?.stringValue ?? ""
            let actualContinue = actual["metadata"]?["continue"]?.stringValue ?? ""
            #expect(expectedContinue.isEmpty == actualContinue.isEmpty, "\(transcript): continue")
            if expected["apiVersion"]?.stringValue?.hasPrefix("periscope.dev") == true {
                #expect(actual["metadata"]?["resourceVersion"] == expected["metadata"]?["resourceVersion"], "\(transcript): list resourceVersion")
                #expect(actualContinue == expectedContinue, "\(transcript): continue token")
            }
        case "APIGroupList":
            let groups = (actual["groups"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            for needed in ["coordination.k8s.io", "apiextensions.k8s.io", "periscope.dev"] {
                #expect(groups.contains(needed), "\(transcript): group \(needed)")
            }
        case "APIResourceList":
            #expect(actual["resources"] == expected["resources"].map { resources in
                .array((resources.arrayValue ?? []).map { var entry = $0; entry["storageVersionHash"] = nil; return entry })
            }, "\(transcript): resources")
        case "APIVersions":
            #expect(actual["versions"] == expected["versions"], "\(transcript): versions")
        case "":
            #expect(actual["gitVersion"]?.stringValue != nil, "\(transcript): version document")
        default:
            for path in ["metadata.name", "metadata.namespace", "metadata.generation", "metadata.labels", "apiVersion"] {
                #expect(actual.value(atPath: path) == expected.value(atPath: path), "\(transcript): \(path)")
            }
            if expected["apiVersion"]?.stringValue?.hasPrefix("periscope.dev") == true || kind == "Lease" {
                #expect(actual["spec"] == expected["spec"], "\(transcript): spec")
                #expect(actual["status"] == expected["status"], "\(transcript): status")
            }
            if let version = expected.value(atPath: "metadata.resourceVersion")?.stringValue, Int(version)! <= 200 {
                #expect(actual.value(atPath: "metadata.resourceVersion") == expected.value(atPath: "metadata.resourceVersion"), "\(transcript): resourceVersion")
            }
            if kind == "Pod" {
                #expect(actual.value(atPath: "spec.nodeName") == expected.value(atPath: "spec.nodeName"), "\(transcript): nodeName")
                #expect(actual.value(atPath: "status.phase") == expected.value(atPath: "status.phase"), "\(transcript): phase")
                #expect(
                    actual.value(atPath: "status.containerStatuses")?.arrayValue?.first?["containerID"]
                        == expected.value(atPath: "status.containerStatuses")?.arrayValue?.first?["containerID"], "\(transcript): containerID")
            }
            let managers = (actual.value(atPath: "metadata.managedFields")?.arrayValue ?? []).compactMap { $0["operation"]?.stringValue }
            #expect(!managers.isEmpty, "\(transcript): managedFields")
        }
    }

    func replayWatch(
        _ transcript: Transcript, server: TestAPIServer, transport: CurlTransport,
        send: @escaping @Sendable (String, String, String?, String?, Bool) async throws -> KubeHTTPResponse
    ) async throws {
        let request = KubeHTTPRequest(
            method: "GET", url: server.url + transcript.path, headers: ["Authorization": "Bearer test-token", "Accept": "application/json"])
        let collected = Task {
            var status = 0
            var body = Data()
            for try await part in transport.stream(request) {
                switch part {
                case .head(let code, _): status = code
                case .body(let data): body.append(data)
                }
            }
            return (status, body)
        }
        if transcript.file.hasPrefix("19-") {
            // The writes whose events the recording shows.
            try await Task.sleep(for: .milliseconds(300))
            let collection = "/apis/periscope.dev/v1alpha1/namespaces/transcripts/instrumentationpolicies"
            _ = try await send(
                "POST", collection,
                #"{"apiVersion":"periscope.dev/v1alpha1","kind":"InstrumentationPolicy","metadata":{"name":"watched","labels":{"team":"shop"}},"spec":{"ports":[{"port":7000}]}}"#,
                "application/json", true)
            _ = try await send("PATCH", collection + "/watched", #"{"spec":{"ports":[{"port":7001}]}}"#, "application/merge-patch+json", true)
            _ = try await send("DELETE", collection + "/watched", nil, nil, true)
        }
        let (status, body) = try await collected.value
        #expect(status == transcript.status, "\(transcript): status")
        // A bookmark may come whenever its interval passes, before or between events when the
        // writes come late on a busy machine: what is compared is the events and whether the
        // stream ends with a bookmark.
        func withoutInteriorBookmarks(_ events: [JSONValue]) -> [JSONValue] {
            events.enumerated().filter { $0.element["type"] != "BOOKMARK" || $0.offset == events.count - 1 }.map(\.element)
        }
        let expectedLines = withoutInteriorBookmarks(transcript.responseBody.split(separator: "\n").map { try! JSONValue(json: Data($0.utf8)) })
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.hasSuffix("\n"), "\(transcript): every event ends with a newline")
        let actualLines = withoutInteriorBookmarks(text.split(separator: "\n").map { try! JSONValue(json: Data($0.utf8)) })
        func framing(_ events: [JSONValue]) -> [String] {
            var types: [String] = []
            for event in events {
                let type = event["type"]?.stringValue ?? "?"
                if type == "BOOKMARK", types.last == "BOOKMARK" { continue }
                types.append(type)
            }
            return types
        }
        #expect(framing(actualLines) == framing(expectedLines), "\(transcript): event types")
        for (actual, expected) in zip(actualLines, expectedLines) {
            #expect(actual["object"]?["kind"] == expected["object"]?["kind"], "\(transcript): object kind")
            #expect(actual["object"]?["metadata"]?["resourceVersion"] == expected["object"]?["metadata"]?["resourceVersion"] || expected["type"] == "ERROR",
                "\(transcript): resourceVersion")
            if expected["type"] == "BOOKMARK" {
                #expect(actual["object"]?["metadata"]?.objectValue?.keys.sorted() == ["resourceVersion"], "\(transcript): bookmark carries only resourceVersion")
            }
            if expected["type"] == "ERROR" {
                for field in ["status", "reason", "code"] {
                    #expect(actual["object"]?[field] == expected["object"]?[field], "\(transcript): ERROR \(field)")
                }
            }
        }
    }
}
