import Foundation
import PeriscopeKube
import Testing

struct WatchEventDecoderTests {
    static let stream = """
        {"type":"ADDED","object":{"apiVersion":"periscope.dev/v1alpha1","kind":"InstrumentationPolicy","metadata":{"name":"w","namespace":"t","resourceVersion":"198"},"spec":{"ports":[{"port":7000}]}}}
        {"type":"MODIFIED","object":{"apiVersion":"periscope.dev/v1alpha1","kind":"InstrumentationPolicy","metadata":{"name":"w","namespace":"t","resourceVersion":"199"}}}
        {"type":"DELETED","object":{"apiVersion":"periscope.dev/v1alpha1","kind":"InstrumentationPolicy","metadata":{"name":"w","namespace":"t","resourceVersion":"200"}}}
        {"type":"BOOKMARK","object":{"apiVersion":"periscope.dev/v1alpha1","kind":"InstrumentationPolicy","metadata":{"resourceVersion":"200"}}}
        {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (186)","reason":"Expired","code":410}}

        """

    static func describe(_ event: WatchEvent<DynamicObject>) -> String {
        switch event {
        case .added(let object): return "ADDED \(object.metadata.resourceVersion ?? "")"
        case .modified(let object): return "MODIFIED \(object.metadata.resourceVersion ?? "")"
        case .deleted(let object): return "DELETED \(object.metadata.resourceVersion ?? "")"
        case .bookmark(let version): return "BOOKMARK \(version)"
        case .error(let status): return "ERROR \(status.code ?? 0) \(status.reason ?? "")"
        }
    }

    @Test(arguments: [1, 2, 3, 7, 64, 1000, 100_000])
    func decodesTheSameEventsWhateverTheChunkBoundaries(chunkSize: Int) throws {
        var decoder = WatchEventDecoder()
        var events: [String] = []
        let bytes = Array(Self.stream.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunkSize) {
            for line in decoder.feed(bytes[start..<min(start + chunkSize, bytes.count)]) {
                events.append(Self.describe(try WatchEventDecoder.decode(line, as: DynamicObject.self)))
            }
        }
        #expect(decoder.finish() == nil)
        #expect(events == ["ADDED 198", "MODIFIED 199", "DELETED 200", "BOOKMARK 200", "ERROR 410 Expired"])
    }

    @Test func aFinalEventWithoutNewlineIsDeliveredAtTheEnd() throws {
        var decoder = WatchEventDecoder()
        let text = #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#
        #expect(decoder.feed(Array(text.utf8)).isEmpty)
        let finished = decoder.finish()
        let last = try #require(finished)
        #expect(Self.describe(try WatchEventDecoder.decode(last, as: DynamicObject.self)) == "BOOKMARK 9")
    }

    @Test func garbageIsADecodingError() {
        #expect(throws: KubeAPIError.self) { try WatchEventDecoder.decode(Data("{not json".utf8), as: DynamicObject.self) }
        #expect(throws: KubeAPIError.self) { try WatchEventDecoder.decode(Data(#"{"type":"WHAT","object":{}}"#.utf8), as: DynamicObject.self) }
    }
}

