/// A function symbol of an ELF file.
public struct ELFSymbol: Sendable, Equatable {
    public var name: String
    /// Its virtual address in the file's own address space (`st_value`).
    public var address: UInt64
    /// Its size in bytes (`st_size`); 0 when the symbol table does not say.
    public var size: UInt64
    /// Where its first instruction is in the file: what a uprobe is attached at.
    public var fileOffset: UInt64

    public init(name: String, address: UInt64, size: UInt64, fileOffset: UInt64) {
        self.name = name
        self.address = address
        self.size = size
        self.fileOffset = fileOffset
    }
}
