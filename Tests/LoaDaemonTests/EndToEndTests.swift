import Foundation
import Testing

/// What the recording says about a slot of tones.
struct ToneAnalysis {
    /// Index of the first sample louder than -34 dBFS.
    var firstSound: Int
    /// Longest run of silence (5 ms windows) between the first and last sound, in seconds.
    var longestGap: Double
    /// Tones in the order heard, with how long each was heard.
    var tones: [(frequency: Int, seconds: Double)]

    init?(_ samples: [Float], rate: Int, frequencies: [Int]) {
        guard let first = samples.firstIndex(where: { abs($0) > 0.02 }),
              let last = samples.lastIndex(where: { abs($0) > 0.02 }) else { return nil }
        firstSound = first
        let small = rate / 200 // 5 ms
        var gap = 0, longest = 0
        var i = first
        while i + small <= last {
            let rms = (samples[i..<(i + small)].reduce(0) { $0 + $1 * $1 } / Float(small)).squareRoot()
            if rms < 0.01 { gap += 1; longest = max(longest, gap) } else { gap = 0 }
            i += small
        }
        longestGap = Double(longest * small) / Double(rate)
        // Classify 10 ms windows by zero crossings; a tone of f Hz crosses 2f times a second.
        let window = rate / 100
        var labels: [Int] = []
        i = first
        while i + window <= last + 1 {
            // A silent window is no tone: it must not be taken for the lowest one.
            let energy = samples[i..<(i + window)].reduce(0) { $0 + $1 * $1 } / Float(window)
            if energy.squareRoot() < 0.01 {
                labels.append(0)
                i += window
                continue
            }
            var crossings = 0
            for j in (i + 1)..<(i + window) where (samples[j - 1] < 0) != (samples[j] < 0) { crossings += 1 }
            let estimate = Double(crossings) * Double(rate) / Double(window) / 2
            labels.append(frequencies.min { abs(Double($0) - estimate) < abs(Double($1) - estimate) } ?? 0)
            i += window
        }
        var runs: [(frequency: Int, seconds: Double)] = []
        for label in labels {
            if let lastRun = runs.last, lastRun.frequency == label {
                runs[runs.count - 1].seconds += Double(window) / Double(rate)
            } else {
                runs.append((label, Double(window) / Double(rate)))
            }
        }
        // A boundary window mixes two tones; drop runs shorter than two windows.
        tones = []
        for run in runs where run.seconds > 0.025 && run.frequency != 0 {
            if let lastTone = tones.last, lastTone.frequency == run.frequency {
                tones[tones.count - 1].seconds += run.seconds
            } else {
                tones.append(run)
            }
        }
    }
}

