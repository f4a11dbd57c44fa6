import Foundation
import LoaCore

/// One item of a program: what the plan says of it and how to play it.
public struct PlayoutCue: Sendable, Hashable {
    /// Its place and length in the plan.
    public var item: PlannedItem
    /// The file, as an absolute path.
    public var path: String
    /// Gain to apply, in dB (loudness normalisation).
    public var gainDB: Double
    /// The file's true peak after `gainDB`, when it was measured: an item well under the ceiling needs no
    /// limiting, and the limiter's detection is skipped for it.
    public var truePeakDBTP: Double?

    public init(item: PlannedItem, path: String, gainDB: Double = 0, truePeakDBTP: Double? = nil) {
        self.item = item
        self.path = path
        self.gainDB = gainDB
        self.truePeakDBTP = truePeakDBTP
    }

    /// Margin under the ceiling for trusting the measurement: a resampled copy's inter-sample peaks may
    /// differ a little from the original's, and 4× oversampling can read low.
    static let trustedHeadroomDB = 0.5

    /// Whether every sample of the item, after its gain, is known to stay under `ceiling`.
    func isUnder(_ ceiling: Double) -> Bool { truePeakDBTP.map { $0 <= ceiling - PlayoutCue.trustedHeadroomDB } ?? false }
}

/// What the engine airs in one go: an occurrence of a slot, or an announcement. The engine enters it
/// through `OccurrenceEntry`, at start and again whenever the device comes back or a preemption ends.
public struct PlayoutProgram: Sendable {
    public var cues: [PlayoutCue]
    /// What the log knows of each cue when the program is handed over.
    public var progress: [ItemProgress]
    public var hardEnd: Date?
    public var policy: LatenessPolicy
    /// Fade length when an item is cut at the hard end.
    public var endFadeSeconds: Double
    /// Fade length when an item is stopped or preempted.
    public var stopFadeSeconds: Double
    /// How far past the hard end an item may be expected to run and still be started and played whole:
    /// the placement of a first sample jitters by a few milliseconds, and that must not cut an item
    /// that exactly fills its slot.
    public static let endToleranceSeconds = 0.02

    public init(cues: [PlayoutCue], progress: [ItemProgress]? = nil, hardEnd: Date? = nil, policy: LatenessPolicy = .join,
                endFadeSeconds: Double = 2, stopFadeSeconds: Double = 0.3) {
        self.cues = cues
        self.progress = progress ?? cues.map { _ in .pending }
        self.hardEnd = hardEnd
        self.policy = policy
        self.endFadeSeconds = endFadeSeconds
        self.stopFadeSeconds = stopFadeSeconds
    }

    /// Files played now, back to back (`loa play`, announcements).
    public static func now(_ paths: [(path: String, durationSeconds: Double, gainDB: Double)], at start: Date,
                           kind: ItemKind = .segment) -> PlayoutProgram {
        var cursor = 0.0
        let cues = paths.map { entry in
            defer { cursor += entry.durationSeconds }
            let segment = Segment(id: entry.path, title: entry.path, path: entry.path, durationSeconds: entry.durationSeconds)
            return PlayoutCue(item: PlannedItem(segment: segment, offsetSeconds: cursor, startsAt: start.addingTimeInterval(cursor),
                                                kind: kind),
                              path: entry.path, gainDB: entry.gainDB)
        }
        return PlayoutProgram(cues: cues, policy: .whole)
    }
}

/// How an item ended, as the engine saw it.
public enum ItemResult: Sendable, Hashable {
    case completed
    /// Heard, but not whole: cut at the hard end, or entered late (`lostSeconds` says how much was lost).
    case truncated(String)
    /// Stopped before its end: the daemon stopped, an announcement preempted it, a policy dropped it.
    case interrupted(String)
    case failed(String)
    case skipped(String)
}

/// What the output thread reports, in order, for a program.
public enum PlayoutEvent: Sendable, Hashable {
    /// The cue's first sample is being written; `audibleAt` comes from the device's delay at that write.
    case starting(cue: Int, audibleAt: Date, fromSeconds: Double, policy: LatenessPolicy?)
    /// The cue's last sample has been heard (or it never started); `endedAt` is when it stopped being heard.
    case ended(cue: Int, result: ItemResult, airedSeconds: Double, endedAt: Date?, xruns: Int, lostSeconds: Double)
    /// The cue has been heard for `airedSeconds` so far: reported every ``PlayoutEngine/progressInterval`` while
    /// it airs, once heard, so that the log of an airing cut short by a crash keeps what was heard.
    case progress(cue: Int, airedSeconds: Double)
    /// The device failed, vanished or stalled; the engine retries it.
    case deviceLost(String)
    /// The device is back, at this time.
    case deviceBack(Date)
    /// The loudspeaker went without audio for about `seconds` while the cue aired: an underrun, reported by the
    /// device or found when its delay jumped (a sound server left without audio says nothing). The audio after
    /// it airs that much later; the cue's row counts it in its xruns.
    case dropout(cue: Int, seconds: Double)

