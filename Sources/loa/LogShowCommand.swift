import ArgumentParser
import Foundation
import LoaCore

struct LogShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Nhật ký phát: mỗi lượt phát một dòng (mặc định của “loa log”).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var period: PeriodOptions
    @Option(help: "table, csv hoặc json.") var format: OutputFormat = .table

    struct EntryJSON: Encodable {
        let id: Int64, slot: String, segment: String, title: String, pillar: String?, campaign: String?
        let scheduled_at: String, started_at: String?, ended_at: String?, aired_seconds: Double
        /// `reason` is the sentence (from ``ReasonCatalogue`` for a row with a code), `reason_code` the code (null for a
        /// row logged before codes).
        let outcome: String, onset_error_ms: Double?, reason: String?, reason_code: String?, device: String?
        /// `segment`, `jingle` or `announcement`; the lateness policy that placed the row, if any; seconds of it not heard.
        let kind: String, policy: String?, planned_seconds: Double, lost_seconds: Double, xruns: Int
        /// What the log keeps of the file aired, whether or not it is still in the library.
        let sha256: String?, category: String?, feed: String?
        /// The station that aired it and the Circular 39 level of the segment.
        let station: String?, priority: String?
        /// What the monitor input heard: `heard`, `silent`, or null without a monitor (always present); its level.
        let confirmed: Nullable<String>, monitor_dbfs: Double?
        /// The row whose stretch this one continues (an item cut and resumed), and where in the file its audio began.
        let continues: Int64?, from_seconds: Double
    }

    func run() async throws {
        let station = try global.station(.read)
        let calendar = station.config.calendar
        let range = try period.dates()
        let (start, end) = calendar.bounds(range.from, range.to)
        let records = try station.log.records(from: start, to: end)
        let entries = records.map { r in
            EntryJSON(id: r.id ?? 0, slot: r.slot, segment: r.segmentID, title: r.title, pillar: r.pillar?.rawValue,
                      campaign: r.campaign, scheduled_at: calendar.rfc3339(r.scheduledAt),
                      started_at: r.startedAt.map(calendar.rfc3339), ended_at: r.endedAt.map(calendar.rfc3339),
                      aired_seconds: roundedToMilliseconds(r.airedSeconds), outcome: r.outcome.rawValue,
                      onset_error_ms: r.onsetErrorMilliseconds, reason: r.reasonText, reason_code: r.reasonCode?.rawValue,
                      device: r.device, kind: r.kind.rawValue,
                      policy: r.policy?.rawValue, planned_seconds: roundedToMilliseconds(r.plannedSeconds),
                      lost_seconds: roundedToMilliseconds(r.lostSeconds), xruns: r.xruns, sha256: r.sha256,
                      category: r.category, feed: r.feed, station: r.station, priority: r.priority?.rawValue,
                      confirmed: Nullable(r.confirmed?.rawValue), monitor_dbfs: r.monitorDBFS.map { ($0 * 10).rounded() / 10 },
                      continues: r.continues, from_seconds: roundedToMilliseconds(r.fromSeconds))
        }
        switch format {
        case .json:
            try printJSON(entries)
        case .csv:
            print(CSV.record(["id", "slot", "segment", "title", "pillar", "campaign", "scheduled_at", "started_at", "ended_at",
                              "aired_seconds", "outcome", "onset_error_ms", "reason", "reason_code", "kind", "policy",
                              "planned_seconds", "lost_seconds", "xruns", "sha256", "category", "feed", "station", "priority",
                              "confirmed", "monitor_dbfs", "continues", "from_seconds"]), terminator: "")
            for e in entries {
                print(CSV.record([String(e.id), e.slot, e.segment, e.title, e.pillar ?? "", e.campaign ?? "", e.scheduled_at,
                                  e.started_at ?? "", e.ended_at ?? "", seconds(e.aired_seconds), e.outcome,
                                  e.onset_error_ms.map { String(Int($0)) } ?? "", e.reason ?? "", e.reason_code ?? "", e.kind,
                                  e.policy ?? "", seconds(e.planned_seconds), seconds(e.lost_seconds), String(e.xruns),
                                  e.sha256 ?? "", e.category ?? "", e.feed ?? "", e.station ?? "", e.priority ?? "",
                                  e.confirmed.value ?? "", e.monitor_dbfs.map { String($0) } ?? "",
                                  e.continues.map { String($0) } ?? "", seconds(e.from_seconds)]), terminator: "")
            }
        case .table:
            if records.isEmpty { print("Chưa có lượt phát nào trong khoảng này."); return }
            printTable(["#", "Ngày", "Giờ", "Khung giờ", "Loại", "Bản tin", "Trụ cột", "Đã phát", "Mất", "Kết quả", "Lệch (ms)"],
                       records.map { r in
                [String(r.id ?? 0), calendar.localDate(of: r.scheduledAt).description, calendar.clockTime(r.startedAt ?? r.scheduledAt),
                 r.slot, r.kind.label, r.title, r.pillar?.label ?? "—", formatSeconds(r.airedSeconds),
                 r.lostSeconds > 0 ? formatSeconds(r.lostSeconds) : "—",
                 r.outcome.label + (r.policy.map { " [late = \($0.rawValue)]" } ?? "") + (r.reasonText.map { " (\($0))" } ?? "")
                     + (r.continues.map { " [tiếp #\($0)]" } ?? ""),
                 // An announcement has no slot time to be late for: its onset is how long the item on air took to fade.
                 r.kind.airsNow ? "—" : r.onsetErrorMilliseconds.map { String(Int($0)) } ?? "—"]
            })
        }
    }
}
