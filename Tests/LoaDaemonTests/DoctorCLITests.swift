import Foundation
import LoaDaemon
import LoaTestSupport
import Testing

extension RealTimeTests {
@Suite("loa doctor as a process, on a station folder", .serialized)
struct DoctorCLITests {
    /// The lines of `loa doctor`'s output that start with `mark` and `subject`.
    static func lines(_ out: String, _ mark: String, _ subject: String) -> [String] {
        out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("\(mark) \(subject)") }
    }

    @Test("A sound station: the null sink's device and monitor, a schedule, a fetched feed from nginx: a ✓ per check and exit 0 (2 only for what this host says of its disk or clock)")
    func allGood() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let district = try DistrictServer()
        defer { district.stop() }
        try (String(contentsOfFile: station.config, encoding: .utf8) + "\nmonitor = \"pulse:\(server.sink).monitor\"\n")
            .write(toFile: station.config, atomically: true, encoding: .utf8)
        let (key, source) = try station.addFeed(served: district)
        try await Harness.tone(source.appendingPathComponent("tin.wav"), frequency: 440, seconds: 1, rate: 48000)
        #expect(try await station.loaCommand(["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path]).status == 0)
        let fetched = try await station.loaCommand(["fetch"])
        #expect(fetched.status == 0, "\(fetched.out)\(fetched.err)")
        // Not the feed's tone: the same bytes would be the feed's segment, and "a.wav" no path of the library.
        try await station.addTone("a.wav", frequency: 550, seconds: 1, rate: 48000, title: "Bản tin A")
        try station.writeSlot("sang", start: station.wholeSecond(after: 3600), files: ["a.wav"])
        let requestsBefore = district.accessLog().count

        let r = try await station.loaCommand(["doctor"], environment: server.environment)
        print(r.out)
        for (mark, subject) in [("✓", "Cấu hình: \(station.config) đọc được (UBND xã Thử Nghiệm)"), ("✓", "Lịch phát: 1 khung giờ trong 1 tệp"),
                                ("✓", "Cơ sở dữ liệu: "), ("✓", "Thiết bị âm thanh “pulse”: mở được, phát 0,5 giây im lặng"),
                                ("✓", "Đường kiểm tra phát sóng “pulse:\(server.sink).monitor”: mở được"),
                                ("✓", "Feed “huyen” (\(district.feedURL)): chữ ký hợp lệ, #1")] {
            #expect(Self.lines(r.out, mark, subject).count == 1, "\(subject)\n\(r.out)\(r.err)")
        }
        // Disk and clock are this host's: what they say decides between 0 and 2, never a failure here.
        let host = r.out.split(separator: "\n").map(String.init).filter { $0.contains(" Đĩa: ") || $0.contains(" Đồng hồ: ") }
        #expect(host.count == 2 && host.allSatisfy { $0.hasPrefix("✓") || $0.hasPrefix("!") }, "\(r.out)")
        #expect(!r.out.contains("✗"), "\(r.out)")
        #expect(r.status == (host.allSatisfy { $0.hasPrefix("✓") } ? 0 : 2), "\(r.status)\n\(r.out)")
        #expect(r.err.isEmpty, "\(r.err)")
        // The feed was read (manifest and signature) and nothing downloaded.
        let requests = district.accessLog().dropFirst(requestsBefore)
        #expect(requests.count == 2 && requests.allSatisfy { $0.contains("/feed/feed.json") }, "\(requests)")

