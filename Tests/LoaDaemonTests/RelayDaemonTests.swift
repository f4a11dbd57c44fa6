import Foundation
import LoaTestSupport
import Testing

/// A station whose `loa.toml` names upstreams and whose schedule relays them, driven through the real `loa` binary.
struct RelayStation {
    let station: ProcessStation
    /// The fallback every relay slot here airs: a 330 Hz jingle of 4 s, looped.
    static let fallbackTone = 330

    init() async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        self.station = station
        try await Harness.tone(station.audio.appendingPathComponent("cho.wav"), frequency: RelayStation.fallbackTone, seconds: 4, rate: 48000)
        let r = try await station.loaCommand(["segment", "add", station.audio.appendingPathComponent("cho.wav").path, "--title", "Nhạc chờ"])
        guard r.status == 0 else { throw HarnessError("segment add: \(r.err)") }
    }

    /// Appends a `[[source]]` with bounds short enough for a test: lead 6 s, stall 2 s, reconnect 1 s.
    func addSource(_ name: String, url: String? = nil, capture: String? = nil, extra: String = "") throws {
        let file = URL(fileURLWithPath: station.config)
        let input = url.map { "url = \"\($0)\"" } ?? "capture = \"\(capture ?? "")\""
        let text = try String(contentsOf: file, encoding: .utf8) + """

        [[source]]
        name = "\(name)"
        label = "Nguồn \(name)"
        \(input)
        lead = "6s"
        buffer = "2s"
        stall = "2s"
        connect_timeout = "3s"
        reconnect = "1s"
        reconnect_max = "2s"
        \(extra)

        """
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    /// Relay slots, one after another from `start`, each `seconds` long, with the fallback jingle.
    func writeRelays(_ relays: [(id: String, source: String)], start: Date, seconds: Double) throws {
        var text = ""
        for (index, relay) in relays.enumerated() {
            let from = start.addingTimeInterval(Double(index) * seconds)
            text += """
            [[slot]]
            id = "\(relay.id)"
            start = "\(station.clock(from))"
            end = "\(station.clock(from.addingTimeInterval(seconds)))"
            relay = "\(relay.source)"
            fallback = "cho.wav"


            """
        }
        try text.write(to: station.schedules.appendingPathComponent("tiep-song.toml"), atomically: true, encoding: .utf8)
    }

    /// Rows once every relay slot's rows are final.
    func finalRows(until deadline: Date) async throws -> [ProcessStation.LogRow] {
        try await station.waitForRows(until: deadline) { rows in
            !rows.isEmpty && rows.allSatisfy { $0.outcome != "planned" && $0.outcome != "started" }
        }
    }
}

/// A sound server, an Icecast mount fed by ffmpeg, and a station relaying it as source `name`.
struct IcecastRelay {
    let server: SoundServer
    let icecast: IcecastServer
    let feeder: StreamFeeder
    let relay: RelayStation
    var station: ProcessStation { relay.station }

    init(_ name: String, signal: UpstreamSignal = .sine(frequency: 550), readRate: Double = 1, extra: String = "") async throws {
        server = try SoundServer()
        icecast = try IcecastServer()
        feeder = try StreamFeeder(server: icecast, mount: "/\(name).mp3", signal: signal, readRate: readRate)
        try await feeder.waitUntilLive()
        relay = try await RelayStation()
        try relay.addSource(name, url: feeder.url, extra: extra)
    }
}

extension RealTimeTests {
/// Live relay (tiếp sóng) through ALSA and the recorded monitor, against real upstreams on 127.0.0.1: icecast2 fed by
/// ffmpeg, live HLS behind nginx, bad servers, and a line input from a null sink's monitor.
@Suite("Live relay from Icecast, HLS and a line input, with its fallback, heard on the monitor", .serialized)
struct RelayDaemonTests {
    func decimal(_ value: Double) -> String { String(format: "%.2f", value) }

