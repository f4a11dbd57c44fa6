import Foundation

/// How a report groups airings.
public enum ReportGrouping: String, Sendable, Codable, CaseIterable {
    case pillar, segment
}

/// One line of a report.
public struct ReportRow: Sendable, Hashable, Codable {
    public var key: String
    public var label: String
    public var completed: Int
    public var truncated: Int
    public var interrupted: Int
    public var failed: Int
    public var airedSeconds: Double
    /// Airings (completed or truncated) the monitor line confirmed heard.
    public var confirmedHeard: Int
    /// Airings (completed or truncated) during which the monitor line was silent.
    public var confirmedSilent: Int

    public init(key: String, label: String, completed: Int = 0, truncated: Int = 0, interrupted: Int = 0,
                failed: Int = 0, airedSeconds: Double = 0, confirmedHeard: Int = 0, confirmedSilent: Int = 0) {
        self.key = key
        self.label = label
        self.completed = completed
        self.truncated = truncated
        self.interrupted = interrupted
        self.failed = failed
        self.airedSeconds = airedSeconds
        self.confirmedHeard = confirmedHeard
        self.confirmedSilent = confirmedSilent
    }

    /// Airings the monitor line judged, heard or silent: zero at a station without a monitor.
    public var monitored: Int { confirmedHeard + confirmedSilent }

    /// Airings that were heard: completed and truncated.
    public var airings: Int { completed + truncated }

    mutating func add(_ record: AiringRecord) {
        switch record.outcome {
        case .completed: completed += 1
        case .truncated: truncated += 1
        case .interrupted: interrupted += 1
        case .failed: failed += 1
        case .planned, .started, .skipped: break
        }
        airedSeconds += record.airedSeconds
        // Only airings are confirmed: an interrupted or failed row's verdict says nothing of an airing.
        if record.outcome == .completed || record.outcome == .truncated {
            switch record.confirmed {
            case .heard: confirmedHeard += 1
            case .silent: confirmedSilent += 1
            case nil: break
            }
        }
    }
}

/// Counts and airtime over a period.
public struct Report: Sendable, Hashable, Codable {
    public var from: LocalDate
    public var to: LocalDate
    public var by: ReportGrouping
    public var rows: [ReportRow]
    public var total: ReportRow
}

/// Builds reports from log rows. Pure.
public enum ReportBuilder {
    /// Groups `records` (already limited to the period) by `grouping`. Rows are sorted by key;
    /// every pillar appears in a pillar report, even with no airings, so a zero is visible.
    public static func build(records: [AiringRecord], from: LocalDate, to: LocalDate, by grouping: ReportGrouping) -> Report {
        var rows: [String: ReportRow] = [:]
        if grouping == .pillar {
            for pillar in Pillar.allCases { rows[pillar.rawValue] = ReportRow(key: pillar.rawValue, label: pillar.label) }
        }
        var total = ReportRow(key: "total", label: "Tổng cộng")
        // Rows not yet final or deliberately skipped are neither airings nor failures; jingles are not
        // segments and announcements are not programme airings.
        for record in records where record.outcome.isFinal && record.outcome != .skipped && record.kind == .segment {
            let key: String, label: String
            switch grouping {
            case .pillar:
                key = record.pillar?.rawValue ?? "khac"
                label = record.pillar?.label ?? "Khác (không thuộc trụ cột)"
            case .segment:
                key = record.segmentID
                label = record.title
            }
            rows[key, default: ReportRow(key: key, label: label)].add(record)
            total.add(record)
        }
        return Report(from: from, to: to, by: grouping, rows: rows.values.sorted { $0.key < $1.key }, total: total)
    }
}
