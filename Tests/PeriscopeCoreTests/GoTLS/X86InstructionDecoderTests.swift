import PeriscopeCore
import Testing

@Suite struct X86InstructionDecoderTests {
    /// Instructions as Go's compiler and assembler emit them (lengths as objdump decodes them).
    static let instructions: [(hex: String, length: Int, returns: Bool)] = [
        ("49 3b 66 10", 4, false),                    // CMPQ 0x10(R14), SP
        ("0f 86 c2 03 00 00", 6, false),              // JBE rel32
        ("48 83 ec 68", 4, false),                    // SUBQ $0x68, SP
        ("48 89 6c 24 60", 5, false),                 // MOVQ BP, 0x60(SP)
        ("49 c7 c5 00 00 00 00", 7, false),           // MOVQ $0, R13
        ("48 89 8c 24 80 00 00 00", 8, false),        // MOVQ CX, 0x80(SP)
        ("c6 44 24 1f 00", 5, false),                 // MOVB $0, 0x1f(SP)
        ("48 c7 44 24 20 00 00 00 00", 9, false),     // MOVQ $0, 0x20(SP)
        ("44 0f 11 7c 24 38", 6, false),              // MOVUPS X15, 0x38(SP)
        ("48 8b 15 e6 12 34 00", 7, false),           // MOVQ rip-relative, DX
        ("e8 bb 07 00 00", 5, false),                 // CALL rel32
        ("f0 0f b1 be 58 01 00 00", 8, false),        // LOCK CMPXCHGL DI, 0x158(SI)
        ("40 0f 94 c7", 4, false),                    // SETE DI
        ("4d 0f 4e c2", 4, false),                    // CMOVLE R10, R8
        ("41 ba 00 00 00 00", 6, false),              // MOVL $0, R10
        ("66 90", 2, false),                          // NOPW
        ("0f 1f 44 00 00", 5, false),                 // NOPL 0(AX)(AX*1)
        ("66 0f 1f 84 00 00 00 00 00", 9, false),     // NOPW 0(AX)(AX*1)
        ("48 b8 88 77 66 55 44 33 22 11", 10, false), // MOVQ $imm64, AX
        ("66 b8 34 12", 4, false),                    // MOVW $imm16, AX
        ("66 81 7c 24 08 34 12", 7, false),           // CMPW $imm16, 8(SP)
        ("f6 44 24 08 01", 5, false),                 // TESTB $1, 8(SP)
        ("f7 c1 00 01 00 00", 6, false),              // TESTL $0x100, CX
        ("f7 d8", 2, false),                          // NEGL AX
        ("0f b6 44 24 08", 5, false),                 // MOVZX
        ("66 0f 3a 0f c1 08", 6, false),              // PALIGNR $8, X1, X0
        ("66 0f 38 00 c1", 5, false),                 // PSHUFB X1, X0
        ("c5 fe 6f 06", 4, false),                    // VMOVDQU (SI), Y0
        ("c4 e3 7d 39 c1 01", 6, false),              // VEXTRACTI128 $1, Y0, X1
        ("c5 f8 77", 3, false),                       // VZEROUPPER
        ("62 f1 7d 48 6f 06", 6, false),              // VMOVDQA32 (SI), Z0
        ("8b 04 25 00 00 00 00", 7, false),           // MOVL abs32 (SIB, no base)
        ("ff 24 c5 00 10 40 00", 7, false),           // JMP *table(,AX,8)
        ("eb fe", 2, false),                          // JMP rel8
        ("cc", 1, false),                             // INT3 (padding)
        ("c3", 1, true),                              // RET
        ("f3 c3", 2, true),                           // REP RET
        ("c2 08 00", 3, true),                        // RET $8
    ]

    @Test(arguments: instructions)
    func decodesLengthsAndReturns(_ instruction: (hex: String, length: Int, returns: Bool)) throws {
        let bytes = Self.bytes(instruction.hex)
        let decoded = try X86InstructionDecoder.decode(bytes, at: 0)
        #expect(decoded.length == instruction.length, "\(instruction.hex)")
        #expect(decoded.isReturn == instruction.returns, "\(instruction.hex)")
    }

    /// A function's returns are found at instruction starts only: the byte C3 inside an
    /// immediate or displacement is not a return.
    @Test func findsReturnsAtInstructionStartsOnly() throws {
        let code = Self.instructions.map(\.hex).joined(separator: " ") + " b8 c3 c3 c3 c3 48 8b 84 24 c3 00 00 00 c3"
        let bytes = Self.bytes(code)
        let returns = try X86InstructionDecoder.returns(in: bytes)
        var expected: [Int] = []
        var offset = 0
        for instruction in Self.instructions {
            if instruction.returns { expected.append(offset) }
            offset += instruction.length
        }
        expected.append(bytes.count - 1)
        #expect(returns == expected)
    }

    @Test(arguments: [
        "06",                                        // invalid in 64-bit mode
        "e8 00 00",                                  // CALL cut short
        "48 8b",                                     // ModRM missing
        "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90",  // longer than 15 bytes
        "0f 0a",                                     // undefined two-byte opcode
        "48 66 90",                                  // a prefix after REX
        "c4 e0 7d 6f 06",                            // VEX map 0
    ])
    func refusesWhatItCannotDecode(_ hex: String) {
        #expect(throws: X86InstructionDecoder.Failure.self) { try X86InstructionDecoder.returns(in: Self.bytes(hex)) }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        hex.split(separator: " ").map { UInt8($0, radix: 16)! }
    }
}
