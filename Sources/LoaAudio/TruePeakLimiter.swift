import Foundation

/// The gain stage between the decoders and the output: brings each item to its loudness gain, then
/// keeps the stream's true peak (inter-sample, 4× oversampled as libebur128 measures it) at or below
/// the ceiling.
///
/// One limiter runs for the whole output, across items played back to back, so its state (the
/// look-ahead line, the release) carries over item boundaries. Its output is the input delayed by
/// ``latencyFrames``: the engine shifts its timeline by that much and, after the last item, calls
/// ``drain(into:frames:)`` for ``latencyFrames`` frames to push the tail out.
///
/// How it keeps the promise: every input frame is interpolated 4× with libebur128's own filter
/// (49-tap Hann-windowed sinc), giving the gain that frame's neighbourhood needs. A sliding minimum
/// over the look-ahead plus the filter's span, then a box average as long as the look-ahead, gives a
/// gain that has fully arrived on every sample that feeds an over before that sample leaves the
/// delay line, and that never steps (the attack is a linear ramp over the look-ahead). Blocks whose
/// sample peak cannot produce an over through this filter skip the interpolation, so quiet audio
/// costs little more than a copy.
///
/// Not thread-safe: one caller (the playout thread) owns it.
public final class TruePeakLimiter {
    public let sampleRate: Int
    public let channels: Int
    /// The promised ceiling, in dBTP.
    public let ceilingDBTP: Double
    /// How far the output lags the input, in frames.
    public let latencyFrames: Int

    /// Whether the current call looks for overs (see `process`); silence drained always does.
    private var detecting = true
    /// The gain now applied to arriving input, in dB (mid-ramp after a change).
    public var currentGainDB: Double { 20 * log10(Double(gain)) }

    // The look-ahead (attack) length, and the hold: the look-ahead plus the interpolator's span.
    private let attack: Int
    private let hold: Int
    /// Detection aims this far under the promise, for Float rounding: measured overs with no margin
    /// were under 0.0001 dB, and gain still moving across the 12 samples of one inter-sample value
    /// added none that libebur128 could see.
    private static let marginDB = 0.05
    private let threshold: Float
    private let releaseCoefficient: Float
    private let rampFrames: Int

    // Polyphase interpolator: phases 1…3 of libebur128's 49-tap, 4× filter, 12 taps each; tap t
    // applies to the sample t frames before the newest. Phase 0 is the sample 6 frames back itself.
    private static let span = 12
    private static let history = span - 1
    private static let centre = 6
    /// For phases 1 and 3 together, c₁[t]+c₁[11−t] then c₁[t]−c₁[11−t]; then phase 2's first half (t < 6).
    private let foldedCoefficients: UnsafeMutablePointer<Float>
    /// The largest sum of |coefficients| of a phase (1.86): a block whose sample peak times this
    /// stays under the threshold cannot produce an inter-sample value over it.
    private let gateBound: Float

    private static let chunkFrames = 512
    private static let block = 64
    /// The delay line, interleaved: `latencyFrames` frames of the past, then the chunk being processed.
    private let line: UnsafeMutablePointer<Float>
    /// One channel of a block and its history, contiguous for the interpolator.
    private let planar: UnsafeMutablePointer<Float>
    private let peaks: UnsafeMutablePointer<Float>
    private let accumulator: UnsafeMutablePointer<Float>
    private let required: UnsafeMutablePointer<Float>

    // Sliding minimum of the required gain over `hold` frames: a monotonic deque in a ring.
    private let dequeValue: UnsafeMutablePointer<Float>
    private let dequeFrame: UnsafeMutablePointer<Int>
    private let dequeMask: Int
    private var dequeHead = 0, dequeCount = 0
    private var frame = 0

    private var envelope: Float = 1
    // Box average over `attack` frames of the released envelope: the attack ramp.
    private let box: UnsafeMutablePointer<Float>
    private var boxIndex = 0
    private var boxSum: Double
    /// Frames since the envelope was last under 1; from `attack` on, the box holds only ones.
    private var unityRun: Int

    // Item gain: a linear ramp to the new value, so a change at an item boundary never clicks.
    private var gain: Float
    private var gainTarget: Float
    private var gainStep: Float = 0
    private var rampLeft = 0

