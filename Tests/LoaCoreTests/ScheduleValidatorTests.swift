import LoaCore
import Testing

@Suite("Schedule validation: each slot's overlaps reported once, with its neighbours")
struct ScheduleValidatorTests {
    let validator = ScheduleValidator { _ in true }

    func time(_ text: String) -> TimeOfDay { TimeOfDay(parsing: text)! }
    func date(_ text: String) -> LocalDate { LocalDate(parsing: text)! }

    func slot(_ id: String, _ start: String, _ end: String? = nil, days: String = "daily", from: String? = nil, until: String? = nil,
              enabled: Bool = true, line: Int, file: String = "lich.toml") -> Slot {
        Slot(id: id, start: time(start), end: end.map(time), days: DaySet(parsing: days)!, from: from.map(date), until: until.map(date),
             content: .play(["a.wav"]), enabled: enabled, source: SourceLocation(file: file, line: line))
    }

    /// `count` slots all on air at 11:00 every day: the i-th starts i seconds after 10:00 and ends at 12:00.
    func crowd(_ count: Int) -> [Slot] {
        (0..<count).map { i in
            slot("s\(i)", TimeOfDay(clamping: 36000 + i).description, "12:00", line: 1 + 5 * i)
        }
    }

    @Test("N slots that all overlap give N problems, one per slot at its line, each naming three neighbours and counting the rest")
    func onePerSlot() {
        let problems = validator.validate(crowd(50))
        #expect(problems.count == 50)
        #expect(problems.map(\.location.line) == (0..<50).map { 1 + 5 * $0 })
        #expect(problems.allSatisfy { $0.message.hasSuffix(" và 46 khung giờ khác") && $0.description.count < 300 }, "\(problems.prefix(1))")
        // The neighbours named are the nearest in start time.
        #expect(problems[10].description == "lich.toml:51: khung giờ “s10” (10:00:10–12:00) trùng với “s9” (10:00:09–12:00) ở lich.toml:46, "
                + "“s11” (10:00:11–12:00) ở lich.toml:56, “s8” (10:00:08–12:00) ở lich.toml:41 và 46 khung giờ khác")
    }

    @Test("Real overlaps are still caught, in both slots; disjoint days, date ranges, ends and disabled slots are not overlaps")
    func realOverlaps() {
        let slots = [
            // Friday is in both.
            slot("tuan", "17:00", "17:30", days: "mon-fri", line: 1),
            slot("cuoi-tuan", "17:15", "17:45", days: "fri,sat", line: 6),
            // The same hour on days the other never airs.
            slot("chu-nhat", "17:00", "17:30", days: "sun", line: 11),
            // Two campaigns, one after the other.
            slot("dot-1", "08:00", "09:00", from: "2026-11-01", until: "2026-11-10", line: 16),
            slot("dot-2", "08:00", "09:00", from: "2026-11-11", until: "2026-11-20", line: 21),
            // Mondays only, against a Tuesday-to-Thursday campaign: they never meet; a Wednesday one does.
            slot("thu-hai", "07:00", "07:30", days: "mon", line: 26),
            slot("ba-ngay", "07:10", "07:20", from: "2026-11-24", until: "2026-11-26", line: 31),
            slot("thu-tu", "07:15", days: "wed", line: 36),
            // One ends at 06:00, the instant at 06:00 starts as it ends; another runs across it.
            slot("som", "05:30", "06:00", line: 41),
            slot("sau-gio", "06:00", line: 46),
            slot("dai", "05:50", "06:30", line: 51),
            // A disabled slot meets nothing.
            slot("tat", "17:00", "17:30", enabled: false, line: 56),
        ]
        #expect(validator.validate(slots).map(\.description) == [
            "lich.toml:1: khung giờ “tuan” (17:00–17:30) trùng với “cuoi-tuan” (17:15–17:45) ở lich.toml:6",
            "lich.toml:6: khung giờ “cuoi-tuan” (17:15–17:45) trùng với “tuan” (17:00–17:30) ở lich.toml:1",
            "lich.toml:31: khung giờ “ba-ngay” (07:10–07:20) trùng với “thu-tu” (07:15) ở lich.toml:36",
            "lich.toml:36: khung giờ “thu-tu” (07:15) trùng với “ba-ngay” (07:10–07:20) ở lich.toml:31",
            "lich.toml:41: khung giờ “som” (05:30–06:00) trùng với “dai” (05:50–06:30) ở lich.toml:51",
            "lich.toml:46: khung giờ “sau-gio” (06:00) trùng với “dai” (05:50–06:30) ở lich.toml:51",
            "lich.toml:51: khung giờ “dai” (05:50–06:30) trùng với “sau-gio” (06:00) ở lich.toml:46, “som” (05:30–06:00) ở lich.toml:41",
        ])
        #expect(ScheduleValidator.overlap(slots[0], slots[1]) && !ScheduleValidator.overlap(slots[0], slots[2]))
        #expect(!ScheduleValidator.overlap(slots[5], slots[6]) && ScheduleValidator.overlap(slots[6], slots[7]))
    }

    @Test("Two slots at the same instant overlap, across files; a slot's neighbours are named with their file")
    func sameInstantAcrossFiles() {
        let problems = validator.validate([slot("a", "06:00", line: 2, file: "sang.toml"), slot("b", "06:00", line: 9, file: "toi.toml")])
        #expect(problems.map(\.description) == [
            "sang.toml:2: khung giờ “a” (06:00) trùng với “b” (06:00) ở toi.toml:9",
            "toi.toml:9: khung giờ “b” (06:00) trùng với “a” (06:00) ở sang.toml:2",
        ])
    }

    @Test("At scale: 5,000 slots that all overlap give 5,000 short lines; 5,000 one after another give none")
    func atScale() {
        let crowded = validator.validate(crowd(5000))
        #expect(crowded.count == 5000)
        #expect(crowded.allSatisfy { $0.description.count < 300 })
        #expect(crowded.filter { $0.message.hasSuffix(" và 4996 khung giờ khác") }.count == 5000)
        let apart = (0..<5000).map { i in
            slot("s\(i)", TimeOfDay(clamping: 8 * i).description, TimeOfDay(clamping: 8 * i + 8).description, line: 1 + 5 * i)
        }
        #expect(validator.validate(apart).isEmpty)
    }
}
