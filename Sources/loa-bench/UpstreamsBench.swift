import Foundation
import LoaTestSupport

/// `loa-bench upstreams FOLDER [SECONDS]`: the relay benchmarks' upstreams, the tests' own fixtures (LoaTestSupport):
/// icecast2 fed by an ffmpeg MP3 source (128 kb/s, 440 Hz) and a live HLS AAC stream (ffmpeg's HLS muxer, 880 Hz)
/// behind nginx, all on 127.0.0.1, for SECONDS of stream (default two hours). Once both are served, writes
/// `FOLDER/urls` (`ICECAST_MP3_URL=…` and `HLS_URL=…`, shell assignments) and prints it; stops them all at SIGTERM
/// or SIGINT. SIGUSR1 kills the Icecast MP3 source (SIGKILL, until the mount is gone), SIGUSR2 starts it again (until
/// the mount is live); each appends `killed|restarted|live EPOCH_SECONDS` to `FOLDER/events` once done, for the
/// relay's return measurement. bench/upstreams.sh runs it.
func runUpstreams(_ arguments: [String]) -> Int32 {
    guard (2...3).contains(arguments.count), arguments.count == 2 || Int(arguments[2]) != nil else {
        FileHandle.standardError.write(Data("usage: loa-bench upstreams FOLDER [SECONDS]\n".utf8))
        return 2
    }
    let folder = URL(fileURLWithPath: arguments[1])
    let lifetime = arguments.count == 3 ? Int(arguments[2]) ?? 7200 : 7200
    // The signals end a wait on a pipe: a handler may only write(2). Handlers, unlike an ignored or blocked signal,
    // are not inherited by the servers this starts.
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { return 1 }
    (stopReadEnd, stopWriteEnd) = (ends[0], ends[1])
    signal(SIGTERM) { _ in _ = write(stopWriteEnd, &stopByte, 1) }
    signal(SIGINT) { _ in _ = write(stopWriteEnd, &stopByte, 1) }
    signal(SIGUSR1) { _ in _ = write(stopWriteEnd, &killByte, 1) }
    signal(SIGUSR2) { _ in _ = write(stopWriteEnd, &restartByte, 1) }

    let started = StartedUpstreams()
    let ready = DispatchSemaphore(value: 0)
    Task {
        do {
            let icecast = try IcecastServer()
            let feeder = try StreamFeeder(server: icecast, mount: "/live.mp3", codec: .mp3, signal: .sine(frequency: 440), lifetime: lifetime)
            let hls = try HLSLiveStream(signal: .sine(frequency: 880), lifetime: lifetime)
            started.servers = (icecast, feeder, hls)
            try await feeder.waitUntilLive()
            try await hls.waitUntilReady(segments: 3)
            let urls = "ICECAST_MP3_URL=\(feeder.url)\nHLS_URL=\(hls.url)\n"
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try urls.write(to: folder.appendingPathComponent("urls"), atomically: true, encoding: .utf8)
            print(urls, terminator: "")
        } catch {
            started.error = error
        }
        ready.signal()
    }
    ready.wait()
    if let error = started.error {
        FileHandle.standardError.write(Data("loa-bench upstreams: \(error)\n".utf8))
        started.stop()
        return 1
    }
    let events = folder.appendingPathComponent("events")
    while true {
        var byte: UInt8 = 0
        let count = read(stopReadEnd, &byte, 1)
        if count < 0 && errno == EINTR { continue }
        guard count == 1, byte == killByte || byte == restartByte, let feeder = started.servers?.1 else { break }
        let done = DispatchSemaphore(value: 0)
        let kill = byte == killByte
        Task {
            do {
                if kill {
                    try await feeder.kill()
                    note("killed", in: events)
                } else {
                    note("restarted", in: events)
                    try await feeder.restart()
                    note("live", in: events)
                }
            } catch {
                FileHandle.standardError.write(Data("loa-bench upstreams: \(error)\n".utf8))
                note("failed", in: events)
            }
            done.signal()
        }
        done.wait()
    }
    started.stop()
    return 0
}

/// Appends `WHAT EPOCH_SECONDS` to the events file (a benchmark's own clock: this is its composition root).
private func note(_ what: String, in file: URL) {
    let line = String(format: "%@ %.3f\n", what, BenchClock().now().timeIntervalSince1970)
    if let handle = try? FileHandle(forWritingTo: file) {
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        try? handle.close()
    } else {
        try? line.write(to: file, atomically: true, encoding: .utf8)
    }
}

/// The pipe SIGTERM and SIGINT write to, and what they write.
nonisolated(unsafe) private var stopReadEnd: Int32 = -1
nonisolated(unsafe) private var stopWriteEnd: Int32 = -1
nonisolated(unsafe) private var stopByte: UInt8 = 0
nonisolated(unsafe) private var killByte: UInt8 = 1
nonisolated(unsafe) private var restartByte: UInt8 = 2

private final class StartedUpstreams: @unchecked Sendable {
    var servers: (IcecastServer, StreamFeeder, HLSLiveStream)?
    var error: (any Error)?

    /// Stops them, source first, and lets them go: their folders go with them.
    func stop() {
        guard let (icecast, feeder, hls) = servers else { return }
        feeder.stop()
        hls.stop()
        icecast.stop()
        servers = nil
    }
}