    /// What the officer reads of a dropout: how long the loudspeaker was silent, in what, on which device, and why.
    public static func dropoutMessage(seconds: Double, title: String, device: String) -> String {
        let ms = Int((seconds * 1000).rounded())
        return "Loa mất tiếng \(ms > 0 ? "\(ms) ms" : "trong chốc lát") khi phát “\(title)”: thiết bị “\(device)” hết dữ liệu "
            + "(máy quá bận hoặc máy chủ âm thanh chậm); phần còn lại của mục này phát muộn ngần ấy"
    }
}

/// The station's one output engine: a long-lived output thread that takes commands (MPD's output thread
/// is the model). It airs programs, preempts them for announcements with a short fade, re-enters them on
/// the wall clock after a device outage, and stops. It never touches the database: it reports events,
/// and whoever listens writes the log.
public final class PlayoutEngine: @unchecked Sendable {
    public let format: AudioFormat
    /// How often a lost device is tried again.
    public let retryInterval: Double
    /// How long the device may refuse audio before it is treated as failed.
    public let stallTimeout: Double
    let clock: any WallClock
    private let makeOutput: @Sendable () -> any AudioOutput
    private let condition = NSCondition()
    private var queue: [Request] = []
    private var preemptions: [Request] = []
    private var stopRequested = false
    private var shutdownRequested = false
    /// Whether the output thread is airing a request.
    private var busy = false
    private var thread: Thread?

    final class Request: @unchecked Sendable {
        let program: PlayoutProgram
        let events: @Sendable (PlayoutEvent) -> Void
        let done: @Sendable () -> Void
        init(program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void, done: @escaping @Sendable () -> Void) {
            self.program = program
            self.events = events
            self.done = done
        }
    }

    public init(format: AudioFormat = .broadcast, clock: any WallClock, retryInterval: Double = 0.5, stallTimeout: Double = 1.0,
                makeOutput: @escaping @Sendable () -> any AudioOutput) {
        self.format = format
        self.clock = clock
        self.retryInterval = retryInterval
        self.stallTimeout = stallTimeout
        self.makeOutput = makeOutput
    }

    deinit { shutdown() }

