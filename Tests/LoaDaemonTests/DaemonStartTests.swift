import Foundation
import Testing

/// What the daemon says as it starts, before any slot is due.
@Suite("Daemon start-up")
struct DaemonStartTests {
    @Test("A device that does not exist is said at start, naming it in Vietnamese; the daemon keeps running and status shows the device lost")
    func missingDeviceSaidAtStart() async throws {
        let station = try ProcessStation(device: "hw:9")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        let said = "thiết bị âm thanh “hw:9”: không có thiết bị này (mã ALSA -2) — chưa phát được; Loa vẫn chạy và thử mở lại ở mỗi khung giờ"
        #expect(try await daemon.waitForOutput(said, timeout: 15), "\(daemon.output)")
        #expect(try await daemon.waitForOutput("Kênh điều khiển", timeout: 15), "\(daemon.output)")
        #expect(daemon.isRunning)
        #expect(!daemon.output.contains("No such"), "\(daemon.output)")
        let status = try await station.loaCommand(["status", "--json"])
        #expect(status.status == 0, "\(status.err)")
        #expect(status.out.contains("\"state\" : \"lost\"") && status.out.contains("không có thiết bị này"), "\(status.out)")
        #expect(await daemon.stop() == 0)
    }

    @Test("A device that opens is said to at start, and nothing is logged against it")
    func workingDeviceSaidAtStart() async throws {
        let station = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("Thiết bị âm thanh “null”: mở được", timeout: 15), "\(daemon.output)")
        #expect(!daemon.output.contains("chưa phát được"), "\(daemon.output)")
        #expect(await daemon.stop() == 0)
    }
}
