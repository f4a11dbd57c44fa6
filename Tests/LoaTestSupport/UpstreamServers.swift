import Foundation

// Real upstreams for the relay's tests and benchmarks, all on 127.0.0.1: icecast2 fed by ffmpeg source clients, a live
// HLS stream written by ffmpeg's HLS muxer behind nginx, and a server for each way an upstream goes wrong.

/// What an ffmpeg upstream sends: a tone (its frequency tells the upstream from the fallback in a recording),
/// digital silence, or a file looped.
public enum UpstreamSignal: Sendable {
    /// A sine at half scale (−6 dBFS peak), like ``makeTone(_:frequency:seconds:rate:)``'s files.
    case sine(frequency: Int)
    /// Digital silence: every sample zero, the stream itself intact.
    case silence
    /// A file, looped for as long as the upstream runs.
    case file(URL)

    func ffmpegInput(sampleRate: Int) -> [String] {
        switch self {
        // lavfi's sine is at 1/8 of full scale: ×4 makes it the fixtures' half scale. Both channels the same, by pan:
        // ffmpeg's mono-to-stereo (`-ac 2`) would take 3 dB off.
        case .sine(let frequency):
            ["-f", "lavfi", "-i", "sine=frequency=\(frequency):sample_rate=\(sampleRate),volume=4,pan=stereo|c0=c0|c1=c0"]
        case .silence: ["-f", "lavfi", "-i", "anullsrc=r=\(sampleRate):cl=stereo"]
        case .file(let url): ["-stream_loop", "-1", "-i", url.path]
        }
    }
}

/// How an Icecast source client encodes: 128 kb/s stereo, as provincial stations serve.
public enum UpstreamCodec: Sendable {
    /// MP3 (libmp3lame), served as `audio/mpeg`.
    case mp3
    /// AAC-LC in ADTS frames, served as `audio/aac`.
    case aac

    /// The `Content-Type` Icecast serves the mount with.
    public var contentType: String {
        switch self {
        case .mp3: "audio/mpeg"
        case .aac: "audio/aac"
        }
    }

    /// The encoder and the container, for a file or a stream.
    var ffmpegOutput: [String] {
        switch self {
        case .mp3: ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"]
        case .aac: ["-c:a", "aac", "-b:a", "128k", "-f", "adts"]
        }
    }
}

/// icecast2 on 127.0.0.1, on a free port, with its own configuration, logs and pid file in a private folder.
/// Stopped by ``stop()`` or when released.
public final class IcecastServer: @unchecked Sendable {
    public let folder: URL
    public let port: Int
    /// What a source client logs in with (user `source`).
    public static let sourcePassword = "loa-nguon"
    public static let adminUser = "admin"
    public static let adminPassword = "loa-quan-tri"
    private let process: FixtureProcess

