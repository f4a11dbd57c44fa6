import Foundation
import LoaCore
import TOMLKit

/// What went wrong reading the station's files, in words for the operator.
public enum ConfigError: OperatorFacingError, Sendable {
    case notFound(tried: [String])
    case unreadable(path: String, reason: String)
    case invalid(Diagnostic)

    public var description: String {
        switch self {
        case let .notFound(tried): "không tìm thấy tệp cấu hình (đã thử: \(tried.joined(separator: ", ")))"
        case let .unreadable(path, reason): "\(path): không đọc được: \(reason)"
        case let .invalid(diagnostic): diagnostic.description
        }
    }
}

/// An upstream feed the commune trusts. Parsed now; fetched from a later release.
public struct FeedConfig: Sendable, Hashable {
    public var name: String
    public var url: String
    public var publicKeys: [String]
    public var interval: String
}

/// The station's `loa.toml`, with paths resolved against the file's folder.
public struct StationConfig: Sendable {
    public var file: URL
    public var station: String
    public var timeZone: TimeZone
    public var schedules: URL
    public var audio: URL
    public var database: URL
    /// The Unix socket `loa announce` and `loa status` use to reach the running daemon
    /// (`control_socket`, default `<database>.sock` beside the database).
    public var controlSocket: URL
    public var device: String
    public var feeds: [FeedConfig]
    public var targetLUFS: Double

    static let rootKeys = ["station", "timezone", "schedules", "audio", "database", "control_socket", "device", "feed",
                           "loudness"]

    /// The default search order: `./loa.toml`, then `/etc/loa/loa.toml`.
    public static func locate(_ explicit: String?, workingDirectory: URL) throws(ConfigError) -> URL {
        if let explicit {
            return URL(fileURLWithPath: explicit, relativeTo: workingDirectory).standardizedFileURL
        }
        let candidates = [workingDirectory.appendingPathComponent("loa.toml"), URL(fileURLWithPath: "/etc/loa/loa.toml")]
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        throw .notFound(tried: candidates.map(\.path))
    }

    public static func load(_ file: URL) throws(ConfigError) -> StationConfig {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw .unreadable(path: file.path, reason: (error as NSError).localizedDescription)
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: URL) throws(ConfigError) -> StationConfig {
        let name = file.path
        let table: TOMLTable
        do { table = try parseTOML(text, file: name) } catch { throw .invalid(error) }
        let index = TOMLLineIndex(text: text)
        let root = index.table("")
        func at(_ key: String, in section: TOMLLineIndex.Section? = nil) -> SourceLocation {
            let s = section ?? root
            return SourceLocation(file: name, line: s?.keys[key] ?? s?.line ?? 1)
        }
        for key in table.keys where !rootKeys.contains(key) {
            throw .invalid(Diagnostic(at(key), "khóa không hợp lệ “\(key)” (các khóa hợp lệ: \(rootKeys.joined(separator: ", ")))"))
        }
        func string(_ key: String, default fallback: String) throws(ConfigError) -> String {
            guard let value = table[key] else { return fallback }
            guard let text = value.string else { throw .invalid(Diagnostic(at(key), "“\(key)” phải là một chuỗi")) }
            return text
        }
        let folder = file.deletingLastPathComponent()
        func path(_ key: String, default fallback: String) throws(ConfigError) -> URL {
            let raw = try string(key, default: fallback)
            return URL(fileURLWithPath: raw, relativeTo: folder).standardizedFileURL
        }
        let zoneName = try string("timezone", default: "Asia/Ho_Chi_Minh")
        guard let zone = TimeZone(identifier: zoneName) else {
            throw .invalid(Diagnostic(at("timezone"), "múi giờ không hợp lệ “\(zoneName)” (ví dụ: Asia/Ho_Chi_Minh)"))
        }
        var feeds: [FeedConfig] = []
        if let feedArray = table["feed"]?.array {
            for n in 0..<feedArray.count {
                let section = index.arrayElement("feed", n)
                guard let feed = feedArray[n].table, let url = feed["url"]?.string else {
                    throw .invalid(Diagnostic(SourceLocation(file: name, line: section?.line ?? 1), "[[feed]] thiếu “url”"))
                }
                feeds.append(FeedConfig(
                    name: feed["name"]?.string ?? "feed\(n + 1)", url: url,
                    publicKeys: feed["public_keys"]?.array?.compactMap { $0.string } ?? [],
                    interval: feed["interval"]?.string ?? "15m"))
            }
        }
        var target = -16.0
        if let loudness = table["loudness"]?.table, let value = loudness["target_lufs"] {
            guard let number = value.double ?? value.int.map(Double.init), (-40.0...0.0).contains(number) else {
                throw .invalid(Diagnostic(at("target_lufs", in: index.table("loudness")),
                                          "“target_lufs” phải là số từ -40 đến 0, ví dụ -16"))
            }
            target = number
        }
        let database = try path("database", default: "loa.sqlite")
        return StationConfig(
            file: file,
            station: try string("station", default: "Đài truyền thanh xã"),
            timeZone: zone,
            schedules: try path("schedules", default: "schedules"),
            audio: try path("audio", default: "audio"),
            database: database,
            controlSocket: table["control_socket"] == nil
                ? URL(fileURLWithPath: database.path + ".sock") : try path("control_socket", default: ""),
            device: try string("device", default: "default"),
            feeds: feeds,
            targetLUFS: target)
    }

    public var calendar: StationCalendar { StationCalendar(timeZone: timeZone) }

    /// The file whose lock marks the one daemon writing this database: `<database>.lock`, beside it.
    public var lockFile: URL { URL(fileURLWithPath: database.path + ".lock") }
}

/// All schedule files of a station, read together.
public struct ScheduleSet: Sendable {
    public var slots: [Slot]
    public var problems: [Diagnostic]
    public var files: [URL]

    /// Reads every `*.toml` in `folder`, in name order. Paths in diagnostics are relative to `base`.
    public static func load(folder: URL, relativeTo base: URL) -> ScheduleSet {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }.sorted()
        } catch {
            return ScheduleSet(slots: [], problems: [Diagnostic(SourceLocation(file: folder.path, line: 0),
                                                                 "không đọc được thư mục lịch phát")], files: [])
        }
        var set = ScheduleSet(slots: [], problems: [], files: [])
        for name in names {
            let url = folder.appendingPathComponent(name)
            let display = displayPath(url, base: base)
            set.files.append(url)
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                set.problems.append(Diagnostic(SourceLocation(file: display, line: 1), "không đọc được tệp, hoặc tệp không phải UTF-8"))
                continue
            }
            let parsed = ScheduleParser.parse(text, file: display)
            set.slots += parsed.slots
            set.problems += parsed.problems
        }
        return set
    }

    /// `url` relative to `base` when it is inside it, for short, clickable diagnostics.
    public static func displayPath(_ url: URL, base: URL) -> String {
        url.path(relativeTo: base) ?? url.standardizedFileURL.path
    }
}

extension URL {
    /// This file's path below `folder`, or nil when it is not inside it.
    public func path(relativeTo folder: URL) -> String? {
        let path = standardizedFileURL.path, prefix = folder.standardizedFileURL.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : nil
    }
}
