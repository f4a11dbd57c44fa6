import Foundation

/// What `loa status` reports: what is on air, what comes next, feed and device health, the host, the daemon.
/// A plain value, built by the daemon (or, with the daemon down, by the CLI from the files and the log) and sent
/// over the control channel as JSON; ``lines`` is its text for the officer. Times are RFC 3339 in station time.
public struct StationStatus: Codable, Sendable, Equatable {
    public struct Daemon: Codable, Sendable, Equatable {
        public var running: Bool
        public var pid: Int32?
        public var started_at: String?
        public var uptime_seconds: Double?
        public init(running: Bool, pid: Int32? = nil, started_at: String? = nil, uptime_seconds: Double? = nil) {
            self.running = running
            self.pid = pid
            self.started_at = started_at
            self.uptime_seconds = uptime_seconds
        }
    }

    public struct OnAir: Codable, Sendable, Equatable {
        public var slot: String
        public var title: String
        public var kind: String
        public var started_at: String
        public var elapsed_seconds: Double
        public var remaining_seconds: Double
        public init(slot: String, title: String, kind: String, started_at: String, elapsed_seconds: Double, remaining_seconds: Double) {
            self.slot = slot
            self.title = title
            self.kind = kind
            self.started_at = started_at
            self.elapsed_seconds = elapsed_seconds
            self.remaining_seconds = remaining_seconds
        }
    }

    public struct Next: Codable, Sendable, Equatable {
        public var slot: String
        public var starts_at: String
        public var ends_at: String?
        /// Titles in airing order; jingles marked with "♪ ".
        public var items: [String]
        /// What the planner had to leave out, in words.
        public var dropped: [String]
        public init(slot: String, starts_at: String, ends_at: String?, items: [String], dropped: [String]) {
            self.slot = slot
            self.starts_at = starts_at
            self.ends_at = ends_at
            self.items = items
            self.dropped = dropped
        }
    }

    public struct Feed: Codable, Sendable, Equatable {
        public var name: String
        public var url: String
        /// When the daemon last asked, and what came of it (`ok`, `warning`, `fail`), when it has asked since it started.
        public var last_poll_at: String?
        public var last_result: HealthVerdict?
        public var last_message: String?
        /// From the database: the last time a manifest was checked, and accepted.
        public var checked_at: String?
        public var accepted_at: String?
        public var expires_at: String?
        /// Titles the verified manifest lists for today that are not downloaded yet.
        public var missing: [String]
        /// Titles the verified manifest lists for today whose file was refused (its hash did not match, or it did not
        /// decode): not coming until the publisher publishes again.
        public var refused: [String]
        public init(name: String, url: String, last_poll_at: String? = nil, last_result: HealthVerdict? = nil, last_message: String? = nil,
                    checked_at: String? = nil, accepted_at: String? = nil, expires_at: String? = nil, missing: [String] = [],
                    refused: [String] = []) {
            self.refused = refused
            self.name = name
            self.url = url
            self.last_poll_at = last_poll_at
            self.last_result = last_result
            self.last_message = last_message
            self.checked_at = checked_at
            self.accepted_at = accepted_at
            self.expires_at = expires_at
            self.missing = missing
        }
    }

    public struct Device: Codable, Sendable, Equatable {
        public var name: String
        /// `ok` (last used without fault), `lost` (failing now, retried), `unknown` (not used since the daemon
        /// started, or the daemon is down).
        public var state: String
        public var message: String?
        public var since: String?
        public var xruns_today: Int
        /// Today's rows that did not air whole: failed, truncated or interrupted.
        public var failures_today: Int
        public init(name: String, state: String, message: String? = nil, since: String? = nil, xruns_today: Int, failures_today: Int) {
            self.name = name
            self.state = state
            self.message = message
            self.since = since
            self.xruns_today = xruns_today
            self.failures_today = failures_today
        }
    }