    /// `sourceTimeout`: seconds Icecast waits on a source that sends nothing (a paused ``StreamFeeder``) before
    /// dropping the mount (Icecast's default is 10).
    public init(sourceTimeout: Int = 10) throws {
        folder = try scratchFolder("loa-icecast")
        // As root, icecast2 refuses to run unless told to become another user; that user writes its logs here.
        let asRoot = getuid() == 0
        if asRoot, let nobody = getpwnam("nobody"), let nogroup = getgrnam("nogroup") {
            chown(folder.path, nobody.pointee.pw_uid, nogroup.pointee.gr_gid)
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let candidate = try DistrictServer.freePort()
            let conf = """
            <icecast>
              <location>Loa tests</location>
              <admin>loa@127.0.0.1</admin>
              <limits>
                <clients>100</clients>
                <sources>20</sources>
                <source-timeout>\(sourceTimeout)</source-timeout>
                <burst-on-connect>1</burst-on-connect>
              </limits>
              <authentication>
                <source-password>\(Self.sourcePassword)</source-password>
                <admin-user>\(Self.adminUser)</admin-user>
                <admin-password>\(Self.adminPassword)</admin-password>
              </authentication>
              <hostname>127.0.0.1</hostname>
              <listen-socket><port>\(candidate)</port><bind-address>127.0.0.1</bind-address></listen-socket>
              <paths>
                <basedir>/usr/share/icecast2</basedir>
                <webroot>/usr/share/icecast2/web</webroot>
                <adminroot>/usr/share/icecast2/admin</adminroot>
                <logdir>\(folder.path)</logdir>
                <pidfile>\(folder.path)/icecast.pid</pidfile>
              </paths>
              <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
              <security>
                <chroot>0</chroot>
                \(asRoot ? "<changeowner><user>nobody</user><group>nogroup</group></changeowner>" : "")
              </security>
            </icecast>
            """
            let confURL = folder.appendingPathComponent("icecast.xml")
            try conf.write(to: confURL, atomically: true, encoding: .utf8)
            let attempt = FixtureProcess("/usr/bin/icecast2", ["-c", confURL.path], log: folder.appendingPathComponent("stderr.log"))
            try attempt.start()
            if let running = attempt.running, DistrictServer.waitForListener(port: candidate, while: running) {
                port = candidate
                process = attempt
                return
            }
            attempt.stop()
            let log = (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
            lastError = SupportError("icecast2 did not listen on \(candidate): \(attempt.log())\(log)")
        }
        throw lastError ?? SupportError("icecast2 did not start")
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    public func stop() { process.stop() }

    /// A mount's URL for listeners: `http://127.0.0.1:PORT/live.mp3` for mount `/live.mp3`.
    public func url(mount: String) -> String { "http://127.0.0.1:\(port)\(mount)" }

    /// Where a source client sends a mount (ffmpeg's icecast protocol, with the source password).
    public func sourceURL(mount: String) -> String { "icecast://source:\(Self.sourcePassword)@127.0.0.1:\(port)\(mount)" }

    /// Whether the mount has a source now: Icecast answers 200 to a listener, 404 when there is none.
    public func isLive(mount: String) -> Bool { httpStatus(url(mount: mount)) == 200 }

    /// Waits until the mount is live (`live`) or gone (`!live`); throws after `timeout` seconds.
    public func waitUntil(mount: String, live: Bool, timeout: Double = 10) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while isLive(mount: mount) != live {
            guard ContinuousClock.now < deadline else {
                throw SupportError("Icecast mount \(mount) still \(live ? "not live" : "live") after \(timeout) s: \(errorLog())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// icecast2's error log so far.
    public func errorLog() -> String {
        (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
    }
}

/// An ffmpeg source client feeding one Icecast mount in real time (or a little faster), until killed or stopped.
/// The process is started by `init`; ``waitUntilLive(timeout:)`` waits for the mount to be served.
public final class StreamFeeder: @unchecked Sendable {
    public let server: IcecastServer
    public let mount: String
    public let codec: UpstreamCodec
    /// The mount's URL for listeners (what a relay's `url` is).
    public var url: String { server.url(mount: mount) }
    private let process: FixtureProcess

    /// - Parameters:
    ///   - mount: the mount, starting with `/` (`/live.mp3`).
    ///   - readRate: input read per second of wall clock: 1.0 is real time, 1.005 feeds 0.5 % fast (an upstream
    ///     whose clock runs ahead of the sound card's). ffmpeg's `-readrate`, measured by the suite.
    ///   - silentDuring: stretches, in seconds of the stream from the feeder's start, where the signal is replaced by
    ///     digital silence while the stream goes on (an upstream that goes quiet and comes back).
    ///   - lifetime: ffmpeg ends by itself after this many seconds of stream, so a feeder left behind by a crashed
    ///     test run does not feed forever.
    public init(server: IcecastServer, mount: String, codec: UpstreamCodec = .mp3, signal: UpstreamSignal = .sine(frequency: 440),
                sampleRate: Int = 44100, readRate: Double = 1.0, silentDuring: [Range<Double>] = [], lifetime: Int = 1800) throws {
        self.server = server
        self.mount = mount
        self.codec = codec
        let arguments = ffmpegPreamble + ["-readrate", "\(readRate)"] + signal.ffmpegInput(sampleRate: sampleRate)
            + silenceFilter(silentDuring) + ["-ar", "\(sampleRate)", "-ac", "2"] + codec.ffmpegOutput
            + ["-content_type", codec.contentType, "-t", "\(lifetime)", server.sourceURL(mount: mount)]
        let name = mount.filter { $0.isLetter || $0.isNumber }
        process = FixtureProcess("/usr/bin/ffmpeg", arguments, log: server.folder.appendingPathComponent("feeder-\(name).log"))
        try process.start()
    }

    deinit { process.stop() }

    /// Waits until Icecast serves the mount; throws with ffmpeg's log if it does not within `timeout` seconds.
    public func waitUntilLive(timeout: Double = 10) async throws {
        do {
            try await server.waitUntil(mount: mount, live: true, timeout: timeout)
        } catch {
            throw SupportError("\(error)\nffmpeg: \(process.log())")
        }
    }

    /// The source dies: SIGKILL, its TCP connection dropped by the kernel, and the mount gone from Icecast.
    public func kill() async throws {
        process.kill()
        try await server.waitUntil(mount: mount, live: false)
    }

    /// The source comes back: the same ffmpeg command again, once Icecast has let go of the mount (a second
    /// source on a mount still held is refused), until the mount is live. Its stream time starts again at 0.
    public func restart() async throws {
        process.kill()
        try await server.waitUntil(mount: mount, live: false)
        try process.start()
        try await waitUntilLive()
    }

    /// The source stalls (SIGSTOP): Icecast keeps the mount and its listeners but sends them nothing, until
    /// ``resume()`` or the server's `sourceTimeout`.
    public func pause() { process.signal(SIGSTOP) }
    public func resume() { process.signal(SIGCONT) }

    /// Ends the source as an operator would (SIGTERM).
    public func stop() { process.stop() }

    /// ffmpeg's own messages so far.
    public func log() -> String { process.log() }
}

/// A live HLS stream as VOV serves it: ffmpeg's HLS muxer writing AAC in 2-second MPEG-TS segments, five in the
/// playlist, old ones deleted, into a folder that its own nginx serves on 127.0.0.1.
public final class HLSLiveStream: @unchecked Sendable {
    public let nginx: DistrictServer
    /// The folder ffmpeg writes the playlist and segments into.
    public let folder: URL
    /// The playlist's URL (what a relay's `url` is).
    public var url: String { "http://127.0.0.1:\(nginx.port)/hls/live.m3u8" }
    private let process: FixtureProcess

    /// - Parameters:
    ///   - segmentsMissing: the playlist is served and kept live, but names its segments under `/hls/gone/`,
    ///     where there is nothing: every segment answers 404.
    ///   - readRate, lifetime: as ``StreamFeeder``'s.
    public init(signal: UpstreamSignal = .sine(frequency: 880), sampleRate: Int = 48000, readRate: Double = 1.0,
                segmentsMissing: Bool = false, lifetime: Int = 1800) throws {
        nginx = try DistrictServer(serverDirectives: """
            location /hls/ {
              types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
              add_header Cache-Control no-cache;
            }
            """)
        folder = nginx.root.appendingPathComponent("hls")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // temp_file: the playlist is renamed into place, so nginx never serves a half-written one. Segment numbers
        // start from the epoch second, so a restarted stream goes on numbering upwards as a real encoder's would.
        let arguments = ffmpegPreamble + ["-readrate", "\(readRate)"] + signal.ffmpegInput(sampleRate: sampleRate)
            + ["-ar", "\(sampleRate)", "-ac", "2", "-c:a", "aac", "-b:a", "128k", "-t", "\(lifetime)",
               "-f", "hls", "-hls_time", "2", "-hls_list_size", "5", "-hls_flags", "delete_segments+temp_file",
               "-hls_start_number_source", "epoch", "-hls_segment_filename", folder.appendingPathComponent("seg%d.ts").path]
            + (segmentsMissing ? ["-hls_base_url", "gone/"] : [])
            + [folder.appendingPathComponent("live.m3u8").path]
        process = FixtureProcess("/usr/bin/ffmpeg", arguments, log: nginx.folder.appendingPathComponent("ffmpeg.log"))
        try process.start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: nginx.folder)
    }

    /// Waits until the playlist lists `segments` segments (each is 2 s of stream, written in real time).
    public func waitUntilReady(segments: Int = 1, timeout: Double = 15) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while playlist().split(separator: "\n").filter({ $0.hasSuffix(".ts") }).count < segments {
            guard ContinuousClock.now < deadline, process.running?.isRunning == true else {
                throw SupportError("HLS playlist without \(segments) segments after \(timeout) s: \(process.log())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The playlist as ffmpeg last wrote it ("" before the first segment).
    public func playlist() -> String {
        (try? String(contentsOf: folder.appendingPathComponent("live.m3u8"), encoding: .utf8)) ?? ""
    }

    /// The encoder dies (SIGKILL): the playlist stays as it was, no `#EXT-X-ENDLIST`, and stops moving.
    public func kill() { process.kill() }

    /// The encoder comes back with the same command; segment numbers go on upwards.
    public func restart() throws {
        process.kill()
        try process.start()
    }

    /// Stops ffmpeg (SIGTERM: it ends the playlist with `#EXT-X-ENDLIST`) and nginx.
    public func stop() {
        process.stop()
        nginx.stop()
    }

    /// ffmpeg's own messages so far.
    public func log() -> String { process.log() }
}

/// One local server for each way an upstream goes wrong (issue 23, point 7), each behind a URL.
/// nginx answers most; a small python3 server sends headers and then nothing; one port is bound and never listened on.
public final class BadUpstream: @unchecked Sendable {
    public let nginx: DistrictServer
    private let heldHeaders: FixtureProcess
    private let heldHeadersPort: Int
    private let closedSocket: Int32
    private let closedPort: Int

    /// 403 Forbidden.
    public var forbiddenURL: String { "http://127.0.0.1:\(nginx.port)/forbidden.mp3" }
    /// 404 Not Found.
    public var notFoundURL: String { "http://127.0.0.1:\(nginx.port)/not-found.mp3" }
    /// 302 to `/loop/b`, which answers 302 back to `/loop/a`, forever.
    public var redirectLoopURL: String { "http://127.0.0.1:\(nginx.port)/loop/a" }
    /// 200 with `text/html`: a login or error page where the stream should be.
    public var htmlPageURL: String { "http://127.0.0.1:\(nginx.port)/page/live.mp3" }
    /// 200 `audio/mpeg` with 256 KiB of random bytes.
    public var garbageURL: String { "http://127.0.0.1:\(nginx.port)/garbage.mp3" }
    /// 200 `audio/mpeg` headers, then nothing: the connection is held open and no byte of body ever comes.
    public var headersThenNothingURL: String { "http://127.0.0.1:\(heldHeadersPort)/live.mp3" }
    /// `https://` to a port that speaks plain HTTP: the TLS handshake fails ("wrong version number").
    public var tlsToPlainHTTPURL: String { "https://127.0.0.1:\(nginx.port)/tone.mp3" }
    /// TLS with a self-signed certificate (nginx's ssl): a verifying client refuses it; one that does not verify
    /// (`curl -k`) would get a real MP3, so the certificate is the only fault.
    public var selfSignedTLSURL: String { "https://127.0.0.1:\(nginx.tlsPort ?? 0)/tone.mp3" }
    /// A port bound on 127.0.0.1 and never listened on, held for this object's life: connection refused.
    public var closedPortURL: String { "http://127.0.0.1:\(closedPort)/live.mp3" }
    /// A `.invalid` host (RFC 6761): never resolves.
    public var unresolvableHostURL: String { "http://loa-upstream.invalid/live.mp3" }

    public init() throws {
        let folder = try scratchFolder("loa-bad-upstream")
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = folder.appendingPathComponent("cert.pem"), key = folder.appendingPathComponent("key.pem")
        try runTool("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                         "-keyout", key.path, "-out", certificate.path, "-days", "2", "-subj", "/CN=127.0.0.1"])
        nginx = try DistrictServer(serverDirectives: """
            location = /forbidden.mp3 { return 403; }
            location = /not-found.mp3 { return 404; }
            location = /loop/a { return 302 /loop/b; }
            location = /loop/b { return 302 /loop/a; }
            location /page/ {
              default_type text/html;
              return 200 "<!DOCTYPE html><html><head><title>Đăng nhập</title></head><body><p>Vui lòng đăng nhập.</p></body></html>";
            }
            location = /garbage.mp3 { types { } default_type audio/mpeg; }
            location = /tone.mp3 { types { } default_type audio/mpeg; }
            """, tls: (certificate: certificate, key: key))
        // Random bytes from a fixed seed: the same garbage every run.
        var generator = SplitMix64(seed: 23)
        try Data((0..<(256 * 1024)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            .write(to: nginx.root.appendingPathComponent("garbage.mp3"))
        try runTool("/usr/bin/ffmpeg", ffmpegPreamble + UpstreamSignal.sine(frequency: 440).ffmpegInput(sampleRate: 44100)
            + ["-t", "5", "-ac", "2"] + UpstreamCodec.mp3.ffmpegOutput + [nginx.root.appendingPathComponent("tone.mp3").path])

        (closedSocket, closedPort) = try DistrictServer.bindLoopback()
        heldHeaders = FixtureProcess("/usr/bin/python3", ["-c", Self.headersThenNothing], log: nginx.folder.appendingPathComponent("held.log"))
        guard let announced = try? heldHeaders.start(readingFirstLine: Pipe()), let port = Int(announced) else {
            close(closedSocket)
            throw SupportError("python3 server did not say its port: \(heldHeaders.log())")
        }
        heldHeadersPort = port
    }

    deinit {
        stop()
        close(closedSocket)
        try? FileManager.default.removeItem(at: nginx.folder)
    }

    public func stop() {
        heldHeaders.stop()
        nginx.stop()
    }

    /// Accepts every connection, reads its request, answers a stream's headers and keeps the socket open without a
    /// byte more. It ends when its stdin closes, so it does not outlive the test process.
    static let headersThenNothing = """
        import socket, sys, threading, os
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        print(server.getsockname()[1], flush=True)
        held = []
        while True:
            connection, _ = server.accept()
            connection.settimeout(2)
            try:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: audio/mpeg\\r\\nicy-name: Loa\\r\\n\\r\\n")
            except OSError:
                pass
            held.append(connection)
        """
}

/// Bytes per second received from each URL (HTTP on 127.0.0.1), measured at once over the same `seconds` of wall clock:
/// the slope of bytes received against time, from `skipping` seconds on (past Icecast's burst on connect). Each stream
/// is read on a thread of its own, not on the cooperative pool.
public func measureByteRates(_ urls: [String], seconds: Double, skipping: Double = 1.5) async throws -> [Double] {
    try await withThrowingTaskGroup(of: (Int, Double).self) { group in
        for (index, url) in urls.enumerated() {
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    Thread.detachNewThread {
                        continuation.resume(with: Result { (index, try byteRate(url, seconds: seconds, skipping: skipping)) })
                    }
                }
            }
        }
        var rates = Array(repeating: 0.0, count: urls.count)
        for try await (index, rate) in group { rates[index] = rate }
        return rates
    }
}

private func byteRate(_ url: String, seconds: Double, skipping: Double) throws -> Double {
    let fd = try openHTTP(url)
    defer { close(fd) }
    let start = ContinuousClock.now
    var received = 0
    var points: [(Double, Double)] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(fd, &buffer, buffer.count)
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        guard count > 0 else { throw SupportError("\(url): the stream ended after \(elapsed) s") }
        guard elapsed < seconds else { break }
        received += count
        if elapsed >= skipping { points.append((elapsed, Double(received))) }
    }
    guard points.count >= 10 else { throw SupportError("\(url): only \(points.count) reads to measure") }
    let meanTime = points.map(\.0).reduce(0, +) / Double(points.count)
    let meanBytes = points.map(\.1).reduce(0, +) / Double(points.count)
    let covariance = points.map { ($0.0 - meanTime) * ($0.1 - meanBytes) }.reduce(0, +)
    let variance = points.map { ($0.0 - meanTime) * ($0.0 - meanTime) }.reduce(0, +)
    return covariance / variance
}

/// The HTTP status a GET of `url` (http, 127.0.0.1) answers with, or nil when nothing answers within 2 s.
public func httpStatus(_ url: String) -> Int? {
    guard let fd = try? openHTTP(url) else { return nil }
    defer { close(fd) }
    var head: [UInt8] = []
    var byte: UInt8 = 0
    while head.count < 1024, read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { head.append(byte) }
    // "HTTP/1.0 200 OK"
    let words = String(decoding: head, as: UTF8.self).split(separator: " ")
    return words.count >= 2 && words[0].hasPrefix("HTTP/") ? Int(words[1]) : nil
}

/// A socket that has sent `GET path HTTP/1.0` to a `http://127.0.0.1:PORT/path` URL; reads time out after 2 s.
private func openHTTP(_ url: String) throws -> Int32 {
    guard let parts = URLComponents(string: url), parts.scheme == "http", parts.host == "127.0.0.1", let port = parts.port else {
        throw SupportError("not an http://127.0.0.1:PORT/ URL: \(url)")
    }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SupportError("socket: \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    let request = Array("GET \(parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: loa-tests\r\n\r\n".utf8)
    guard connected, write(fd, request, request.count) == request.count else {
        close(fd)
        throw SupportError("\(url): could not connect (\(errno))")
    }
    return fd
}

/// Quiet ffmpeg, never reading the terminal.
private let ffmpegPreamble = ["-hide_banner", "-nostdin", "-loglevel", "warning"]

/// `-af` replacing the signal by zeros during each stretch (seconds of stream).
private func silenceFilter(_ stretches: [Range<Double>]) -> [String] {
    guard !stretches.isEmpty else { return [] }
    let when = stretches.map { "between(t,\($0.lowerBound),\($0.upperBound))" }.joined(separator: "+")
    return ["-af", "volume=enable='\(when)':volume=0"]
}

/// A fixed-seed generator (SplitMix64): reproducible bytes without Foundation's random source, and reproducible runs
/// of a property test (a failing seed is printed and can be replayed).
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fixture's program, started again as often as asked, its stdout and stderr appended to one log file.
/// Its stdin is a pipe this process holds: a program that reads it (the python3 server) sees it close when we go.
final class FixtureProcess: @unchecked Sendable {
    let executable: String
    let arguments: [String]
    let logURL: URL
    private(set) var running: Process?
    private var stdin: Pipe?

    init(_ executable: String, _ arguments: [String], log: URL) {
        self.executable = executable
        self.arguments = arguments
        logURL = log
    }

    func start() throws { _ = try start(readingFirstLine: nil) }

    /// Starts the program; with `firstLine`, its stdout goes there and its first line is returned.
    func start(readingFirstLine firstLine: Pipe?) throws -> String? {
        if !FileManager.default.fileExists(atPath: logURL.path) {
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }
        try log.seekToEnd()
        let process = Process()
        let input = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = firstLine ?? log
        process.standardError = log
        try withSignalsUnblocked { try process.run() }
        running = process
        stdin = input
        guard let firstLine else { return nil }
        var line: [UInt8] = []
        while line.count < 100, let byte = try firstLine.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    func signal(_ signal: Int32) {
        guard let running, running.isRunning else { return }
        Glibc.kill(running.processIdentifier, signal)
    }

    /// SIGKILL, and waits for the exit.
    func kill() {
        guard let running, running.isRunning else { return }
        Glibc.kill(running.processIdentifier, SIGKILL)
        running.waitUntilExit()
    }

    /// SIGTERM (and SIGCONT, for a paused one), and waits for the exit; SIGKILL after `grace` seconds.
    func stop(grace: Double = 5) {
        guard let running, running.isRunning else { return }
        running.terminate()
        Glibc.kill(running.processIdentifier, SIGCONT)
        let deadline = ContinuousClock.now + .milliseconds(Int(grace * 1000))
        while running.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        kill()
    }

    /// Runs `body` (a spawn) with this thread's signal mask empty. The child inherits the mask of the thread that
    /// spawns it, and the threads of Dispatch and of Swift's cooperative pool block most signals: ffmpeg, icecast2
    /// and python3 started from one of them ignored SIGTERM for good (seen: a test hung in a feeder's stop).
    private func withSignalsUnblocked(_ body: () throws -> Void) rethrows {
        var empty = sigset_t(), previous = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try body()
    }

    func log() -> String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
}
