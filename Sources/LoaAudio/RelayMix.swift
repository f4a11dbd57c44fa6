import Foundation
import LoaCore

/// One fallback item of a relay: a file, its gain, and what the plan says of it.
public struct FallbackCue: Sendable, Hashable {
    public var item: PlannedItem
    public var path: String
    public var gainDB: Double

    public init(item: PlannedItem, path: String, gainDB: Double = 0) {
        self.item = item
        self.path = path
        self.gainDB = gainDB
    }
}

/// What a relay did, at an item frame (frames from the relay item's first), for its rows.
public enum RelayMixEvent: Sendable, Hashable {
    /// The upstream is on air from here.
    case relaying
    /// The fallback item `index` (in the fallback loop; ``RelayMix/noFallback`` when there is none: silence) is on air
    /// from here, because of `reason`.
    case fallbackStarted(index: Int, reason: Reason)
    /// The fallback item `index` stopped here after `heardSeconds`: its file ended, or the upstream returned.
    case fallbackEnded(index: Int, heardSeconds: Double, returned: Bool, failed: Reason?)
}

/// A relay item as one ``AudioSource``: the upstream while it is heard, the fallback loop while it is not, each
/// switch decided by ``RelaySwitch`` at every read and made with a short fade, so that the loudspeaker never goes
/// without sound while there is a fallback. It is as long as the relay item; its last ``endFadeFrames`` fade out
/// (the relay fades out at the slot's end).
///
/// Read by the output thread only; never waits: the upstream's audio is ready in ``UpstreamFeed``'s buffer, a
/// fallback file is decoded ahead by its ``FileSource`` (the first opened when the mix is made).
public final class RelayMix: AudioSource, @unchecked Sendable {
    public let feed: UpstreamFeed
    public let fallback: [FallbackCue]
    public let format: AudioFormat
    public let startFrame: Int
    public let lengthFrames: Int?
    let endFadeFrames: Int
    private var relaySwitch: RelaySwitch
    private var position: Int
    /// The fallback on air or ready: its index in the loop, its source, the frames aired of it.
    private var current: (index: Int, source: FileSource, heard: Int)?
    /// Why the fallback airs.
    private var fallbackReason = Reason(.relayConnecting)
    private var nextIndex = 0
    private var onRelay = false
    private var begun = false
    /// Frames of the upstream aired.
    public private(set) var relayedFrames = 0
    private var events: [(frame: Int, event: RelayMixEvent)] = []
    /// Frames of the new source still to fade in after a switch.
    private var fadeIn = 0
    private var scratch: [Float] = []
    static let switchFadeSeconds = 0.03
    /// The index a ``RelayMixEvent/fallbackStarted(index:reason:)`` names when there is no fallback to air.
    public static let noFallback = -1

    public init(feed: UpstreamFeed, fallback: [FallbackCue], startFrame: Int, lengthFrames: Int, endFadeSeconds: Double) {
        self.feed = feed
        self.fallback = fallback
        format = feed.format
        self.startFrame = startFrame
        self.lengthFrames = lengthFrames
        position = startFrame
        endFadeFrames = Int(endFadeSeconds * Double(feed.format.sampleRate))
        relaySwitch = RelaySwitch(tuning: feed.source.tuning)
        // The first fallback decodes ahead, so that a relay not heard at its second has sound at once.
        prepareFallback()
    }

    deinit { close() }

    public var bufferedFrames: Int { onRelay ? feed.ring.available : (current?.source.bufferedFrames ?? 0) }

    public var relayedSeconds: Double { Double(relayedFrames) / Double(format.sampleRate) }

    /// What happened since the last call, at item frames (from the item's first, as ``startFrame`` is).
    public func drainEvents() -> [(frame: Int, event: RelayMixEvent)] {
        defer { events.removeAll() }
        return events
    }

    public func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> SourceRead {
        guard let length = lengthFrames, position < length else { return .ended }
        let want = min(frames, length - position)
        if !begun {
            // What waited in the buffer beyond the target (during the lead-in) is older than the relay should be.
            begun = true
            feed.trim(toSeconds: feed.source.tuning.bufferSeconds)
        }
        let (decision, changed) = relaySwitch.decide(feed.observation())
        if changed { switchTo(decision) }
        var n = 0
        if onRelay {
            if case let .frames(count) = feed.read(into: buffer, frames: want) {
                n = count
                relayedFrames += count
            }
        }
        if n == 0 {
            if onRelay {
                // The buffer ran dry between the decision and the read: the fallback takes over now.
                switchTo(.fallback(feed.observation().fault ?? Reason(.relayUnderrun)))
            }
            n = readFallback(into: buffer, frames: want)
        }
        applyFades(buffer, frames: n)
        position += n
        return .frames(n)
    }

