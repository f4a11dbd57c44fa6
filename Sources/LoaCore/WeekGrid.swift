import Foundation

extension Planner {
    /// The plans of `days` days from `first`, each day's picks counted before the next is planned, so the grid
    /// shows the rotation the daemon will make rather than the same picks seven times.
    public func plans(from first: LocalDate, days: Int, slots: [Slot], library: [Segment], history: AiringHistory) -> [DayPlan] {
        var history = history
        return (0..<days).map { n in
            let plan = self.plan(date: first.adding(days: n), slots: slots, library: library, history: history)
            for occurrence in plan.slots {
                for item in occurrence.items where item.kind == .segment { history.record(item.segment.id, at: item.startsAt) }
            }
            return plan
        }
    }
}

/// A week of plans drawn as a grid for a terminal: a row per slot (time and id), a column per day, and in each
/// cell what the slot airs that day, one item per line. Pure: the CLI prints ``lines``.
public struct WeekGrid: Sendable {
    /// Characters per day column; seven of them and the slot column fit a 132-column terminal.
    public static let cellWidth = 14

    public let lines: [String]

    /// `sourceLabels` gives the label of each relay source by name (`loa.toml`'s `[[source]]`s): a relay shows as
    /// `⇄ Tiếp sóng` over its source's label, apart from the files a slot plays.
    public init(plans: [DayPlan], sourceLabels: [String: String] = [:]) {
        let days = plans.map(\.date)
        // Slots in order of start, each once, as they appear across the week.
        var rows: [(slot: Slot, label: String)] = []
        for plan in plans {
            for occurrence in plan.slots where !rows.contains(where: { $0.slot.id == occurrence.slot.id }) {
                rows.append((occurrence.slot, ScheduleValidator.span(occurrence.slot)))
            }
        }
        rows.sort { ($0.slot.start, $0.slot.id) < ($1.slot.start, $1.slot.id) }
        // Wide enough for "HH:MM:SS–HH:MM:SS" and the ids, up to a limit that keeps the grid on a wide terminal.
        let labelWidth = min(20, ([11] + rows.flatMap { [$0.label.count, $0.slot.id.count] }).max() ?? 11)
        var out: [String] = []
        let rule = String(repeating: "─", count: labelWidth) + String(repeating: "┼" + String(repeating: "─", count: WeekGrid.cellWidth + 1), count: days.count)
        out.append(WeekGrid.row(label: "", width: labelWidth, cells: days.map { "\($0.weekday.shortLabel) \(WeekGrid.dayMonth($0))" }))
        out.append(rule)
        for (slot, label) in rows {
            let cells: [[String]] = plans.map { plan in
                guard let occurrence = plan.slots.first(where: { $0.slot.id == slot.id }) else { return ["·"] }
                if occurrence.items.isEmpty { return ["(trống)"] }
                return occurrence.items.flatMap { item -> [String] in
                    if item.kind == .relay, let source = Planner.relaySource(ofSegment: item.segment.id) {
                        return ["⇄ Tiếp sóng", "  " + (sourceLabels[source] ?? source)]
                    }
                    return [(item.kind == .segment ? "" : "♪ ") + item.segment.title]
                }
            }
            let height = max(2, cells.map(\.count).max() ?? 0)
            for line in 0..<height {
                let left = line == 0 ? label : line == 1 ? slot.id : ""
                out.append(WeekGrid.row(label: left, width: labelWidth, cells: cells.map { line < $0.count ? $0[line] : "" }))
            }
            out.append(rule)
        }
        if rows.isEmpty { out.append("Không có khung giờ nào trong tuần này.") }
        lines = out
    }

    static func row(label: String, width: Int, cells: [String]) -> String {
        let padded = [fit(label, width)] + cells.map { " " + fit($0, cellWidth) }
        return padded.joined(separator: "│").replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)
    }

    /// `text` cut or padded to `width` characters; a cut ends in "…".
    static func fit(_ text: String, _ width: Int) -> String {
        if text.count > width { return String(text.prefix(width - 1)) + "…" }
        return text + String(repeating: " ", count: width - text.count)
    }

    static func dayMonth(_ date: LocalDate) -> String { String(format: "%02d/%02d", date.day, date.month) }
}

extension Weekday {
    /// T2 … T7, CN, as Vietnamese calendars print them.
    public var shortLabel: String {
        switch self {
        case .mon: "T2"
        case .tue: "T3"
        case .wed: "T4"
        case .thu: "T5"
        case .fri: "T6"
        case .sat: "T7"
        case .sun: "CN"
        }
    }
}
