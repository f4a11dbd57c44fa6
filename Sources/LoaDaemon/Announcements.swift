import Foundation
import LoaAudio
import LoaCore
import LoaStore

extension PlayoutService {
    /// The slot name announcement rows are logged under.
    static let announcementSlot = "thong-bao"

    /// Answers the control channel. An announcement is checked, its rows are stored ahead as a plan, and
    /// it is queued to air at once above any slot; the answer comes before it airs.
    public func handleControl(_ request: ControlRequest) async -> ControlResponse {
        switch request {
        case let .announce(path, times):
            do {
                let (airing, source) = try prepareAnnouncement(path: path, times: times)
                announcements.continuation.yield(Announcement(airing: airing, source: source))
                let title = URL(fileURLWithPath: path).lastPathComponent
                return .success("Phát ngay “\(title)” \(times) lần (\(formatSeconds(airing.contentEndsAt.timeIntervalSince(airing.startsAt)))), trên mọi khung giờ")
            } catch {
                logger.error("Không phát được thông báo \(path): \(error)")
                return .failure("\(error)")
            }
        case .status:
            let station = current.get()
            return .success("\(station.config.station): \(station.schedules.slots.count) khung giờ, thiết bị \(station.config.device)")
        }
    }

    /// The announcement's rows, written `planned` before it airs, as an occurrence of its own.
    func prepareAnnouncement(path: String, times: Int) throws -> (OccurrenceAiring, PlayoutSource) {
        let station = current.get()
        // One decode gives the exact length and the loudness: an announcement is levelled like any segment.
        let info = try SndFileDecoder.probe(path: path)
        let seconds = info.durationSeconds
        let title = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let now = clock.now()
        let rows = (0..<times).map { n in
            AiringRecord(slot: PlayoutService.announcementSlot, slotStartsAt: now, segmentID: title, title: title, path: path,
                         scheduledAt: now.addingTimeInterval(Double(n) * seconds), plannedSeconds: seconds, outcome: .planned,
                         device: station.config.device, kind: .announcement)
        }
        let gain = info.loudness?.playoutGainDB(targetLUFS: station.config.targetLUFS) ?? 0
        let source = PlayoutSource(gainDB: gain, truePeakDBTP: info.loudness.map { $0.truePeakDBTP + gain })
        let ids = try station.log.insert(rows)
        let stored = zip(rows, ids).map { row, id in
            var row = row
            row.id = id
            return row
        }
        let slot = Slot(id: PlayoutService.announcementSlot, start: .midnight, content: .play([path]), late: .whole)
        return (OccurrenceAiring(slot: slot, startsAt: now, hardEnd: nil, rows: stored, audioFolder: station.config.audio,
                                 device: station.config.device, log: station.log, logger: logger), source)
    }
}

/// The station the service airs now, readable from the control channel's tasks.
final class StationBox: @unchecked Sendable {
    private let lock = NSLock()
    private var station: Station
    init(_ station: Station) { self.station = station }
    func get() -> Station { lock.withLock { station } }
    func set(_ new: Station) { lock.withLock { station = new } }
}

/// An announcement queued on the control channel, with the gain that levels it.
struct Announcement: Sendable {
    let airing: OccurrenceAiring
    let source: PlayoutSource

    func air(on engine: PlayoutEngine) async {
        let sources = Dictionary(uniqueKeysWithValues: Set(airing.rows.map(\.segmentID)).map { ($0, source) })
        await airing.air(on: engine, sources: sources, preempting: true)
    }
}
