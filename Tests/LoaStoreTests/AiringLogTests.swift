import Foundation
import LoaCore
import LoaStore
import Testing

@Suite("Airing log and library on disk")
struct AiringLogTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loa-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    var path: URL { folder.appendingPathComponent("loa.sqlite") }

    func record(_ segment: String, at seconds: Double, outcome: AiringOutcome = .started) -> AiringRecord {
        let t = Date(timeIntervalSince1970: seconds)
        return AiringRecord(slot: "asean-toi", slotStartsAt: t, segmentID: segment, title: "Bản tin \(segment)", pillar: .kinhTe,
                            campaign: "HNCC ASEAN 37", path: "\(segment).mp3", scheduledAt: t, startedAt: t.addingTimeInterval(0.012),
                            outcome: outcome, device: "pulse")
    }

    @Test("synchronous is FULL on the writer after open, after writes, and after reopening")
    func synchronousIsFull() throws {
        do {
            let database = try StationDatabase(path: path)
            #expect(try database.synchronousMode() == 2)
            try AiringLog(database).insert(record("a", at: 1000))
            #expect(try database.synchronousMode() == 2)
        }
        let reopened = try StationDatabase(path: path)
        #expect(try reopened.synchronousMode() == 2)
        // WAL is on, so readers never block the writer.
        #expect(FileManager.default.fileExists(atPath: path.path + "-wal"))
    }

    @Test("Rows written, finished, and read back after the database is closed and reopened")
    func survivesReopening() throws {
        var id: Int64 = 0
        do {
            let log = AiringLog(try StationDatabase(path: path))
            id = try log.insert(record("a", at: 1000))
            try log.finish(id: id, outcome: .completed, endedAt: Date(timeIntervalSince1970: 1060), airedSeconds: 60.012,
                           reason: nil, xruns: 0)
            try log.insert(record("b", at: 2000))
        }
        let log = AiringLog(try StationDatabase(path: path))
        let rows = try log.records()
        #expect(rows.count == 2)
        #expect(rows[0].id == id && rows[0].outcome == .completed && rows[0].airedSeconds == 60.012)
        #expect(rows[0].title == "Bản tin a" && rows[0].campaign == "HNCC ASEAN 37")
        #expect(rows[0].onsetErrorMilliseconds == 12)
        #expect(rows[1].outcome == .started)
        #expect(try !log.occurrence(slot: "asean-toi", startsAt: Date(timeIntervalSince1970: 2000)).isEmpty)
        #expect(try log.occurrence(slot: "asean-toi", startsAt: Date(timeIntervalSince1970: 3000)).isEmpty)
        // A run that died mid-item left "b" started: the next run closes it as interrupted.
        let closed = try log.closeAbandoned(reason: Reason(.daemonDied))
        #expect(closed.map(\.segmentID) == ["b"] && closed.map(\.outcome) == [.interrupted])
        #expect(try log.records().last?.outcome == .interrupted && (try log.records().last?.reasonCode) == .daemonDied)
        #expect(try log.history()["a"].count == 1)
        #expect(try log.history()["b"].count == 0)
    }

    @Test("A fetched segment's row keeps its SHA-256, category, feed, level and station after the segment is removed from the library")
    func rowKeepsWhatReportsNeed() throws {
        let database = try StationDatabase(path: path)
        let library = SegmentLibrary(database), log = AiringLog(database)
        let t = Date(timeIntervalSince1970: 5000)
        let segment = Segment(id: "rcep", title: "RCEP và nông sản", pillar: .kinhTe, path: "huyen/rcep.mp3", durationSeconds: 60,
                              sha256: String(repeating: "ab", count: 32),
                              origin: FeedOrigin(feed: "huyen", entry: "rcep", category: "Kinh tế", priority: .priority))
        try library.install(segment, importedAt: t)
        let id = try log.insert(AiringRecord(planned: segment, slot: "asean-toi", slotStartsAt: t, scheduledAt: t,
                                             station: "Xã Hòa An", device: "pulse", kind: .segment))
        try log.finish(id: id, outcome: .completed, endedAt: t.addingTimeInterval(60), airedSeconds: 60, reason: nil, xruns: 0)
        try library.markRemoved("rcep", at: t.addingTimeInterval(86400))
        #expect(try library.all().isEmpty)
        let row = try #require(try AiringLog(try StationDatabase(path: path)).records().first)
        #expect(row.sha256 == segment.sha256 && row.category == "Kinh tế" && row.feed == "huyen")
        #expect(row.title == "RCEP và nông sản" && row.pillar == .kinhTe && row.plannedSeconds == 60)
        #expect(row.station == "Xã Hòa An" && row.priority == .priority && row.confirmed == nil)
    }

    @Test("Rotation history counts only airings that were heard")
    func historyCountsHeardAirings() throws {
        let log = AiringLog(try StationDatabase(path: path))
        try log.insert(record("a", at: 1000, outcome: .completed))
        try log.insert(record("a", at: 2000, outcome: .failed))
        try log.insert(record("b", at: 3000, outcome: .skipped))
        let history = try log.history()
        #expect(history["a"].count == 1)
        #expect(history["b"].count == 0)
    }

    @Test("Rotation never counts a relay's row as an airing of a segment; the fallback's segments heard in it are counted")
    func historySkipsRelays() throws {
        let log = AiringLog(try StationDatabase(path: path))
        let t = Date(timeIntervalSince1970: 5000)
        let relay = Planner.relaySegment(source: "vov1", seconds: 1800)
        try log.insert(AiringRecord(slot: "vov-sang", slotStartsAt: t, segmentID: relay.id, title: relay.title, path: relay.path,
                                    scheduledAt: t, plannedSeconds: 1800, startedAt: t, airedSeconds: 1700, outcome: .completed,
                                    kind: .relay))
        var fallback = record("tin-b", at: 5600, outcome: .completed)
        fallback.codedReason = Reason(.relayStalled)
        try log.insert(fallback)
        let history = try log.history(recentSince: t)
        #expect(history[relay.id].count == 0 && history[relay.id].recent.isEmpty)
        #expect(history["tin-b"].count == 1)
    }

    @Test("A reason is stored as its code and its detail; finished, closed planned and closed abandoned rows all carry one")
    func reasonsStoredAsCodes() throws {
        let log = AiringLog(try StationDatabase(path: path))
        let ids = try log.insert([record("a", at: 1000, outcome: .planned), record("b", at: 1060, outcome: .planned),
                                  record("c", at: 1120, outcome: .started)])
        try log.finish(id: ids[0], outcome: .interrupted, endedAt: Date(timeIntervalSince1970: 1003.5), airedSeconds: 3.5,
                       reason: Reason(.preemptedEmergency, "Bão số 3"), xruns: 0)
        #expect(try log.closePlanned(slot: "asean-toi", startsAt: Date(timeIntervalSince1970: 1060),
                                     reason: Reason(.daemonNotRunning, "17:20:05")) == 1)
        try log.closeAbandoned(reason: Reason(.daemonDied))
        let rows = try log.records()
        #expect(rows.map(\.reasonCode) == [.preemptedEmergency, .daemonNotRunning, .daemonDied])
        #expect(rows.map(\.reason) == ["Bão số 3", "17:20:05", nil])
        #expect(rows.map(\.outcome) == [.interrupted, .skipped, .interrupted])
    }

    @Test("A stretch continues a row: the plan copied, the row it continues and where its audio began; it starts and ends as any row")
    func stretchContinuesARow() throws {
        let log = AiringLog(try StationDatabase(path: path))
        var planned = record("a", at: 1000, outcome: .planned)
        planned.plannedSeconds = 12
        planned.station = "Xã Hòa An"
        planned.priority = .priority
        let id = try log.insert(planned)
        try log.markStarted(id: id, startedAt: Date(timeIntervalSince1970: 1000), policy: nil)
        try log.finish(id: id, outcome: .interrupted, endedAt: Date(timeIntervalSince1970: 1003.5), airedSeconds: 3.5,
                       reason: Reason(.preemptedAnnouncement, "bao-bao"), xruns: 0)
        let stretch = try log.insertStretch(continuing: id, fromSeconds: 5.5)
        #expect(stretch.id != nil && stretch.id != id && stretch.continues == id && stretch.fromSeconds == 5.5)
        #expect(stretch.outcome == .planned && stretch.scheduledAt == planned.scheduledAt && stretch.plannedSeconds == 12)
        let stretchID = try #require(stretch.id)
        try log.markStarted(id: stretchID, startedAt: Date(timeIntervalSince1970: 1005.5), policy: .join)
        try log.finish(id: stretchID, outcome: .completed, endedAt: Date(timeIntervalSince1970: 1012), airedSeconds: 6.5,
                       reason: Reason(.resumed), xruns: 0)
        let rows = try log.occurrence(slot: "asean-toi", startsAt: Date(timeIntervalSince1970: 1000))
        #expect(rows.map(\.id) == [id, stretchID] && rows.map(\.outcome) == [.interrupted, .completed])
        #expect(rows[1].station == "Xã Hòa An" && rows[1].priority == .priority && rows[1].title == "Bản tin a")
        #expect(rows[1].continues == id && rows[1].fromSeconds == 5.5 && rows[1].policy == .join && rows[1].reasonCode == .resumed)
        #expect(try log.record(id: stretchID) == rows[1])
        // Heard once in two stretches: rotation counts one airing.
        #expect(try log.history()["a"].count == 1)
        #expect(throws: StoreError.self) { try log.insertStretch(continuing: 999, fromSeconds: 0) }
    }

    @Test("Rotation counts an item heard in two stretches one after the other once")
    func historyCountsStretchesOnce() throws {
        let log = AiringLog(try StationDatabase(path: path))
        let first = try log.insert(record("a", at: 1000, outcome: .truncated))
        var second = record("a", at: 1000, outcome: .completed)
        second.continues = first
        try log.insert(second)
        try log.insert(record("a", at: 2000, outcome: .completed))
        #expect(try log.history()["a"].count == 2)
        #expect(try log.history(recentSince: Date(timeIntervalSince1970: 0))["a"].recent.count == 2)
    }

    @Test("Records are limited to the period asked for")
    func periods() throws {
        let log = AiringLog(try StationDatabase(path: path))
        for t in [1000.0, 2000, 3000] { try log.insert(record("s\(Int(t))", at: t, outcome: .completed)) }
        let rows = try log.records(from: Date(timeIntervalSince1970: 1500), to: Date(timeIntervalSince1970: 3000))
        #expect(rows.map(\.segmentID) == ["s2000"])
    }

    @Test("The library gives duplicate titles distinct ids and keeps Vietnamese text intact")
    func library() throws {
        let library = SegmentLibrary(try StationDatabase(path: path))
        let base = Segment(id: "rcep", title: "Hiệp định RCEP", pillar: .kinhTe, path: "a.mp3", durationSeconds: 61.5,
                           format: "MPEG", sampleRate: 44100, channels: 2, sha256: "aa")
        let first = try library.add(base, importedAt: Date(timeIntervalSince1970: 0))
        var other = base
        other.path = "b.mp3"
        other.sha256 = "bb"
        let second = try library.add(other, importedAt: Date(timeIntervalSince1970: 0))
        #expect(first.id == "rcep" && second.id == "rcep-2")
        #expect(try library.all().map(\.title) == ["Hiệp định RCEP", "Hiệp định RCEP"])
        #expect(try library.segment(sha256: "bb")?.path == "b.mp3")
    }

    @Test("An unopenable database path gives an error naming the path")
    func unopenable() {
        do {
            _ = try StationDatabase(path: URL(fileURLWithPath: "/proc/loa.sqlite"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("/proc/loa.sqlite: không mở được cơ sở dữ liệu"), "\(error)")
        }
        // A folder that is not there is not made: most likely a typo in `database`.
        do {
            _ = try StationDatabase(path: URL(fileURLWithPath: "/khong/co/loa.sqlite"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("/khong/co/loa.sqlite: không có thư mục /khong/co để đặt cơ sở dữ liệu"), "\(error)")
            #expect(!FileManager.default.fileExists(atPath: "/khong"))
        }
    }
}
