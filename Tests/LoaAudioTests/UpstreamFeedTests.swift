import Foundation
import LoaAudio
import LoaCore
import LoaTestSupport
import Testing

/// Waits on the wall clock until `condition` holds, for at most `seconds`.
func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

@Suite("UpstreamFeed: a live stream received, measured and buffered on a thread of its own", .serialized)
struct UpstreamFeedTests {
    func source(_ url: String, _ change: (inout RelayTuning) -> Void = { _ in }) -> UpstreamSource {
        var tuning = RelayTuning()
        tuning.bufferSeconds = 1.5
        tuning.stallSeconds = 2
        tuning.connectTimeoutSeconds = 3
        tuning.reconnectSeconds = 0.5
        change(&tuning)
        return UpstreamSource(name: "thu", input: .stream(url: url), tuning: tuning)
    }

    @Test("Icecast MP3 and AAC connect in about a second, fill the buffer to its target and no further, at the sine's level",
          arguments: [UpstreamCodec.mp3, .aac])
    func connectsAndBuffers(codec: UpstreamCodec) async throws {
        let server = try IcecastServer()
        let feeder = try StreamFeeder(server: server, mount: codec == .mp3 ? "/live.mp3" : "/live.aac", codec: codec, signal: .sine(frequency: 550))
        try await feeder.waitUntilLive()
        let opened = Date()
        let feed = UpstreamFeed(source: source(feeder.url), clock: WallTimeClock())
        defer { feed.close() }
        #expect(await eventually(8) { feed.observation().connected })
        let connectedIn = Date().timeIntervalSince(opened)
        print("UpstreamFeed \(codec): connected in \(Int(connectedIn * 1000)) ms")
        // FFmpeg's default probe waits for 128 KB of an Icecast MP3 at the stream's rate: 4.5 s of the relay's lead.
        // Typically 1 s here; bounded loosely for a machine busy with a build.
        #expect(connectedIn < 3.5, "probing an Icecast stream must not eat the relay's lead")
        #expect(await eventually(5) { feed.bufferedSeconds >= 1.4 })
        // Not consumed: the buffer stays within its target and the trim's margin (1 s), never the whole time since.
        try await Task.sleep(for: .seconds(2))
        #expect(feed.bufferedSeconds <= 1.5 + 1.0 + 0.1)
        let snapshot = feed.snapshot()
        #expect(feed.observation().soundSeconds > 1)
        // The feeder's sine peaks at −6 dBFS on both channels: its RMS is −9.0 dBFS.
        #expect(abs(snapshot.levelDB - -9.03) < 0.5, "\(snapshot)")
        #expect(feed.drainEvents().contains { if case .connected = $0 { true } else { false } })
    }

    @Test("a source that dies is a lost connection with its reason; the feed connects again when it returns")
    func lostAndReconnected() async throws {
        let server = try IcecastServer()
        let feeder = try StreamFeeder(server: server, mount: "/live.mp3", signal: .sine(frequency: 550))
        try await feeder.waitUntilLive()
        let feed = UpstreamFeed(source: source(feeder.url), clock: WallTimeClock())
        defer { feed.close() }
        #expect(await eventually(8) { feed.observation().connected })
        try await feeder.kill()
        #expect(await eventually(5) { !feed.observation().connected })
        let lost = feed.drainEvents().compactMap { if case let .lost(_, reason, _) = $0 { reason } else { nil } }
        #expect(lost.first.map { [.relayEnded, .relayStalled].contains($0.code) } == true, "\(lost)")
        try await feeder.restart()
        #expect(await eventually(10) { feed.observation().connected })
    }

    @Test("each bad upstream is said with its own reason, at once, and the feed keeps trying")
    func badUpstreams() async throws {
        let bad = try BadUpstream()
        defer { bad.stop() }
        let cases: [(String, String, Set<ReasonCode>)] = [
            ("403", bad.forbiddenURL, [.relayHTTP]), ("404", bad.notFoundURL, [.relayHTTP]),
            ("redirect loop", bad.redirectLoopURL, [.relayUnreachable, .relayHTTP]),
            ("HTML", bad.htmlPageURL, [.relayNotAudio]), ("garbage", bad.garbageURL, [.relayNotAudio, .relayEnded, .relayStalled]),
            ("headers then nothing", bad.headersThenNothingURL, [.relayStalled]),
            ("TLS to plain HTTP", bad.tlsToPlainHTTPURL, [.relayUnreachable]),
            ("self-signed TLS", bad.selfSignedTLSURL, [.relayUnreachable]),
            ("closed port", bad.closedPortURL, [.relayUnreachable]),
            ("unresolvable host", bad.unresolvableHostURL, [.relayUnreachable]),
        ]
        let feeds = cases.map { UpstreamFeed(source: source($0.1), clock: WallTimeClock()) }
        defer { feeds.forEach { $0.close() } }
        for ((name, url, expected), feed) in zip(cases, feeds) {
            // Within the connect timeout (3 s here) and the stall bound (2 s), never longer.
            #expect(await eventually(6) { feed.snapshot().fault != nil }, "\(name): \(url) gave no fault")
            let fault = feed.snapshot()
            print("Bad upstream \(name): \(fault.fault?.code.rawValue ?? "-") \(fault.faultMessage ?? "")")
            #expect(fault.fault.map { expected.contains($0.code) } == true, "\(name): \(fault)")
            #expect(!feed.observation().connected, "\(name)")
        }
    }

    @Test("closed while it waits on a server that sends nothing, the receiving thread ends at once, not at its timeouts")
    func closeEndsTheThread() async throws {
        let bad = try BadUpstream()
        defer { bad.stop() }
        let feed = UpstreamFeed(source: source(bad.headersThenNothingURL) { $0.connectTimeoutSeconds = 30; $0.stallSeconds = 30 },
                                clock: WallTimeClock())
        try await Task.sleep(for: .milliseconds(500))
        #expect(!feed.hasEnded)
        feed.close()
        // FFmpeg's wait is cut by the interrupt callback's look at the stop, not by the 30 s bounds.
        #expect(await eventually(1) { feed.hasEnded })
    }
}
