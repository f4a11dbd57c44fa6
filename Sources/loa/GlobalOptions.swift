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
    /// A database this made is said on stderr, so a typo in `database` is seen at once, not months later.
    func station(_ access: DatabaseAccess) throws -> Station {
        try station(access, config: StationConfig.load(configFile()))
    }

    /// ``station(_:)`` for a `loa.toml` already read.
    func station(_ access: DatabaseAccess, config: StationConfig) throws -> Station {
        let station = try Station.load(config: config, access: access)
        if station.database.wasCreated {
            FileHandle.standardError.write(Data("loa: chưa có cơ sở dữ liệu ở \(station.database.path): đã tạo mới (lần dùng đầu tiên; nếu đã có nhật ký phát ở nơi khác, kiểm tra “database” trong loa.toml)\n".utf8))
        }
        return station
    }
}

/// Output formats shared by listing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}