    /// Airs `program` after whatever is queued before it; returns when its last sample has been heard.
    /// `events` is called on the output thread: it must not block.
    public func play(_ program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            enqueue(Request(program: program, events: events, done: { done.resume() }), preempting: false)
        }
    }

    /// Airs `program` now, above anything on air: the item on air fades out and is reported interrupted,
    /// and the program it belonged to goes on afterwards per its lateness policy.
    public func preempt(_ program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            preempt(program, events: events) { done.resume() }
        }
    }

    /// `preempt` for callers on a thread: `completion` runs on the output thread once the program is heard.
    public func preempt(_ program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void,
                        completion: @escaping @Sendable () -> Void) {
        enqueue(Request(program: program, events: events, done: completion), preempting: true)
    }

    /// Ends what is on air with a short fade; every program queued before the engine falls idle is reported
    /// skipped. The engine stays usable: a `play` after that airs as usual.
    public func stop() {
        condition.lock()
        if busy || !queue.isEmpty || !preemptions.isEmpty { stopRequested = true }
        condition.broadcast()
        condition.unlock()
    }

    /// Stops, and ends the output thread once it is idle; anything handed over later is reported skipped.
    public func shutdown() {
        condition.lock()
        stopRequested = true
        shutdownRequested = true
        condition.broadcast()
        condition.unlock()
    }

    private func enqueue(_ request: Request, preempting: Bool) {
        condition.lock()
        if preempting { preemptions.append(request) } else { queue.append(request) }
        if thread == nil {
            let thread = Thread { [self] in outputLoop() }
            thread.name = "loa-output"
            thread.qualityOfService = .userInteractive
            self.thread = thread
            thread.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    /// The output thread: takes requests until shutdown; the device stays open while programs follow
    /// each other and closes when there is nothing left to air.
    private func outputLoop() {
        var output = OutputState(engine: self)
        while true {
            condition.lock()
            // A stop skips everything queued up to the moment the engine falls idle, so a program handed
            // over just after a shutdown began cannot air whole; after that the engine is usable again.
            busy = false
            if queue.isEmpty && preemptions.isEmpty && !shutdownRequested { stopRequested = false }
            while queue.isEmpty && preemptions.isEmpty && !shutdownRequested { condition.wait() }
            let next = !preemptions.isEmpty ? preemptions.removeFirst() : (queue.isEmpty ? nil : queue.removeFirst())
            if next == nil {
                thread = nil
                condition.unlock()
                output.close()
                return
            }
            busy = true
            condition.unlock()
            guard let request = next else { continue }
            var run = ProgramRun(request: request, output: output)
            run.execute()
            output = run.output
            if !hasWork { output.finish() }
        }
    }

    var hasWork: Bool { condition.withLock { !queue.isEmpty || !preemptions.isEmpty } }

    /// What the output thread checks between chunks.
    enum Interruption { case none, stop, preempt }

    var interruption: Interruption {
        condition.withLock { stopRequested ? .stop : (preemptions.isEmpty ? .none : .preempt) }
    }

    /// Why the item on air gave way, naming what took the air: an announcement is not an emergency.
    var preemptionReason: String {
        guard let cue = condition.withLock({ preemptions.first?.program.cues.first }) else { return "nhường sóng cho một chương trình phát ngay" }
        let title = cue.item.segment.title
        return switch cue.item.kind {
        case .emergency: "nhường sóng cho bản tin khẩn cấp “\(title)”"
        case .announcement: "nhường sóng cho thông báo “\(title)”"
        default: "nhường sóng cho “\(title)”"
        }
    }

    func takePreemption() -> Request? {
        condition.withLock { preemptions.isEmpty ? nil : preemptions.removeFirst() }
    }

    /// Skips every queued program after a stop: each of its cues is reported skipped.
    func drainQueueAfterStop() -> [Request] {
        condition.withLock {
            guard stopRequested else { return [] }
            defer { queue.removeAll() }
            return queue
        }
    }

    /// Waits up to `seconds`; a command wakes a wait in progress. A wait begun after a stop still waits,
    /// so the stop fade is paced by the device rather than spun.
    func wait(_ seconds: Double) {
        guard seconds > 0 else { return }
        condition.lock()
        clock.wait(seconds, on: condition)
        condition.unlock()
    }

    func newOutput() -> any AudioOutput { makeOutput() }
}

/// The device as the output thread holds it, across programs: the sample timeline of this open.
struct OutputState {
    let engine: PlayoutEngine
    var output: (any AudioOutput)?
    /// The device that failed last, kept at the sound server until its replacement is open (`retire`).
    var retired: (any AudioOutput)?
    /// Frames written since the output was opened.
    var position = 0
    /// A frame and the instant it is heard.
    var anchor: (frame: Int, time: Date)?
    var xrunsSeen = 0
    /// Items fully written, of any program, waiting for their last sample to be heard: the report runs
    /// with the instant it stopped being heard. Programs that follow each other share the device, so an
    /// item's end may be reported while the next program already airs.
    var pending: [(endFrame: Int, report: (Date?) -> Void)] = []
    /// The gain stage every frame goes through: item gain, then true-peak limiting at −1 dBTP. Its
    /// look-ahead delays the stream by `latency` frames, which the timeline accounts for.
    var limiter: TruePeakLimiter
    /// Whether the limiter has seen no audio yet: the first item's gain is then set, not ramped to.
    var limiterFresh = true
    var latency: Int { limiter.latencyFrames }
    var rate: Double { Double(engine.format.sampleRate) }

    init(engine: PlayoutEngine) {
        self.engine = engine
        limiter = TruePeakLimiter(sampleRate: engine.format.sampleRate, channels: engine.format.channels)
    }

    /// Runs `frames` frames of `buffer` through the gain stage, in place.
    mutating func process(_ buffer: UnsafeMutablePointer<Float>, frames: Int, gainDB: Double, detecting: Bool) {
        if limiterFresh {
            limiter = TruePeakLimiter(sampleRate: engine.format.sampleRate, channels: engine.format.channels, gainDB: gainDB)
            limiterFresh = false
        }
        limiter.process(buffer, frames: frames, gainDB: gainDB, detecting: detecting)
    }

    /// When a frame about to be written will be heard: the device's queue plus the limiter's look-ahead.
    func audible(_ frame: Int) -> Date? { heard(frame + latency) }

    /// Reports items whose last sample has been heard; every one when `all`.
    mutating func flush(all: Bool, queued known: Int? = nil) {
        guard !pending.isEmpty else { return }
        var played = Int.max
        if !all, let output {
            guard let queued = known ?? (try? output.queuedFrames()) else { return }
            played = position - queued
        }
        while let first = pending.first, first.endFrame <= played {
            pending.removeFirst()
            first.report(heard(first.endFrame))
        }
    }

    /// Waits until every written item has been heard, then reports them. The wait is what the device
    /// held when it began: after an underrun some devices (pulse) keep reporting a stale delay.
    mutating func flushWhenHeard() {
        guard !pending.isEmpty else { return }
        guard let device = output, let queued = try? device.queuedFrames() else { flush(all: true); return }
        let until = engine.clock.now().addingTimeInterval(Double(queued) / rate + 0.005)
        while !pending.isEmpty {
            flush(all: false)
            let left = until.timeIntervalSince(engine.clock.now())
            if pending.isEmpty || left <= 0 { break }
            engine.wait(min(0.02, left))
        }
        flush(all: true)
    }

    func heard(_ frame: Int) -> Date? {
        anchor.map { $0.time.addingTimeInterval(Double(frame - $0.frame) / rate) }
    }

    /// Opens a new device handle; throws what ALSA said.
    mutating func open() throws(AudioError) {
        let candidate = engine.newOutput()
        do { try candidate.open() } catch {
            // A device held exclusively (an `hw:` card) cannot open again while its failed handle is kept:
            // that one goes, so the next attempt finds the device free.
            if case let .device(_, code, _) = error, code == -EBUSY {
                retired?.close()
                retired = nil
            }
            throw error
        }
        retired?.close()
        retired = nil
        output = candidate
        position = 0
        anchor = nil
        xrunsSeen = 0
        limiterFresh = true
    }

    /// Lets what was written be heard, without blocking on a device that may be stalled, then closes.
    mutating func finish() {
        guard let output else { close(); return }
        var last = Int.max, since = engine.clock.now(), stalled = false
        while let queued = try? output.queuedFrames(), queued > 0 {
            flush(all: false)
            if queued < last {
                last = queued
                since = engine.clock.now()
            } else if engine.clock.now().timeIntervalSince(since) > engine.stallTimeout {
                stalled = true
                break
            }
            engine.wait(min(0.02, Double(queued) / rate))
            if engine.hasWork { return }
        }
        // The sound server may still hold the last few milliseconds after the device's own queue is empty.
        if !stalled { try? output.drain() }
        close()
    }

    mutating func close() {
        flush(all: true)
        output?.close()
        output = nil
        anchor = nil
        retired?.close()
        retired = nil
    }

    /// Lets go of a device that failed, keeping it at the sound server until the next `open` (or `close`):
    /// the gap between the two streams is what makes a reopened stream hang (see `AudioOutput.retire`).
    mutating func retire() {
        flush(all: true)
        if let output {
            retired?.close()
            retired = output
            output.retire()
        }
        output = nil
        anchor = nil
    }

    /// Re-anchors when the device's own delay disagrees with the timeline by more than scheduling jitter:
    /// a sound server that stopped consuming for a while without an underrun (resumed from a freeze)
    /// plays everything later than the frames written predict.
    /// Returns how much later than predicted the device now plays, when it re-anchored.
    mutating func followDevice(queued: Int) -> Double? {
        guard let predicted = heard(position) else { return nil }
        let said = engine.clock.now().addingTimeInterval(Double(queued) / rate)
        let slip = said.timeIntervalSince(predicted)
        guard abs(slip) > PlayoutEngine.timelineJitter else { return nil }
        anchor = (position, said)
        return slip
    }

    /// Re-reads the device's delay: the timeline is tied to what the device says now. Returns how much later
    /// than predicted the device now plays.
    mutating func reanchor() throws(AudioError) -> Double? {
        guard let output else { return nil }
        let predicted = heard(position)
        let said = engine.clock.now().addingTimeInterval(Double(try output.queuedFrames()) / rate)
        anchor = (position, said)
        xrunsSeen = output.xruns
        return predicted.map { said.timeIntervalSince($0) }
    }
}

/// The state of one program on the output thread.
struct ProgramRun {
    let request: PlayoutEngine.Request
    var program: PlayoutProgram { request.program }
    var engine: PlayoutEngine { output.engine }
    var output: OutputState
    var progress: [ItemProgress]
    /// Per cue: seconds heard, seconds lost, seconds of the file passed (heard or lost), xruns, and whether
    /// its start was reported.
    var heard: [Double]
    var lost: [Double]
    var consumed: [Double]
    var xruns: [Int]
    var started: [Bool]
    /// The policy that placed each cue, when the program was entered late.
    var enteredBy: [LatenessPolicy?]
    /// A dropout being measured, on the cue it began in. After one, the device's delay moves over several writes
    /// while the sound server settles (seen in CI: re-anchors of +238, +94, +92 and +48 ms, and back, for 319 ms of
    /// silence heard), so the slips are summed until none has come for ``PlayoutEngine/dropoutSettleSeconds``, even
    /// into the next cue, then reported once. `counted` once the cue's row has it (its end came first).
    var dropout: (cue: Int, seconds: Double, last: Date, reported: Int, counted: Bool)?
    var buffer: [Float]
    /// Frames decoded and written at a time: 85 ms at 48 kHz. Fewer, larger writes cost less with a sound
    /// server; stops and preemptions are noticed between chunks, well inside the stop fade.
    let chunk = 4096
    var rate: Double { output.rate }
    var channels: Int { engine.format.channels }

    init(request: PlayoutEngine.Request, output: OutputState) {
        self.request = request
        self.output = output
        let n = request.program.cues.count
        progress = request.program.progress
        heard = Array(repeating: 0, count: n)
        lost = Array(repeating: 0, count: n)
        consumed = Array(repeating: 0, count: n)
        xruns = Array(repeating: 0, count: n)
        started = Array(repeating: false, count: n)
        enteredBy = Array(repeating: nil, count: n)
        buffer = [Float](repeating: 0, count: chunk * output.engine.format.channels)
    }

    func emit(_ event: PlayoutEvent) { request.events(event) }

    /// What happened to the item being played.
    enum ItemEnd: Equatable { case done, deviceLost(AudioError), preempted, stopped }

    mutating func execute() {
        var plan = enter()
        while let (cue, at, from) = plan.first {
            plan.removeFirst()
            switch engine.interruption {
            case .stop:
                skipRest(plan: [(cue, at, from)] + plan, reason: PlayoutEngine.stoppedBeforeStart)
                return
            case .preempt:
                runPreemptions()
                plan = enter()
                continue
            case .none: break
            }
            switch playItem(cue, at: at, from: from) {
            case .done:
                break
            case let .deviceLost(error):
                if progress[cue] != .closed { progress[cue] = started[cue] ? .onAir(heardSeconds: heard[cue]) : .pending }
                if !recover(error) { return }
                plan = enter()
            case .preempted:
                runPreemptions()
                plan = enter()
            case .stopped:
                skipRest(plan: [(cue, at, from)] + plan, reason: PlayoutEngine.stoppedBeforeStart)
                return
            }
        }
        finishProgram()
    }

    /// The program is written: it is done once its last item has been heard. When another program
    /// follows, that happens while the next one airs, with no gap between them.
    mutating func finishProgram() {
        settleDropout(force: true)
        if !engine.hasWork { writeTail() }
        output.flush(all: false)
        if let last = output.pending.indices.last {
            let report = output.pending[last].report, done = request.done
            output.pending[last].report = { endedAt in
                report(endedAt)
                done()
            }
        } else {
            request.done()
        }
    }

    /// Where the program is entered now: cues to air in order, the others reported.
    mutating func enter() -> [(Int, Date, Double)] {
        output.flush(all: false)
        let now = nextHeard()
        let items = program.cues.map(\.item)
        let actions = OccurrenceEntry.decide(items: items, progress: progress, hardEnd: program.hardEnd, now: now,
                                             policy: program.policy)
        var plan: [(Int, Date, Double)] = []
        for (cue, action) in actions.enumerated() {
            switch action {
            case .keep: break
            case let .air(at, from):
                if at.timeIntervalSince(items[cue].startsAt) > OccurrenceEntry.onTimeTolerance || from > 0 { enteredBy[cue] = program.policy }
                plan.append((cue, at, from))
            case let .drop(reason):
                let wasOnAir = progress[cue] != .pending
                lost[cue] = max(0, items[cue].segment.durationSeconds - heard[cue])
                endCue(cue, result: wasOnAir ? .interrupted(reason.description) : .skipped(reason.description),
                       endedAt: wasOnAir ? now : nil)
            }
        }
        return plan
    }

    /// When the next frame written would be heard; now when the device is closed.
    func nextHeard() -> Date { output.audible(output.position) ?? engine.clock.now() }

    mutating func endCue(_ cue: Int, result: ItemResult, endedAt: Date?) {
        if dropout?.cue == cue { settleDropout(force: true) }
        progress[cue] = .closed
        emit(.ended(cue: cue, result: result, airedSeconds: heard[cue], endedAt: endedAt, xruns: xruns[cue], lostSeconds: lost[cue]))
    }

    mutating func skipRest(plan: [(Int, Date, Double)], reason: String) {
        writeTail()
        output.flushWhenHeard()
        for (cue, _, _) in plan where progress[cue] != .closed {
            endCue(cue, result: started[cue] ? .interrupted(PlayoutEngine.stopped) : .skipped(reason),
                   endedAt: started[cue] ? engine.clock.now() : nil)
        }
        for request in engine.drainQueueAfterStop() {
            for cue in request.program.cues.indices where request.program.progress[cue] != .closed {
                request.events(.ended(cue: cue, result: .skipped(reason), airedSeconds: 0, endedAt: nil, xruns: 0, lostSeconds: 0))
            }
            request.done()
        }
        finishProgram()
    }

    /// Runs every waiting preemption on the same device, then hands back.
    mutating func runPreemptions() {
        while let preempting = engine.takePreemption() {
            var run = ProgramRun(request: preempting, output: output)
            run.execute()
            output = run.output
        }
    }

    /// Retries the device every `retryInterval` for as long as the program lasts. Returns false when the
    /// program is over (every open cue is then reported failed) or a stop came.
    mutating func recover(_ error: AudioError) -> Bool {
        // The lost device's delay no longer says anything: what was measured of a dropout is what there is.
        settleDropout(force: true)
        output.retire()
        emit(.deviceLost(error.description))
        let items = program.cues.map(\.item)
        let open = items.indices.filter { progress[$0] != .closed }
        let deadline = program.hardEnd ?? open.map { items[$0].endsAt }.max() ?? engine.clock.now()
        var last = error
        while engine.clock.now() < deadline {
            if engine.interruption == .stop { break }
            do {
                try output.open()
                emit(.deviceBack(engine.clock.now()))
                return true
            } catch {
                last = error
            }
            let before = engine.clock.now()
            engine.wait(min(engine.retryInterval, max(0, deadline.timeIntervalSince(before))))
            // A clock that does not move while we wait (a virtual one) must not keep us here for ever.
            if engine.clock.now() <= before { break }
        }
        for cue in open {
            lost[cue] = max(0, items[cue].segment.durationSeconds - heard[cue])
            endCue(cue, result: .failed(last.description), endedAt: started[cue] ? engine.clock.now() : nil)
        }
        finishProgram()
        return false
    }

    /// Plays one cue from `from` seconds into it, its first sample heard at `at` (or as soon as possible).
    mutating func playItem(_ cue: Int, at: Date, from: Double) -> ItemEnd {
        let item = program.cues[cue]
        if output.output == nil {
            do { try output.open() } catch { return .deviceLost(error) }
        }
        let decoder: SndFileDecoder
        do { decoder = try SndFileDecoder(path: item.path, output: engine.format) } catch {
            endCue(cue, result: .failed(error.description), endedAt: nil)
            return .done
        }
        let tolerance = PlayoutProgram.endToleranceSeconds
        let expected = item.item.segment.durationSeconds > 0 ? item.item.segment.durationSeconds : decoder.info.durationSeconds
        let earliest = max(at, nextHeard())
        if let hardEnd = program.hardEnd, from == 0, earliest.addingTimeInterval(expected - tolerance) > hardEnd {
            // Not started unless it can finish: a late start must not leave a half-aired item.
            endCue(cue, result: .skipped("không còn đủ thời gian trước giờ kết thúc khung giờ"), endedAt: nil)
            return .done
        }
        do {
            // Silence until the item's time when nothing is playing or the plan leaves a gap;
            // items planned back to back follow each other with no silence at all.
            if output.audible(output.position).map({ $0 < at.addingTimeInterval(-0.02) }) ?? true {
                if let end = try leadIn(until: at.addingTimeInterval(-Double(output.latency) / rate), gainDB: item.gainDB) {
                    return end
                }
            }
        } catch {
            return .deviceLost(error)
        }
        // Entered mid-item: skip to where the wall clock is in it now, counting what was lost.
        var itemFrames = 0
        // Under join, an item reached late because the device lost time (an underrun it recovered from)
        // is also entered where the clock is, so the items after it keep their planned seconds.
        let behind = nextHeard().timeIntervalSince(item.item.startsAt)
        let catchUp = program.policy == .join && behind > PlayoutEngine.driftTolerance
        if catchUp && from == 0 { enteredBy[cue] = .join }
        let skipTo = from > 0 || catchUp ? max(from, behind) : 0
        if skipTo > 0 {
            do { itemFrames = try skip(decoder, frames: Int(skipTo * rate)) } catch {
                endCue(cue, result: .failed(error.description), endedAt: nil)
                return .done
            }
        }
        lost[cue] += max(0, Double(itemFrames) / rate - consumed[cue])
        consumed[cue] = Double(itemFrames) / rate
        let firstFrame = itemFrames
        let startFrame = output.position - itemFrames
        let audibleAt: Date
        do {
            let queued = try output.output?.queuedFrames() ?? 0
            audibleAt = engine.clock.now().addingTimeInterval(Double(queued + output.latency) / rate)
        } catch {
            return .deviceLost(error)
        }
        if !started[cue] {
            started[cue] = true
            emit(.starting(cue: cue, audibleAt: audibleAt, fromSeconds: Double(itemFrames) / rate, policy: enteredBy[cue]))
        }
        // Cut at the hard end, with a fade, only an item that will run past it by more than the
        // tolerance: a file longer than planned, or a start later than the check above allowed for.
        var limit = Int.max
        let remaining = max(expected, decoder.info.durationSeconds) - Double(itemFrames) / rate
        if let hardEnd = program.hardEnd, audibleAt.addingTimeInterval(remaining - tolerance) > hardEnd {
            limit = itemFrames + max(0, Int(hardEnd.timeIntervalSince(audibleAt) * rate))
        }
        let endFade = limit < Int.max ? Int(program.endFadeSeconds * rate) : 0
        let stopFadeFrames = max(1, Int(program.stopFadeSeconds * rate))
        var stopFadeLeft: Int? = nil
        var reportedFrame = itemFrames
        let progressFrames = Int(PlayoutEngine.progressInterval * rate)
        var stopKind = ItemEnd.stopped
        var result = ItemResult.completed
        while true {
            if stopFadeLeft == nil {
                switch engine.interruption {
                case .none: break
                case .stop: stopFadeLeft = stopFadeFrames; stopKind = .stopped
                case .preempt: stopFadeLeft = stopFadeFrames; stopKind = .preempted
                }
            }
            var want = min(chunk, limit - itemFrames)
            if let left = stopFadeLeft { want = min(want, left) }
            if want <= 0 {
                result = stopFadeLeft != nil ? .interrupted(stopKind == .preempted ? engine.preemptionReason : PlayoutEngine.stopped)
                    : .truncated(PlayoutEngine.cutAtHardEnd)
                break
            }
            let n: Int
            do { n = try decode(decoder, frames: want) } catch {
                // What was decoded so far was heard; the rest of the file is lost.
                result = .failed(error.description)
                break
            }
            if n == 0 { break }
            applyFades(frames: n, itemFrame: itemFrames, limit: limit, endFade: endFade, stopFadeLeft: stopFadeLeft,
                       stopFadeFrames: stopFadeFrames)
            // The first chunk of a play is always checked: it meets the previous item and the gain's ramp.
            let detecting = itemFrames == firstFrame || !item.isUnder(output.limiter.ceilingDBTP)
            do { try writeAll(frames: n, cue: cue, gainDB: item.gainDB, detecting: detecting) } catch {
                heard[cue] += Double(itemFrames - firstFrame) / rate
                consumed[cue] = Double(itemFrames) / rate
                return .deviceLost(error)
            }
            itemFrames += n
            if itemFrames - reportedFrame >= progressFrames {
                // On the interval's grid, so reports do not drift later by a chunk each time.
                reportedFrame += (itemFrames - reportedFrame) / progressFrames * progressFrames
                let heardSoFar = heard[cue] + Double(itemFrames - firstFrame) / rate, events = request.events
                output.pending.append((startFrame + itemFrames + output.latency, { _ in
                    events(.progress(cue: cue, airedSeconds: heardSoFar))
                }))
            }
            if let left = stopFadeLeft {
                stopFadeLeft = left - n
                if left - n <= 0 { result = .interrupted(stopKind == .preempted ? engine.preemptionReason : PlayoutEngine.stopped); break }
            }
        }
        heard[cue] += Double(itemFrames - firstFrame) / rate
        consumed[cue] = Double(itemFrames) / rate
        // A file that ends well before the length measured at import was cut or damaged since.
        let planned = item.item.segment.durationSeconds
        if case .completed = result, planned > 0, planned - consumed[cue] > PlayoutEngine.driftTolerance {
            lost[cue] += planned - consumed[cue]
            result = .failed("\(item.path): tệp chỉ còn \(formatSeconds(consumed[cue])) trong \(formatSeconds(planned)) đã đo khi nhập (tệp bị cắt hoặc hỏng)")
        } else if case .completed = result, lost[cue] > 0.05 {
            result = .truncated("mất \(formatSeconds(lost[cue])) không phát được (thiết bị âm thanh hoặc Loa vào muộn)")
        } else if case .completed = result, consumed[cue] < Segment.minimumSeconds {
            // A near-empty file imported before Loa refused them: nothing a listener heard is an airing. (The file's
            // length, not what was heard: an item entered late on the clock is truncated, not empty.)
            result = .failed("\(item.path): tệp gần như không có âm thanh (\(secondsText(consumed[cue]))): nhập lại bản đầy đủ")
        }
        // Its later slips may still come (the device's delay settling after the end); the row counts it now.
        if dropout?.cue == cue { countDropout() }
        progress[cue] = .closed
        let event = { [heard, lost, xruns] (endedAt: Date?) in
            PlayoutEvent.ended(cue: cue, result: result, airedSeconds: heard[cue], endedAt: endedAt, xruns: xruns[cue],
                               lostSeconds: lost[cue])
        }
        let events = request.events
        output.pending.append((startFrame + itemFrames + output.latency, { events(event($0)) }))
        output.flush(all: false)
        if stopFadeLeft != nil, case .interrupted = result {
            // A preempting program follows the fade with no gap; a stop waits for the fade to be heard.
            if stopKind == .stopped {
                writeTail()
                output.flushWhenHeard()
            }
            return stopKind
        }
        return .done
    }

    mutating func decode(_ decoder: SndFileDecoder, frames: Int) throws(AudioError) -> Int {
        try buffer.withUnsafeMutableBufferPointer { (samples) throws(AudioError) -> Int in
            guard let base = samples.baseAddress else { return 0 }
            return try decoder.read(into: base, frames: frames)
        }
    }

    /// Decodes and drops `frames` frames; returns how many there were.
    mutating func skip(_ decoder: SndFileDecoder, frames: Int) throws(AudioError) -> Int {
        var done = 0
        while done < frames {
            let n = try buffer.withUnsafeMutableBufferPointer { (samples) throws(AudioError) -> Int in
                guard let base = samples.baseAddress else { return 0 }
                return try decoder.read(into: base, frames: min(chunk, frames - done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Fades towards the hard end and over the stop fade; the item's gain comes after, in the limiter.
    mutating func applyFades(frames n: Int, itemFrame: Int, limit: Int, endFade: Int, stopFadeLeft: Int?,
                             stopFadeFrames: Int) {
        guard endFade > 0 || stopFadeLeft != nil else { return }
        let channels = self.channels
        buffer.withUnsafeMutableBufferPointer { samples in
            for f in 0..<n {
                var g: Float = 1
                if endFade > 0 {
                    let toEnd = limit - (itemFrame + f)
                    if toEnd < endFade { g *= Float(max(0, toEnd)) / Float(endFade) }
                }
                if let left = stopFadeLeft {
                    g *= Float(max(0, left - f)) / Float(stopFadeFrames)
                }
                for c in 0..<channels { samples[f * channels + c] *= g }
            }
        }
    }

    /// Writes the buffer's first `n` frames, waiting as the device asks. A device that takes nothing for
    /// `stallTimeout` is stalled: that is a device fault. After an underrun the timeline is re-anchored.
    mutating func writeAll(frames n: Int, cue: Int?, gainDB: Double?, detecting: Bool = true) throws(AudioError) {
        guard let device = output.output else { throw AudioError.device(name: "?", code: -77, message: "thiết bị chưa mở") }
        if let gainDB {
            buffer.withUnsafeMutableBufferPointer { samples in
                if let base = samples.baseAddress { output.process(base, frames: n, gainDB: gainDB, detecting: detecting) }
            }
        }
        var offset = 0
        var lastProgress = engine.clock.now()
        while offset < n {
            let took: Int = try buffer.withUnsafeBufferPointer { (all) throws(AudioError) -> Int in
                try device.write(UnsafeBufferPointer(rebasing: all[(offset * channels)..<(n * channels)]))
            }
            offset += took
            output.position += took
            // One delay query per write serves both the timeline and the items' ends: with the pulse
            // plugin each query costs a round through its main loop.
            let queued = try device.queuedFrames()
            if device.xruns != output.xrunsSeen {
                let reported = device.xruns - output.xrunsSeen
                let slip = try output.reanchor()
                if let cue {
                    xruns[cue] += reported
                    noteSlip(cue: cue, seconds: slip ?? 0, reported: reported)
                }
            } else if took > 0, let slip = output.followDevice(queued: queued), let cue {
                noteSlip(cue: cue, seconds: slip, reported: 0)
            }
            settleDropout()
            output.flush(all: false, queued: queued)
            if took > 0 { lastProgress = engine.clock.now() }
            if offset < n {
                if engine.clock.now().timeIntervalSince(lastProgress) > engine.stallTimeout {
                    throw AudioError.stalled(name: device.name, seconds: engine.stallTimeout)
                }
                let wait = try device.timeUntilWritable()
                engine.wait(took == 0 ? max(wait.seconds, 0.001) : wait.seconds)
            }
        }
    }

    /// Adds a re-anchor of the timeline to the dropout being measured: the slips of one dropout are one report.
    mutating func noteSlip(cue: Int, seconds: Double, reported: Int) {
        let now = engine.clock.now()
        if let open = dropout {
            dropout = (open.cue, open.seconds + seconds, now, open.reported + reported, open.counted)
        } else {
            dropout = (cue, seconds, now, reported, false)
        }
    }

    /// Whether the dropout being measured is one the loudspeaker made: the audio put back audibly, or an underrun
    /// the device reported.
    var dropoutHeard: Bool {
        dropout.map { $0.seconds > PlayoutEngine.dropoutTolerance || $0.reported > 0 } ?? false
    }

    /// Counts the dropout being measured on its cue's row, before the row is closed: a dropout the device did not
    /// report is one more on the row.
    mutating func countDropout() {
        guard let open = dropout, !open.counted, dropoutHeard else { return }
        if open.reported == 0 { xruns[open.cue] += 1 }
        dropout?.counted = true
    }

    /// Reports the dropout being measured once its slips have settled (or now, when `force`): once, with the time
    /// the audio after it was put back by.
    mutating func settleDropout(force: Bool = false) {
        guard let open = dropout,
              force || engine.clock.now().timeIntervalSince(open.last) > PlayoutEngine.dropoutSettleSeconds else { return }
        countDropout()
        let heard = dropoutHeard
        dropout = nil
        if heard { emit(.dropout(cue: open.cue, seconds: max(0, open.seconds))) }
    }

    /// Writes silence until the next frame would be heard at `target`, then anchors the timeline there.
    /// The silence goes through the gain stage with the coming item's gain, so its ramp is over before
    /// the item. Returns how the wait ended when a command cut it short.
    mutating func leadIn(until target: Date, gainDB: Double) throws(AudioError) -> ItemEnd? {
        guard let device = output.output else { return nil }
        while true {
            let nextHeard = engine.clock.now().addingTimeInterval(Double(try device.queuedFrames()) / rate)
            output.anchor = (output.position, nextHeard)
            output.xrunsSeen = device.xruns
            let remaining = target.timeIntervalSince(nextHeard)
            if remaining < 0.5 / 1000 { return nil }
            switch engine.interruption {
            case .none: break
            case .stop: return .stopped
            case .preempt: return .preempted
            }
            let frames = max(1, min(chunk, Int(remaining * rate)))
            for i in 0..<(frames * channels) { buffer[i] = 0 }
            try writeAll(frames: frames, cue: nil, gainDB: gainDB)
            if try device.queuedFrames() == 0 {
                // A device that swallows audio instantly (ALSA null) does not pace us: wait on the clock.
                let left = target.timeIntervalSince(engine.clock.now())
                if left > 0.0005 { engine.wait(min(0.02, left)) }
            }
        }
    }

    /// Pushes what the limiter's look-ahead still holds out to the device, when nothing follows.
    mutating func writeTail() {
        guard output.output != nil, !output.limiterFresh else { return }
        let frames = output.latency
        let limiter = output.limiter
        buffer.withUnsafeMutableBufferPointer { samples in
            if let base = samples.baseAddress { limiter.drain(into: base, frames: frames) }
        }
        try? writeAll(frames: frames, cue: nil, gainDB: nil)
    }

}

extension PlayoutEngine {
    static let stoppedBeforeStart = "Loa dừng trước khi phát mục này"
    static let stopped = "Loa được yêu cầu dừng"
    static let cutAtHardEnd = "cắt ở giờ kết thúc của khung giờ"
    /// How late an item may start under join before it is entered where the clock is.
    static let driftTolerance = 0.05
    /// How much later than predicted the device may start playing before it counts as a dropout the
    /// loudspeaker made heard: beyond the jitter of reading a delay and the clock one after the other.
    static let dropoutTolerance = 0.03
    /// How far the device's own delay may disagree with the timeline before the timeline follows it.
    static let timelineJitter = 0.02
    /// How long the device's delay must hold still after a dropout before its length is taken as measured.
    static let dropoutSettleSeconds = 0.5
    /// How often an airing's progress is reported: what a crash can lose from the log. Each report is a row update
    /// on the log's writer queue, never on this thread, committed without an fsync of its own.
    public static let progressInterval = 1.0
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
