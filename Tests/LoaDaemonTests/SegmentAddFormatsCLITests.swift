import Foundation
import LoaAudio
import Testing

/// `loa segment add` with recordings as officers make them: a phone's recorder (M4A/AAC, AMR), a messaging app's
/// voice message (WebM/Opus, raw AAC), an old PC's WMA.
@Suite("loa segment add: M4A/AAC, raw AAC, WebM/Opus, AMR and WMA recordings")
struct SegmentAddFormatsCLITests {
    /// The file's name, the format `segment list` must show, and how far the copy's level may be from the tone's.
    struct Kind: Sendable, CustomTestStringConvertible {
        let name: String
        let format: String
        var levelToleranceDB = 0.5
        var testDescription: String { name }
    }

    static let kinds: [Kind] = [
        Kind(name: "ghi-am.m4a", format: "MP4/AAC"),
        Kind(name: "tin-nhan.aac", format: "ADTS/AAC"),
        Kind(name: "tin-nhan-thoai.webm", format: "WEBM/OPUS"),
        // A speech codec at 8 kHz: the tone keeps its pitch; sox's AMR-NB at 12.2 kb/s gives it back 2.8 dB quieter.
        Kind(name: "ghi-am.amr", format: "AMR/AMR_NB", levelToleranceDB: 3.5),
        Kind(name: "ban-tin.wma", format: "ASF/WMAV2"),
    ]

    static let seconds = 4.0, frequency = 440.0, amplitude = 0.25

