import Foundation
import LoaAudio
import LoaCore
import Testing

/// A clock that only moves when audio is written or the engine waits, like a sound card with no wall clock
/// behind it: nothing here depends on the real time or on dates being in the past.
final class AudioDrivenClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    /// How late every wait wakes, as a real thread does.
    let overshoot: Double

    init(_ start: Date, overshoot: Double = 0) {
        current = start
        self.overshoot = overshoot
    }

    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    func sleep(until deadline: Date) async throws { lock.withLock { current = max(current, deadline) } }
    func wait(_ seconds: Double, on condition: NSCondition) { advance(seconds + overshoot) }
    func monotonicSeconds() -> Double { now().timeIntervalSince1970 }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [PlayoutEvent] = []
    func add(_ event: PlayoutEvent) { lock.withLock { events.append(event) } }
    var all: [PlayoutEvent] { lock.withLock { events } }
}

/// An output that takes audio at the clock's pace, and can be scripted to fail: refuse to open, throw
/// on a write, or stall (take nothing, without an error) after so many frames.
final class ScriptedOutput: AudioOutput, @unchecked Sendable {
    enum Fault {
        case none, throwAfter(Int), stallAfter(Int), loseTimeAfter(Int, seconds: Double)
        /// Runs dry for `seconds` without a word; then its delay is off by each of `wobble`'s seconds in turn, as
        /// PulseAudio's estimate is while the server settles.
        case runDryAfter(Int, seconds: Double, wobble: [Double] = [])
    }
    let name = "scripted"
    let format = AudioFormat.broadcast
    private(set) var xruns = 0
    let clock: AudioDrivenClock
    let fault: Fault
    let opens: Bool
    /// Where opens, retirements and closes are written down, as "open 1", "retire 1", "close 1".
    let trail: Trail?
    let label: String
    private var written = 0

    /// The label of an output that holds the device exclusively, as an `hw:` card is held, until it is closed.
    let busyUntilClosed: String?

    init(clock: AudioDrivenClock, opens: Bool = true, fault: Fault = .none, trail: Trail? = nil, label: String = "",
         busyUntilClosed: String? = nil) {
        self.clock = clock
        self.opens = opens
        self.fault = fault
        self.trail = trail
        self.label = label
        self.busyUntilClosed = busyUntilClosed
    }

    func open() throws(AudioError) {
        if !opens { throw .device(name: name, code: -2, message: "No such file or directory") }
        if let holder = busyUntilClosed, trail?.all.contains("close \(holder)") != true {
            throw .device(name: name, code: -EBUSY, message: "Device or resource busy")
        }
        trail?.add("open \(label)")
    }
    func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) -> Int {
        let frames = samples.count / format.channels
        switch fault {
        case let .throwAfter(limit) where written + frames > limit:
            throw .device(name: name, code: -19, message: "No such device")
        case let .stallAfter(limit) where written + frames > limit:
            return 0
        case let .loseTimeAfter(limit, seconds) where written <= limit && written + frames > limit:
            // An underrun the device recovered from: the time passed, the audio queued was not heard.
            xruns += 1
            clock.advance(seconds)
        case let .runDryAfter(limit, seconds, wobble) where written <= limit && written + frames > limit:
            // A sound server that ran out of audio plays silence and says nothing: only its delay shows it.
            clock.advance(seconds)
            settling = wobble
        default: break
        }
        written += frames
        clock.advance(Double(frames) / 48000)
        return frames
    }
    func timeUntilWritable() throws(AudioError) -> Duration { .milliseconds(10) }
    private var settling: [Double] = []
    func queuedFrames() throws(AudioError) -> Int {
        settling.isEmpty ? 0 : Int(settling.removeFirst() * 48000)
    }
    func drain() throws(AudioError) {}
    func close() { trail?.add("close \(label)") }
    func retire() { trail?.add("retire \(label)") }
}

