import Foundation
import LoaCore
import TOMLKit

/// Reads the values of `loa.toml`, collecting every problem at its own line rather than stopping at the first: a
/// technician fixes the file in one pass.
struct StationConfigReader {
    let table: TOMLTable
    let index: TOMLLineIndex
    let file: URL
    private(set) var problems: [Diagnostic] = []

    init(table: TOMLTable, index: TOMLLineIndex, file: URL) {
        self.table = table
        self.index = index
        self.file = file
    }

    private var root: TOMLLineIndex.Section { index.sections[0] }

    private mutating func problem(_ line: Int, _ message: String) {
        problems.append(Diagnostic(SourceLocation(file: file.path, line: line), message))
    }

    /// The configuration, or nil when a problem was found (then ``problems`` says every one).
    mutating func read() -> StationConfig? {
        checkRootKeys()
        let zoneName = string("timezone", default: "Asia/Ho_Chi_Minh")
        let zone = TimeZone(identifier: zoneName)
        if zone == nil {
            problem(index.line(of: "timezone", in: root), "múi giờ không hợp lệ “\(zoneName)” (ví dụ: Asia/Ho_Chi_Minh)")
        }
        let station = string("station", default: "Đài truyền thanh xã")
        // It heads every report and export: a line break there would break their tables and lines.
        if !isOneLineText(station) {
            problem(index.line(of: "station", in: root), "“station” phải là một dòng chữ, không rỗng, không xuống dòng hay ký tự điều khiển")
        }
        let schedules = path("schedules", default: "schedules"), audio = path("audio", default: "audio")
        let database = path("database", default: "loa.sqlite")
        let controlSocket = table["control_socket"] == nil ? URL(fileURLWithPath: database.path + ".sock") : path("control_socket", default: "")
        let device = string("device", default: "default")
        var monitor: String? = nil
        if let value = table["monitor"] {
            if let name = value.string, !name.trimmingCharacters(in: .whitespaces).isEmpty {
                monitor = name
            } else {
                problem(index.line(of: "monitor", in: root), "“monitor” phải là tên thiết bị thu ALSA (ví dụ \"hw:1\" hoặc \"plughw:1,0\")")
            }
        }
        let silence = number("monitor_silence_dbfs", in: table, section: root, range: -90.0...(-10.0), example: "-50")
            ?? OnAirCheck.defaultSilenceDBFS
        let target = readLoudness()
        let feeds = readFeeds()
        let sources = readSources()
        let signingKey = table["signing_key"] == nil ? nil : path("signing_key", default: "")
        guard problems.isEmpty, let zone else { return nil }
        return StationConfig(file: file, station: station, timeZone: zone, schedules: schedules, audio: audio, database: database,
                             controlSocket: controlSocket, device: device, monitor: monitor, monitorSilenceDBFS: silence,
                             feeds: feeds, sources: sources, targetLUFS: target, signingKey: signingKey)
    }

    // MARK: - Keys

    /// Every key at the top must be known; a table's key written there, or a table that is not one of loa.toml's,
    /// is said as such, at its own line.
    private mutating func checkRootKeys() {
        let tables = StationConfig.tables
        for key in table.keys where !StationConfig.rootKeys.contains(key) && !tables.contains(where: { $0.name == key }) {
            let line = index.line(of: key, in: root)
            if let owner = tables.first(where: { $0.keys.contains(key) }) {
                problem(line, "khóa “\(key)” thuộc bảng \(owner.header): viết nó dưới một dòng \(owner.header)")
            } else if root.keys[key] == nil, let header = index.header(of: key, in: root) {
                // Written as `[misc]` or `[[misc]]`, not `misc = …`: a table.
                let written = header.isArrayElement ? "[[\(key)]]" : "[\(key)]"
                let guess = UnknownKey.closest(to: key, among: tables.map(\.name))
                    .flatMap { name in tables.first { $0.name == name } }.map { ": có phải \($0.header)?" } ?? ""
                problem(line, "bảng không hợp lệ \(written)\(guess) (các bảng hợp lệ: \(tables.map(\.header).joined(separator: ", ")))")
            } else {
                problem(line, UnknownKey.message(key, in: nil, known: StationConfig.rootKeys,
                                                 listed: StationConfig.rootKeys + tables.map(\.header)))
            }
        }
    }

