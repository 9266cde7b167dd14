import FuzzSupport
import PeriscopeCore

/// Policy files as text: the YAML parser, the document tree and the policy decoder. Anything
/// may be refused with a `PolicyError`; nothing may trap, hang or grow without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: FuzzSegments.bytes(data, size), as: UTF8.self)
    do {
        let policies = try Policy.parseNamedDocuments(yaml: text)
        fuzzCheck(!policies.isEmpty, "a parsed stream gave no policy")
    } catch {
        fuzzCheck(!error.description.isEmpty, "a policy error without a message")
    }
    return 0
}

@main
enum FuzzPolicy {
    static func main() {
        runFuzzer(fuzzPolicy)
    }
}
