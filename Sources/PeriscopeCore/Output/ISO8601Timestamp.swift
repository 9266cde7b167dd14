/// Unix time as ISO-8601 UTC with milliseconds, `2024-05-01T12:34:56.789Z`, computed
/// without Foundation.
enum ISO8601Timestamp {
    static func string(unixNanos: UInt64) -> String {
        var line: [UInt8] = []
        write(unixNanos: unixNanos, into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    static func write(unixNanos: UInt64, into line: inout [UInt8]) {
        writeSeconds(unixNanos / 1_000_000_000, into: &line)
        writeFraction(unixNanos, into: &line)
    }

    /// `.789Z`: the milliseconds and the zone.
    static func writeFraction(_ unixNanos: UInt64, into line: inout [UInt8]) {
        line.append(UInt8(ascii: "."))
        SpanTextFormatter.writeDecimal(unixNanos / 1_000_000 % 1000, minimumDigits: 3, into: &line)
        line.append(UInt8(ascii: "Z"))
    }

    /// The date and time of the last second written, reused while timestamps stay within it:
    /// spans arrive in bursts, many per second.
    struct SecondCache: Sendable {
        private var second: UInt64 = .max
        private var text: [UInt8] = []

        mutating func write(unixNanos: UInt64, into line: inout [UInt8]) {
            let second = unixNanos / 1_000_000_000
            if second != self.second {
                self.second = second
                text.removeAll(keepingCapacity: true)
                ISO8601Timestamp.writeSeconds(second, into: &text)
            }
            line.append(contentsOf: text)
            ISO8601Timestamp.writeFraction(unixNanos, into: &line)
        }
    }

    /// `2024-05-01T12:34:56`.
    static func writeSeconds(_ seconds: UInt64, into line: inout [UInt8]) {
        let days = Int(seconds / 86_400)
        let secondOfDay = Int(seconds % 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func number(_ value: Int, _ digits: Int) {
            SpanTextFormatter.writeDecimal(UInt64(max(value, 0)), minimumDigits: digits, into: &line)
        }
        number(year, 4)
        line.append(UInt8(ascii: "-"))
        number(month, 2)
        line.append(UInt8(ascii: "-"))
        number(day, 2)
        line.append(UInt8(ascii: "T"))
        number(secondOfDay / 3600, 2)
        line.append(UInt8(ascii: ":"))
        number(secondOfDay / 60 % 60, 2)
        line.append(UInt8(ascii: ":"))
        number(secondOfDay % 60, 2)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`), for non-negative day counts.
    static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