    /// The keys of one table (`[loudness]`, one `[[feed]]`) that it does not know. A top-level key among them was
    /// written below the table's header, and so belongs to it in TOML: the operator is told to move it up.
    private mutating func checkKeys(of values: TOMLTable, known: [String], header: String, section: TOMLLineIndex.Section?) {
        for key in values.keys where !known.contains(key) {
            let line = section.map { index.line(of: key, in: $0) } ?? 1
            if StationConfig.rootKeys.contains(key), let section {
                let first = index.sections.dropFirst().first?.line ?? section.line
                problem(line, "khóa “\(key)” nằm dưới \(header) (dòng \(section.line)) nên bị coi là của bảng này: "
                        + "đặt nó trước bảng đầu tiên (dòng \(first))")
            } else {
                problem(line, UnknownKey.message(key, in: header, known: known))
            }
        }
    }

    // MARK: - Values

    private mutating func string(_ key: String, default fallback: String) -> String {
        guard let value = table[key] else { return fallback }
        guard let text = value.string else {
            problem(index.line(of: key, in: root), "“\(key)” phải là một chuỗi")
            return fallback
        }
        return text
    }

    /// A path in loa.toml, resolved against the file's folder.
    private mutating func path(_ key: String, default fallback: String) -> URL {
        URL(fileURLWithPath: string(key, default: fallback), relativeTo: file.deletingLastPathComponent()).standardizedFileURL
    }

    private mutating func number(_ key: String, in values: TOMLTable, section: TOMLLineIndex.Section?, range: ClosedRange<Double>,
                                 example: String) -> Double? {
        guard let value = values[key] else { return nil }
        guard let number = value.double ?? value.int.map(Double.init), range.contains(number) else {
            problem(section.map { index.line(of: key, in: $0) } ?? 1,
                    "“\(key)” phải là số từ \(decimal(range.lowerBound)) đến \(decimal(range.upperBound)), ví dụ \(example)")
            return nil
        }
        return number
    }

    private func decimal(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }

    /// `[loudness]`: the target loudness, −16 LUFS when not given.
    private mutating func readLoudness() -> Double {
        guard let value = table["loudness"] else { return -16 }
        let section = index.table("loudness")
        guard let loudness = value.table else {
            problem(index.line(of: "loudness", in: root), "“loudness” phải là bảng: dòng [loudness], rồi target_lufs = … ở dòng dưới")
            return -16
        }
        checkKeys(of: loudness, known: StationConfig.loudnessKeys, header: "[loudness]", section: section ?? root)
        return number("target_lufs", in: loudness, section: section ?? root, range: -40...0, example: "-16") ?? -16
    }

