import Foundation
import LoaCore
import LoaDaemon
import Logging
import ServiceLifecycle
import LoaTestSupport
import Testing

/// The real clock, for the server's request deadline.
/// A control socket in its own folder, served by a `ControlServer` inside a `ServiceGroup`.
struct ControlFixture {
    let folder: URL
    var socket: String { folder.appendingPathComponent("loa.sqlite.sock").path }

    init() throws { folder = try Harness.temporaryFolder("loa-ctl") }

    static let echo: @Sendable (ControlRequest) async -> ControlResponse = { request in
        switch request {
        case let .announce(path, times): .success("phát \(path) \(times) lần")
        case .status: .success("đang chờ")
        }
    }

    func server(requestTimeout: Double = 5,
                handler: @escaping @Sendable (ControlRequest) async -> ControlResponse = echo) throws(DaemonError) -> ControlServer {
        try ControlServer(socketPath: socket, clock: WallTimeClock(), logger: Logger(label: "test"),
                          requestTimeout: requestTimeout, handler: handler)
    }

    /// Runs `server` in a service group around `body`, then shuts it down gracefully.
    func serving<T: Sendable>(_ server: ControlServer, _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: Logger(label: "test")))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    func ask(_ request: ControlRequest, timeout: Double = 10) async throws -> ControlResponse {
        let socket = self.socket
        return try await onOwnThread { try ControlClient.send(request, socketPath: socket, timeout: timeout) }
    }

    /// Sends raw bytes (nil: nothing) and returns whatever the server writes before closing.
    func raw(_ bytes: Data?, readTimeout: Double = 10) async throws -> String {
        let socket = self.socket
        return try await onOwnThread { try RawSocket(path: socket, readTimeout: readTimeout).exchange(bytes) }
    }

    /// Clients block, so each runs on a thread of its own: not on the cooperative pool the server needs, nor on
    /// dispatch's global queue, which adds a thread only after its workers have been blocked for about a second.
    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

/// A client that does what a misbehaving one would: connects and sends anything, or nothing.
struct RawSocket {
    let fd: Int32