/// A device with a large buffer that takes audio in big pieces, as a PulseAudio stream with a long target length does:
/// its position moves in steps of `request` seconds, so for up to that long it takes nothing, while the delay it
/// reports (interpolated, as the pulse plugin's is) falls smoothly as it plays. A full buffer, not a stall.
final class CoarseBufferOutput: AudioOutput, @unchecked Sendable {
    let name = "coarse"
    let format = AudioFormat.broadcast
    var xruns: Int { 0 }
    let clock: AudioDrivenClock
    let capacity: Int, request: Int
    private var written = 0
    private var startedAt: Date?

    init(clock: AudioDrivenClock, capacitySeconds: Double, requestSeconds: Double) {
        self.clock = clock
        capacity = Int(capacitySeconds * 48000)
        request = Int(requestSeconds * 48000)
    }

    private var elapsedFrames: Int { startedAt.map { Int(clock.now().timeIntervalSince($0) * 48000) } ?? 0 }
    /// Where the server has read to: whole requests only.
    private var position: Int { min(written, elapsedFrames / request * request) }
    func open() throws(AudioError) {}
    func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) -> Int {
        if startedAt == nil { startedAt = clock.now() }
        let frames = min(samples.count / format.channels, max(0, capacity - (written - position)))
        written += frames
        return frames
    }
    /// Says "soon" however full it is, as ALSA's pulse plugin does with a small `avail_min`: the writer polls.
    func timeUntilWritable() throws(AudioError) -> Duration { .milliseconds(10) }
    func queuedFrames() throws(AudioError) -> Int { max(0, written - min(written, elapsedFrames)) }
    func drain() throws(AudioError) {}
    func close() {}
}

/// What happened to the outputs, in order.
final class Trail: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    func add(_ entry: String) { lock.withLock { entries.append(entry) } }
    var all: [String] { lock.withLock { entries } }
}

/// Hands out outputs from a script, one per open; the last one is reused.
final class OutputScript: @unchecked Sendable {
    private let lock = NSLock()
    private var outputs: [ScriptedOutput]
    private(set) var opened = 0
    init(_ outputs: [ScriptedOutput]) { self.outputs = outputs }
    func next() -> any AudioOutput {
        lock.withLock {
            opened += 1
            return outputs.count > 1 ? outputs.removeFirst() : outputs[0]
        }
    }
}

@Suite("Playout engine against scripted outputs and an audio-driven clock")
struct PlayoutEngineTests {
    let start = Date(timeIntervalSince1970: 1_794_478_500)

    /// An engine whose discarding output moves `clock` by the audio written, as a device would.
    func discardingEngine(from start: Date) -> (AudioDrivenClock, PlayoutEngine) {
        let clock = AudioDrivenClock(start)
        return (clock, PlayoutEngine(clock: clock) { DiscardOutput { frames in clock.advance(Double(frames) / 48000) } })
    }

    /// A program of `files` planned back to back from `start`, with their planned lengths.
    func program(_ files: [(URL, Double)], from start: Date, hardEnd: Date? = nil, policy: LatenessPolicy = .join,
                 gains: [Double]? = nil) -> PlayoutProgram {
        var cursor = 0.0
        var cues: [PlayoutCue] = []
        for (n, (url, seconds)) in files.enumerated() {
            let segment = Segment(id: url.lastPathComponent, title: url.lastPathComponent, path: url.path, durationSeconds: seconds)
            cues.append(PlayoutCue(item: PlannedItem(segment: segment, offsetSeconds: cursor, startsAt: start.addingTimeInterval(cursor)),
                                   path: url.path, gainDB: gains?[n] ?? 0))
            cursor += seconds
        }
        return PlayoutProgram(cues: cues, hardEnd: hardEnd, policy: policy, endFadeSeconds: 0.5, stopFadeSeconds: 0.25)
    }

    func play(_ engine: PlayoutEngine, _ program: PlayoutProgram) async -> [PlayoutEvent] {
        let log = EventLog()
        await engine.play(program) { log.add($0) }
        return log.all
    }

