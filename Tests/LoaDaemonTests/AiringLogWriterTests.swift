import Foundation
import LoaCore
import LoaDaemon
import LoaStore
import Logging
import Testing

@Suite("The airing log's writer when the disk refuses")
struct AiringLogWriterTests {
    @Test("When the spool cannot take the held writes either, the error says they are only in memory, never that the spool has them")
    func messageSaysWhereHeldWritesAre() throws {
        let folder = try Harness.temporaryFolder("loa-writer")
        defer { try? FileManager.default.removeItem(at: folder) }
        let station = folder.appendingPathComponent("tram")
        try FileManager.default.createDirectory(at: station, withIntermediateDirectories: true)
        let database = try StationDatabase(path: station.appendingPathComponent("loa.sqlite"))
        let collected = CollectedLog()
        let logger = Logger(label: "test") { _ in CollectingHandler(log: collected) }
        let clock = FixedClock(Date(timeIntervalSince1970: 1_794_478_500))
        // A spool too small for any write, as one left unreserved on a full disk is.
        let writer = AiringLogWriter(database: database, clock: clock, logger: logger, spoolCapacity: 8)
        // The database's folder gone and a file in its place: no write can reach the path until it is mended.
        try FileManager.default.removeItem(at: station)
        try Data("không phải thư mục".utf8).write(to: station)
        let t = clock.now()
        _ = try? writer.store([AiringRecord(slot: "s", slotStartsAt: t, segmentID: "a", title: "A", path: "a.wav", scheduledAt: t, outcome: .planned)])
        #expect(writer.heldCount == 1)
        let error = try #require(collected.messages(.error).first { $0.contains("Đài vẫn phát") }, "\(collected.messages(.error))")
        #expect(error.contains("chỉ trong bộ nhớ") && !error.contains(".spool"), "\(error)")
    }

    @Test("While writes are held, a stretch continues a row whose own writes wait, the abandoned rows closed are given back, and all land in order")
    func stretchAndAbandonedWhileHeld() throws {
        let folder = try Harness.temporaryFolder("loa-writer")
        defer { try? FileManager.default.removeItem(at: folder) }
        let station = folder.appendingPathComponent("tram")
        try FileManager.default.createDirectory(at: station, withIntermediateDirectories: true)
        let database = try StationDatabase(path: station.appendingPathComponent("loa.sqlite"))
        let clock = FixedClock(Date(timeIntervalSince1970: 1_794_478_500))
        let writer = AiringLogWriter(database: database, clock: clock, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let t = clock.now()
        let plan = try writer.store([
            AiringRecord(slot: "s", slotStartsAt: t, segmentID: "a", title: "A", path: "a.wav", scheduledAt: t, plannedSeconds: 12,
                         outcome: .planned, station: "Xã Hòa An"),
            AiringRecord(slot: "s", slotStartsAt: t, segmentID: "b", title: "B", path: "b.wav", scheduledAt: t.addingTimeInterval(12),
                         plannedSeconds: 10, outcome: .planned),
        ])
        let a = try #require(plan[0].id)
        // No write can reach the database's path until the folder is back.
        try FileManager.default.removeItem(at: station)
        try Data("không phải thư mục".utf8).write(to: station)
        try writer.markStarted(id: a, startedAt: t, policy: nil)
        try writer.finish(id: a, outcome: .interrupted, endedAt: t.addingTimeInterval(3.5), airedSeconds: 3.5,
                          reason: Reason(.preemptedAnnouncement, "bao-bao"), xruns: 0)
        let stretch = try writer.insertStretch(continuing: a, fromSeconds: 5.5)
        let resumed = try #require(stretch.id)
        #expect(stretch.continues == a && stretch.fromSeconds == 5.5 && stretch.title == "A" && stretch.station == "Xã Hòa An")
        try writer.markStarted(id: resumed, startedAt: t.addingTimeInterval(5.5), policy: .join)
        let abandoned = try writer.closeAbandoned(reason: Reason(.daemonDied))
        #expect(abandoned.map(\.id) == [resumed] && abandoned.map(\.outcome) == [.interrupted], "\(abandoned)")
        #expect(abandoned.first?.continues == a && abandoned.first?.reasonCode == .daemonDied)
        #expect(writer.heldCount == 5)

        try FileManager.default.removeItem(at: station)
        try FileManager.default.createDirectory(at: station, withIntermediateDirectories: true)
        writer.check()
        #expect(writer.heldCount == 0)
        let rows = try AiringLog(try StationDatabase(path: station.appendingPathComponent("loa.sqlite"))).records()
        #expect(rows.map(\.id) == [a, resumed, plan[1].id], "\(rows)")
        #expect(rows.map(\.outcome) == [.interrupted, .interrupted, .planned])
        #expect(rows.map(\.reasonCode) == [.preemptedAnnouncement, .daemonDied, nil] && rows[1].continues == a)
    }
}

/// A wall clock stopped at one instant.
final class FixedClock: WallClock, @unchecked Sendable {
    let instant: Date
    init(_ instant: Date) { self.instant = instant }
    func now() -> Date { instant }
    func sleep(until deadline: Date) async throws {}
    func wait(_ seconds: Double, on condition: NSCondition) {}
    func monotonicSeconds() -> Double { instant.timeIntervalSince1970 }
}