    @Test("an Icecast MP3 relay then an HLS AAC relay, each heard from its slot's second to its end, no dead air between")
    func relaysOnTheirSeconds() async throws {
        let server = try SoundServer()
        defer { server.stop() }
        let icecast = try IcecastServer()
        let feeder = try StreamFeeder(server: icecast, mount: "/tinh.mp3", signal: .sine(frequency: 550))
        let hls = try HLSLiveStream(signal: .sine(frequency: 880))
        try await feeder.waitUntilLive()
        try await hls.waitUntilReady(segments: 2)
        let relay = try await RelayStation()
        try relay.addSource("tinh", url: feeder.url)
        try relay.addSource("vov1", url: hls.url)
        let start = relay.station.wholeSecond(after: 8)
        try relay.writeRelays([("tinh-sang", "tinh"), ("vov-sang", "vov1")], start: start, seconds: 8)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try relay.station.startDaemon(environment: server.environment)
        let rows = try await relay.finalRows(until: start.addingTimeInterval(22))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [550, 880, RelayStation.fallbackTone]),
                                    "\(daemon.output)")
        let heardAt = recording.startedAt.addingTimeInterval(Double(analysis.firstSound) / 48000)
        print("Relay onset: \(Int((heardAt.timeIntervalSince(start) * 1000).rounded())) ms; tones \(analysis.tones.map { "\($0.frequency) Hz \(decimal($0.seconds)) s" }); longest silence \(Int(analysis.longestGap * 1000)) ms")
        #expect(analysis.tones.map(\.frequency) == [550, 880], "\(analysis.tones)\n\(daemon.output)")
        #expect(abs(heardAt.timeIntervalSince(start)) < 0.05, "the first relayed sample on the slot's second")
        #expect(rows.map(\.outcome) == ["completed", "completed"], "\(rows)\n\(daemon.output)")
        #expect(rows.allSatisfy { $0.kind == "relay" && abs($0.aired_seconds - 8) < 0.3 && abs($0.onset_error_ms ?? 999) < 50 }, "\(rows)")
        #expect(daemon.output.contains(feeder.url) && daemon.output.contains(hls.url), "each connection named by its URL")
    }

    @Test("the source killed mid-relay: the fallback airs with no silence, the relay returns when the source does; rows say so")
    func sourceKilledAndBack() async throws {
        let setup = try await IcecastRelay("tinh")
        let (server, feeder, relay) = (setup.server, setup.feeder, setup.relay)
        defer { server.stop() }
        let start = relay.station.wholeSecond(after: 8)
        try relay.writeRelays([("tinh-sang", "tinh")], start: start, seconds: 22)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try relay.station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 4))
        try await feeder.kill()
        try await Task.sleep(for: .seconds(6))
        let restarted = Date()
        try await feeder.restart()
        let rows = try await relay.finalRows(until: start.addingTimeInterval(26))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [550, RelayStation.fallbackTone]),
                                    "\(daemon.output)")
        print("Relay lost and back: tones \(analysis.tones.map { "\($0.frequency) Hz \(decimal($0.seconds)) s" }); longest silence \(Int(analysis.longestGap * 1000)) ms")
        #expect(analysis.tones.first?.frequency == 550 && analysis.tones.last?.frequency == 550, "\(analysis.tones)")
        #expect(analysis.tones.contains { $0.frequency == RelayStation.fallbackTone }, "the fallback heard: \(analysis.tones)")
        #expect(analysis.longestGap <= 0.1, "no dead air: \(analysis.longestGap) s\n\(daemon.output)")
        // The relay is heard again within reconnecting (1–2 s), buffering (1 s) and its return bound (3 s) of the source.
        let returnedAt = recording.startedAt.addingTimeInterval(
            Double(analysis.firstSound) / 48000 + analysis.tones.dropLast().reduce(0) { $0 + $1.seconds })
        print("Relay heard again \(decimal(returnedAt.timeIntervalSince(restarted))) s after the source restarted")
        #expect(returnedAt.timeIntervalSince(restarted) < 8, "\(analysis.tones)")
        let relayRow = try #require(rows.first { $0.kind == "relay" }, "\(rows)")
        #expect(relayRow.outcome == "truncated", "\(rows)")
        #expect(["relay.ended", "relay.stalled", "relay.unreachable", "relay.http"].contains(relayRow.reason_code ?? ""), "\(rows)")
        let fallbacks = rows.filter { $0.kind != "relay" }
        #expect(!fallbacks.isEmpty && fallbacks.allSatisfy { $0.reason_code?.hasPrefix("relay.") == true }, "\(rows)")
        #expect(fallbacks.last?.reason_code == "relay.returned" && fallbacks.last?.outcome == "truncated", "\(rows)")
        // The relay's seconds and the fallback's add up to the slot.
        let total = relayRow.aired_seconds + fallbacks.reduce(0) { $0 + $1.aired_seconds }
        #expect(abs(total - 22) < 0.5, "relayed \(relayRow.aired_seconds) s + fallback: \(total) s")
        #expect(daemon.output.contains(feeder.url), "the loss named by its URL: \(daemon.output)")
        // The report counts the relay's airtime for its source, and its fallback's, from the same rows.
        let report = try await relay.station.loaCommand(["report", "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.out.utf8)) as? [String: Any], "\(report.err)")
        let source = try #require((json["relays"] as? [[String: Any]])?.first { $0["source"] as? String == "tinh" }, "\(report.out)")
        #expect(abs((source["relayed_seconds"] as? Double ?? 0) - relayRow.aired_seconds) < 0.01, "\(source)")
        #expect(abs((source["fallback_seconds"] as? Double ?? 0) - fallbacks.reduce(0) { $0 + $1.aired_seconds }) < 0.01, "\(source)")
        #expect(source["planned_seconds"] as? Double == 22 && source["occurrences"] as? Int == 1, "\(source)")
    }

    @Test("an upstream sending digital silence is left for the fallback once silent for its bound")
    func silentUpstream() async throws {
        let setup = try await IcecastRelay("lang", signal: .silence, extra: "silence = \"3s\"")
        let (server, relay) = (setup.server, setup.relay)
        defer { server.stop() }
        let start = relay.station.wholeSecond(after: 8)
        try relay.writeRelays([("lang-sang", "lang")], start: start, seconds: 8)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try relay.station.startDaemon(environment: server.environment)
        let rows = try await relay.finalRows(until: start.addingTimeInterval(12))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [RelayStation.fallbackTone]), "\(daemon.output)")
        let heardAt = recording.startedAt.addingTimeInterval(Double(analysis.firstSound) / 48000)
        print("Silent upstream: fallback heard \(Int((heardAt.timeIntervalSince(start) * 1000).rounded())) ms after the slot's start")
        // Silent through its lead already: the fallback airs as soon as the relay is due, never after more than the bound.
        #expect(heardAt.timeIntervalSince(start) < 3.2, "\(daemon.output)")
        let fallbacks = rows.filter { $0.kind != "relay" }
        #expect(fallbacks.first?.reason_code == "relay.silent", "\(rows)")
        #expect(rows.first { $0.kind == "relay" }?.reason_code == "relay.silent", "\(rows)")
    }

    @Test("loa announce during a relay: the announcement, then the relay live again at once, in a row of its own")
    func announcementPreemptsRelay() async throws {
        let setup = try await IcecastRelay("tinh")
        let (server, relay) = (setup.server, setup.relay)
        defer { server.stop() }
        let note = relay.station.folder.appendingPathComponent("thong-bao.wav")
        try await Harness.tone(note, frequency: 990, seconds: 2, rate: 48000)
        let start = relay.station.wholeSecond(after: 8)
        try relay.writeRelays([("tinh-sang", "tinh")], start: start, seconds: 10)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try relay.station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 3))
        let announced = try await relay.station.loaCommand(["announce", note.path])
        #expect(announced.status == 0, "\(announced.err)")
        let rows = try await relay.finalRows(until: start.addingTimeInterval(14))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [550, 990, RelayStation.fallbackTone]),
                                    "\(daemon.output)")
        print("Relay preempted: tones \(analysis.tones.map { "\($0.frequency) Hz \(decimal($0.seconds)) s" }); longest silence \(Int(analysis.longestGap * 1000)) ms")
        #expect(analysis.tones.map(\.frequency) == [550, 990, 550], "\(analysis.tones)\n\(daemon.output)")
        #expect(analysis.longestGap <= 0.05, "silence after the announcement: \(analysis.longestGap) s")
        let relayRows = rows.filter { $0.kind == "relay" }
        #expect(relayRows.map(\.outcome) == ["interrupted", "completed"] || relayRows.map(\.outcome) == ["interrupted", "truncated"], "\(rows)")
        #expect(relayRows.first?.reason_code == "preempted.announcement" && relayRows[safe: 1]?.reason_code == "resumed", "\(rows)")
    }

    @Test("SIGKILL mid-relay, restarted at once: sound again within a second (the fallback while the upstream connects), then the relay live, in a row of its own")
    func restartMidRelay() async throws {
        let setup = try await IcecastRelay("tinh")
        let (server, relay) = (setup.server, setup.relay)
        defer { server.stop() }
        let start = relay.station.wholeSecond(after: 8)
        try relay.writeRelays([("tinh-sang", "tinh")], start: start, seconds: 14)
        let first = try relay.station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 4))
        first.send(SIGKILL)
        first.process.waitUntilExit()
        let recorder = try await MonitorRecorder.recording(server)
        let restartedAt = Date()
        let second = try relay.station.startDaemon(environment: server.environment)
        // Until the relay's second stretch is final (the first was closed as the daemon started).
        let rows = try await relay.station.waitForRows(until: start.addingTimeInterval(18)) { rows in
            rows.filter { $0.kind == "relay" }.count >= 2 && rows.allSatisfy { $0.outcome != "planned" && $0.outcome != "started" }
        }
        #expect(await second.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [550, RelayStation.fallbackTone]),
                                    "\(second.output)")
        let heardAt = recording.startedAt.addingTimeInterval(Double(analysis.firstSound) / 48000)
        print("Relay restarted: sound again \(Int((heardAt.timeIntervalSince(restartedAt) * 1000).rounded())) ms after the daemon was started; tones \(analysis.tones.map { "\($0.frequency) Hz \(decimal($0.seconds)) s" })")
        #expect(heardAt.timeIntervalSince(restartedAt) < 1, "\(second.output)")
        #expect(analysis.tones.last?.frequency == 550, "the relay live again: \(analysis.tones)")
        #expect(analysis.longestGap <= 0.1, "\(analysis.longestGap) s")
        let relayRows = rows.filter { $0.kind == "relay" }
        #expect(relayRows.first?.outcome == "interrupted" && relayRows.first?.reason_code == "daemon.died", "\(rows)")
        #expect(relayRows[safe: 1]?.reason_code == "resumed" || relayRows[safe: 1]?.reason_code == "relay.connecting", "\(rows)")
    }

    @Test("every bad upstream and a missing capture device: the fallback from the slot's second, the row and one line say why")
    func badUpstreams() async throws {
        let server = try SoundServer()
        defer { server.stop() }
        let bad = try BadUpstream()
        defer { bad.stop() }
        let hlsBroken = try HLSLiveStream(segmentsMissing: true)
        try await hlsBroken.waitUntilReady(segments: 1)
        let relay = try await RelayStation()
        let cases: [(name: String, url: String?, capture: String?, codes: Set<String>)] = [
            ("cam", bad.forbiddenURL, nil, ["relay.http"]), ("mat", bad.notFoundURL, nil, ["relay.http"]),
            ("vong", bad.redirectLoopURL, nil, ["relay.unreachable", "relay.http"]),
            ("html", bad.htmlPageURL, nil, ["relay.not_audio"]),
            ("rac", bad.garbageURL, nil, ["relay.not_audio", "relay.ended", "relay.stalled"]),
            ("cho", bad.headersThenNothingURL, nil, ["relay.stalled"]),
            ("tls", bad.tlsToPlainHTTPURL, nil, ["relay.unreachable"]), ("tu-ky", bad.selfSignedTLSURL, nil, ["relay.unreachable"]),
            ("dong", bad.closedPortURL, nil, ["relay.unreachable"]), ("dns", bad.unresolvableHostURL, nil, ["relay.unreachable"]),
            ("hls-404", hlsBroken.url, nil, ["relay.stalled", "relay.not_audio", "relay.ended", "relay.http"]),
            ("thu", nil, "hw:9,0", ["relay.capture"]),
        ]
        for item in cases { try relay.addSource(item.name, url: item.url, capture: item.capture) }
        let start = relay.station.wholeSecond(after: 9)
        try relay.writeRelays(cases.map { ("ts-\($0.name)", $0.name) }, start: start, seconds: 3)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try relay.station.startDaemon(environment: server.environment)
        let rows = try await relay.finalRows(until: start.addingTimeInterval(Double(cases.count) * 3 + 5))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [RelayStation.fallbackTone]), "\(daemon.output)")
        let heardAt = recording.startedAt.addingTimeInterval(Double(analysis.firstSound) / 48000)
        print("Bad upstreams: fallback from \(Int((heardAt.timeIntervalSince(start) * 1000).rounded())) ms; longest silence \(Int(analysis.longestGap * 1000)) ms over \(cases.count) slots")
        #expect(abs(heardAt.timeIntervalSince(start)) < 0.05, "the fallback on the first slot's second: \(daemon.output)")
        // Slots follow each other: between two the fade of one and the start of the next, never a fault's silence.
        #expect(analysis.longestGap <= 0.1, "no dead air: \(analysis.longestGap) s")
        for item in cases {
            let slotRows = rows.filter { $0.slot == "ts-\(item.name)" }
            let relayRow = slotRows.first { $0.kind == "relay" }
            #expect(relayRow?.outcome == "failed" && item.codes.contains(relayRow?.reason_code ?? ""), "\(item.name): \(slotRows)")
            #expect(slotRows.contains { $0.kind != "relay" && item.codes.contains($0.reason_code ?? "") }, "\(item.name): the fallback's row says why: \(slotRows)")
            #expect(daemon.output.contains(item.url ?? item.capture ?? "?"), "\(item.name): one line naming it")
        }
    }

    @Test("a line input captured from a null sink's monitor is relayed")
    func lineInput() async throws {
        let server = try SoundServer()
        defer { server.stop() }
        let loaded = try await Harness.run("/usr/bin/pactl", ["-s", server.socket, "load-module", "module-null-sink", "sink_name=line_in",
                                                        "rate=48000", "channels=2"])
        #expect(loaded.status == 0, "\(loaded.err)")
        let relay = try await RelayStation()
        try relay.addSource("may-thu", capture: "pulse")
        let receiver = relay.station.folder.appendingPathComponent("may-thu.wav")
        try await Harness.tone(receiver, frequency: 770, seconds: 30, rate: 48000)
        let playing = Process()
        playing.executableURL = URL(fileURLWithPath: "/usr/bin/paplay")
        playing.arguments = ["-s", server.socket, "-d", "line_in", receiver.path]
        playing.standardOutput = FileHandle.nullDevice
        playing.standardError = FileHandle.nullDevice
        try playing.run()
        // SIGKILL: a child of a test thread inherits its blocked SIGTERM.
        defer { Foundation.kill(playing.processIdentifier, SIGKILL) }
        let start = relay.station.wholeSecond(after: 8)
        try relay.writeRelays([("thu-sang", "may-thu")], start: start, seconds: 6)
        let recorder = try await MonitorRecorder.recording(server)
        var environment = server.environment
        // The ALSA `pulse` PCM captures the server's default source: here the receiver's sink's monitor.
        environment["PULSE_SOURCE"] = "line_in.monitor"
        let daemon = try relay.station.startDaemon(environment: environment)
        let rows = try await relay.finalRows(until: start.addingTimeInterval(10))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [770, RelayStation.fallbackTone]), "\(daemon.output)")
        print("Line input: tones \(analysis.tones.map { "\($0.frequency) Hz \(decimal($0.seconds)) s" })")
        #expect(analysis.tones.map(\.frequency) == [770], "\(analysis.tones)\n\(daemon.output)")
        #expect(rows.first { $0.kind == "relay" }?.outcome == "completed", "\(rows)")
    }

    @Test("a source 0.5 % faster than real time for two minutes: the buffer stays bounded, never dry, the drift followed")
    func fastSourceFollowed() async throws {
        let setup = try await IcecastRelay("nhanh", readRate: 1.005)
        let (server, relay) = (setup.server, setup.relay)
        defer { server.stop() }
        let start = relay.station.wholeSecond(after: 8)
        let seconds = 120.0
        try relay.writeRelays([("nhanh-sang", "nhanh")], start: start, seconds: seconds)
        let recorder = try await MonitorRecorder.recording(server)
        let daemon = try relay.station.startDaemon(environment: server.environment)
        try await Task.sleep(for: .seconds(max(0, start.timeIntervalSinceNow) + 2))
        var buffered: [Double] = [], drift: [Double] = []
        while Date() < start.addingTimeInterval(seconds - 2) {
            let status = try await relay.station.loaCommand(["status", "--json"])
            if let data = status.out.data(using: .utf8),
               let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let relays = json["relays"] as? [[String: Any]], let first = relays.first {
                buffered.append(first["buffered_seconds"] as? Double ?? -1)
                drift.append(first["drift_percent"] as? Double ?? 0)
            }
            try await Task.sleep(for: .seconds(5))
        }
        let rows = try await relay.finalRows(until: start.addingTimeInterval(seconds + 4))
        #expect(await daemon.stop() == 0)
        let recording = recorder.stop()
        let analysis = try #require(ToneAnalysis(recording.samples, rate: 48000, frequencies: [550, RelayStation.fallbackTone]), "\(daemon.output)")
        print("Fast source: buffered \(buffered.map(decimal)) s; drift \(drift.map(decimal)) %; longest silence \(Int(analysis.longestGap * 1000)) ms")
        #expect(buffered.count >= 15, "status read: \(buffered)")
        // Never dry (no fallback, no silence) and never past the buffer's room (target 2 s, margin 1 s, 1 s of room);
        // held about its target: uncorrected, 0.5 % of two minutes would be 0.6 s more. A burst after the network (or
        // a machine busy with a build) held the receiver back is not the clock's: it is corrected at most 2 % (measured
        // in a loaded run: +1.1 s at once, worked off in about a minute), so the bound is on the median.
        #expect(buffered.allSatisfy { $0 > 0.5 && $0 <= 4.05 }, "\(buffered)")
        let median = buffered.sorted()[buffered.count / 2]
        #expect(abs(median - 2) < 0.4, "median \(median) s: \(buffered)")
        #expect(analysis.tones.map(\.frequency) == [550], "no fallback, no underrun: \(analysis.tones)")
        #expect(analysis.longestGap <= 0.05, "\(analysis.longestGap) s")
        #expect(rows.filter { $0.kind != "relay" }.isEmpty && rows.first?.outcome == "completed", "\(rows)")
        // The resampler follows the source: +0.5 % reached, within its ±2 % clamp.
        #expect((drift.max() ?? 0) >= 0.35 && drift.allSatisfy { abs($0) <= 2.001 }, "\(drift)")
    }
}
}

