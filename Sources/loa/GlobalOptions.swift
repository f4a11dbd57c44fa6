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

    /// The configuration file when `--config` names one or one is found; nil when none is given and none found.
    func configFileIfAny() throws -> URL? {
        if config != nil { return try configFile() }
        return try? configFile()
    }

    /// The station; only commands that add to it (`segment add`, `fetch`, `daemon`) create a missing database:
    /// the others stop with one line naming the path, so a database that was lost is not replaced by an empty one.
    func station(createDatabase: Bool = false) throws -> Station {
        try Station.load(configFile: configFile(), createDatabase: createDatabase)
    }
}

/// Output formats shared by listing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}
