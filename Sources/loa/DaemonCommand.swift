import ArgumentParser
import Foundation
import LoaAudio
import LoaDaemon
import Logging
import ServiceLifecycle

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon", abstract: "Phát tự động theo lịch; SIGTERM dừng êm, SIGHUP nạp lại lịch.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // Fail fast on a broken loa.toml or database; schedule problems are logged and the rest airs.
        let station = try global.station()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "loa")
        let playout = PlayoutService(station: station, clock: SystemClock(), logger: logger) { device in
            ALSAOutput(device: device)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [playout, ReloadOnHangup(target: playout)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
