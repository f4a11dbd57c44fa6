import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LoaCore
import Logging
import ServiceLifecycle

// The local channel the CLI uses to reach the running daemon (`loa announce`, `loa status`): a Unix stream
// socket, one JSON request line in, one JSON response line out, then the server closes. See the README.

/// A request to the running daemon: one JSON object on one line, keyed by `command`.
///
/// `{"command":"announce","path":"/abs/file.wav","repeat":1}` or `{"command":"status"}`. A decoded request
/// is already valid: the path is absolute and `repeat` at least 1 (it defaults to 1 when left out).
public enum ControlRequest: Codable, Sendable, Equatable {
    /// Air the file at `path` now, above any slot, `repeat` times.
    case announce(path: String, repeat: Int)
    /// What is on air, what is next, device and feed health.
    case status

    enum CodingKeys: String, CodingKey { case command, path, `repeat` }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let command = try c.decode(String.self, forKey: .command)
        switch command {
        case "announce":
            let path = try c.decode(String.self, forKey: .path)
            let times = try c.decodeIfPresent(Int.self, forKey: .repeat) ?? 1
            guard path.hasPrefix("/") else { throw InvalidControlRequest("“path” phải là đường dẫn tuyệt đối: \(path)") }
            guard times >= 1 else { throw InvalidControlRequest("“repeat” phải từ 1 trở lên") }
            self = .announce(path: path, repeat: times)
        case "status":
            self = .status
        default:
            throw InvalidControlRequest("lệnh không rõ “\(command)” (có: announce, status)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .announce(path, times):
            try c.encode("announce", forKey: .command)
            try c.encode(path, forKey: .path)
            try c.encode(times, forKey: .repeat)
        case .status:
            try c.encode("status", forKey: .command)
        }
    }
}

/// A well-formed request the daemon cannot take, in words for the operator.
struct InvalidControlRequest: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The daemon's answer: `{"ok":true,"message":"…"}` or `{"ok":false,"error":"…"}`. Absent fields are left out.
public struct ControlResponse: Codable, Sendable, Equatable {
    public var ok: Bool
    /// What the daemon did, for the CLI to print.
    public var message: String?
    /// Why it did not, one line for the operator.
    public var error: String?
    /// The answer to `status`.
    public var status: StationStatus?

    public init(ok: Bool, message: String? = nil, error: String? = nil, status: StationStatus? = nil) {
        self.ok = ok
        self.message = message
        self.error = error
        self.status = status
    }

    public static func success(_ message: String) -> ControlResponse { ControlResponse(ok: true, message: message) }
    public static func failure(_ error: String) -> ControlResponse { ControlResponse(ok: false, error: error) }
}