extension RealTimeTests {
@Suite("End to end: the loa daemon as a process, through real ALSA", .serialized)
struct EndToEndTests {
    @Test("A slot a few seconds ahead airs on time, gaplessly, in order, and is logged completed")
    func slotAirsOnTime() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        // The sound server is up before any slot time is chosen: its start-up cannot eat into the lead.
        let server = try SoundServer()
        defer { server.stop() }
        let items: [(name: String, frequency: Int, seconds: Double, rate: Int)] = [
            ("mot.wav", 440, 1.0, 44100), ("hai.mp3", 1000, 1.2, 44100), ("ba.flac", 2200, 0.8, 22050),
        ]
        for (n, item) in items.enumerated() {
            try await station.addTone(item.name, frequency: item.frequency, seconds: item.seconds, rate: item.rate, title: "Bản tin thử \(n + 1)")
        }
        // The slot starts on a whole second, far enough ahead for the daemon to start and open the device.
        let slotStart = station.wholeSecond(after: 5)
        try station.writeSlot("thu-nghiem", start: slotStart, files: items.map(\.name))
        let validate = try await station.loaCommand(["schedule", "validate"])
        try #require(validate.status == 0, "\(validate.err)")

        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try station.startDaemon(environment: server.environment)
        let total = items.reduce(0) { $0 + $1.seconds }
        try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow) + total + 1.5))
        let status = await daemon.stop()
        let recording = recorder.stop()
        #expect(status == 0, "\(daemon.output)")

        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: items.map(\.frequency)),
                                    "nothing was heard; daemon said:\n\(daemon.output)")
        let heardAt = recording.startedAt.addingTimeInterval(Double(analysis.firstSound) / 48000)
        let onsetError = heardAt.timeIntervalSince(slotStart)
        print("E2E measured: onset error \(Int((onsetError * 1000).rounded())) ms, longest gap \(Int((analysis.longestGap * 1000).rounded())) ms, tones \(analysis.tones.map { "\($0.frequency) Hz \(Int(($0.seconds * 1000).rounded())) ms" })")
        #expect(abs(onsetError) < 0.25, "first sound \(onsetError) s from the slot time")
        #expect(analysis.longestGap <= 0.05, "gap of \(analysis.longestGap) s")
        #expect(analysis.tones.map(\.frequency) == items.map(\.frequency), "\(analysis.tones)")
        // The tones were synthesized at these lengths; MP3 encoder padding is trimmed by the decoder
        // (sox's soxi would count it, so it is not the reference here).
        for (heard, item) in zip(analysis.tones, items) {
            #expect(abs(heard.seconds - item.seconds) < 0.05, "\(item.name): heard \(heard.seconds) s, file \(item.seconds) s")
        }

        let rows = try await station.logRows()
        #expect(rows.count == items.count, "\(rows)")
        #expect(rows.allSatisfy { $0.outcome == "completed" && $0.slot == "thu-nghiem" }, "\(rows)")
        for (row, item) in zip(rows, items) {
            #expect(abs(row.aired_seconds - item.seconds) < 0.05, "\(item.name): logged \(row.aired_seconds) s, file \(item.seconds) s")
            #expect(row.started_at != nil && row.onset_error_ms.map { abs($0) < 250 } == true)
        }
        // Heard gapless, so no dropout may be reported: the detector raises no false alarm on a start or a new file.
        #expect(!daemon.output.contains("Loa mất tiếng") && rows.allSatisfy { ($0.xruns ?? 0) == 0 }, "\(daemon.output)")
    }

    @Test("SIGTERM mid-item: the item fades, is logged interrupted with what aired, the rest skipped; exit 0")
    func sigtermMidItem() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        // The sound server is up before any slot time is chosen: its start-up cannot eat into the lead.
        let server = try SoundServer()
        defer { server.stop() }
        let slotStart = try await station.interruptibleSlot("ngat", longSeconds: 6)
        let daemon = try station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow) + 1.5))
        let stoppedAt = Date()
        let status = await daemon.stop()
        let stopSeconds = Date().timeIntervalSince(stoppedAt)
        #expect(status == 0, "\(daemon.output)")
        #expect(stopSeconds < 3, "took \(stopSeconds) s to stop")
        let rows = try await station.logRows()
        try #require(rows.count == 2, "\(rows)\n\(daemon.output)")
        #expect(rows[0].outcome == "interrupted")
        #expect(rows[0].aired_seconds > 1.2 && rows[0].aired_seconds < 2.5, "aired \(rows[0].aired_seconds) s")
        #expect(rows[1].outcome == "skipped")
    }

    @Test("Device absent at the slot: each item is logged failed with the ALSA error and the daemon keeps running")
    func deviceAbsent() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        try await station.addTone("a.wav", frequency: 440, seconds: 1, rate: 48000, title: "A")
        try await station.addTone("b.wav", frequency: 660, seconds: 1, rate: 48000, title: "B")
        let slotStart = station.wholeSecond(after: 3)
        try station.writeSlot("mat-thiet-bi", start: slotStart, files: ["a.wav", "b.wav"], end: slotStart.addingTimeInterval(3))
        // No sound server at this address: the pulse PCM cannot be opened; it is retried until the slot's end.
        let daemon = try station.startDaemon(environment: ["PULSE_SERVER": "unix:/nonexistent/loa/native"])
        let rows = try await station.waitForRows(until: slotStart.addingTimeInterval(8)) { $0.count == 2 && $0.allSatisfy { $0.outcome == "failed" } }
        #expect(daemon.isRunning, "the daemon must survive a missing device")
        #expect(rows.map(\.outcome) == ["failed", "failed"], "\(rows)")
        #expect(rows.allSatisfy { $0.reason?.hasPrefix("thiết bị âm thanh “pulse”") == true }, "\(rows)")
        #expect(await daemon.stop() == 0, "\(daemon.output)")
    }

    @Test("SIGHUP reloads the schedules: a slot added while running airs")
    func sighupReloads() async throws {
        let station = try ProcessStation(device: "null", timezone: ProcessStation.zoneAwayFromMidnight())
        try await station.addTone("a.wav", frequency: 440, seconds: 0.5, rate: 48000, title: "A")
        try station.writeSlot("xa", start: station.wholeSecond(after: 3600), files: ["a.wav"])
        let daemon = try station.startDaemon(environment: [:])
        #expect(try await daemon.waitForOutput("Khung giờ tiếp theo: xa", timeout: 10), "\(daemon.output)")
        let soon = station.wholeSecond(after: 3)
        try station.writeSlot("moi", start: soon, files: ["a.wav"], file: "moi.toml")
        daemon.send(SIGHUP)
        #expect(try await daemon.waitForOutput("Đã nạp lại", timeout: 5), "\(daemon.output)")
        let rows = try await station.waitForRows(until: soon.addingTimeInterval(6)) { $0.first?.outcome == "completed" }
        #expect(rows.map(\.slot) == ["moi"] && rows.first?.outcome == "completed", "\(rows)\n\(daemon.output)")
        #expect(await daemon.stop() == 0)
    }

    @Test("loa play: files of different formats and rates play back to back with no gap, in order")
    func playIsGapless() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        // The sound server is up before any slot time is chosen: its start-up cannot eat into the lead.
        let server = try SoundServer()
        defer { server.stop() }
        let items: [(name: String, frequency: Int, seconds: Double, rate: Int)] = [
            ("a.ogg", 440, 0.7, 48000), ("b.mp3", 1000, 0.9, 44100), ("c.wav", 2200, 0.6, 22050),
        ]
        for item in items {
            try await Harness.tone(station.audio.appendingPathComponent(item.name), frequency: item.frequency, seconds: item.seconds, rate: item.rate)
        }
        let recorder = try await MonitorRecorder.recording(server)
        let played = try await Harness.run(station.loa.path, ["play", "--device", "pulse"] + items.map { station.audio.appendingPathComponent($0.name).path },
                                     environment: server.environment)
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        #expect(played.status == 0, "\(played.err)")
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: items.map(\.frequency)))
        #expect(analysis.longestGap <= 0.005, "gap of \(analysis.longestGap) s")
        #expect(analysis.tones.map(\.frequency) == items.map(\.frequency), "\(analysis.tones)")
        for (heard, item) in zip(analysis.tones, items) {
            #expect(abs(heard.seconds - item.seconds) < 0.03, "\(item.name): heard \(heard.seconds) s")
        }
    }

    @Test("Two slots that touch both air: the first whole, the second at once after it")
    func touchingSlots() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        // The sound server is up before any slot time is chosen: its start-up cannot eat into the lead.
        let server = try SoundServer()
        defer { server.stop() }
        try await station.addTone("a.wav", frequency: 440, seconds: 2, rate: 48000, title: "A")
        try await station.addTone("b.wav", frequency: 2200, seconds: 1, rate: 48000, title: "B")
        let start = station.wholeSecond(after: 5)
        try station.writeSlot("truoc", start: start, files: ["a.wav"], end: start.addingTimeInterval(2), file: "a.toml")
        try station.writeSlot("sau", start: start.addingTimeInterval(2), files: ["b.wav"], file: "b.toml")
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(start.timeIntervalSinceNow + 4.5))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [440, 2200]))
        #expect(analysis.tones.map(\.frequency) == [440, 2200], "\(analysis.tones)")
        let rows = try await station.logRows()
        print("E2E touching slots: \(rows.map { "\($0.slot) \($0.outcome) onset \(Int($0.onset_error_ms ?? -1)) ms" })")
        #expect(rows.map(\.outcome) == ["completed", "completed"], "\(rows)")
        #expect(rows.last.flatMap(\.onset_error_ms).map { abs($0) < 250 } == true, "\(rows)")
    }
}
}
