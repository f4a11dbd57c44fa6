import Foundation
import LoaCore
import TOMLKit

/// What went wrong reading the station's files, in words for the operator.
public enum ConfigError: OperatorFacingError, Sendable {
    case notFound(tried: [String])
    case unreadable(path: String, reason: String)
    case invalid(Diagnostic)
    /// An edit that cannot be made as asked, or that would break the schedules; nothing was written.
    case refused(String)

    public var description: String {
        switch self {
        case let .refused(reason): reason
        case let .notFound(tried): "không tìm thấy tệp cấu hình (đã thử: \(tried.joined(separator: ", ")))"
        case let .unreadable(path, reason): "\(path): không đọc được: \(reason)"
        case let .invalid(diagnostic): diagnostic.description
        }
    }
}

/// An upstream feed the commune trusts: where its signed manifest is, which publisher keys may sign it,
/// and how often the daemon asks for it.
public struct FeedConfig: Sendable, Hashable {
    /// A short ASCII name; the feed's files go under `audio/<name>/`.
    public var name: String
    /// The folder URL that holds `feed.json` and `feed.json.sig`, ending in `/`.
    public var url: String
    /// Ed25519 public keys (base64 of 32 bytes), any one of which may sign the manifest.
    public var publicKeys: [String]
    /// Seconds between two polls by the daemon.
    public var intervalSeconds: Double
    /// Seconds to connect, and the longest silence allowed while reading (not a limit on a whole transfer).
    public var timeoutSeconds: Double
    /// Where `name = …` stands in `loa.toml`, for messages.
    public var location: SourceLocation

    public init(name: String, url: String, publicKeys: [String], intervalSeconds: Double = 900, timeoutSeconds: Double = 30,
                location: SourceLocation = SourceLocation(file: "loa.toml", line: 1)) {
        self.name = name
        self.url = url.hasSuffix("/") ? url : url + "/"
        self.publicKeys = publicKeys
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.location = location
    }

