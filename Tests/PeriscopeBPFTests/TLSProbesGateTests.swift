import Foundation
import PeriscopeBPF
import PeriscopeCore
import Testing

/// The tracer looks for TLS library calls (at every transfer of a selected process, and at
/// every wait for events of every process on the node) only while TLS probes are attached.
@Suite(.serialized) struct TLSProbesGateTests {
    static let libssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3"

    @Test func theTracerLooksForTLSCallsOnlyWhileProbesAreAttached() throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer()
        let probes = try TLSProbes(sharing: tracer)
        try tracer.attach()
        #expect(!tracer.looksForTLSCalls)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.libssl)))
        let elf = try ELFFile { offset, count in
            guard offset < UInt64(bytes.count) else { return [] }
            return Array(bytes[Int(offset)..<Int(min(offset + UInt64(count), UInt64(bytes.count)))])
        }
        let plan = try #require(try TLSProbePlanner.plan(for: elf))
        var first: TLSProbeLinks? = try probes.attach(plan, path: Self.libssl)
        var second: TLSProbeLinks? = try probes.attach(plan, path: Self.libssl)
        #expect(tracer.looksForTLSCalls)
        // A filter applied meanwhile keeps it.
        try tracer.apply(KernelFilter(allProcesses: false))
        #expect(tracer.looksForTLSCalls)
        first = nil
        #expect(tracer.looksForTLSCalls && first == nil)
        second = nil
        #expect(!tracer.looksForTLSCalls && second == nil)
    }
}
