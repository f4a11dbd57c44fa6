import Foundation

/// A real nginx on 127.0.0.1, on a free port, serving a private folder: the district's feed server for tests.
/// Its access log records, per request, the status, the `Range` asked for and the body bytes sent.
public final class DistrictServer: @unchecked Sendable {
    public let folder: URL
    /// What nginx serves: the feed goes in `root/feed/`.
    public let root: URL
    public let port: Int
    /// The port that speaks TLS, when started with a certificate.
    public let tlsPort: Int?

    /// The feed folder's URL, ending in `/`.
    public var feedURL: String { "http://127.0.0.1:\(port)/feed/" }
    public var feedFolder: URL { root.appendingPathComponent("feed") }

    /// `rateLimit`, e.g. "64k", slows every response's body to that many bytes per second (to cut one mid-file).
    public convenience init(rateLimit: String? = nil) throws {
        try self.init(serverDirectives: rateLimit.map { "limit_rate \($0);" } ?? "")
    }

    /// nginx with `serverDirectives` (locations, limits) in its one server block; with `tls`, the same server also
    /// listens on ``tlsPort`` with that certificate and key (PEM files, read at start).
    public init(serverDirectives: String, tls: (certificate: URL, key: URL)? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loa-nginx-\(UUID().uuidString)")
        root = folder.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("feed"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        var lastError: (any Error)?
        // A free port is found by binding port 0; another process may take it before nginx does, so try a few.
        for _ in 0..<5 {
            let candidate = try Self.freePort()
            let tlsCandidate = try tls.map { _ in try Self.freePort() }
            let tlsListener = tls.flatMap { files in
                tlsCandidate.map { "listen 127.0.0.1:\($0) ssl; ssl_certificate \(files.certificate.path); ssl_certificate_key \(files.key.path);" }
            } ?? ""
            let conf = """
            daemon off;
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/error.log;
            \(getuid() == 0 ? "user root;" : "")
            worker_processes 1;
            events { worker_connections 64; }
            http {
              log_format loa '$request_method $uri $status $body_bytes_sent range=$http_range';
              access_log \(folder.path)/access.log loa;
              client_body_temp_path \(folder.path)/tmp;
              proxy_temp_path \(folder.path)/tmp;
              fastcgi_temp_path \(folder.path)/tmp;
              uwsgi_temp_path \(folder.path)/tmp;
              scgi_temp_path \(folder.path)/tmp;
              server {
                listen 127.0.0.1:\(candidate);
                \(tlsListener)
                root \(root.path);
                \(serverDirectives)
              }
            }
            """
            let confURL = folder.appendingPathComponent("nginx.conf")
            try conf.write(to: confURL, atomically: true, encoding: .utf8)
            let attempt = Process()
            attempt.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            attempt.arguments = ["-c", confURL.path, "-p", folder.path]
            attempt.standardOutput = FileHandle.nullDevice
            attempt.standardError = FileHandle.nullDevice
            try attempt.run()
            if Self.waitForListener(port: candidate, while: attempt),
               tlsCandidate.map({ Self.waitForListener(port: $0, while: attempt) }) ?? true {
                port = candidate
                tlsPort = tlsCandidate
                processStarted(attempt)
                return
            }
            attempt.terminate()
            attempt.waitUntilExit()
            lastError = SupportError("nginx did not listen on \(candidate): \((try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? "")")
        }
        throw lastError ?? SupportError("nginx did not start")
    }

    private var running: Process?
    private func processStarted(_ process: Process) { running = process }

    deinit { stop() }

    public func stop() {
        guard let running, running.isRunning else { return }
        running.terminate()
        running.waitUntilExit()
    }

    /// The access log's lines so far: `GET /feed/x.mp3 206 1234 range=bytes=100-`.
    public func accessLog() -> [String] {
        ((try? String(contentsOf: folder.appendingPathComponent("access.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    static func freePort() throws -> Int {
        let (fd, port) = try bindLoopback()
        close(fd)
        return port
    }

    /// A TCP socket bound to a free port on 127.0.0.1, and that port.
    static func bindLoopback() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SupportError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw SupportError("bind: \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func waitForListener(port: Int, while process: Process) -> Bool {
        for _ in 0..<100 {
            guard process.isRunning else { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return true }
            usleep(20_000)
        }
        return false
    }
}

/// A TCP port that accepts connections and never answers: a server that hangs.
public final class SilentServer: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws {
        (fd, port) = try DistrictServer.bindLoopback()
        guard listen(fd, 16) == 0 else { throw SupportError("listen: \(errno)") }
    }

    deinit { close(fd) }
}

public struct SupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh folder under the system's temporary directory.
public func scratchFolder(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs a program to completion and returns its status; throws with its stderr when it fails.
@discardableResult
public func runTool(_ tool: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let errors = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = errors
    try process.run()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SupportError("\(tool) \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
    }
    return process.terminationStatus
}

/// A sine tone file made with sox (and lame for `.mp3`).
public func makeTone(_ url: URL, frequency: Int, seconds: Double, rate: Int = 48000) throws {
    if url.pathExtension == "mp3" {
        let wav = url.deletingPathExtension().appendingPathExtension("src.wav")
        try runTool("/usr/bin/sox", ["-n", "-r", "\(rate)", "-c", "1", wav.path, "synth", "\(seconds)", "sine", "\(frequency)", "vol", "0.5"])
        try runTool("/usr/bin/lame", ["--quiet", "-b", "128", wav.path, url.path])
        try FileManager.default.removeItem(at: wav)
    } else {
        try runTool("/usr/bin/sox", ["-n", "-r", "\(rate)", "-c", "1", url.path, "synth", "\(seconds)", "sine", "\(frequency)", "vol", "0.5"])
    }
}