    /// Each `[[feed]]`, checked whole: a feed that could never be verified or fetched is an error at its line.
    private mutating func readFeeds() -> [FeedConfig] {
        guard let value = table["feed"] else { return [] }
        guard let array = value.array else {
            problem(index.line(of: "feed", in: root), "“feed” phải là bảng [[feed]]")
            return []
        }
        let sections = index.arrayElements("feed")
        var feeds: [FeedConfig] = [], names: Set<String> = []
        for n in 0..<array.count {
            let section = n < sections.count ? sections[n] : nil
            /// Where `key` of this feed is written; its `[[feed]]` line for nil.
            func line(_ key: String?) -> Int {
                guard let section else { return 1 }
                return key.map { index.line(of: $0, in: section) } ?? section.line
            }
            guard let feed = array[n].table else {
                problem(line(nil), "[[feed]] phải là một bảng")
                continue
            }
            let before = problems.count
            checkKeys(of: feed, known: StationConfig.feedKeys, header: "[[feed]]", section: section)
            let rawName = feed["name"]?.string ?? ""
            let nameIsValid = !rawName.isEmpty
                && rawName.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            if !nameIsValid {
                problem(line("name"), "[[feed]] cần “name”: chữ không dấu, số, - hoặc _ (ví dụ \"tinh\"); tệp của feed nằm trong audio/<name>/")
            } else if !names.insert(rawName).inserted {
                problem(line("name"), "feed “\(rawName)” khai báo hai lần")
            }
            let label = nameIsValid ? "feed “\(rawName)”" : "[[feed]] ở dòng \(line(nil))"
            let url = feed["url"]?.string ?? ""
            if URL(string: url).map({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) != true {
                problem(line("url"), "\(label): “url” phải là địa chỉ http:// hoặc https:// của thư mục chứa feed.json")
            }
            let keys = feed["public_keys"]?.array.map { array in (0..<array.count).map { array[$0].string } } ?? []
            if keys.isEmpty {
                problem(line("public_keys"), "\(label): cần “public_keys” (khóa công khai Ed25519 của bên phát, dạng base64)")
            }
            var publicKeys: [String] = []
            for key in keys {
                if let key, let bytes = Data(base64Encoded: key), bytes.count == 32 {
                    publicKeys.append(key)
                } else {
                    problem(line("public_keys"), "\(label): khóa “\(key ?? "?")” không phải khóa công khai Ed25519 (base64 của 32 byte)")
                }
            }
            let interval = Self.duration(feed["interval"], default: 900), timeout = Self.duration(feed["timeout"], default: 30)
            for (key, seconds) in [("interval", interval), ("timeout", timeout)] where seconds == nil {
                problem(line(key), "\(label): “\(key)” phải là thời lượng như \"30s\", \"15m\", \"1h\"")
            }
            guard problems.count == before, let interval, let timeout else { continue }
            feeds.append(FeedConfig(name: rawName, url: url, publicKeys: publicKeys, intervalSeconds: interval, timeoutSeconds: timeout,
                                    location: SourceLocation(file: file.path, line: line("name"))))
        }
        return feeds
    }

    /// A duration as `loa.toml` writes it (`"30s"`, `"15m"`, `"1h"`, or a number of seconds); `fallback` when the key
    /// is not there, nil when its value is none of these.
    private static func duration(_ value: TOMLValueConvertible?, default fallback: Double) -> Double? {
        guard let value else { return fallback }
        return (value.string ?? value.int.map(String.init) ?? value.double.map { String($0) }).flatMap(FeedConfig.seconds)
    }

    /// Each `[[source]]`, checked whole: a relay that could never be opened, or whose bounds make no sense, is an
    /// error at its line, never a slot that goes silent on air.
    private mutating func readSources() -> [UpstreamSource] {
        guard let value = table["source"] else { return [] }
        guard let array = value.array else {
            problem(index.line(of: "source", in: root), "“source” phải là bảng [[source]]")
            return []
        }
        let sections = index.arrayElements("source")
        var sources: [UpstreamSource] = [], names: [String: Int] = [:]
        for n in 0..<array.count {
            let section = n < sections.count ? sections[n] : nil
            /// Where `key` of this source is written; its `[[source]]` line for nil.
            func line(_ key: String?) -> Int {
                guard let section else { return 1 }
                return key.map { index.line(of: $0, in: section) } ?? section.line
            }
            guard let source = array[n].table else {
                problem(line(nil), "[[source]] phải là một bảng")
                continue
            }
            let before = problems.count
            checkKeys(of: source, known: StationConfig.sourceKeys, header: "[[source]]", section: section)
            let rawName = source["name"]?.string ?? ""
            let nameIsValid = !rawName.isEmpty
                && rawName.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            if !nameIsValid {
                problem(line("name"), "[[source]] cần “name”: chữ không dấu, số, - hoặc _ (ví dụ \"vov1\"); khung giờ viết relay = \"<name>\"")
            } else if let first = names[rawName] {
                problem(line("name"), "nguồn tiếp sóng “\(rawName)” khai báo hai lần (lần đầu ở dòng \(first))")
            } else {
                names[rawName] = line("name")
            }
            let subject = nameIsValid ? "nguồn “\(rawName)”" : "[[source]] ở dòng \(line(nil))"
            var label: String? = nil
            if let value = source["label"] {
                if let text = value.string, isOneLineText(text) { label = text } else {
                    problem(line("label"), "\(subject): “label” phải là một dòng chữ, không rỗng, ví dụ \"VOV1\"")
                }
            }
            var input: UpstreamSource.Input? = nil
            switch (source["url"], source["capture"]) {
            case (.some, .some):
                problem(line("capture"), "\(subject): chỉ dùng một trong hai: “url” (luồng qua mạng) hoặc “capture” (đường vào của card âm thanh)")
            case (nil, nil):
                problem(line(nil), "\(subject) cần “url” (luồng http:// hoặc https://: Icecast, Shoutcast, HLS .m3u8) hoặc “capture” (thiết bị thu ALSA, ví dụ \"plughw:1,0\")")
            case let (url?, nil):
                let text = url.string ?? ""
                if URL(string: text).map({ ["http", "https"].contains($0.scheme?.lowercased() ?? "") && !($0.host ?? "").isEmpty }) == true {
                    input = .stream(url: text)
                } else {
                    problem(line("url"), "\(subject): “url” phải là địa chỉ http:// hoặc https:// của luồng (Icecast, Shoutcast hoặc HLS .m3u8), không phải \(url.debugDescription)")
                }
            case let (nil, capture?):
                if let device = capture.string, isOneLineText(device), !device.contains(" ") {
                    input = .capture(device: device)
                } else {
                    problem(line("capture"), "\(subject): “capture” phải là tên thiết bị thu ALSA, ví dụ \"plughw:1,0\" hoặc \"hw:1\"")
                }
            }
            var tuning = RelayTuning()
            for (key, range, field) in StationConfig.sourceDurations {
                guard let value = source[key] else { continue }
                if let seconds = Self.duration(value, default: 0), range.contains(seconds) {
                    tuning[keyPath: field] = seconds
                } else {
                    problem(line(key), "\(subject): “\(key)” phải là thời lượng từ \(Self.durationText(range.lowerBound)) đến "
                            + "\(Self.durationText(range.upperBound)), viết như \"4s\", \"2m\" hoặc số giây, không phải \(value.debugDescription)")
                }
            }
            if let threshold = number("silence_threshold", in: source, section: section, range: -90...(-10), example: "-40") {
                tuning.silenceThresholdDB = threshold
            }
            // Checked only between values that read: a bad one is already said at its own line.
            if source["buffer"] != nil || source["lead"] != nil, problems.count == before, tuning.bufferSeconds >= tuning.leadSeconds {
                problem(line(source["buffer"] != nil ? "buffer" : "lead"),
                        "\(subject): “buffer” (\(Self.durationText(tuning.bufferSeconds))) phải ngắn hơn “lead” (\(Self.durationText(tuning.leadSeconds))): "
                        + "kết nối mở trước giờ phát “lead” giây và phải nạp đầy bộ đệm trước khi đến giờ")
            }
            if source["reconnect"] != nil || source["reconnect_max"] != nil, problems.count == before,
               tuning.reconnectMaxSeconds < tuning.reconnectSeconds {
                problem(line(source["reconnect_max"] != nil ? "reconnect_max" : "reconnect"),
                        "\(subject): “reconnect_max” (\(Self.durationText(tuning.reconnectMaxSeconds))) không được ngắn hơn “reconnect” (\(Self.durationText(tuning.reconnectSeconds)))")
            }
            guard problems.count == before, let input else { continue }
            sources.append(UpstreamSource(name: rawName, label: label, input: input, tuning: tuning,
                                          location: SourceLocation(file: file.path, line: line(nil))))
        }
        return sources
    }

    /// `4 giây`, `1,5 giây`, `5 phút`, `1 giờ`: a bound as a person says it.
    private static func durationText(_ seconds: Double) -> String {
        func number(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : decimalText(value) }
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(number(seconds / 3600)) giờ" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(number(seconds / 60)) phút" }
        return "\(number(seconds)) giây"
    }
}