    /// A relay's upstream while it is received (from its lead to the slot's end).
    public struct Relay: Codable, Sendable, Equatable {
        public var source: String
        public var label: String
        public var address: String
        /// `connecting`, `buffering`, `relaying` or `fallback` (``RelayState``).
        public var state: String
        public var buffered_seconds: Double
        /// The upstream's level in its last 100 ms window, dBFS; nil before any audio.
        public var level_dbfs: Double?
        public var format: String?
        /// The resampler's correction against the sound card's clock, in percent.
        public var drift_percent: Double
        /// Why the upstream is not heard, when it is not (a reason code and its sentence).
        public var fault_code: String?
        public var fault: String?
        public init(source: String, label: String, address: String, state: String, buffered_seconds: Double, level_dbfs: Double?,
                    format: String?, drift_percent: Double, fault_code: String?, fault: String?) {
            self.source = source
            self.label = label
            self.address = address
            self.state = state
            self.buffered_seconds = buffered_seconds
            self.level_dbfs = level_dbfs
            self.format = format
            self.drift_percent = drift_percent
            self.fault_code = fault_code
            self.fault = fault
        }
    }

    /// One verdict on the host: disk space, clock synchronisation.
    public struct Check: Codable, Sendable, Equatable {
        public var check: String
        public var verdict: HealthVerdict
        public var message: String
        public init(check: String, verdict: HealthVerdict, message: String) {
            self.check = check
            self.verdict = verdict
            self.message = message
        }
    }

    public var station: String
    public var generated_at: String
    public var daemon: Daemon
    public var on_air: OnAir?
    public var next: [Next]
    public var feeds: [Feed]
    public var device: Device
    /// Today's rows by outcome (`completed`, `failed`, …), only those with rows.
    public var today: [String: Int]
    public var host: [Check]
    /// Problems in the schedule files (`file:line: …`): the slots they are in do not air.
    public var schedule_problems: [String]
    /// The relays being received now.
    public var relays: [Relay] = []

    public init(station: String, generated_at: String, daemon: Daemon, on_air: OnAir?, next: [Next], feeds: [Feed],
                device: Device, today: [String: Int], host: [Check], schedule_problems: [String] = []) {
        self.station = station
        self.generated_at = generated_at
        self.daemon = daemon
        self.on_air = on_air
        self.next = next
        self.feeds = feeds
        self.device = device
        self.today = today
        self.host = host
        self.schedule_problems = schedule_problems
    }