struct KubeAPIErrorTests {
    static func status(_ code: Int, _ reason: String) -> Data {
        Data(#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"m","reason":"\#(reason)","code":\#(code)}"#.utf8)
    }

    @Test(arguments: [
        (400, "BadRequest", KubeAPIError.Code.badRequest),
        (401, "Unauthorized", .unauthorized),
        (403, "Forbidden", .forbidden),
        (404, "NotFound", .notFound),
        (409, "AlreadyExists", .alreadyExists),
        (409, "Conflict", .conflict),
        (410, "Expired", .expired),
        (410, "Gone", .expired),
        (422, "Invalid", .invalid),
        (429, "TooManyRequests", .tooManyRequests),
        (500, "InternalError", .serverError),
        (503, "ServiceUnavailable", .serverError),
        (504, "Timeout", .serverError),
    ])
    func decodesStatusBodiesIntoStableCodes(httpStatus: Int, reason: String, code: KubeAPIError.Code) {
        let error = KubeAPIError.from(httpStatus: httpStatus, headers: [:], body: Self.status(httpStatus, reason))
        #expect(error.code == code)
        #expect(error.status?.reason == reason)
        #expect(error.message == "m")
    }

    @Test func retryAfterComesFromTheHeaderOrTheDetails() {
        #expect(KubeAPIError.from(httpStatus: 429, headers: ["retry-after": "3"], body: Data()).retryAfter == .seconds(3))
        let body = Data(#"{"kind":"Status","status":"Failure","reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":5}}"#.utf8)
        #expect(KubeAPIError.from(httpStatus: 429, headers: [:], body: body).retryAfter == .seconds(5))
    }

    @Test func aBodyThatIsNotAStatusStillGivesTheHTTPCode() {
        let error = KubeAPIError.from(httpStatus: 502, headers: [:], body: Data("<html>bad gateway</html>".utf8))
        #expect(error.code == .serverError)
        #expect(error.status == nil)
        #expect(error.message.contains("bad gateway"))
    }

    @Test func invalidCarriesFieldCauses() {
        let body = Data(#"{"kind":"Status","status":"Failure","reason":"Invalid","code":422,"details":{"causes":[{"reason":"FieldValueInvalid","message":"Invalid value: 70000","field":"spec.ports.port"}]}}"#.utf8)
        let error = KubeAPIError.from(httpStatus: 422, headers: [:], body: body)
        #expect(error.causes == [KubeStatus.Cause(reason: "FieldValueInvalid", message: "Invalid value: 70000", field: "spec.ports.port")])
    }
}

struct LabelSelectorTests {
    @Test(arguments: [
        ("app=checkout", ["app": "checkout"], true),
        ("app==checkout", ["app": "web"], false),
        ("app!=checkout", ["app": "web"], true),
        ("app!=checkout", [:], true),
        ("tier in (web, api)", ["tier": "api"], true),
        ("tier notin (web,api)", ["tier": "api"], false),
        ("tier notin (web,api)", [:], true),
        ("canary", ["canary": ""], true),
        ("!canary", ["canary": "yes"], false),
        ("app=checkout,tier in (web),!canary", ["app": "checkout", "tier": "web"], true),
        ("", ["anything": "x"], true),
    ])
    func matches(selector: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == expected)
    }

    @Test func printsTheAPIForm() throws {
        #expect(LabelSelector(matchLabels: ["b": "2", "a": "1"]).description == "a=1,b=2")
        #expect(try LabelSelector(parsing: "tier in (web,api),!canary").description == "tier in (web,api),!canary")
        #expect(FieldSelector.nodeName("node-a").description == "spec.nodeName=node-a")
    }
}

struct ReflectorPlanTests {
    static func plan() -> ReflectorPlan {
        ReflectorPlan(backoff: ExponentialBackoff(initial: .seconds(1), maximum: .seconds(4), jitter: 0))
    }

    @Test func listThenWatchFromTheListsVersion() {
        var plan = Self.plan()
        #expect(plan.start.action == .list)
        #expect(plan.next(after: .listed(resourceVersion: "10")) == .init(action: .watch(resourceVersion: "10"), delay: nil))
        #expect(plan.next(after: .progressed(resourceVersion: "12")) == nil)
        #expect(plan.next(after: .watchEnded) == .init(action: .watch(resourceVersion: "12"), delay: nil), "server timeout: resume at once")
    }

    @Test func droppedWatchesResumeFromTheLastVersionWithGrowingBackoff() {
        var plan = Self.plan()
        _ = plan.next(after: .listed(resourceVersion: "10"))
        _ = plan.next(after: .progressed(resourceVersion: "11"))
        #expect(plan.next(after: .watchFailed) == .init(action: .watch(resourceVersion: "11"), delay: .seconds(1)))
        #expect(plan.next(after: .watchFailed) == .init(action: .watch(resourceVersion: "11"), delay: .seconds(2)))
        #expect(plan.next(after: .watchFailed) == .init(action: .watch(resourceVersion: "11"), delay: .seconds(4)))
        #expect(plan.next(after: .watchFailed) == .init(action: .watch(resourceVersion: "11"), delay: .seconds(4)), "capped")
        _ = plan.next(after: .progressed(resourceVersion: "12"))
        #expect(plan.next(after: .watchFailed) == .init(action: .watch(resourceVersion: "12"), delay: .seconds(1)), "reset by progress")
    }

    @Test func anUnavailableServerIsWaitedForAtMostTheCapAndTheWaitEndsWhenItIsReady() {
        var plan = ReflectorPlan(backoff: ExponentialBackoff(initial: .seconds(1), maximum: .seconds(30), jitter: 0), unavailableCap: .seconds(3))
        _ = plan.next(after: .listed(resourceVersion: "10"))
        #expect(plan.next(after: .watchUnavailable) == .init(action: .watch(resourceVersion: "10"), delay: .seconds(1), endsWhenServerReady: true))
        #expect(plan.next(after: .watchUnavailable) == .init(action: .watch(resourceVersion: "10"), delay: .seconds(2), endsWhenServerReady: true))
        #expect(plan.next(after: .watchUnavailable) == .init(action: .watch(resourceVersion: "10"), delay: .seconds(3), endsWhenServerReady: true))
        #expect(plan.next(after: .listUnavailable) == .init(action: .list, delay: .seconds(3), endsWhenServerReady: true), "capped however long")
        // Other failures keep the full backoff and wait it out.
        #expect(plan.next(after: .listFailed) == .init(action: .list, delay: .seconds(16)))
    }

    @Test func expiredRelistsAtOnceAndFailedListsBackOff() {
        var plan = Self.plan()
        _ = plan.next(after: .listed(resourceVersion: "10"))
        #expect(plan.next(after: .watchExpired) == .init(action: .list, delay: nil))
        #expect(plan.next(after: .listFailed) == .init(action: .list, delay: .seconds(1)))
        #expect(plan.next(after: .listFailed) == .init(action: .list, delay: .seconds(2)))
    }

    @Test func jitterStretchesEachDelayByUpToItself() {
        var backoff = ExponentialBackoff(initial: .seconds(1), maximum: .seconds(30), jitter: 1, random: { 0.5 })
        #expect(backoff.next() == .milliseconds(1500))
        #expect(backoff.next() == .seconds(3))
    }
}

struct InformerStoreTests {
    static func object(_ name: String, _ version: String) -> DynamicObject {
        DynamicObject(type: .instrumentationPolicies, metadata: ObjectMeta(name: name, namespace: "ns", resourceVersion: version))
    }

    static func names(_ events: [InformerEvent<DynamicObject>]) -> [String] {
        events.map {
            switch $0 {
            case .added(let object): return "+\(object.metadata.name!)@\(object.metadata.resourceVersion!)"
            case .updated(_, let object): return "~\(object.metadata.name!)@\(object.metadata.resourceVersion!)"
            case .deleted(let object): return "-\(object.metadata.name!)@\(object.metadata.resourceVersion!)"
            case .synced: return "synced"
            }
        }
    }

    @Test func appliesEachVersionOnce() {
        var store = InformerStore<DynamicObject>()
        #expect(Self.names(store.apply(.added(Self.object("a", "1")))) == ["+a@1"])
        #expect(Self.names(store.apply(.added(Self.object("a", "1")))).isEmpty, "a repeated event changes nothing")
        #expect(Self.names(store.apply(.modified(Self.object("a", "2")))) == ["~a@2"])
        #expect(Self.names(store.apply(.modified(Self.object("a", "2")))).isEmpty)
        #expect(Self.names(store.apply(.deleted(Self.object("a", "3")))) == ["-a@3"])
        #expect(Self.names(store.apply(.deleted(Self.object("a", "3")))).isEmpty)
        #expect(Self.names(store.apply(.bookmark(resourceVersion: "4"))).isEmpty)
    }

    @Test func relistReportsTheDifference() {
        var store = InformerStore<DynamicObject>()
        _ = store.replace(with: [Self.object("a", "1"), Self.object("b", "2"), Self.object("c", "3")])
        let changes = store.replace(with: [Self.object("a", "1"), Self.object("b", "5"), Self.object("d", "6")])
        #expect(Self.names(changes).sorted() == ["+d@6", "-c@3", "~b@5"])
        #expect(store.objects.keys.sorted() == ["ns/a", "ns/b", "ns/d"])
    }
}

struct JSONValueTests {
    @Test func yamlScalarsKeepTheirTypes() throws {
        let value = try JSONValue(yaml: "a: 1\nb: \"1\"\nc: true\nd: 0.25\ne: '0.25'\nf: null\ng: [x, 2]\n")
        #expect(value == ["a": 1, "b": "1", "c": true, "d": 0.25, "e": "0.25", "f": nil, "g": ["x", 2]])
    }

    @Test func dynamicObjectsKeepUnknownFieldsWhenMetadataChanges() throws {
        var object = try JSONValue(json: Data(#"{"kind":"X","metadata":{"name":"a","managedFields":[{"manager":"m"}]},"spec":{"z":1}}"#.utf8))
            .decode(as: DynamicObject.self)
        object.metadata.labels = ["k": "v"]
        #expect(object["spec"] == ["z": 1])
        #expect(object["metadata"]?["managedFields"] == [["manager": "m"]])
        #expect(object["metadata"]?["labels"] == ["k": "v"])
    }

    @Test func resourcePaths() {
        #expect(KubeResourceType.pods.path(namespace: "ns", name: "p", subresource: "status") == "/api/v1/namespaces/ns/pods/p/status")
        #expect(KubeResourceType.pods.path(namespace: nil) == "/api/v1/pods")
        #expect(KubeResourceType.namespaces.path(namespace: "ignored", name: "ns") == "/api/v1/namespaces/ns")
        #expect(KubeResourceType.leases.path(namespace: "n") == "/apis/coordination.k8s.io/v1/namespaces/n/leases")
    }
}
