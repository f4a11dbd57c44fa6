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
        for run in runs where run.seconds > 0.025 {
            if let lastTone = tones.last, lastTone.frequency == run.frequency {
                tones[tones.count - 1].seconds += run.seconds
            } else {
                tones.append(run)
            }
        }
    }
}

@Suite("End to end: loa daemon through ALSA to a PulseAudio null sink", .serialized)
struct EndToEndTests {
    struct LogRow: Decodable {
        let slot: String, segment: String, outcome: String, aired_seconds: Double, scheduled_at: String, started_at: String?
        let onset_error_ms: Double?
    }

    @Test("A slot a few seconds ahead airs on time, gaplessly, in order, and is logged completed")
    func slotAirsOnTime() async throws {
        let loa = try Harness.loaBinary()
        let station = try Harness.temporaryFolder("loa-e2e")
        let audio = station.appendingPathComponent("audio"), schedules = station.appendingPathComponent("schedules")
        try FileManager.default.createDirectory(at: audio, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: schedules, withIntermediateDirectories: true)
        let items: [(name: String, frequency: Int, seconds: Double, rate: Int)] = [
            ("mot.wav", 440, 1.0, 44100), ("hai.mp3", 1000, 1.2, 44100), ("ba.flac", 2200, 0.8, 22050),
        ]
        for item in items {
            try Harness.tone(audio.appendingPathComponent(item.name), frequency: item.frequency, seconds: item.seconds, rate: item.rate)
        }
        try """
        station = "UBND xã Thử Nghiệm"
        timezone = "Asia/Ho_Chi_Minh"
        device = "pulse"
        """.write(to: station.appendingPathComponent("loa.toml"), atomically: true, encoding: .utf8)
        let config = station.appendingPathComponent("loa.toml").path
        for (n, item) in items.enumerated() {
            let r = try Harness.run(loa.path, ["--config", config, "segment", "add", audio.appendingPathComponent(item.name).path,
                                                "--title", "Bản tin thử \(n + 1)", "--pillar", "kinh-te"])
            try #require(r.status == 0, "\(r.err)")
        }

        // The slot starts on a whole second, far enough ahead for the daemon to start and open the device.
        var zone = Calendar(identifier: .gregorian)
        zone.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current
        let slotStart = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 5).rounded(.up))
        let c = zone.dateComponents([.hour, .minute, .second], from: slotStart)
        let hms = String(format: "%02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        let endTime = zone.dateComponents([.hour, .minute, .second], from: slotStart.addingTimeInterval(60))
        try """
        [[slot]]
        id = "thu-nghiem"
        start = "\(hms)"
        end = "\(String(format: "%02d:%02d:%02d", endTime.hour ?? 0, endTime.minute ?? 0, endTime.second ?? 0))"
        play = ["mot.wav", "hai.mp3", "ba.flac"]
        """.write(to: schedules.appendingPathComponent("thu.toml"), atomically: true, encoding: .utf8)
        let validate = try Harness.run(loa.path, ["schedule", "validate", "--config", config])
        try #require(validate.status == 0, "\(validate.err)")

        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try MonitorRecorder(server: server)
        let daemon = Process()
        daemon.executableURL = loa
        daemon.arguments = ["daemon", "--config", config]
        daemon.environment = ProcessInfo.processInfo.environment.merging(server.environment) { $1 }
        let daemonLog = station.appendingPathComponent("daemon.log")
        FileManager.default.createFile(atPath: daemonLog.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: daemonLog)
        daemon.standardError = logHandle
        daemon.standardOutput = logHandle
        try daemon.run()

        let total = items.reduce(0) { $0 + $1.seconds }
        try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow) + total + 1.5))
        daemon.terminate() // SIGTERM: graceful
        daemon.waitUntilExit()
        let recording = recorder.stop()
        let daemonOutput = (try? String(contentsOf: daemonLog, encoding: .utf8)) ?? ""
        #expect(daemon.terminationStatus == 0, "\(daemonOutput)")

        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: items.map(\.frequency)),
                                    "nothing was heard; daemon said:\n\(daemonOutput)")
        let heardAt = recording.startedAt.addingTimeInterval(Double(analysis.firstSound) / 48000)
        let onsetError = heardAt.timeIntervalSince(slotStart)
        print("E2E measured: onset error \(Int((onsetError * 1000).rounded())) ms, longest gap \(Int((analysis.longestGap * 1000).rounded())) ms, tones \(analysis.tones.map { "\($0.frequency) Hz \(Int(($0.seconds * 1000).rounded())) ms" })")
        #expect(abs(onsetError) < 0.25, "first sound \(onsetError) s from the slot time")
        #expect(analysis.longestGap <= 0.05, "gap of \(analysis.longestGap) s")
        #expect(analysis.tones.map(\.frequency) == items.map(\.frequency), "\(analysis.tones)")
        // The tones were synthesized at these lengths; MP3 encoder padding is trimmed by the decoder
        // (sox's soxi would count it, so it is not the reference here).
        for (heard, item) in zip(analysis.tones, items) {
            let expected = item.seconds
            #expect(abs(heard.seconds - expected) < 0.05, "\(item.name): heard \(heard.seconds) s, file \(expected) s")
        }

        let log = try Harness.run(loa.path, ["log", "--format", "json", "--config", config])
        try #require(log.status == 0, "\(log.err)")
        let rows = try JSONDecoder().decode([LogRow].self, from: Data(log.out.utf8))
        #expect(rows.count == items.count, "\(log.out)")
        #expect(rows.allSatisfy { $0.outcome == "completed" && $0.slot == "thu-nghiem" }, "\(log.out)")
        for (row, item) in zip(rows, items) {
            let expected = item.seconds
            #expect(abs(row.aired_seconds - expected) < 0.05, "\(item.name): logged \(row.aired_seconds) s, file \(expected) s")
            #expect(row.started_at != nil && row.onset_error_ms.map { abs($0) < 250 } == true)
        }
        try? FileManager.default.removeItem(at: station)
    }
}
