import Foundation

/// How a report groups airings. Days, weeks (ISO, Monday first) and months are the station's.
public enum ReportGrouping: String, Sendable, Codable, CaseIterable {
    case pillar, category, segment, campaign, day, week, month

    /// The heading of the grouping's first column.
    public var heading: String {
        switch self {
        case .pillar: "Trụ cột"
        case .category: "Lĩnh vực"
        case .segment: "Bản tin"
        case .campaign: "Chiến dịch"
        case .day: "Ngày"
        case .week: "Tuần"
        case .month: "Tháng"
        }
    }
}

/// One line of a report: the province's figures for one group of airings.
public struct ReportRow: Sendable, Hashable, Codable {
    public var key: String
    public var label: String
    /// Items (số tin bài): distinct segments with at least one completed airing.
    public var items: Int
    /// Airings (số lượt phát): only `completed` rows count.
    public var completed: Int
    public var truncated: Int
    public var interrupted: Int
    public var failed: Int
    /// Deliberately not aired (the daemon was not running, a late entry): what the plan asked and did not get.
    public var skipped: Int
    /// Completed airings of emergency bulletins.
    public var emergency: Int
    /// Completed airings the monitor line heard, and those it found silent.
    public var confirmedHeard: Int
    public var confirmedSilent: Int
    /// Airtime (thời lượng phát): seconds heard, whatever became of the airing.
    public var airedSeconds: Double
    /// Requested duration: seconds the stored plans asked to air.
    public var requestedSeconds: Double

    public init(key: String, label: String, items: Int = 0, completed: Int = 0, truncated: Int = 0, interrupted: Int = 0,
                failed: Int = 0, skipped: Int = 0, emergency: Int = 0, confirmedHeard: Int = 0, confirmedSilent: Int = 0,
                airedSeconds: Double = 0, requestedSeconds: Double = 0) {
        self.key = key
        self.label = label
        self.items = items
        self.completed = completed
        self.truncated = truncated
        self.interrupted = interrupted
        self.failed = failed
        self.skipped = skipped
        self.emergency = emergency
        self.confirmedHeard = confirmedHeard
        self.confirmedSilent = confirmedSilent
        self.airedSeconds = airedSeconds
        self.requestedSeconds = requestedSeconds
    }

    /// Airings (số lượt phát): completed only.
    public var airings: Int { completed }

    mutating func add(_ record: AiringRecord) {
        switch record.countedOutcome {
        case .completed:
            completed += 1
            if record.kind == .emergency { emergency += 1 }
            if record.confirmed == .heard { confirmedHeard += 1 }
            if record.confirmed == .silent { confirmedSilent += 1 }
        case .truncated: truncated += 1
        case .interrupted: interrupted += 1
        case .failed: failed += 1
        case .skipped: skipped += 1
        case .planned, .started: return
        }
        airedSeconds += record.airedSeconds
        requestedSeconds += record.plannedSeconds
    }
}

/// A report's rows under one grouping.
public struct ReportTable: Sendable, Hashable, Codable {
    public var by: ReportGrouping
    public var rows: [ReportRow]
}

/// A segment whose publisher asked for a number of airings: what was asked over the period and what aired.
public struct RequestRow: Sendable, Hashable, Codable {
    public var segment: String
    public var title: String
    public var feed: String?
    public var request: RequestedAirings
    /// Airings asked for over the report's period: `per_week` times the weeks (Monday to Sunday) of the period
    /// within the segment's dates; a `total` whole.
    public var requested: Int
    /// Completed airings in the period.
    public var aired: Int
}

/// Completed airings of one pillar in one month: the report's chart.
public struct MonthlyAirings: Sendable, Hashable, Codable {
    /// `YYYY-MM`.
    public var month: String
    /// A pillar's slug, or `khac` for segments without one.
    public var pillar: String
    public var airings: Int
}

/// One upstream's relays over a period (thời lượng tiếp sóng): counted apart from bulletins, never as an airing.
public struct RelayAirtime: Sendable, Hashable, Codable {
    /// The `[[source]]`'s name.
    public var source: String
    /// Its label in `loa.toml`; the name when the report has none (a source since removed, a merge).
    public var label: String
    /// Relay slots that came due and were closed, whatever became of them.
    public var occurrences: Int
    /// Seconds the plans gave the relays.
    public var plannedSeconds: Double
    /// Seconds the upstream was heard.
    public var relayedSeconds: Double
    /// Seconds the fallback aired in those slots while the upstream was not heard.
    public var fallbackSeconds: Double

