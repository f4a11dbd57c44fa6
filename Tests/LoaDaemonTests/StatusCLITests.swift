import Foundation
import LoaCore
import Testing

extension RealTimeTests {
@Suite("loa status: asks the running daemon; with it down, says so and exits 3", .serialized)
struct StatusCLITests {
    /// A feed whose server refuses connections: its poll fails, and status must say so.
    func addUnreachableFeed(_ station: ProcessStation) async throws {
        _ = try await Harness.onOwnThread { try station.addFeed(url: "http://127.0.0.1:9/feed/") }
    }

    func decode(_ text: String) throws -> StationStatus { try JSONDecoder().decode(StationStatus.self, from: Data(text.utf8)) }

    @Test("With the daemon down: exit 3, it says so, and still shows the next three slots with what they will air")
    func daemonDown() async throws {
        let station = try ProcessStation(device: "null")
        try await station.addTone("a.wav", frequency: 440, seconds: 1, rate: 48000, title: "Bản tin Kinh tế")
        try """
        [[slot]]
        id = "toi"
        start = "17:15"
        play = ["a.wav"]
        """.write(to: station.schedules.appendingPathComponent("toi.toml"), atomically: true, encoding: .utf8)
        try await addUnreachableFeed(station)
        // A file that does not parse: its slot will not air, and status must not keep quiet about it.
        try "[[slot]]\nid = \"hong\"\nstart = \"18:00\"\nplay = [\"a.wav\"\n".write(
            to: station.schedules.appendingPathComponent("hong.toml"), atomically: true, encoding: .utf8)
        let text = try await station.loaCommand(["status"])
        #expect(text.out.contains("⚠ Lịch phát có 1 lỗi") && text.out.contains("schedules/hong.toml:4"), "\(text.out)")
        let list = try await station.loaCommand(["schedule", "list"])
        #expect(list.status == 0 && list.err.hasPrefix("loa: ⚠ lịch phát có 1 lỗi"), "\(list.err)")
        #expect(text.status == 3, "\(text.err)")
        #expect(text.out.hasPrefix("UBND xã Thử Nghiệm: Loa KHÔNG chạy"), "\(text.out)")
        #expect(text.out.contains("toi: Bản tin Kinh tế"), "\(text.out)")
        #expect(text.out.contains("Feed “huyen”: chưa tải lần nào"), "\(text.out)")
        let json = try await station.loaCommand(["status", "--json"])
        #expect(json.status == 3)
        let status = try decode(json.out)
        #expect(!status.daemon.running && status.on_air == nil && status.device.state == "unknown")
        // The host, judged as loa doctor judges it: the disk under the database, and the clock.
        #expect(status.host.map(\.check) == ["Đĩa", "Đồng hồ"] && status.host[0].message.contains("trống"), "\(status.host)")
        // A daily slot: its next three occurrences, on three days, in order.
        #expect(status.next.map(\.slot) == ["toi", "toi", "toi"])
        #expect(Set(status.next.map { $0.starts_at.prefix(10) }).count == 3 && status.next.allSatisfy { $0.items == ["Bản tin Kinh tế"] })
    }

    @Test("With the daemon up: the item on air with elapsed and remaining, the device working, the feed's failed poll, the uptime")
    func daemonUp() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        try await addUnreachableFeed(station)
        let start = try await station.interruptibleSlot("co-trang-thai", longSeconds: 6)
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 2.5))
        let asked = try await station.loaCommand(["status", "--json"], environment: server.environment)
        #expect(asked.status == 0, "\(asked.err)")
        let status = try decode(asked.out)
        let onAir = try #require(status.on_air, "\(asked.out)\n\(daemon.output)")
        #expect(onAir.title == "Bản tin dài" && onAir.slot == "co-trang-thai")
        // Asked about 2.5 s into a 6 s item; the bounds leave room for a loaded machine, not for a wrong clock.
        #expect(onAir.elapsed_seconds > 1.5 && onAir.elapsed_seconds < 5, "\(onAir)")
        #expect(abs(onAir.elapsed_seconds + onAir.remaining_seconds - 6) < 0.5, "\(onAir)")
        #expect(status.device.state == "ok" && status.device.name == "pulse", "\(status.device)")
        #expect(status.daemon.running && (status.daemon.uptime_seconds ?? 0) > 2 && status.daemon.pid != nil)
        let feed = try #require(status.feeds.first)
        // Refused at once (the default 30 s timeout has not run out when status asks), and said in words.
        #expect(feed.last_result == .fail && feed.last_message?.contains("127.0.0.1:9") == true
                && feed.last_message?.contains("từ chối kết nối") == true, "\(feed)")
        let text = try await station.loaCommand(["status"], environment: server.environment)
        #expect(text.status == 0)
        #expect(text.out.contains("Đang phát: “Bản tin dài” (co-trang-thai)"), "\(text.out)")
        #expect(text.out.contains("Feed “huyen”: hỏi lúc") && text.out.contains("LỖI"), "\(text.out)")
    }
}
}
