import Foundation
import LoaCore

/// The device as the output thread holds it, across programs: the sample timeline of this open.
struct DeviceTimeline {
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