    public init(source: String, label: String, occurrences: Int = 0, plannedSeconds: Double = 0, relayedSeconds: Double = 0,
                fallbackSeconds: Double = 0) {
        self.source = source
        self.label = label
        self.occurrences = occurrences
        self.plannedSeconds = plannedSeconds
        self.relayedSeconds = relayedSeconds
        self.fallbackSeconds = fallbackSeconds
    }
}

/// Counts and airtime of one station over a period.
public struct Report: Sendable, Hashable, Codable {
    public var station: String
    public var from: LocalDate
    public var to: LocalDate
    /// Only this campaign's airings, when asked.
    public var campaign: String?
    public var tables: [ReportTable]
    public var total: ReportRow
    public var requests: [RequestRow]
    public var chart: [MonthlyAirings]
    /// Each source's relays: those of `loa.toml` (zero when none came due), then any other the log names.
    public var relays: [RelayAirtime]
}

/// A report built one log row at a time, so a year of rows is never held (`loa report` feeds it from a cursor).
/// Pure: ``add(_:)`` each row of the period, then ``report(library:)``.
public struct ReportAccumulator: Sendable {
    public let station: String
    public let calendar: StationCalendar
    public let from: LocalDate, to: LocalDate
    public let groupings: [ReportGrouping]
    public let campaign: String?
    private var rows: [[String: ReportRow]]
    private var items: [[String: Set<String>]]
    private var total = ReportRow(key: "total", label: "Tổng cộng")
    private var allItems = Set<String>()
    private var chart: [String: Int] = [:]
    private var completedBySegment: [String: Int] = [:]
    private var dayOfQuarter: [Int: LocalDate] = [:]
    private var relays: [String: RelayAirtime] = [:]
    /// The source each relay occurrence (slot and start) took, and the seconds its fallback aired: a fallback's row
    /// is a segment or a jingle of the occurrence, not of the source, and may come before the relay's row.
    private var relayOfOccurrence: [String: String] = [:]
    private var fallbackOfOccurrence: [String: Double] = [:]

    public init(station: String, calendar: StationCalendar, from: LocalDate, to: LocalDate, by groupings: [ReportGrouping],
                campaign: String? = nil) {
        self.station = station
        self.calendar = calendar
        self.from = from
        self.to = to
        self.groupings = groupings
        self.campaign = campaign
        rows = Array(repeating: [:], count: groupings.count)
        items = Array(repeating: [:], count: groupings.count)
    }

    /// Counts `record` if it is a final row of a segment or an emergency bulletin (of the campaign, when asked):
    /// jingles and announcements are not bulletins. Rows come in planned order (by planned time, then id): the
    /// stretches of an item cut and resumed follow each other, and are counted as one airing (``Stretches``).
    public mutating func add(_ record: consuming AiringRecord) {
        stretches.add(record, handingOn: &joined)
        for item in joined { count(item) }
        joined.removeAll(keepingCapacity: true)
    }

    private var stretches = Stretches()
    /// The items ``stretches`` handed on, to count: kept, so that a row costs no allocation.
    private var joined: [AiringRecord] = []

    private mutating func count(_ record: AiringRecord) {
        guard record.outcome.isFinal, campaign == nil || record.campaign == campaign else { return }
        if record.kind == .relay {
            countRelay(record)
            return
        }
        if record.reasonCode?.isRelay == true {
            fallbackOfOccurrence[Self.occurrence(record), default: 0] += record.airedSeconds
        }
        // Jingles and announcements are not bulletins; a relay is airtime, not an airing of a segment.
        guard record.kind == .segment || record.kind == .emergency else { return }
        let day = stationDay(record.scheduledAt)
        let completed = record.countedOutcome == .completed
        for index in groupings.indices {
            let (key, label) = ReportBuilder.group(record, day: day, by: groupings[index])
            rows[index][key, default: ReportRow(key: key, label: label)].add(record)
            if completed { items[index][key, default: []].insert(record.segmentID) }
        }
        total.add(record)
        if completed {
            allItems.insert(record.segmentID)
            chart[ReportBuilder.monthKey(day) + "\u{1F}" + (record.pillar?.rawValue ?? "khac"), default: 0] += 1
            completedBySegment[record.segmentID, default: 0] += 1
        }
    }

    /// A relay's row (its stretches joined): the seconds planned and heard, under its source.
    private mutating func countRelay(_ record: AiringRecord) {
        let source = Planner.relaySource(ofSegment: record.segmentID) ?? record.segmentID
        relayOfOccurrence[Self.occurrence(record)] = source
        relays[source, default: RelayAirtime(source: source, label: source)].occurrences += 1
        relays[source]?.plannedSeconds += record.plannedSeconds
        relays[source]?.relayedSeconds += record.airedSeconds
    }

