import Foundation
import LoaCore

/// One file to air, with the instant the plan wants its first sample heard.
public struct PlayoutItem: Sendable, Hashable {
    public var path: String
    public var scheduledAt: Date
    /// The length the plan counted on (measured at import); nil to trust the file's header.
    public var durationSeconds: Double?

    public init(path: String, scheduledAt: Date, durationSeconds: Double? = nil) {
        self.path = path
        self.scheduledAt = scheduledAt
        self.durationSeconds = durationSeconds
    }
}

/// A slot's worth of audio: items back to back from `startAt`, never past `hardEnd`.
public struct PlayoutRequest: Sendable {
    public var items: [PlayoutItem]
    public var hardEnd: Date?
    /// Fade length when an item is cut at the hard end.
    public var endFadeSeconds: Double
    /// Fade length when the daemon is told to stop mid-item.
    public var stopFadeSeconds: Double
    /// How far past the hard end an item may be expected to run and still be started and played whole:
    /// the placement of a first sample jitters by a few milliseconds, and that must not cut an item
    /// that exactly fills its slot.
    public static let endToleranceSeconds = 0.02

    public init(items: [PlayoutItem], hardEnd: Date? = nil, endFadeSeconds: Double = 2, stopFadeSeconds: Double = 0.3) {
        self.items = items
        self.hardEnd = hardEnd
        self.endFadeSeconds = endFadeSeconds
        self.stopFadeSeconds = stopFadeSeconds
    }
}

/// How an item ended, as the engine saw it.
public enum ItemResult: Sendable, Hashable {
    case completed
    case truncated
    case interrupted
    case failed(String)
    case skipped(String)
}

/// What the output thread reports, in order, for every item of a request.
public enum PlayoutEvent: Sendable, Hashable {
    /// About to write the item's first sample; the handler runs before it is written.
    case starting(index: Int, audibleAt: Date)
    /// The item's last sample has been heard (or it never started); `endedAt` is when it stopped being heard.
    case ended(index: Int, result: ItemResult, airedSeconds: Double, endedAt: Date?, xruns: Int)
}

/// Runs a slot on a dedicated output thread: decodes, places the first sample at its time using the
/// device's delay, writes items back to back, and reports each item's start and end.
public final class PlayoutEngine: @unchecked Sendable {
    public let format: AudioFormat
    private let clock: any WallClock
    private let makeOutput: @Sendable () -> any AudioOutput
    private let condition = NSCondition()
    private var stopRequested = false

    public init(format: AudioFormat = .broadcast, clock: any WallClock, makeOutput: @escaping @Sendable () -> any AudioOutput) {
        self.format = format
        self.clock = clock
        self.makeOutput = makeOutput
    }

