import Foundation
import LoaCore
import LoaTestSupport
import Testing

/// Thousands of random timelines through the state machine, played by a simulated engine on a virtual clock:
/// device losses, preemptions, restarts (the dead run's row closed as the log's `closeAbandoned` does), dropouts
/// that put the audio back and clock steps. Whatever happens, every planned item ends with its rows final (one per
/// stretch it aired, stretches never overlapping), nothing heard airs twice, and the loudspeakers are never silent
/// longer than the tolerance while something is left to air.
@Suite("The program's state machine over random timelines")
struct ProgramStateMachinePropertyTests {

    /// One row as the simulated log keeps it.
    struct Row {
        var item: Int
        var from: Double
        var reached: Double
        var startedAt: Double?
        var endedAt: Double?
        var outcome: AiringOutcome = .planned
        var reason: Reason?
        var aired = 0.0
        var final: Bool { outcome.isFinal }
    }

    enum Disruption { case preemption(Double), deviceLoss(Double), restart(Double), dropout(Double), clockStep(Double) }

    /// What went wrong in one timeline, or nil.
    static func run(seed: UInt64) -> String? {
        var rng = SplitMix64(seed: seed)
        let count = Int.random(in: 1...5, using: &rng)
        let lengths = (0..<count).map { _ in Double.random(in: 0.5...30, using: &rng) }
        let total = lengths.reduce(0, +)
        let hardEnd = Bool.random(using: &rng) ? total + Double.random(in: 0...5, using: &rng) : total
        let policy = LatenessPolicy.allCases.randomElement(using: &rng) ?? .join
        let items = ProgramStateMachineTests.items(lengths)
        let t0 = ProgramStateMachineTests.start
        func date(_ t: Double) -> Date { t0.addingTimeInterval(t) }
        // Disruptions at random instants of the slot, in order.
        var disruptions: [(at: Double, what: Disruption)] = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            let at = Double.random(in: 0...hardEnd, using: &rng)
            let what: Disruption = switch Int.random(in: 0..<5, using: &rng) {
            case 0: .preemption(Double.random(in: 0.3...12, using: &rng))
            case 1: .deviceLoss(Double.random(in: 0.1...15, using: &rng))
            case 2: .restart(Double.random(in: 0.2...10, using: &rng))
            case 3: .dropout(Double.random(in: 0.03...0.6, using: &rng))
            default: .clockStep(Double.random(in: 0.1...20, using: &rng))
            }
            return (at, what)
        }.sorted { $0.at < $1.at }
        let fade = 0.3, tolerance = 0.05
        var rows: [Row] = items.indices.map { Row(item: $0, from: 0, reached: 0) }
        var current: [Int] = Array(items.indices)
        var machine = ProgramStateMachine(items: items, hardEnd: date(hardEnd), policy: policy)
        var now = -1.0
        var actions = machine.handle(.handedOver(now: date(now)))
        /// When the loudspeakers last stopped carrying the program through no decision of the program (end of an
        /// airing, a preemption or outage over), and whether the program had begun.
        var quietSince: Double? = nil
        var steps = 0
        while true {
            steps += 1
            if steps > 10_000 { return "no end after 10,000 steps" }
            guard !actions.isEmpty else { return "the machine gave no action at \(now)" }
            let action = actions.removeFirst()
            switch action {
            case let .close(item, closing):
                var row = rows[current[item]]
                if row.final { return "item \(item): its row was closed twice" }
                row.outcome = closing.outcome
                row.reason = closing.reason
                row.aired = closing.airedSeconds
                if closing.wasOnAir || row.startedAt != nil { row.endedAt = row.endedAt ?? now }
                rows[current[item]] = row
            case .finished:
                for (i, row) in rows.enumerated() where !row.final { return "row \(i) of item \(row.item) not final at the end" }
                return check(rows: rows, lengths: lengths)
            case let .air(airing):
                var start = max(now, airing.at.timeIntervalSince(t0))
                if let quiet = quietSince, start - quiet > tolerance {
                    return "silent from \(quiet) to \(start) with item \(airing.item) to air (\(policy))"
                }
                let from = airing.followsClock ? airing.fromSeconds + (start - airing.at.timeIntervalSince(t0)) : airing.fromSeconds
                if airing.newRow {
                    if !rows[current[airing.item]].final { return "a new row for item \(airing.item) while its row is open" }
                    rows.append(Row(item: airing.item, from: from, reached: from))
                    current[airing.item] = rows.count - 1
                } else if rows[current[airing.item]].final {
                    return "item \(airing.item) airs again on a final row"
                }
                var row = rows[current[airing.item]]
                if row.startedAt == nil { row.startedAt = start; row.from = from }
                rows[current[airing.item]] = row
                var cut: Double? = nil
                for case let .cut(_, at) in machine.handle(.started(item: airing.item, audibleAt: date(start), fromSeconds: from,
                                                                    fileSeconds: lengths[airing.item])) {
                    cut = at.timeIntervalSince(t0)
                }
                quietSince = nil
                // It plays until its file ends, the cut, or the next disruption.
                var end = start + (lengths[airing.item] - from)
                var how = ItemEnding.endOfFile
                if let cut, cut < end { end = cut; how = .reachedCut }
                var played = end - start
                var handled: [ProgramAction] = []
                if let next = disruptions.first, next.at >= start, next.at < end {
                    disruptions.removeFirst()
                    switch next.what {
                    case let .dropout(delay):
                        // The audio is put back: the rest ends that much later.
                        end += delay
                        start += delay
                    case let .clockStep(step):
                        now = end
                        played = end - start
                        rows[current[airing.item]].reached = from + played
                        handled = machine.handle(.ended(item: airing.item, nextAt: date(end + step), heardSeconds: played,
                                                        reachedSeconds: from + played, how: how))
                        now = end + step
                        quietSince = now
                        actions = handled + actions
                        continue
                    case let .preemption(length):
                        now = next.at
                        let fading = machine.handle(.preemptionBegan(now: date(now), reason: Reason(.preemptedAnnouncement)))
                        guard fading == [.fade(item: airing.item)] else { return "preemption: \(fading)" }
                        let stop = min(end, now + fade)
                        played = stop - start
                        rows[current[airing.item]].reached = from + played
                        now = stop
                        let after = machine.handle(.ended(item: airing.item, nextAt: date(now), heardSeconds: played,
                                                          reachedSeconds: from + played, how: stop < end ? .faded : how))
                        guard after.last == .yieldToPreemption || after.last == .finished else { return "after fade: \(after)" }
                        for action in after.dropLast() { actions.append(action) }
                        // The announcement airs; the program goes on as soon as it is heard.
                        if after.last == .yieldToPreemption {
                            actions.append(.yieldToPreemption)
                            now += length
                        }
                        quietSince = now
                        actions = Array(actions.filter { $0 != .yieldToPreemption })
                        if after.last == .yieldToPreemption { actions += machine.handle(.preemptionEnded(now: date(now))) }
                        else { actions.append(.finished) }
                        continue
                    case let .deviceLoss(length):
                        now = next.at
                        played = now - start
                        rows[current[airing.item]].reached = from + played
                        let lost = machine.handle(.ended(item: airing.item, nextAt: date(now), heardSeconds: played,
                                                         reachedSeconds: from + played, how: .deviceLost(Reason(.deviceLost))))
                        guard case let .retryDevice(until) = lost.last else { return "device lost: \(lost)" }
                        let back = now + length
                        if back <= until.timeIntervalSince(t0) {
                            now = back
                            quietSince = now
                            actions = machine.handle(.deviceBack(now: date(now)))
                        } else {
                            now = until.timeIntervalSince(t0)
                            quietSince = nil
                            actions = machine.handle(.deviceStillLost(now: date(now), reason: Reason(.deviceLost)))
                        }
                        continue
                    case let .restart(down):
                        // The daemon dies: the row keeps what was heard, and the next run closes it interrupted.
                        now = next.at
                        played = now - start
                        var row = rows[current[airing.item]]
                        row.reached = from + played
                        row.aired = played
                        row.outcome = .interrupted
                        row.reason = Reason(.daemonDied)
                        row.endedAt = now
                        rows[current[airing.item]] = row
                        now += down
                        let progress: [ItemProgress] = items.indices.map { item in
                            let last = rows[current[item]]
                            if !last.final { return .pending }
                            return last.outcome == .interrupted ? .cut(reachedSeconds: last.reached) : .closed
                        }
                        machine = ProgramStateMachine(items: items, progress: progress, hardEnd: date(hardEnd), policy: policy)
                        quietSince = now
                        actions = machine.handle(.handedOver(now: date(now)))
                        continue
                    }
                }
                played = end - start
                now = end
                rows[current[airing.item]].reached = from + played
                quietSince = now
                actions = machine.handle(.ended(item: airing.item, nextAt: date(now), heardSeconds: played,
                                                reachedSeconds: from + played, how: how)) + actions
            case .cut, .fade, .retryDevice, .yieldToPreemption:
                return "unexpected \(action)"
            }
        }
    }

    /// Nothing heard twice, stretches never overlapping in time, every item with a final row.
    static func check(rows: [Row], lengths: [Double]) -> String? {
        for item in lengths.indices {
            let stretches = rows.filter { $0.item == item && $0.startedAt != nil }.sorted { $0.from < $1.from }
            for (a, b) in zip(stretches, stretches.dropFirst()) where b.from < a.reached - 1e-6 {
                return "item \(item): \(a.from)–\(a.reached) of the file aired, then \(b.from)–\(b.reached) again"
            }
            if !rows.contains(where: { $0.item == item }) { return "item \(item) has no row" }
        }
        let timed = rows.compactMap { row in row.startedAt.flatMap { s in row.endedAt.map { (s, $0) } } }.sorted { $0.0 < $1.0 }
        for (a, b) in zip(timed, timed.dropFirst()) where b.0 < a.1 - 1e-6 {
            return "stretches overlap in time: \(a) and \(b)"
        }
        return nil
    }

    @Test("Every item ends with final rows, nothing airs twice, no silence while something is left: 5,000 timelines")
    func randomTimelines() {
        var failures: [String] = []
        for seed in UInt64(1)...5000 {
            if let failure = Self.run(seed: seed) { failures.append("seed \(seed): \(failure)") }
            if failures.count >= 5 { break }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
