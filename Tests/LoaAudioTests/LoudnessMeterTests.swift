import Foundation
import LoaAudio
import LoaCore
import Testing

@Suite("Loudness measured with libebur128 as the file will be played")
struct LoudnessMeterTests {
    @Test("EBU Tech 3341 case 1: a stereo 997 Hz sine at −23 dBFS per channel reads −23,0 LUFS",
          arguments: ["t.wav", "t.flac"])
    func referenceTone(name: String) throws {
        let fixtures = try Fixtures()
        let url = try fixtures.synth(name, seconds: 20, ["sine", "997", "vol", "-23dB"])
        let loudness = try #require(try SndFileDecoder.probe(path: url.path).loudness)
        #expect(abs(loudness.integratedLUFS - -23) <= 0.1, "\(loudness)")
        // A sine's true peak is its amplitude.
        #expect(abs(loudness.truePeakDBTP - -23) <= 0.1, "\(loudness)")
        #expect(try LoudnessMeter.measure(path: url.path) == loudness)
    }

    @Test("A mono file reads as the stereo it is played as (copied to both channels), not 3 LU quieter")
    func monoCountsTwice() throws {
        let fixtures = try Fixtures()
        let mono = try fixtures.synth("mono.wav", seconds: 10, rate: 44100, channels: 1, ["sine", "997", "vol", "-23dB"])
        let stereo = try fixtures.synth("stereo.wav", seconds: 10, rate: 44100, channels: 2, ["sine", "997", "vol", "-23dB"])
        let monoLoudness = try LoudnessMeter.measure(path: mono.path)
        let stereoLoudness = try LoudnessMeter.measure(path: stereo.path)
        #expect(abs(monoLoudness.integratedLUFS - -23) <= 0.1, "\(monoLoudness)")
        #expect(abs(monoLoudness.integratedLUFS - stereoLoudness.integratedLUFS) <= 0.05)
    }

    @Test("Digital silence reads as silent with floor values, and gets no gain")
    func silence() throws {
        let fixtures = try Fixtures()
        let url = try fixtures.synth("lang.wav", seconds: 2, ["sine", "1000", "vol", "0"])
        let loudness = try LoudnessMeter.measure(path: url.path)
        #expect(loudness == Loudness(integratedLUFS: Loudness.silenceLUFS, truePeakDBTP: Loudness.floorDBTP))
        #expect(loudness.playoutGainDB(targetLUFS: -16) == 0)
    }

    @Test("Buffers fed in pieces read the same as a file: the meter measures a stream")
    func streamMeasurement() throws {
        let meter = try LoudnessMeter(sampleRate: 48000, channels: 2)
        var buffer = [Float](repeating: 0, count: 4800 * 2)
        let amplitude = Float(pow(10, -23.0 / 20))
        for block in 0..<200 {
            for i in 0..<4800 {
                let t = Double(block * 4800 + i) / 48000
                let v = amplitude * Float(sin(2 * .pi * 997 * t))
                buffer[2 * i] = v
                buffer[2 * i + 1] = v
            }
            try meter.add(buffer, frames: 4800)
        }
        #expect(abs(meter.loudness.integratedLUFS - -23) <= 0.1, "\(meter.loudness)")
    }
}
