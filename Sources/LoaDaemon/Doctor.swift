import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaFeed
import LoaStore

// `loa doctor`'s decisions: from what each probe found (explicit values, no I/O) to a verdict and one line in
// Vietnamese with what to do. The probes themselves are in DoctorProbes.swift.

/// One verdict of `loa doctor`: `✓ Cấu hình: /etc/loa/loa.toml đọc được (UBND xã Đông Hòa)`.
public struct DoctorFinding: Sendable, Hashable, Codable {
    /// What was checked, as an ASCII slug: `config`, `schedules`, `database`, `device`, `monitor`, `feed`, `disk`, `clock`.
    public var check: String
    /// What was checked, as the operator reads it: `Thiết bị âm thanh “hw:1”`.
    public var subject: String
    public var verdict: HealthVerdict
    /// What was found, and for a warning or a failure what to do.
    public var message: String
    /// Further lines (each problem of the schedules, at its `file:line`).
    public var details: [String]

    public init(check: String, subject: String, verdict: HealthVerdict, message: String, details: [String] = []) {
        self.check = check
        self.subject = subject
        self.verdict = verdict
        self.message = message
        self.details = details
    }

    /// The verdict line, then each detail indented.
    public var lines: [String] {
        ["\(verdict.symbol) \(subject): \(message)"] + details.map { "    \($0)" }
    }
}

/// The exit status a monitoring script reads: 0 when every check passed, 1 when any failed, 2 when the worst was a
/// warning.
public func doctorExitStatus(_ findings: [DoctorFinding]) -> Int32 {
    switch findings.map(\.verdict).max() ?? .ok {
    case .ok: 0
    case .fail: 1
    case .warning: 2
    }
}

/// What opening the sound device and playing silence through it did.
public enum DeviceProbe: Sendable, Equatable {
    /// Opened, `seconds` of silence written and heard, closed.
    case played(seconds: Double)
    case failed(AudioError)
}

/// What opening the monitor line and reading it did.
public enum MonitorProbe: Sendable, Equatable {
    /// Opened and read: `seconds` of audio at a loudest window of `peakDBFS`.
    case captured(seconds: Double, peakDBFS: Double)
    case failed(AudioError)
}

/// What listening to a relay's upstream found.
public enum SourceProbe: Sendable, Equatable {
    /// Audio came: its format, its loudest 100 ms window, and how long the sound had lasted without a break.
    case received(format: String, levelDBFS: Double, soundSeconds: Double)
    case failed(Reason, message: String)
}

/// What opening the database read-only found.
public enum DatabaseProbe: Sendable {
    /// No file where `loa.toml` says: a station before its first run.
    case missing(path: String)
    case unreadable(StoreError)
    /// Opened; `quickCheck` is what `PRAGMA quick_check` said (`["ok"]` when sound).
    case checked(path: String, quickCheck: [String], segments: Int, bytes: Int64)
}

/// The decisions of `loa doctor`, one per check, on explicit inputs.
public enum DoctorCheck {
    /// `loa.toml` read and parsed, or why not (its `file:line` for a value in error).
    public static func config(_ result: Result<StationConfig, ConfigError>) -> DoctorFinding {
        switch result {
        case let .success(config):
            return DoctorFinding(check: "config", subject: "Cấu hình", verdict: .ok,
                                 message: "\(config.file.path) đọc được (\(config.station))")
        case let .failure(error):
            // Several problems: counted on the line, each below it at its `file:line`.
            return DoctorFinding(check: "config", subject: "Cấu hình", verdict: .fail,
                                 message: "\(error.summary ?? error.description); các mục khác cần cấu hình nên không kiểm tra được",
                                 details: error.summary == nil ? [] : error.problems.map(\.description))
        }
    }