        struct Row: Decodable { let check: String, verdict: String, message: String }
        let json = try await station.loaCommand(["doctor", "--json"], environment: server.environment)
        let rows = try JSONDecoder().decode([Row].self, from: Data(json.out.utf8))
        #expect(rows.map(\.check) == ["config", "schedules", "database", "device", "monitor", "feed", "disk", "clock"], "\(json.out)")
        #expect(rows.filter { $0.check != "disk" && $0.check != "clock" }.allSatisfy { $0.verdict == "ok" }, "\(json.out)")
        #expect(json.status == r.status)
    }

    @Test("A device that does not exist, a feed signed by a key not pinned, one that cannot be reached, a schedule error: exit 1 with a ✗ naming each")
    func failures() async throws {
        let station = try ProcessStation(device: "hw:9", timezone: ProcessStation.zoneAwayFromMidnight())
        let district = try DistrictServer()
        defer { district.stop() }
        let (_, source) = try station.addFeed(served: district)
        // The district signs with another key than the one loa.toml pins.
        let other = station.folder.appendingPathComponent("khoa/khac").path
        #expect(try await station.loaCommand(["keygen", "--out", other]).status == 0)
        try await Harness.tone(source.appendingPathComponent("tin.wav"), frequency: 440, seconds: 1, rate: 48000)
        #expect(try await station.loaCommand(["publish", source.path, "--key", other + ".key", "--out", district.feedFolder.path]).status == 0)
        let pinned = try String(contentsOfFile: station.folder.appendingPathComponent("khoa/huyen.pub").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let unreachable = "http://127.0.0.1:9/tinh/"
        try (String(contentsOfFile: station.config, encoding: .utf8) + """

            [[feed]]
            name = "tinh"
            url = "\(unreachable)"
            public_keys = ["\(pinned)"]
            timeout = "3s"
            """).write(toFile: station.config, atomically: true, encoding: .utf8)
        try """
        [[slot]]
        id = "hong"
        start = "25:00"
        play = ["a.wav"]
        """.write(to: station.schedules.appendingPathComponent("hong.toml"), atomically: true, encoding: .utf8)

        let r = try await station.loaCommand(["doctor"])
        #expect(r.status == 1, "\(r.status)\n\(r.out)\(r.err)")
        let device = Self.lines(r.out, "✗", "Thiết bị âm thanh “hw:9”: không mở được")
        #expect(device.count == 1 && device[0].contains("cách sửa") && device[0].contains("loa.toml"), "\(r.out)")
        let refused = Self.lines(r.out, "✗", "Feed “huyen” (\(district.feedURL)): ")
        #expect(refused.count == 1 && refused[0].contains("public_keys"), "\(r.out)")
        let gone = Self.lines(r.out, "✗", "Feed “tinh” (\(unreachable)): ")
        #expect(gone.count == 1 && gone[0].contains("\(unreachable)feed.json") && gone[0].contains("cách sửa"), "\(r.out)")
        #expect(Self.lines(r.out, "✗", "Lịch phát: ").count == 1, "\(r.out)")
        #expect(r.out.contains("\n    schedules/hong.toml:3: "), "\(r.out)")
        // No database yet: a first run, said as a warning, and none is created.
        #expect(Self.lines(r.out, "!", "Cơ sở dữ liệu: chưa có").count == 1, "\(r.out)")
        #expect(!FileManager.default.fileExists(atPath: station.folder.appendingPathComponent("loa.sqlite").path))
        #expect(Self.lines(r.out, "✓", "Cấu hình: ").count == 1, "\(r.out)")
    }

    @Test("While the daemon runs: doctor finds it through the control socket, shares the pulse device with it, and reads its database beside it")
    func besideDaemon() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        // Not the feed's tone: the same bytes would be the feed's segment, and "a.wav" no path of the library.
        try await station.addTone("a.wav", frequency: 550, seconds: 1, rate: 48000, title: "Bản tin A")
        try station.writeSlot("sang", start: station.wholeSecond(after: 3600), files: ["a.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("Kênh điều khiển", timeout: 15), "\(daemon.output)")
        let r = try await station.loaCommand(["doctor"], environment: server.environment)
        #expect(Self.lines(r.out, "✓", "Thiết bị âm thanh “pulse”: mở được, phát 0,5 giây im lặng rồi đóng (Loa daemon đang chạy").count == 1,
                "\(r.out)\(r.err)")
        #expect(Self.lines(r.out, "✓", "Cơ sở dữ liệu: ").count == 1, "\(r.out)")
        #expect(!r.out.contains("✗"), "\(r.out)")
        #expect(daemon.isRunning)
    }

    @Test("No loa.toml: the configuration line fails naming where it looked, the clock is still checked, exit 1")
    func noConfig() async throws {
        let folder = try Harness.temporaryFolder("loa-doctor")
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try await Harness.run(try Harness.loaBinary().path, ["doctor", "--config", folder.appendingPathComponent("loa.toml").path])
        #expect(r.status == 1, "\(r.out)\(r.err)")
        #expect(Self.lines(r.out, "✗", "Cấu hình: \(folder.path)/loa.toml: không đọc được").count == 1, "\(r.out)")
        #expect(r.out.contains("Đồng hồ: "), "\(r.out)")
    }
}
}
