import ArgumentParser
import Foundation
import LoaConfig
import LoaDaemon

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Tệp cấu hình (mặc định ./loa.toml, rồi /etc/loa/loa.toml).")
    var config: String?

    func configFile() throws -> URL {
        try StationConfig.locate(config, workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    func station() throws -> Station { try Station.load(configFile: configFile()) }
}

/// Output formats shared by listing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}
