import Foundation
import LoaAudio
import Testing

/// Where each tone of a recording starts and ends, in samples: 10 ms windows labelled as in
/// `ToneAnalysis`, runs shorter than three windows (boundaries, fades) left out.
struct ToneRun {
    var frequency: Int
    var start: Int
    var end: Int
    var seconds: Double { Double(end - start) / 48000 }

    static func runs(_ samples: [Float], frequencies: [Int], rate: Int = 48000) -> [ToneRun] {
        let window = rate / 100
        var runs: [ToneRun] = []
        var i = 0
        while i + window <= samples.count {
            let slice = samples[i..<(i + window)]
            var label = 0
            if (slice.reduce(0) { $0 + $1 * $1 } / Float(window)).squareRoot() >= 0.01 {
                var crossings = 0
                for j in (i + 1)..<(i + window) where (samples[j - 1] < 0) != (samples[j] < 0) { crossings += 1 }
                let estimate = Double(crossings) * Double(rate) / Double(window) / 2
                label = frequencies.min { abs(Double($0) - estimate) < abs(Double($1) - estimate) } ?? 0
            }
            if let last = runs.last, last.frequency == label, last.end == i {
                runs[runs.count - 1].end = i + window
            } else {
                runs.append(ToneRun(frequency: label, start: i, end: i + window))
            }
            i += window
        }
        var tones: [ToneRun] = []
        for run in runs where run.end - run.start >= 3 * window && run.frequency != 0 {
            if let last = tones.last, last.frequency == run.frequency, run.start - last.end <= 3 * window {
                tones[tones.count - 1].end = run.end
            } else {
                tones.append(run)
            }
        }
        // A tone that follows silence starts at its first audible sample, not at its first whole window.
        for n in tones.indices {
            let from = max(0, tones[n].start - window)
            if let onset = samples[from..<tones[n].end].firstIndex(where: { abs($0) > 0.02 }) { tones[n].start = onset }
        }
        return tones
    }
}

extension ProcessStation {
    /// Writes `schedules/<file>` with one slot; `extra` lines go into the table as written (late, intro, outro).
    @discardableResult
    func writeSchedule(_ id: String, start: Date, end: Date, play: [String], extra: [String] = [], file: String = "thu.toml") throws -> URL {
        let url = schedules.appendingPathComponent(file)
        try ([
            "[[slot]]", "id = \"\(id)\"", "start = \"\(clock(start))\"", "end = \"\(clock(end))\"",
            "play = [\(play.map { "\"\($0)\"" }.joined(separator: ", "))]",
        ] + extra).joined(separator: "\n").appending("\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Tones of `stepSeconds` each, one after another in one file, imported: where a join enters is
    /// then heard, not only how long.
    func addSteps(_ name: String, frequencies: [Int], stepSeconds: Double, title: String) async throws {
        var parts: [String] = []
        for (n, frequency) in frequencies.enumerated() {
            let part = folder.appendingPathComponent("step-\(n).wav")
            try await Harness.onOwnThread { try Harness.tone(part, frequency: frequency, seconds: stepSeconds, rate: 48000) }
            parts.append(part.path)
        }
        let joined = try await Harness.run("/usr/bin/sox", parts + [audio.appendingPathComponent(name).path])
        guard joined.status == 0 else { throw HarnessError("sox: \(joined.err)") }
        for part in parts { try? FileManager.default.removeItem(atPath: part) }
        try await importSegment(name, title: title)
    }

    func importSegment(_ name: String, title: String) async throws {
        let r = try await loaCommand(["segment", "add", audio.appendingPathComponent(name).path, "--title", title, "--pillar", "kinh-te"])
        guard r.status == 0 else { throw HarnessError("segment add: \(r.err)") }
    }

    /// Waits until every row is final, or `deadline`.
    func waitForFinalRows(count: Int, until deadline: Date) async throws -> [LogRow] {
        try await waitForRows(until: deadline) { rows in
            rows.count == count && rows.allSatisfy { $0.outcome != "planned" && $0.outcome != "started" }
        }
    }
}

/// Sleeps until `instant` (at once if it has passed).
func sleep(until instant: Date) async throws {
    let left = instant.timeIntervalSinceNow
    if left > 0 { try await Task.sleep(for: .milliseconds(Int(left * 1000))) }
}

/// 16-bit mono WAV.
func writeWAV(_ samples: [Float], rate: Int, to url: URL) throws {
    var data = Data()
    func le<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    data.append(contentsOf: Array("RIFF".utf8)); le(UInt32(36 + samples.count * 2))
    data.append(contentsOf: Array("WAVEfmt ".utf8)); le(UInt32(16)); le(UInt16(1)); le(UInt16(1)); le(UInt32(rate))
    le(UInt32(rate * 2)); le(UInt16(2)); le(UInt16(16))
    data.append(contentsOf: Array("data".utf8)); le(UInt32(samples.count * 2))
    for s in samples { le(Int16(max(-32768, min(32767, (s * 32768).rounded())))) }
    try data.write(to: url)
}