extension RealTimeTests {
@Suite("loa doctor and loa status on relay sources", .serialized)
struct RelaySourceChecksTests {
    @Test("loa doctor listens to every source: a live Icecast mount is ✓ with its format and level, a silent one ⚠, a 404 ✗ naming its URL; exit 1")
    func doctorProbesSources() async throws {
        let server = try SoundServer()
        defer { server.stop() }
        let icecast = try IcecastServer()
        let live = try StreamFeeder(server: icecast, mount: "/tinh.mp3", signal: .sine(frequency: 550))
        let silent = try StreamFeeder(server: icecast, mount: "/lang.mp3", signal: .silence)
        try await live.waitUntilLive()
        try await silent.waitUntilLive()
        let bad = try BadUpstream()
        defer { bad.stop() }
        let relay = try await RelayStation()
        try relay.addSource("tinh", url: live.url)
        try relay.addSource("lang", url: silent.url)
        try relay.addSource("mat", url: bad.notFoundURL)
        let began = Date()
        let r = try await relay.station.loaCommand(["doctor"], environment: server.environment)
        let took = Date().timeIntervalSince(began)
        print(r.out)
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("✓ Nguồn tiếp sóng “Nguồn tinh” (\(live.url)): nhận được âm thanh: mp3") }, "\(r.out)")
        #expect(lines.contains { $0.hasPrefix("! Nguồn tiếp sóng “Nguồn lang” (\(silent.url)): kết nối được") && $0.contains("im lặng") }, "\(r.out)")
        #expect(lines.contains { $0.hasPrefix("✗ Nguồn tiếp sóng “Nguồn mat” (\(bad.notFoundURL)): máy chủ nguồn tiếp sóng trả lỗi HTTP 404") }, "\(r.out)")
        #expect(r.status == 1)
        // Listened to at once, not one after another.
        #expect(took < 20, "\(took) s")
    }
}
}
