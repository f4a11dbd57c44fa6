import ArgumentParser
import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaDaemon
import LoaFeed
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
        let lock = try DaemonLock.acquire(path: config.lockFile.path, startedAt: clock.now(), calendar: config.calendar)
        // Fail fast on a broken database; schedule problems are logged and the rest airs.
        let station = try Station.load(config: config)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "loa")
        logger.info("Giữ khóa \(lock.path) (pid \(getpid()))")
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
        // The monitor comes first so that it stops last: the items playout ends on shutdown still get their verdict.
        let monitoring: [ServiceGroupConfiguration.ServiceConfiguration] = monitor.map { [.init(service: $0)] } ?? []
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: monitoring + [
                .init(service: playout),
                .init(service: ReloadOnHangup(target: playout)),
                .init(service: control),
                // Done once at start; its end must not stop the daemon.
                .init(service: LibraryBackfill(station: station, logger: logger), successTerminationBehavior: .ignore),
                // Returns at once when loa.toml names no feed.
                .init(service: FeedService(playout: playout, clock: clock, logger: logger) { feed in
                    HTTPFeedTransport(timeoutSeconds: feed.timeoutSeconds)
                }, successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        // Start-up is over: its code need not stay resident while the station airs.
        StartupPages.release()
        try await group.run()
        lock.release()
    }
}