    /// How each cue ended, in cue order (an item's end is reported once heard, possibly after a later skip).
    func results(_ events: [PlayoutEvent]) -> [AiringOutcome] {
        closings(events).map(\.outcome)
    }

    /// Each cue's row as it was closed, in cue order.
    func closings(_ events: [PlayoutEvent]) -> [RowClosing] {
        events.compactMap { if case let .ended(cue, closing, _, _) = $0 { (cue, closing) } else { nil } }
            .sorted { $0.0 < $1.0 }.map(\.1)
    }

    func starts(_ events: [PlayoutEvent]) -> [Int: (at: Date, from: Double)] {
        var found: [Int: (Date, Double)] = [:]
        for case let .starting(cue, at, from, _, _) in events { found[cue] = (at, from) }
        return found
    }

    func ended(_ events: [PlayoutEvent], _ cue: Int)
        -> (result: AiringOutcome, reason: Reason?, aired: Double, lost: Double, xruns: Int, endedAt: Date?)? {
        for case let .ended(c, closing, endedAt, xruns) in events where c == cue {
            return (closing.outcome, closing.reason, closing.airedSeconds, closing.lostSeconds, xruns, endedAt)
        }
        return nil
    }

    func dropouts(_ events: [PlayoutEvent]) -> [(cue: Int, seconds: Double)] {
        events.compactMap { if case let .dropout(cue, seconds) = $0 { (cue, seconds) } else { nil } }
    }