    init(path: String, readTimeout: Double) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
        }
        var limit = timeval(tv_sec: Int(readTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessError("connect \(path): errno \(errno)")
        }
    }

    func exchange(_ bytes: Data?) throws -> String {
        defer { close(fd) }
        if let bytes {
            // A server that stops reading may reset the connection; what it answered is still worth reading.
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        var answer = Data(), chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n > 0 { answer.append(contentsOf: chunk[..<n]) } else if n == 0 || errno != EINTR { break }
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

extension RealTimeTests {
@Suite("Control channel: the CLI's way to the running daemon", .serialized)
struct ControlChannelTests {
    @Test("Requests and answers round-trip through the socket as one JSON line each; the socket is 0660 and removed on shutdown")
    func roundTrip() async throws {
        let fixture = try ControlFixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        let server = try fixture.server()
        let mode = try FileManager.default.attributesOfItem(atPath: fixture.socket)[.posixPermissions] as? Int
        #expect(mode == 0o660)
        try await fixture.serving(server) {
            #expect(try await fixture.ask(.announce(path: "/tmp/a.wav", repeat: 2)) == .success("phát /tmp/a.wav 2 lần"))
            #expect(try await fixture.ask(.status) == .success("đang chờ"))
            // What any client sees: `repeat` may be left out; the answer is exactly one line.
            let answer = try await fixture.raw(Data((#"{"command":"announce","path":"/x.wav"}"# + "\n").utf8))
            #expect(answer.hasSuffix("\n") && answer.filter { $0 == "\n" }.count == 1, "\(answer)")
            #expect(try JSONDecoder().decode(ControlResponse.self, from: Data(answer.utf8)) == .success("phát /x.wav 1 lần"))
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.socket))
    }

    @Test("A request that is not JSON, names no known command, or asks for zero repeats is refused without reaching the handler")
    func invalidRequests() async throws {
        let fixture = try ControlFixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        let server = try fixture.server { _ in .success("không được gọi") }
        try await fixture.serving(server) {
            for line in ["xin chào", #"{"command":"phat"}"#, #"{"command":"announce","path":"/a.wav","repeat":0}"#,
                         #"{"command":"announce","path":"a.wav"}"#] {
                let answer = try await fixture.raw(Data((line + "\n").utf8))
                let response = try JSONDecoder().decode(ControlResponse.self, from: Data(answer.utf8))
                #expect(!response.ok, "\(line)")
                #expect(response.error?.hasPrefix("yêu cầu không hợp lệ") == true, "\(line): \(answer)")
            }
        }
    }

    @Test("A socket file nobody answers on is replaced; a live server or a file that is not a socket is refused")
    func staleSocket() async throws {
        let fixture = try ControlFixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        // What a SIGKILLed daemon leaves: a bound socket file, nobody listening.
        let dead = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(fixture.socket.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(dead, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(dead)
        try #require(bound == 0 && FileManager.default.fileExists(atPath: fixture.socket))

        let server = try fixture.server()
        try await fixture.serving(server) { () async throws in
            #expect(try await fixture.ask(.status) == .success("đang chờ"))
            do {
                _ = try fixture.server()
                Issue.record("a second server took a socket a live one answers on")
            } catch {
                #expect(error as? DaemonError == .socketInUse(path: fixture.socket))
            }
            // The refused server must not have removed the live one's socket.
            #expect(try await fixture.ask(.status) == .success("đang chờ"))
        }

        try Data("không phải socket".utf8).write(to: URL(fileURLWithPath: fixture.socket))
        #expect(throws: DaemonError.self) { try fixture.server() }
        #expect(try String(contentsOfFile: fixture.socket, encoding: .utf8) == "không phải socket")
    }

    @Test("A socket path longer than sun_path is refused in one line that names it")
    func longPath() async throws {
        let path = "/tmp/" + String(repeating: "x", count: 120) + ".sock"
        do {
            _ = try ControlServer(socketPath: path, clock: WallTimeClock(), logger: Logger(label: "test")) { _ in .success("") }
            Issue.record("a path too long for sun_path was accepted")
        } catch {
            #expect(error == .socketPathTooLong(path: path, bytes: path.utf8.count))
            #expect(error.description.contains("control_socket"))
        }
        #expect(throws: DaemonError.socketPathTooLong(path: path, bytes: path.utf8.count)) {
            try ControlClient.send(.status, socketPath: path)
        }
    }

    @Test("A silent client and an oversize one do not hold up another; the silent one is dropped at the deadline")
    func misbehavingClients() async throws {
        let fixture = try ControlFixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        let server = try fixture.server(requestTimeout: 8)
        try await fixture.serving(server) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let connected = Date()
                group.addTask {
                    let answer = try await fixture.raw(nil)
                    let waited = Date().timeIntervalSince(connected)
                    // Not before its deadline; the upper bound is loose, for a machine busy with parallel tests.
                    #expect(waited > 7.5 && waited < 30, "the silent client was dropped after \(waited) s")
                    #expect(answer.contains("không nhận được yêu cầu"), "\(answer)")
                }
                group.addTask {
                    let answer = try await fixture.raw(Data(repeating: UInt8(ascii: "a"), count: 100 * 1024))
                    #expect(answer.contains("yêu cầu dài quá 65536 byte"), "\(answer)")
                }
                try await Task.sleep(for: .milliseconds(300))
                let asked = Date()
                #expect(try await fixture.ask(.status) == .success("đang chờ"))
                let took = Date().timeIntervalSince(asked)
                // Served one after another, it would wait out the silent client's 8 s. The bound leaves room for
                // the test process's cooperative pool, which other suites' blocking set-up (sox, decodes) may hold
                // for a while: measured 2.07 s once with the feed suites running beside this one.
                #expect(took < 4, "a well-behaved client waited \(took) s behind the others")
                try await group.waitForAll()
            }
        }
    }

    @Test("With no server, the client says no daemon is running and names the socket")
    func notRunning() async throws {
        let fixture = try ControlFixture()
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        do {
            _ = try ControlClient.send(.status, socketPath: fixture.socket, timeout: 1)
            Issue.record("a client reached a server that does not exist")
        } catch {
            guard case .notRunning(fixture.socket, _) = error else { Issue.record("\(error)"); return }
            #expect(error.description.hasPrefix("không có Loa daemon đang chạy (không kết nối được \(fixture.socket)"))
        }
    }
}
}

@Suite("loa announce")
struct AnnounceCommandTests {
    @Test("With no daemon running: exit 3 and one line on stderr naming the socket")
    func noDaemon() async throws {
        let station = try ProcessStation(device: "null")
        let file = station.folder.appendingPathComponent("thong-bao.wav")
        try await Harness.tone(file, frequency: 880, seconds: 0.3, rate: 48000)
        let r = try await station.loaCommand(["announce", file.path])
        #expect(r.status == 3)
        let socket = station.folder.appendingPathComponent("loa.sqlite.sock").path
        #expect(r.err.hasPrefix("loa: không có Loa daemon đang chạy (không kết nối được \(socket)"), "\(r.err)")
        #expect(r.err.split(separator: "\n").count == 1, "\(r.err)")
    }

    @Test("A missing file, an undecodable one, or --repeat 0 is refused with exit 1 before the daemon is asked")
    func refusedFiles() async throws {
        let station = try ProcessStation(device: "null")
        let missing = try await station.loaCommand(["announce", "khong-co.wav"])
        #expect(missing.status == 1)
        #expect(missing.err == "loa: khong-co.wav: không có tệp này\n", "\(missing.err)")
        let garbage = station.folder.appendingPathComponent("hong.mp3")
        try Data(repeating: 0x5A, count: 4096).write(to: garbage)
        let broken = try await station.loaCommand(["announce", garbage.path])
        #expect(broken.status == 1)
        #expect(broken.err.hasPrefix("loa: \(garbage.path): không giải mã được"), "\(broken.err)")
        #expect(broken.err.split(separator: "\n").count == 1, "\(broken.err)")
        let file = station.folder.appendingPathComponent("thong-bao.wav")
        try await Harness.tone(file, frequency: 880, seconds: 0.3, rate: 48000)
        let zero = try await station.loaCommand(["announce", file.path, "--repeat", "0"])
        #expect(zero.status == 1)
        #expect(zero.err.contains("--repeat"), "\(zero.err)")
    }
}
