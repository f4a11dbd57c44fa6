import Foundation
import LoaCore
import Testing

@Suite("The week's plans and their grid")
struct WeekGridTests {
    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
    let monday = LocalDate(year: 2026, month: 11, day: 23)!
    let library = [Segment(id: "kt1", title: "Nông sản vào ASEAN", pillar: .kinhTe, path: "kt1.mp3", durationSeconds: 60),
                   Segment(id: "kt2", title: "RCEP", pillar: .kinhTe, path: "kt2.mp3", durationSeconds: 60)]

    func slot(_ id: String, _ start: String, days: DaySet = .daily, enabled: Bool = true) -> Slot {
        Slot(id: id, start: TimeOfDay(parsing: start)!, days: days, content: .pick(pillars: [.kinhTe], count: 1), enabled: enabled)
    }

    @Test("Each day's picks count before the next day is planned: one segment a day alternates over the week")
    func rotationAcrossDays() {
        let plans = Planner(calendar: calendar).plans(from: monday, days: 7, slots: [slot("toi", "17:15")], library: library,
                                                       history: AiringHistory())
        #expect(plans.map(\.date) == (0..<7).map { monday.adding(days: $0) })
        let picks = plans.map { $0.slots[0].items[0].segment.id }
        #expect(picks == ["kt1", "kt2", "kt1", "kt2", "kt1", "kt2", "kt1"], "\(picks)")
    }

    @Test("A row per slot in order of start, a column per day from T2 to CN, · where the slot does not air, no disabled slot")
    func grid() {
        let slots = [slot("toi", "17:15", days: DaySet(parsing: "mon-fri")!), slot("sang", "05:30"), slot("tat", "12:00", enabled: false)]
        let plans = Planner(calendar: calendar).plans(from: monday, days: 7, slots: slots, library: library, history: AiringHistory())
        let lines = WeekGrid(plans: plans).lines
        #expect(lines[0].contains("T2 23/11") && lines[0].hasSuffix("CN 29/11"), "\(lines[0])")
        let labels = lines.map { $0.split(separator: "│").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        #expect(labels.filter { ["sang", "toi", "tat"].contains($0) } == ["sang", "toi"])
        let toi = lines.first { $0.hasPrefix("17:15") } ?? ""
        let cells = toi.split(separator: "│").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(cells.count == 7 && cells[5] == "·" && cells[6] == "·" && cells[0] == "RCEP", "\(cells)")
    }

    @Test("A relay slot shows as ⇄ Tiếp sóng over its source's label, apart from files and jingles; the name when loa.toml has no label for it")
    func relayShown() {
        let jingle = Segment(id: "nhac-hieu", title: "Nhạc hiệu", path: "nhac-hieu.mp3", durationSeconds: 5)
        let relay = Slot(id: "vov", start: TimeOfDay(parsing: "06:00")!, end: TimeOfDay(parsing: "06:30")!,
                         content: .relay(RelaySpec(source: "vov1", fallback: .play(["nhac-hieu"]))), intro: "nhac-hieu")
        let plans = Planner(calendar: calendar).plans(from: monday, days: 7, slots: [relay, slot("toi", "17:15")],
                                                       library: library + [jingle], history: AiringHistory())
        func cells(_ lines: [String], row: Int) -> [String] {
            let start = lines.firstIndex { $0.hasPrefix("06:00") } ?? 0
            return lines[start + row].split(separator: "│").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let labelled = WeekGrid(plans: plans, sourceLabels: ["vov1": "VOV1"]).lines
        #expect(cells(labelled, row: 0).first == "♪ Nhạc hiệu", "\(labelled.joined(separator: "\n"))")
        #expect(cells(labelled, row: 1) == Array(repeating: "⇄ Tiếp sóng", count: 7), "\(labelled.joined(separator: "\n"))")
        #expect(cells(labelled, row: 2) == Array(repeating: "VOV1", count: 7))
        #expect(cells(WeekGrid(plans: plans).lines, row: 2).first == "vov1")
    }
}