    /// The status for the officer, one fact a line, in Vietnamese.
    public var lines: [String] {
        var out: [String] = []
        if daemon.running {
            let uptime = daemon.uptime_seconds.map { ", chạy được \(StationStatus.duration($0))" } ?? ""
            out.append("\(station): Loa đang chạy (pid \(daemon.pid.map(String.init) ?? "?")\(uptime))")
        } else {
            out.append("\(station): Loa KHÔNG chạy — không có gì được phát theo lịch (khởi động: systemctl start loa)")
        }
        if let first = schedule_problems.first {
            out.append("⚠ Lịch phát có \(schedule_problems.count) lỗi, khung giờ có lỗi không được phát (đầu tiên: \(first)); xem: loa schedule validate")
        }
        if let on = on_air {
            out.append("Đang phát: “\(on.title)” (\(on.slot)), đã phát \(formatSeconds(on.elapsed_seconds)), còn \(formatSeconds(on.remaining_seconds))")
        } else {
            out.append("Đang phát: không có")
        }
        for relay in relays {
            let state = RelayState(rawValue: relay.state)?.label ?? relay.state
            var parts = ["\(state)", "đệm \(decimalText(relay.buffered_seconds)) giây"]
            if let level = relay.level_dbfs { parts.append("mức \(decimalText(level)) dBFS") }
            if abs(relay.drift_percent) >= 0.05 { parts.append("bù lệch đồng hồ \(decimalText(relay.drift_percent, signed: true)) %") }
            if let format = relay.format { parts.append(format) }
            if let fault = relay.fault { parts.append("⚠ \(fault)") }
            out.append("Tiếp sóng “\(relay.label)” (\(relay.address)): " + parts.joined(separator: ", "))
        }
        out.append(next.isEmpty ? "Sắp tới: không có khung giờ nào" : "Sắp tới:")
        for slot in next {
            let end = slot.ends_at.map { "–" + StationStatus.clock($0) } ?? ""
            out.append("  \(StationStatus.dayAndClock(slot.starts_at))\(end)  \(slot.slot): "
                       + (slot.items.isEmpty ? "(không có bản tin nào)" : slot.items.joined(separator: "; ")))
            for reason in slot.dropped { out.append("    ⚠ \(reason)") }
        }
        let state = switch device.state {
        case "ok": "tốt"
        case "lost": "MẤT" + (device.message.map { ": \($0)" } ?? "")
        default: "chưa dùng tới"
        }
        out.append("Thiết bị “\(device.name)”: \(state)\(device.since.map { " (từ \(StationStatus.dayAndClock($0)))" } ?? ""); hôm nay \(device.xruns_today) lần xrun, \(device.failures_today) lượt phát không trọn")
        let counted = AiringOutcome.allCases.compactMap { outcome in today[outcome.rawValue].map { "\($0) \(outcome.label)" } }
        out.append("Hôm nay: " + (counted.isEmpty ? "chưa có lượt phát nào" : counted.joined(separator: ", ")))
        for feed in feeds {
            var parts: [String] = []
            if let at = feed.last_poll_at {
                let mark = switch feed.last_result {
                case .ok: "tốt"
                case .warning: "có cảnh báo"
                case .fail, nil: "LỖI"
                }
                parts.append("hỏi lúc \(StationStatus.dayAndClock(at)): \(mark)\(feed.last_message.map { " — \($0)" } ?? "")")
            } else if let at = feed.checked_at {
                parts.append("kiểm tra lần cuối \(StationStatus.dayAndClock(at))")
            } else {
                parts.append("chưa tải lần nào")
            }
            if let at = feed.accepted_at { parts.append("nhận bản mới \(StationStatus.dayAndClock(at))") }
            if feed.missing.isEmpty && feed.refused.isEmpty { parts.append("đủ bản tin hôm nay") }
            if !feed.missing.isEmpty { parts.append("chưa tải về: " + feed.missing.map { "“\($0)”" }.joined(separator: ", ")) }
            if !feed.refused.isEmpty {
                parts.append("bị từ chối (tệp không khớp mã băm hoặc không giải mã được; chờ bên phát sửa và xuất bản lại): "
                             + feed.refused.map { "“\($0)”" }.joined(separator: ", "))
            }
            out.append("Feed “\(feed.name)”: " + parts.joined(separator: "; "))
        }
        for check in host { out.append("\(check.verdict.symbol) \(check.check): \(check.message)") }
        return out
    }

    /// `HH:MM:SS` of an RFC 3339 time (station time already).
    static func clock(_ rfc3339: String) -> String {
        guard let t = rfc3339.firstIndex(of: "T") else { return rfc3339 }
        return String(rfc3339[rfc3339.index(after: t)...].prefix(8))
    }

    /// `26/11 17:15:00`.
    static func dayAndClock(_ rfc3339: String) -> String {
        let date = rfc3339.prefix(10).split(separator: "-")
        guard date.count == 3 else { return rfc3339 }
        return "\(date[2])/\(date[1]) \(clock(rfc3339))"
    }

    /// `3 ngày 4 giờ`, `2 giờ 5 phút`, `42 phút`, `12 giây`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s >= 86400 { return "\(s / 86400) ngày \(s % 86400 / 3600) giờ" }
        if s >= 3600 { return "\(s / 3600) giờ \(s % 3600 / 60) phút" }
        if s >= 60 { return "\(s / 60) phút" }
        return "\(s) giây"
    }
}
