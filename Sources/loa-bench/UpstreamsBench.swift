import Foundation
import LoaTestSupport

/// `loa-bench upstreams FOLDER [SECONDS]`: the relay benchmarks' upstreams, the tests' own fixtures (LoaTestSupport):
/// icecast2 fed by an ffmpeg MP3 source (128 kb/s, 440 Hz) and a live HLS AAC stream (ffmpeg's HLS muxer, 880 Hz)
/// behind nginx, all on 127.0.0.1, for SECONDS of stream (default two hours). Once both are served, writes
/// `FOLDER/urls` (`ICECAST_MP3_URL=…` and `HLS_URL=…`, shell assignments) and prints it; stops them all at SIGTERM
/// or SIGINT. bench/upstreams.sh runs it.
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
    var byte: UInt8 = 0
    while read(stopReadEnd, &byte, 1) < 0 && errno == EINTR {}
    started.stop()
    return 0
}

/// The pipe SIGTERM and SIGINT write to, and what they write.
nonisolated(unsafe) private var stopReadEnd: Int32 = -1
nonisolated(unsafe) private var stopWriteEnd: Int32 = -1
nonisolated(unsafe) private var stopByte: UInt8 = 0

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