    /// Problems are listed at most `shown` at a time, then counted.
    public static func schedules(slots: Int, files: Int, folder: String, problems: [Diagnostic], shown: Int = 10) -> DoctorFinding {
        let subject = "Lịch phát"
        guard problems.isEmpty else {
            var details = problems.prefix(shown).map(\.description)
            if problems.count > shown {
                details.append("… và \(problems.count - shown) lỗi nữa (`loa schedule validate` liệt kê hết)")
            }
            return DoctorFinding(check: "schedules", subject: subject, verdict: .fail,
                                 message: "\(problems.count) lỗi trong \(files) tệp ở \(folder) (\(slots) khung giờ đọc được); cách sửa: sửa từng dòng dưới đây",
                                 details: details)
        }
        guard slots > 0 else {
            return DoctorFinding(check: "schedules", subject: subject, verdict: .warning,
                                 message: files == 0 ? "không có tệp lịch nào (*.toml) trong \(folder): Loa sẽ không phát gì"
                                                     : "\(files) tệp trong \(folder) nhưng không có khung giờ nào: Loa sẽ không phát gì")
        }
        return DoctorFinding(check: "schedules", subject: subject, verdict: .ok,
                             message: "\(slots) khung giờ trong \(files) tệp, không có lỗi")
    }

    public static func database(_ probe: DatabaseProbe) -> DoctorFinding {
        let subject = "Cơ sở dữ liệu"
        switch probe {
        case let .missing(path):
            return DoctorFinding(check: "database", subject: subject, verdict: .warning,
                                 message: "chưa có \(path) (lần chạy đầu: `loa daemon`, `loa segment add` hoặc `loa fetch` sẽ tạo; nếu trước đây đã có thì nó bị xóa: khôi phục bản sao lưu)")
        case let .unreadable(error):
            return DoctorFinding(check: "database", subject: subject, verdict: .fail, message: "\(error)")
        case let .checked(path, quickCheck, segments, bytes):
            guard quickCheck == ["ok"] else {
                return DoctorFinding(check: "database", subject: subject, verdict: .fail,
                                     message: "\(path) bị hỏng (PRAGMA quick_check); cách sửa: chép tệp cùng -wal và -shm ra chỗ an toàn, rồi chạy `sqlite3 \(path) 'PRAGMA integrity_check'`",
                                     details: Array(quickCheck.prefix(5)))
            }
            return DoctorFinding(check: "database", subject: subject, verdict: .ok,
                                 message: "\(path) toàn vẹn (quick_check), \(sizeText(bytes)), thư viện \(segments) bản tin")
        }
    }

    /// The playback device. A device the running daemon holds (`EBUSY`, as `hw:` devices are held) is in use, not
    /// broken: the daemon reports its own device health.
    public static func device(_ name: String, _ probe: DeviceProbe, daemonRunning: Bool) -> DoctorFinding {
        let subject = "Thiết bị âm thanh “\(name)”"
        switch probe {
        case let .played(seconds):
            return DoctorFinding(check: "device", subject: subject, verdict: .ok,
                                 message: "mở được, phát \(decimalText(seconds)) giây im lặng rồi đóng"
                                    + (daemonRunning ? " (Loa daemon đang chạy, dùng chung thiết bị)" : ""))
        case let .failed(error):
            if isBusy(error) {
                return daemonRunning
                    ? DoctorFinding(check: "device", subject: subject, verdict: .ok,
                                    message: "đang được Loa daemon đang chạy sử dụng (không thử phát chen vào)")
                    : DoctorFinding(check: "device", subject: subject, verdict: .fail,
                                    message: "đang bị một chương trình khác chiếm, Loa daemon không chạy; cách sửa: tìm chương trình đó (`fuser -v /dev/snd/*`) và dừng nó")
            }
            return DoctorFinding(check: "device", subject: subject, verdict: .fail,
                                 message: "\(reason(error)); cách sửa: \(deviceFix(error, setting: "device"))")
        }
    }

    /// The monitor line (`monitor` in loa.toml), a capture of the amplifier's output.
    public static func monitor(_ name: String, _ probe: MonitorProbe, daemonRunning: Bool) -> DoctorFinding {
        let subject = "Đường kiểm tra phát sóng “\(name)”"
        switch probe {
        case let .captured(seconds, peak):
            return DoctorFinding(check: "monitor", subject: subject, verdict: .ok,
                                 message: "mở được, thu \(decimalText(seconds)) giây (\(peak <= OnAirCheck.floorDBFS ? "im lặng" : "mức cao nhất \(decimalText(peak)) dBFS")) rồi đóng")
        case let .failed(error):
            if isBusy(error), daemonRunning {
                return DoctorFinding(check: "monitor", subject: subject, verdict: .ok,
                                     message: "đang được Loa daemon đang chạy sử dụng")
            }
            return DoctorFinding(check: "monitor", subject: subject, verdict: .fail,
                                 message: "\(reason(error)); cách sửa: \(deviceFix(error, setting: "monitor"))")
        }
    }

