import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaDaemon
import LoaFeed
import LoaStore
import Testing

@Suite("loa doctor's verdicts, on explicit findings")
struct DoctorTests {
    let now = Date(timeIntervalSince1970: 1_794_477_600)  // 2026-11-12 17:00 +07:00
    let hanoi = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current

    func finding(_ verdict: HealthVerdict) -> DoctorFinding {
        DoctorFinding(check: "x", subject: "X", verdict: verdict, message: "")
    }

    @Test("Exit status: 0 when every check passes (or none ran), 1 when any fails, 2 when the worst is a warning")
    func exitStatus() async throws {
        #expect(doctorExitStatus([]) == 0)
        #expect(doctorExitStatus([finding(.ok), finding(.ok)]) == 0)
        #expect(doctorExitStatus([finding(.ok), finding(.warning)]) == 2)
        #expect(doctorExitStatus([finding(.warning), finding(.fail), finding(.ok)]) == 1)
        #expect(doctorExitStatus([finding(.fail)]) == 1)
    }

    @Test("A line is the mark, the subject and the message; details follow indented")
    func lines() async throws {
        let line = DoctorFinding(check: "schedules", subject: "Lịch phát", verdict: .fail, message: "1 lỗi",
                                 details: ["schedules/a.toml:3: sai"])
        #expect(line.lines == ["✗ Lịch phát: 1 lỗi", "    schedules/a.toml:3: sai"])
    }

    @Test("Schedules: every problem at its file:line up to ten, then a count; none and no slot is a warning; slots and no problem pass")
    func schedules() async throws {
        let problems = (1...13).map { Diagnostic(SourceLocation(file: "schedules/sang.toml", line: $0), "lỗi \($0)") }
        let failed = DoctorCheck.schedules(slots: 4, files: 2, folder: "schedules/", problems: problems)
        #expect(failed.verdict == .fail && failed.message.hasPrefix("13 lỗi trong 2 tệp"))
        #expect(failed.details.count == 11 && failed.details[0] == "schedules/sang.toml:1: lỗi 1")
        #expect(failed.details[10].contains("3 lỗi nữa") && failed.details[10].contains("loa schedule validate"))
        #expect(DoctorCheck.schedules(slots: 0, files: 0, folder: "schedules/", problems: []).verdict == .warning)
        #expect(DoctorCheck.schedules(slots: 0, files: 1, folder: "schedules/", problems: []).verdict == .warning)
        let good = DoctorCheck.schedules(slots: 5, files: 2, folder: "schedules/", problems: [])
        #expect(good.verdict == .ok && good.message == "5 khung giờ trong 2 tệp, không có lỗi")
    }

    @Test("Database: missing is a warning (a first run); damaged or unreadable is a failure with what to do; sound passes with its size")
    func database() async throws {
        #expect(DoctorCheck.database(.missing(path: "/var/lib/loa/loa.sqlite")).verdict == .warning)
        let damaged = DoctorCheck.database(.checked(path: "/d/loa.sqlite", quickCheck: ["*** in database main ***", "Page 7: btreeInitPage() returns error code 11"],
                                                    segments: 3, bytes: 1_500_000))
        #expect(damaged.verdict == .fail && damaged.message.contains("integrity_check") && damaged.details.count == 2)
        #expect(DoctorCheck.database(.unreadable(.open(path: "/d/loa.sqlite", message: "không phải cơ sở dữ liệu"))).verdict == .fail)
        let sound = DoctorCheck.database(.checked(path: "/d/loa.sqlite", quickCheck: ["ok"], segments: 12, bytes: 1_500_000))
        #expect(sound.verdict == .ok && sound.message == "/d/loa.sqlite toàn vẹn (quick_check), 1,5 MB, thư viện 12 bản tin")
    }

