import Foundation
import LoaCore
import Testing

/// The one place that decides what airs, on explicit times: three items of 60 s from 17:15:00, hard end 17:20 unless
/// a test says otherwise.
@Suite("The program's state machine: lateness, preemption, restart, device loss")
struct ProgramStateMachineTests {
    static let start = Date(timeIntervalSince1970: 1_794_478_500)
    var start: Date { Self.start }

    static func items(_ lengths: [Double], kind: ItemKind = .segment) -> [PlannedItem] {
        var offset = 0.0
        return lengths.enumerated().map { i, length in
            defer { offset += length }
            return PlannedItem(segment: Segment(id: "s\(i)", title: "s\(i)", path: "s\(i).wav", durationSeconds: length),
                               offsetSeconds: offset, startsAt: start.addingTimeInterval(offset), kind: kind)
        }
    }

    func machine(_ policy: LatenessPolicy, lengths: [Double] = [60, 60, 60], hardEnd: Double? = 300,
                 progress: [ItemProgress]? = nil) -> ProgramStateMachine {
        ProgramStateMachine(items: Self.items(lengths), progress: progress, hardEnd: hardEnd.map { start.addingTimeInterval($0) },
                            policy: policy)
    }

    func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    static func airings(_ actions: [ProgramAction]) -> [ItemAiring] {
        actions.compactMap { if case let .air(airing) = $0 { airing } else { nil } }
    }

    /// Placements compared to a microsecond: a `Date` near 2026 holds about 0.1 µs.
    static func same(_ found: [ItemAiring], _ expected: [ItemAiring]) -> Bool {
        found.count == expected.count && zip(found, expected).allSatisfy { a, b in
            a.item == b.item && abs(a.fromSeconds - b.fromSeconds) < 1e-6 && abs(a.at.timeIntervalSince(b.at)) < 1e-6
                && a.followsClock == b.followsClock && a.newRow == b.newRow && a.policy == b.policy
        }
    }

    static func closings(_ actions: [ProgramAction]) -> [Int: RowClosing] {
        var out: [Int: RowClosing] = [:]
        for case let .close(item, closing) in actions { out[item] = closing }
        return out
    }

    @Test("On time, every policy airs the first item at its planned second, the next ones as the one before ends",
          arguments: LatenessPolicy.allCases)
    func onTime(policy: LatenessPolicy) {
        var m = machine(policy)
        let first = Self.airings(m.handle(.handedOver(now: at(-1.5))))
        #expect(Self.same(first, [ItemAiring(item: 0, fromSeconds: 0, at: start, followsClock: false, newRow: false, policy: nil)]))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 60))
        let next = m.handle(.ended(item: 0, nextAt: at(60.004), heardSeconds: 60, reachedSeconds: 60, how: .endOfFile))
        #expect(Self.closings(next)[0]?.outcome == .completed)
        #expect(Self.closings(next)[0]?.reason == nil)
        #expect(Self.airings(next).map(\.item) == [1])
        #expect(Self.airings(next).first?.at == at(60.004))
    }

