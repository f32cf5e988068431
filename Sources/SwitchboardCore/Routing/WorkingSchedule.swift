import Foundation

/// Working hours, parsed and ready to answer "is it open at this instant?" in their time zone,
/// across DST changes and week boundaries.
public struct WorkingSchedule: Sendable {
    private let calendar: Calendar
    private let weekly: [Int: [OpenRange]]
    private let exceptions: [LocalDate: [OpenRange]]

    /// Parses validated working hours; `nil` when the plan is off (always open).
    public init?(_ hours: SwitchboardSettings.WorkingHours) throws(SwitchboardError) {
        guard hours.enabled else { return nil }
        guard let zone = TimeZone(identifier: hours.timeZone) else {
            throw .invalid("settings.working_hours.time_zone", "is not a known IANA time zone: '\(hours.timeZone)'")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
        var weekly: [Int: [OpenRange]] = [:]
        for (index, day) in hours.days.enumerated() {
            weekly[day.weekday] = try OpenRange.parse(day.ranges, field: "settings.working_hours.days[\(index)].ranges")
        }
        self.weekly = weekly
        var exceptions: [LocalDate: [OpenRange]] = [:]
        for (index, exception) in hours.exceptions.enumerated() {
            let field = "settings.working_hours.exceptions[\(index)]"
            exceptions[try LocalDate(parsing: exception.date, field: "\(field).date")] =
                try OpenRange.parse(exception.ranges, field: "\(field).ranges")
        }
        self.exceptions = exceptions
    }

    /// Whether `instant` falls in an open range of its local day.
    public func isOpen(at instant: Timestamp) -> Bool {
        let date = Date(timeIntervalSince1970: Double(instant.milliseconds) / 1000)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
        guard let year = parts.year, let month = parts.month, let day = parts.day, let hour = parts.hour,
            let minute = parts.minute, let weekday = parts.weekday
        else { return false }
        let minuteOfDay = MinuteOfDay(minutes: hour * 60 + minute)
        // Foundation counts Sunday as 1; the settings count Monday as 1.
        let isoWeekday = weekday == 1 ? 7 : weekday - 1
        let ranges = exceptions[LocalDate(year: year, month: month, day: day)] ?? weekly[isoWeekday] ?? []
        return ranges.contains { $0.start <= minuteOfDay && minuteOfDay < $0.end }
    }
}
