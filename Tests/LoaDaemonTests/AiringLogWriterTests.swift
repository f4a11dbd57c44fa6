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
