import Foundation
import LoaAudio
import LoaCore
import LoaStore
import Logging
import ServiceLifecycle

/// Keeps the airing log written while the daemon runs: every `interval` seconds it lets the writer notice a
/// moved database and try held writes again, and on shutdown it tries them once more.
public struct AiringLogKeeper: Service {
    let writer: AiringLogWriter
    let clock: any WallClock
    let interval: Double

    public init(writer: AiringLogWriter, clock: any WallClock, interval: Double = 10) {
        self.writer = writer
        self.clock = clock
        self.interval = interval
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await clock.sleep(until: clock.now().addingTimeInterval(interval))
                    writer.check()
                }
            }
        } catch is CancellationError {}
        writer.check()
    }
}

/// `PRAGMA quick_check` of the station's database, once at start, on a thread of its own: it reads the whole file
/// (seconds on a large log), and playout must not wait for it. Damage is reported with what to do; the station airs
/// on, and what cannot be written is held by ``AiringLogWriter``.
public struct DatabaseQuickCheck: Service {
    let database: StationDatabase
    let clock: any WallClock
    let logger: Logger

    public init(database: StationDatabase, clock: any WallClock, logger: Logger) {
        self.database = database
        self.clock = clock
        self.logger = logger
    }

    public func run() async {
        let database = self.database, clock = self.clock
        let (problems, seconds) = await BlockingWork.run("loa-quick-check") { () -> ([String], Double) in
            let started = clock.monotonicSeconds()
            let problems: [String]
            do { problems = try database.quickCheck().filter { $0 != "ok" } } catch { problems = ["\(error)"] }
            return (problems, clock.monotonicSeconds() - started)
        }
        if problems.isEmpty {
            logger.info("\(database.path): kiểm tra nhanh (quick_check) không thấy hỏng (\(formatSeconds(seconds)))")
        } else {
            logger.error("\(database.path) bị hỏng (quick_check: \(problems.prefix(3).joined(separator: "; "))). Đài vẫn phát; sao chép ngay tệp này và các tệp -wal, -shm bên cạnh sang nơi khác, rồi kiểm tra đầy đủ bằng `sqlite3 \(database.path) 'PRAGMA integrity_check'`")
        }
    }
}
