import Foundation
import LoaCore
import Testing

@Suite("Loudness: the playout gain for a target")
struct LoudnessTests {
    @Test("The gain is the distance from the measured loudness to the target")
    func gainIsTargetMinusIntegrated() {
        #expect(Loudness(integratedLUFS: -23, truePeakDBTP: -3).playoutGainDB(targetLUFS: -16) == 7)
        #expect(Loudness(integratedLUFS: -10, truePeakDBTP: 0).playoutGainDB(targetLUFS: -16) == -6)
        #expect(Loudness.playoutGainDB(integratedLUFS: -16, targetLUFS: -16) == 0)
    }

    @Test("The gain is kept within −30…+24 dB")
    func gainIsClamped() {
        #expect(Loudness.playoutGainDB(integratedLUFS: -60, targetLUFS: -16) == 24)
        #expect(Loudness.playoutGainDB(integratedLUFS: 20, targetLUFS: -16) == -30)
    }

    @Test("A silent file, at or below the −70 LUFS gate or unmeasurable, gets 0 dB")
    func silenceGetsNoGain() {
        #expect(Loudness.playoutGainDB(integratedLUFS: -70, targetLUFS: -16) == 0)
        #expect(Loudness.playoutGainDB(integratedLUFS: -.infinity, targetLUFS: -16) == 0)
        #expect(Loudness.playoutGainDB(integratedLUFS: .nan, targetLUFS: -16) == 0)
        let silent = Loudness(integratedLUFS: -.infinity, truePeakDBTP: -.infinity)
        #expect(silent.isSilent && silent.playoutGainDB(targetLUFS: -16) == 0)
    }

    @Test("A measurement is always finite, so it can be stored and encoded as JSON")
    func measurementIsFinite() throws {
        let silent = Loudness(integratedLUFS: -.infinity, truePeakDBTP: -.infinity)
        #expect(silent == Loudness(integratedLUFS: Loudness.silenceLUFS, truePeakDBTP: Loudness.floorDBTP))
        let data = try JSONEncoder().encode(silent)
        #expect(try JSONDecoder().decode(Loudness.self, from: data) == silent)
    }

    @Test("A segment made without loudness has none; one given it keeps it")
    func segmentCarriesLoudness() {
        #expect(Segment(id: "a", title: "A", path: "a.mp3", durationSeconds: 1).loudness == nil)
        let measured = Loudness(integratedLUFS: -20.5, truePeakDBTP: -1.5)
        #expect(Segment(id: "a", title: "A", path: "a.mp3", durationSeconds: 1, loudness: measured).loudness == measured)
    }
}