    /// - Parameters:
    ///   - sampleRate: of the interleaved Float buffers passed in (the output format).
    ///   - channels: of those buffers.
    ///   - ceilingDBTP: the true peak the output never exceeds.
    ///   - lookAheadSeconds: attack time; the latency is this plus 10 frames for the interpolator.
    ///   - releaseSeconds: time constant of the gain's return to unity after a reduction.
    ///   - gainRampSeconds: how long a change of item gain takes.
    ///   - gainDB: the item gain to start with (no ramp from 0 dB at the very start).
    public init(sampleRate: Int = 48000, channels: Int = 2, ceilingDBTP: Double = -1,
                lookAheadSeconds: Double = 0.002, releaseSeconds: Double = 0.05,
                gainRampSeconds: Double = 0.005, gainDB: Double = 0) {
        self.sampleRate = max(sampleRate, 1)
        self.channels = max(channels, 1)
        self.ceilingDBTP = ceilingDBTP
        attack = max(Int((lookAheadSeconds * Double(self.sampleRate)).rounded()), 1)
        hold = attack + Self.history
        latencyFrames = attack + Self.history - 1
        threshold = Float(pow(10, (ceilingDBTP - Self.marginDB) / 20))
        releaseCoefficient = Float(1 - exp(-1 / max(releaseSeconds * Double(self.sampleRate), 1)))
        rampFrames = max(Int((gainRampSeconds * Double(self.sampleRate)).rounded()), 1)

        var coefficients = [Float](repeating: 0, count: 3 * Self.span)
        var bound: Float = 1
        for phase in 1...3 {
            var l1: Float = 0
            for t in 0..<Self.span {
                // libebur128's interp_create(49, 4): tap j of the upsampled filter serves phase j % 4.
                let j = phase + 4 * t
                let m = Double(j) - 24
                let sinc = sin(m * .pi / 4) / (m * .pi / 4)
                let c = Float(sinc * 0.5 * (1 - cos(2 * .pi * Double(j) / 48)))
                coefficients[(phase - 1) * Self.span + t] = c
                l1 += abs(c)
            }
            bound = max(bound, l1)
        }
        gateBound = bound
        foldedCoefficients = .allocate(capacity: 3 * Self.span / 2)
        for t in 0..<(Self.span / 2) {
            let c1 = coefficients[t], c1Reversed = coefficients[Self.span - 1 - t]
            foldedCoefficients[t] = c1 + c1Reversed
            foldedCoefficients[Self.span / 2 + t] = c1 - c1Reversed
            foldedCoefficients[Self.span + t] = coefficients[Self.span + t]
        }

        let lineCount = (latencyFrames + Self.chunkFrames) * self.channels
        line = .allocate(capacity: lineCount)
        line.initialize(repeating: 0, count: lineCount)
        planar = .allocate(capacity: Self.history + Self.block)
        planar.initialize(repeating: 0, count: Self.history + Self.block)
        peaks = .allocate(capacity: Self.block)
        peaks.initialize(repeating: 0, count: Self.block)
        accumulator = .allocate(capacity: 3 * Self.block)
        accumulator.initialize(repeating: 0, count: 3 * Self.block)
        required = .allocate(capacity: Self.chunkFrames)
        required.initialize(repeating: 1, count: Self.chunkFrames)
        var capacity = 1
        while capacity < hold + 1 { capacity <<= 1 }
        dequeValue = .allocate(capacity: capacity)
        dequeValue.initialize(repeating: 1, count: capacity)
        dequeFrame = .allocate(capacity: capacity)
        dequeFrame.initialize(repeating: 0, count: capacity)
        dequeMask = capacity - 1
        box = .allocate(capacity: attack)
        box.initialize(repeating: 1, count: attack)
        boxSum = Double(attack)
        unityRun = attack
        gain = Float(pow(10, gainDB / 20))
        gainTarget = gain
    }

    deinit {
        foldedCoefficients.deallocate()
        line.deallocate()
        planar.deallocate()
        peaks.deallocate()
        accumulator.deallocate()
        required.deallocate()
        dequeValue.deallocate()
        dequeFrame.deallocate()
        box.deallocate()
    }