    /// The measurement: A of 12 s then B; an announcement of 2 s taken 3 s into A. The loudspeakers must
    /// carry the occurrence again as soon as the announcement is heard, by the policy.
    func preempted(_ policy: LatenessPolicy) -> (fade: [ProgramAction], after: [ProgramAction]) {
        var m = machine(policy, lengths: [12, 12], hardEnd: 30)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 12))
        let fade = m.handle(.preemptionBegan(now: at(3), reason: Reason(.preemptedAnnouncement, "Họp dân")))
        #expect(fade == [.fade(item: 0)])
        let yielded = m.handle(.ended(item: 0, nextAt: at(3.3), heardSeconds: 3.3, reachedSeconds: 3.3, how: .faded))
        #expect(Self.closings(yielded)[0]?.outcome == .interrupted)
        #expect(Self.closings(yielded)[0]?.reason == Reason(.preemptedAnnouncement, "Họp dân"))
        #expect(yielded.last == .yieldToPreemption)
        return (fade, m.handle(.preemptionEnded(now: at(5.3))))
    }

    @Test("After an announcement, join goes on with the interrupted item at its wall-clock point, in a row of its own")
    func preemptionJoin() {
        let air = Self.airings(preempted(.join).after)
        #expect(Self.same(air, [ItemAiring(item: 0, fromSeconds: 5.3, at: at(5.3), followsClock: true, newRow: true, policy: .join)]))
    }

    @Test("After an announcement, next starts the next item at once, not at its planned second")
    func preemptionNext() {
        let after = preempted(.next).after
        #expect(Self.closings(after).isEmpty)
        #expect(Self.same(Self.airings(after), [ItemAiring(item: 1, fromSeconds: 0, at: at(5.3), followsClock: false, newRow: false, policy: nil)]))
    }

    @Test("After an announcement, whole goes on where the item was cut when the rest fits before the hard end")
    func preemptionWhole() {
        let air = Self.airings(preempted(.whole).after)
        #expect(Self.same(air, [ItemAiring(item: 0, fromSeconds: 3.3, at: at(5.3), followsClock: false, newRow: true, policy: .whole)]))
    }

    @Test("After an announcement, skip logs the rest skipped")
    func preemptionSkip() {
        let after = preempted(.skip).after
        #expect(Self.airings(after).isEmpty)
        #expect(Self.closings(after)[1]?.reason?.code == .latePolicySkip)
        #expect(after.last == .finished)
    }

    @Test("A resumed row under join counts the time of the preemption as lost, and says it was resumed")
    func resumedRowAccounting() {
        var m = machine(.join, lengths: [12, 12], hardEnd: 30)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 12))
        _ = m.handle(.preemptionBegan(now: at(3), reason: Reason(.preemptedEmergency)))
        _ = m.handle(.ended(item: 0, nextAt: at(3.3), heardSeconds: 3.3, reachedSeconds: 3.3, how: .faded))
        _ = m.handle(.preemptionEnded(now: at(5.3)))
        // The first sample came 10 ms after the placement: the engine entered that much further.
        _ = m.handle(.started(item: 0, audibleAt: at(5.31), fromSeconds: 5.31, fileSeconds: 12))
        let end = m.handle(.ended(item: 0, nextAt: at(12), heardSeconds: 6.69, reachedSeconds: 12, how: .endOfFile))
        let row = Self.closings(end)[0]
        #expect(row?.outcome == .truncated)
        #expect(row?.reason?.code == .resumed)
        #expect(abs((row?.lostSeconds ?? 0) - 2.01) < 1e-6)
        #expect(row?.policy == .join)
        #expect(Self.airings(end).map(\.item) == [1])
    }

    @Test("A restart inside a slot: the item the dead daemon left goes on at once, by the policy")
    func restart() {
        // The daemon died 5 s into item 1 (its row closed interrupted, 5 s heard); it is back 8 s later.
        let progress: [ItemProgress] = [.closed, .cut(reachedSeconds: 5), .pending]
        var join = machine(.join, progress: progress)
        #expect(Self.same(Self.airings(join.handle(.handedOver(now: at(73)))),
                [ItemAiring(item: 1, fromSeconds: 13, at: at(73), followsClock: true, newRow: true, policy: .join)]))
        var whole = machine(.whole, progress: progress)
        #expect(Self.same(Self.airings(whole.handle(.handedOver(now: at(73)))),
                [ItemAiring(item: 1, fromSeconds: 5, at: at(73), followsClock: false, newRow: true, policy: .whole)]))
        var next = machine(.next, progress: progress)
        let nextActions = next.handle(.handedOver(now: at(73)))
        #expect(Self.closings(nextActions).isEmpty)
        #expect(Self.same(Self.airings(nextActions), [ItemAiring(item: 2, fromSeconds: 0, at: at(73), followsClock: false, newRow: false, policy: nil)]))
    }

    @Test("Late by a fraction of a second, an item is never dropped: it starts and at worst loses that fraction at the hard end",
          arguments: [LatenessPolicy.next, .whole, .skip])
    func lateByAFraction(policy: LatenessPolicy) {
        // Two items that exactly fill the slot; a dropout put the audio 0.44 s back in the first.
        var m = machine(policy, lengths: [15, 15], hardEnd: 30)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 15))
        let next = m.handle(.ended(item: 0, nextAt: at(15.44), heardSeconds: 15, reachedSeconds: 15, how: .endOfFile))
        #expect(Self.same(Self.airings(next), [ItemAiring(item: 1, fromSeconds: 0, at: at(15.44), followsClock: false, newRow: false, policy: nil)]))
        let cut = m.handle(.started(item: 1, audibleAt: at(15.44), fromSeconds: 0, fileSeconds: 15))
        #expect(cut == [.cut(item: 1, at: at(30))])
        let end = m.handle(.ended(item: 1, nextAt: at(30), heardSeconds: 14.56, reachedSeconds: 14.56, how: .reachedCut))
        #expect(Self.closings(end)[1]?.outcome == .truncated)
        #expect(Self.closings(end)[1]?.reason?.code == .cutHardEnd)
    }

    @Test("Under join, an item reached late by a dropout is joined where the clock is, so it ends on its second")
    func joinCatchesUp() {
        var m = machine(.join, lengths: [15, 15], hardEnd: 30)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 15))
        let next = m.handle(.ended(item: 0, nextAt: at(15.44), heardSeconds: 15, reachedSeconds: 15, how: .endOfFile))
        #expect(Self.same(Self.airings(next), [ItemAiring(item: 1, fromSeconds: 0.44, at: at(15.44), followsClock: true, newRow: false, policy: .join)]))
        _ = m.handle(.started(item: 1, audibleAt: at(15.44), fromSeconds: 0.44, fileSeconds: 15))
        let end = m.handle(.ended(item: 1, nextAt: at(30), heardSeconds: 14.56, reachedSeconds: 15, how: .endOfFile))
        #expect(Self.closings(end)[1]?.reason?.code == .lateJoined)
        #expect(abs((Self.closings(end)[1]?.lostSeconds ?? 0) - 0.44) < 1e-6)
    }

    @Test("Entered late at a (re)start: join joins on the clock, next drops the item on the clock, skip drops all, whole fits or drops")
    func lateEntry() {
        var join = machine(.join)
        let joined = join.handle(.handedOver(now: at(75)))
        #expect(Self.closings(joined)[0]?.reason?.code == .latePassed)
        #expect(Self.closings(joined)[0]?.outcome == .skipped)
        #expect(Self.same(Self.airings(joined), [ItemAiring(item: 1, fromSeconds: 15, at: at(75), followsClock: true, newRow: false, policy: .join)]))
        var next = machine(.next)
        let nexted = next.handle(.handedOver(now: at(75)))
        #expect(Self.closings(nexted)[1]?.reason?.code == .lateOnTheClock)
        #expect(Self.airings(nexted).map(\.item) == [2])
        #expect(Self.airings(nexted).first?.at == at(75))
        var skip = machine(.skip)
        let skipped = skip.handle(.handedOver(now: at(75)))
        #expect(Self.closings(skipped).count == 3 && Self.closings(skipped).values.allSatisfy { $0.reason?.code == .latePolicySkip })
        var whole = machine(.whole, hardEnd: 200)
        let wholed = whole.handle(.handedOver(now: at(75)))
        #expect(Self.same(Self.airings(wholed), [ItemAiring(item: 0, fromSeconds: 0, at: at(75), followsClock: false, newRow: false, policy: .whole)]))
        _ = whole.handle(.started(item: 0, audibleAt: at(75), fromSeconds: 0, fileSeconds: 60))
        let second = whole.handle(.ended(item: 0, nextAt: at(135), heardSeconds: 60, reachedSeconds: 60, how: .endOfFile))
        // 135 + 60 = 195 fits; the third would end at 255, 55 s past the hard end: left out.
        #expect(Self.airings(second).map(\.item) == [1])
        _ = whole.handle(.started(item: 1, audibleAt: at(135), fromSeconds: 0, fileSeconds: 60))
        let third = whole.handle(.ended(item: 1, nextAt: at(195), heardSeconds: 60, reachedSeconds: 60, how: .endOfFile))
        #expect(Self.closings(third)[2]?.reason?.code == .droppedWouldNotFit)
        #expect(third.last == .finished)
    }

    @Test("A device lost mid-item keeps its row open; when it is back, join re-enters on the clock with the gap lost")
    func deviceOutage() {
        var m = machine(.join)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 60))
        let lost = m.handle(.ended(item: 0, nextAt: at(10), heardSeconds: 10, reachedSeconds: 10, how: .deviceLost(Reason(.deviceLost, "-19"))))
        #expect(lost == [.retryDevice(until: at(300))])
        let back = m.handle(.deviceBack(now: at(13.5)))
        #expect(Self.same(Self.airings(back), [ItemAiring(item: 0, fromSeconds: 13.5, at: at(13.5), followsClock: true, newRow: false, policy: .join)]))
        _ = m.handle(.started(item: 0, audibleAt: at(13.5), fromSeconds: 13.5, fileSeconds: 60))
        let end = m.handle(.ended(item: 0, nextAt: at(60), heardSeconds: 46.5, reachedSeconds: 60, how: .endOfFile))
        let row = Self.closings(end)[0]
        #expect(row?.outcome == .truncated)
        #expect(row?.reason?.code == .deviceLost)
        #expect(abs((row?.airedSeconds ?? 0) - 56.5) < 1e-6)
        #expect(abs((row?.lostSeconds ?? 0) - 3.5) < 1e-6)
    }

    @Test("A device that never comes back fails every open row with its reason")
    func deviceNeverBack() {
        var m = machine(.join)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 60))
        _ = m.handle(.ended(item: 0, nextAt: at(10), heardSeconds: 10, reachedSeconds: 10, how: .deviceLost(Reason(.deviceLost))))
        let end = m.handle(.deviceStillLost(now: at(300), reason: Reason(.deviceLost, "hw:9")))
        #expect(Self.closings(end).count == 3)
        #expect(Self.closings(end).values.allSatisfy { $0.outcome == .failed && $0.reason == Reason(.deviceLost, "hw:9") })
        #expect(end.last == .finished)
    }

    @Test("A stop fades the item on air, which is interrupted; the rest is skipped")
    func stop() {
        var m = machine(.join)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 60))
        #expect(m.handle(.stop(now: at(5))) == [.fade(item: 0)])
        let end = m.handle(.ended(item: 0, nextAt: at(5.3), heardSeconds: 5.3, reachedSeconds: 5.3, how: .faded))
        let rows = Self.closings(end)
        #expect(rows[0]?.outcome == .interrupted)
        #expect(rows[0]?.reason?.code == .stopped)
        #expect(rows[1]?.reason?.code == .stoppedBeforeStart)
        #expect(rows[2]?.outcome == .skipped)
        #expect(end.last == .finished)
    }

    @Test("A file that ends well before its measured length fails; a near-empty one fails; an announcement has no policy")
    func fileEnds() {
        var m = machine(.join)
        _ = m.handle(.handedOver(now: at(-1)))
        _ = m.handle(.started(item: 0, audibleAt: start, fromSeconds: 0, fileSeconds: 40))
        let short = m.handle(.ended(item: 0, nextAt: at(40), heardSeconds: 40, reachedSeconds: 40, how: .endOfFile))
        #expect(Self.closings(short)[0]?.outcome == .failed)
        #expect(Self.closings(short)[0]?.reason?.code == .fileShort)
        #expect(Self.closings(short)[0]?.lostSeconds == 20, "the 20 s the file no longer holds are lost")
        var now = ProgramStateMachine(items: Self.items([0.05, 3], kind: .announcement), hardEnd: nil, policy: .join)
        _ = now.handle(.handedOver(now: at(1)))
        _ = now.handle(.started(item: 0, audibleAt: at(1), fromSeconds: 0, fileSeconds: 0.05))
        let empty = now.handle(.ended(item: 0, nextAt: at(1.05), heardSeconds: 0.05, reachedSeconds: 0.05, how: .endOfFile))
        #expect(Self.closings(empty)[0]?.reason?.code == .fileEmpty)
        #expect(Self.airings(empty).first?.policy == nil)
    }
}