    /// `"90"`, `"5s"`, `"15m"`, `"2h"` (or a bare number of seconds) as seconds; nil when it is none of them.
    public static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return nil }
        let (number, unit) = units[last].map { (trimmed.dropLast(), $0) } ?? (Substring(trimmed), 1)
        // At most a week: anything longer is a typo, and must not overflow a timer.
        guard let value = Double(number), value.isFinite, value > 0, value * unit <= 7 * 86400 else { return nil }
        return value * unit
    }
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
    /// The ALSA capture PCM wired to the amplifier's output (`monitor`), whose level confirms each airing; nil without one.
    public var monitor: String?
    /// The level at or below which the monitor line counts as silent (`monitor_silence_dbfs`, default −50).
    public var monitorSilenceDBFS: Double
    public var feeds: [FeedConfig]
    public var targetLUFS: Double
    /// The station's own Ed25519 private key (`signing_key`, made by `loa keygen`), which signs `loa log export`.
    public var signingKey: URL?

    static let rootKeys = ["station", "timezone", "schedules", "audio", "database", "control_socket", "device", "monitor",
                           "monitor_silence_dbfs", "feed", "loudness", "signing_key"]

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
            // Foundation's own words are English and about "the operation": say what is wrong.
            let reason = !FileManager.default.fileExists(atPath: file.path) ? "không có tệp này"
                : !FileManager.default.isReadableFile(atPath: file.path) ? "không có quyền đọc"
                : "không phải văn bản UTF-8"
            throw .unreadable(path: file.path, reason: reason)
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
        let feeds = try parseFeeds(table["feed"], index: index, file: name)
        var target = -16.0
        if let loudness = table["loudness"]?.table, let value = loudness["target_lufs"] {
            guard let number = value.double ?? value.int.map(Double.init), (-40.0...0.0).contains(number) else {
                throw .invalid(Diagnostic(at("target_lufs", in: index.table("loudness")),
                                          "“target_lufs” phải là số từ -40 đến 0, ví dụ -16"))
            }
            target = number
        }
        var monitor: String? = nil
        if let value = table["monitor"] {
            guard let name = value.string, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw .invalid(Diagnostic(at("monitor"), "“monitor” phải là tên thiết bị thu ALSA (ví dụ \"hw:1\" hoặc \"plughw:1,0\")"))
            }
            monitor = name
        }
        var silence = OnAirCheck.defaultSilenceDBFS
        if let value = table["monitor_silence_dbfs"] {
            guard let number = value.double ?? value.int.map(Double.init), (-90.0...(-10.0)).contains(number) else {
                throw .invalid(Diagnostic(at("monitor_silence_dbfs"), "“monitor_silence_dbfs” phải là số từ -90 đến -10, ví dụ -50"))
            }
            silence = number
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
            monitor: monitor,
            monitorSilenceDBFS: silence,
            feeds: feeds,
            targetLUFS: target,
            signingKey: table["signing_key"] == nil ? nil : try path("signing_key", default: ""))
    }

    static let feedKeys = ["name", "url", "public_keys", "interval", "timeout"]

    /// Each `[[feed]]`, checked whole: a feed that could never be verified or fetched is an error at its line.
    static func parseFeeds(_ value: TOMLValueConvertible?, index: TOMLLineIndex, file name: String) throws(ConfigError) -> [FeedConfig] {
        guard let value else { return [] }
        guard let array = value.array else {
            throw .invalid(Diagnostic(SourceLocation(file: name, line: index.table("feed")?.line ?? 1), "“feed” phải là bảng [[feed]]"))
        }
        var feeds: [FeedConfig] = []
        for n in 0..<array.count {
            let section = index.arrayElements("feed").dropFirst(n).first
            func at(_ key: String?) -> SourceLocation {
                SourceLocation(file: name, line: key.flatMap { section?.keys[$0] } ?? section?.line ?? 1)
            }
            guard let feed = array[n].table else { throw .invalid(Diagnostic(at(nil), "[[feed]] phải là một bảng")) }
            for key in feed.keys where !feedKeys.contains(key) {
                throw .invalid(Diagnostic(at(key), "khóa không hợp lệ “\(key)” trong [[feed]] (các khóa hợp lệ: \(feedKeys.joined(separator: ", ")))"))
            }
            guard let feedName = feed["name"]?.string, !feedName.isEmpty,
                  feedName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw .invalid(Diagnostic(at("name"), "[[feed]] cần “name”: chữ không dấu, số, - hoặc _ (ví dụ \"tinh\"); tệp của feed nằm trong audio/<name>/"))
            }
            if feeds.contains(where: { $0.name == feedName }) {
                throw .invalid(Diagnostic(at("name"), "feed “\(feedName)” khai báo hai lần"))
            }
            guard let url = feed["url"]?.string, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""),
                  parsed.host != nil else {
                throw .invalid(Diagnostic(at("url"), "feed “\(feedName)”: “url” phải là địa chỉ http:// hoặc https:// của thư mục chứa feed.json"))
            }
            let keys = feed["public_keys"]?.array.map { array in (0..<array.count).map { array[$0].string } } ?? []
            guard !keys.isEmpty else {
                throw .invalid(Diagnostic(at("public_keys"), "feed “\(feedName)”: cần “public_keys” (khóa công khai Ed25519 của bên phát, dạng base64)"))
            }
            var publicKeys: [String] = []
            for key in keys {
                guard let key, let bytes = Data(base64Encoded: key), bytes.count == 32 else {
                    throw .invalid(Diagnostic(at("public_keys"), "feed “\(feedName)”: khóa “\(key ?? "?")” không phải khóa công khai Ed25519 (base64 của 32 byte)"))
                }
                publicKeys.append(key)
            }
            func duration(_ key: String, default fallback: Double) throws(ConfigError) -> Double {
                guard let raw = feed[key] else { return fallback }
                guard let text = raw.string ?? raw.int.map(String.init), let seconds = FeedConfig.seconds(text) else {
                    throw .invalid(Diagnostic(at(key), "feed “\(feedName)”: “\(key)” phải là thời lượng như \"30s\", \"15m\", \"1h\""))
                }
                return seconds
            }
            feeds.append(FeedConfig(name: feedName, url: url, publicKeys: publicKeys,
                                    intervalSeconds: try duration("interval", default: 900),
                                    timeoutSeconds: try duration("timeout", default: 30), location: at("name")))
        }
        return feeds
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

    /// The schedule files in `folder`, in name order: `*.toml`, not hidden (an editor's or an edit's temporary file).
    public static func files(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }

    /// Reads every `*.toml` in `folder`, in name order. Paths in diagnostics are relative to `base`. `replacing`
    /// gives the text of files as an edit would leave them (a file not yet written is added).
    public static func load(folder: URL, relativeTo base: URL, replacing: [URL: String] = [:]) -> ScheduleSet {
        var urls: [URL]
        do {
            urls = try files(in: folder)
        } catch {
            return ScheduleSet(slots: [], problems: [Diagnostic(SourceLocation(file: folder.path, line: 0),
                                                                 "không đọc được thư mục lịch phát")], files: [])
        }
        for url in replacing.keys where !urls.contains(url) { urls.append(url) }
        urls.sort { $0.lastPathComponent < $1.lastPathComponent }
        var set = ScheduleSet(slots: [], problems: [], files: [])
        for url in urls {
            let display = displayPath(url, base: base)
            set.files.append(url)
            guard let text = replacing[url] ?? FileManager.default.contents(atPath: url.path).flatMap({ String(data: $0, encoding: .utf8) }) else {
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
