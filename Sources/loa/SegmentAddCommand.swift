import ArgumentParser
import Crypto
import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaStore

struct SegmentAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Nhập một bản ghi vào thư viện (đọc thời lượng, định dạng, độ to EBU R128, SHA-256).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp(audioFileHelp)) var file: String
    @Option(help: "Tiêu đề bản tin.") var title: String
    @Option(help: "Trụ cột: \(Pillar.slugList).") var pillar: String?
    @Option(help: "Chiến dịch, ví dụ \"HNCC ASEAN 37\".") var campaign: String?

    func run() async throws {
        // Checked before anything is opened or created: a line break in a title would break every table and log line.
        for (option, text) in [("--title", title), ("--campaign", campaign)] {
            if let text, !isOneLineText(text) {
                throw OperatorError("\(option): phải là một dòng chữ, không rỗng, không xuống dòng hay ký tự điều khiển")
            }
        }
        let config = try StationConfig.load(global.configFile())
        let pillar = try self.pillar.map { name in
            guard let parsed = Pillar(rawValue: name) else { throw OperatorError(Pillar.unknownMessage(name)) }
            return parsed
        }
        // An existing database is opened first: one that cannot be is what to fix before anything else.
        let existing = FileManager.default.fileExists(atPath: config.database.path) ? try global.station(.write, config: config) : nil
        let source = URL(fileURLWithPath: file).standardizedFileURL
        guard FileManager.default.fileExists(atPath: source.path) else { throw OperatorError("\(file): không có tệp này") }
        // Hash first: a file already in the library is recognised without decoding it again.
        let digest = try SegmentAddCommand.sha256(of: source)
        if let station = existing {
            if let existing = try station.library.segment(sha256: digest) {
                print("Đã có trong thư viện: \(existing.id) (\(existing.path))")
                // One imported before playout copies, or whose copy was lost, gets it now.
                if station.playoutCopy(of: existing) == nil {
                    let relative = station.playoutCopyPath(of: existing)
                    _ = try withStandardErrorSilenced {
                        try SndFileDecoder.probe(path: source.path, playoutCopy: config.audio.appendingPathComponent(relative).path)
                    }
                    try station.library.setPlayoutPath(relative, segmentID: existing.id)
                    print("Đã tạo bản phát 48 kHz: \(relative)")
                }
                return
            }
        } else {
            // Refused before anything is decoded or written: the folder is most likely a typo.
            try StationDatabase.checkFolder(of: config.database)
        }
        // One decode: proves the file plays, measures its loudness and writes its playout copy (48 kHz 16-bit WAV).
        // libmpg123 and FFmpeg print their own notes about broken frames; the reason Loa gives is enough. A file refused here
        // leaves no database made for nothing.
        let copy = PlayoutCopyWriter.relativePath(sha256: digest)
        let info = try withStandardErrorSilenced {
            try SndFileDecoder.probe(path: source.path, playoutCopy: config.audio.appendingPathComponent(copy).path)
        }
        let station = try existing ?? global.station(.create, config: config)
        let stored = try SegmentAddCommand.placeInAudioFolder(source, audio: station.config.audio)
        let segment = try station.library.add(Segment(
            id: Segment.slug(title), title: title, pillar: pillar, campaign: campaign, path: stored,
            durationSeconds: info.durationSeconds, format: info.format, sampleRate: info.sampleRate,
            channels: info.channels, sha256: digest, loudness: info.loudness, playoutPath: copy), importedAt: SystemClock().now())
        print("Đã thêm \(segment.id): “\(segment.title)”, \(formatSeconds(segment.durationSeconds)), \(segment.format), \(segment.path)")
        if let warning = info.missingWarning {
            FileHandle.standardError.write(Data("loa: ⚠ \(source.path): \(warning)\n".utf8))
        }
        if let loudness = segment.loudness {
            let target = station.config.targetLUFS
            print("Độ to: \(loudnessText(loudness)); khi phát bù \(decimalText(loudness.playoutGainDB(targetLUFS: target), signed: true)) dB"
                  + " để đạt \(decimalText(target)) LUFS")
        }
    }

    static func sha256(of url: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw OperatorError("\(url.path): không đọc được") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// A file already under the audio folder stays where it is; one from elsewhere is copied in under a
    /// free name, through a temporary file so a half-copied file never appears under its real name.
    static func placeInAudioFolder(_ source: URL, audio: URL) throws -> String {
        if let inside = source.path(relativeTo: audio) { return inside }
        let fm = FileManager.default
        try fm.createDirectory(at: audio, withIntermediateDirectories: true)
        let stem = source.deletingPathExtension().lastPathComponent, ext = source.pathExtension
        var name = source.lastPathComponent, n = 1
        while fm.fileExists(atPath: audio.appendingPathComponent(name).path) {
            n += 1
            name = "\(stem)-\(n)" + (ext.isEmpty ? "" : ".\(ext)")
        }
        let temporary = audio.appendingPathComponent(".\(name).tmp-\(getpid())")
        do {
            try? fm.removeItem(at: temporary)
            try fm.copyItem(at: source, to: temporary)
            try fm.moveItem(at: temporary, to: audio.appendingPathComponent(name))
        } catch {
            try? fm.removeItem(at: temporary)
            throw OperatorError("không chép được \(source.path) vào \(audio.path): \(error.localizedDescription)")
        }
        return name
    }
}