    /// A manifest that expires sooner than this is a warning: the publisher must republish or the station stops
    /// taking anything new from it.
    public static let feedExpiryWarning: Double = 24 * 3600

    /// One `[[feed]]`: reachable, signed by a pinned key, not expired, and how much of it is not downloaded yet
    /// (a warning: the daemon fetches it at its next poll, or `loa fetch` now).
    public static func feed(_ feed: FeedConfig, _ result: Result<FeedCheck, FeedError>, now: Date) -> DoctorFinding {
        let subject = "Feed “\(feed.name)” (\(feed.url))"
        switch result {
        case let .failure(error):
            let fix: String
            switch error {
            case .http: fix = "kiểm tra mạng, máy chủ của bên phát và “url” trong loa.toml"
            case .refused: fix = "kiểm tra “public_keys” trong loa.toml là khóa .pub của bên phát, hoặc báo bên phát xuất bản lại (`loa publish`)"
            default: fix = "xem lỗi ở trên"
            }
            return DoctorFinding(check: "feed", subject: subject, verdict: .fail, message: "\(error); cách sửa: \(fix)")
        case let .success(check):
            let manifest = check.manifest
            let missing = check.decision.toFetch.count, refused = check.decision.refused.count
            var parts = ["chữ ký hợp lệ", "#\(manifest.sequence) của \(manifest.publisher)", "\(manifest.segments.count) bản tin",
                         "hết hạn sau \(durationText(manifest.expires.timeIntervalSince(now)))"]
            var verdict = HealthVerdict.ok
            if missing > 0 {
                parts.append("\(missing) bản tin chưa tải về (Loa daemon tải ở lần hỏi sau, hoặc chạy `loa fetch`)")
                verdict = .warning
            }
            if refused > 0 {
                parts.append("\(refused) mục bị từ chối (`loa fetch` nói lý do)")
                verdict = .warning
            }
            if manifest.expires.timeIntervalSince(now) < feedExpiryWarning {
                parts.append("sắp hết hạn: báo bên phát xuất bản lại")
                verdict = .warning
            }
            return DoctorFinding(check: "feed", subject: subject, verdict: verdict, message: parts.joined(separator: ", "))
        }
    }

    /// Free space where the database and the audio folder are; one finding per file system. `uses` names what lives
    /// on each (`cơ sở dữ liệu`, `audio/`).
    /// A relay's upstream: reachable, what it sends, and whether it has sound.
    public static func source(_ source: UpstreamSource, _ probe: SourceProbe) -> DoctorFinding {
        let subject = "Nguồn tiếp sóng “\(source.label)” (\(source.address))"
        switch probe {
        case let .received(format, level, sound):
            if sound < 1 || level < source.tuning.silenceThresholdDB {
                return DoctorFinding(check: "source", subject: subject, verdict: .warning,
                                     message: "kết nối được (\(format)) nhưng im lặng (mức cao nhất \(decimalText(level)) dBFS, ngưỡng \(decimalText(source.tuning.silenceThresholdDB)) dBFS): kiểm tra nguồn phát có đang phát không")
            }
            return DoctorFinding(check: "source", subject: subject, verdict: .ok,
                                 message: "nhận được âm thanh: \(format), mức \(decimalText(level)) dBFS")
        case let .failed(reason, _):
            let fix = switch reason.code {
            case .relayCapture: "kiểm tra “capture” trong loa.toml (`arecord -L` liệt kê các đường vào) và dây nối máy thu"
            case .relayHTTP, .relayNotAudio: "kiểm tra “url” trong loa.toml: địa chỉ phải là luồng âm thanh (Icecast, Shoutcast hoặc HLS .m3u8)"
            default: "kiểm tra mạng và “url” trong loa.toml; khung giờ tiếp sóng sẽ phát dự phòng"
            }
            return DoctorFinding(check: "source", subject: subject, verdict: .fail, message: "\(ReasonCatalogue.sentence(reason)) — \(fix)")
        }
    }