    private static func occurrence(_ record: AiringRecord) -> String {
        (record.station ?? "") + "\u{1F}" + record.slot + "\u{1F}" + String(record.slotStartsAt.timeIntervalSince1970)
    }

    /// Foundation's calendar for every row was a fifth of a year's report; every time zone's offset is a whole
    /// number of quarter hours, so all instants of a quarter hour fall on the same station day.
    private mutating func stationDay(_ instant: Date) -> LocalDate {
        let quarter = Int((instant.timeIntervalSince1970 / 900).rounded(.down))
        if let day = dayOfQuarter[quarter] { return day }
        let day = calendar.localDate(of: instant)
        dayOfQuarter[quarter] = day
        return day
    }

    /// The report of what was added. Every pillar appears in a pillar table and every day, week or month of the
    /// period in its table, so a zero is visible. `library` gives the requests of segments whose feed asked for a
    /// number of airings.
    /// `sources` (`loa.toml`'s) label the relays, and each has its line even when none came due.
    public func report(library: [Segment] = [], sources: [UpstreamSource] = []) -> Report {
        var all = self
        var joined: [AiringRecord] = []
        all.stretches.flush(handingOn: &joined)
        for item in joined { all.count(item) }
        return all.counted(library: library, sources: sources)
    }

    /// Each source's relays with its fallback's seconds, `sources` first in their order, then the rest by name. A
    /// campaign's report has none: a relay belongs to no campaign.
    private func relayAirtime(sources: [UpstreamSource]) -> [RelayAirtime] {
        guard campaign == nil else { return [] }
        var relays = self.relays
        for (occurrence, seconds) in fallbackOfOccurrence {
            // A fallback whose relay row was planned outside the period (a slot across midnight) is not counted.
            guard let source = relayOfOccurrence[occurrence] else { continue }
            relays[source]?.fallbackSeconds += seconds
        }
        let named = sources.map { source in
            var relay = relays[source.name] ?? RelayAirtime(source: source.name, label: source.label)
            relay.label = source.label
            return relay
        }
        let known = Set(sources.map(\.name))
        return named + relays.values.filter { !known.contains($0.source) }.sorted { $0.source < $1.source }
    }

    private func counted(library: [Segment], sources: [UpstreamSource]) -> Report {
        let tables = groupings.indices.map { index in
            ReportTable(by: groupings[index], rows: ReportBuilder.ordered(rows[index], items: items[index], by: groupings[index],
                                                                          from: from, to: to))
        }
        var total = self.total
        total.items = allItems.count
        let months = ReportBuilder.periods(from: from, to: to, by: .month).map(\.key)
        let pillars = Pillar.allCases.map(\.rawValue) + (chart.keys.contains { $0.hasSuffix("\u{1F}khac") } ? ["khac"] : [])
        return Report(
            station: station, from: from, to: to, campaign: campaign, tables: tables, total: total,
            requests: ReportBuilder.requests(completedBySegment, library: library, from: from, to: to),
            chart: months.flatMap { month in
                pillars.map { MonthlyAirings(month: month, pillar: $0, airings: chart[month + "\u{1F}" + $0] ?? 0) }
            }, relays: relayAirtime(sources: sources))
    }
}

/// The stretches of an item cut (a preemption, a restart) and resumed, joined into one airing: a report counts the
/// item once. The joined row is the first stretch's, with the seconds heard of every stretch summed and the best
/// outcome any stretch had (`completed`, then `truncated`: heard if any stretch was heard; then `interrupted`,
/// `failed`, `skipped`), and `heard` when the monitor heard any stretch. Pure, and one row at a time: rows come in
/// planned order, and a stretch has its item's planned time, so the rows of an item are all in once a later
/// planned time comes.
struct Stretches: Sendable {
    /// The items of the current planned time, in the order they came (a few at most: one per slot at that second).
    private var items: [AiringRecord] = []
    /// For each of ``items``, the id of its last stretch: what the next stretch names. Ids are a station's own (the
    /// exports of several stations merged may share them), so a stretch joins an item of its own station only.
    private var lastIDs: [Int64?] = []
    private var instant: Date?