    /// Applies `gainDB` (ramped from the previous call's gain) and the limiter to `frames` interleaved
    /// frames of `buffer`, in place. What comes out is the audio that went in ``latencyFrames`` earlier.
    ///
    /// `detecting: false` is for audio known to stay under the ceiling after its gain (its true peak was
    /// measured): the costly inter-sample detection is skipped, and a reduction still in progress is
    /// released as usual. Pass it only once the gain's ramp is over and the previous item is a block behind.
    public func process(_ buffer: UnsafeMutablePointer<Float>, frames: Int, gainDB: Double, detecting: Bool = true) {
        self.detecting = detecting
        let target = gainDB.isFinite ? Float(pow(10, gainDB / 20)) : 1
        if target != gainTarget {
            gainTarget = target
            gainStep = (target - gain) / Float(rampFrames)
            rampLeft = rampFrames
        }
        var done = 0
        while done < frames {
            let n = min(Self.chunkFrames, frames - done)
            processChunk(buffer + done * channels, frames: n)
            done += n
        }
    }

    /// Pushes the look-ahead's content out: feeds `frames` frames of silence and writes what comes
    /// out into `buffer`. After the last item, drain ``latencyFrames`` frames.
    public func drain(into buffer: UnsafeMutablePointer<Float>, frames: Int) {
        detecting = true
        buffer.update(repeating: 0, count: frames * channels)
        var done = 0
        while done < frames {
            let n = min(Self.chunkFrames, frames - done)
            processChunk(buffer + done * channels, frames: n)
            done += n
        }
    }

    private func processChunk(_ io: UnsafeMutablePointer<Float>, frames n: Int) {
        let ch = channels, past = latencyFrames
        applyGain(from: io, to: line + past * ch, count: n * ch)
        let lowest: Float
        if detecting {
            lowest = detect(frames: n)
        } else {
            required.update(repeating: 1, count: n)
            lowest = 1
        }
        if lowest >= 1, unityRun >= attack, dequeCount == 0 {
            // Nothing held, nothing releasing, nothing coming: the delayed input passes untouched.
            io.update(from: line, count: n * ch)
            frame += n
        } else {
            applyLimiter(frames: n, to: io)
        }
        // Keep the last `past` frames for the next chunk.
        memmove(line, line + n * ch, past * ch * MemoryLayout<Float>.stride)
    }

    private func applyGain(from source: UnsafeMutablePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        let ch = channels
        var k = 0
        while k < count, rampLeft > 0 {
            gain = rampLeft == 1 ? gainTarget : gain + gainStep
            rampLeft -= 1
            for c in 0..<ch { destination[k + c] = source[k + c] * gain }
            k += ch
        }
        let g = gain
        if g == 1 {
            (destination + k).update(from: source + k, count: count - k)
        } else {
            for i in k..<count { destination[i] = source[i] * g }
        }
    }

    /// Fills `required` with the gain each input frame of the chunk needs so that no interpolated
    /// value between the sample 6 frames back and the next one exceeds the threshold; returns the lowest.
    private func detect(frames n: Int) -> Float {
        let ch = channels, past = latencyFrames, history = Self.history
        let limit = threshold / gateBound
        var lowest: Float = 1
        var start = 0
        while start < n {
            let end = min(start + Self.block, n)
            // Every sample that feeds this block's interpolated values: the block and its history.
            if !Self.anyOver(limit, line + (past + start - history) * ch, count: (end - start + history) * ch) {
                (required + start).update(repeating: 1, count: end - start)
            } else {
                interpolatedPeaks(from: start, frames: end - start)
                for i in 0..<(end - start) {
                    let peak = peaks[i]
                    let r = peak > threshold ? threshold / peak : 1
                    required[start + i] = r
                    lowest = r < lowest ? r : lowest
                }
            }
            start = end
        }
        return lowest
    }

    /// Whether any of `count` samples has |sample| > `limit`. Compares bit patterns without the sign
    /// (ordered as the magnitudes are, NaN aside) as an integer maximum, which vectorises.
    private static func anyOver(_ limit: Float, _ samples: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        let largest = samples.withMemoryRebound(to: UInt32.self, capacity: count) { bits in
            var largest: UInt32 = 0
            for k in 0..<count {
                let magnitude = bits[k] & 0x7FFF_FFFF
                largest = magnitude > largest ? magnitude : largest
            }
            return largest
        }
        return largest > limit.bitPattern
    }

