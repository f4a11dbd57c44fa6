import Foundation
import LoaAudio
import LoaCore
import Testing

@Suite("True-peak limiter and item gain at the output")
struct TruePeakLimiterTests {
    static let rate = 48000

    /// Runs stereo `input` through `limiter` in uneven pieces, drains the look-ahead, and returns the
    /// output with the latency removed (so output frame n is input frame n).
    static func run(_ input: [Float], through limiter: TruePeakLimiter, gainDB: Double) -> [Float] {
        var output: [Float] = []
        var buffer = [Float](repeating: 0, count: 4096 * 2)
        var start = 0, piece = 0
        let sizes = [1, 37, 512, 1024, 4096, 300]
        let frames = input.count / 2
        while start < frames {
            let n = min(sizes[piece % sizes.count], frames - start)
            piece += 1
            for k in 0..<(n * 2) { buffer[k] = input[start * 2 + k] }
            buffer.withUnsafeMutableBufferPointer { limiter.process($0.baseAddress!, frames: n, gainDB: gainDB) }
            output += buffer[0..<(n * 2)]
            start += n
        }
        // Drain overwrites whatever is in the buffer with silence first.
        var tail = [Float](repeating: 1, count: limiter.latencyFrames * 2)
        tail.withUnsafeMutableBufferPointer { limiter.drain(into: $0.baseAddress!, frames: limiter.latencyFrames) }
        output += tail
        return Array(output[(limiter.latencyFrames * 2)...])
    }

    static func truePeak(_ samples: [Float]) throws -> Double {
        let meter = try LoudnessMeter(sampleRate: rate, channels: 2)
        try meter.add(samples, frames: samples.count / 2)
        return meter.loudness.truePeakDBTP
    }

    static func stereo(seconds: Double, _ sample: (Int) -> Float) -> [Float] {
        (0..<Int(seconds * Double(rate))).flatMap { n in let v = sample(n); return [v, v] }
    }

