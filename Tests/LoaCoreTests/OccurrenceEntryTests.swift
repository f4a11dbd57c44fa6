import Foundation
import LoaCore
import Testing

/// The lateness decision on explicit times: three items of 60 s from 17:15:00, hard end 17:20.
@Suite("Entering an occurrence late: the lateness policies")
struct OccurrenceEntryTests {
    let start = Date(timeIntervalSince1970: 1_794_478_500)
    var items: [PlannedItem] {
        (0..<3).map { i in
            PlannedItem(segment: Segment(id: "s\(i)", title: "s\(i)", path: "s\(i).wav", durationSeconds: 60),
                        offsetSeconds: Double(i * 60), startsAt: start.addingTimeInterval(Double(i * 60)))
        }
    }
    var hardEnd: Date { start.addingTimeInterval(300) }
    let pending: [ItemProgress] = [.pending, .pending, .pending]

    func decide(_ policy: LatenessPolicy, at seconds: Double, progress: [ItemProgress]? = nil) -> [EntryAction] {
        OccurrenceEntry.decide(items: items, progress: progress ?? pending, hardEnd: hardEnd,
                               now: start.addingTimeInterval(seconds), policy: policy)
    }

    @Test("On time, every policy airs every item at its planned second", arguments: LatenessPolicy.allCases)
    func onTime(policy: LatenessPolicy) {
        #expect(decide(policy, at: -1.5) == items.map { .air(at: $0.startsAt, fromSeconds: 0) })
    }

    @Test("join enters the item on the clock at its wall-clock point; earlier items are lost, later ones on their second")
    func join() {
        let now = start.addingTimeInterval(75)
        #expect(decide(.join, at: 75) == [.drop(.passed(.join)), .air(at: now, fromSeconds: 15), .air(at: items[2].startsAt, fromSeconds: 0)])
    }

    @Test("next drops the item on the clock and starts the next one on its second")
    func next() {
        #expect(decide(.next, at: 75) == [.drop(.passed(.next)), .drop(.onTheClock(.next)), .air(at: items[2].startsAt, fromSeconds: 0)])
    }

    @Test("skip drops the rest of a late occurrence")
    func skip() {
        #expect(decide(.skip, at: 75) == [.drop(.policySkip), .drop(.policySkip), .drop(.policySkip)])
    }

    @Test("whole airs everything back to back from now when it fits before the hard end, else nothing")
    func whole() {
        let now = start.addingTimeInterval(100)
        #expect(decide(.whole, at: 100) == [.air(at: now, fromSeconds: 0), .air(at: now.addingTimeInterval(60), fromSeconds: 0),
                                           .air(at: now.addingTimeInterval(120), fromSeconds: 0)])
        #expect(decide(.whole, at: 121) == Array(repeating: .drop(.wouldNotFit(neededSeconds: 180, leftSeconds: 179)), count: 3))
    }

    @Test("Closed items are kept: what the log says was heard never airs twice")
    func closedKept() {
        let actions = decide(.join, at: 75, progress: [.closed, .closed, .pending])
        #expect(actions == [.keep, .keep, .air(at: items[2].startsAt, fromSeconds: 0)])
        #expect(decide(.whole, at: 75, progress: [.closed, .closed, .closed]) == [.keep, .keep, .keep])
    }

    @Test("A device back mid-item: join resumes the item on air at the clock; next drops it")
    func deviceBack() {
        let progress: [ItemProgress] = [.onAir(heardSeconds: 10), .pending, .pending]
        #expect(decide(.join, at: 13.5, progress: progress)[0] == .air(at: start.addingTimeInterval(13.5), fromSeconds: 13.5))
        #expect(decide(.next, at: 13.5, progress: progress)[0] == .drop(.onTheClock(.next)))
    }
}
