import Logging
import PeriscopeBPF
import PeriscopeCore

extension TLSAttacher {
    /// The crypto/tls probes of a Go executable; nil when `elf` is not a Go program using
    /// crypto/tls. Refusals (stripped, a Go release the probes cannot read, code that could
    /// not be walked) are logged once per file and kept for the status.
    func probeGo(_ elf: ELFFile, file: MappedFile, path: String, pid: Int32) -> ProbedFile? {
        guard GoBuildInfo.isGoBinary(elf) else { return nil }
        var result = ProbedFile(path: file.path)
        let plan: GoTLSProbePlan
        let started = MonotonicClock.now()
        func elapsed() -> String { "\((MonotonicClock.now() - started) / 1_000_000)" }
        do {
            guard let planned = try GoTLSProbePlanner.plan(for: elf, inflate: ZlibInflate.inflate) else { return nil }
            plan = planned
        } catch {
            result.refusal = error.description
            logger.warning("tls.refused", metadata: [
                "file": "\(file.path)", "pid": "\(pid)", "library": "\(TLSLibrary.goCryptoTLS.rawValue)",
                "reason": "\(error.code)", "detail": "\(error)", "elapsed_ms": "\(elapsed())",
            ])
            return result
        }
        guard let go = probes.go else {
            result.refusal = "tls.attach_failed: the Go TLS probes are not loaded (\(probes.goUnavailable.map { "\($0)" } ?? "unknown"))"
            return result
        }
        do {
            result.links = try go.attach(plan, path: path)
            result.library = .goCryptoTLS
            logger.info("tls.probed", metadata: [
                "file": "\(file.path)", "library": "\(TLSLibrary.goCryptoTLS.rawValue)", "inode": "\(file.key)",
                "go.version": "\(plan.goVersion)", "go.offsets": "\(plan.offsets.source)",
                "go.itab": "\(plan.tcpConnItab == nil ? "unknown" : "found")",
                "functions": "crypto/tls.(*Conn).Read,crypto/tls.(*Conn).Write", "returns": "\(plan.returnCount)",
                "elapsed_ms": "\(elapsed())",
            ])
        } catch {
            result.refusal = "tls.attach_failed: \(error)"
            logger.warning("tls.attach.failed", metadata: ["file": "\(file.path)", "error": "\(error)"])
        }
        return result
    }
}
