import ArgumentParser
import Foundation
import LoaCore

/// `--from D --to D` (inclusive, station dates) shared by the log and the report.
struct PeriodOptions: ParsableArguments {
    @Option(help: "Từ ngày YYYY-MM-DD.") var from: String?
    @Option(help: "Đến ngày YYYY-MM-DD (tính cả ngày này).") var to: String?

    func date(_ text: String?, _ flag: String) throws -> LocalDate? {
        guard let text else { return nil }
        guard let date = LocalDate(parsing: text) else { throw OperatorError("\(flag): ngày không hợp lệ “\(text)” (cần YYYY-MM-DD)") }
        return date
    }

    /// The dates asked for, with `fallback` for a missing end; throws when the range is backwards.
    func range(fallbackFrom: LocalDate?, fallbackTo: LocalDate?) throws -> (from: LocalDate?, to: LocalDate?) {
        let start = try date(from, "--from") ?? fallbackFrom
        let end = try date(to, "--to") ?? fallbackTo
        if let start, let end, end < start { throw OperatorError("--to \(end) trước --from \(start)") }
        return (start, end)
    }
}

extension StationCalendar {
    /// Start of `from` to start of the day after `to`, as instants.
    func bounds(_ from: LocalDate?, _ to: LocalDate?) -> (Date?, Date?) {
        (from.map { instant($0, .midnight) }, to.map { instant($0.adding(days: 1), .midnight) })
    }
}
