import Foundation
import LoaAudio
import Testing

/// Recordings as officers make them: what phones' recorders write and messaging apps send, which libsndfile refuses.
@Suite("Decoding what libsndfile refuses with FFmpeg: M4A/AAC, raw AAC, WebM/Opus, AMR, WMA")
struct FFmpegFileTests {
    /// A recording of each kind, made by `ffmpeg` (and sox, for AMR-NB: Debian's FFmpeg has no AMR encoder) from the
    /// same 3 s sweep; the format FFmpeg reads it as; how far its decoded length may be from 3 s, and how far its
    /// first sound from the sweep's (nil: the format does not say where the audio starts, raw AAC's priming stays).
    struct Kind: Sendable, CustomTestStringConvertible {
        let name: String
        let format: String
        let lengthToleranceMs: Double
        let onsetToleranceMs: Double?
        /// How alike the decoded sweep and the original are at least (normalised correlation).
        let likeness: Double
        /// How far its loudness may be from the original's: AMR, a speech codec, tilts the sweep's top down.
        var loudnessToleranceLU = 0.5
        var testDescription: String { name }
    }

    static let kinds: [Kind] = [
        Kind(name: "t.m4a", format: "MP4/AAC", lengthToleranceMs: 1, onsetToleranceMs: 0.5, likeness: 0.99),
        Kind(name: "t.aac", format: "ADTS/AAC", lengthToleranceMs: 50, onsetToleranceMs: nil, likeness: 0.99),
        Kind(name: "t.webm", format: "WEBM/OPUS", lengthToleranceMs: 1, onsetToleranceMs: 0.5, likeness: 0.98),
        Kind(name: "t.amr", format: "AMR/AMR_NB", lengthToleranceMs: 20, onsetToleranceMs: nil, likeness: 0.8, loudnessToleranceLU: 2),
        Kind(name: "t.wma", format: "ASF/WMAV2", lengthToleranceMs: 50, onsetToleranceMs: nil, likeness: 0.99),
        Kind(name: "video.mp4", format: "MP4/AAC", lengthToleranceMs: 1, onsetToleranceMs: 0.5, likeness: 0.99),
    ]

    /// The sweep every recording is made from: 300 Hz to 3 kHz (inside AMR-NB's band) over 3 s, mono, half scale.
    static func sweep(_ fixtures: Fixtures, rate: Int = 44100) throws -> URL {
        let url = fixtures.folder.appendingPathComponent("nguon-\(rate).wav")
        try fixtures.run("/usr/bin/sox", ["-n", "-r", "\(rate)", "-c", "1", "-b", "16", url.path, "synth", "3", "sine", "300-3000", "vol", "0.5"])
        return url
    }

    /// `kind`'s recording of the sweep, as `name` in the fixtures' folder.
    static func recording(_ fixtures: Fixtures, _ name: String, from source: URL? = nil) throws -> URL {
        let source = try source ?? sweep(fixtures)
        let url = fixtures.folder.appendingPathComponent(name)
        let quiet = ["-hide_banner", "-loglevel", "error", "-y"]
        switch (name as NSString).pathExtension {
        case "m4a": try fixtures.run("/usr/bin/ffmpeg", quiet + ["-i", source.path, "-c:a", "aac", "-b:a", "128k", url.path])
        case "aac": try fixtures.run("/usr/bin/ffmpeg", quiet + ["-i", source.path, "-c:a", "aac", "-b:a", "128k", "-f", "adts", url.path])
        case "webm": try fixtures.run("/usr/bin/ffmpeg", quiet + ["-i", source.path, "-c:a", "libopus", "-b:a", "96k", url.path])
        case "opus": try fixtures.run("/usr/bin/ffmpeg", quiet + ["-i", source.path, "-c:a", "libopus", "-b:a", "96k", url.path])
        case "wma": try fixtures.run("/usr/bin/ffmpeg", quiet + ["-i", source.path, "-c:a", "wmav2", "-b:a", "128k", url.path])
        case "amr":
            let narrow = try sweep(fixtures, rate: 8000)
            try fixtures.run("/usr/bin/sox", [narrow.path, "-t", "amr-nb", "-C", "7", url.path])
        case "mp4":
            // A phone's video message: pictures and the sweep as AAC.
            try fixtures.run("/usr/bin/ffmpeg", quiet + ["-f", "lavfi", "-i", "testsrc=s=64x64:r=5:d=3", "-i", source.path,
                                                         "-c:v", "libx264", "-c:a", "aac", "-b:a", "128k", "-shortest", url.path])
        default: Issue.record("no recipe for \(name)")
        }
        return url
    }