    @Test("Device: played passes; a device that does not exist fails naming it with a fix; busy is the running daemon's, or a failure without one")
    func device() async throws {
        #expect(DoctorCheck.device("pulse", .played(seconds: 0.5), daemonRunning: false).lines == ["✓ Thiết bị âm thanh “pulse”: mở được, phát 0,5 giây im lặng rồi đóng"])
        let missing = DoctorCheck.device("hw:7", .failed(.device(name: "hw:7", code: -ENOENT, message: "No such file or directory")), daemonRunning: false)
        #expect(missing.verdict == .fail)
        #expect(missing.lines[0].hasPrefix("✗ Thiết bị âm thanh “hw:7”: không mở được: không có thiết bị này (mã ALSA -2); cách sửa: "), "\(missing.lines)")
        let busy = AudioError.device(name: "hw:0", code: -EBUSY, message: "Device or resource busy")
        #expect(DoctorCheck.device("hw:0", .failed(busy), daemonRunning: true).verdict == .ok)
        #expect(DoctorCheck.device("hw:0", .failed(busy), daemonRunning: true).message.contains("Loa daemon"))
        #expect(DoctorCheck.device("hw:0", .failed(busy), daemonRunning: false).verdict == .fail)
        // Only "busy" is the daemon's: a device that is gone fails even while the daemon runs.
        #expect(DoctorCheck.device("hw:7", .failed(.device(name: "hw:7", code: -ENOENT, message: "")), daemonRunning: true).verdict == .fail)
        #expect(DoctorCheck.device("pulse", .failed(.stalled(name: "pulse", seconds: 2)), daemonRunning: false).verdict == .fail)
    }

    @Test("Monitor: captured passes with its level; one that cannot be opened fails naming the setting to fix")
    func monitor() async throws {
        let heard = DoctorCheck.monitor("hw:1", .captured(seconds: 0.5, peakDBFS: -42.04), daemonRunning: false)
        #expect(heard.verdict == .ok && heard.message.contains("−42,0 dBFS"))
        #expect(DoctorCheck.monitor("hw:1", .captured(seconds: 0.5, peakDBFS: OnAirCheck.floorDBFS), daemonRunning: false).message.contains("(im lặng)"))
        let gone = DoctorCheck.monitor("hw:1", .failed(.capture(name: "hw:1", code: -ENOENT, message: "")), daemonRunning: false)
        #expect(gone.verdict == .fail && gone.message.contains("“monitor”"))
    }

    func entry(_ id: String) -> FeedEntry {
        FeedEntry(id: id, title: "Tin \(id)", path: "\(id).mp3", bytes: 10, sha256: String(repeating: "a", count: 64), durationSeconds: 1)
    }

    /// A verified manifest of `toFetch + installed` entries, the last `installed` of them already in the library.
    func check(expires: Date, toFetch: Int, installed: Int) throws -> FeedCheck {
        let entries = (0..<(toFetch + installed)).map { entry("t\($0)") }
        let manifest = FeedManifest(publisher: "Đài huyện", sequence: 7, published: now.addingTimeInterval(-3600), expires: expires, segments: entries)
        let decision = try FeedDecision.decide(manifest, accepted: 6, installed: Dictionary(uniqueKeysWithValues: entries.suffix(installed).map { ($0.id, $0.sha256) }),
                                               now: now)
        return FeedCheck(manifest: manifest, signer: "k", decision: decision)
    }