    /// Sample peak exactly 1.0; the tone near fs/4 sweeps slowly through the phases where the
    /// waveform peaks fall between samples (up to +3 dBTP).
    static let nearQuarterRate: [Float] = {
        let raw = stereo(seconds: 2) { n in Float(sin(2 * .pi * 11_990 * Double(n) / Double(rate) + .pi / 4)) }
        let peak = raw.map(abs).max() ?? 1
        return raw.map { $0 / peak }
    }()
    static let square = stereo(seconds: 2) { n in (n / 24) % 2 == 0 ? 1 : -1 }
    /// Lone clicks and Nyquist bursts (+1 −1 +1 −1) in silence: the worst inter-sample overs.
    static let clicks = stereo(seconds: 2) { n in
        switch n % 4800 {
        case 100: 1
        case 2400...2403: n % 2 == 0 ? 1 : -1
        case 3600: -1
        case 3601: 1
        default: 0
        }
    }
    static let noise: [Float] = {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        return stereo(seconds: 2) { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed >> 1) % 2_000_001 - 1_000_000) / 1_000_000
        }
    }()
    static let signals = ["near fs/4": nearQuarterRate, "full-scale square": square, "clicks": clicks, "noise": noise]

    @Test("A 0 dBFS source with +6 dB of gain comes out at or under −1 dBTP as libebur128 measures it",
          arguments: ["near fs/4", "full-scale square", "clicks", "noise"])
    func neverOverCeiling(name: String) throws {
        let input = try #require(Self.signals[name])
        let sourcePeak = try Self.truePeak(input)
        #expect(sourcePeak >= -0.01, "\(name): the source should reach 0 dBFS, reads \(sourcePeak)")
        let limiter = TruePeakLimiter(gainDB: 6)
        let output = Self.run(input, through: limiter, gainDB: 6)
        let peak = try Self.truePeak(output)
        #expect(peak <= -1, "\(name): \(peak) dBTP")
        // Limiting, not muting: the loud parts stay loud.
        #expect(peak > -1.5, "\(name): \(peak) dBTP")
    }

    @Test("Other formats than the broadcast one: mono at 44.1 kHz stays under the ceiling too")
    func otherFormat() throws {
        let input = (0..<44100).map { n in Float(sin(2 * .pi * 11_000 * Double(n) / 44100 + .pi / 4)) }
        let limiter = TruePeakLimiter(sampleRate: 44100, channels: 1, gainDB: 6)
        var buffer = input
        buffer.withUnsafeMutableBufferPointer { limiter.process($0.baseAddress!, frames: input.count, gainDB: 6) }
        var tail = [Float](repeating: 0, count: limiter.latencyFrames)
        tail.withUnsafeMutableBufferPointer { limiter.drain(into: $0.baseAddress!, frames: limiter.latencyFrames) }
        let meter = try LoudnessMeter(sampleRate: 44100, channels: 1)
        try meter.add(buffer + tail, frames: buffer.count + tail.count)
        #expect(meter.loudness.truePeakDBTP <= -1 && meter.loudness.truePeakDBTP > -1.5, "\(meter.loudness)")
        #expect(limiter.latencyFrames == 88 + 10)
    }

    @Test("A quiet source passes unchanged apart from the gain and the latency")
    func quietPassesThrough() throws {
        let amplitude = Float(pow(10, -20.0 / 20))
        let input = Self.stereo(seconds: 1) { n in amplitude * Float(sin(2 * .pi * 1000 * Double(n) / Double(Self.rate))) }
        let limiter = TruePeakLimiter(gainDB: 6)
        #expect(limiter.latencyFrames > 0 && limiter.latencyFrames < Self.rate / 100)
        let output = Self.run(input, through: limiter, gainDB: 6)
        let gain = Float(pow(10, 6.0 / 20))
        let worst = zip(input, output).map { abs($0 * gain - $1) }.max() ?? 1
        #expect(output.count == input.count)
        #expect(worst < 1e-6, "\(worst)")
    }

    @Test("A change of gain between calls is a ramp of 5 ms, not a step")
    func gainChangeIsRamped() throws {
        let limiter = TruePeakLimiter(gainDB: 0)
        var buffer = [Float](repeating: 0.1, count: 2400 * 2)
        buffer.withUnsafeMutableBufferPointer { limiter.process($0.baseAddress!, frames: 2400, gainDB: 0) }
        buffer = [Float](repeating: 0.1, count: 2400 * 2)
        buffer.withUnsafeMutableBufferPointer { limiter.process($0.baseAddress!, frames: 2400, gainDB: 6) }
        // The change reaches the output `latencyFrames` after it was applied.
        let left = stride(from: limiter.latencyFrames * 2, to: buffer.count, by: 2).map { buffer[$0] }
        let steps = zip(left, left.dropFirst()).map { abs($1 - $0) }
        let full = Float(0.1 * pow(10, 6.0 / 20))
        #expect(abs(left[0] - 0.1) < 1e-3)
        #expect((steps.max() ?? 1) < (full - 0.1) / 200, "\(steps.max() ?? 1)")
        #expect(abs(left[240] - full) < 1e-6 && abs(left[left.count - 1] - full) < 1e-6)
    }

    @Test("Two segments 12 LU apart are both within 1 LU of the target after gain, and the stream stays under −1 dBTP")
    func twoSegmentsMeetTheTarget() throws {
        let fixtures = try Fixtures()
        // The same noise 12 dB apart: loud in stereo WAV, quiet in mono FLAC with clicks that its gain
        // pushes over the ceiling. Both are at 44.1 kHz and convert to 48 kHz stereo on the way.
        var seed: UInt64 = 42
        func uniform() -> Float {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed >> 1) % 2_000_001 - 1_000_000) / 1_000_000
        }
        // Gently low-passed, as real recordings are: the resampler's roll-off near 22 kHz would
        // otherwise take a K-weighted LU out of white noise, which is not what this test is about.
        let white = (0..<(44100 * 8 + 2)).map { _ in uniform() }
        let noise: [Float] = (2..<white.count).map { n in
            let smoothed: Float = 0.25 * white[n] + 0.5 * white[n - 1]
            return smoothed + 0.25 * white[n - 2]
        }
        let loud = try fixtures.write("to.wav", samples: noise.flatMap { [0.2 * $0, 0.2 * $0] }, rate: 44100, channels: 2)
        let clicked = noise.enumerated().map { n, v in n % 22050 == 1000 ? 0.5 : 0.05 * v }
        let quiet = try fixtures.write("nho.flac", samples: clicked, rate: 44100, channels: 1)
        let target = -16.0
        let limiter = TruePeakLimiter()
        var output: [Float] = []
        var measured: [Loudness] = []
        var regions: [Range<Int>] = []
        var buffer = [Float](repeating: 0, count: 1024 * 2)
        for url in [loud, quiet] {
            let loudness = try #require(try SndFileDecoder.probe(path: url.path).loudness)
            measured.append(loudness)
            let gain = loudness.playoutGainDB(targetLUFS: target)
            let decoder = try SndFileDecoder(path: url.path)
            let start = output.count / 2
            while case let n = try buffer.withUnsafeMutableBufferPointer({ try decoder.read(into: $0.baseAddress!, frames: 1024) }), n > 0 {
                buffer.withUnsafeMutableBufferPointer { limiter.process($0.baseAddress!, frames: n, gainDB: gain) }
                output += buffer[0..<(n * 2)]
            }
            regions.append((start + limiter.latencyFrames)..<(output.count / 2 + limiter.latencyFrames))
        }
        var tail = [Float](repeating: 0, count: limiter.latencyFrames * 2)
        tail.withUnsafeMutableBufferPointer { limiter.drain(into: $0.baseAddress!, frames: limiter.latencyFrames) }
        output += tail

        #expect(abs((measured[0].integratedLUFS - measured[1].integratedLUFS) - 12) < 0.5, "\(measured)")
        var levels: [Double] = []
        for region in regions {
            let meter = try LoudnessMeter(sampleRate: Self.rate, channels: 2)
            try meter.add(Array(output[(region.lowerBound * 2)..<(region.upperBound * 2)]), frames: region.count)
            levels.append(meter.loudness.integratedLUFS)
        }
        #expect(levels.allSatisfy { abs($0 - target) <= 1 }, "\(levels)")
        #expect(abs(levels[0] - levels[1]) <= 1, "\(levels)")
        #expect(try Self.truePeak(output) <= -1)
    }
}