    /// Ends the current item with a short fade; items not yet begun are reported skipped.
    public func stop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        condition.unlock()
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopRequested
    }

    /// Airs `request`, calling `events` on the output thread; returns when the last sample was heard.
    public func play(_ request: PlayoutRequest, events: @escaping @Sendable (PlayoutEvent) -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                var run = SlotRun(engine: self, request: request, events: events)
                run.execute()
                done.resume()
            }
            thread.name = "loa-output"
            thread.qualityOfService = .userInteractive
            thread.start()
        }
    }

    /// Waits up to `duration`; `stop()` wakes a wait in progress. A wait begun after the stop still
    /// waits, so the stop fade is paced by the device rather than spun.
    fileprivate func wait(_ duration: Duration) {
        guard duration > .zero else { return }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        condition.lock()
        _ = condition.wait(until: clock.now().addingTimeInterval(seconds))
        condition.unlock()
    }

    /// The state of one request on the output thread.
    private struct SlotRun {
        static let stoppedBeforeStart = "Loa dừng trước khi phát mục này"
        let engine: PlayoutEngine
        let request: PlayoutRequest
        let events: @Sendable (PlayoutEvent) -> Void
        var output: (any AudioOutput)?
        /// Frames written since the output was opened.
        var position = 0
        /// A frame and the instant it is heard: the sample timeline of this open.
        var anchor: (frame: Int, time: Date)?
        /// Items fully written, waiting for their last sample to be heard.
        var pending: [(index: Int, endFrame: Int, result: ItemResult, aired: Double, xruns: Int)] = []
        var buffer: [Float]
        let chunk = 1024
        var rate: Double { Double(engine.format.sampleRate) }
        var channels: Int { engine.format.channels }

        init(engine: PlayoutEngine, request: PlayoutRequest, events: @escaping @Sendable (PlayoutEvent) -> Void) {
            self.engine = engine
            self.request = request
            self.events = events
            buffer = [Float](repeating: 0, count: chunk * engine.format.channels)
        }

        func heard(_ frame: Int) -> Date? {
            anchor.map { $0.time.addingTimeInterval(Double(frame - $0.frame) / rate) }
        }

        mutating func execute() {
            for (index, item) in request.items.enumerated() {
                if engine.isStopping {
                    events(.ended(index: index, result: .skipped(SlotRun.stoppedBeforeStart), airedSeconds: 0, endedAt: nil, xruns: 0))
                    continue
                }
                playItem(index, item)
            }
            if let output {
                do { try output.drain() } catch { /* the last items were written; what was heard is reported below */ }
                flush(all: true)
                output.close()
            }
            flush(all: true)
        }

        mutating func playItem(_ index: Int, _ item: PlayoutItem) {
            if output == nil {
                do { try openOutput(until: item.scheduledAt) } catch {
                    events(.ended(index: index, result: .failed(error.description), airedSeconds: 0, endedAt: nil, xruns: 0))
                    return
                }
            }
            let decoder: SndFileDecoder
            do { decoder = try SndFileDecoder(path: item.path, output: engine.format) } catch {
                events(.ended(index: index, result: .failed(error.description), airedSeconds: 0, endedAt: nil, xruns: 0))
                return
            }
            guard let output else { return }
            let tolerance = PlayoutRequest.endToleranceSeconds
            let expected = item.durationSeconds ?? decoder.info.durationSeconds
            if let hardEnd = request.hardEnd {
                // Not started unless it can finish: a late start must not leave a half-aired item.
                let earliest = max(item.scheduledAt, heard(position) ?? engine.clock.now())
                if earliest.addingTimeInterval(expected - tolerance) > hardEnd {
                    events(.ended(index: index, result: .skipped("không còn đủ thời gian trước giờ kết thúc khung giờ"),
                                  airedSeconds: 0, endedAt: nil, xruns: 0))
                    return
                }
            }
            let xrunsBefore = output.xruns
            do {
                // Silence until the item's time when nothing is playing or the plan leaves a gap;
                // items planned back to back follow each other with no silence at all.
                if heard(position).map({ $0 < item.scheduledAt.addingTimeInterval(-0.02) }) ?? true {
                    try leadIn(until: item.scheduledAt, output)
                }
            } catch {
                fail(index, error.description, aired: 0, xrunsBefore: xrunsBefore)
                return
            }
            if engine.isStopping {
                events(.ended(index: index, result: .skipped(SlotRun.stoppedBeforeStart), airedSeconds: 0, endedAt: nil, xruns: 0))
                return
            }
            let startFrame = position
            let audibleAt = heard(position) ?? engine.clock.now()
            events(.starting(index: index, audibleAt: audibleAt))

            // Cut at the hard end, with a fade, only an item that will run past it by more than the
            // tolerance: a file longer than planned, or a start later than the check above allowed for.
            var limit = Int.max
            if let hardEnd = request.hardEnd,
               audibleAt.addingTimeInterval(max(expected, decoder.info.durationSeconds) - tolerance) > hardEnd {
                limit = max(0, Int(hardEnd.timeIntervalSince(audibleAt) * rate))
            }
            let endFade = limit < Int.max ? Int(request.endFadeSeconds * rate) : 0
            let stopFadeFrames = max(1, Int(request.stopFadeSeconds * rate))
            var stopFadeLeft: Int? = nil
            var itemFrames = 0
            var result = ItemResult.completed
            while true {
                if stopFadeLeft == nil, engine.isStopping { stopFadeLeft = stopFadeFrames }
                var want = min(chunk, limit - itemFrames)
                if let left = stopFadeLeft { want = min(want, left) }
                if want <= 0 {
                    result = stopFadeLeft != nil ? .interrupted : .truncated
                    break
                }
                let n: Int
                do { n = try decode(decoder, frames: want) } catch {
                    // What was decoded so far was heard; the rest of the file is lost.
                    result = .failed(error.description)
                    break
                }
                if n == 0 { break }
                applyGain(frames: n, itemFrame: itemFrames, limit: limit, endFade: endFade,
                          stopFadeLeft: stopFadeLeft, stopFadeFrames: stopFadeFrames)
                do { try writeAll(frames: n, output) } catch {
                    fail(index, error.description, aired: Double(itemFrames) / rate, xrunsBefore: xrunsBefore)
                    return
                }
                itemFrames += n
                if let left = stopFadeLeft {
                    stopFadeLeft = left - n
                    if left - n <= 0 { result = .interrupted; break }
                }
            }
            pending.append((index, startFrame + itemFrames, result, Double(itemFrames) / rate, output.xruns - xrunsBefore))
            flush(all: false)
        }

        mutating func decode(_ decoder: SndFileDecoder, frames: Int) throws(AudioError) -> Int {
            try buffer.withUnsafeMutableBufferPointer { (samples) throws(AudioError) -> Int in
                guard let base = samples.baseAddress else { return 0 }
                return try decoder.read(into: base, frames: frames)
            }
        }

        /// Opens the device, retrying every half second until `deadline` (the item's time): a device that
        /// comes back before then still airs the item. Counts attempts rather than reading the clock in the
        /// loop, so a virtual clock that only moves with audio cannot keep it spinning.
        mutating func openOutput(until deadline: Date) throws(AudioError) {
            let retry = 0.5
            let attempts = max(1, Int((deadline.timeIntervalSince(engine.clock.now()) / retry).rounded(.up)) + 1)
            var lastError = AudioError.device(name: "?", code: 0, message: "")
            for attempt in 0..<attempts {
                let candidate = engine.makeOutput()
                do {
                    try candidate.open()
                    output = candidate
                    position = 0
                    anchor = nil
                    return
                } catch {
                    lastError = error
                }
                if engine.isStopping || attempt == attempts - 1 { break }
                let wait = min(retry, max(0, deadline.timeIntervalSince(engine.clock.now())))
                engine.wait(.milliseconds(Int(wait * 1000)))
            }
            throw lastError
        }

        /// Fades towards the hard end, and over the stop fade when stopping.
        mutating func applyGain(frames n: Int, itemFrame: Int, limit: Int, endFade: Int, stopFadeLeft: Int?, stopFadeFrames: Int) {
            guard endFade > 0 || stopFadeLeft != nil else { return }
            let channels = self.channels
            buffer.withUnsafeMutableBufferPointer { samples in
                for f in 0..<n {
                    var gain: Float = 1
                    if endFade > 0 {
                        let toEnd = limit - (itemFrame + f)
                        if toEnd < endFade { gain = Float(max(0, toEnd)) / Float(endFade) }
                    }
                    if let left = stopFadeLeft {
                        gain *= Float(max(0, left - f)) / Float(stopFadeFrames)
                    }
                    for c in 0..<channels { samples[f * channels + c] *= gain }
                }
            }
        }

        /// The device failed mid-item: close it so the next item reopens it.
        mutating func fail(_ index: Int, _ reason: String, aired: Double, xrunsBefore: Int) {
            let xruns = (output?.xruns ?? xrunsBefore) - xrunsBefore
            flush(all: true)
            output?.close()
            output = nil
            anchor = nil
            events(.ended(index: index, result: .failed(reason), airedSeconds: aired, endedAt: engine.clock.now(), xruns: xruns))
        }

        mutating func writeAll(frames n: Int, _ output: any AudioOutput) throws(AudioError) {
            var offset = 0
            while offset < n {
                let took: Int = try buffer.withUnsafeBufferPointer { (all) throws(AudioError) -> Int in
                    try output.write(UnsafeBufferPointer(rebasing: all[(offset * channels)..<(n * channels)]))
                }
                offset += took
                position += took
                flush(all: false)
                if offset < n { engine.wait(try pause(after: took, output)) }
            }
        }

        /// How long to wait before writing again: what the device says, but never zero after a write
        /// it refused, so a device that keeps saying "now" cannot make the thread spin.
        func pause(after took: Int, _ output: any AudioOutput) throws(AudioError) -> Duration {
            let wait = try output.timeUntilWritable()
            return took == 0 ? max(wait, .milliseconds(1)) : wait
        }

        /// Writes silence until the next frame would be heard at `target`, then anchors the timeline there.
        mutating func leadIn(until target: Date, _ output: any AudioOutput) throws(AudioError) {
            for i in 0..<buffer.count { buffer[i] = 0 }
            while true {
                let nextHeard = engine.clock.now().addingTimeInterval(Double(try output.queuedFrames()) / rate)
                anchor = (position, nextHeard)
                let remaining = target.timeIntervalSince(nextHeard)
                if remaining < 0.5 / 1000 || engine.isStopping { return }
                let frames = max(1, min(chunk, Int(remaining * rate)))
                let took: Int = try buffer.withUnsafeBufferPointer { (all) throws(AudioError) -> Int in
                    try output.write(UnsafeBufferPointer(rebasing: all[0..<(frames * channels)]))
                }
                position += took
                if took < frames {
                    engine.wait(try pause(after: took, output))
                } else if try output.queuedFrames() == 0 {
                    // A device that swallows audio instantly (ALSA null) does not pace us: wait in real time.
                    engine.wait(.milliseconds(max(1, min(20, Int(remaining * 1000)))))
                }
            }
        }

        /// Reports items whose last sample has been heard.
        mutating func flush(all: Bool) {
            guard !pending.isEmpty else { return }
            var played = Int.max
            if !all, let output {
                guard let queued = try? output.queuedFrames() else { return }
                played = position - queued
            }
            while let first = pending.first, first.endFrame <= played {
                pending.removeFirst()
                events(.ended(index: first.index, result: first.result, airedSeconds: first.aired,
                              endedAt: heard(first.endFrame), xruns: first.xruns))
            }
        }
    }
}
