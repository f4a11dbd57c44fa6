import Foundation
import LoaCore

/// A dropout being measured, on the cue it began in. After one, the device's delay moves over several writes while
/// the sound server settles (seen in CI: re-anchors of +238, +94, +92 and +48 ms, and back, for 319 ms of silence
/// heard), so the slips are summed until none has come for ``PlayoutEngine/dropoutSettleSeconds``, even into the next
/// cue, then reported once. `counted` once the cue's row has it (its end came first).
struct Dropout {
    var cue: Int
    var seconds: Double
    var last: Date
    var reported: Int
    var counted = false

    /// Whether the loudspeaker made it heard: the audio put back audibly, or an underrun the device reported.
    var heard: Bool { seconds > PlayoutEngine.dropoutTolerance || reported > 0 }
}

extension ProgramRun {
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

    /// Writes the buffer's first `n` frames, waiting as the device asks. A full buffer is not a stall: the device is
    /// stalled only when for `stallTimeout` it neither takes audio nor plays any of what it holds (its own delay does
    /// not fall). After an underrun the timeline is re-anchored.
    mutating func writeAll(frames n: Int, cue: Int?, gainDB: Double?, detecting: Bool = true) throws(AudioError) {
        guard let device = timeline.output else { throw AudioError.device(name: "?", code: -77, message: "thiết bị chưa mở") }
        if let gainDB {
            buffer.withUnsafeMutableBufferPointer { samples in
                if let base = samples.baseAddress { timeline.process(base, frames: n, gainDB: gainDB, detecting: detecting) }
            }
        }
        var offset = 0
        var lastProgress = engine.clock.now()
        var lastQueued = Int.max
        while offset < n {
            let took: Int = try buffer.withUnsafeBufferPointer { (all) throws(AudioError) -> Int in
                try device.write(UnsafeBufferPointer(rebasing: all[(offset * channels)..<(n * channels)]))
            }
            offset += took
            timeline.position += took
            // One delay query per write serves the timeline, the items' ends and the watchdog: with the pulse
            // plugin each query costs a round through its main loop.
            let queued = try device.queuedFrames()
            if device.xruns != timeline.xrunsSeen {
                let reported = device.xruns - timeline.xrunsSeen
                let slip = try timeline.reanchor()
                if let cue {
                    cues[cue].xruns += reported
                    noteSlip(cue: cue, seconds: slip ?? 0, reported: reported)
                }
            } else if took > 0, let slip = timeline.followDevice(queued: queued), let cue {
                noteSlip(cue: cue, seconds: slip, reported: 0)
            }
            settleDropout()
            timeline.flush(all: false, queued: queued)
            if took > 0 || queued < lastQueued { lastProgress = engine.clock.now() }
            lastQueued = queued
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
        if var open = dropout {
            open.seconds += seconds
            open.last = now
            open.reported += reported
            dropout = open
        } else {
            dropout = Dropout(cue: cue, seconds: seconds, last: now, reported: reported)
        }
    }

    /// Counts the dropout being measured on its cue's row, before the row is closed: a dropout the device did not
    /// report is one more on the row.
    mutating func countDropout() {
        guard let open = dropout, !open.counted, open.heard else { return }
        if open.reported == 0 { cues[open.cue].xruns += 1 }
        dropout?.counted = true
    }

    /// Reports the dropout being measured once its slips have settled (or now, when `force`): once, with the time
    /// the audio after it was put back by.
    mutating func settleDropout(force: Bool = false) {
        guard let open = dropout,
              force || engine.clock.now().timeIntervalSince(open.last) > PlayoutEngine.dropoutSettleSeconds else { return }
        countDropout()
        dropout = nil
        if open.heard { emit(.dropout(cue: open.cue, seconds: max(0, open.seconds))) }
    }

    /// Writes silence until the next frame would be heard at `target`, then anchors the timeline there.
    /// The silence goes through the gain stage with the coming item's gain, so its ramp is over before
    /// the item. Returns the command that cut the wait short.
    mutating func leadIn(until target: Date, gainDB: Double) throws(AudioError) -> PlayoutEngine.Interruption? {
        guard let device = timeline.output else { return nil }
        while true {
            let nextHeard = engine.clock.now().addingTimeInterval(Double(try device.queuedFrames()) / rate)
            timeline.anchor = (timeline.position, nextHeard)
            timeline.xrunsSeen = device.xruns
            let remaining = target.timeIntervalSince(nextHeard)
            if remaining < 0.5 / 1000 { return nil }
            let interruption = engine.interruption
            if interruption != .none { return interruption }
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
        guard timeline.output != nil, !timeline.limiterFresh else { return }
        let frames = timeline.latency
        let limiter = timeline.limiter
        buffer.withUnsafeMutableBufferPointer { samples in
            if let base = samples.baseAddress { limiter.drain(into: base, frames: frames) }
        }
        try? writeAll(frames: frames, cue: nil, gainDB: nil)
    }
}
