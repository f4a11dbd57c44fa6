/// A recording's EBU R128 measurement, taken once when it enters the library.
///
/// Values are always finite: a file with nothing above the −70 LUFS absolute gate reads
/// ``silenceLUFS``, and a file of digital silence has a true peak of ``floorDBTP``, so the numbers
/// can be stored, printed and encoded as JSON like any other.
public struct Loudness: Sendable, Hashable, Codable {
    /// Integrated (programme) loudness, ITU-R BS.1770-4 gated, in LUFS.
    public var integratedLUFS: Double
    /// Largest inter-sample peak over the channels as played, 4× oversampled as libebur128 measures it.
    public var truePeakDBTP: Double

    /// The absolute gate of BS.1770: nothing quieter takes part in the measurement.
    public static let silenceLUFS = -70.0
    /// The true peak reported for a file whose samples are all zero (below any 24-bit signal).
    public static let floorDBTP = -144.0
    /// The most playout will turn an item down or up: beyond this the file is broken rather than
    /// badly levelled, and amplifying its noise by more would do harm.
    public static let gainRange: ClosedRange<Double> = -30...24

    /// Stores the values as given, only bringing −∞ and NaN up to the floors.
    public init(integratedLUFS: Double, truePeakDBTP: Double) {
        self.integratedLUFS = integratedLUFS.isFinite ? max(integratedLUFS, Self.silenceLUFS) : Self.silenceLUFS
        self.truePeakDBTP = truePeakDBTP.isFinite ? max(truePeakDBTP, Self.floorDBTP) : Self.floorDBTP
    }

    /// True when nothing in the file rose above the absolute gate.
    public var isSilent: Bool { integratedLUFS <= Self.silenceLUFS }

    /// The gain in dB that brings this recording to `targetLUFS` at playout.
    public func playoutGainDB(targetLUFS: Double) -> Double {
        Self.playoutGainDB(integratedLUFS: integratedLUFS, targetLUFS: targetLUFS)
    }

    /// `target − integrated`, kept within ``gainRange``. A silent file gets 0 dB: there is no level to
    /// correct, and raising its hiss to the target would be the only effect.
    public static func playoutGainDB(integratedLUFS: Double, targetLUFS: Double) -> Double {
        guard integratedLUFS.isFinite, integratedLUFS > silenceLUFS, targetLUFS.isFinite else { return 0 }
        return min(max(targetLUFS - integratedLUFS, gainRange.lowerBound), gainRange.upperBound)
    }
}
