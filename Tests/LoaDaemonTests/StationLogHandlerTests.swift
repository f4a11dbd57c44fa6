import Foundation
import LoaCore
import LoaDaemon
import Logging
import Testing

@Suite("Daemon log lines: station time on a terminal, syslog priorities for the journal")
struct StationLogHandlerTests {
    /// A clock stopped at one instant: the line's time must be that instant in station time.
    struct StoppedClock: WallClock {
        let instant: Date
        func now() -> Date { instant }
        func sleep(until deadline: Date) async throws {}
        func wait(_ seconds: Double, on condition: NSCondition) {}
        func monotonicSeconds() -> Double { 0 }
    }

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
    // 2026-11-26 10:15:00 UTC is 17:15:00 in Hà Nội.
    let clock = StoppedClock(instant: Date(timeIntervalSince1970: 1_795_688_100))

    func logger(_ environment: [String: String], into lines: Lines) -> Logger {
        Logger(label: "loa") { _ in
            StationLogHandler(calendar: calendar, clock: clock, environment: environment) { lines.append($0) }
        }
    }

    @Test("On a terminal each line starts with the station's time and offset, and a message with a newline stays one line")
    func terminal() {
        let lines = Lines()
        let log = logger([:], into: lines)
        log.warning("“Bản tin A”: bị cắt\nmất 0,5 giây")
        #expect(lines.all == ["2026-11-26T17:15:00.000+07:00 warning “Bản tin A”: bị cắt ⏎ mất 0,5 giây\n"])
    }

    @Test("When stderr is the journal's stream, lines carry <priority> and no time; a stale JOURNAL_STREAM is ignored")
    func journal() throws {
        var info = stat()
        try #require(fstat(2, &info) == 0)
        let lines = Lines()
        let log = logger(["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"], into: lines)
        log.error("Mất thiết bị âm thanh")
        log.warning("cảnh báo")
        log.info("Phát")
        #expect(lines.all == ["<3>Mất thiết bị âm thanh\n", "<4>cảnh báo\n", "<6>Phát\n"])
        let other = Lines()
        logger(["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino + 1)"], into: other).info("Phát")
        #expect(other.all.first?.hasPrefix("2026-11-26T17:15:00.000+07:00 info") == true)
    }
}
