import Foundation
import LoaAudio
import LoaCore
import Testing

/// A clock that only moves when audio is written, like a sound card with no wall clock behind it.
final class AudioDrivenClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    func sleep(until deadline: Date) async throws { lock.withLock { current = max(current, deadline) } }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [PlayoutEvent] = []
    func add(_ event: PlayoutEvent) { lock.withLock { events.append(event) } }
    var all: [PlayoutEvent] { lock.withLock { events } }
}

@Suite("Playout engine against a discarding output")
struct PlayoutEngineTests {
    /// An engine whose discarding output moves `clock` by the audio written, as a device would.
    func discardingEngine(from start: Date) -> (AudioDrivenClock, PlayoutEngine) {
        let clock = AudioDrivenClock(start)
        return (clock, PlayoutEngine(clock: clock) { DiscardOutput { frames in clock.advance(Double(frames) / 48000) } })
    }

    /// How each item ended, in order.
    func results(_ events: [PlayoutEvent]) -> [ItemResult] {
        events.compactMap { event -> ItemResult? in
            if case let .ended(_, result, _, _, _) = event { return result }
            return nil
        }
    }

    @Test("Items start at their time and follow each other sample-accurately; each is reported started then ended")
    func backToBack() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 1.0)
        let b = try fixtures.tone("b.flac", frequency: 660, seconds: 0.5, rate: 22050)
        let start = Date(timeIntervalSince1970: 1_794_478_500)
        let (clock, engine) = discardingEngine(from: start.addingTimeInterval(-1.5))
        let log = EventLog()
        await engine.play(PlayoutRequest(items: [PlayoutItem(path: a.path, scheduledAt: start),
                                                 PlayoutItem(path: b.path, scheduledAt: start.addingTimeInterval(1))])) { log.add($0) }
        let events = log.all
        try #require(events.count == 4)
        guard case let .starting(0, firstAt) = events[0], case let .ended(0, .completed, airedA, endA?, _) = events[1],
              case let .starting(1, secondAt) = events[2], case let .ended(1, .completed, airedB, _, _) = events[3]
        else { Issue.record("unexpected events \(events)"); return }
        #expect(abs(firstAt.timeIntervalSince(start)) < 0.001)
        #expect(abs(airedA - 1.0) < 0.001 && abs(airedB - 0.5) < 0.001)
        #expect(secondAt == endA, "no gap between items")
    }

    @Test("An item that cannot finish before the hard end is not started; the next one that fits is")
    func itemsThatNoLongerFit() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 3)
        let b = try fixtures.tone("b.wav", frequency: 440, seconds: 2)
        let c = try fixtures.tone("c.wav", frequency: 440, seconds: 0.8)
        let start = Date(timeIntervalSince1970: 1_794_478_500)
        let (clock, engine) = discardingEngine(from: start)
        let log = EventLog()
        await engine.play(PlayoutRequest(items: [PlayoutItem(path: a.path, scheduledAt: start),
                                                 PlayoutItem(path: b.path, scheduledAt: start.addingTimeInterval(3)),
                                                 PlayoutItem(path: c.path, scheduledAt: start.addingTimeInterval(3))],
                                         hardEnd: start.addingTimeInterval(4))) { log.add($0) }
        #expect(results(log.all) == [.completed, .skipped("không còn đủ thời gian trước giờ kết thúc khung giờ"), .completed])
    }

    @Test("An item still playing at the hard end is faded and reported truncated with what aired")
    func hardEnd() async throws {
        let fixtures = try Fixtures()
        // Planned at 2 s, fitting the slot exactly, but the file on disk now runs 3 s.
        let long = try fixtures.tone("long.wav", frequency: 440, seconds: 3)
        let start = Date(timeIntervalSince1970: 1_794_478_500)
        let (clock, engine) = discardingEngine(from: start)
        let log = EventLog()
        await engine.play(PlayoutRequest(items: [PlayoutItem(path: long.path, scheduledAt: start, durationSeconds: 2)],
                                         hardEnd: start.addingTimeInterval(2), endFadeSeconds: 0.5)) { log.add($0) }
        guard case let .ended(0, .truncated, aired, _, _) = log.all.last else { Issue.record("\(log.all)"); return }
        #expect(abs(aired - 2) < 0.001)
    }

    @Test("An item that fills its slot exactly plays whole, though its start lands a fraction of a millisecond late")
    func exactFitIsNotCut() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 2)
        let start = Date(timeIntervalSince1970: 1_794_478_500)
        let (_, engine) = discardingEngine(from: start.addingTimeInterval(-1))
        let log = EventLog()
        await engine.play(PlayoutRequest(items: [PlayoutItem(path: a.path, scheduledAt: start, durationSeconds: 2)],
                                         hardEnd: start.addingTimeInterval(2))) { log.add($0) }
        guard case let .ended(0, .completed, aired, _, _) = log.all.last else { Issue.record("\(log.all)"); return }
        #expect(abs(aired - 2) < 0.001)
    }

    @Test("Stop mid-item: the item fades over the stop fade and is interrupted; the rest are skipped")
    func stopMidItem() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 2)
        let (clock, engine) = discardingEngine(from: Date(timeIntervalSince1970: 0))
        let log = EventLog()
        await engine.play(PlayoutRequest(items: [PlayoutItem(path: a.path, scheduledAt: clock.now()),
                                                 PlayoutItem(path: a.path, scheduledAt: clock.now().addingTimeInterval(2))],
                                         stopFadeSeconds: 0.25)) { event in
            log.add(event)
            if case .starting(0, _) = event { engine.stop() }
        }
        let events = log.all
        try #require(events.count == 3, "\(events)")
        guard case let .ended(0, .interrupted, aired, _, _) = events[1] else { Issue.record("\(events)"); return }
        #expect(abs(aired - 0.25) < 0.001)
        #expect(events[2] == .ended(index: 1, result: .skipped("Loa dừng trước khi phát mục này"), airedSeconds: 0, endedAt: nil, xruns: 0))
    }

    @Test("A missing file is reported failed and the next item still plays")
    func failedItem() async throws {
        let fixtures = try Fixtures()
        let ok = try fixtures.tone("ok.wav", frequency: 440, seconds: 0.2)
        let (clock, engine) = discardingEngine(from: Date(timeIntervalSince1970: 0))
        let log = EventLog()
        await engine.play(PlayoutRequest(items: [PlayoutItem(path: "/khong/co.mp3", scheduledAt: clock.now()),
                                                 PlayoutItem(path: ok.path, scheduledAt: clock.now())])) { log.add($0) }
        let events = log.all
        guard case let .ended(0, .failed(reason), _, _, _) = events.first else { Issue.record("\(events)"); return }
        #expect(reason.hasPrefix("/khong/co.mp3: không giải mã được"))
        try #require(events.count == 3)
        guard case .starting(1, _) = events[1] else { Issue.record("\(events)"); return }
        guard case .ended(1, .completed, _, _, _) = events.last else { Issue.record("\(events)"); return }
    }

    @Test("A device that cannot be opened fails the item with the ALSA error naming the device")
    func deviceMissing() async throws {
        let fixtures = try Fixtures()
        let ok = try fixtures.tone("ok.wav", frequency: 440, seconds: 0.2)
        let clock = AudioDrivenClock(Date(timeIntervalSince1970: 0))
        let engine = PlayoutEngine(clock: clock) { ALSAOutput(device: "loa_khong_co_thiet_bi") }
        let log = EventLog()
        await engine.play(PlayoutRequest(items: [PlayoutItem(path: ok.path, scheduledAt: clock.now()),
                                                 PlayoutItem(path: ok.path, scheduledAt: clock.now())])) { log.add($0) }
        let reasons = results(log.all).compactMap { result -> String? in
            if case let .failed(reason) = result { return reason }
            return nil
        }
        #expect(reasons.count == 2, "each item tries the device again")
        #expect(reasons.allSatisfy { $0.hasPrefix("thiết bị âm thanh “loa_khong_co_thiet_bi”") })
    }
}
