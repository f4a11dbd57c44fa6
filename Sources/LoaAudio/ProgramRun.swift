import Foundation
import LoaCore

/// What the output thread keeps of one cue's current row.
struct CueState {
    /// Heard in the row so far, over every airing of it (a device that comes back re-enters the same row).
    var rowHeard = 0.0
    var xruns = 0
    /// Whether the row's first sample was reported.
    var started = false
    /// The timeline frame where the audio written for it ends, while the device it was written to is open.
    var endFrame: Int?
}

/// One program on the output thread: it asks the program's state machine what to do, does it, and tells the
/// machine what happened. Every decision of what airs is the machine's; this is the hands.
struct ProgramRun {
    let request: PlayoutEngine.Request
    var program: PlayoutProgram { request.program }
    var engine: PlayoutEngine { timeline.engine }
    var timeline: DeviceTimeline
    var machine: ProgramStateMachine
    var cues: [CueState]
    /// A dropout being measured: see ``Dropout``.
    var dropout: Dropout?
    /// Whether a stop ended the program: the fade is heard before the program is done, and what is queued is skipped.
    var stopped = false
    /// What the device said when it was lost last.
    var deviceError: AudioError?
    /// Whether this program took the air from another, which goes on after it with no gap.
    var preempting = false
    /// The next cue's file, opened and decoding from its start while the cue before it airs: items that follow each
    /// other meet with no gap however slow the decoder's first chunk.
    var prefetched: (cue: Int, source: FileSource)?
    var buffer: [Float]
    /// Frames decoded and written at a time: 85 ms at 48 kHz. Fewer, larger writes cost less with a sound
    /// server; stops and preemptions are noticed between chunks, well inside the stop fade.
    let chunk = 4096
    var rate: Double { timeline.rate }
    var channels: Int { engine.format.channels }

    init(request: PlayoutEngine.Request, timeline: DeviceTimeline) {
        self.request = request
        self.timeline = timeline
        machine = request.program.stateMachine()
        cues = request.program.cues.map { _ in CueState() }
        buffer = [Float](repeating: 0, count: chunk * timeline.engine.format.channels)
    }

    func emit(_ event: PlayoutEvent) { request.events(event) }

    /// Reports every pending cue of a program that never gets the air (a stop came first).
    static func skipWhole(_ request: PlayoutEngine.Request, reason: Reason) {
        let program = request.program
        for (cue, progress) in program.progress.enumerated() where progress == .pending {
            request.events(.ended(cue: cue, closing: RowClosing(outcome: .skipped, reason: reason, airedSeconds: 0,
                                                                lostSeconds: program.cues[cue].item.segment.durationSeconds,
                                                                policy: nil, wasOnAir: false),
                                  endedAt: nil, xruns: 0))
        }
        request.done()
    }

    mutating func execute() {
        var actions = machine.handle(.handedOver(now: nextHeard()))
        while !actions.isEmpty {
            switch actions.removeFirst() {
            case let .close(cue, closing):
                close(cue, closing)
            case .finished:
                actions.removeAll()
            case let .air(airing):
                actions = play(airing) + actions
            case let .retryDevice(until):
                actions = retry(until: until) + actions
            case .yieldToPreemption:
                runPreemptions()
                // A stop that came meanwhile ends this program too.
                actions = (interrupted(engine.interruption) ?? machine.handle(.preemptionEnded(now: nextHeard()))) + actions
            case .cut, .fade:
                // Answers to what an item on air reported; `play` takes them there.
                break
            }
        }
        finishProgram()
    }

    /// When the next frame written would be heard; now when the device is closed.
    func nextHeard() -> Date { timeline.audible(timeline.position) ?? engine.clock.now() }

    /// What the machine says to a command that came in.
    mutating func interrupted(_ interruption: PlayoutEngine.Interruption) -> [ProgramAction]? {
        switch interruption {
        case .none: return nil
        case .stop:
            stopped = true
            return machine.handle(.stop(now: nextHeard()))
        case let .preempt(reason):
            return machine.handle(.preemptionBegan(now: nextHeard(), reason: reason))
        }
    }

    /// The device failed: the machine decides what becomes of the program.
    mutating func deviceFailed(_ error: AudioError) -> [ProgramAction] {
        deviceError = error
        return machine.handle(.deviceLost(now: engine.clock.now(), reason: error.reason))
    }

