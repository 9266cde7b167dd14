import Foundation
import Testing
@testable import PeriscopeCore

@Suite struct SpanJSONFormatterTests {
    func parse(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func writesOTLPFieldNamesAndTypedAttributes() throws {
        let line = SpanJSONFormatter().format(SpanFixtures.server)
        #expect(!line.contains("\n"))
        let json = try parse(line)
        #expect(json["traceId"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(json["spanId"] as? String == "00f067aa0ba902b7")
        #expect(json["parentSpanId"] as? String == "b7ad6b7169203331")
        #expect(json["name"] as? String == "GET /users/{id}")
        #expect(json["kind"] as? String == "SPAN_KIND_SERVER")
        #expect(json["startTimeUnixNano"] as? String == "1700000000123000000")
        #expect(json["endTimeUnixNano"] as? String == "1700000000135345678")
        let status = try #require(json["status"] as? [String: Any])
        #expect(status["code"] as? String == "STATUS_CODE_UNSET")
        #expect(status["message"] == nil)
        let attributes = try #require(json["attributes"] as? [String: Any])
        #expect(attributes["http.request.method"] as? String == "GET")
        #expect(attributes["url.path"] as? String == "/users/42")
        #expect(attributes["http.route"] as? String == "/users/{id}")
        #expect(attributes["http.response.status_code"] as? Int == 200)
        #expect(attributes["server.port"] as? Int == 8080)
        #expect(attributes["client.address"] as? String == "10.0.0.2")
        #expect(attributes["process.executable.path"] as? String == "/usr/sbin/nginx")
        #expect(attributes.count == SpanFixtures.server.attributes.count)
        #expect(line.contains("\"http.response.status_code\":200"), "numbers are JSON numbers, not strings")
    }

    @Test func aPodsResourceAttributesGoIntoAResourceObject() throws {
        let json = try parse(SpanJSONFormatter.format(SpanFixtures.server, resource: ["k8s.pod.name": "web-1", "k8s.namespace.name": "shop"]))
        let resource = try #require(json["resource"] as? [String: Any])
        #expect(resource["k8s.pod.name"] as? String == "web-1" && resource["k8s.namespace.name"] as? String == "shop")
        #expect(try parse(SpanJSONFormatter.format(SpanFixtures.server))["resource"] == nil, "no pod, no resource object")
    }

    @Test func omitsParentForARootSpanAndWritesTheStatusMessage() throws {
        let json = try parse(SpanJSONFormatter().format(SpanFixtures.hostile))
        #expect(json["parentSpanId"] == nil)
        let status = try #require(json["status"] as? [String: Any])
        #expect(status["code"] as? String == "STATUS_CODE_ERROR")
        #expect(status["message"] as? String == "connection closed before the response completed")
    }

    @Test func hostileBytesRoundTripThroughEscaping() throws {
        let span = SpanFixtures.hostile
        let line = SpanJSONFormatter().format(span)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 })
        let attributes = try #require(try parse(line)["attributes"] as? [String: Any])
        #expect(attributes["url.path"] as? String == span.http?.path)
        #expect(attributes["user_agent.original"] as? String == "tab\there\nnewline\u{0}nul")
        #expect(attributes["http.request.method"] as? String == "_OTHER")
        #expect(attributes["http.request.method_original"] as? String == "PURGE")
    }

    @Test(arguments: [
        ("plain", "\"plain\""),
        ("q\"b\\s/", "\"q\\\"b\\\\s/\""),
        ("\n\r\t\u{8}\u{c}", "\"\\n\\r\\t\\b\\f\""),
        ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\\u007f\""),
        ("\u{2028}é😀", "\"\\u2028é😀\""),
    ])
    func escapesStrings(input: String, expected: String) {
        #expect(JSONString.quoted(input) == expected)
    }

    @Test func writesEveryAttributeValueType() {
        #expect(SpanJSONFormatter.json(.string("a")) == "\"a\"")
        #expect(SpanJSONFormatter.json(.int(-3)) == "-3")
        #expect(SpanJSONFormatter.json(.bool(true)) == "true")
        #expect(SpanJSONFormatter.json(.double(1.5)) == "1.5")
        #expect(SpanJSONFormatter.json(.double(.nan)) == "null")
    }
}