    /// Takes `record`; appends to `whole` the items now whole (every row of an earlier planned time is in).
    mutating func add(_ record: consuming AiringRecord, handingOn whole: inout [AiringRecord]) {
        if record.scheduledAt != instant {
            flush(handingOn: &whole)
            instant = record.scheduledAt
        }
        if let continued = record.continues,
           let index = lastIDs.indices.first(where: { lastIDs[$0] == continued && items[$0].station == record.station }) {
            lastIDs[index] = record.id
            items[index] = Self.joined(items[index], record)
            return
        }
        lastIDs.append(record.id)
        items.append(record)
    }

    /// Appends every item held to `whole`, in order.
    mutating func flush(handingOn whole: inout [AiringRecord]) {
        if whole.isEmpty {
            swap(&whole, &items)
        } else {
            whole.append(contentsOf: items)
            items.removeAll(keepingCapacity: true)
        }
        lastIDs.removeAll(keepingCapacity: true)
    }

    private static func joined(_ item: AiringRecord, _ stretch: AiringRecord) -> AiringRecord {
        var item = item
        item.airedSeconds += stretch.airedSeconds
        if rank(stretch.outcome) > rank(item.outcome) { item.outcome = stretch.outcome }
        if stretch.confirmed == .heard || item.confirmed == nil { item.confirmed = stretch.confirmed ?? item.confirmed }
        return item
    }

    private static func rank(_ outcome: AiringOutcome) -> Int {
        switch outcome {
        case .completed: 6
        case .truncated: 5
        case .interrupted: 4
        case .failed: 3
        case .skipped: 2
        case .started: 1
        case .planned: 0
        }
    }
}

/// Builds reports from log rows. Pure.
public enum ReportBuilder {
    /// The report of `records` (already limited to the period) under each of `groupings` (``ReportAccumulator``), in
    /// planned order whatever their order here (an export is in chain order).
    public static func build(station: String, records: [AiringRecord], calendar: StationCalendar, from: LocalDate,
                             to: LocalDate, by groupings: [ReportGrouping], campaign: String? = nil,
                             library: [Segment] = [], sources: [UpstreamSource] = []) -> Report {
        var accumulator = ReportAccumulator(station: station, calendar: calendar, from: from, to: to, by: groupings,
                                            campaign: campaign)
        let planned = records.sorted { ($0.scheduledAt, $0.station ?? "", $0.id ?? 0) < ($1.scheduledAt, $1.station ?? "", $1.id ?? 0) }
        for record in planned { accumulator.add(record) }
        return accumulator.report(library: library, sources: sources)
    }

    /// A table's rows in reading order: pillars in their order, periods in time order (each one of the period,
    /// counted or not), the rest by label; with the items of each row.
    static func ordered(_ counted: [String: ReportRow], items: [String: Set<String>], by grouping: ReportGrouping,
                        from: LocalDate, to: LocalDate) -> [ReportRow] {
        var rows = counted
        var order: [String] = []
        switch grouping {
        case .pillar: order = Pillar.allCases.map(\.rawValue)
        case .day, .week, .month: order = periods(from: from, to: to, by: grouping).map(\.key)
        case .category, .segment, .campaign: break
        }
        for key in order where rows[key] == nil { rows[key] = ReportRow(key: key, label: label(key: key, by: grouping)) }
        for (key, segments) in items { rows[key]?.items = segments.count }
        let known = Set(order)
        let rest = rows.keys.filter { !known.contains($0) }.sorted { a, b in
            // In the order of their labels as a Vietnamese reader sorts them; the group without a value last.
            if a.isEmpty != b.isEmpty { return b.isEmpty }
            return (vietnameseSortKey(rows[a]?.label ?? a), a) < (vietnameseSortKey(rows[b]?.label ?? b), b)
        }
        return (order + rest).compactMap { rows[$0] }
    }

    /// The group a record falls in, as a key and the label a person reads.
    static func group(_ record: AiringRecord, day: LocalDate, by grouping: ReportGrouping) -> (String, String) {
        switch grouping {
        case .pillar: (record.pillar?.rawValue ?? "khac", record.pillar?.label ?? "Khác (không thuộc trụ cột)")
        case .category: (record.category ?? "", record.category ?? "(không có lĩnh vực)")
        case .segment: (record.segmentID, record.title)
        case .campaign: (record.campaign ?? "", record.campaign ?? "(ngoài chiến dịch)")
        case .day, .week, .month:
            (periodKey(day, by: grouping), label(key: periodKey(day, by: grouping), by: grouping))
        }
    }

    static func periodKey(_ day: LocalDate, by grouping: ReportGrouping) -> String {
        grouping == .day ? day.description : grouping == .week ? weekKey(day) : monthKey(day)
    }

