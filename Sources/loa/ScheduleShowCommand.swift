import ArgumentParser
import LoaConfig
import LoaCore
import LoaFeed
import LoaStore

struct ScheduleShowCommand: AsyncParsableCommand {
    /// What an item is called on screen: a relay by its source's label (`Tiếp sóng VOV1`) when `loa.toml` has one.
    static func title(_ item: PlannedItem, sources: [UpstreamSource]) -> String {
        guard item.kind == .relay, let name = Planner.relaySource(ofSegment: item.segment.id),
              let source = sources.first(where: { $0.name == name }) else { return item.segment.title }
        return Planner.relayTitle(source.label)
    }

    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Kế hoạch phát trong ngày: từng khung giờ và các bản tin theo thứ tự, kèm giờ.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Ngày YYYY-MM-DD (mặc định hôm nay).") var date: String?
    @Flag(help: "In JSON.") var json = false
    @Flag(help: "Cả tuần (thứ Hai đến Chủ nhật, có ngày --date) thành một lưới: mỗi hàng một khung giờ, mỗi cột một ngày.")
    var week = false

    struct ItemJSON: Encodable {
        let segment: String, title: String, kind: String, pillar: String?, path: String, starts_at: String, ends_at: String
        let duration_seconds: Double
    }
    struct SlotJSON: Encodable {
        let slot: String, starts_at: String, ends_at: String?, items: [ItemJSON], dropped: [String]
        /// Feed entries this slot would take that are listed by their feed but not downloaded yet.
        let pending: [PendingJSON]
        /// For a relay slot: its source and the fallback it loops through.
        let relay: RelayJSON?
    }
    /// A relay's source as `loa.toml` has it (`label`, `url` or `capture` absent when it does not name the source),
    /// and its fallback in the order it loops.
    struct RelayJSON: Encodable {
        let source: String, label: String?, url: String?, capture: String?, fallback: [FallbackJSON]
    }
    struct FallbackJSON: Encodable { let segment: String, title: String, kind: String, path: String, duration_seconds: Double }
    /// `refused`: the file came and was refused (hash, decoding); it is not coming until the publisher publishes again.
    struct PendingJSON: Encodable { let feed: String, id: String, title: String, path: String, refused: Bool }
    struct PlanJSON: Encodable { let date: String, station: String, slots: [SlotJSON] }