    /// Closes the cue's row: once its last sample is heard when it aired just now, else at once.
    mutating func close(_ cue: Int, _ closing: RowClosing) {
        // A dropout in an item that just aired is counted on its row already and may still be settling; one in a
        // row closed without airing now is reported now.
        if dropout?.cue == cue && !closing.wasOnAir { settleDropout(force: true) }
        let xruns = cues[cue].xruns, events = request.events
        if closing.wasOnAir, let end = cues[cue].endFrame, timeline.output != nil {
            timeline.pending.append((end, { endedAt in events(.ended(cue: cue, closing: closing, endedAt: endedAt, xruns: xruns)) }))
            timeline.flush(all: false)
            if stopped {
                // A stop waits for the fade to be heard: the item's end comes before what the stop skips.
                writeTail()
                timeline.flushWhenHeard()
            }
        } else {
            emit(.ended(cue: cue, closing: closing, endedAt: cues[cue].started ? engine.clock.now() : nil, xruns: xruns))
        }
    }

    /// The program is written: it is done once its last item has been heard. When another program
    /// follows, that happens while the next one airs, with no gap between them.
    mutating func finishProgram() {
        prefetched?.source.close()
        prefetched = nil
        settleDropout(force: true)
        if stopped {
            // A stop waits for the fade to be heard; what was queued behind is skipped.
            writeTail()
            timeline.flushWhenHeard()
            for request in engine.drainQueueAfterStop() { ProgramRun.skipWhole(request, reason: Reason(.stoppedBeforeStart)) }
        }
        // The limiter's look-ahead is pushed out only when nothing follows: what follows carries it on.
        if !engine.hasWork && !preempting { writeTail() }
        timeline.flush(all: false)
        if let last = timeline.pending.indices.last {
            let report = timeline.pending[last].report, done = request.done
            timeline.pending[last].report = { endedAt in
                report(endedAt)
                done()
            }
        } else {
            request.done()
        }
    }

    /// Runs every waiting preemption on the same device, then hands back.
    mutating func runPreemptions() {
        while let preempting = engine.takePreemption() {
            var run = ProgramRun(request: preempting, timeline: timeline)
            run.preempting = true
            run.execute()
            timeline = run.timeline
        }
    }

    /// Retries the device every `retryInterval` until `until`; the machine decides what follows.
    mutating func retry(until: Date) -> [ProgramAction] {
        // The lost device's delay no longer says anything: what was measured of a dropout is what there is.
        settleDropout(force: true)
        timeline.retire()
        for cue in cues.indices { cues[cue].endFrame = nil }
        var last = deviceError ?? AudioError.device(name: "?", code: -19, message: "không có thiết bị")
        emit(.deviceLost(last.description))
        while engine.clock.now() < until {
            if engine.interruption == .stop {
                stopped = true
                return machine.handle(.stop(now: engine.clock.now()))
            }
            do {
                try timeline.open()
                emit(.deviceBack(engine.clock.now()))
                return machine.handle(.deviceBack(now: nextHeard()))
            } catch {
                last = error
            }
            let before = engine.clock.now()
            engine.wait(min(engine.retryInterval, max(0, until.timeIntervalSince(before))))
            // A clock that does not move while we wait (a virtual one) must not keep us here for ever.
            if engine.clock.now() <= before { break }
        }
        return machine.handle(.deviceStillLost(now: engine.clock.now(), reason: last.reason))
    }