extension MonitorRecorder {
    typealias Recording = (samples: [Float], startedAt: Date)
}

/// When sample `index` of `recording` was heard.
func heardAt(_ recording: MonitorRecorder.Recording, _ index: Int) -> Date {
    recording.startedAt.addingTimeInterval(Double(index) / 48000)
}

func ms(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

/// The faults the issue lists, each through ALSA `pulse` into a private PulseAudio server whose monitor
/// is recorded: what the loudspeakers would have said is what is checked.
extension RealTimeTests {
@Suite("End to end: faults, lateness, jingles and loudness through real ALSA", .serialized)
struct PlayoutFaultTests {
    static let steps = [400, 600, 800, 1000, 1200, 1400, 1600, 1800]

    @Test("The sound server gone before the slot and back 3.5 s into it: the item on the clock joins mid-item within 2.5 s, the next on its second, the loss logged")
    func serverBackMidSlot() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let warmup = try await MonitorRecorder.recording(server)
        try await station.addSteps("a.wav", frequencies: Self.steps, stepSeconds: 1, title: "A, tám bậc")
        try await station.addTone("b.wav", frequency: 2400, seconds: 1.5, rate: 48000, title: "B")
        let start = station.wholeSecond(after: 4)
        try station.writeSchedule("mat-may-chu", start: start, end: start.addingTimeInterval(60), play: ["a.wav", "b.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        try await sleep(until: start.addingTimeInterval(-1))
        _ = warmup.stop()
        try server.kill()
        try await sleep(until: start.addingTimeInterval(1))
        // Back with the daemon's socket closed, so the recorder listens before the device can return.
        try server.restartForRecorder()
        let recorder = try await MonitorRecorder.recording(server, socket: server.recorderSocket)
        try await sleep(until: start.addingTimeInterval(3.5))
        try server.openDaemonSocket()
        let back = Date()
        let rows = try await station.waitForFinalRows(count: 2, until: start.addingTimeInterval(12))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        #expect(await daemon.stop() == 0, "\(daemon.output)")

        let tones = ToneRun.runs(recording.samples, frequencies: Self.steps + [2400])
        let first = try #require(tones.first, "nothing heard after the server came back; daemon said:\n\(daemon.output)")
        let firstHeard = heardAt(recording, first.start)
        let offset = firstHeard.timeIntervalSince(start)
        print("E2E server back: returned at +\(ms(back.timeIntervalSince(start))) ms, heard at +\(ms(offset)) ms, tones \(tones.map { "\($0.frequency) Hz \(ms($0.seconds)) ms" })")
        #expect(firstHeard.timeIntervalSince(back) < 2.5, "sound \(firstHeard.timeIntervalSince(back)) s after the server came back")
        // Join: what is heard is the step of A the wall clock is in, for what is left of that step.
        let step = Int(offset)
        try #require(step < Self.steps.count, "A's time had passed when sound came back: \(offset) s")
        let leftOfStep = Double(step + 1) - offset
        let expected = leftOfStep < 0.06 ? Array(Self.steps[(step + 1)...]) : Array(Self.steps[step...])
        #expect(tones.map(\.frequency) == expected + [2400], "heard \(tones.map(\.frequency)) from +\(offset) s\n\(daemon.output)")
        if leftOfStep >= 0.06, first.frequency == Self.steps[step] {
            #expect(abs(first.seconds - leftOfStep) < 0.05, "heard \(first.seconds) s of step \(step), \(leftOfStep) s of it were left")
        }
        // The heard remainder of A is the planned remainder, and B is on its second.
        if let b = tones.last, b.frequency == 2400 {
            let heardOfA = Double(b.start - first.start) / 48000
            #expect(abs(heardOfA - (8 - offset)) < 0.05, "heard \(heardOfA) s of A, planned remainder \(8 - offset) s")
            let bError = heardAt(recording, b.start).timeIntervalSince(start.addingTimeInterval(8))
            print("E2E server back: B heard \(ms(bError)) ms from its second")
            #expect(abs(bError) < 0.05, "B heard \(bError) s from its second")
        }
        try #require(rows.count == 2, "\(rows)")
        #expect(rows[0].outcome == "truncated", "\(rows[0])")
        #expect(rows[0].lost_seconds.map { abs($0 - offset) < 0.1 } == true, "lost \(String(describing: rows[0].lost_seconds)) s, heard from +\(offset) s")
        #expect(rows[0].policy == "join" && rows[0].reason != nil, "\(rows[0])")
        #expect(rows[1].outcome == "completed" && rows[1].onset_error_ms.map { abs($0) < 50 } == true, "\(rows[1])")
        #expect(daemon.output.contains("Mất thiết bị âm thanh"), "\(daemon.output)")
    }

    @Test("The sound server frozen (SIGSTOP) mid-item for 3 s: the stall is detected, the device recovered, the freeze not carried into the next item, the loss logged")
    func stalledServer() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let warmup = try await MonitorRecorder.recording(server)
        try await station.addTone("a.wav", frequency: 440, seconds: 6, rate: 48000, title: "A")
        try await station.addTone("b.wav", frequency: 660, seconds: 1.5, rate: 48000, title: "B")
        let start = station.wholeSecond(after: 4)
        try station.writeSchedule("treo", start: start, end: start.addingTimeInterval(60), play: ["a.wav", "b.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        try await sleep(until: start.addingTimeInterval(1.5))
        try server.pause()
        let frozenAt = Date()
        try await Task.sleep(for: .seconds(3))
        try server.resume()
        // The freeze as it happened (the test's sleep runs over under load), which A's loss is held to.
        let frozen = Date().timeIntervalSince(frozenAt)
        // The recorder of the frozen server lost its timeline: a fresh one measures what follows.
        _ = warmup.stop()
        let recorder = try await MonitorRecorder.recording(server)
        let rows = try await station.waitForFinalRows(count: 2, until: start.addingTimeInterval(12))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        if rows.count != 2 || rows.contains(where: { $0.outcome == "started" || $0.outcome == "planned" }) {
            // A daemon that does not finish the slot is a finding: say where its threads are.
            let trace = try? await Harness.run("/usr/bin/gdb", ["-p", "\(daemon.process.processIdentifier)", "-batch", "-ex", "thread apply all bt"])
            print("E2E stall: the slot did not finish; rows \(rows)\n\(daemon.output)\n\(trace?.out ?? "no gdb")")
        }
        let output = daemon.output
        let status = await daemon.stop()
        #expect(status == 0, "the daemon did not stop cleanly after the stall:\n\(output)")
        #expect(output.contains("Mất thiết bị âm thanh"), "the stall was not reported:\n\(output)")
        try #require(rows.count == 2, "\(rows)\n\(output)")
        // A's freeze is lost, and said so. Under join A is rejoined on the wall clock once the server is back: truncated,
        // having lost the freeze, less what the device held when it froze (its 200 ms buffer, counted as heard), plus at
        // most one retry of the device (every 0.5 s) before it opens again. Measured (BENCHMARKS.md): 2.83–2.96 s lost in
        // 21 runs of 22, 83–168 ms under the freeze where it was timed; once 438 ms over it, beside four busy loops. B whole.
        print("E2E stall: frozen \(ms(frozen)) ms, A lost \(ms(rows[0].lost_seconds ?? -1)) ms, A lost − frozen \(ms((rows[0].lost_seconds ?? -1) - frozen)) ms")
        #expect(rows[0].outcome == "truncated", "\(rows[0])\n\(output)")
        #expect(rows[0].lost_seconds.map { $0 >= frozen - 0.25 && $0 <= frozen + 0.55 } == true,
                "lost \(String(describing: rows[0].lost_seconds)) s of a \(frozen) s freeze\n\(output)")
        #expect(rows[1].outcome == "completed", "\(rows[1])\n\(output)")
        let tones = ToneRun.runs(recording.samples, frequencies: [440, 660])
        print("E2E stall: tones after the freeze \(tones.map { "\($0.frequency) Hz \(ms($0.seconds)) ms" }), rows \(rows.map { "\($0.outcome) lost \($0.lost_seconds ?? -1)" })")
        let b = try #require(tones.last { $0.frequency == 660 }, "B was not heard:\n\(output)")
        let bError = heardAt(recording, b.start).timeIntervalSince(start.addingTimeInterval(6))
        let bEndError = heardAt(recording, b.start).addingTimeInterval(b.seconds).timeIntervalSince(start.addingTimeInterval(7.5))
        print("E2E stall: B heard \(ms(bError)) ms from its second, ended \(ms(bEndError)) ms from its planned end")
        // The recorder is restarted just after SIGCONT: had the daemon's stream gone from the server by then,
        // the null sink, with nothing attached, would render its 2 s block ahead and leave a reopened stream
        // unread for up to 2 s (B 0.45 to 0.79 s late, a second stall logged). The engine keeps the stalled
        // stream until its replacement is open, so the 3 s freeze is not carried into B (before this engine every
        // later item aired 2.9 s late) and B starts on its second.
        #expect(abs(bError) < 0.05, "B heard \(bError) s from its second; rows \(rows)\n\(output)")
        #expect(abs(bEndError) < 0.5, "B ended \(bEndError) s from its planned end; rows \(rows)\n\(output)")
    }

    @Test("The daemon frozen (SIGSTOP) 0.4 s mid-item, longer than its device buffer: the silence the loudspeaker made is logged at once with its length and counted on the row; under join the next item catches the time up and ends on its second")
    func daemonStalled() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        try await station.addTone("a.wav", frequency: 440, seconds: 3, rate: 48000, title: "A")
        try await station.addTone("b.wav", frequency: 660, seconds: 1, rate: 48000, title: "B")
        let start = station.wholeSecond(after: 3)
        try station.writeSchedule("dung-hinh", start: start, end: start.addingTimeInterval(60), play: ["a.wav", "b.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        try await sleep(until: start.addingTimeInterval(1.2))
        kill(daemon.process.processIdentifier, SIGSTOP)
        try await Task.sleep(for: .milliseconds(400))
        kill(daemon.process.processIdentifier, SIGCONT)
        let rows = try await station.waitForFinalRows(count: 2, until: start.addingTimeInterval(8))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        let output = daemon.output
        #expect(await daemon.stop() == 0, "\(output)")
        let tones = ToneRun.runs(recording.samples, frequencies: [440, 660])
        print("E2E daemon frozen: tones \(tones.map { "\($0.frequency) Hz at +\(ms(heardAt(recording, $0.start).timeIntervalSince(start))) ms for \(ms($0.seconds)) ms" }); rows \(rows.map { "\($0.outcome) lost \($0.lost_seconds ?? -1) xruns \($0.xruns ?? 0)" })")
        // What the loudspeaker made: A, a silence, the rest of A, then B.
        let a = tones.filter { $0.frequency == 440 }
        try #require(a.count == 2, "A heard as \(tones.map { "\($0.frequency) Hz \(ms($0.seconds)) ms" }): no silence in it")
        let silence = Double(a[1].start - a[0].end) / 48000
        try #require(rows.count == 2, "\(rows)\n\(output)")
        #expect((rows[0].xruns ?? 0) >= 1, "A's row counts no dropout: \(rows[0])")
        // The daemon says it at once, with the length heard (10 ms windows: within 30 ms).
        let said = output.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: #"Loa mất tiếng (\d+) ms khi phát “A”"#, options: .regularExpression) else { return nil }
            return Int(line[range].split(separator: " ")[3])
        }
        #expect(said.count == 1 && said.first.map { abs(Double($0) / 1000 - silence) < 0.03 } == true,
                "heard \(ms(silence)) ms of silence; the daemon said \(said):\n\(output)")
        // Under join the time lost is caught up at the next item: B is entered where the clock is, so it ends on time.
        let b = try #require(tones.last { $0.frequency == 660 }, "B not heard")
        let bEndError = heardAt(recording, b.end).timeIntervalSince(start.addingTimeInterval(4))
        #expect(abs(bEndError) < 0.05, "B ended \(ms(bEndError)) ms from its planned end")
        #expect(rows[1].outcome == "truncated" && rows[1].lost_seconds.map { abs($0 - silence) < 0.03 } == true,
                "B lost \(String(describing: rows[1].lost_seconds)) s for \(ms(silence)) ms of silence in A: \(rows[1])")
    }

    /// One run of the lateness scenario: the daemon started 1.5 s into a slot of A (four 1 s steps) then B (1 s).
    struct LateRun {
        let rows: [ProcessStation.LogRow]
        let recording: MonitorRecorder.Recording
        let start: Date
        let output: String
        let stopped: Int32?
    }

    func lateRun(_ policy: String, steps aSteps: [Int]) async throws -> LateRun {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        try await station.addSteps("a.wav", frequencies: aSteps, stepSeconds: 1, title: "A, bốn bậc")
        try await station.addTone("b.wav", frequency: 2400, seconds: 1, rate: 48000, title: "B")
        let start = station.wholeSecond(after: 1)
        try station.writeSchedule("muon-\(policy)", start: start, end: start.addingTimeInterval(60), play: ["a.wav", "b.wav"],
                                  extra: ["late = \"\(policy)\""])
        try await sleep(until: start.addingTimeInterval(1.5))
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        // whole airs A from the entry (≈ +2 s) to ≈ +6 s, B to ≈ +7 s; the others are over by +5 s.
        let rows = try await station.waitForFinalRows(count: 2, until: start.addingTimeInterval(policy == "whole" ? 12 : 9))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        let output = daemon.output
        return LateRun(rows: rows, recording: recording, start: start, output: output, stopped: await daemon.stop())
    }

    @Test("The daemon started 1.5 s into a slot: each lateness policy does what the README says", arguments: ["join", "next", "skip", "whole"])
    func latenessPolicy(_ policy: String) async throws {
        let aSteps = Array(Self.steps.prefix(4))
        // A host that stops the daemon's output thread for longer than the device's buffer (seen once in CI: 75 ms
        // of silence in A, B 63 ms late) leaves nothing to check the policy against. The daemon must then say so (a
        // dropout logged and counted on the row); a run with a gap heard and reported is set aside and the scenario
        // run again, at most three runs in all. A gap the daemon does not report, or a report with no gap, fails below.
        var run = try await lateRun(policy, steps: aSteps)
        for attempt in 1..<3 {
            let tones = ToneRun.runs(run.recording.samples, frequencies: aSteps + [2400])
            let gapped = zip(tones, tones.dropFirst()).contains { $1.start - $0.end > 48000 * 3 / 100 }
            guard gapped && run.rows.contains(where: { ($0.xruns ?? 0) > 0 }) && run.output.contains("Loa mất tiếng") else { break }
            print("E2E late = \(policy): run \(attempt) set aside, a dropout heard and reported: \(run.rows.map { "\($0.outcome) xruns \($0.xruns ?? 0)" })")
            run = try await lateRun(policy, steps: aSteps)
        }
        #expect(!run.output.contains("Loa mất tiếng") && run.rows.allSatisfy { ($0.xruns ?? 0) == 0 },
                "a dropout reported in the run that counts:\n\(run.output)")
        let (rows, recording, start) = (run.rows, run.recording, run.start)
        #expect(run.stopped == 0, "\(run.output)")
        let tones = ToneRun.runs(recording.samples, frequencies: aSteps + [2400])
        print("E2E late = \(policy): tones \(tones.map { "\($0.frequency) Hz at +\(ms(heardAt(recording, $0.start).timeIntervalSince(start))) ms for \(ms($0.seconds)) ms" }); rows \(rows.map { "\($0.outcome) \($0.policy ?? "-") lost \($0.lost_seconds ?? -1) xruns \($0.xruns ?? 0)" })")
        try #require(rows.count == 2, "\(rows)\n\(run.output)")
        let b = tones.last { $0.frequency == 2400 }
        let bOnSecond = b.map { heardAt(recording, $0.start).timeIntervalSince(start.addingTimeInterval(4)) }
        switch policy {
        case "join":
            let first = try #require(tones.first, "nothing heard:\n\(run.output)")
            let offset = heardAt(recording, first.start).timeIntervalSince(start)
            #expect(offset >= 1.45 && offset < 4, "joined at +\(offset) s")
            let step = min(3, Int(offset))
            let left = Double(step + 1) - offset
            let expected = left < 0.06 ? Array(aSteps[min(4, step + 1)...]) : Array(aSteps[step...])
            #expect(tones.map(\.frequency) == expected + [2400], "A's remainder, then B: heard \(tones.map(\.frequency)) from +\(offset) s")
            #expect(bOnSecond.map { abs($0) < 0.05 } == true, "B heard \(String(describing: bOnSecond)) s from its second")
            #expect(rows.map(\.outcome) == ["truncated", "completed"], "\(rows)")
            #expect(rows[0].policy == "join" && rows[0].lost_seconds.map { abs($0 - offset) < 0.1 } == true, "\(rows[0]), heard from +\(offset) s")
        case "next":
            // A, on the clock, gives way; B starts at once rather than leave silence until its planned second (4 s in).
            #expect(tones.map(\.frequency) == [2400], "B at once: heard \(tones.map(\.frequency))")
            #expect(bOnSecond.map { $0 > -2.6 && $0 < -0.5 } == true, "B heard \(String(describing: bOnSecond)) s from its planned second")
            #expect(rows.map(\.outcome) == ["skipped", "completed"], "\(rows)")
            #expect(rows[0].policy == "next" && rows[0].lost_seconds == 4, "\(rows[0])")
        case "skip":
            #expect(tones.isEmpty, "nothing is aired: heard \(tones.map(\.frequency))")
            #expect(rows.map(\.outcome) == ["skipped", "skipped"], "\(rows)")
            #expect(rows.allSatisfy { $0.policy == "skip" }, "\(rows)")
        default: // whole
            let first = try #require(tones.first, "nothing heard:\n\(run.output)")
            let offset = heardAt(recording, first.start).timeIntervalSince(start)
            #expect(offset >= 1.45 && offset < 4, "entered at +\(offset) s")
            #expect(tones.map(\.frequency) == aSteps + [2400], "A whole from its start, then B: \(tones.map(\.frequency))")
            if let b {
                let heardOfA = Double(b.start - first.start) / 48000
                #expect(abs(heardOfA - 4) < 0.05, "B came \(heardOfA) s after A began: A is 4 s, B right after it")
                #expect(abs(b.seconds - 1) < 0.05, "B heard for \(b.seconds) s")
            }
            #expect(ToneAnalysis(recording.samples, rate: 48000, frequencies: aSteps + [2400]).map { $0.longestGap <= 0.05 } == true)
            #expect(rows.map(\.outcome) == ["completed", "completed"], "\(rows)")
            #expect(rows[0].policy == "whole", "\(rows[0])")
        }
    }

    @Test("An MP3 cut in half after import (and its playout copy): what decodes airs, the row says so with a reason, the next item follows at once rather than leave the rest of its time silent")
    func truncatedMP3() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        try await station.addTone("a.mp3", frequency: 440, seconds: 4, rate: 44100, title: "A, bị cắt")
        try await station.addTone("b.wav", frequency: 660, seconds: 1, rate: 48000, title: "B")
        let mp3 = station.audio.appendingPathComponent("a.mp3")
        // Its playout copy (named by the original's SHA-256) is cut too: the daemon then airs the original.
        let sum = try await Harness.run("/usr/bin/sha256sum", [mp3.path])
        let copy = station.audio.appendingPathComponent(".playout/\(sum.out.prefix(64)).wav")
        #expect(FileManager.default.fileExists(atPath: copy.path), "no playout copy at \(copy.path)")
        for file in [mp3, copy] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
            let cut = try await Harness.run("/bin/sh", ["-c", "head -c \(size / 2) '\(file.path)' > '\(file.path).half' && mv '\(file.path).half' '\(file.path)'"])
            try #require(cut.status == 0, "\(cut.err)")
        }
        let start = station.wholeSecond(after: 4)
        try station.writeSchedule("mp3-hong", start: start, end: start.addingTimeInterval(60), play: ["a.mp3", "b.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        let rows = try await station.waitForFinalRows(count: 2, until: start.addingTimeInterval(8))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        #expect(await daemon.stop() == 0, "\(daemon.output)")
        let tones = ToneRun.runs(recording.samples, frequencies: [440, 660])
        print("E2E truncated MP3: tones \(tones.map { "\($0.frequency) Hz at +\(ms(heardAt(recording, $0.start).timeIntervalSince(start))) ms for \(ms($0.seconds)) ms" }); rows \(rows.map { "\($0.outcome) aired \($0.aired_seconds) lost \($0.lost_seconds ?? -1) \($0.reason ?? "-")" })")
        #expect(tones.map(\.frequency) == [440, 660], "\(tones.map(\.frequency))\n\(daemon.output)")
        if tones.count == 2 {
            #expect(tones[0].seconds > 1.5 && tones[0].seconds < 2.5, "the decodable half (≈ 2 s) airs: heard \(tones[0].seconds) s")
            let gap = Double(tones[1].start - tones[0].end) / 48000
            #expect(gap < 0.05, "silence between what decoded of A and B: \(gap) s")
        }
        try #require(rows.count == 2, "\(rows)")
        #expect(["failed", "truncated"].contains(rows[0].outcome), "a file that ends 2 s before its planned length is not completed: \(rows[0])")
        #expect(rows[0].reason_code == "file.short" && rows[0].reason.map { !$0.isEmpty } == true, "\(rows[0])")
        #expect(rows[0].aired_seconds > 1.5 && rows[0].aired_seconds < 2.5, "\(rows[0])")
        #expect(rows[1].outcome == "completed" && rows[1].onset_error_ms.map { $0 < -1500 } == true, "B about 2 s early: \(rows[1])")
    }

    @Test("Intro and outro around an item: heard back to back with no gap, logged as jingle rows, not counted by loa report")
    func introAndOutro() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        try FileManager.default.createDirectory(at: station.audio.appendingPathComponent("jingles"), withIntermediateDirectories: true)
        try await Harness.tone(station.audio.appendingPathComponent("jingles/vao.wav"), frequency: 880, seconds: 0.6, rate: 48000)
        try await Harness.tone(station.audio.appendingPathComponent("jingles/ra.wav"), frequency: 1320, seconds: 0.6, rate: 48000)
        try await station.importSegment("jingles/vao.wav", title: "Nhạc hiệu vào")
        try await station.importSegment("jingles/ra.wav", title: "Nhạc hiệu ra")
        try await station.addTone("tin.wav", frequency: 440, seconds: 1.5, rate: 48000, title: "Bản tin")
        let start = station.wholeSecond(after: 4)
        try station.writeSchedule("co-nhac-hieu", start: start, end: start.addingTimeInterval(60), play: ["tin.wav"],
                                  extra: ["intro = \"jingles/vao.wav\"", "outro = \"jingles/ra.wav\""])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        let rows = try await station.waitForFinalRows(count: 3, until: start.addingTimeInterval(6))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        #expect(await daemon.stop() == 0, "\(daemon.output)")
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [880, 440, 1320]), "\(daemon.output)")
        print("E2E jingles: longest gap \(ms(analysis.longestGap)) ms, tones \(analysis.tones.map { "\($0.frequency) Hz \(ms($0.seconds)) ms" })")
        #expect(analysis.tones.map(\.frequency) == [880, 440, 1320], "\(analysis.tones)")
        #expect(analysis.longestGap <= 0.005, "gap of \(analysis.longestGap) s")
        #expect(rows.map(\.kind) == ["jingle", "segment", "jingle"], "\(rows)")
        #expect(rows.allSatisfy { $0.outcome == "completed" }, "\(rows)")
        struct Count: Decodable { let completed: Int }
        struct Report: Decodable { let total: Count }
        let report = try await station.loaCommand(["report", "--format", "json"])
        try #require(report.status == 0, "\(report.err)")
        #expect(try JSONDecoder().decode(Report.self, from: Data(report.out.utf8)).total.completed == 1, "\(report.out)")
    }

    @Test("Two segments 12 LU apart air at the station's target loudness, within 1 LU of it and of each other")
    func loudnessAtTheOutput() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        try "\n[loudness]\ntarget_lufs = -20\n".appendLine(to: URL(fileURLWithPath: station.config))
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        // A 1 kHz sine of peak p played on both loudspeakers reads about 20·log10(p) LUFS.
        for (name, frequency, volume) in [("nho.wav", 1000, 0.04), ("to.wav", 500, 0.16)] {
            let r = try await Harness.run("/usr/bin/sox", ["-n", "-r", "48000", "-c", "1", station.audio.appendingPathComponent(name).path,
                                                     "synth", "3", "sine", "\(frequency)", "vol", "\(volume)"])
            try #require(r.status == 0, "\(r.err)")
            try await station.importSegment(name, title: name)
        }
        struct Listed: Decodable { let path: String, loudness_lufs: Double? }
        let listed = try JSONDecoder().decode([Listed].self, from: Data(try await station.loaCommand(["segment", "list", "--json"]).out.utf8))
        let quiet = try #require(listed.first { $0.path == "nho.wav" }?.loudness_lufs)
        let loud = try #require(listed.first { $0.path == "to.wav" }?.loudness_lufs)
        try #require(abs(loud - quiet - 12) < 1, "the files must be 12 LU apart: \(quiet), \(loud) LUFS")
        let start = station.wholeSecond(after: 4)
        try station.writeSchedule("do-to", start: start, end: start.addingTimeInterval(60), play: ["nho.wav", "to.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        _ = try await station.waitForFinalRows(count: 2, until: start.addingTimeInterval(9))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        #expect(await daemon.stop() == 0, "\(daemon.output)")
        let tones = ToneRun.runs(recording.samples, frequencies: [1000, 500])
        try #require(tones.map(\.frequency) == [1000, 500], "\(tones.map(\.frequency))\n\(daemon.output)")
        // Each item as heard, less its first and last 0.3 s (gain ramp, limiter look-ahead, window edges).
        var measured: [Double] = []
        for tone in tones {
            let margin = 48000 * 3 / 10
            let heard = Array(recording.samples[(tone.start + margin)..<(tone.end - margin)])
            let meter = try LoudnessMeter(sampleRate: 48000, channels: 1, source: "monitor")
            try meter.add(heard, frames: heard.count)
            measured.append(meter.loudness.integratedLUFS)
        }
        try writeWAV(recording.samples, rate: 48000, to: station.folder.appendingPathComponent("monitor.wav"))
        print("E2E loudness: files \(quiet), \(loud) LUFS; heard \(measured.map { String(format: "%.2f", $0) }) LUFS (target -20); recording \(station.folder.path)/monitor.wav")
        #expect(measured.allSatisfy { abs($0 - -20) <= 1 }, "heard \(measured) LUFS, target -20")
        #expect(abs(measured[0] - measured[1]) <= 1, "heard \(measured) LUFS")
    }

    @Test("A segment of 0 dBFS clicks: the output's sample peak stays at or under −1 dBFS")
    func clicksAreLimited() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        // Quiet hum with full-scale clicks: its loudness is low, so playout turns it up, clicks and all.
        var samples = (0..<(48000 * 3)).map { Float(0.02 * sin(2 * Double.pi * 300 * Double($0) / 48000)) }
        for n in stride(from: 4800, to: samples.count - 2, by: 4800) {
            samples[n] = 1
            samples[n + 1] = -1
            samples[n + 2] = 1
        }
        try writeWAV(samples, rate: 48000, to: station.audio.appendingPathComponent("tach.wav"))
        try await station.importSegment("tach.wav", title: "Tiếng tách")
        let start = station.wholeSecond(after: 4)
        try station.writeSchedule("tach", start: start, end: start.addingTimeInterval(60), play: ["tach.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        let rows = try await station.waitForFinalRows(count: 1, until: start.addingTimeInterval(7))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        #expect(await daemon.stop() == 0, "\(daemon.output)")
        #expect(rows.map(\.outcome) == ["completed"], "\(rows)\n\(daemon.output)")
        let peak = recording.samples.reduce(0) { max($0, abs($1)) }
        let loud = recording.samples.filter { abs($0) > 0.02 }.count
        print("E2E clicks: output sample peak \(String(format: "%.4f", peak)) (\(String(format: "%.2f", 20 * log10(Double(peak)))) dBFS), \(loud) samples above -34 dBFS")
        #expect(loud > 48000, "the segment was heard")
        #expect(peak <= 0.891, "sample peak \(peak) over −1 dBFS")
    }

    @Test("SIGHUP after a typo in the only schedule file: the old slot still airs and the daemon names the error as file:line")
    func reloadWithTypoKeepsSlot() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        try await station.addTone("a.wav", frequency: 440, seconds: 1, rate: 48000, title: "A")
        let start = station.wholeSecond(after: 5)
        let file = try station.writeSchedule("giu-lich", start: start, end: start.addingTimeInterval(60), play: ["a.wav"])
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("Khung giờ tiếp theo: giu-lich", timeout: 3), "\(daemon.output)")
        // The closing quote of `start` forgotten: the file no longer parses, at line 3.
        let good = try String(contentsOf: file, encoding: .utf8)
        try good.replacingOccurrences(of: "start = \"\(station.clock(start))\"", with: "start = \"\(station.clock(start))")
            .write(to: file, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        let named = try await daemon.waitForOutput("thu.toml:3", timeout: 3)
        let rows = try await station.waitForFinalRows(count: 1, until: start.addingTimeInterval(4))
        try await Task.sleep(for: .milliseconds(300))
        let recording = recorder.stop()
        #expect(await daemon.stop() == 0, "\(daemon.output)")
        print("E2E reload with a typo: daemon said\n\(daemon.output)")
        #expect(named, "the error is named as thu.toml:3:\n\(daemon.output)")
        #expect(rows.map(\.outcome) == ["completed"] && rows.first?.slot == "giu-lich", "\(rows)\n\(daemon.output)")
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [440]), "the slot was not heard:\n\(daemon.output)")
        #expect(analysis.tones.map(\.frequency) == [440])
        let onset = heardAt(recording, analysis.firstSound).timeIntervalSince(start)
        #expect(abs(onset) < 0.25, "heard \(onset) s from the slot time")
    }

    @Test("A schedule file written while an item airs is reloaded with no SIGHUP: the item goes on whole, the next slot comes from the new file, and a broken edit after it keeps the schedule")
    func fileChangeReloads() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        let recorder = try await MonitorRecorder.recording(server)
        try await station.addTone("dai.wav", frequency: 440, seconds: 4, rate: 48000, title: "Dài")
        try await station.addTone("b.wav", frequency: 660, seconds: 1, rate: 48000, title: "B")
        let start = station.wholeSecond(after: 4)
        try station.writeSlot("dang-phat", start: start, files: ["dai.wav"], end: start.addingTimeInterval(6))
        let daemon = try station.startDaemon(environment: server.environment)
        defer { _ = daemon.stop() }
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 1))
        // Written as `loa schedule` and editors do: a new file renamed into the folder, while the long item airs.
        let next = station.wholeSecond(after: 6)
        try station.writeSlot("moi", start: next, files: ["b.wav"], end: next.addingTimeInterval(3), file: "moi.toml")
        #expect(try await daemon.waitForOutput("Đã nạp lại", timeout: 5), "\(daemon.output)")
        try "[[slot]]\nid = \"hong\"\nstart = \"25:00\"\nplay = [\"b.wav\"]\n"
            .write(to: station.schedules.appendingPathComponent("hong.toml"), atomically: true, encoding: .utf8)
        #expect(try await daemon.waitForOutput("hong.toml:3", timeout: 5), "the broken edit is named at its line: \(daemon.output)")
        let rows = try await station.waitForFinalRows(count: 2, until: next.addingTimeInterval(4))
        _ = recorder.stop()
        #expect(rows.map(\.slot) == ["dang-phat", "moi"] && rows.allSatisfy { $0.outcome == "completed" }, "\(rows)\n\(daemon.output)")
        #expect(abs((rows.first?.aired_seconds ?? 0) - 4) < 0.05, "the item on air was not cut: \(rows)")
        #expect(await daemon.stop() == 0)
    }
}
}

extension String {
    func appendLine(to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}