    func run() async throws {
        // A setup command, run before anything is imported: without a database the library is empty.
        let station = try global.station(.readOrEmpty)
        let calendar = station.config.calendar
        let day = try date.map { try parseDate($0) } ?? calendar.localDate(of: SystemClock().now())
        let library = try station.library.all()
        warnOfProblems(station.schedules.problems)
        let history = try station.log.history(recentSince: calendar.instant(day.adding(days: -8), .midnight))
        // Files of each feed refused for their content: listed, but not coming until the publisher publishes again.
        let rejected = Dictionary(try station.config.feeds.map { feed in (feed.name, try FeedStates(station.database).state(feed.name).rejected) },
                                  uniquingKeysWith: { $1 })
        // Each day's entries listed but not in the library, read once per day (each feed's kept manifest), not per slot.
        var pendingByDay: [LocalDate: [(feed: String, entry: FeedEntry)]] = [:]
        func pending(on day: LocalDate) -> [(feed: String, entry: FeedEntry)] {
            if let known = pendingByDay[day] { return known }
            let found = station.config.feeds.flatMap { feed in
                FeedFetcher.pending(feed: feed.name, audio: station.config.audio, library: library, on: day).map { (feed.name, $0) }
            }
            pendingByDay[day] = found
            return found
        }
        // Feed entries listed but not downloaded yet, that a slot of `day` is waiting for: entries its pillars
        // admit, or that its play list names (as id or feed path).
        func waiting(_ slot: PlannedSlot, on day: LocalDate) -> [(feed: String, entry: FeedEntry)] {
            pending(on: day).filter { feed, entry in
                switch slot.slot.content {
                case let .pick(pillars, _): entry.pillar.map(pillars.contains) ?? false
                case let .play(references): references.contains(entry.id) || references.contains("\(feed)/\(entry.path)")
                case .relay: false
                }
            }
        }
        let sources = station.config.sources
        func relayJSON(_ slot: PlannedSlot) -> RelayJSON? {
            guard case let .relay(spec) = slot.slot.content else { return nil }
            let source = sources.first { $0.name == spec.source }
            var url: String? = nil, capture: String? = nil
            switch source?.input {
            case let .stream(address): url = address
            case let .capture(device): capture = device
            case nil: break
            }
            return RelayJSON(source: spec.source, label: source?.label, url: url, capture: capture, fallback: slot.fallback.map {
                FallbackJSON(segment: $0.segment.id, title: $0.segment.title, kind: $0.kind.rawValue, path: $0.segment.path,
                             duration_seconds: $0.segment.durationSeconds)
            })
        }
        func planJSON(_ plan: DayPlan) -> PlanJSON {
            PlanJSON(date: plan.date.description, station: station.config.station, slots: plan.slots.map { slot in
                SlotJSON(slot: slot.slot.id, starts_at: calendar.rfc3339(slot.startsAt), ends_at: slot.endsAt.map(calendar.rfc3339),
                         items: slot.items.map { item in
                             ItemJSON(segment: item.segment.id, title: ScheduleShowCommand.title(item, sources: sources), kind: item.kind.rawValue,
                                      pillar: item.segment.pillar?.rawValue,
                                      path: item.segment.path, starts_at: calendar.rfc3339(item.startsAt),
                                      ends_at: calendar.rfc3339(item.endsAt), duration_seconds: item.segment.durationSeconds)
                         }, dropped: slot.dropped.map(\.description),
                         pending: waiting(slot, on: plan.date).map {
                             PendingJSON(feed: $0.feed, id: $0.entry.id, title: $0.entry.title, path: $0.entry.path,
                                         refused: rejected[$0.feed]?.contains($0.entry.sha256) == true)
                         }, relay: relayJSON(slot))
            })
        }
        if week {
            let plans = station.planner.plans(from: day.weekStart, days: 7, slots: station.schedules.slots, library: library,
                                              history: history)
            if json { return try printJSON(plans.map(planJSON)) }
            print("\(station.config.station) — lịch phát tuần \(day.weekStart) đến \(day.weekStart.adding(days: 6))")
            WeekGrid(plans: plans, sourceLabels: Dictionary(sources.map { ($0.name, $0.label) }, uniquingKeysWith: { a, _ in a }))
                .lines.forEach { print($0) }
            return
        }
        let plan = station.planner.plan(date: day, slots: station.schedules.slots, library: library, history: history)
        if json { return try printJSON(planJSON(plan)) }
        print("\(station.config.station) — kế hoạch phát \(day.weekday.label), \(day)")
        if plan.slots.isEmpty { print("Không có khung giờ nào trong ngày này.") }
        for slot in plan.slots {
            let end = slot.endsAt.map { "–" + calendar.clockTime($0) } ?? ""
            print("\n\(calendar.clockTime(slot.startsAt))\(end)  \(slot.slot.id)")
            for item in slot.items {
                print("  \(calendar.clockTime(item.startsAt))  \(ScheduleShowCommand.title(item, sources: sources))  [\(item.kind == .segment ? item.segment.pillar?.label ?? "—" : item.kind.label)]  \(formatSeconds(item.segment.durationSeconds))")
                if item.kind == .relay, case let .relay(spec) = slot.slot.content {
                    print("            " + (sources.first { $0.name == spec.source }.map { "nguồn “\($0.name)”: \($0.address)" }
                        ?? "⚠ nguồn “\(spec.source)” không có trong loa.toml: khung giờ này sẽ không tiếp sóng được"))
                }
            }
            if slot.items.isEmpty { print("  (không có bản tin nào)") }
            if case let .relay(spec) = slot.slot.content {
                if slot.fallback.isEmpty {
                    // A fallback named but not in the library is said among the dropped below.
                    if spec.fallback == .none { print("  ⚠ không có dự phòng: khi mất nguồn sẽ im lặng đến khi nguồn có tiếng lại") }
                } else {
                    print("  Dự phòng khi mất nguồn (phát lặp theo thứ tự):")
                    for item in slot.fallback {
                        print("    \(item.segment.title)  [\(item.kind == .segment ? item.segment.pillar?.label ?? "—" : item.kind.label)]  \(formatSeconds(item.segment.durationSeconds))")
                    }
                }
            }
            let waits = waiting(slot, on: day)
            // One file named as both intro and outro is one thing to fix: said once.
            var said = Set<String>()
            for reason in slot.dropped where said.insert(reason.description).inserted {
                // An explicit entry that a feed lists but has not delivered yet is waited for, not missing.
                if case let .notInLibrary(reference) = reason,
                   waits.contains(where: { reference == $0.entry.id || reference == "\($0.feed)/\($0.entry.path)" }) { continue }
                print("  ⚠ \(reason)")
            }
            for (feed, entry) in waits {
                if rejected[feed]?.contains(entry.sha256) == true {
                    print("  ⛔ bị từ chối: “\(entry.title)” (\(entry.id), feed “\(feed)”): tệp tải về không khớp mã băm hoặc không giải mã được; chờ bên phát xuất bản lại")
                } else {
                    print("  ⏳ chưa tải về: “\(entry.title)” (\(entry.id), feed “\(feed)”, \(formatSeconds(entry.durationSeconds)))")
                }
            }
        }
    }
}
