import Foundation
import LoaCore
import Testing

/// Planner tests pass explicit dates; nothing here reads the clock.
@Suite("Planner")
struct PlannerTests {
    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
    var planner: Planner { Planner(calendar: calendar) }

    func date(_ text: String) -> LocalDate { LocalDate(parsing: text) ?? LocalDate(dayNumber: 0) }
    func time(_ text: String) -> TimeOfDay { TimeOfDay(parsing: text) ?? TimeOfDay(hour: 0, minute: 0)! }

    func segment(_ id: String, _ pillar: Pillar?, _ seconds: Double = 60) -> Segment {
        Segment(id: id, title: id, pillar: pillar, path: "\(id).mp3", durationSeconds: seconds)
    }

    var library: [Segment] {
        [segment("ct1", .chinhTriAnNinh), segment("ct2", .chinhTriAnNinh), segment("kt1", .kinhTe),
         segment("kt2", .kinhTe), segment("kt3", .kinhTe), segment("vh1", .vanHoaXaHoi)]
    }

    @Test("Items are placed back to back from the slot's start, in the order given")
    func explicitOrder() {
        let slot = Slot(id: "s", start: time("17:15"), end: time("17:30"), content: .play(["kt1.mp3", "ct1", "vh1"]))
        let plan = planner.plan(date: date("2026-11-12"), slots: [slot], library: library, history: AiringHistory())
        let items = plan.slots[0].items
        #expect(items.map(\.segment.id) == ["kt1", "ct1", "vh1"])
        #expect(items.map(\.offsetSeconds) == [0, 60, 120])
        #expect(calendar.rfc3339(items[1].startsAt) == "2026-11-12T17:16:00.000+07:00")
    }

    @Test("An item that would not finish before the end is not planned; a later one that fits is")
    func itemsThatDoNotFit() {
        let lib = [segment("a", .kinhTe, 100), segment("long", .kinhTe, 500), segment("b", .kinhTe, 150)]
        let slot = Slot(id: "s", start: time("06:00"), end: time("06:05"), content: .play(["a", "long", "b"]))
        let planned = planner.plan(date: date("2026-11-12"), slots: [slot], library: lib, history: AiringHistory()).slots[0]
        #expect(planned.items.map(\.segment.id) == ["a", "b"])
        #expect(planned.dropped == [.doesNotFit(segmentID: "long", durationSeconds: 500, remainingSeconds: 200)])
        #expect(planned.contentEndsAt <= planned.endsAt!)
    }

    @Test("An item exactly filling the slot fits")
    func exactFit() {
        let slot = Slot(id: "s", start: time("06:00"), end: time("06:02"), content: .play(["kt1", "kt2"]))
        #expect(planner.plan(date: date("2026-11-12"), slots: [slot], library: library, history: AiringHistory()).slots[0].items.count == 2)
    }

    @Test("A pick of N airs N segments between its jingles: the intro is not one of them")
    func pickCountsSegmentsOnly() {
        let lib = library + [segment("nhac-hieu", nil, 5)]
        let slot = Slot(id: "s", start: time("05:30"), end: time("06:00"), content: .pick(pillars: [.kinhTe, .vanHoaXaHoi], count: 2),
                        intro: "nhac-hieu", outro: "nhac-hieu")
        let items = planner.plan(date: date("2026-11-12"), slots: [slot], library: lib, history: AiringHistory()).slots[0].items
        #expect(items.map(\.kind) == [.jingle, .segment, .segment, .jingle])
    }

    @Test("Picks take the least-aired segment, then the one aired longest ago")
    func leastAiredFirst() {
        var history = AiringHistory()
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        history.record("kt1", at: t0)
        history.record("kt1", at: t0)
        history.record("kt2", at: t0.addingTimeInterval(100))
        history.record("kt3", at: t0)
        let slot = Slot(id: "s", start: time("17:15"), end: time("17:30"), content: .pick(pillars: [.kinhTe], count: 2))
        let items = planner.plan(date: date("2026-11-12"), slots: [slot], library: library, history: history).slots[0].items
        #expect(items.map(\.segment.id) == ["kt3", "kt2"])
    }

    @Test("Over a week of daily picks, every segment of a pillar airs about equally")
    func rotationFairnessOverAWeek() {
        let slots = [
            Slot(id: "sang", start: time("05:30"), end: time("06:00"), content: .pick(pillars: [.kinhTe], count: 2)),
            Slot(id: "toi", start: time("17:15"), end: time("17:30"), content: .pick(pillars: [.kinhTe, .chinhTriAnNinh], count: 1)),
        ]
        var history = AiringHistory()
        var counts: [String: Int] = [:]
        var day = date("2026-11-09")
        for _ in 0..<7 {
            let plan = planner.plan(date: day, slots: slots, library: library, history: history)
            for item in plan.slots.flatMap(\.items) {
                counts[item.segment.id, default: 0] += 1
                history.record(item.segment.id, at: item.startsAt) // as the daemon's log would
            }
            day = day.adding(days: 1)
        }
        let economic = ["kt1", "kt2", "kt3"].map { counts[$0, default: 0] }
        #expect(economic.reduce(0, +) + counts["ct1", default: 0] + counts["ct2", default: 0] == 21)
        // Within each pillar, no segment airs more than once more than another.
        for pillar in [["kt1", "kt2", "kt3"], ["ct1", "ct2"]] {
            let n = pillar.map { counts[$0, default: 0] }
            #expect((n.max() ?? 0) - (n.min() ?? 0) <= 1, "\(counts)")
            #expect((n.min() ?? 0) >= 3, "\(counts)")
        }
        #expect(counts["vh1"] == nil)
    }

