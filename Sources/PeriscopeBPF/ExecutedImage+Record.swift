import CPeriscopeBPF
import PeriscopeCore

extension ExecutedImage {
    /// Decodes an EXEC event's payload, laid out as `struct periscope_exec_info`; nil when
    /// it is shorter than that. Names stop at their NUL or at the end of their slot; bytes
    /// that are not UTF-8 are replaced, never trusted.
    public init?(execPayload payload: [UInt8]) {
        typealias Info = periscope_exec_info
        guard payload.count >= MemoryLayout<Info>.size else { return nil }
        let slot = Int(PERISCOPE_EXEC_NAME), slots = Int(PERISCOPE_EXEC_COMPONENTS)
        func string(at start: Int, length: Int) -> String {
            let bytes = payload[start..<(start + length)]
            let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        func offset<T>(_ field: KeyPath<Info, T>) -> Int { MemoryLayout<Info>.offset(of: field)! }
        let count = min(Int(payload[offset(\.name_count)]), slots)
        let names = offset(\.names)
        let components = (0..<count).map { string(at: names + $0 * slot, length: slot) }
        let ppid = payload.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset(\.ppid), as: UInt32.self) }
        self.init(
            componentsLastFirst: components,
            complete: payload[offset(\.path_complete)] != 0,
            interpreter: string(at: offset(\.interp), length: Int(PERISCOPE_MAX_PATH)),
            parentPID: Int32(bitPattern: ppid),
            selectedAtExec: payload[offset(\.selected)] != 0
        )
    }
}
