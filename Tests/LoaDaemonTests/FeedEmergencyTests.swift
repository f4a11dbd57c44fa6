import Foundation
import LoaTestSupport
import Testing

extension RealTimeTests {
@Suite("End to end: an emergency from the district's feed", .serialized)
struct FeedEmergencyTests {
    @Test("An emergency published while a slot airs is heard within 30 s; the item on air is interrupted, then goes on where the clock is (join), and the slot goes on")
    func emergencyPreemptsSlot() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let district = try DistrictServer()
        defer { district.stop() }
        // An empty feed first, so the daemon polls a valid manifest from the start.
        let (key, source) = try station.addFeed(served: district, interval: "1s")
        try await Harness.tone(source.appendingPathComponent("thuong.wav"), frequency: 330, seconds: 1, rate: 48000)
        #expect(try await station.loaCommand(["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path]).status == 0)

        let slotStart = try await station.interruptibleSlot("co-khan-cap", longSeconds: 8)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow) + 1.5))

        try await Harness.tone(source.appendingPathComponent("bao.wav"), frequency: 880, seconds: 1.5, rate: 48000)
        try """
            title = "Cảnh báo bão khẩn cấp"
            priority = "emergency"
            """.write(to: source.appendingPathComponent("bao.toml"), atomically: true, encoding: .utf8)
        let published = try await station.loaCommand(["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path])
        #expect(published.status == 0, "\(published.err)")
        let publishedAt = Date()

        let rows = try await station.waitForRows(until: publishedAt.addingTimeInterval(40)) { rows in
            rows.contains { $0.kind == "emergency" && $0.outcome == "completed" }
                && rows.contains { $0.slot == "co-khan-cap" && $0.segment.hasSuffix("sau.wav") && $0.outcome != "planned" && $0.outcome != "started" }
                && rows.filter { $0.slot == "co-khan-cap" }.allSatisfy { $0.outcome != "planned" && $0.outcome != "started" }
        }
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let bySlot = Dictionary(grouping: rows, by: \.slot)
        // The long item gave way; under join it goes on where the clock is, in a row of its own, unless its time ran out.
        let slotRows = bySlot["co-khan-cap"] ?? []
        let resumed = slotRows.count == 3
        #expect(slotRows.map(\.outcome) == (resumed ? ["interrupted", "truncated", "completed"] : ["interrupted", "completed"]),
                "\(rows)\n\(daemon.output)")
        #expect(slotRows.first?.reason_code == "preempted.emergency", "\(rows)")
        if resumed { #expect(slotRows[1].reason_code == "resumed", "\(rows)") }
        #expect(bySlot["khan-cap"]?.map(\.outcome) == ["completed"], "\(rows)")
        #expect(bySlot["khan-cap"]?.first?.kind == "emergency")
        // The row names the file that aired by its SHA-256 and the feed it came from.
        let sum = try await Harness.run("/usr/bin/sha256sum", [source.appendingPathComponent("bao.wav").path])
        #expect(bySlot["khan-cap"]?.first?.sha256 == String(sum.out.prefix(64)))
        #expect(bySlot["khan-cap"]?.first?.feed == "huyen")
        // What the loudspeaker heard: the long item, the emergency, the rest of the long item, then the slot's next item.
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [440, 660, 880]))
        #expect(analysis.tones.map(\.frequency) == (resumed ? [440, 880, 440, 660] : [440, 880, 660]), "\(analysis.tones)")
        #expect(analysis.longestGap <= 0.05, "silence in the slot: \(analysis.longestGap) s")
        let heard = try #require(Self.firstWindow(of: 880, in: recording.samples, rate: 48000))
        let heardAt = recording.startedAt.addingTimeInterval(Double(heard) / 48000)
        let delay = heardAt.timeIntervalSince(publishedAt)
        print("E2E emergency heard \(String(format: "%.2f", delay)) s after publication")
        #expect(delay > 0 && delay < 30, "heard \(delay) s after publication")
    }

    /// The first sample of the first 10 ms window that carries `frequency` (by zero crossings, ±10 %).
    static func firstWindow(of frequency: Int, in samples: [Float], rate: Int) -> Int? {
        let window = rate / 100
        var i = 0
        while i + window <= samples.count {
            let energy = samples[i..<(i + window)].reduce(0) { $0 + $1 * $1 } / Float(window)
            if energy.squareRoot() > 0.01 {
                var crossings = 0
                for j in (i + 1)..<(i + window) where (samples[j - 1] < 0) != (samples[j] < 0) { crossings += 1 }
                let estimate = Double(crossings) * Double(rate) / Double(window) / 2
                if abs(estimate - Double(frequency)) < Double(frequency) / 10 { return i }
            }
            i += window
        }
        return nil
    }
}
}
