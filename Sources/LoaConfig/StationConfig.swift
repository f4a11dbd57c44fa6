import Foundation
import LoaCore
import TOMLKit

/// What went wrong reading the station's files, in words for the operator.
public enum ConfigError: OperatorFacingError, Sendable {
    case notFound(tried: [String])
    case unreadable(path: String, reason: String)
    /// Every problem found in a file, each at its own line, in line order (at least one).
    case invalid([Diagnostic])
    /// An edit that cannot be made as asked, or that would break the schedules; nothing was written.
    case refused(String)

    /// A file with one problem.
    public static func invalid(_ problem: Diagnostic) -> ConfigError { .invalid([problem]) }

    /// One line per problem, `file:line: message`.
    public var description: String {
        switch self {
        case let .refused(reason): reason
        case let .notFound(tried): "không tìm thấy tệp cấu hình (đã thử: \(tried.joined(separator: ", ")))"
        case let .unreadable(path, reason): "\(path): không đọc được: \(reason)"
        case let .invalid(problems): problems.map(\.description).joined(separator: "\n")
        }
    }

    /// The problems of a file that does not read as it should, one by one; empty for the other errors.
    public var problems: [Diagnostic] {
        if case let .invalid(problems) = self { problems } else { [] }
    }

    /// `4 lỗi trong /etc/loa/loa.toml`: what a list of several problems is summed up as.
    public var summary: String? {
        guard case let .invalid(problems) = self, problems.count > 1, let file = problems.first?.location.file else { return nil }
        return "\(problems.count) lỗi trong \(file)"
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
    /// The upstreams relay slots take live (`[[source]]`), in the order written.
    public var sources: [UpstreamSource]
    public var targetLUFS: Double
    /// The station's own Ed25519 private key (`signing_key`, made by `loa keygen`), which signs `loa log export`.
    public var signingKey: URL?

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

    /// Keys at the top of `loa.toml`.
    static let rootKeys = ["station", "timezone", "schedules", "audio", "database", "control_socket", "device", "monitor",
                           "monitor_silence_dbfs", "signing_key"]
    static let loudnessKeys = ["target_lufs"]
    static let feedKeys = ["name", "url", "public_keys", "interval", "timeout"]
    static let sourceKeys = ["name", "label", "url", "capture"] + sourceDurations.map(\.key) + ["silence_threshold"]
    /// The durations of a `[[source]]` (``RelayTuning``'s fields), with the seconds each may take: beyond them a value
    /// is a typo (a buffer of an hour would hold a gigabyte of audio; a stall noticed after ten minutes is dead air).
    static let sourceDurations: [(key: String, range: ClosedRange<Double>, field: any WritableKeyPath<RelayTuning, Double> & Sendable)] = [
        ("lead", 1...300, \.leadSeconds), ("buffer", 0.5...60, \.bufferSeconds), ("stall", 1...300, \.stallSeconds),
        ("connect_timeout", 1...300, \.connectTimeoutSeconds), ("silence", 1...3600, \.silenceSeconds),
        ("return", 0.5...600, \.returnSeconds), ("reconnect", 0.5...600, \.reconnectSeconds),
        ("reconnect_max", 1...3600, \.reconnectMaxSeconds),
    ]
    /// The tables `loa.toml` may hold, as written, with their keys.
    static let tables: [(name: String, header: String, keys: [String])] = [
        ("loudness", "[loudness]", loudnessKeys), ("feed", "[[feed]]", feedKeys), ("source", "[[source]]", sourceKeys),
    ]

    public static func parse(_ text: String, file: URL) throws(ConfigError) -> StationConfig {
        let table: TOMLTable
        do { table = try parseTOML(text, file: file.path) } catch { throw .invalid(error) }
        var reader = StationConfigReader(table: table, index: TOMLLineIndex(text: text), file: file)
        let config = reader.read()
        guard let config, reader.problems.isEmpty else {
            throw .invalid(reader.problems.sorted { $0.location.line < $1.location.line })
        }
        return config
    }

    public var calendar: StationCalendar { StationCalendar(timeZone: timeZone) }

    /// The `[[source]]` named `name`, or nil.
    public func source(named name: String) -> UpstreamSource? { sources.first { $0.name == name } }

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