    /// Airs one cue as the machine placed it; returns the machine's answer to how it ended.
    mutating func play(_ airing: ItemAiring) -> [ProgramAction] {
        let cue = airing.item, item = program.cues[cue]
        if let answer = interrupted(engine.interruption) { return answer }
        if timeline.output == nil {
            do { try timeline.open() } catch { return deviceFailed(error) }
        }
        if airing.newRow { cues[cue] = CueState() }
        // Decoded ahead on a thread of its own from where the machine placed it, while the lead-in plays.
        let source: any AudioSource
        do {
            if let relay = item.relay {
                // A relay that ends at the hard end is faded by the cut there; one before an outro fades itself.
                let endsAtHardEnd = program.hardEnd.map { abs($0.timeIntervalSince(item.item.endsAt)) < 0.5 } ?? false
                source = RelayMix(feed: relay.feed, fallback: relay.fallback, startFrame: Int((airing.fromSeconds * rate).rounded()),
                                  lengthFrames: Int((item.item.segment.durationSeconds * rate).rounded()),
                                  endFadeSeconds: endsAtHardEnd ? 0 : program.endFadeSeconds)
            } else if let ahead = prefetched, ahead.cue == cue, airing.fromSeconds == 0 {
                source = ahead.source
            } else {
                prefetched?.source.close()
                source = try FileSource(path: item.path, format: engine.format, startFrame: Int((airing.fromSeconds * rate).rounded()))
            }
            prefetched = nil
        } catch {
            return machine.handle(.ended(item: cue, nextAt: nextHeard(), heardSeconds: 0, reachedSeconds: airing.fromSeconds,
                                         how: .failed(error.reason)))
        }
        defer { source.close() }
        let mix = source as? RelayMix
        var itemFrames = Int((airing.fromSeconds * rate).rounded())
        var ready: Int
        do {
            // Silence until the item's time when nothing is playing; items that follow each other have no gap at all.
            if timeline.audible(timeline.position).map({ $0 < airing.at.addingTimeInterval(-0.02) }) ?? true,
               let interruption = try leadIn(until: airing.at.addingTimeInterval(-Double(timeline.latency) / rate), gainDB: item.gainDB),
               let answer = interrupted(interruption) {
                return answer
            }
            // The first frames (a join deep into an MP3 decodes up to its point first): silence meanwhile.
            switch try firstFrames(of: source, gainDB: item.gainDB) {
            case let .ready(n): ready = n
            case let .interrupted(interruption): if let answer = interrupted(interruption) { return answer }; ready = 0
            case let .over(read):
                return machine.handle(.ended(item: cue, nextAt: nextHeard(), heardSeconds: 0, reachedSeconds: airing.fromSeconds,
                                             how: read.ending))
            }
        } catch {
            return deviceFailed(error)
        }
        // Placed on the wall clock (join): a first sample heard later than placed enters that much further in.
        if airing.followsClock {
            let behind = Int((nextHeard().timeIntervalSince(airing.at) * rate).rounded())
            if behind > 0 {
                let dropped = min(behind, ready)
                ready -= dropped
                itemFrames += dropped
                if ready > 0 { shiftBuffer(by: dropped, keeping: ready) }
            }
        }
        let firstFrame = itemFrames
        let startFrame = timeline.position - itemFrames
        let audibleAt: Date
        do {
            let queued = try timeline.output?.queuedFrames() ?? 0
            audibleAt = engine.clock.now().addingTimeInterval(Double(queued + timeline.latency) / rate)
        } catch {
            return deviceFailed(error)
        }
        if !cues[cue].started {
            cues[cue].started = true
            emit(.starting(cue: cue, audibleAt: audibleAt, fromSeconds: Double(itemFrames) / rate, policy: airing.policy,
                           newRow: airing.newRow))
        }
        prefetch(after: cue)
        let fileSeconds = source.lengthFrames.map { Double($0) / rate } ?? item.item.segment.durationSeconds
        var limit = Int.max, endFade = 0
        for case let .cut(_, at) in machine.handle(.started(item: cue, audibleAt: audibleAt, fromSeconds: Double(itemFrames) / rate,
                                                            fileSeconds: max(fileSeconds, item.item.segment.durationSeconds))) {
            limit = itemFrames + max(0, Int(at.timeIntervalSince(audibleAt) * rate))
            endFade = Int(program.endFadeSeconds * rate)
        }
        let stopFadeFrames = max(1, Int(program.stopFadeSeconds * rate))
        var stopFadeLeft: Int? = nil
        var reportedFrame = itemFrames
        let progressFrames = Int(PlayoutEngine.progressInterval * rate)
        var how = ItemEnding.endOfFile
        while true {
            if stopFadeLeft == nil, let answer = interrupted(engine.interruption), answer.contains(.fade(item: cue)) {
                stopFadeLeft = stopFadeFrames
            }
            var want = min(chunk, limit - itemFrames)
            if let left = stopFadeLeft { want = min(want, left) }
            if want <= 0 {
                how = stopFadeLeft != nil ? .faded : .reachedCut
                break
            }
            let n: Int
            if ready > 0 {
                // The first frames were read while waiting for them; no more than the cut or the fade allows.
                n = min(ready, want)
                ready = 0
            } else {
                switch source.read(into: &buffer, frames: want) {
                case let .frames(count): n = count
                case .underflow:
                    // The decoder is behind (a disk stalled): what the device holds plays on meanwhile; should it run
                    // dry, the timeline counts the dropout.
                    _ = source.waitForFrames(upTo: sourceWait())
                    continue
                case let read:
                    how = read.ending
                    n = 0
                }
            }
            if n == 0 { break }
            if let mix { reportRelay(mix, cue: cue, startFrame: startFrame) }
            applyFades(frames: n, itemFrame: itemFrames, limit: limit, endFade: endFade, stopFadeLeft: stopFadeLeft,
                       stopFadeFrames: stopFadeFrames)
            // The first chunk of a play is always checked: it meets the previous item and the gain's ramp.
            let detecting = itemFrames == firstFrame || !item.isUnder(timeline.limiter.ceilingDBTP)
            do { try writeAll(frames: n, cue: cue, gainDB: item.gainDB, detecting: detecting) } catch {
                deviceError = error
                how = .deviceLost(error.reason)
                break
            }
            itemFrames += n
            if itemFrames - reportedFrame >= progressFrames {
                // On the interval's grid, so reports do not drift later by a chunk each time.
                reportedFrame += (itemFrames - reportedFrame) / progressFrames * progressFrames
                // A relay's row counts the upstream heard, not its fallback.
                let heardSoFar = mix.map { cues[cue].rowHeard + $0.relayedSeconds }
                    ?? cues[cue].rowHeard + Double(itemFrames - firstFrame) / rate
                let events = request.events
                timeline.pending.append((startFrame + itemFrames + timeline.latency, { _ in
                    events(.progress(cue: cue, airedSeconds: heardSoFar))
                }))
            }
            if let left = stopFadeLeft {
                stopFadeLeft = left - n
                if left - n <= 0 { how = .faded; break }
            }
        }
        if let mix {
            mix.finish()
            reportRelay(mix, cue: cue, startFrame: startFrame)
        }
        cues[cue].rowHeard += mix?.relayedSeconds ?? Double(itemFrames - firstFrame) / rate
        cues[cue].endFrame = startFrame + itemFrames + timeline.latency
        // Its later slips may still come (the device's delay settling after the end); the row counts it now.
        if dropout?.cue == cue { countDropout() }
        return machine.handle(.ended(item: cue, nextAt: nextHeard(), heardSeconds: Double(itemFrames - firstFrame) / rate,
                                     reachedSeconds: Double(itemFrames) / rate, how: how))
    }