    @Test("Feed: verified and whole passes; entries not downloaded yet or an expiry within a day warn; unreachable or refused fails naming the URL")
    func feed() async throws {
        let config = FeedConfig(name: "huyen", url: "http://127.0.0.1:9/feed/", publicKeys: [])
        let whole = DoctorCheck.feed(config, .success(try check(expires: now.addingTimeInterval(3 * 86400 + 7200), toFetch: 0, installed: 2)), now: now)
        #expect(whole.verdict == .ok, "\(whole.lines)")
        #expect(whole.lines[0] == "✓ Feed “huyen” (http://127.0.0.1:9/feed/): chữ ký hợp lệ, #7 của Đài huyện, 2 bản tin, hết hạn sau 3 ngày 2 giờ")
        let behind = DoctorCheck.feed(config, .success(try check(expires: now.addingTimeInterval(3 * 86400), toFetch: 2, installed: 1)), now: now)
        #expect(behind.verdict == .warning && behind.message.contains("2 bản tin chưa tải về"))
        let expiring = DoctorCheck.feed(config, .success(try check(expires: now.addingTimeInterval(3600), toFetch: 0, installed: 1)), now: now)
        #expect(expiring.verdict == .warning && expiring.message.contains("sắp hết hạn"))
        let unreachable = DoctorCheck.feed(config, .failure(.http(url: "http://127.0.0.1:9/feed/feed.json", message: "lỗi kết nối")), now: now)
        #expect(unreachable.verdict == .fail && unreachable.lines[0].contains("http://127.0.0.1:9/feed/") && unreachable.message.contains("cách sửa"))
        let unsigned = DoctorCheck.feed(config, .failure(.refused(feed: "huyen", message: "chữ ký sai")), now: now)
        #expect(unsigned.verdict == .fail && unsigned.message.contains("public_keys"))
    }

    @Test("Disk: one line per file system naming what lives there, with the threshold crossed")
    func disk() async throws {
        let low = DiskSpace(path: "/var/lib/loa/loa.sqlite", availableBytes: 30_000_000, totalBytes: 8_000_000_000)
        let line = DoctorCheck.disk(low, uses: ["cơ sở dữ liệu", "audio/"])
        #expect(line.verdict == .fail && line.message.contains("(cơ sở dữ liệu, audio/)") && line.message.contains("dưới 50,0 MB"), "\(line.message)")
        let tight = DiskSpace(path: "/srv/audio", availableBytes: 300_000_000, totalBytes: 8_000_000_000)
        #expect(DoctorCheck.disk(tight, uses: ["audio/"]).verdict == .warning)
    }

    @Test("Clock: unsynchronised warns with a fix; the station's time zone is said beside the system's, never a verdict by itself")
    func clock() async throws {
        let synced = ClockSync(synchronized: true, maxErrorSeconds: 0.05, estimatedErrorSeconds: 0.001)
        let utc = TimeZone(identifier: "Etc/UTC") ?? .current
        let ok = DoctorCheck.clock(.success(synced), station: hanoi, system: utc, now: now)
        #expect(ok.verdict == .ok)
        #expect(ok.message == "đã đồng bộ (sai số tối đa 50 ms); múi giờ Asia/Ho_Chi_Minh (loa.toml), hệ thống Etc/UTC khác: Loa phát theo giờ của loa.toml")
        let same = DoctorCheck.clock(.success(synced), station: hanoi, system: TimeZone(identifier: "Asia/Bangkok") ?? utc, now: now)
        #expect(same.message.hasSuffix("hệ thống Asia/Bangkok cùng độ lệch"))
        let free = DoctorCheck.clock(.success(ClockSync(synchronized: false, maxErrorSeconds: 16, estimatedErrorSeconds: 16)),
                                     station: hanoi, system: hanoi, now: now)
        #expect(free.verdict == .warning && free.lines[0].hasPrefix("! Đồng hồ: chưa đồng bộ") && free.message.contains("NTP"))
        #expect(DoctorCheck.clock(.failure(.hostProbe(what: "adjtimex", reason: "không có quyền")), station: nil, system: hanoi, now: now).verdict == .warning)
    }

    @Test("Config: read names the file and the station; an error names its file:line and says the rest could not be checked")
    func config() async throws {
        let file = URL(fileURLWithPath: "/etc/loa/loa.toml")
        let parsed = try StationConfig.parse("station = \"UBND xã Đông Hòa\"\n", file: file)
        #expect(DoctorCheck.config(.success(parsed)).lines == ["✓ Cấu hình: /etc/loa/loa.toml đọc được (UBND xã Đông Hòa)"])
        let broken = Result { () throws(ConfigError) in try StationConfig.parse("station = \"x\"\ntimezone = \"Sao Hỏa\"\n", file: file) }
        let line = DoctorCheck.config(broken)
        #expect(line.verdict == .fail && line.message.hasPrefix("/etc/loa/loa.toml:2: "), "\(line.message)")
    }
}
