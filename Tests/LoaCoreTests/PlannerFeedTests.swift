import Foundation
import LoaCore
import Testing

/// How fetched segments join the picks: their dates, their level, their publisher's request.
@Suite("Planner: segments from upstream feeds")
struct PlannerFeedTests {
    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
    var planner: Planner { Planner(calendar: calendar) }
    let day = LocalDate(year: 2026, month: 11, day: 26)! // a Thursday
    let slot = Slot(id: "s", start: TimeOfDay(hour: 17, minute: 15)!, end: TimeOfDay(hour: 17, minute: 45)!,
                    content: .pick(pillars: [.kinhTe], count: 2))

    func segment(_ id: String, _ origin: FeedOrigin? = nil) -> Segment {
        Segment(id: id, title: id, pillar: .kinhTe, path: "\(id).mp3", durationSeconds: 60, origin: origin)
    }

    func picks(_ library: [Segment], history: AiringHistory = AiringHistory(), on date: LocalDate? = nil) -> [String] {
        planner.plan(date: date ?? day, slots: [slot], library: library, history: history).slots[0].items.map(\.segment.id)
    }

    @Test("A fetched segment is picked only from valid_from to valid_until, both days included")
    func validity() {
        let bounded = segment("han", FeedOrigin(feed: "huyen", entry: "han", validFrom: LocalDate(year: 2026, month: 11, day: 26),
                                                validUntil: LocalDate(year: 2026, month: 11, day: 27)))
        let library = [segment("a"), segment("b"), bounded]
        var history = AiringHistory()
        let t0 = calendar.instant(LocalDate(year: 2026, month: 11, day: 20)!, TimeOfDay(hour: 8, minute: 0)!)
        for id in ["a", "b"] { history.record(id, at: t0) } // so the unaired one would lead when eligible
        #expect(picks(library, history: history, on: LocalDate(year: 2026, month: 11, day: 25)) == ["a", "b"])
        #expect(picks(library, history: history).first == "han")
        #expect(picks(library, history: history, on: LocalDate(year: 2026, month: 11, day: 27)).first == "han")
        #expect(picks(library, history: history, on: LocalDate(year: 2026, month: 11, day: 28)) == ["a", "b"])
    }

    @Test("A `priority` segment not yet aired opens the slot, ahead of segments aired less")
    func priorityFirst() {
        var history = AiringHistory()
        let t0 = calendar.instant(day, TimeOfDay(hour: 6, minute: 0)!)
        for _ in 0..<3 { history.record("uu-tien", at: t0) }
        let library = [segment("a"), segment("b"), segment("uu-tien", FeedOrigin(feed: "huyen", entry: "u", priority: .priority))]
        // Aired already: ordinary rotation, least aired first.
        #expect(picks(library, history: history) == ["a", "b"])
        #expect(picks(library) == ["uu-tien", "a"])
    }

    @Test("A segment behind its publisher's total request is preferred; once met it rotates like the rest")
    func totalRequest() {
        let t0 = calendar.instant(day, TimeOfDay(hour: 6, minute: 0)!)
        var history = AiringHistory()
        for _ in 0..<2 { history.record("yeu-cau", at: t0) }
        let library = [segment("a"), segment("b"), segment("yeu-cau", FeedOrigin(feed: "huyen", entry: "y", requested: .total(3)))]
        #expect(picks(library, history: history).first == "yeu-cau")
        history.record("yeu-cau", at: t0)
        #expect(picks(library, history: history) == ["a", "b"])
    }

    @Test("A weekly request counts only this week's airings (Monday to Sunday, station time)")
    func weeklyRequest() {
        let library = [segment("a"), segment("b"), segment("tuan", FeedOrigin(feed: "huyen", entry: "t", requested: .perWeek(2)))]
        var history = AiringHistory()
        let lastWeek = calendar.instant(LocalDate(year: 2026, month: 11, day: 22)!, TimeOfDay(hour: 20, minute: 0)!) // Sunday
        for _ in 0..<5 { history.record("tuan", at: lastWeek) }
        #expect(picks(library, history: history).first == "tuan", "last week's five airings do not count this week")
        let monday = calendar.instant(LocalDate(year: 2026, month: 11, day: 23)!, TimeOfDay(hour: 0, minute: 30)!)
        history.record("tuan", at: monday)
        history.record("tuan", at: monday)
        #expect(picks(library, history: history) == ["a", "b"])
    }
}
