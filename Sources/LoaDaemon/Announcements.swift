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
            do {
                return ControlResponse(ok: true, status: try current.get().status(now: clock.now(), daemon: (health, getpid()),
                                                                                  host: current.get().hostChecks(now: clock.now())))
            } catch {
                return .failure("\(error)")
            }
        }
    }

    /// The announcement's rows, written `planned` before it airs, as an occurrence of its own.
    func prepareAnnouncement(path: String, times: Int) throws -> (OccurrenceAiring, PlayoutSource) {
        let station = current.get()
        // One decode gives the exact length and the loudness: an announcement is levelled like any segment.
        let info = try SndFileDecoder.probe(path: path)
        let title = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let gain = info.loudness?.playoutGainDB(targetLUFS: station.config.targetLUFS) ?? 0
        let source = PlayoutSource(gainDB: gain, truePeakDBTP: info.loudness.map { $0.truePeakDBTP + gain })
        let item = Segment(id: title, title: title, path: path, durationSeconds: info.durationSeconds)
        return (try prepareInterruption(Array(repeating: item, count: times), kind: .announcement,
                                        slotID: PlayoutService.announcementSlot, station: station), source)
    }

    /// Rows for `items` aired back to back from now above any slot, stored `planned` before they air.
    func prepareInterruption(_ items: [Segment], kind: ItemKind, slotID: String, station: Station) throws -> OccurrenceAiring {
        let now = clock.now()
        var offset = 0.0
        let rows = items.map { item in
            defer { offset += item.durationSeconds }
            return AiringRecord(planned: item, slot: slotID, slotStartsAt: now, scheduledAt: now.addingTimeInterval(offset),
                                station: station.config.station, device: station.config.device, kind: kind)
        }
        let stored = try writer.store(rows)
        let slot = Slot(id: slotID, start: .midnight, content: .play(items.map(\.path)), late: .whole)
        var airing = OccurrenceAiring(slot: slot, startsAt: now, hardEnd: nil, rows: stored, audioFolder: station.config.audio,
                                      device: station.config.device, log: writer, logger: logger, monitor: monitor)
        airing.health = health
        return airing
    }

    /// The slot name emergency rows are logged under.
    static let emergencySlot = "khan-cap"

    /// Airs a verified emergency segment now, above any slot: the item on air fades and is logged interrupted,
    /// the slot goes on per its policy afterwards. Returns false when it is not valid today.
    @discardableResult
    public func airEmergency(_ segment: Segment) -> Bool {
        let station = current.get()
        let today = station.config.calendar.localDate(of: clock.now())
        guard segment.priority == .emergency, segment.origin?.isValid(on: today) ?? true else { return false }
        do {
            let airing = try prepareInterruption([segment], kind: .emergency, slotID: PlayoutService.emergencySlot, station: station)
            let source = try station.playoutSources(for: [segment.id])[segment.id] ?? PlayoutSource()
            logger.warning("KHẨN CẤP: phát ngay “\(segment.title)” (\(segment.origin?.feed ?? "thư viện")), trên mọi khung giờ")
            announcements.continuation.yield(Announcement(airing: airing, source: source))
            return true
        } catch {
            logger.error("Không phát được bản tin khẩn cấp \(segment.id): \(error)")
            return false
        }
    }

    /// Emergency segments valid today that were verified but never aired (the daemon was stopped between the
    /// fetch and the airing, the PC was off, `loa fetch` installed them, or they became valid today): aired once.
    /// At start only what was heard counts as aired; while running, one already queued (its rows planned) too.
    public func airPendingEmergencies(includingQueued: Bool = false) {
        let station = current.get()
        do {
            let aired = try station.log.segmentIDs(kind: .emergency,
                                                   outcomes: includingQueued ? nil : AiringOutcome.heard.union([.interrupted]))
            for segment in try station.library.all() where segment.priority == .emergency && !aired.contains(segment.id) {
                airEmergency(segment)
            }
        } catch {
            logger.error("Không đọc được bản tin khẩn cấp đang chờ: \(error)")
        }
    }
}

/// The station the service airs now, readable from the control channel's tasks.
final class StationBox: @unchecked Sendable {
    private let lock = NSLock()
    private var station: Station
    /// Triggered by each ``set(_:)``: the feed service waits on it to pick up a reload at once.
    let changed = ReloadSignal()
    init(_ station: Station) { self.station = station }
    func get() -> Station { lock.withLock { station } }
    func set(_ new: Station) {
        lock.withLock { station = new }
        changed.trigger()
    }
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
