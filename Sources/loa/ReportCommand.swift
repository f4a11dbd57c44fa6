import ArgumentParser
import Foundation
import LoaConfig
import LoaCore
import LoaDaemon
import LoaStore

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Số tin bài, số lượt phát, thời lượng phát theo trụ cột, lĩnh vực, bản tin, chiến dịch, ngày, tuần, tháng.",
        discussion: """
            Chỉ lượt phát xong (completed) được tính là lượt phát; bị cắt, bị ngắt, lỗi, bỏ qua có cột riêng. Ngày, tuần, tháng \
            theo giờ của đài. Không có --from/--to/--year: hôm nay; --campaign không kèm ngày: từ lượt phát đầu đến lượt cuối \
            của chiến dịch. --merge đọc các tệp của “loa log export” từ nhiều xã (kiểm tra từng tệp, và chữ ký khi có --key).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var period: PeriodOptions
    @Option(help: "Cả năm YYYY.", transform: OptionValue.year) var year: Int?
    @Option(help: "Chỉ các lượt phát của chiến dịch này.") var campaign: String?
    @Option(help: "Nhóm theo: pillar, category, segment, campaign, day, week, month; nhiều cách cách nhau bằng dấu phẩy (html mặc định: pillar,category,campaign,month,segment).")
    var by: GroupingList?
    @Option(help: "table, csv, json hoặc html.") var format: ReportFormat = .table
    @Option(help: "Ghi báo cáo vào tệp này thay vì in ra (ví dụ bao-cao.html).") var out: String?
    @Option(help: "Đọc nhật ký này thay cho cơ sở dữ liệu trong loa.toml (ví dụ tệp của “loa simulate”).") var database: String?
    @Option(parsing: .upToNextOption, help: "Gộp báo cáo từ các tệp xuất của nhiều đài.") var merge: [String] = []
    @Option(parsing: .upToNextOption, help: "Khóa công khai (.pub) để kiểm tra chữ ký các tệp --merge.") var key: [String] = []

    enum ReportFormat: String, ExpressibleByArgument { case table, csv, json, html }

    /// `--by pillar,month`.
    struct GroupingList: ExpressibleByArgument {
        let groupings: [ReportGrouping]
        init?(argument: String) {
            let parsed = argument.split(separator: ",").map { ReportGrouping(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, !parsed.contains(nil) else { return nil }
            groupings = parsed.compactMap { $0 }
        }
    }

    func run() async throws {
        let groupings = by?.groupings ?? (format == .html ? [.pillar, .category, .campaign, .month, .segment] : [.pillar])
        if !merge.isEmpty {
            // The district may have no loa.toml: days are then Vietnam's.
            let calendar = try global.configFileIfAny().map { try StationConfig.load($0).calendar }
                ?? StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
            let merged = try ReportMerge(files: merge, keys: key).reports(
                calendar: calendar, period: { try requestedPeriod(calendar: calendar, default: $0) }, groupings: groupings,
                campaign: campaign)
            for note in merged.notes { FileHandle.standardError.write(Data((note + "\n").utf8)) }
            try write(merged.stations, total: merged.total)
            return
        }
        if !key.isEmpty { throw OperatorError("--key chỉ dùng với --merge") }
        var config = try StationConfig.load(global.configFile())
        if let database { config.database = URL(fileURLWithPath: database) }
        let station = try Station.load(config: config, access: .read)
        let calendar = config.calendar
        let span = try campaign.map { try station.log.campaignSpan($0) } ?? nil
        if let campaign, span == nil, period.from == nil, period.to == nil, year == nil {
            throw OperatorError("--campaign: nhật ký không có lượt phát nào của chiến dịch “\(campaign)”")
        }
        let (from, to) = try requestedPeriod(calendar: calendar, default: span.map {
            (calendar.localDate(of: $0.lowerBound), calendar.localDate(of: $0.upperBound))
        })
        let (start, end) = calendar.bounds(from, to)
        var accumulator = ReportAccumulator(station: config.station, calendar: calendar, from: from, to: to, by: groupings,
                                            campaign: campaign)
        try station.log.forEachReportRecord(from: start, to: end) { accumulator.add($0) }
        let report = accumulator.report(library: try station.library.everything(), sources: config.sources)
        try write([report], total: nil)
    }

    /// The period asked for: `--year`, `--from/--to`, else `fallback` (a campaign's own span, what merged
    /// exports cover), else today.
    func requestedPeriod(calendar: StationCalendar, default fallback: (LocalDate, LocalDate)?) throws -> (LocalDate, LocalDate) {
        let today = calendar.localDate(of: SystemClock().now())
        let given = try period.dates()
        if let year {
            guard given.from == nil, given.to == nil else { throw OperatorError("dùng --year hoặc --from/--to, không dùng cả hai") }
            guard let first = LocalDate(year: year, month: 1, day: 1), let last = LocalDate(year: year, month: 12, day: 31) else {
                throw OperatorError("--year: năm không hợp lệ \(year)")
            }
            return (first, last)
        }
        if given.from == nil, given.to == nil, let fallback { return fallback }
        // Nothing given: today. Only --to: that day. Only --from: from then until today.
        let (from, to) = (given.from ?? given.to ?? today, given.to ?? today)
        if to < from { throw OperatorError("--to \(to) trước --from \(from)") }
        return (from, to)
    }

    func write(_ reports: [Report], total: Report?) throws {
        if let out {
            let text = try document(reports, total: total)
            // Never a half-written report under the name asked for.
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: out))
            return
        }
        switch format {
        case .csv, .html, .json: FileHandle.standardOutput.write(Data(try document(reports, total: total).utf8))
        case .table:
            for (n, report) in (reports + (total.map { [$0] } ?? [])).enumerated() {
                if n > 0 { print("") }
                print("\(report.station) — báo cáo phát thanh \(ReportDocuments.period(report))")
                // The first four figures always show; a count that is zero all through (no emergencies, no monitor)
                // is left out of the screen's table, never out of CSV, JSON or HTML.
                let totals = ReportDocuments.figures(report.total)
                let shown = totals.indices.filter { $0 < 4 || totals[$0] != "0" }
                for table in report.tables {
                    print("")
                    printTable([table.by.heading] + shown.map { ReportDocuments.figureHeadings[$0] },
                               (table.rows + [report.total]).map { row in
                        let figures = ReportDocuments.figures(row)
                        return [row.label] + shown.map { figures[$0] }
                    })
                }
                if !report.relays.isEmpty {
                    print("")
                    printTable(ReportDocuments.relayHeadings, report.relays.map(ReportDocuments.relayFigures))
                }
            }
        }
    }

    /// The report as the file `--format` names; the screen's table as printed.
    func document(_ reports: [Report], total: Report?) throws -> String {
        switch format {
        case .csv: return ReportDocuments.csv(reports, total: total)
        case .html: return ReportDocuments.html(reports, total: total)
        case .json:
            if let total { return try jsonText(MergedJSON(stations: reports.map(ReportJSON.init), total: ReportJSON(total))) }
            return try jsonText(reports.first.map(ReportJSON.init))
        case .table: throw OperatorError("--out: dùng kèm --format csv, json hoặc html")
        }
    }

    struct RowJSON: Encodable {
        let key: String, label: String, items: Int, airings: Int, completed: Int, truncated: Int, interrupted: Int, failed: Int
        let skipped: Int, emergency: Int, confirmed_heard: Int, confirmed_silent: Int, aired_seconds: Double
        let requested_seconds: Double
        init(_ row: ReportRow) {
            key = row.key; label = row.label; items = row.items; airings = row.airings; completed = row.completed
            truncated = row.truncated; interrupted = row.interrupted; failed = row.failed; skipped = row.skipped
            emergency = row.emergency; confirmed_heard = row.confirmedHeard; confirmed_silent = row.confirmedSilent
            aired_seconds = roundedToMilliseconds(row.airedSeconds); requested_seconds = roundedToMilliseconds(row.requestedSeconds)
        }
    }
    struct TableJSON: Encodable { let by: String, rows: [RowJSON] }
    struct RequestJSON: Encodable {
        let segment: String, title: String, feed: String?, per_week: Int?, total: Int?, requested: Int, aired: Int
    }
    struct MonthJSON: Encodable { let month: String, pillar: String, airings: Int }
    /// The brief's `{"from","to","by","rows","total"}` (the first grouping), with every grouping in `tables`.
    struct ReportJSON: Encodable {
        let station: String, from: String, to: String, campaign: String?, by: String, rows: [RowJSON], total: RowJSON
        let tables: [TableJSON], requests: [RequestJSON], chart: [MonthJSON]
        /// Each source's relays (thời lượng tiếp sóng), apart from the bulletins' figures.
        let relays: [RelayJSON]
        init(_ report: Report) {
            station = report.station; from = report.from.description; to = report.to.description; campaign = report.campaign
            by = report.tables.first?.by.rawValue ?? ""; rows = report.tables.first?.rows.map(RowJSON.init) ?? []
            total = RowJSON(report.total)
            tables = report.tables.map { TableJSON(by: $0.by.rawValue, rows: $0.rows.map(RowJSON.init)) }
            requests = report.requests.map { r in
                var (week, whole): (Int?, Int?) = (nil, nil)
                switch r.request {
                case let .perWeek(n): week = n
                case let .total(n): whole = n
                }
                return RequestJSON(segment: r.segment, title: r.title, feed: r.feed, per_week: week, total: whole,
                                   requested: r.requested, aired: r.aired)
            }
            chart = report.chart.map { MonthJSON(month: $0.month, pillar: $0.pillar, airings: $0.airings) }
            relays = report.relays.map(RelayJSON.init)
        }
    }
    struct RelayJSON: Encodable {
        let source: String, label: String, occurrences: Int, planned_seconds: Double, relayed_seconds: Double
        let fallback_seconds: Double
        init(_ relay: RelayAirtime) {
            source = relay.source; label = relay.label; occurrences = relay.occurrences
            planned_seconds = roundedToMilliseconds(relay.plannedSeconds); relayed_seconds = roundedToMilliseconds(relay.relayedSeconds)
            fallback_seconds = roundedToMilliseconds(relay.fallbackSeconds)
        }
    }
    struct MergedJSON: Encodable { let stations: [ReportJSON], total: ReportJSON }
}

extension ReportGrouping: ExpressibleByArgument {}
