import Testing
@testable import PeriscopeCore

@Suite struct FixedKeyTableTests {
    /// Keys that all fold alike: every one lands in the same run of slots, so removal has
    /// to move the run back correctly for the others to stay reachable.
    struct Colliding: FixedKey {
        var value: Int
        var folded: UInt64 { 7 }
    }

    @Test(arguments: [1, 2, 15, 40])
    func keepsEveryEntryReachableThroughInsertionsAndRemovalsInOneRun(count: Int) {
        var table = FixedKeyTable<Colliding, Int>()
        for value in 0..<count { table[Colliding(value: value)] = value * 10 }
        #expect(table.count == count)
        // Every other one removed, then the rest read back.
        for value in stride(from: 0, to: count, by: 2) {
            #expect(table.removeValue(forKey: Colliding(value: value)) == value * 10)
        }
        for value in 0..<count {
            #expect(table[Colliding(value: value)] == (value % 2 == 0 ? nil : value * 10))
        }
        #expect(table.count == count / 2)
    }

    @Test func agreesWithADictionaryOverARandomSequenceOfChanges() {
        var table = FixedKeyTable<UInt64, Int>()
        var model: [UInt64: Int] = [:]
        var generator = SeededGenerator(seed: 42)
        for step in 0..<20_000 {
            let key = UInt64.random(in: 0..<300, using: &generator)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0, 1:
                table[key] = step
                model[key] = step
            case 2:
                #expect(table.removeValue(forKey: key) == model.removeValue(forKey: key))
            default:
                if let slot = table.index(forKey: key) {
                    table[slot: slot] += 1
                    model[key]! += 1
                } else {
                    #expect(model[key] == nil)
                }
            }
        }
        #expect(table.count == model.count)
        for (key, value) in model { #expect(table[key] == value) }
        #expect(table.allValues.sorted() == model.values.sorted())
        table.removeAll()
        #expect(table.isEmpty && table[0] == nil)
    }

    @Test func slotForKeyInsertsTheDefaultOnce() {
        var table = FixedKeyTable<SpanID, [Int]>()
        table[slot: table.slot(forKey: SpanID(value: 9), default: [])].append(1)
        table[slot: table.slot(forKey: SpanID(value: 9), default: [])].append(2)
        #expect(table[SpanID(value: 9)] == [1, 2] && table.count == 1)
    }
}
