/// Which bytes of a TLS connection an event carries.
public enum TLSLayer: Sendable, Equatable {
    /// What the process handed to or got from its TLS library: decoded like cleartext.
    case plaintext
    /// What the TLS library moved on the socket (its records): counted, never decoded.
    case records

    /// Whether `bytes`, the first bytes one way of a connection, start a TLS handshake
    /// record (a ClientHello or ServerHello): content type 22, protocol major version 3.
    /// A shorter prefix of one counts: servers peek at the first byte to tell TLS from
    /// cleartext (nginx), and no cleartext protocol decoded here starts with byte 22.
    public static func startsHandshake(_ bytes: ArraySlice<UInt8>) -> Bool {
        let start = bytes.startIndex
        guard !bytes.isEmpty, bytes[start] == 0x16 else { return false }
        guard bytes.count >= 2 else { return true }
        guard bytes[start + 1] == 0x03 else { return false }
        return bytes.count == 2 || bytes[start + 2] <= 0x04
    }
}
