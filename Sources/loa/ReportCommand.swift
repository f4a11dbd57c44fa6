import ArgumentParser
import Foundation
import LoaCore

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Số lượt phát và thời lượng theo trụ cột hoặc bản tin (mặc định: hôm nay).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var period: PeriodOptions
    @Option(help: "Cả năm YYYY.") var year: Int?
    @Option(help: "pillar hoặc segment.") var by: ReportGrouping = .pillar
    @Option(help: "table hoặc json.") var format: ReportFormat = .table

    enum ReportFormat: String, ExpressibleByArgument { case table, json }

    struct RowJSON: Encodable {
        let key: String, label: String, completed: Int, truncated: Int, interrupted: Int, failed: Int, aired_seconds: Double
        /// Airings the monitor line confirmed heard, and those it found silent (both 0 without a monitor).
        let confirmed_heard: Int, confirmed_silent: Int
        init(_ row: ReportRow) {
            key = row.key; label = row.label; completed = row.completed; truncated = row.truncated
            interrupted = row.interrupted; failed = row.failed; aired_seconds = roundedToMilliseconds(row.airedSeconds)
            confirmed_heard = row.confirmedHeard; confirmed_silent = row.confirmedSilent
        }
    }
    struct ReportJSON: Encodable {
        let station: String, from: String, to: String, by: String, rows: [RowJSON], total: RowJSON
    }

    func run() async throws {
        let station = try global.station()
        let calendar = station.config.calendar
        let today = calendar.localDate(of: SystemClock().now())
        let given = try period.dates()
        let from: LocalDate, to: LocalDate
        if let year {
            guard given.from == nil, given.to == nil else { throw OperatorError("dùng --year hoặc --from/--to, không dùng cả hai") }
            guard let first = LocalDate(year: year, month: 1, day: 1), let last = LocalDate(year: year, month: 12, day: 31) else {
                throw OperatorError("--year: năm không hợp lệ \(year)")
            }
            (from, to) = (first, last)
        } else {
            // Nothing given: today. Only --to: that day. Only --from: from then until today.
            (from, to) = (given.from ?? given.to ?? today, given.to ?? today)
        }
        if to < from { throw OperatorError("--to \(to) trước --from \(from)") }
        let (start, end) = calendar.bounds(from, to)
        let report = ReportBuilder.build(records: try station.log.records(from: start, to: end), from: from, to: to, by: by)
        switch format {
        case .json:
            try printJSON(ReportJSON(station: station.config.station, from: from.description, to: to.description,
                                     by: by.rawValue, rows: report.rows.map(RowJSON.init), total: RowJSON(report.total)))
        case .table:
            print("\(station.config.station) — báo cáo phát thanh từ \(from) đến \(to)")
            let heading = by == .pillar ? "Trụ cột" : "Bản tin"
            // The monitor's column only where a monitor judged something: zeros at a station without one would read as failures.
            let monitored = report.total.monitored > 0
            let rows = (report.rows + [report.total]).map { row in
                [row.label, String(row.completed), String(row.truncated), String(row.airings), formatSeconds(row.airedSeconds)]
                    + (monitored ? ["\(row.confirmedHeard)/\(row.monitored)"] : [])
            }
            printTable([heading, "Phát xong", "Bị cắt", "Số lượt phát", "Thời lượng phát"]
                       + (monitored ? ["Xác nhận nghe thấy"] : []), rows)
        }
    }
}

extension ReportGrouping: ExpressibleByArgument {}
