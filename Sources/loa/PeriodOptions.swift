import ArgumentParser
import Foundation
import LoaCore

/// Parses a `YYYY-MM-DD` the operator typed; `option` names the flag in the error.
func parseDate(_ text: String, option: String? = nil) throws -> LocalDate {
    guard let date = LocalDate(parsing: text) else {
        throw OperatorError((option.map { "\($0): " } ?? "") + "ngày không hợp lệ “\(text)” (cần YYYY-MM-DD)")
    }
    return date
}

/// `--from D --to D` (inclusive, station dates) shared by the log and the report.
struct PeriodOptions: ParsableArguments {
    @Option(help: "Từ ngày YYYY-MM-DD.") var from: String?
    @Option(help: "Đến ngày YYYY-MM-DD (tính cả ngày này).") var to: String?

    /// The dates given, either possibly missing; throws when the range is backwards.
    func dates() throws -> (from: LocalDate?, to: LocalDate?) {
        let start = try from.map { try parseDate($0, option: "--from") }
        let end = try to.map { try parseDate($0, option: "--to") }
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