    /// Where `decoded` best matches `reference` (both 48 kHz stereo, left channel compared) within ±`maxLag` frames,
    /// over a quarter second from 1 s in, and how alike they are there (normalised correlation, 1 = the same shape).
    static func alignment(_ decoded: [Float], _ reference: [Float], maxLag: Int = 2400) -> (lagFrames: Int, likeness: Double) {
        let start = 48000, length = 12000
        var best = (lagFrames: 0, likeness: -1.0)
        guard decoded.count / 2 > start + length + maxLag, reference.count / 2 > start + length else { return best }
        decoded.withUnsafeBufferPointer { d in
            reference.withUnsafeBufferPointer { r in
                var referenceEnergy = 0.0
                for i in 0..<length { referenceEnergy += Double(r[2 * (start + i)] * r[2 * (start + i)]) }
                for lag in -maxLag...maxLag {
                    var product = 0.0, energy = 0.0
                    for i in 0..<length {
                        let a = Double(d[2 * (start + lag + i)]), b = Double(r[2 * (start + i)])
                        product += a * b
                        energy += a * a
                    }
                    let likeness = product / max(1e-12, (energy * referenceEnergy).squareRoot())
                    if likeness > best.likeness { best = (lag, likeness) }
                }
            }
        }
        return best
    }

