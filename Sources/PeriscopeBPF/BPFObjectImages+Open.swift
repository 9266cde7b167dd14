import CLibBPF
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

extension BPFObjectImages {
    /// Opens the embedded object compiled from `bpf/<name>.bpf.c` with libbpf (not loaded yet).
    /// The image libbpf reads is returned with it: deallocate it after `bpf_object__close`.
    static func open(_ name: String) throws(BPFError) -> (object: OpaquePointer, image: UnsafeMutableRawBufferPointer) {
        let file = "\(name).bpf.o"
        guard let encoded = base64[name], let bytes = Data(base64Encoded: encoded) else {
            throw BPFError(.objectMissing, "\(file) is not embedded in this build; rebuild with `swift build`")
        }
        let image = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        image.copyBytes(from: bytes)
        var options = bpf_object_open_opts()
        options.sz = MemoryLayout<bpf_object_open_opts>.size
        let opened = file.withCString { objectName in
            options.object_name = objectName
            return bpf_object__open_mem(image.baseAddress, image.count, &options)
        }
        guard let object = opened else {
            let error = errno
            image.deallocate()
            throw BPFError(.openFailed, "cannot open \(file)", errno: error, libbpfLog: LibBPFLog.shared.drain())
        }
        return (object, image)
    }
}
