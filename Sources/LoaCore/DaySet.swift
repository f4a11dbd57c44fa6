/// The days of the week a slot airs on.
public struct DaySet: Sendable, Hashable, Codable, CustomStringConvertible {
    public let days: Set<Weekday>

    public init(_ days: Set<Weekday>) { self.days = days }

    public static let daily = DaySet(Set(Weekday.allCases))

    /// Parses `daily`, a range `mon-fri`, or a comma list `mon,wed,fri` (ranges allowed inside).
    public init?(parsing text: String) {
        let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
        if lower == "daily" || lower == "hằng ngày" { self = .daily; return }
        self.init(parsingList: lower.split(separator: ",").map(String.init))
    }

    /// Parses a list of day names or ranges, e.g. `["mon", "wed-fri"]`.
    public init?(parsingList items: [String]) {
        var days = Set<Weekday>()
        for raw in items {
            let item = raw.lowercased().trimmingCharacters(in: .whitespaces)
            if item == "daily" { days.formUnion(Weekday.allCases); continue }
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            if ends.count == 1, let day = Weekday(rawValue: ends[0]) {
                days.insert(day)
            } else if ends.count == 2, let a = Weekday(rawValue: ends[0]), let b = Weekday(rawValue: ends[1]) {
                // A range may wrap over the weekend: "sat-mon".
                var i = a.index
                while true {
                    days.insert(Weekday.allCases[i])
                    if i == b.index { break }
                    i = (i + 1) % 7
                }
            } else {
                return nil
            }
        }
        guard !days.isEmpty else { return nil }
        self.days = days
    }

    public func contains(_ day: Weekday) -> Bool { days.contains(day) }

    /// `daily`, `mon-fri`, or `mon,wed`.
    public var description: String {
        if days.count == 7 { return "daily" }
        let sorted = days.sorted()
        let indices = sorted.map(\.index)
        if sorted.count > 2, indices.last.map({ $0 - indices[0] + 1 }) == sorted.count {
            return "\(sorted[0].rawValue)-\(sorted[sorted.count - 1].rawValue)"
        }
        return sorted.map(\.rawValue).joined(separator: ",")
    }
}

import Foundation
