import Foundation
import LoaAudio
import LoaCore
import LoaStore

extension Station {
    /// Where `segment`'s playout copy belongs: `.playout/<sha256>.wav` under the audio folder, relative to it.
    public func playoutCopyPath(of segment: Segment) -> String {
        PlayoutCopyWriter.relativePath(sha256: segment.sha256.isEmpty ? segment.id : segment.sha256)
    }

    /// The absolute path of `segment`'s playout copy when the library names one and it is there and whole.
    public func playoutCopy(of segment: Segment) -> String? {
        guard let relative = segment.playoutPath else { return nil }
        let path = config.audio.appendingPathComponent(relative).path
        return PlayoutCopyWriter.isSane(path: path, durationSeconds: segment.durationSeconds, channels: segment.channels) ? path : nil
    }

    /// How each segment of the library airs, by segment id: from its playout copy when it is there and
    /// whole (else from the original), at the gain that brings it to `[loudness] target_lufs`. A segment
    /// not yet measured airs at 0 dB, under the output's limiter all the same.
    /// Only the segments named in `ids` are looked at (each copy is checked on disk), or every one when nil.
    public func playoutSources(for ids: Set<String>? = nil) throws -> [String: PlayoutSource] {
        var sources: [String: PlayoutSource] = [:]
        for segment in try library.all() where ids?.contains(segment.id) ?? true {
            let gain = segment.loudness?.playoutGainDB(targetLUFS: config.targetLUFS) ?? 0
            sources[segment.id] = PlayoutSource(path: playoutCopy(of: segment), gainDB: gain,
                                                truePeakDBTP: segment.loudness.map { $0.truePeakDBTP + gain })
        }
        return sources
    }
}

/// How one segment airs: which file, at what gain, and its true peak after that gain when it was measured.
public struct PlayoutSource: Sendable, Hashable {
    /// An absolute path to air instead of the original (the playout copy), or nil for the original.
    public var path: String?
    public var gainDB: Double
    public var truePeakDBTP: Double?

    public init(path: String? = nil, gainDB: Double = 0, truePeakDBTP: Double? = nil) {
        self.path = path
        self.gainDB = gainDB
        self.truePeakDBTP = truePeakDBTP
    }
}

extension PlayoutService {
    /// Segments imported before Loa measured loudness or made playout copies (or whose copy was lost) get
    /// both at start, in one decode of the original each.
    func prepareLibrary(_ station: Station) {
        guard let segments = try? station.library.all().filter({ $0.loudness == nil || station.playoutCopy(of: $0) == nil }),
              !segments.isEmpty else { return }
        var measured = 0, copied = 0
        for segment in segments {
            let relative = station.playoutCopyPath(of: segment)
            let needsCopy = station.playoutCopy(of: segment) == nil
            do {
                let info = try SndFileDecoder.probe(path: station.config.audio.appendingPathComponent(segment.path).path,
                                                    playoutCopy: needsCopy ? station.config.audio.appendingPathComponent(relative).path : nil)
                if segment.loudness == nil, let loudness = info.loudness, try station.library.setLoudness(loudness, segmentID: segment.id) {
                    measured += 1
                }
                if needsCopy, try station.library.setPlayoutPath(relative, segmentID: segment.id) { copied += 1 }
            } catch {
                logger.warning("\(segment.id): không đo được độ to hoặc không ghi được bản phát 48 kHz; phát từ tệp gốc: \(error)")
            }
        }
        if measured > 0 { logger.notice("Đã đo độ to (EBU R128) cho \(measured) bản tin nhập trước khi có phép đo") }
        if copied > 0 { logger.notice("Đã tạo bản phát 48 kHz cho \(copied) bản tin nhập trước khi có bản phát") }
    }
}
