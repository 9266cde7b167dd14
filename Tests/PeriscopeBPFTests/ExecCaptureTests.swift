import CPeriscopeBPF
import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// What the kernel reports at exec: the executable actually run, read before the process
/// can exit, and selection by executable name made before it returns to user space.
@Suite(.serialized) struct ExecCaptureTests {
    /// An EXEC payload laid out by hand as `struct periscope_exec_info`.
    static func payload(components: [String], complete: Bool, interp: String, ppid: UInt32, selected: Bool) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: MemoryLayout<periscope_exec_info>.size)
        let names = MemoryLayout<periscope_exec_info>.offset(of: \.names)!
        for (index, name) in components.enumerated() {
            bytes.replaceSubrange((names + index * Int(PERISCOPE_EXEC_NAME))..<(names + index * Int(PERISCOPE_EXEC_NAME) + name.utf8.count), with: name.utf8)
        }
        bytes.replaceSubrange(0..<interp.utf8.count, with: interp.utf8)
        let ppidOffset = MemoryLayout<periscope_exec_info>.offset(of: \.ppid)!
        withUnsafeBytes(of: ppid.littleEndian) { bytes.replaceSubrange(ppidOffset..<(ppidOffset + 4), with: $0) }
        bytes[MemoryLayout<periscope_exec_info>.offset(of: \.name_count)!] = UInt8(components.count)
        bytes[MemoryLayout<periscope_exec_info>.offset(of: \.path_complete)!] = complete ? 1 : 0
        bytes[MemoryLayout<periscope_exec_info>.offset(of: \.selected)!] = selected ? 1 : 0
        return bytes
    }

    @Test func payloadDecodesToThePathItsComponentsName() throws {
        let bytes = Self.payload(components: ["python3.13", "bin", "usr"], complete: true, interp: "/usr/bin/python3", ppid: 42, selected: true)
        let image = try #require(ExecutedImage(execPayload: bytes))
        #expect(image == ExecutedImage(path: "/usr/bin/python3.13", interpreter: "/usr/bin/python3", parentPID: 42, selectedAtExec: true))
    }

    /// Hostile or short payloads: a count past the slots is capped, bytes that are not UTF-8
    /// are replaced, a payload shorter than the layout is refused.
    @Test func malformedPayloadsNeverTrap() throws {
        var bytes = Self.payload(components: ["a"], complete: true, interp: "", ppid: 0, selected: false)
        bytes[MemoryLayout<periscope_exec_info>.offset(of: \.name_count)!] = 255
        #expect(ExecutedImage(execPayload: bytes)?.path == nil, "empty components name no path")
        bytes = Self.payload(components: ["\u{FFFD}"], complete: true, interp: "", ppid: 0, selected: false)
        bytes[MemoryLayout<periscope_exec_info>.offset(of: \.names)!] = 0xFF
        #expect(ExecutedImage(execPayload: bytes) != nil)
        #expect(ExecutedImage(execPayload: Array(bytes.prefix(100))) == nil)
    }

    /// Exec events of `pid`, and its socket events, polled until `done` or 10 s.
    func events(of pid: Int32, tracer: Tracer, until done: ([CaptureEvent]) -> Bool) throws -> [CaptureEvent] {
        var events: [CaptureEvent] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !done(events) {
            try tracer.poll(timeoutMilliseconds: 50) { record in
                if let event = try? CaptureEvent(record: record), event.pid == pid { events.append(event) }
            }
        }
        return events
    }

    /// A script run through its `#!` line: the exec names the interpreter's file as
    /// /proc/<pid>/exe would (links resolved), the interpreter as the script named it, and
    /// the parent — read at the exec, so it holds however soon the script exits.
    @Test(arguments: Tracer.Variant.allCases)
    func aScriptsExecNamesItsInterpreter(variant: Tracer.Variant) throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer(variant: variant)
        try tracer.attach()
        try tracer.apply(KernelFilter(allProcesses: false))
        let script = NSTemporaryDirectory() + "periscope-exec-\(UUID().uuidString).py"
        try Executables.write("#!/usr/bin/python3\n", to: script)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let process = try TestProcess(script, [])
        #expect(process.wait() == 0)
        let exec = try #require(try events(of: process.pid, tracer: tracer) { $0.contains { $0.kind == .processExec } }.first { $0.kind == .processExec })
        let image = try #require(ExecutedImage(execPayload: exec.payload))
        let resolved = URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().path
        #expect(image.path == resolved && resolved.contains("python3"))
        #expect(image.interpreter == "/usr/bin/python3")
        #expect(image.parentPID == getpid())
        #expect(!image.selectedAtExec)
    }

    /// A process that execs a file of a name in `executableNames` is selected before it
    /// runs: a connection it makes at once is captured from its connect, with no step of
    /// user space in between. Without the name, nothing of it is captured.
    @Test(arguments: Tracer.Variant.allCases)
    func aProcessExecingASelectedNameIsTracedFromItsFirstConnection(variant: Tracer.Variant) throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer(variant: variant)
        try tracer.attach()
        let python = URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().lastPathComponent
        let port = testPort(18591)
        let listener = try TestProcess("python3", ["-c", """
            import socket
            s = socket.create_server(("127.0.0.1", \(port)))
            while True:
                c, _ = s.accept(); c.recv(100); c.sendall(b"ok"); c.close()
            """])
        defer { listener.stop() }
        try waitForPort(port, of: listener)
        let client = """
            import socket
            c = socket.create_connection(("127.0.0.1", \(port))); c.sendall(b"hello"); c.recv(10); c.close()
            """
        for selected in [true, false] {
            var filter = KernelFilter(allProcesses: false)
            if selected { filter.executableNames = [python] }
            try tracer.apply(filter)
            let process = try TestProcess("python3", ["-c", client])
            #expect(process.wait() == 0)
            let seen = try events(of: process.pid, tracer: tracer) { events in
                events.contains { $0.kind == .processExec } && (!selected || events.contains { $0.kind == .closed })
            }
            let image = try #require(seen.first { $0.kind == .processExec }.flatMap { ExecutedImage(execPayload: $0.payload) })
            #expect(image.selectedAtExec == selected)
            if selected {
                #expect(seen.contains { $0.kind == .opened(.client) && $0.peer.port == port }, "the first connect is captured")
                #expect(seen.contains { $0.kind == .data(.egress) && $0.payload == Array("hello".utf8) })
            } else {
                #expect(!seen.contains { $0.kind != .processExec && $0.kind != .processExited })
            }
        }
    }
}