    /// A relay's switches, each reported when heard; its connections and faults at once.
    mutating func reportRelay(_ mix: RelayMix, cue: Int, startFrame: Int) {
        let events = request.events, clock = engine.clock
        for event in mix.feed.drainEvents() { events(.relay(cue: cue, .upstream(event))) }
        for (frame, event) in mix.drainEvents() {
            timeline.pending.append((startFrame + frame + timeline.latency, { at in events(.relay(cue: cue, .mix(event, at: at ?? clock.now()))) }))
        }
    }

    /// Opens the cue after `cue`, when it is still to air, so that it decodes while `cue` airs.
    mutating func prefetch(after cue: Int) {
        let next = cue + 1
        guard next < program.cues.count, program.progress[next] == .pending, prefetched?.cue != next,
              program.cues[next].relay == nil else { return }
        prefetched?.source.close()
        prefetched = (try? FileSource(path: program.cues[next].path, format: engine.format)).map { (next, $0) }
    }

    /// How long to wait at most for a source with nothing ready: what the device still holds, less a margin, so the
    /// wait itself makes no dropout; with nothing held (a device just opened, or one that discards), long enough for
    /// any decoder's first chunk.
    func sourceWait() -> Double {
        let queued = (try? timeline.output?.queuedFrames()) ?? 0
        return queued > 0 ? max(0.005, Double(queued) / rate - 0.03) : 0.5
    }

    enum FirstFrames { case ready(Int), interrupted(PlayoutEngine.Interruption), over(SourceRead) }

    /// Reads the source's first frames into the buffer, writing silence while it has none yet.
    mutating func firstFrames(of source: any AudioSource, gainDB: Double) throws(AudioError) -> FirstFrames {
        while true {
            switch source.read(into: &buffer, frames: chunk) {
            case let .frames(n): return .ready(n)
            case .underflow:
                if source.waitForFrames(upTo: sourceWait()) { continue }
                let interruption = engine.interruption
                if interruption != .none { return .interrupted(interruption) }
                for i in 0..<(chunk / 16 * channels) { buffer[i] = 0 }
                try writeAll(frames: chunk / 16, cue: nil, gainDB: gainDB)
                if try timeline.output?.queuedFrames() == 0 { engine.wait(0.002) }
            case let read: return .over(read)
            }
        }
    }

    /// Moves the buffer's frames from `offset` to its start.
    mutating func shiftBuffer(by offset: Int, keeping frames: Int) {
        let channels = self.channels
        buffer.withUnsafeMutableBufferPointer { samples in
            guard let base = samples.baseAddress else { return }
            (base).update(from: base + offset * channels, count: frames * channels)
        }
    }
}

extension SourceRead {
    /// How an item ends when its source says this.
    var ending: ItemEnding {
        switch self {
        case let .failed(error): .failed(error.reason)
        default: .endOfFile
        }
    }
}
