import Foundation
import LoaCore
import LoaFeed
import LoaStore

/// `loa report --merge`: several communes' exports (`loa log export`), each checked, reported one station
/// each and in total.
struct ReportMerge {
    let files: [String]
    /// Public keys (`PREFIX.pub` files or the base64 lines) any of which may have signed each file.
    let keys: [String]

    struct Result {
        var stations: [Report]
        var total: Report
        /// What the operator should know but that does not stop the report (signatures not checked).
        var notes: [String]
    }

    /// Reads and checks every file, then reports over `period(calendar, what the files cover)`.
    func reports(calendar: StationCalendar, period: ((LocalDate, LocalDate)?) throws -> (LocalDate, LocalDate),
                 groupings: [ReportGrouping], campaign: String?) throws -> Result {
        let publicKeys = keys.map { ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? $0).trimmingCharacters(in: .whitespacesAndNewlines) }
        var byStation: [String: [AiringRecord]] = [:]
        var seen: [String: Set<Int64>] = [:]
        var notes: [String] = []
        for file in files {
            guard FileManager.default.isReadableFile(atPath: file) else { throw OperatorError("\(file): không đọc được") }
            let (verdict, digest, records) = AiringExport.records(fileAt: file)
            if case let .broken(reason) = verdict { throw OperatorError("\(file): \(reason)") }
            if publicKeys.isEmpty {
                notes.append("\(file): chưa kiểm chữ ký (thêm --key KHÓA.pub của đài)")
            } else {
                guard let signature = try? String(contentsOfFile: file + ".sig", encoding: .utf8) else {
                    throw OperatorError("\(file).sig: không đọc được chữ ký (tệp xuất đi kèm tệp .sig)")
                }
                guard FeedSigning.signer(of: digest, signature: signature, publicKeys: publicKeys) != nil else {
                    throw OperatorError("\(file): chữ ký sai, hoặc không phải của khóa nào trong --key")
                }
            }
            // An export from before stations were logged is named by its file.
            let fallback = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            for record in records {
                let station = record.station ?? fallback
                // Exports of overlapping periods hold some rows twice: each airing counts once.
                guard seen[station, default: []].insert(record.id ?? 0).inserted else { continue }
                byStation[station, default: []].append(record)
            }
        }
        let all = byStation.values.joined()
        let covered = all.map { calendar.localDate(of: $0.scheduledAt) }
        let (from, to) = try period(covered.min().flatMap { first in covered.max().map { (first, $0) } })
        let (start, end) = calendar.bounds(from, to)
        func within(_ records: [AiringRecord]) -> [AiringRecord] {
            records.filter { record in
                (start.map { record.scheduledAt >= $0 } ?? true) && (end.map { record.scheduledAt < $0 } ?? true)
            }
        }
        let stations = byStation.keys.sorted().map { station in
            ReportBuilder.build(station: station, records: within(byStation[station] ?? []), calendar: calendar, from: from,
                                to: to, by: groupings, campaign: campaign)
        }
        let total = ReportBuilder.build(station: "Tổng cộng \(stations.count) đài", records: within(Array(all)),
                                        calendar: calendar, from: from, to: to, by: groupings, campaign: campaign)
        return Result(stations: stations, total: total, notes: notes)
    }
}