    /// `peaks[i]`: the largest |value| of the 4× interpolation at input frame `start + i`, over channels.
    ///
    /// The filter's symmetry halves the work: phase 2 is symmetric, and phase 3 is phase 1 reversed,
    /// so with p = x[n−t], q = x[n−11+t] (t < 6), phase 2 is Σ c₂(p+q), and phases 1 and 3 are
    /// (S ± D)/2 with S = Σ (c₁[t]+c₁[11−t])(p+q), D = Σ (c₁[t]−c₁[11−t])(p−q): the larger of the two
    /// magnitudes is (|S|+|D|)/2.
    private func interpolatedPeaks(from start: Int, frames count: Int) {
        let ch = channels, past = latencyFrames, history = Self.history, half = Self.span / 2
        let x = planar, sums = accumulator, differences = accumulator + Self.block, middles = accumulator + 2 * Self.block
        let peaks = peaks, folded = foldedCoefficients
        for c in 0..<ch {
            let first = line + (past + start - history) * ch + c
            for k in 0..<(history + count) { x[k] = first[k * ch] }
            for i in 0..<count {
                sums[i] = 0
                differences[i] = 0
                middles[i] = 0
            }
            for t in 0..<half {
                let a = folded[t], b = folded[half + t], m = folded[2 * half + t]
                let newer = x + history - t, older = x + t
                for i in 0..<count {
                    let p = newer[i], q = older[i]
                    let sum = p + q
                    sums[i] += a * sum
                    differences[i] += b * (p - q)
                    middles[i] += m * sum
                }
            }
            // Phase 0 is the sample itself.
            let centre = x + history - Self.centre
            for i in 0..<count {
                let outer = 0.5 * (sums[i].magnitude + differences[i].magnitude)
                let inner = middles[i].magnitude
                var peak = centre[i].magnitude
                peak = outer > peak ? outer : peak
                peak = inner > peak ? inner : peak
                if c > 0 { peak = peaks[i] > peak ? peaks[i] : peak }
                peaks[i] = peak
            }
        }
    }

    private func applyLimiter(frames n: Int, to output: UnsafeMutablePointer<Float>) {
        // The state lives in locals for the loop: stored properties of a class would be reloaded and
        // stored on every frame.
        let hold = hold, attack = attack, mask = dequeMask, decay = 1 - releaseCoefficient
        let values = dequeValue, frames = dequeFrame, box = box, gains = required
        let scale = 1 / Double(attack)
        var head = dequeHead, count = dequeCount, frame = frame, reduction = 1 - envelope
        var boxIndex = boxIndex, boxSum = boxSum, unityRun = unityRun
        // First the gain of every frame, in place of what it required.
        for i in 0..<n {
            let r = gains[i]
            // Sliding minimum over the last `hold` frames. Only reductions enter the deque: an empty
            // deque means nothing in the window needs one.
            if r < 1 {
                while count > 0, values[(head &+ count &- 1) & mask] >= r { count &-= 1 }
                let slot = (head &+ count) & mask
                values[slot] = r
                frames[slot] = frame
                count &+= 1
            }
            if count > 0, frames[head] <= frame &- hold {
                head = (head &+ 1) & mask
                count &-= 1
            }
            let held: Float = count > 0 ? values[head] : 1
            frame &+= 1

            // Release towards unity, kept as the reduction 1 − envelope so each frame is one multiply;
            // the last 0,01 dB is skipped so the idle path can take over.
            var decayed = reduction * decay
            if decayed < 0.001 { decayed = 0 }
            let needed = 1 - held
            reduction = needed > decayed ? needed : decayed
            let envelope = 1 - reduction
            unityRun = reduction <= 0 ? unityRun &+ 1 : 0

            boxSum += Double(envelope - box[boxIndex])
            box[boxIndex] = envelope
            boxIndex = boxIndex &+ 1 == attack ? 0 : boxIndex &+ 1
            // Re-anchor the running sum once the box holds only ones, so rounding never accumulates.
            if unityRun >= attack { boxSum = Double(attack) }
            gains[i] = Float(boxSum * scale)
        }
        dequeHead = head
        dequeCount = count
        self.frame = frame
        envelope = 1 - reduction
        self.boxIndex = boxIndex
        self.boxSum = boxSum
        self.unityRun = unityRun

        let line = line
        if channels == 2 {
            for i in 0..<n {
                let g = gains[i]
                output[2 &* i] = line[2 &* i] * g
                output[2 &* i &+ 1] = line[2 &* i &+ 1] * g
            }
        } else {
            let ch = channels
            for i in 0..<n {
                let g = gains[i]
                for c in 0..<ch { output[i &* ch &+ c] = line[i &* ch &+ c] * g }
            }
        }
    }
}