    @Test("Items start at their time and follow each other sample-accurately; each is reported started then ended")
    func backToBack() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 1.0)
        let b = try fixtures.tone("b.flac", frequency: 660, seconds: 0.5, rate: 22050)
        let (_, engine) = discardingEngine(from: start.addingTimeInterval(-1.5))
        // Progress (every second heard) is not what this checks.
        let events = await play(engine, program([(a, 1.0), (b, 0.5)], from: start)).filter { if case .progress = $0 { false } else { true } }
        try #require(events.count == 4, "\(events)")
        let firstAt = try #require(starts(events)[0]).at, secondAt = try #require(starts(events)[1]).at
        guard let a = ended(events, 0), a.result == .completed, a.lost == 0, let endA = a.endedAt,
              let b = ended(events, 1), b.result == .completed
        else { Issue.record("unexpected events \(events)"); return }
        let airedA = a.aired
        #expect(abs(firstAt.timeIntervalSince(start)) < 0.001)
        #expect(abs(airedA - 1.0) < 0.001 && abs(b.aired - 0.5) < 0.001)
        #expect(abs(secondAt.timeIntervalSince(endA)) < 0.0001, "no gap between items")
    }

    @Test("An item on air at the hard end is cut there with the end fade, not left out; what is planned after the hard end is skipped")
    func itemsThatNoLongerFit() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 3)
        let b = try fixtures.tone("b.wav", frequency: 440, seconds: 2)
        let c = try fixtures.tone("c.wav", frequency: 440, seconds: 0.8)
        let (_, engine) = discardingEngine(from: start.addingTimeInterval(-1))
        var p = program([(a, 3), (b, 2), (c, 0.8)], from: start, hardEnd: start.addingTimeInterval(4))
        p.cues[2].item.startsAt = start.addingTimeInterval(3) // planned in b's place, as if b were left out
        let events = await play(engine, p)
        #expect(results(events) == [.completed, .truncated, .skipped])
        #expect(closings(events).map(\.reason?.code) == [nil, .cutHardEnd, .latePassed])
        #expect(abs((ended(events, 1)?.aired ?? 0) - 1) < 0.001, "b airs from 3 s to the hard end at 4 s")
    }

    @Test("An item still playing at the hard end is faded and reported truncated with what aired")
    func hardEnd() async throws {
        let fixtures = try Fixtures()
        // Planned at 2 s, fitting the slot exactly, but the file on disk now runs 3 s.
        let long = try fixtures.tone("long.wav", frequency: 440, seconds: 3)
        let (_, engine) = discardingEngine(from: start.addingTimeInterval(-1))
        let events = await play(engine, program([(long, 2)], from: start, hardEnd: start.addingTimeInterval(2)))
        guard let end = ended(events, 0), end.result == .truncated else { Issue.record("\(events)"); return }
        #expect(abs(end.aired - 2) < 0.001)
    }

    @Test("An item that fills its slot exactly plays whole though its first sample lands 0.3 ms late")
    func exactFitIsNotCut() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 2)
        // Every wait wakes 0.3 ms late, as a thread does, and every write takes 0.3 ms more than the audio
        // it carries: the lead-in overshoots its target.
        let clock = AudioDrivenClock(start.addingTimeInterval(-1), overshoot: 0.0003)
        let engine = PlayoutEngine(clock: clock) { DiscardOutput { frames in clock.advance(Double(frames) / 48000 + 0.0003) } }
        let events = await play(engine, program([(a, 2)], from: start, hardEnd: start.addingTimeInterval(2)))
        let late = try #require(starts(events)[0]).at.timeIntervalSince(start)
        #expect(late > 0.0001, "the jitter this test is about must happen: first sample \(late) s late")
        guard let end = ended(events, 0), end.result == .completed else { Issue.record("\(events)"); return }
        #expect(abs(end.aired - 2) < 0.001)
    }

    @Test("Stop mid-item: the item fades over the stop fade and is interrupted; the rest are skipped")
    func stopMidItem() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 2)
        let (clock, engine) = discardingEngine(from: start)
        let log = EventLog()
        await engine.play(program([(a, 2), (a, 2)], from: clock.now())) { event in
            log.add(event)
            if case .starting(0, _, _, _, _) = event { engine.stop() }
        }
        let events = log.all
        try #require(events.count == 3, "\(events)")
        guard case let .ended(0, first, _, _) = events[1], first.outcome == .interrupted, first.reason?.code == .stopped
        else { Issue.record("\(events)"); return }
        #expect(abs(first.airedSeconds - 0.25) < 0.001)
        guard case let .ended(1, second, nil, 0) = events[2], second.outcome == .skipped, second.reason?.code == .stoppedBeforeStart,
              second.airedSeconds == 0 else { Issue.record("\(events)"); return }
    }

    @Test("A missing file is reported failed and the next item still plays")
    func failedItem() async throws {
        let fixtures = try Fixtures()
        let ok = try fixtures.tone("ok.wav", frequency: 440, seconds: 0.2)
        let (clock, engine) = discardingEngine(from: start)
        let events = await play(engine, program([(URL(fileURLWithPath: "/khong/co.mp3"), 0.2), (ok, 0.2)], from: clock.now()))
        guard let failed = closings(events).first, failed.outcome == .failed else { Issue.record("\(events)"); return }
        #expect(failed.reason?.code == .fileUnreadable)
        #expect(failed.reason?.detail?.hasPrefix("/khong/co.mp3: không giải mã được") == true)
        #expect(results(events).last == .completed)
    }

    @Test("A near-empty file that plays to its end is failed, not completed: nothing a listener heard is an airing")
    func nearEmptyFileFails() async throws {
        let fixtures = try Fixtures()
        let crumb = try fixtures.tone("vun.wav", frequency: 440, seconds: 0.05)
        let ok = try fixtures.tone("ok.wav", frequency: 440, seconds: 0.2)
        let (clock, engine) = discardingEngine(from: start)
        let events = await play(engine, program([(crumb, 0.05), (ok, 0.2)], from: clock.now()))
        guard let failed = closings(events).first, failed.outcome == .failed else { Issue.record("\(events)"); return }
        #expect(failed.reason?.code == .fileEmpty, "\(failed)")
        #expect(results(events).last == .completed)
    }

    @Test("A device that never opens is retried every half second for as long as the slot lasts, then each item fails naming it")
    func deviceMissing() async throws {
        let fixtures = try Fixtures()
        let ok = try fixtures.tone("ok.wav", frequency: 440, seconds: 1)
        let clock = AudioDrivenClock(start)
        let script = OutputScript([ScriptedOutput(clock: clock, opens: false)])
        let engine = PlayoutEngine(clock: clock) { script.next() }
        let events = await play(engine, program([(ok, 1), (ok, 1)], from: start))
        let reasons = closings(events).filter { $0.outcome == .failed }.compactMap(\.reason)
        #expect(reasons.count == 2 && reasons.allSatisfy { $0.code == .deviceLost && $0.detail?.hasPrefix("thiết bị âm thanh “scripted”") == true },
                "\(events)")
        #expect(script.opened >= 4 && script.opened <= 6, "2 s of slot at one try per 0.5 s: \(script.opened) tries")
    }

    @Test("A device lost mid-item and back 1.5 s later: the item resumes at the clock, its loss logged; the next starts on its second")
    func deviceLostAndBack() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 4)
        let b = try fixtures.tone("b.wav", frequency: 660, seconds: 1)
        let clock = AudioDrivenClock(start.addingTimeInterval(-1))
        // The first device dies 1 s into the item, the next two opens fail (1 s), then it is back.
        let script = OutputScript([ScriptedOutput(clock: clock, fault: .throwAfter(48000 * 2)),
                                   ScriptedOutput(clock: clock, opens: false), ScriptedOutput(clock: clock, opens: false),
                                   ScriptedOutput(clock: clock, opens: false), ScriptedOutput(clock: clock)])
        let engine = PlayoutEngine(clock: clock) { script.next() }
        let events = await play(engine, program([(a, 4), (b, 1)], from: start))
        #expect(events.contains { if case .deviceLost = $0 { true } else { false } })
        let first = try #require(ended(events, 0), "\(events)")
        guard first.result == .truncated else { Issue.record("\(events)"); return }
        #expect(abs(first.lost - 1.5) < 0.05 && abs(first.aired + first.lost - 4) < 0.01, "aired \(first.aired) s, lost \(first.lost) s")
        let second = try #require(starts(events)[1])
        #expect(abs(second.at.timeIntervalSince(start.addingTimeInterval(4))) < 0.002, "next item \(second.at.timeIntervalSince(start)) s")
        #expect(ended(events, 1)?.result == .completed)
    }

    @Test("A device that stops taking audio without an error is a fault after the stall timeout, and playout resumes on the clock")
    func stalledDevice() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 4)
        let clock = AudioDrivenClock(start.addingTimeInterval(-1))
        let script = OutputScript([ScriptedOutput(clock: clock, fault: .stallAfter(48000 * 2)), ScriptedOutput(clock: clock)])
        let engine = PlayoutEngine(clock: clock, stallTimeout: 1.0) { script.next() }
        let events = await play(engine, program([(a, 4)], from: start))
        let lost = events.compactMap { if case let .deviceLost(message) = $0 { message } else { nil } }
        #expect(lost.first?.contains("treo") == true, "\(events)")
        let end = try #require(ended(events, 0))
        #expect(end.lost > 0.9 && end.lost < 1.2, "stalled ~1 s, lost \(end.lost) s")
        #expect(abs(end.aired + end.lost - 4) < 0.01)
    }

    @Test("A full buffer is not a stall: a device that takes nothing for 1.2 s at a time while it plays what it holds is never let go of")
    func fullBufferIsNotAStall() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 4)
        let clock = AudioDrivenClock(start.addingTimeInterval(-1.5))
        let engine = PlayoutEngine(clock: clock, stallTimeout: 1.0) { CoarseBufferOutput(clock: clock, capacitySeconds: 2, requestSeconds: 1.2) }
        let events = await play(engine, program([(a, 4)], from: start))
        #expect(!events.contains { if case .deviceLost = $0 { true } else { false } }, "\(events)")
        let first = try #require(starts(events)[0])
        #expect(abs(first.at.timeIntervalSince(start)) < 0.002, "first sample \(first.at.timeIntervalSince(start)) s from its second")
        let end = try #require(ended(events, 0))
        #expect(end.result == .completed && end.xruns == 0, "\(events)")
    }

    @Test("While an item airs, how long it has been heard is reported every few seconds, before its end")
    func progressReportedWhileAiring() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 12)
        let (_, engine) = discardingEngine(from: start.addingTimeInterval(-1))
        let events = await play(engine, program([(a, 12)], from: start))
        let progress = events.compactMap { if case let .progress(0, aired) = $0 { aired } else { nil } }
        let interval = PlayoutEngine.progressInterval
        // At every whole interval of the 12 s item, on the interval's grid.
        #expect(progress.count == Int((12 / interval).rounded(.down)), "\(progress)")
        #expect(interval <= 1, "a crash must lose at most about a second of what was heard")
        for (n, aired) in progress.enumerated() {
            #expect(abs(aired - interval * Double(n + 1)) < 0.1, "\(progress)")
        }
        let end = events.firstIndex { if case .ended = $0 { true } else { false } }
        let last = events.lastIndex { if case .progress = $0 { true } else { false } }
        #expect(last.flatMap { last in end.map { last < $0 } } == true, "\(events)")
    }

    /// A 4 s item on output "1", which stalls after 2 s of audio, then on output "2" (`busyUntilClosed` as
    /// given); returns what happened to the outputs and the engine's events.
    func stallThenReplace(busyUntilClosed: String? = nil) async throws -> (trail: [String], events: [PlayoutEvent]) {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 4)
        let clock = AudioDrivenClock(start.addingTimeInterval(-1))
        let trail = Trail()
        let script = OutputScript([ScriptedOutput(clock: clock, fault: .stallAfter(48000 * 2), trail: trail, label: "1"),
                                   ScriptedOutput(clock: clock, trail: trail, label: "2", busyUntilClosed: busyUntilClosed)])
        let engine = PlayoutEngine(clock: clock, stallTimeout: 1.0) { script.next() }
        let events = await play(engine, program([(a, 4)], from: start))
        return (trail.all, events)
    }

    @Test("A stalled device is let go of but kept until its replacement is open, then closed: the sound server never goes without a stream")
    func stalledDeviceKeptUntilReplaced() async throws {
        let entries = try await stallThenReplace().trail
        let firstClose = entries.firstIndex(of: "close 1")
        #expect(entries.prefix(3) == ["open 1", "retire 1", "open 2"], "\(entries)")
        #expect(firstClose.map { $0 > 2 } == true, "the stalled device was closed before its replacement opened: \(entries)")
    }

    @Test("A device held exclusively is let go of when its replacement finds it busy: the next attempt opens it and the item goes on")
    func busyDeviceReleasedForItsReplacement() async throws {
        let (trail, events) = try await stallThenReplace(busyUntilClosed: "1")
        #expect(trail.prefix(3) == ["open 1", "retire 1", "close 1"], "\(trail)")
        #expect(trail.contains("open 2"), "\(trail)")
        let end = try #require(ended(events, 0))
        #expect(end.aired > 2.2, "aired \(end.aired) s of 4: the device never came back")
    }

    @Test("Under join, time lost to an underrun is caught up at the next item: the item after it starts on its second")
    func driftCaughtUp() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 2)
        let clock = AudioDrivenClock(start.addingTimeInterval(-1))
        let script = OutputScript([ScriptedOutput(clock: clock, fault: .loseTimeAfter(48000 * 2, seconds: 0.5))])
        let engine = PlayoutEngine(clock: clock) { script.next() }
        let events = await play(engine, program([(a, 2), (a, 2), (a, 2)], from: start))
        let third = try #require(starts(events)[2])
        #expect(abs(third.at.timeIntervalSince(start.addingTimeInterval(4))) < 0.002, "third item at \(third.at.timeIntervalSince(start)) s")
        let second = try #require(ended(events, 1))
        #expect(abs(second.lost - 0.5) < 0.01, "the second item lost \(second.lost) s")
        // The underrun the device counted is said once, and counted once on the row.
        let dropouts = dropouts(events)
        #expect(dropouts.count == 1 && dropouts.first.map { abs($0.seconds - 0.5) < 0.002 } == true, "\(dropouts)")
        #expect(try #require(ended(events, 0)).xruns + second.xruns == 1)
    }

    /// A device that runs dry without reporting an underrun, as PulseAudio's does: only its delay shows it.
    struct DryDevice: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let itemSeconds: Double
        let fault: ScriptedOutput.Fault
        let silence: Double

        static let cases = [
            DryDevice(testDescription: "75 ms mid-item: reported with its length", itemSeconds: 2,
                      fault: .runDryAfter(48000 + 48000 / 2, seconds: 0.075), silence: 0.075),
            DryDevice(testDescription: "300 ms whose delay wobbles (+120, 0, +50, +90, 0 ms) while the server settles: reported once",
                      itemSeconds: 3, fault: .runDryAfter(48000, seconds: 0.3, wobble: [0.12, 0, 0.05, 0.09, 0]), silence: 0.3),
            // Chunks are 4096 frames: the dry spell comes in item 1's last chunk (item 1's frames end between 135,000 and
            // 137,000 here), and the delay shows only 0.2 s of it there, the rest in item 2's first chunks.
            DryDevice(testDescription: "300 ms in an item's last chunk, settling during the next item: reported once, on the item heard",
                      itemSeconds: 2, fault: .runDryAfter(48000 * 2 + 48000 - 9000, seconds: 0.3, wobble: [-0.1, -0.05, 0]),
                      silence: 0.3),
        ]
    }

    @Test("A device that ran dry without a word: one dropout report with the time the audio was put back by, counted on the item it was heard in",
          arguments: DryDevice.cases)
    func dryDevice(_ dry: DryDevice) async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: dry.itemSeconds)
        let clock = AudioDrivenClock(start.addingTimeInterval(-1))
        let script = OutputScript([ScriptedOutput(clock: clock, fault: dry.fault)])
        let engine = PlayoutEngine(clock: clock) { script.next() }
        let events = await play(engine, program([(a, dry.itemSeconds), (a, dry.itemSeconds)], from: start))
        let dropouts = dropouts(events)
        #expect(dropouts.count == 1 && dropouts.first?.cue == 0, "\(dropouts)")
        #expect(dropouts.first.map { abs($0.seconds - dry.silence) < 0.002 } == true, "\(dropouts)")
        #expect(try #require(ended(events, 0)).xruns == 1)
        #expect(try #require(ended(events, 1)).xruns == 0)
    }

    @Test("An announcement preempts: the item on air fades and is interrupted, the announcement airs, and the item goes on at once where the clock is (join)")
    func preemption() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 3)
        let b = try fixtures.tone("b.wav", frequency: 660, seconds: 3)
        let note = try fixtures.tone("note.wav", frequency: 880, seconds: 1)
        let (clock, engine) = discardingEngine(from: start.addingTimeInterval(-0.5))
        let slot = EventLog(), announcement = EventLog()
        await engine.play(program([(a, 3), (b, 3)], from: start)) { event in
            slot.add(event)
            if case .starting(0, _, _, _, false) = event {
                engine.preempt(PlayoutProgram.now([(note.path, 1, 0)], at: clock.now(), kind: .announcement),
                               events: { announcement.add($0) }, completion: {})
            }
        }
        guard let first = ended(slot.all, 0), first.result == .interrupted else { Issue.record("\(slot.all)"); return }
        #expect(first.reason == Reason(.preemptedAnnouncement, note.path))
        #expect(first.aired < 0.5)
        #expect(results(announcement.all) == [.completed])
        // The announcement heard, a goes on at once where the clock is in it, in a row of its own; then b on its second.
        let noteEnd = try #require(ended(announcement.all, 0)?.endedAt)
        let resumed = slot.all.compactMap { event -> (at: Date, from: Double)? in
            if case let .starting(0, at, from, .join, true) = event { (at, from) } else { nil }
        }
        let again = try #require(resumed.first, "\(slot.all)")
        #expect(abs(again.at.timeIntervalSince(noteEnd)) < 0.005, "silence between the announcement and a: \(again.at.timeIntervalSince(noteEnd)) s")
        #expect(abs(again.from - again.at.timeIntervalSince(start)) < 0.002, "a rejoined at \(again.from) s in, \(again.at.timeIntervalSince(start)) s into the slot")
        let rows = slot.all.compactMap { if case let .ended(0, closing, _, _) = $0 { closing } else { nil } }
        #expect(rows.map(\.outcome) == [.interrupted, .truncated])
        #expect(rows.last?.reason?.code == .resumed)
        let second = try #require(starts(slot.all)[1])
        #expect(abs(second.at.timeIntervalSince(start.addingTimeInterval(3))) < 0.002)
    }

    @Test("Entered in an item's last twentieth of a second, the item is truncated with what was lost, not failed as near-empty")
    func joinedAtTheEndIsNotEmpty() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 1)
        let (_, engine) = discardingEngine(from: start.addingTimeInterval(0.93))
        let events = await play(engine, program([(a, 1)], from: start))
        let end = try #require(ended(events, 0), "\(events)")
        guard end.result == .truncated else { Issue.record("\(end.result)"); return }
        #expect(end.aired < Segment.minimumSeconds && end.lost > 0.9)
    }

    @Test("Entered 1.25 s late with join, the first item starts 1.25 s in, its loss logged")
    func joinsLate() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 3)
        let (_, engine) = discardingEngine(from: start.addingTimeInterval(1.25))
        let events = await play(engine, program([(a, 3)], from: start))
        // The first sample written is heard after the limiter's look-ahead: that is where the clock is.
        let latency = Double(TruePeakLimiter().latencyFrames) / 48000
        let first = try #require(starts(events)[0])
        #expect(abs(first.from - 1.25 - latency) < 0.0005)
        guard case .starting(_, _, _, .join, _)? = events.first else { Issue.record("\(events)"); return }
        let end = try #require(ended(events, 0))
        #expect(abs(end.lost - first.from) < 0.0005 && abs(end.aired + end.lost - 3) < 0.0005)
    }

    @Test("Gain is applied: −6 dB halves the amplitude")
    func gain() async throws {
        let fixtures = try Fixtures()
        let a = try fixtures.tone("a.wav", frequency: 440, seconds: 0.5, rate: 48000)
        let clock = AudioDrivenClock(start)
        let peak = PeakMeter()
        let engine = PlayoutEngine(clock: clock) { PeakOutput(clock: clock, meter: peak) }
        _ = await play(engine, program([(a, 0.5)], from: start, gains: [-6.0206]))
        #expect(abs(peak.value - 0.25) < 0.01, "peak \(peak.value)")
    }
}

final class PeakMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var peak: Float = 0
    func see(_ v: Float) { lock.withLock { peak = max(peak, v) } }
    var value: Float { lock.withLock { peak } }
}

final class PeakOutput: AudioOutput, @unchecked Sendable {
    let name = "peak", format = AudioFormat.broadcast
    var xruns: Int { 0 }
    let clock: AudioDrivenClock, meter: PeakMeter
    init(clock: AudioDrivenClock, meter: PeakMeter) { self.clock = clock; self.meter = meter }
    func open() throws(AudioError) {}
    func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) -> Int {
        for s in samples { meter.see(abs(s)) }
        clock.advance(Double(samples.count / 2) / 48000)
        return samples.count / 2
    }
    func timeUntilWritable() throws(AudioError) -> Duration { .zero }
    func queuedFrames() throws(AudioError) -> Int { 0 }
    func drain() throws(AudioError) {}
    func close() {}
}