    /// Every day, week or month that `from...to` touches, in order.
    static func periods(from: LocalDate, to: LocalDate, by grouping: ReportGrouping) -> [(key: String, first: LocalDate)] {
        var out: [(String, LocalDate)] = []
        var day = from
        while day <= to {
            let key = periodKey(day, by: grouping)
            if out.last?.0 != key { out.append((key, day)) }
            day = day.adding(days: 1)
        }
        return out
    }

    static func monthKey(_ day: LocalDate) -> String { String(day.description.prefix(7)) }

    /// The ISO 8601 week of `day`: `2026-W46`. A week belongs to the year of its Thursday.
    static func weekKey(_ day: LocalDate) -> String {
        let (year, week) = isoWeek(day)
        return "\(year)-W" + (week < 10 ? "0\(week)" : "\(week)")
    }

    static func isoWeek(_ day: LocalDate) -> (year: Int, week: Int) {
        let monday = day.adding(days: -(Weekday.allCases.firstIndex(of: day.weekday) ?? 0))
        let thursday = monday.adding(days: 3)
        let january1 = LocalDate(year: thursday.year, month: 1, day: 1) ?? thursday
        return (thursday.year, (thursday.dayNumber - january1.dayNumber) / 7 + 1)
    }

    /// The label of a period key: `Thứ Năm 12/11/2026`, `Tuần 46/2026 (09/11–15/11)`, `Tháng 11/2026`.
    static func label(key: String, by grouping: ReportGrouping) -> String {
        switch grouping {
        case .pillar: return Pillar(rawValue: key)?.label ?? key
        case .day:
            guard let day = LocalDate(parsing: key) else { return key }
            return "\(day.weekday.label) \(dayMonth(day))/\(day.year)"
        case .week:
            let parts = key.split(separator: "-W")
            guard parts.count == 2, let year = Int(parts[0]), let week = Int(parts[1]),
                  let january4 = LocalDate(year: year, month: 1, day: 4) else { return key }
            let monday = january4.adding(days: -(Weekday.allCases.firstIndex(of: january4.weekday) ?? 0) + (week - 1) * 7)
            return "Tuần \(week)/\(year) (\(dayMonth(monday))–\(dayMonth(monday.adding(days: 6))))"
        case .month:
            let parts = key.split(separator: "-")
            guard parts.count == 2, let month = Int(parts[1]) else { return key }
            return "Tháng \(month)/\(parts[0])"
        case .category, .segment, .campaign: return key
        }
    }

    private static func dayMonth(_ day: LocalDate) -> String {
        (day.day < 10 ? "0\(day.day)" : "\(day.day)") + "/" + (day.month < 10 ? "0\(day.month)" : "\(day.month)")
    }

    /// What each requesting segment was asked for over the period and how often it aired.
    static func requests(_ aired: [String: Int], library: [Segment], from: LocalDate, to: LocalDate) -> [RequestRow] {
        library.compactMap { segment -> RequestRow? in
            guard let origin = segment.origin, let request = origin.requested else { return nil }
            let first = max(from, origin.validFrom ?? from), last = min(to, origin.validUntil ?? to)
            let requested: Int
            switch request {
            case let .total(n): requested = n
            case let .perWeek(n): requested = first <= last ? n * periods(from: first, to: last, by: .week).count : 0
            }
            guard requested > 0 || aired[segment.id] != nil else { return nil }
            return RequestRow(segment: segment.id, title: segment.title, feed: origin.feed, request: request,
                              requested: requested, aired: aired[segment.id] ?? 0)
        }.sorted { (vietnameseSortKey($0.title), $0.segment) < (vietnameseSortKey($1.title), $1.segment) }
    }
}

/// Sorts text as the Vietnamese alphabet does, near enough for a report: letters before their tone and vowel
/// marks (`Tổng` before `Tuần`, though Unicode order puts `ổ` after `u`), and `đ` its own letter after `d`.
public func vietnameseSortKey(_ text: String) -> String {
    text.lowercased().replacingOccurrences(of: "đ", with: "d{").folding(options: .diacriticInsensitive, locale: nil)
}

/// Seconds as `h:mm:ss`, the way airtime is written in a report: `1:02:03`, `0:00:45`.
public func clockDuration(_ seconds: Double) -> String {
    let whole = Int(seconds.rounded())
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
    return "\(h):" + (m < 10 ? "0\(m)" : "\(m)") + ":" + (s < 10 ? "0\(s)" : "\(s)")
}