    @Test("A pick over several pillars takes them in turn: three from three pillars airs one of each")
    func pillarsTakeTurns() {
        var history = AiringHistory()
        // Economic segments are the least aired, yet the slot still covers every pillar.
        for id in ["ct1", "ct2", "vh1"] { history.record(id, at: Date(timeIntervalSince1970: 1_700_000_000)) }
        let slot = Slot(id: "asean", start: time("17:15"), end: time("17:30"),
                        content: .pick(pillars: [.chinhTriAnNinh, .kinhTe, .vanHoaXaHoi], count: 3))
        let items = planner.plan(date: date("2026-11-12"), slots: [slot], library: library, history: history).slots[0].items
        #expect(Set(items.compactMap(\.segment.pillar)) == [.chinhTriAnNinh, .kinhTe, .vanHoaXaHoi])
        #expect(items.first?.segment.id == "kt1", "the least-aired pillar opens the slot")
    }

    @Test("The same segment is not picked twice in one day while others are less aired")
    func noRepeatWithinDay() {
        let slots = [
            Slot(id: "a", start: time("05:30"), end: time("06:00"), content: .pick(pillars: [.chinhTriAnNinh], count: 1)),
            Slot(id: "b", start: time("17:15"), end: time("17:30"), content: .pick(pillars: [.chinhTriAnNinh], count: 1)),
        ]
        let plan = planner.plan(date: date("2026-11-12"), slots: slots, library: library, history: AiringHistory())
        #expect(plan.slots.map { $0.items[0].segment.id } == ["ct1", "ct2"])
    }

    @Test("Date ranges bound a slot, inclusive at both ends")
    func dateRanges() {
        let slot = Slot(id: "hncc", start: time("17:15"), end: time("17:30"), from: date("2026-11-12"), until: date("2026-11-15"),
                        content: .play(["kt1"]))
        for (day, airs) in [("2026-11-11", false), ("2026-11-12", true), ("2026-11-15", true), ("2026-11-16", false)] {
            #expect(planner.plan(date: date(day), slots: [slot], library: library, history: AiringHistory()).slots.count == (airs ? 1 : 0), "\(day)")
        }
    }

    @Test("Day-of-week sets: mon-fri skips the weekend, a list picks its days")
    func dayOfWeekSets() {
        let weekdays = Slot(id: "w", start: time("17:15"), end: time("17:30"), days: DaySet(parsing: "mon-fri")!, content: .play(["kt1"]))
        let weekend = Slot(id: "e", start: time("17:15"), end: time("17:30"), days: DaySet(parsingList: ["sat", "sun"])!, content: .play(["kt2"]))
        let saturday = planner.plan(date: date("2026-11-14"), slots: [weekdays, weekend], library: library, history: AiringHistory())
        let monday = planner.plan(date: date("2026-11-16"), slots: [weekdays, weekend], library: library, history: AiringHistory())
        #expect(saturday.slots.map(\.slot.id) == ["e"])
        #expect(monday.slots.map(\.slot.id) == ["w"])
    }

    @Test("Unknown entries and short libraries are reported, not silently dropped")
    func droppedReasons() {
        let slots = [Slot(id: "x", start: time("08:00"), end: time("09:00"), content: .play(["missing.mp3", "kt1"])),
                     Slot(id: "y", start: time("10:00"), end: time("11:00"), content: .pick(pillars: [.vanHoaXaHoi], count: 3))]
        let plan = planner.plan(date: date("2026-11-12"), slots: slots, library: library, history: AiringHistory())
        #expect(plan.slots[0].dropped == [.notInLibrary(reference: "missing.mp3")])
        #expect(plan.slots[0].items.map(\.segment.id) == ["kt1"])
        #expect(plan.slots[1].dropped == [.notEnoughSegments(wanted: 3, found: 1)])
    }

    @Test("The next occurrence is found across days, and a running slot is recognised")
    func occurrences() {
        let slot = Slot(id: "s", start: time("17:15"), end: time("17:30"), days: DaySet(parsing: "mon-fri")!, content: .play(["kt1"]))
        let fridayEvening = calendar.instant(date("2026-11-13"), time("18:00"))
        let next = planner.nextOccurrence(atOrAfter: fridayEvening, slots: [slot])
        #expect(next.map { calendar.rfc3339($0.startsAt) } == "2026-11-16T17:15:00.000+07:00")
        let during = calendar.instant(date("2026-11-13"), time("17:20"))
        #expect(planner.occurrenceInProgress(at: during, slots: [slot])?.slot.id == "s")
        #expect(planner.occurrenceInProgress(at: fridayEvening, slots: [slot]) == nil)
    }
}