    @Test("A recording libsndfile refuses is decoded by FFmpeg: its format named, its length counted by decoding, its loudness measured, its audio the original's, its playout copy what playout makes of it",
          arguments: kinds)
    func decodesRecordings(kind: Kind) throws {
        let fixtures = try Fixtures()
        let source = try Self.sweep(fixtures)
        let url = try Self.recording(fixtures, kind.name, from: source)
        let copy = fixtures.folder.appendingPathComponent(".playout/t.wav").path
        let info = try SndFileDecoder.probe(path: url.path, playoutCopy: copy)
        #expect(info.format == kind.format, "\(info)")
        let lengthErrorMs = abs(info.durationSeconds - 3) * 1000
        #expect(lengthErrorMs <= kind.lengthToleranceMs, "\(kind.name): \(info.durationSeconds) s decoded")
        // Measured as the original measures, within what the codec changes.
        let loudness = try #require(info.loudness)
        let original = try #require(try SndFileDecoder.probe(path: kind.name.hasSuffix(".amr") ? Self.sweep(fixtures, rate: 8000).path : source.path).loudness)
        #expect(abs(loudness.integratedLUFS - original.integratedLUFS) < kind.loudnessToleranceLU, "\(kind.name): \(loudness) vs \(original)")
        #expect(info.missingWarning == nil, "\(kind.name): \(info.missingWarning ?? "")")

        let decoded = try decodeAll(url.path)
        #expect(abs(Double(decoded.count / 2) / 48000 - info.durationSeconds) < 0.001)
        let (lag, likeness) = Self.alignment(decoded, try decodeAll(source.path))
        #expect(likeness >= kind.likeness, "\(kind.name): likeness \(likeness) at \(Double(lag) / 48) ms")
        if let onset = kind.onsetToleranceMs {
            #expect(abs(Double(lag) / 48) <= onset, "\(kind.name): the original's first sample is \(Double(lag) / 48) ms late")
        }

        // The copy is what playout makes of the recording, within 16-bit rounding.
        let fromCopy = try decodeAll(copy)
        #expect(fromCopy.count == decoded.count, "\(fromCopy.count) vs \(decoded.count)")
        let worst = zip(decoded, fromCopy).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 1.0 / 32768 + 1e-6, "\(kind.name): copy differs from playout by \(worst)")
        #expect(PlayoutCopyWriter.isSane(path: copy, durationSeconds: info.durationSeconds, channels: info.channels))
    }

    @Test("AMR-WB (16 kHz) decodes to its frames' length: 150 frames of 20 ms are 3 s")
    func decodesWidebandAMR() throws {
        let fixtures = try Fixtures()
        // No encoder for AMR-WB here: frames of mode 0 (6.60 kb/s, 17 bytes after the header byte) with arbitrary bits,
        // which decode to 320 samples each like any speech frame.
        var bytes = Data("#!AMR-WB\n".utf8)
        var state: UInt32 = 12345
        for _ in 0..<150 {
            bytes.append(0x04)
            for _ in 0..<17 {
                state = state &* 1_103_515_245 &+ 12345
                bytes.append(UInt8(truncatingIfNeeded: state >> 16))
            }
        }
        let url = fixtures.folder.appendingPathComponent("ghi-am.amr")
        try bytes.write(to: url)
        let info = try SndFileDecoder.probe(path: url.path)
        #expect(info.format == "AMR/AMR_WB" && info.sampleRate == 16000 && info.channels == 1, "\(info)")
        #expect(info.frames == 48000, "\(info)")
        #expect(info.loudness.map { $0.integratedLUFS.isFinite } == true, "\(info)")
    }

    @Test("Ogg Opus, WAV, MP3, FLAC and Ogg Vorbis stay libsndfile's")
    func libsndfileFirst() throws {
        let fixtures = try Fixtures()
        let opus = try Self.recording(fixtures, "t.opus")
        // libsndfile names Ogg Opus by its extension, .oga.
        #expect(try SndFileDecoder.probe(path: opus.path).format == "OGA/Opus")
        for (name, format) in [("t.wav", "WAV/Signed "), ("t.flac", "FLAC/Signed "), ("t.ogg", "OGA/Vorbis")] {
            let url = try fixtures.tone(name, frequency: 440, seconds: 1, rate: 44100)
            let named = try SndFileDecoder.probe(path: url.path).format
            #expect(named.hasPrefix(format), "\(name): \(named)")
        }
        let mp3 = fixtures.folder.appendingPathComponent("t.mp3")
        try fixtures.run("/usr/bin/lame", ["--quiet", "-b", "128", fixtures.folder.appendingPathComponent("t.wav").path, mp3.path])
        #expect(try SndFileDecoder.probe(path: mp3.path).format == "M1A/MPEG Layer III")
    }

    @Test("A length the container only guesses from the bit rate (raw AAC, AMR) is the frames decoded, not the guess")
    func lengthIsDecoded() throws {
        let fixtures = try Fixtures()
        for name in ["t.aac", "t.amr"] {
            let url = try Self.recording(fixtures, name)
            let info = try SndFileDecoder.probe(path: url.path)
            // ffprobe says 3.20 s for the raw AAC and 3.10 s for the AMR.
            #expect(abs(info.durationSeconds - 3) <= 0.05, "\(name): \(info.durationSeconds) s")
            #expect(info.missingWarning == nil, "\(name): \(info.missingWarning ?? "")")
        }
    }

    @Test("An M4A cut short with its index first decodes as far as it goes, and says how much is missing")
    func cutM4AWarns() throws {
        let fixtures = try Fixtures()
        let source = try Self.sweep(fixtures)
        let whole = fixtures.folder.appendingPathComponent("tron.m4a")
        try fixtures.run("/usr/bin/ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", source.path, "-c:a", "aac",
                                             "-movflags", "+faststart", whole.path])
        let bytes = try Data(contentsOf: whole)
        let cut = fixtures.folder.appendingPathComponent("cut.m4a")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let info = try SndFileDecoder.probe(path: cut.path)
        #expect(info.durationSeconds > 1 && info.durationSeconds < 2, "\(info)")
        #expect(info.missingWarning?.hasPrefix("tệp kết thúc sớm: phần đầu tệp ghi 3,0 giây") == true, "\(info)")
    }

    /// A bad recording, what it is made of, and the words its refusal must say.
    struct BadInput: Sendable, CustomTestStringConvertible {
        let name: String
        let words: String
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "ngat.m4a", words: "thiếu phần mục lục (moov)"),
        BadInput(name: "rac.m4a", words: "không phải tệp âm thanh Loa đọc được"),
        BadInput(name: "chi-hinh.mp4", words: "tệp không có luồng âm thanh"),
        BadInput(name: "rong.m4a", words: "tệp rỗng (0 byte)"),
        BadInput(name: "danh-sach.m4a", words: "không phải tệp âm thanh Loa đọc được"),
        BadInput(name: "ghep.m4a", words: "không phải tệp âm thanh Loa đọc được"),
    ]

    /// Makes `bad`'s file in `fixtures`' folder.
    static func make(_ bad: BadInput, in fixtures: Fixtures) throws -> URL {
        let url = fixtures.folder.appendingPathComponent(bad.name)
        let quiet = ["-hide_banner", "-loglevel", "error", "-y"]
        switch bad.name {
        case "ngat.m4a":
            // A recorder stopped before it wrote its index, which FFmpeg, like phones, puts at the end.
            let whole = try recording(fixtures, "tron.m4a")
            let bytes = try Data(contentsOf: whole)
            try bytes.prefix(bytes.count * 2 / 3).write(to: url)
        case "rac.m4a":
            try Data((0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: url)
        case "chi-hinh.mp4":
            try fixtures.run("/usr/bin/ffmpeg", quiet + ["-f", "lavfi", "-i", "testsrc=s=64x64:r=5:d=2", "-c:v", "libx264", "-an", url.path])
        case "rong.m4a":
            try Data().write(to: url)
        case "danh-sach.m4a":
            // A playlist naming a file beside it: were it followed, a path would leave the file for another.
            _ = try sweep(fixtures)
            try "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\nnguon-44100.wav\n#EXT-X-ENDLIST\n".write(to: url, atomically: true, encoding: .utf8)
        case "ghep.m4a":
            _ = try sweep(fixtures)
            try "ffconcat version 1.0\nfile nguon-44100.wav\n".write(to: url, atomically: true, encoding: .utf8)
        default: Issue.record("no recipe for \(bad.name)")
        }
        return url
    }

    @Test("A bad recording is refused in one line naming it, and leaves no playout copy, not even a temporary one",
          arguments: badInputs)
    func refusesBadRecordings(bad: BadInput) throws {
        let fixtures = try Fixtures()
        let url = try Self.make(bad, in: fixtures)
        let folder = fixtures.folder.appendingPathComponent(".playout")
        do {
            let info = try SndFileDecoder.probe(path: url.path, playoutCopy: folder.appendingPathComponent("x.wav").path)
            Issue.record("\(bad.name) was taken: \(info)")
        } catch {
            #expect(error.description.hasPrefix("\(url.path): không giải mã được: ") && error.description.contains(bad.words),
                    "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] == [])
        #expect(throws: AudioError.self) { try SndFileDecoder(path: url.path) }
    }

    @Test("Joined mid-file, an M4A is decoded and dropped up to the entry, and gives the frames a decode from the start gives there")
    func joinMidFile() throws {
        let fixtures = try Fixtures()
        let url = try Self.recording(fixtures, "t.m4a")
        let expected = try decodeAll(url.path)
        let offset = 48000 + 1234
        let source = try FileSource(path: url.path, startFrame: offset)
        defer { source.close() }
        let (samples, end) = FileSourceTests.readAll(source)
        #expect(end == .ended)
        #expect(source.entry == .decodeAndSkip)
        let same = samples[...] == expected[(offset * 2)...]
        #expect(same, "\(samples.count) samples vs \(expected.count - offset * 2)")
    }
}
