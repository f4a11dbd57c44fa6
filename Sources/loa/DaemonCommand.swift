import ArgumentParser
import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaDaemon
import LoaFeed
import LoaStore
import Logging
import ServiceLifecycle

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon", abstract: "Phát tự động theo lịch; SIGTERM dừng êm, SIGHUP nạp lại lịch.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let clock = SystemClock()
        let config = try StationConfig.load(global.configFile())
        // One daemon per database, decided before the database is opened: the second one names the first and exits 1.
        let lock = try DaemonLock.acquire(database: config.database.path, startedAt: clock.now(), calendar: config.calendar)
        // Fail fast only on a database that cannot even be read; one that cannot be written (a full disk) is read
        // and the station airs. Schedule problems are logged and the rest airs. The first run creates it; a
        // database missing later (deleted) is said so once the log is set up.
        let existed = FileManager.default.fileExists(atPath: config.database.path)
        let folderExisted = FileManager.default.fileExists(atPath: config.database.deletingLastPathComponent().path)
        let station = Station.load(config: config, database: try StationDatabase.openForPlayout(path: config.database))
        // A database made just now is held too: a daemon reaching it by a hard link would otherwise run beside this one.
        try lock.holdDatabaseFile()
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap { _ in
            StationLogHandler(calendar: config.calendar, clock: clock, environment: environment)
        }
        let logger = Logger(label: "loa")
        logger.info("Giữ khóa \(lock.path) (pid \(getpid()))")
        if station.database.isReadOnly {
            let reason = station.database.readOnlyReason.map { "\($0)" } ?? "\(config.database.path): đĩa đầy hoặc chỉ đọc"
            logger.error("\(reason) — không mở để ghi được; đài vẫn phát theo thư viện đã lưu, nhật ký phát được giữ lại và ghi khi ghi được")
        }
        if !folderExisted {
            logger.warning("\(config.database.path): chưa có thư mục này; đã tạo nó và một cơ sở dữ liệu mới (kiểm tra “database” trong loa.toml nếu gõ nhầm)")
        } else if !existed {
            logger.warning("\(config.database.path): chưa có cơ sở dữ liệu; đã tạo mới (lần chạy đầu, hoặc tệp cũ đã mất)")
        }
        let monitor = config.monitor.map { device in
            OnAirMonitor(device: device, check: OnAirCheck(silenceDBFS: config.monitorSilenceDBFS), clock: clock, logger: logger) {
                ALSACapture(device: device, clock: clock)
            }
        }
        let playout = PlayoutService(station: station, clock: clock, logger: logger, monitor: monitor) { device in
            ALSAOutput(device: device)
        }
        let control = try ControlServer(socketPath: config.controlSocket.path, clock: clock, logger: logger) { request in
            await playout.handleControl(request)
        }
        // Services stop in reverse order: the control socket closes before playout does.
        // The monitor comes before playout so that it stops after it: the items playout ends on shutdown still get
        // their verdict (and the log keeper, first of all, stops last).
        let monitoring: [ServiceGroupConfiguration.ServiceConfiguration] = monitor.map { [.init(service: $0)] } ?? []
        // Under systemd (`Type=notify`): READY once the services run, the watchdog's pings, and STOPPING first on
        // shutdown (services stop in reverse order, and this one is last).
        let notifying: [ServiceGroupConfiguration.ServiceConfiguration] = SystemdNotifier(environment: environment).map { notifier in
            [.init(service: SystemdNotifyService(
                notifier: notifier, environment: environment, pid: getpid(),
                status: "\(station.config.station): \(station.schedules.slots.count) khung giờ, thiết bị \(station.config.device)",
                clock: clock))]
        } ?? []
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                // First, so it stops last: held log writes get a last try after playout has written its final rows.
                .init(service: AiringLogKeeper(writer: playout.writer, clock: clock)),
            ] + monitoring + [
                // Done once at start, off the playout path; its end must not stop the daemon.
                .init(service: UntilShutdown(DatabaseQuickCheck(database: station.database, clock: clock, logger: logger))),
                .init(service: playout),
                .init(service: ReloadOnHangup(target: playout)),
                .init(service: ReloadOnFileChange(target: playout, schedules: config.schedules, configFile: config.file,
                                                  clock: clock, logger: logger)),
                .init(service: control),
                // Done once at start; its end must not stop the daemon.
                .init(service: UntilShutdown(LibraryBackfill(station: station, logger: logger))),
                // Its polling ends at once when loa.toml names no feed.
                .init(service: UntilShutdown(FeedService(playout: playout, clock: clock, logger: logger) { feed in
                    HTTPFeedTransport(timeoutSeconds: feed.timeoutSeconds)
                })),
            ] + notifying,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        // Start-up is over: its code need not stay resident while the station airs.
        StartupPages.release()
        try await group.run()
        lock.release()
    }
}
