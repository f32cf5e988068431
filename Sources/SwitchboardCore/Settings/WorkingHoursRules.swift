/// A local time of day in minutes since midnight: 0 (`00:00`) to 1440 (`24:00`, only as an end).
public struct MinuteOfDay: Sendable, Hashable, Comparable {
    /// Minutes since midnight.
    public var minutes: Int

    /// Creates a time of day.
    public init(minutes: Int) {
        self.minutes = minutes
    }

    /// Parses `HH:MM`; `24:00` only when `allowMidnightEnd`.
    public init(parsing text: String, allowMidnightEnd: Bool, field: String) throws(SwitchboardError) {
        let bytes = Array(text.utf8)
        func digit(_ byte: UInt8) -> Int? {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
        }
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":"),
            let h1 = digit(bytes[0]), let h2 = digit(bytes[1]), let m1 = digit(bytes[3]), let m2 = digit(bytes[4])
        else {
            throw .invalid(field, "must be a time as HH:MM, got '\(text)'")
        }
        let hour = h1 * 10 + h2
        let minute = m1 * 10 + m2
        if hour == 24 && minute == 0 {
            guard allowMidnightEnd else { throw .invalid(field, "may be 24:00 only as the end of a range") }
        } else {
            guard hour < 24, minute < 60 else { throw .invalid(field, "must be a time from 00:00 to 23:59, got '\(text)'") }
        }
        self.minutes = hour * 60 + minute
    }

    public static func < (lhs: MinuteOfDay, rhs: MinuteOfDay) -> Bool {
        lhs.minutes < rhs.minutes
    }
}

/// An open range `[start, end)` of one local day.
public struct OpenRange: Sendable, Hashable {
    public var start: MinuteOfDay
    public var end: MinuteOfDay

    /// Creates a range.
    public init(start: MinuteOfDay, end: MinuteOfDay) {
        self.start = start
        self.end = end
    }

    /// Parses and checks a list of ranges: each start before its end, in order, not overlapping.
    static func parse(_ texts: [SwitchboardSettings.TimeRangeText], field: String) throws(SwitchboardError) -> [OpenRange] {
        var ranges: [OpenRange] = []
        for (index, text) in texts.enumerated() {
            let path = "\(field)[\(index)]"
            let start = try MinuteOfDay(parsing: text.start, allowMidnightEnd: false, field: "\(path).start")
            let end = try MinuteOfDay(parsing: text.end, allowMidnightEnd: true, field: "\(path).end")
            guard start < end else {
                throw .invalid("\(path)", "ends (\(text.end)) at or before it starts (\(text.start))")
            }
            if let previous = ranges.last, start < previous.end {
                throw .invalid("\(path)", "overlaps or precedes the range before it; list ranges in order without overlap")
            }
            ranges.append(OpenRange(start: start, end: end))
        }
        return ranges
    }
}

/// A calendar date, `YYYY-MM-DD`.
public struct LocalDate: Sendable, Hashable, Comparable {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Creates a date (not checked).
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses and checks `YYYY-MM-DD` (a real date of the Gregorian calendar).
    public init(parsing text: String, field: String) throws(SwitchboardError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else {
            throw .invalid(field, "must be a date as YYYY-MM-DD, got '\(text)'")
        }
        guard (1...12).contains(month), (1...LocalDate.days(inMonth: month, year: year)).contains(day), year >= 1970 else {
            throw .invalid(field, "is not a real date: '\(text)'")
        }
        self.init(year: year, month: month, day: day)
    }

    /// The number of days of `month` in `year`.
    public static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}
