import LoaCore
import Testing

@Suite("Station status as the officer reads it")
struct StationStatusTests {
    func status(_ feed: StationStatus.Feed) -> StationStatus {
        StationStatus(station: "Xã Thử", generated_at: "2026-11-12T17:00:00.000+07:00", daemon: .init(running: false), on_air: nil,
                      next: [], feeds: [feed], device: .init(name: "null", state: "unknown", xruns_today: 0, failures_today: 0), today: [:], host: [])
    }

    @Test("A feed entry whose file was refused is said refused, not 'not downloaded yet'; one still to come is said so")
    func refusedEntriesAreNotWaitedFor() throws {
        let refused = status(.init(name: "huyen", url: "http://127.0.0.1/feed/", refused: ["Bản tin hỏng"]))
        let line = try #require(refused.lines.first { $0.hasPrefix("Feed “huyen”") })
        #expect(line.contains("bị từ chối (tệp không khớp mã băm hoặc không giải mã được; chờ bên phát sửa và xuất bản lại): “Bản tin hỏng”"), "\(line)")
        #expect(!line.contains("chưa tải về") && !line.contains("đủ bản tin"), "\(line)")
        let both = status(.init(name: "huyen", url: "http://127.0.0.1/feed/", missing: ["Tin mới"], refused: ["Bản tin hỏng"]))
        let bothLine = try #require(both.lines.first { $0.hasPrefix("Feed “huyen”") })
        #expect(bothLine.contains("chưa tải về: “Tin mới”") && bothLine.contains("bị từ chối"), "\(bothLine)")
        let whole = status(.init(name: "huyen", url: "http://127.0.0.1/feed/"))
        #expect(whole.lines.contains { $0.hasPrefix("Feed “huyen”") && $0.contains("đủ bản tin hôm nay") })
    }
}
