import Foundation
import LoaAudio
import LoaCore
import LoaStore
import Logging
import ServiceLifecycle

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

/// Gives segments imported before Loa measured loudness or made playout copies (or whose copy was lost)
/// both, in one decode of the original each, while playout runs: a library of hundreds of such segments
/// takes minutes, and a slot due meanwhile airs from the originals at 0 dB (under the limiter) instead of
/// waiting. Each lead-in reads the library again, so a segment airs from its copy once it has one.
public struct LibraryBackfill: Service {
    let station: Station
    let logger: Logger

    public init(station: Station, logger: Logger) {
        self.station = station
        self.logger = logger
    }

    /// Works through the segments that lack either, one at a time; stops between two on shutdown.
    public func run() async throws {
        let pending: [Segment]
        do {
            pending = try station.library.all().filter { $0.loudness == nil || station.playoutCopy(of: $0) == nil }
        } catch {
            logger.error("\(error)")
            return
        }
        guard !pending.isEmpty else { return }
        logger.notice("Đo độ to và tạo bản phát 48 kHz cho \(pending.count) bản tin nhập trước đó; trong lúc chờ, chúng phát từ tệp gốc")
        var measured = 0, copied = 0
        for segment in pending where !Task.isShuttingDownGracefully && !Task.isCancelled {
            let (newLoudness, newCopy) = await BlockingWork.run("loa-backfill") { prepare(segment) }
            measured += newLoudness ? 1 : 0
            copied += newCopy ? 1 : 0
        }
        if measured > 0 { logger.notice("Đã đo độ to (EBU R128) cho \(measured) bản tin nhập trước khi có phép đo") }
        if copied > 0 { logger.notice("Đã tạo bản phát 48 kHz cho \(copied) bản tin nhập trước khi có bản phát") }
    }

    /// Measures and copies one segment; says whether its loudness and its copy were recorded.
    private func prepare(_ segment: Segment) -> (Bool, Bool) {
        let relative = station.playoutCopyPath(of: segment)
        let needsCopy = station.playoutCopy(of: segment) == nil
        do {
            let info = try SndFileDecoder.probe(path: station.config.audio.appendingPathComponent(segment.path).path,
                                                playoutCopy: needsCopy ? station.config.audio.appendingPathComponent(relative).path : nil)
            var measured = false, copied = false
            if segment.loudness == nil, let loudness = info.loudness {
                measured = try station.library.setLoudness(loudness, segmentID: segment.id)
            }
            if needsCopy { copied = try station.library.setPlayoutPath(relative, segmentID: segment.id) }
            return (measured, copied)
        } catch {
            logger.warning("\(segment.id): không đo được độ to hoặc không ghi được bản phát 48 kHz; phát từ tệp gốc: \(error)")
            return (false, false)
        }
    }
}
