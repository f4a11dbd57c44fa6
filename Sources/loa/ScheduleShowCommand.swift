import ArgumentParser
import LoaCore

struct ScheduleShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Kế hoạch phát trong ngày: từng khung giờ và các bản tin theo thứ tự, kèm giờ.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Ngày YYYY-MM-DD (mặc định hôm nay).") var date: String?
    @Flag(help: "In JSON.") var json = false

    struct ItemJSON: Encodable {
        let segment: String, title: String, kind: String, pillar: String?, path: String, starts_at: String, ends_at: String
        let duration_seconds: Double
    }
    struct SlotJSON: Encodable {
        let slot: String, starts_at: String, ends_at: String?, items: [ItemJSON], dropped: [String]
    }
    struct PlanJSON: Encodable { let date: String, station: String, slots: [SlotJSON] }

    func run() async throws {
        let station = try global.station()
        let calendar = station.config.calendar
        let day = try date.map { try parseDate($0) } ?? calendar.localDate(of: SystemClock().now())
        let plan = station.planner.plan(date: day, slots: station.schedules.slots, library: try station.library.all(),
                                        history: try station.log.history(
                                            recentSince: calendar.instant(day.adding(days: -8), .midnight)))
        if json {
            try printJSON(PlanJSON(date: day.description, station: station.config.station, slots: plan.slots.map { slot in
                SlotJSON(slot: slot.slot.id, starts_at: calendar.rfc3339(slot.startsAt), ends_at: slot.endsAt.map(calendar.rfc3339),
                         items: slot.items.map { item in
                             ItemJSON(segment: item.segment.id, title: item.segment.title, kind: item.kind.rawValue,
                                      pillar: item.segment.pillar?.rawValue,
                                      path: item.segment.path, starts_at: calendar.rfc3339(item.startsAt),
                                      ends_at: calendar.rfc3339(item.endsAt), duration_seconds: item.segment.durationSeconds)
                         }, dropped: slot.dropped.map(\.description))
            }))
            return
        }
        print("\(station.config.station) — kế hoạch phát \(day.weekday.label), \(day)")
        if plan.slots.isEmpty { print("Không có khung giờ nào trong ngày này.") }
        for slot in plan.slots {
            let end = slot.endsAt.map { "–" + calendar.clockTime($0) } ?? ""
            print("\n\(calendar.clockTime(slot.startsAt))\(end)  \(slot.slot.id)")
            for item in slot.items {
                print("  \(calendar.clockTime(item.startsAt))  \(item.segment.title)  [\(item.kind == .segment ? item.segment.pillar?.label ?? "—" : item.kind.label)]  \(formatSeconds(item.segment.durationSeconds))")
            }
            if slot.items.isEmpty { print("  (không có bản tin nào)") }
            for reason in slot.dropped { print("  ⚠ \(reason)") }
        }
    }
}