    /// The 440 Hz tone at a quarter of full scale, mono (8 kHz for AMR, 44.1 kHz for the others), recorded as `name`.
    static func recording(_ name: String, in folder: URL) async throws -> (recording: URL, original: URL) {
        let amr = name.hasSuffix(".amr")
        let original = folder.appendingPathComponent("nguon.wav"), url = folder.appendingPathComponent(name)
        let made = try await Harness.run("/usr/bin/sox", ["-n", "-r", amr ? "8000" : "44100", "-c", "1", "-b", "16", original.path,
                                                          "synth", "\(seconds)", "sine", "\(Int(frequency))", "vol", "\(amplitude)"])
        try #require(made.status == 0, "\(made.err)")
        let codec: [String] = switch (name as NSString).pathExtension {
        case "m4a": ["-c:a", "aac"]
        case "aac": ["-c:a", "aac", "-f", "adts"]
        case "webm": ["-c:a", "libopus"]
        default: ["-c:a", "wmav2"]
        }
        // Debian's FFmpeg has no AMR encoder; sox writes AMR-NB through libopencore-amrnb.
        let encoded = amr
            ? try await Harness.run("/usr/bin/sox", [original.path, "-t", "amr-nb", "-C", "7", url.path])
            : try await Harness.run("/usr/bin/ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", original.path] + codec + [url.path])
        try #require(encoded.status == 0, "\(encoded.err)")
        return (url, original)
    }

    /// The 48 kHz samples of `path`'s first channel, as playout reads them.
    static func samples(_ path: String) throws -> [Float] {
        let decoder = try SndFileDecoder(path: path)
        var all: [Float] = [], buffer = [Float](repeating: 0, count: 4096 * 2)
        while case let n = try buffer.withUnsafeMutableBufferPointer({ (out) throws(AudioError) -> Int in
            guard let base = out.baseAddress else { return 0 }
            return try decoder.read(into: base, frames: 4096)
        }), n > 0 {
            all += stride(from: 0, to: n * 2, by: 2).map { buffer[$0] }
        }
        return all
    }

    struct Listed: Decodable {
        let id: String, path: String, format: String, duration_seconds: Double, sha256: String, loudness_lufs: Double?
    }

    @Test("A recording is imported: its format named, its length decoded, its loudness measured, its playout copy written with the recording's sound",
          arguments: kinds)
    func importsRecording(kind: Kind) async throws {
        let station = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let outside = try Harness.temporaryFolder("loa-ghi-am")
        defer { try? FileManager.default.removeItem(at: outside) }
        let (recording, original) = try await Self.recording(kind.name, in: outside)

        let added = try await station.loaCommand(["segment", "add", recording.path, "--title", "Ghi âm \(kind.name)"])
        #expect(added.status == 0, "\(added.err)")
        #expect(added.out.contains(", \(kind.format), \(kind.name)\n"), "\(added.out)")
        #expect(added.out.contains("Độ to: "), "\(added.out)")
        // No warning, and none of FFmpeg's own notes (`[aac @ 0x…] …`): only the line saying the database was made.
        #expect(!added.err.contains("⚠") && !added.err.contains(" @ 0x"), "\(added.err)")

        let list = try await station.loaCommand(["segment", "list", "--json"])
        let segment = try #require(try JSONDecoder().decode([Listed].self, from: Data(list.out.utf8)).first, "\(list.out)")
        #expect(segment.format == kind.format && segment.path == kind.name, "\(segment)")
        #expect(abs(segment.duration_seconds - Self.seconds) <= 0.05, "\(kind.name): \(segment.duration_seconds) s")
        // The recording's loudness is the tone's, within what the codec changes.
        let toneLoudness = try #require(try SndFileDecoder.probe(path: original.path).loudness?.integratedLUFS)
        let loudness = try #require(segment.loudness_lufs, "\(segment)")
        #expect(abs(loudness - toneLoudness) <= kind.levelToleranceDB, "\(kind.name): \(loudness) LUFS, the tone \(toneLoudness)")
        // The original is kept as it came, byte for byte.
        #expect(try Data(contentsOf: station.audio.appendingPathComponent(kind.name)) == Data(contentsOf: recording))

        // The playout copy: 48 kHz 16-bit WAV of the recording's length, and the tone in it, at its pitch and level.
        let copy = station.audio.appendingPathComponent(".playout/\(segment.sha256).wav").path
        let info = try SndFileDecoder.probe(path: copy)
        #expect(info.format == "WAV/Signed 16 bit PCM" && info.sampleRate == 48000 && info.channels == 1, "\(info)")
        #expect(abs(info.durationSeconds - segment.duration_seconds) <= 0.001, "\(info.durationSeconds) vs \(segment.duration_seconds)")
        let middle = Array(try Self.samples(copy)[48000..<(3 * 48000)])
        let rms = (middle.reduce(0.0) { $0 + Double($1 * $1) } / Double(middle.count)).squareRoot()
        let levelDB = 20 * log10(rms / (Self.amplitude / 2.0.squareRoot()))
        #expect(abs(levelDB) <= kind.levelToleranceDB, "\(kind.name): the copy's tone is \(levelDB) dB from the original's")
        let crossings = zip(middle, middle.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        let pitch = Double(crossings) / 2 / 2
        #expect(abs(pitch - Self.frequency) <= 2, "\(kind.name): the copy's tone is \(pitch) Hz")
    }

    @Test("A bad recording (an M4A without its index, garbage named .m4a, a video without sound, an empty file) is one line naming it, exit 1, and nothing in the library or the audio folder",
          arguments: ["ngat.m4a", "rac.m4a", "chi-hinh.mp4", "rong.m4a"])
    func refusesBadRecording(name: String) async throws {
        let station = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let outside = try Harness.temporaryFolder("loa-hong")
        defer { try? FileManager.default.removeItem(at: outside) }
        let url = outside.appendingPathComponent(name)
        let quiet = ["-hide_banner", "-loglevel", "error", "-y"]
        var words = "không phải tệp âm thanh Loa đọc được"
        switch name {
        case "ngat.m4a":
            // A phone's recorder stopped before it wrote its index, which it writes last.
            let (whole, _) = try await Self.recording("tron.m4a", in: outside)
            let bytes = try Data(contentsOf: whole)
            try bytes.prefix(bytes.count * 2 / 3).write(to: url)
            words = "tệp MP4/M4A thiếu phần mục lục (moov): bản ghi bị ngắt khi đang ghi, hoặc tệp chép chưa hết; chép lại bản đầy đủ"
        case "rac.m4a":
            try Data((0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: url)
        case "chi-hinh.mp4":
            let made = try await Harness.run("/usr/bin/ffmpeg", quiet + ["-f", "lavfi", "-i", "testsrc=s=64x64:r=5:d=2", "-c:v", "libx264", "-an", url.path])
            try #require(made.status == 0, "\(made.err)")
            words = "tệp không có luồng âm thanh (chỉ có hình, hoặc không phải bản ghi âm)"
        default:
            try Data().write(to: url)
            words = "tệp rỗng (0 byte)"
        }
        let refused = try await station.loaCommand(["segment", "add", url.path, "--title", "Hỏng"])
        #expect(refused.status == 1)
        #expect(refused.err.hasPrefix("loa: \(url.path): không giải mã được: \(words)"), "\(refused.err)")
        #expect(refused.err.split(separator: "\n").count == 1, "\(refused.err)")
        // Nothing written: no database made for nothing, no file under the audio folder, not even a temporary one.
        #expect(!FileManager.default.fileExists(atPath: station.folder.appendingPathComponent("loa.sqlite").path))
        let written = FileManager.default.enumerator(atPath: station.audio.path)?.compactMap { $0 as? String }.filter { entry in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: station.audio.appendingPathComponent(entry).path, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        } ?? []
        #expect(written.isEmpty, "\(written)")
    }
}