    public func waitForFrames(upTo seconds: Double) -> Bool { true }

    public func close() {
        current?.source.close()
        current = nil
    }

    private func switchTo(_ decision: RelayDecision) {
        switch decision {
        case .relay:
            endFallback(returned: true, failed: nil)
            onRelay = true
            feed.setConsuming(true, state: .relaying)
            events.append((position, .relaying))
        case let .fallback(reason):
            onRelay = false
            feed.setConsuming(false, state: .fallback)
            fallbackReason = reason
            if current == nil { prepareFallback() }
            // Without a fallback the loudspeaker is silent: the relay's row still says from when and why.
            events.append((position, .fallbackStarted(index: current?.index ?? RelayMix.noFallback, reason: reason)))
        }
        fadeIn = Int(RelayMix.switchFadeSeconds * Double(format.sampleRate))
    }

    /// Opens the next fallback item of the loop (a file that cannot be opened is passed over, once round the loop).
    private func prepareFallback() {
        guard !fallback.isEmpty else { return }
        for _ in fallback.indices {
            let index = nextIndex % fallback.count
            nextIndex = index + 1
            if let source = try? FileSource(path: fallback[index].path, format: format) {
                current = (index, source, 0)
                return
            }
        }
    }

    private func endFallback(returned: Bool, failed: Reason?) {
        guard let ending = current else { return }
        current = nil
        ending.source.close()
        if ending.heard > 0 || failed != nil {
            events.append((position, .fallbackEnded(index: ending.index, heardSeconds: Double(ending.heard) / Double(format.sampleRate),
                                                                 returned: returned, failed: failed)))
        }
        if !returned {
            prepareFallback()
            if !onRelay, let next = current { events.append((position, .fallbackStarted(index: next.index, reason: fallbackReason))) }
        }
    }

    /// The relay item stops being read (its end, a cut, a stop, a preemption): the fallback on air ends here.
    public func finish() {
        if let ending = current, ending.heard > 0 {
            current = nil
            ending.source.close()
            events.append((position, .fallbackEnded(index: ending.index, heardSeconds: Double(ending.heard) / Double(format.sampleRate),
                                                                 returned: false, failed: nil)))
        }
        feed.setConsuming(false, state: .fallback)
    }

    /// The fallback's frames, the next item of the loop after one ends; silence when there is none or it is behind.
    private func readFallback(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        // While the fallback airs the upstream keeps its buffer at the target, no staler.
        feed.trim(toSeconds: feed.source.tuning.bufferSeconds)
        var attempts = 0
        while let playing = current, attempts <= fallback.count {
            switch playing.source.read(into: buffer, frames: frames) {
            case let .frames(n):
                current?.heard += n
                scale(buffer, frames: n, gainDB: fallback[playing.index].gainDB)
                return n
            case .underflow:
                _ = playing.source.waitForFrames(upTo: 0.02)
                attempts += 1
                if playing.source.bufferedFrames == 0 { return silence(buffer, frames: min(frames, 960)) }
            case .ended:
                endFallback(returned: false, failed: nil)
                fadeIn = Int(RelayMix.switchFadeSeconds * Double(format.sampleRate))
                attempts += 1
            case let .failed(error):
                endFallback(returned: false, failed: error.reason)
                attempts += 1
            }
        }
        return silence(buffer, frames: frames)
    }

    private func silence(_ buffer: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        buffer.update(repeating: 0, count: frames * format.channels)
        return frames
    }

    private func scale(_ buffer: UnsafeMutablePointer<Float>, frames: Int, gainDB: Double) {
        guard gainDB != 0 else { return }
        let gain = Float(pow(10, gainDB / 20))
        for i in 0..<(frames * format.channels) { buffer[i] *= gain }
    }

    /// The short fade-in after a switch, and the relay's fade-out over its last frames.
    private func applyFades(_ buffer: UnsafeMutablePointer<Float>, frames: Int) {
        let channels = format.channels
        let switchFade = Int(RelayMix.switchFadeSeconds * Double(format.sampleRate))
        let length = lengthFrames ?? .max
        for frame in 0..<frames {
            var gain: Float = 1
            if fadeIn > 0 {
                gain = Float(switchFade - fadeIn) / Float(max(1, switchFade))
                fadeIn -= 1
            }
            let left = length - (position + frame)
            if left < endFadeFrames { gain *= Float(left) / Float(max(1, endFadeFrames)) }
            if gain != 1 { for c in 0..<channels { buffer[frame * channels + c] *= gain } }
        }
    }
}
