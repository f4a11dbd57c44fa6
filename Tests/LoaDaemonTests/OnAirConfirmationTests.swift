import Foundation
import Testing

extension RealTimeTests {
@Suite("End to end: on-air confirmation through a real ALSA capture", .serialized)
struct OnAirConfirmationTests {
    /// What `loa log --format json` says of the monitor.
    struct ConfirmedRow: Decodable {
        let title: String, outcome: String, confirmed: String?, monitor_dbfs: Double?
    }

    @Test("The daemon airs to a null sink and captures its monitor through ALSA pulse: rows heard; the sink muted during an item: that row silent, and a warning at once")
    func heardAndSilent() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        // The monitor: ALSA PCM `pulse` (libasound2-plugins' pulse.conf takes the source as its argument) on the
        // null sink's monitor source, i.e. what the sink plays. Muting the sink silences its monitor: measured with
        // arecord, RMS 0.354 for a tone at half scale, exactly 0 muted.
        try (String(contentsOfFile: station.config, encoding: .utf8) + "\nmonitor = \"pulse:\(server.sink).monitor\"\n")
            .write(toFile: station.config, atomically: true, encoding: .utf8)
        try await station.addTone("a.wav", frequency: 440, seconds: 2, rate: 48000, title: "Bản tin A")
        try await station.addTone("b.wav", frequency: 660, seconds: 5, rate: 48000, title: "Bản tin B")
        try await station.addTone("c.wav", frequency: 880, seconds: 2, rate: 48000, title: "Bản tin C")
        let start = station.wholeSecond(after: 4)
        try station.writeSchedule("kiem-tra", start: start, end: start.addingTimeInterval(60), play: ["a.wav", "b.wav", "c.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        // B is heard from start + 2 s to start + 7 s: the sink is muted inside that, 0.1 s in from each edge. Five
        // seconds, not four: a pactl slow to start on a loaded machine must still leave the 3 s that make a warning.
        try await sleep(until: start.addingTimeInterval(2.1))
        try mute(server, true)
        try await sleep(until: start.addingTimeInterval(6.9))
        try mute(server, false)
        let rows = try await waitForConfirmedRows(station, until: start.addingTimeInterval(20))
        let log = daemon.output
        #expect(rows.map(\.title) == ["Bản tin A", "Bản tin B", "Bản tin C"], "\(log)")
        #expect(rows.map(\.outcome) == ["completed", "completed", "completed"])
        #expect(rows.map(\.confirmed) == ["heard", "silent", "heard"], "\(log)")
        // The tones are levelled to the −16 LUFS target (measured: −18.3 and −18.9 dBFS RMS over the item). B's level is
        // the energy mean over the item: its unmuted edges (0.1 s each side, at about −18 dBFS) put it near −32 dBFS.
        for row in [rows[0], rows[2]] { #expect((-24.0 ... -14.0).contains(row.monitor_dbfs ?? -200), "\(row)") }
        #expect((rows[1].monitor_dbfs ?? 0) < -25, "\(rows[1])")
        #expect(log.contains("im lặng") && log.contains("trong khi đang phát “Bản tin B”"), "\(log)")
        #expect(!log.contains("trong khi đang phát “Bản tin A”") && !log.contains("trong khi đang phát “Bản tin C”"))
        // The report counts the airings the monitor confirmed heard.
        struct Report: Decodable {
            struct Total: Decodable { let confirmed_heard: Int, confirmed_silent: Int }
            let total: Total
        }
        let report = try await station.loaCommand(["report", "--from", String(rowsDay(start, station)), "--format", "json"])
        let total = try JSONDecoder().decode(Report.self, from: Data(report.out.utf8)).total
        #expect(total.confirmed_heard == 2 && total.confirmed_silent == 1, "\(report.out)")
        print("monitor_dbfs:", rows.map { $0.monitor_dbfs.map { String($0) } ?? "null" })
        print(log.split(separator: "\n").filter { $0.contains("kiểm tra") || $0.contains("Xong") }.joined(separator: "\n"))
    }

    @Test("A monitor that cannot be opened is logged, naming it, and never stops playout: the rows air and are left unconfirmed (null), not silent")
    func monitorMissing() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        // Nothing of the daemon's reads the sink's monitor here: a null sink with no reader renders ahead and stalls
        // the output (see ALSAOutput.retire), so parecord reads it, as in the other real-time tests.
        let recorder = try await MonitorRecorder.recording(server)
        defer { _ = recorder.stop() }
        try (String(contentsOfFile: station.config, encoding: .utf8) + "\nmonitor = \"hw:CARD=KhongCo\"\n")
            .write(toFile: station.config, atomically: true, encoding: .utf8)
        try await station.addTone("a.wav", frequency: 440, seconds: 1.5, rate: 48000, title: "Bản tin A")
        let start = station.wholeSecond(after: 3)
        try station.writeSchedule("kiem-tra", start: start, end: start.addingTimeInterval(60), play: ["a.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        let rows = try await waitForConfirmedRows(station, count: 1, until: start.addingTimeInterval(15))
        let log = daemon.output
        #expect(rows.map(\.outcome) == ["completed"], "\(log)")
        #expect(rows.first?.confirmed == nil && rows.first?.monitor_dbfs == nil)
        #expect(log.contains("Không nghe được đường kiểm tra phát sóng: đường kiểm tra phát sóng “hw:CARD=KhongCo”"), "\(log)")
        // Retried every 5 s, logged once while the failure stays the same.
        #expect(log.components(separatedBy: "Không nghe được đường kiểm tra").count == 2, "\(log)")
    }

    /// The station day of `instant`, as `loa report --from` takes it.
    func rowsDay(_ instant: Date, _ station: ProcessStation) -> String {
        let c = station.zone.dateComponents([.year, .month, .day], from: instant)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    func mute(_ server: SoundServer, _ on: Bool) throws {
        let r = try Harness.run("/usr/bin/pactl", ["-s", server.recorderSocket, "set-sink-mute", server.sink, on ? "1" : "0"])
        guard r.status == 0 else { throw HarnessError("pactl set-sink-mute: \(r.err)") }
    }

    func waitForConfirmedRows(_ station: ProcessStation, count: Int = 3, until deadline: Date) async throws -> [ConfirmedRow] {
        var rows: [ConfirmedRow] = []
        repeat {
            let r = try await station.loaCommand(["log", "--format", "json"])
            guard r.status == 0 else { throw HarnessError("loa log: \(r.err)") }
            rows = try JSONDecoder().decode([ConfirmedRow].self, from: Data(r.out.utf8))
            if rows.count == count && rows.allSatisfy({ $0.outcome != "planned" && $0.outcome != "started" }) { break }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        return rows
    }
}
}
