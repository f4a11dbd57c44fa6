import Foundation
import LoaAudio
import Testing

@Suite("The playout copy written in the import's decode pass")
struct PlayoutCopyTests {
    func source(_ fixtures: Fixtures, format: String, rate: Int, channels: Int) throws -> URL {
        let url = try fixtures.tone(format == "mp3" ? "src.wav" : "t.\(format)", frequency: 440, seconds: 2, rate: rate, channels: channels)
        guard format == "mp3" else { return url }
        let mp3 = fixtures.folder.appendingPathComponent("t.mp3")
        try fixtures.run("/usr/bin/lame", ["--quiet", "-b", "128", url.path, mp3.path])
        return mp3
    }

    @Test("The copy is 48 kHz 16-bit WAV with the file's channels, its length (±1 ms), its first sound at frame 0, and the samples playout would make",
          arguments: DecoderTests.onsetCases)
    func copyMatchesPlayout(format: String, rate: Int) throws {
        let fixtures = try Fixtures()
        let channels = rate == 44100 ? 2 : 1
        let original = try source(fixtures, format: format, rate: rate, channels: channels)
        let copy = fixtures.folder.appendingPathComponent(".playout/t.wav").path
        let info = try SndFileDecoder.probe(path: original.path, playoutCopy: copy)

        let copied = try SndFileDecoder.probe(path: copy)
        #expect(copied.sampleRate == 48000 && copied.channels == channels && copied.format == "WAV/Signed 16 bit PCM", "\(copied)")
        #expect(abs(copied.durationSeconds - info.durationSeconds) * 1000 <= 1, "\(format) \(rate) Hz: \(copied.durationSeconds) s vs \(info.durationSeconds) s")
        #expect(PlayoutCopyWriter.isSane(path: copy, durationSeconds: info.durationSeconds, channels: info.channels))
        // The loudness is the original's, measured in the same pass.
        #expect(info.loudness == (try SndFileDecoder.probe(path: original.path)).loudness)

        let fromCopy = try decodeAll(copy)
        let first = try #require(fromCopy.firstIndex { abs($0) > 0.01 }) / 2
        #expect(Double(first) / 48 <= 0.5, "\(format) \(rate) Hz: first sound at \(Double(first) / 48) ms")
        // What playout made from the original, within 16-bit rounding.
        let live = try decodeAll(original.path)
        #expect(live.count == fromCopy.count, "\(live.count) vs \(fromCopy.count)")
        let worst = zip(live, fromCopy).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 1.0 / 32768 + 1e-6, "\(format) \(rate) Hz: differs from playout by \(worst)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixtures.folder.appendingPathComponent(".playout").path)
        #expect(leftovers == ["t.wav"], "\(leftovers)")
    }

    @Test("A file that does not decode leaves no copy, not even a temporary one")
    func failedDecodeLeavesNothing() throws {
        let fixtures = try Fixtures()
        let url = fixtures.folder.appendingPathComponent("rac.wav")
        // A well-formed 16-bit mono WAV with no samples: it opens, so the copy is begun, and then fails the probe.
        var header = Data("RIFF".utf8)
        func le(_ value: UInt32, _ bytes: Int) { header += withUnsafeBytes(of: value.littleEndian) { Data($0.prefix(bytes)) } }
        le(36, 4); header += Data("WAVEfmt ".utf8); le(16, 4); le(1, 2); le(1, 2); le(44100, 4); le(88200, 4); le(2, 2); le(16, 2)
        header += Data("data".utf8); le(0, 4)
        try header.write(to: url)
        let folder = fixtures.folder.appendingPathComponent(".playout")
        #expect(throws: AudioError.self) { try SndFileDecoder.probe(path: url.path, playoutCopy: folder.appendingPathComponent("x.wav").path) }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] == [])
    }

    @Test("A copy cut short, or missing, is not sane")
    func truncatedCopyIsNotSane() throws {
        let fixtures = try Fixtures()
        let original = try fixtures.tone("t.flac", frequency: 440, seconds: 2, rate: 44100)
        let copy = fixtures.folder.appendingPathComponent("c.wav")
        let info = try SndFileDecoder.probe(path: original.path, playoutCopy: copy.path)
        #expect(PlayoutCopyWriter.isSane(path: copy.path, durationSeconds: info.durationSeconds, channels: 1))
        let handle = try FileHandle(forWritingTo: copy)
        try handle.truncate(atOffset: 44 + 48000 * 2)
        try handle.close()
        #expect(!PlayoutCopyWriter.isSane(path: copy.path, durationSeconds: info.durationSeconds, channels: 1))
        #expect(!PlayoutCopyWriter.isSane(path: copy.path + ".khong-co", durationSeconds: info.durationSeconds, channels: 1))
    }
}
