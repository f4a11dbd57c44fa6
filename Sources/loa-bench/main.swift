import Foundation
import LoaCore
import LoaStore

// Times the airing log's two-phase write (insert `started`, then finish) on a real file with
// WAL and synchronous=FULL, and the planner over a year of days. Prints one line per measure:
// `name median_microseconds p95_microseconds count mean_microseconds`. This file is its own composition root.

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: loa-bench DATABASE-PATH COUNT\n".utf8))
    exit(1)
}
let clock = ContinuousClock()
do {
    let database = try StationDatabase(path: URL(fileURLWithPath: arguments[1]))
    let log = AiringLog(database)
    var writes: [Double] = []
    let t0 = Date(timeIntervalSince1970: 1_794_478_500)
    for n in 0..<count {
        let t = t0.addingTimeInterval(Double(n) * 60)
        let elapsed = try clock.measure {
            let id = try log.insert(AiringRecord(slot: "asean-toi", slotStartsAt: t, segmentID: "rcep", title: "RCEP và nông sản Việt",
                                                 pillar: .kinhTe, campaign: "HNCC ASEAN 37", path: "asean/kinh-te.mp3",
                                                 scheduledAt: t, startedAt: t, outcome: .started, device: "default"))
            try log.finish(id: id, outcome: .completed, endedAt: t.addingTimeInterval(60), airedSeconds: 60, reason: nil, xruns: 0)
        }
        writes.append(microseconds(elapsed))
    }
    print("airing_two_phase_write \(percentile(writes, 0.5)) \(percentile(writes, 0.95)) \(count) \(writes.reduce(0, +) / Double(count))")

    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
    let planner = Planner(calendar: calendar)
    let library = (0..<300).map { i in
        Segment(id: "s\(i)", title: "Bản tin \(i)", pillar: Pillar.allCases[i % 3], path: "s\(i).mp3", durationSeconds: 60 + Double(i % 7) * 20)
    }
    let slots = (0..<12).map { i in
        Slot(id: "slot\(i)", start: TimeOfDay(clamping: 5 * 3600 + i * 3600), end: TimeOfDay(clamping: 5 * 3600 + i * 3600 + 1800),
             content: .pick(pillars: [Pillar.allCases[i % 3]], count: 5))
    }
    var history = AiringHistory()
    var days: [Double] = []
    var date = LocalDate(dayNumber: 20_400)
    for _ in 0..<365 {
        var plan: DayPlan?
        let elapsed = clock.measure { plan = planner.plan(date: date, slots: slots, library: library, history: history) }
        days.append(microseconds(elapsed))
        for item in plan?.slots.flatMap(\.items) ?? [] { history.record(item.segment.id, at: item.startsAt) }
        date = date.adding(days: 1)
    }
    print("planner_day_12_slots_300_segments \(percentile(days, 0.5)) \(percentile(days, 0.95)) 365 \(days.reduce(0, +) / 365)")
} catch {
    FileHandle.standardError.write(Data("loa-bench: \(error)\n".utf8))
    exit(1)
}
