import CEBUR128
import Foundation
import LoaCore

/// EBU R128 integrated loudness and true peak with libebur128, of audio as the station plays it.
///
/// A file is measured at its own rate and channel count, mapped the way playout maps it to the
/// stereo output: a mono file is copied to both loudspeakers, so it counts twice (dual mono, +3 dB
/// over the same signal in one channel); channels past the second are dropped by playout and are
/// left out here too.
///
/// Feed it with ``add(_:frames:)`` and read ``loudness``; ``measure(path:)`` does a whole file.
public final class LoudnessMeter {
    public let sampleRate: Int
    public let channels: Int
    /// Names what is measured in errors: a file's path, or the output stream.
    public let source: String
    private var state: UnsafeMutablePointer<ebur128_state>?

    public init(sampleRate: Int, channels: Int, source: String = "luồng phát") throws(AudioError) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.source = source
        guard sampleRate > 0, channels > 0,
              let state = ebur128_init(UInt32(channels), UInt(sampleRate), Int32(EBUR128_MODE_I.rawValue | EBUR128_MODE_TRUE_PEAK.rawValue))
        else { throw .loudness(source: source, message: "libebur128 không nhận \(channels) kênh ở \(sampleRate) Hz") }
        self.state = state
        if channels == 1 {
            ebur128_set_channel(state, 0, Int32(EBUR128_DUAL_MONO.rawValue))
        } else {
            ebur128_set_channel(state, 0, Int32(EBUR128_LEFT.rawValue))
            ebur128_set_channel(state, 1, Int32(EBUR128_RIGHT.rawValue))
            for c in 2..<channels { ebur128_set_channel(state, UInt32(c), Int32(EBUR128_UNUSED.rawValue)) }
        }
    }

    deinit { ebur128_destroy(&state) }

    /// Adds `frames` interleaved frames (``channels`` samples each).
    public func add(_ samples: UnsafePointer<Float>, frames: Int) throws(AudioError) {
        guard frames > 0 else { return }
        guard let state, ebur128_add_frames_float(state, samples, frames) == EBUR128_SUCCESS.rawValue else {
            throw .loudness(source: source, message: "libebur128 hết bộ nhớ")
        }
    }

    /// Adds the first `frames` interleaved frames of `samples`.
    public func add(_ samples: [Float], frames: Int) throws(AudioError) {
        let status: Int32 = samples.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, let state else { return -1 }
            return ebur128_add_frames_float(state, base, min(frames, buffer.count / channels))
        }
        guard status == EBUR128_SUCCESS.rawValue else { throw .loudness(source: source, message: "libebur128 hết bộ nhớ") }
    }

    /// The measurement of everything added so far.
    public var loudness: Loudness {
        var integrated = -Double.infinity
        var peak = 0.0
        if let state {
            ebur128_loudness_global(state, &integrated)
            for c in 0..<min(channels, 2) {
                var channelPeak = 0.0
                if ebur128_true_peak(state, UInt32(c), &channelPeak) == EBUR128_SUCCESS.rawValue { peak = max(peak, channelPeak) }
            }
        }
        return Loudness(integratedLUFS: integrated, truePeakDBTP: 20 * log10(peak))
    }

    /// Decodes `path` once and measures it; the same pass as ``SndFileDecoder/probe(path:)``.
    public static func measure(path: String) throws(AudioError) -> Loudness {
        guard let loudness = try SndFileDecoder.probe(path: path).loudness else {
            throw .loudness(source: path, message: "không có kết quả đo")
        }
        return loudness
    }
}
