import Foundation
import LoaAudio
import Testing

@Suite("Decoding with libsndfile and libsamplerate")
struct DecoderTests {
    func decodeAll(_ url: URL) throws -> [Float] {
        let decoder = try SndFileDecoder(path: url.path)
        var all: [Float] = []
        var buffer = [Float](repeating: 0, count: 4096 * 2)
        while true {
            let n = try buffer.withUnsafeMutableBufferPointer { try decoder.read(into: $0.baseAddress!, frames: 4096) }
            if n == 0 { break }
            all += buffer[0..<(n * 2)]
        }
        return all
    }

    @Test("WAV, MP3, FLAC and Ogg decode to 48 kHz stereo of the right length",
          arguments: [("t.wav", 44100), ("t.mp3", 44100), ("t.flac", 22050), ("t.ogg", 48000), ("t48.wav", 48000)])
    func decodesEveryFormat(name: String, rate: Int) throws {
        let fixtures = try Fixtures()
        let wav = try fixtures.tone(name.hasSuffix(".mp3") ? "src.wav" : name, frequency: 440, seconds: 2, rate: rate)
        var url = wav
        if name.hasSuffix(".mp3") {
            url = fixtures.folder.appendingPathComponent(name)
            try fixtures.run("/usr/bin/lame", ["--quiet", "-b", "128", wav.path, url.path])
        }
        let info = try SndFileDecoder.probe(path: url.path)
        // MP3 carries encoder padding; the others are exact.
        #expect(abs(info.durationSeconds - 2) < (name.hasSuffix(".mp3") ? 0.06 : 0.001), "\(info)")
        let samples = try decodeAll(url)
        let seconds = Double(samples.count / 2) / 48000
        #expect(abs(seconds - info.durationSeconds) < 0.002, "\(seconds) vs \(info.durationSeconds)")
        // Mono is copied to both channels, at the tone's level (0.5 peak).
        let peak = samples.map(abs).max() ?? 0
        #expect(peak > 0.45 && peak < 0.56, "\(peak)")
        let middle = samples.count / 2 & ~1
        #expect(abs(samples[middle] - samples[middle + 1]) < 1e-6)
    }

    @Test("A file libsndfile cannot decode is refused, naming the file")
    func refusesGarbage() throws {
        let fixtures = try Fixtures()
        let url = fixtures.folder.appendingPathComponent("rac.mp3")
        try Data((0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: url)
        #expect(throws: AudioError.self) { try SndFileDecoder.probe(path: url.path) }
        do { _ = try SndFileDecoder.probe(path: url.path) } catch {
            #expect(error.description.hasPrefix(url.path + ": không giải mã được"))
        }
    }
}
