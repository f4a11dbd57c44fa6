import ArgumentParser
import Foundation
import LoaConfig
import LoaDaemon
import LoaStore

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

    /// The station, its database opened as the command needs it: only commands that add to the library create
    /// a missing one (a database that was lost is not replaced by an empty one unnoticed), and commands that only
    /// read open it read-only.
    func station(_ access: DatabaseAccess) throws -> Station {
        try Station.load(configFile: configFile(), access: access)
    }
}

/// Output formats shared by listing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}