/// A `sockaddr_un` for a path, refusing one that does not fit.
enum ControlSocketAddress {
    /// `sun_path` is 108 bytes on Linux, including the terminating NUL.
    static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    static func make(_ path: String) throws(DaemonError) -> sockaddr_un {
        let bytes = Array(path.utf8)
        guard bytes.count <= maxPathBytes else { throw .socketPathTooLong(path: path, bytes: bytes.count) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Calls `connect` or `bind` with the address.
    static func with<T>(_ address: sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = address
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// `SOCK_STREAM`, close-on-exec, and non-blocking when asked; Glibc imports these flags as an enum.
    static func streamType(nonBlocking: Bool) -> Int32 {
        Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | (nonBlocking ? SOCK_NONBLOCK.rawValue : 0))
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec descriptor (Glibc's Swift overlay has
    /// no `accept4`); -1 with `errno` set when there is none.
    static func accept(from listener: Int32) -> Int32 {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { return fd }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }
}

/// Serves the control socket for the daemon's lifetime: each connection is one request and one answer.
///
/// Binding happens in `init`, so a socket that cannot be had fails the daemon before anything starts. A socket
/// file nobody answers on (left by a killed daemon) is replaced; one a live server answers on is refused.
/// Connections are child tasks of one task group; accepting and reading are driven by dispatch sources on
/// non-blocking descriptors, so a client that sends too much or nothing never holds up another. On graceful
/// shutdown the server stops accepting, finishes the requests it has, and removes the socket file.
public final class ControlServer: Service, @unchecked Sendable {
    public let socketPath: String
    /// The longest request line accepted, in bytes; a longer one is answered with an error.
    public let maxRequestBytes: Int
    /// How long a client has, from connecting, to send its whole request line.
    public let requestTimeout: Double
    private let clock: any WallClock
    private let logger: Logger
    private let handler: @Sendable (ControlRequest) async -> ControlResponse
    private let listener: Int32
    /// The socket file this server created, so exiting never removes one a later server bound.
    private let inode: (dev: UInt64, ino: UInt64)
    private let queue = DispatchQueue(label: "loa.control")
    private let lock = NSLock()
    private var closed = false

    /// Binds and listens on `socketPath` (mode 0660). `handler` answers each decoded request; a request that
    /// does not decode is answered `ok: false` without reaching it.
    public init(socketPath: String, clock: any WallClock, logger: Logger, maxRequestBytes: Int = 64 * 1024,
                requestTimeout: Double = 5,
                handler: @escaping @Sendable (ControlRequest) async -> ControlResponse) throws(DaemonError) {
        self.socketPath = socketPath
        self.clock = clock
        self.logger = logger
        self.maxRequestBytes = maxRequestBytes
        self.requestTimeout = requestTimeout
        self.handler = handler
        let address = try ControlSocketAddress.make(socketPath)
        try Self.clearStaleSocket(socketPath, address: address)
        let fd = socket(AF_UNIX, ControlSocketAddress.streamType(nonBlocking: true), 0)
        guard fd >= 0 else { throw .socketUnavailable(path: socketPath, reason: DaemonError.words(errno: errno)) }
        func fail(_ code: Int32) -> DaemonError {
            close(fd)
            return code == EADDRINUSE ? .socketInUse(path: socketPath)
                : .socketUnavailable(path: socketPath, reason: DaemonError.words(errno: code))
        }
        guard ControlSocketAddress.with(address, { bind(fd, $0, $1) }) == 0 else { throw fail(errno) }
        var info = stat()
        guard chmod(socketPath, 0o660) == 0, stat(socketPath, &info) == 0, listen(fd, 16) == 0 else {
            let code = errno
            unlink(socketPath)
            throw fail(code)
        }
        listener = fd
        inode = (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    deinit { shutDown() }

    public func run() async {
        let (accepted, continuation) = AsyncStream.makeStream(of: Int32.self)
        // The source owns a duplicate of the listener, closed in its cancel handler once dispatch is done with it.
        let watched = fcntl(listener, F_DUPFD_CLOEXEC, 0)
        guard watched >= 0 else {
            logger.error("\(socketPath): không theo dõi được socket điều khiển: \(DaemonError.words(errno: errno))")
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: watched, queue: queue)
        let logger = self.logger, path = socketPath
        source.setEventHandler {
            while true {
                let fd = ControlSocketAddress.accept(from: watched)
                if fd >= 0 {
                    continuation.yield(fd)
                    continue
                }
                let code = errno
                if code == EINTR || code == ECONNABORTED { continue }
                if code != EAGAIN && code != EWOULDBLOCK {
                    logger.warning("\(path): không nhận được kết nối: \(DaemonError.words(errno: code))")
                }
                return
            }
        }
        source.setCancelHandler {
            close(watched)
            continuation.finish()
        }
        source.activate()
        logger.info("Kênh điều khiển: \(socketPath)")
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await fd in accepted {
                    group.addTask { await self.serve(fd) }
                }
            }
        } onGracefulShutdown: { [stop = SourceCanceller(source: source)] in
            stop.cancel()
        }
        source.cancel()
        shutDown()
    }

    /// Closes the listener and removes the socket file, once.
    private func shutDown() {
        let first = lock.withLock {
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        var info = stat()
        if stat(socketPath, &info) == 0, UInt64(info.st_dev) == inode.dev, UInt64(info.st_ino) == inode.ino {
            unlink(socketPath)
        }
        close(listener)
    }

    /// A socket file at `path` is removed when nobody answers on it; a live server there, or a file that is
    /// not a socket, is left alone and refused.
    private static func clearStaleSocket(_ path: String, address: sockaddr_un) throws(DaemonError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK) else {
            throw .socketUnavailable(path: path, reason: "đã có một tệp không phải socket ở đó")
        }
        let probe = socket(AF_UNIX, ControlSocketAddress.streamType(nonBlocking: false), 0)
        guard probe >= 0 else { throw .socketUnavailable(path: path, reason: DaemonError.words(errno: errno)) }
        let answered = ControlSocketAddress.with(address) { connect(probe, $0, $1) } == 0
        let code = errno
        close(probe)
        if answered { throw .socketInUse(path: path) }
        guard code == ECONNREFUSED else { throw .socketUnavailable(path: path, reason: DaemonError.words(errno: code)) }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .socketUnavailable(path: path, reason: DaemonError.words(errno: errno))
        }
    }

    private func serve(_ fd: Int32) async {
        defer { close(fd) }
        let response: ControlResponse
        switch await readRequest(fd) {
        case let .line(bytes):
            do {
                response = await handler(try JSONDecoder().decode(ControlRequest.self, from: bytes))
            } catch let invalid as InvalidControlRequest {
                response = .failure("yêu cầu không hợp lệ: \(invalid.reason)")
            } catch {
                response = .failure("yêu cầu không hợp lệ: cần một dòng JSON có “command”")
            }
        case .tooLarge:
            logger.notice("\(socketPath): bỏ một yêu cầu dài quá \(maxRequestBytes) byte")
            response = .failure("yêu cầu dài quá \(maxRequestBytes) byte")
        case .timedOut:
            logger.notice("\(socketPath): bỏ một kết nối không gửi yêu cầu trong \(formatSeconds(requestTimeout))")
            response = .failure("không nhận được yêu cầu trong \(formatSeconds(requestTimeout))")
        case .closed:
            return
        }
        send(response, to: fd)
    }

    enum ReadOutcome: Sendable {
        case line(Data)
        case tooLarge
        case timedOut
        /// The client hung up without a request, the read failed, or the server is stopping.
        case closed
    }

    /// The first line the client sends, raced against the request deadline.
    private func readRequest(_ fd: Int32) async -> ReadOutcome {
        let watched = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard watched >= 0 else { return .closed }
        let (outcomes, continuation) = AsyncStream.makeStream(of: ReadOutcome.self)
        let source = DispatchSource.makeReadSource(fileDescriptor: watched, queue: queue)
        let reader = LineReader(limit: maxRequestBytes)
        source.setEventHandler {
            guard let outcome = reader.readAvailable(watched) else { return }
            continuation.yield(outcome)
            source.cancel()
        }
        source.setCancelHandler {
            close(watched)
            continuation.finish()
        }
        source.activate()
        defer { source.cancel() }
        let clock = self.clock, deadline = clock.now().addingTimeInterval(requestTimeout)
        return await withTaskGroup(of: ReadOutcome?.self) { group in
            group.addTask {
                var iterator = outcomes.makeAsyncIterator()
                return await iterator.next() ?? .closed
            }
            group.addTask {
                do { try await clock.sleep(until: deadline) } catch { return nil }
                return .timedOut
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .closed
        }
    }

    /// Small answers (announce, status) fit the socket buffer many times over, so one non-blocking write
    /// normally finishes; a client that does not read what it asked for simply loses the rest.
    private func send(_ response: ControlResponse, to fd: Int32) {
        var data = (try? JSONEncoder().encode(response)) ?? Data(#"{"ok":false,"error":"lỗi nội bộ"}"#.utf8)
        data.append(UInt8(ascii: "\n"))
        _ = writeAll(data, to: fd)
    }
}

/// Lets the graceful-shutdown handler, which may run on any thread, stop the accept source; cancelling a
/// dispatch source is thread-safe.
private struct SourceCanceller: @unchecked Sendable {
    let source: any DispatchSourceRead
    func cancel() { source.cancel() }
}

/// Gathers bytes from a non-blocking socket until a newline, the end of input, or the size limit.
/// Used only from the server's dispatch queue.
private final class LineReader: @unchecked Sendable {
    let limit: Int
    private var buffer = Data()

    init(limit: Int) { self.limit = limit }

    /// Reads what is there; returns nil while the line is still incomplete.
    func readAvailable(_ fd: Int32) -> ControlServer.ReadOutcome? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n > 0 {
                if let newline = chunk[..<n].firstIndex(of: UInt8(ascii: "\n")) {
                    buffer.append(contentsOf: chunk[..<newline])
                    return buffer.count > limit ? .tooLarge : .line(buffer)
                }
                buffer.append(contentsOf: chunk[..<n])
                if buffer.count > limit { return .tooLarge }
            } else if n == 0 {
                // A client may send its request and shut down writing instead of ending the line.
                return buffer.isEmpty ? .closed : .line(buffer)
            } else {
                let code = errno
                if code == EINTR { continue }
                return code == EAGAIN || code == EWOULDBLOCK ? nil : .closed
            }
        }
    }
}

/// The CLI's side of the control socket.
public enum ControlClient {
    /// Sends `request` to the daemon listening on `socketPath` and waits up to `timeout` seconds for each
    /// step of the answer. Throws `.notRunning` when nothing listens there (no socket file, or nobody answers).
    public static func send(_ request: ControlRequest, socketPath: String, timeout: Double = 10) throws(DaemonError)
        -> ControlResponse {
        let address = try ControlSocketAddress.make(socketPath)
        let fd = socket(AF_UNIX, ControlSocketAddress.streamType(nonBlocking: false), 0)
        guard fd >= 0 else { throw .socketUnavailable(path: socketPath, reason: DaemonError.words(errno: errno)) }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard ControlSocketAddress.with(address, { connect(fd, $0, $1) }) == 0 else {
            let code = errno
            if code == ENOENT || code == ECONNREFUSED {
                throw .notRunning(socket: socketPath, reason: DaemonError.words(errno: code))
            }
            throw .socketUnavailable(path: socketPath, reason: DaemonError.words(errno: code))
        }
        var line: Data
        do { line = try JSONEncoder().encode(request) } catch {
            throw .noAnswer(socket: socketPath, reason: "không mã hóa được yêu cầu")
        }
        line.append(UInt8(ascii: "\n"))
        guard writeAll(line, to: fd) else { throw .noAnswer(socket: socketPath, reason: DaemonError.words(errno: errno)) }
        var answer = Data(), chunk = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(UInt8(ascii: "\n")) {
            let n = read(fd, &chunk, chunk.count)
            if n > 0 {
                answer.append(contentsOf: chunk[..<n])
            } else if n == 0 {
                break
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw .noAnswer(socket: socketPath, reason: "không có câu trả lời sau \(formatSeconds(timeout))")
            } else {
                throw .noAnswer(socket: socketPath, reason: DaemonError.words(errno: errno))
            }
        }
        let firstLine = answer.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first ?? Data()
        guard let response = try? JSONDecoder().decode(ControlResponse.self, from: firstLine) else {
            throw .noAnswer(socket: socketPath, reason: firstLine.isEmpty ? "đóng kết nối mà không trả lời" : "câu trả lời không đọc được")
        }
        return response
    }
}

/// Writes all of `data`, retrying interrupted and partial writes; false when the socket refuses the rest.
/// `MSG_NOSIGNAL`: a client that hung up must not kill the daemon with SIGPIPE.
private func writeAll(_ data: Data, to fd: Int32) -> Bool {
    data.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return true }
        var offset = 0
        while offset < raw.count {
            let n = send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }
}