    public static func disk(_ space: DiskSpace, uses: [String], thresholds: DiskThresholds = .standard) -> DoctorFinding {
        let verdict = space.verdict(thresholds)
        var message = "\(space.summary) ở \(space.path) (\(uses.joined(separator: ", ")))"
        switch verdict {
        case .ok: break
        case .warning:
            message += "; dưới \(sizeText(thresholds.warningBytes)) hoặc \(Int(thresholds.warningFraction * 100)) %: dọn bớt tệp, hoặc thêm đĩa"
        case .fail:
            message += "; dưới \(sizeText(thresholds.failureBytes)): sắp không ghi được nhật ký và bản tin mới; cách sửa: dọn ngay"
        }
        return DoctorFinding(check: "disk", subject: "Đĩa", verdict: verdict, message: message)
    }

    public static func diskUnreadable(_ error: DaemonError) -> DoctorFinding {
        DoctorFinding(check: "disk", subject: "Đĩa", verdict: .warning, message: "\(error)")
    }

    /// The clock's synchronisation, and the station's time zone against the system's: slots follow `loa.toml`'s
    /// zone whatever the system's is, so a difference is only said, never a warning by itself.
    /// `station` is nil when loa.toml could not be read.
    public static func clock(_ sync: Result<ClockSync, DaemonError>, station: TimeZone?, system: TimeZone, now: Date) -> DoctorFinding {
        var zones = "múi giờ hệ thống \(system.identifier)"
        if let station {
            zones = "múi giờ \(station.identifier) (loa.toml)"
        }
        if let station, station.identifier != system.identifier {
            zones += station.secondsFromGMT(for: now) == system.secondsFromGMT(for: now)
                ? ", hệ thống \(system.identifier) cùng độ lệch"
                : ", hệ thống \(system.identifier) khác: Loa phát theo giờ của loa.toml"
        }
        switch sync {
        case let .success(clock):
            let verdict = clock.verdict()
            var message = "\(clock.summary); \(zones)"
            if verdict != .ok {
                message += "; cách sửa: cài và bật một dịch vụ NTP (`apt-get install systemd-timesyncd` hoặc `chrony`)"
            }
            return DoctorFinding(check: "clock", subject: "Đồng hồ", verdict: verdict, message: message)
        case let .failure(error):
            return DoctorFinding(check: "clock", subject: "Đồng hồ", verdict: .warning, message: "\(error); \(zones)")
        }
    }

    // MARK: - Wording

    static func isBusy(_ error: AudioError) -> Bool {
        switch error {
        case let .device(_, code, _), let .capture(_, code, _): code == -EBUSY
        default: false
        }
    }

    /// The error without the device's name, which the subject already says.
    static func reason(_ error: AudioError) -> String {
        switch error {
        case let .device(_, code, message), let .capture(_, code, message):
            "không mở được: \(AudioError.words(code: code, message: message)) (mã ALSA \(code))"
        case let .stalled(_, seconds), let .captureStalled(_, seconds):
            "không nhận hoặc không gửi âm thanh trong \(decimalText(seconds)) giây (treo)"
        default: "\(error)"
        }
    }

    static func deviceFix(_ error: AudioError, setting: String) -> String {
        switch error {
        case let .device(_, code, _), let .capture(_, code, _):
            switch -code {
            case EACCES, EPERM: return "cho người dùng chạy Loa vào nhóm audio (`adduser loa audio`)"
            case EINVAL: return "dùng “plughw:…” thay cho “hw:…” trong “\(setting)” của loa.toml để ALSA tự chuyển định dạng"
            default: return "kiểm tra “\(setting)” trong loa.toml (`aplay -L` và `arecord -L` liệt kê tên thiết bị), dây cắm và card âm thanh"
            }
        default:
            return "kiểm tra card âm thanh hoặc máy chủ âm thanh (PulseAudio) có đang treo không"
        }
    }

    /// `3 ngày 4 giờ`, `5 giờ 12 phút`, `40 phút`; for a past instant, that it has expired.
    static func durationText(_ seconds: Double) -> String {
        guard seconds > 0 else { return "0 phút (đã hết hạn)" }
        let minutes = Int(seconds / 60)
        if minutes >= 24 * 60 { return "\(minutes / 1440) ngày \(minutes % 1440 / 60) giờ" }
        if minutes >= 60 { return "\(minutes / 60) giờ \(minutes % 60) phút" }
        return "\(minutes) phút"
    }
}
