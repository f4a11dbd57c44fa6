import Foundation
import LoaAudio
import LoaCore
import Testing

/// The wall clock, for tests against real servers that run on it.
struct RealClock: WallClock {
    func now() -> Date { Date() }
    func sleep(until deadline: Date) async throws { try await Task.sleep(for: .seconds(max(0, deadline.timeIntervalSinceNow))) }
    func wait(_ seconds: Double, on condition: NSCondition) { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
    func monotonicSeconds() -> Double { ProcessInfo.processInfo.systemUptime }
}

/// `ffmpeg -listen 1`: a one-client HTTP server streaming a sine as MP3 in real time, the simplest live upstream.
final class FFmpegHTTPStream {
    let process = Process()
    let url: String

    init(frequency: Int = 440, volume: Double = 0.5, codec: [String] = ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"]) throws {
        let port = Int.random(in: 20000...40000)
        url = "http://127.0.0.1:\(port)/live"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        process.arguments = ["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=frequency=\(frequency):sample_rate=44100",
                             "-af", "volume=\(volume)"] + codec + ["-listen", "1", url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func kill() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { kill() }
}

/// Waits on the wall clock until `condition` holds, for at most `seconds`.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}

@Suite("UpstreamFeed: a live stream received, measured and buffered on a thread of its own")
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

    @Test("an MP3 stream connects, fills the buffer to its target and no further, and its level is the sine's")
    func connectsAndBuffers() throws {
        let server = try FFmpegHTTPStream(volume: 0.5)
        // ffmpeg's listening socket opens a moment after the process.
        Thread.sleep(forTimeInterval: 0.5)
        let feed = UpstreamFeed(source: source(server.url), clock: RealClock())
        defer { feed.close() }
        #expect(eventually(8) { feed.observation().connected })
        #expect(eventually(5) { feed.bufferedSeconds >= 1.4 })
        // Not consumed: the buffer stays within its target and the trim's margin (1 s), never the whole time since.
        Thread.sleep(forTimeInterval: 2)
        #expect(feed.bufferedSeconds <= 1.5 + 1.0 + 0.1)
        let seen = feed.observation(), snapshot = feed.snapshot()
        #expect(seen.soundSeconds > 1)
        // lavfi's sine has an amplitude of 1/8; halved, its RMS is 20·log10(1/16/√2) = −27.1 dBFS, on both channels.
        #expect(abs(snapshot.levelDB - -27.1) < 0.5)
        #expect(snapshot.format?.contains("mp3") == true)
        let events = feed.drainEvents()
        #expect(events.contains { if case .connected = $0 { true } else { false } })
    }

    @Test("a server that dies is a lost connection with its reason, and the feed connects again when it returns")
    func lostAndReconnected() throws {
        var server = try FFmpegHTTPStream()
        let url = server.url
        Thread.sleep(forTimeInterval: 0.5)
        let feed = UpstreamFeed(source: source(url), clock: RealClock())
        defer { feed.close() }
        #expect(eventually(8) { feed.observation().connected })
        server.kill()
        #expect(eventually(4) { !feed.observation().connected })
        let lost = feed.drainEvents().compactMap { if case let .lost(_, reason, _) = $0 { reason } else { nil } }
        #expect(lost.first.map { [.relayEnded, .relayStalled].contains($0.code) } == true)
        // The same URL again: ffmpeg listens on the port the first one had.
        let port = URLComponents(string: url)?.port ?? 0
        let again = Process()
        again.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        again.arguments = ["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=frequency=440", "-c:a", "libmp3lame",
                           "-f", "mp3", "-listen", "1", "http://127.0.0.1:\(port)/live"]
        try again.run()
        defer { again.terminate() }
        server = try FFmpegHTTPStream()
        #expect(eventually(10) { feed.observation().connected })
    }

    @Test("a closed port is unreachable, said at once with FFmpeg's words, and the feed keeps trying")
    func closedPortIsUnreachable() throws {
        let feed = UpstreamFeed(source: source("http://127.0.0.1:9/none"), clock: RealClock())
        defer { feed.close() }
        #expect(eventually(3) { !feed.drainEvents().isEmpty || feed.snapshot().fault != nil })
        #expect(feed.snapshot().fault?.code == .relayUnreachable)
        #expect(feed.snapshot().faultMessage?.isEmpty == false)
    }

    @Test("close returns at once while the feed waits on a server that sends nothing")
    func closeIsPrompt() throws {
        // A listening socket that never answers: nc-like, by a Python one-liner.
        let port = Int.random(in: 40001...50000)
        let silent = Process()
        silent.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        silent.arguments = ["-c", "import socket,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1',\(port)));s.listen();c=s.accept();time.sleep(60)"]
        try silent.run()
        defer { silent.terminate() }
        Thread.sleep(forTimeInterval: 0.3)
        let feed = UpstreamFeed(source: source("http://127.0.0.1:\(port)/x") { $0.connectTimeoutSeconds = 30 }, clock: RealClock())
        Thread.sleep(forTimeInterval: 0.5)
        let before = Date()
        feed.close()
        #expect(Date().timeIntervalSince(before) < 0.5)
    }
}
