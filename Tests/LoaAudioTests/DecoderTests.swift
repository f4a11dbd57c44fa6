import Foundation
import LoaAudio
import Testing

@Suite("Decoding with libsndfile and libsoxr")
struct DecoderTests {
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
        let samples = try decodeAll(url.path)
        let seconds = Double(samples.count / 2) / 48000
        #expect(abs(seconds - info.durationSeconds) < 0.002, "\(seconds) vs \(info.durationSeconds)")
        // Mono is copied to both channels, at the tone's level (0.5 peak).
        let peak = samples.map(abs).max() ?? 0
        #expect(peak > 0.45 && peak < 0.56, "\(peak)")
        let middle = samples.count / 2 & ~1
        #expect(abs(samples[middle] - samples[middle + 1]) < 1e-6)
    }

    /// A tone that starts at the file's first sample, in every format and rate a station receives.
    static let onsetCases: [(format: String, rate: Int)] = ["wav", "flac", "mp3"].flatMap { format in
        [22050, 44100, 48000].map { (format, $0) }
    }

    @Test("The file's first sound is the first output frame (±0.5 ms) and its length is kept (±1 ms), whatever the format and rate",
          arguments: onsetCases)
    func firstSoundAtFrameZero(format: String, rate: Int) throws {
        let fixtures = try Fixtures()
        let seconds = 2.0
        // Stereo at 44.1 kHz, mono otherwise: both the channel-widening and the straight paths.
        let channels = rate == 44100 ? 2 : 1
        var url = try fixtures.tone(format == "mp3" ? "src.wav" : "t.\(format)", frequency: 440, seconds: seconds,
                                    rate: rate, channels: channels)
        if format == "mp3" {
            let wav = url
            url = fixtures.folder.appendingPathComponent("t.mp3")
            try fixtures.run("/usr/bin/lame", ["--quiet", "-b", "128", wav.path, url.path])
        }
        let samples = try decodeAll(url.path)
        // -40 dBFS: the sine's second sample is already above it at every rate here, so the tone starts at frame 1.
        let first = try #require(samples.firstIndex { abs($0) > 0.01 }) / 2
        let firstMs = Double(first) / 48
        #expect(firstMs <= 0.5, "\(format) \(rate) Hz: first sound at \(firstMs) ms")
        let lengthMs = Double(samples.count / 2) / 48
        #expect(abs(lengthMs - seconds * 1000) <= 1, "\(format) \(rate) Hz: \(lengthMs) ms decoded")
    }

    @Test("A decode error is thrown only after every good frame before it, the resampler's tail included")
    func errorAfterTheGoodFrames() throws {
        let fixtures = try Fixtures()
        let whole = try fixtures.tone("t.flac", frequency: 440, seconds: 4, rate: 44100, channels: 2)
        let cut = fixtures.folder.appendingPathComponent("cut.flac")
        let bytes = try Data(contentsOf: whole)
        try bytes.prefix(bytes.count / 2).write(to: cut)
        /// Frames `cut` decodes to at `rate` before the decoder throws.
        func framesBeforeFailure(rate: Int) throws -> Int {
            let decoder = try SndFileDecoder(path: cut.path, output: AudioFormat(sampleRate: rate, channels: 2))
            var buffer = [Float](repeating: 0, count: 1000 * 2)
            var frames = 0
            do {
                while case let n = try buffer.withUnsafeMutableBufferPointer({ (out) throws(AudioError) -> Int in
                    guard let base = out.baseAddress else { return 0 }
                    return try decoder.read(into: base, frames: 1000)
                }), n > 0 { frames += n }
            } catch {
                #expect(error.description.hasPrefix(cut.path + ": không giải mã được"))
                return frames
            }
            Issue.record("a FLAC cut in half decoded to its end without an error")
            return frames
        }
        // At the file's own rate, libsndfile's frames as they come; at 48 kHz, the same stretch resampled, to the frame.
        let native = try framesBeforeFailure(rate: 44100)
        let resampled = try framesBeforeFailure(rate: 48000)
        #expect(native > 44100 * 3 / 2, "\(native)")
        #expect(abs(resampled - native * 48000 / 44100) <= 2, "\(resampled) frames at 48 kHz for \(native) at 44.1 kHz")
    }

    /// Read system calls this thread has made (Linux's per-thread I/O accounting).
    static func readCalls() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("syscr:") }.flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
    }

    @Test("A seek three minutes into an MP3 reads the file in 64 KB pieces, not one read per frame header")
    func deepSeekIsBuffered() throws {
        let fixtures = try Fixtures()
        let wav = try fixtures.tone("src.wav", frequency: 440, seconds: 180, rate: 44100, channels: 2)
        let url = fixtures.folder.appendingPathComponent("dai.mp3")
        try fixtures.run("/usr/bin/lame", ["--quiet", "-b", "128", wav.path, url.path])
        let decoder = try SndFileDecoder(path: url.path)
        let before = try #require(Self.readCalls())
        #expect(try decoder.seek(toFrame: 170 * 48000))
        let calls = try #require(Self.readCalls()) - before
        // 2.7 MB before the entry: 42 reads of 64 KB; libmpg123 alone asks twice for each of its 6,500 frames.
        #expect(calls < 200, "\(calls) reads for the seek")
        var buffer = [Float](repeating: 0, count: 2 * 4800)
        let n = try buffer.withUnsafeMutableBufferPointer { (out) throws(AudioError) -> Int in
            guard let base = out.baseAddress else { return 0 }
            return try decoder.read(into: base, frames: 4800)
        }
        #expect(n == 4800)
        #expect((buffer.map(abs).max() ?? 0) > 0.4)
    }

    @Test("An MP3 with junk before its first frame, which libsndfile knows only by its name, still decodes whole")
    func mp3KnownByItsName() throws {
        let fixtures = try Fixtures()
        let wav = try fixtures.tone("src.wav", frequency: 440, seconds: 2, rate: 44100, channels: 2)
        let clean = fixtures.folder.appendingPathComponent("sach.mp3")
        try fixtures.run("/usr/bin/lame", ["--quiet", "-b", "128", wav.path, clean.path])
        let junk = fixtures.folder.appendingPathComponent("rac-dau.mp3")
        try (Data(repeating: 0, count: 3000) + Data(contentsOf: clean)).write(to: junk)
        let expected = try decodeAll(clean.path), samples = try decodeAll(junk.path)
        #expect(samples.count == expected.count)
        let same = samples == expected
        #expect(same)
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
