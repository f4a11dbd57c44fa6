import Foundation
import Testing

extension RealTimeTests {
/// The issue's scenario, through ALSA and the recorded monitor: a slot of A (8 s) then B (1 s); `loa announce` of a
/// 2 s file 3 s into A. Whatever the policy, the loudspeakers carry the slot again as soon as the announcement is heard.
@Suite("No dead air after a preemption or a restart, by the slot's policy", .serialized)
struct PreemptionResumeTests {
    /// Writes the slot with its policy; returns its start.
    func slot(_ station: ProcessStation, policy: String) async throws -> Date {
        try await station.addTone("dai.wav", frequency: 440, seconds: 8, rate: 48000, title: "Bản tin dài")
        try await station.addTone("sau.wav", frequency: 660, seconds: 1, rate: 48000, title: "Bản tin sau")
        let start = station.wholeSecond(after: 4)
        try station.writeSlot("co-thong-bao", start: start, files: ["dai.wav", "sau.wav"])
        let file = station.schedules.appendingPathComponent("thu.toml")
        try (String(contentsOf: file, encoding: .utf8) + "\nlate = \"\(policy)\"\n").write(to: file, atomically: true, encoding: .utf8)
        return start
    }

    @Test("loa announce 3 s into an item: join, next and whole go on within 50 ms of the announcement's end (measured from the monitor); skip logs the rest skipped",
          arguments: ["join", "next", "whole", "skip"])
    func announcementThenSlot(policy: String) async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let start = try await slot(station, policy: policy)
        let note = station.folder.appendingPathComponent("bao-bao.wav")
        try await Harness.tone(note, frequency: 880, seconds: 2, rate: 48000)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 3))
        let announced = try await station.loaCommand(["announce", note.path])
        #expect(announced.status == 0, "\(announced.err)")
        let rows = try await station.waitForRows(until: start.addingTimeInterval(14)) { rows in
            rows.filter { $0.slot == "co-thong-bao" }.contains { $0.segment.hasSuffix("sau.wav") && $0.outcome != "planned" && $0.outcome != "started" }
                && rows.allSatisfy { $0.outcome != "planned" && $0.outcome != "started" }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let slotRows = rows.filter { $0.slot == "co-thong-bao" }
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [440, 660, 880]), "\(daemon.output)")
        let tones = analysis.tones.map(\.frequency)
        print("Preemption (\(policy)): tones \(analysis.tones.map { "\($0.frequency) Hz \(decimal($0.seconds)) s" }), longest silence \(Int((analysis.longestGap * 1000).rounded())) ms")
        #expect(slotRows.first?.outcome == "interrupted" && slotRows.first?.reason_code == "preempted.announcement", "\(rows)")
        switch policy {
        case "join":
            // A again where the clock is, in a row of its own; B on its second.
            #expect(tones == [440, 880, 440, 660], "\(analysis.tones)")
            #expect(slotRows.map(\.outcome) == ["interrupted", "truncated", "completed"], "\(rows)\n\(daemon.output)")
            #expect(slotRows[safe: 1]?.reason_code == "resumed" && slotRows[safe: 1]?.policy == "join", "\(rows)")
            let lost = slotRows[safe: 1]?.lost_seconds ?? 0
            #expect(lost > 1.9 && lost < 2.3, "the announcement's time is what A lost: \(lost) s")
            #expect(abs(slotRows[safe: 2]?.onset_error_ms ?? 999) < 50, "B on its second: \(rows)")
        case "next":
            // A gives way; B at once, not at its planned second 8 s in.
            #expect(tones == [440, 880, 660], "\(analysis.tones)")
            #expect(slotRows.map(\.outcome) == ["interrupted", "completed"], "\(rows)\n\(daemon.output)")
        case "whole":
            // A goes on where it was cut, then B.
            #expect(tones == [440, 880, 440, 660], "\(analysis.tones)")
            #expect(slotRows.map(\.outcome) == ["interrupted", "completed", "completed"], "\(rows)\n\(daemon.output)")
            let heardA = (slotRows[safe: 0]?.aired_seconds ?? 0) + (slotRows[safe: 1]?.aired_seconds ?? 0)
            #expect(abs(heardA - 8) < 0.1, "A heard whole over its two rows, nothing twice: \(heardA) s")
        default:
            #expect(tones == [440, 880], "\(analysis.tones)")
            #expect(slotRows.map(\.outcome) == ["interrupted", "skipped"], "\(rows)")
            #expect(slotRows.last?.reason_code == "late.policy_skip", "\(rows)")
        }
        if policy != "skip" {
            #expect(analysis.longestGap <= 0.05, "silence after the announcement: \(analysis.longestGap) s\n\(daemon.output)")
        }
        #expect(!daemon.output.contains("treo"), "no stall alarm: \(daemon.output)")
    }

    @Test("SIGKILL mid-item, restarted at once: the killed item goes on where the clock is as soon as the device is open, the next on its second")
    func restartGoesOn() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let start = try await slot(station, policy: "join")
        let first = try station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 2))
        first.send(SIGKILL)
        first.process.waitUntilExit()
        let recorder = try await MonitorRecorder.recording(server)
        let restartedAt = Date()
        let second = try station.startDaemon(environment: server.environment)
        let rows = try await station.waitForRows(until: start.addingTimeInterval(13)) { rows in
            rows.contains { $0.segment.hasSuffix("sau.wav") && $0.outcome == "completed" }
        }
        #expect(await second.stop() == 0)
        let recording = recorder.stop()
        #expect(rows.map(\.outcome) == ["interrupted", "truncated", "completed"], "\(rows)\n\(second.output)")
        #expect(rows.first?.reason_code == "daemon.died" && rows[safe: 1]?.reason_code == "resumed", "\(rows)")
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [440, 660]), "\(second.output)")
        #expect(analysis.tones.map(\.frequency) == [440, 660], "A goes on, then B: \(analysis.tones)")
        let heardAt = recording.startedAt.addingTimeInterval(Double(analysis.firstSound) / 48000)
        let silence = heardAt.timeIntervalSince(restartedAt)
        print("Restart: sound again \(Int((silence * 1000).rounded())) ms after the daemon was started")
        #expect(silence < 3, "sound again \(silence) s after the restart\n\(second.output)")
        #expect(analysis.longestGap <= 0.05, "no silence between A and B: \(analysis.longestGap) s")
        #expect(abs(rows[safe: 2]?.onset_error_ms ?? 999) < 50, "B on its second: \(rows)")
    }

    func decimal(_ value: Double) -> String { String(format: "%.2f", value) }
}
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
