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

    @Test("A relay being received is one line: its state, buffer, level, the drift correction when there is one, the fault")
    func relayLine() throws {
        var relaying = status(.init(name: "huyen", url: "http://127.0.0.1/feed/"))
        relaying.relays = [.init(source: "vov1", label: "VOV1", address: "https://vov.vn/vov1.m3u8", state: "relaying", buffered_seconds: 3.04,
                                 level_dbfs: -18.26, format: "hls/aac 48000 Hz 2 kênh", drift_percent: 0.48, fault_code: nil, fault: nil)]
        let line = try #require(relaying.lines.first { $0.hasPrefix("Tiếp sóng “VOV1”") })
        #expect(line == "Tiếp sóng “VOV1” (https://vov.vn/vov1.m3u8): đang tiếp sóng, đệm 3,0 giây, mức −18,3 dBFS, bù lệch đồng hồ +0,5 %, hls/aac 48000 Hz 2 kênh", "\(line)")
        var lost = relaying
        lost.relays[0].state = "fallback"
        lost.relays[0].drift_percent = 0.01
        lost.relays[0].level_dbfs = nil
        lost.relays[0].fault = ReasonCatalogue.sentence(Reason(.relayHTTP, "404"))
        let lostLine = try #require(lost.lines.first { $0.hasPrefix("Tiếp sóng “VOV1”") })
        #expect(lostLine.hasPrefix("Tiếp sóng “VOV1” (https://vov.vn/vov1.m3u8): đang phát dự phòng, đệm 3,0 giây, hls/aac"), "\(lostLine)")
        #expect(lostLine.hasSuffix("⚠ máy chủ nguồn tiếp sóng trả lỗi HTTP 404"), "\(lostLine)")
    }
}
