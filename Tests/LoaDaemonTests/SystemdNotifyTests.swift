import Foundation
import Testing

/// A datagram socket bound at a path, as systemd's `NOTIFY_SOCKET` is: what the daemon sends, with when it came.
final class NotifySocket {
    let path: String
    private let descriptor: Int32

    init() throws {
        path = try Harness.temporaryFolder("loa-notify").appendingPathComponent("notify.sock").path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8).prefix($0.count - 1)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw HarnessError("bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    /// The messages that arrive until `deadline` (or until `done` says the messages so far are enough), each with
    /// its arrival, read on a thread of its own: timed from the cooperative pool, arrivals bunched whenever the
    /// other tests kept it busy.
    func receive(until deadline: Date, done: (@Sendable ([String]) -> Bool)? = nil) async throws -> [(at: Date, message: String)] {
        let descriptor = self.descriptor
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var received: [(at: Date, message: String)] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while Date() < deadline, !(done?(received.map(\.message)) ?? false) {
                    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    guard poll(&poller, 1, 10) > 0 else { continue }
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count > 0 { received.append((Date(), String(decoding: buffer[..<count], as: UTF8.self))) }
                }
                continuation.resume(returning: received)
            }
        }
    }
}

extension RealTimeTests {
@Suite("systemd's notify protocol against a real datagram socket", .serialized)
struct SystemdNotifyTests {
    @Test("Under Type=notify the daemon says READY before the first slot, pings the watchdog at half WATCHDOG_USEC, and says STOPPING on SIGTERM")
    func readyWatchdogStopping() async throws {
        let station = try ProcessStation(device: "null", timezone: ProcessStation.zoneAwayFromMidnight())
        try await station.addTone("a.wav", frequency: 440, seconds: 0.5, rate: 48000, title: "A")
        let start = station.wholeSecond(after: 3)
        try station.writeSlot("dau-tien", start: start, files: ["a.wav"], end: start.addingTimeInterval(3))
        let socket = try NotifySocket()
        let daemon = try station.startDaemon(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])
        defer { _ = daemon.stop() }
        let listened = Date()
        let messages = try await socket.receive(until: listened.addingTimeInterval(2.5))
        let ready = try #require(messages.first, "nothing arrived: \(daemon.output)")
        #expect(ready.message.hasPrefix("READY=1\nSTATUS=UBND xã Thử Nghiệm: 1 khung giờ"), "\(ready.message)")
        #expect(ready.at < start, "READY came before the first slot")
        // A ping each 0,2 s: about a dozen in the 2,5 s listened, whatever the start-up took.
        let pings = messages.filter { $0.message == "WATCHDOG=1" }
        #expect(pings.count >= 6 && pings.count <= 14, "\(pings.count) pings: \(messages.map(\.message))")
        // The rate from the first ping to the last, as sent: arrival times bunch when this test's own polling waits.
        if let first = pings.first, let last = pings.last, pings.count > 1 {
            let interval = last.at.timeIntervalSince(first.at) / Double(pings.count - 1)
            // Half of WATCHDOG_USEC when idle; a loaded machine delays the wake-ups a little, never up to the deadline.
            #expect(interval > 0.15 && interval < 0.4, "one ping each \(interval) s")
        }
        daemon.send(SIGTERM)
        let last = try await socket.receive(until: Date().addingTimeInterval(2))
        #expect(last.contains { $0.message == "STOPPING=1" }, "\(last.map(\.message))")
    }
}
}

@Suite("The systemd unit")
struct SystemdUnitTests {
    static let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../packaging/loa.service")
        .standardizedFileURL
    static let systemdAnalyze = "/usr/bin/systemd-analyze"

    @Test("packaging/loa.service is Type=notify with a watchdog, restarts on failure, runs as loa in the audio group, and reloads with SIGHUP")
    func unitSays() throws {
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        for line in ["Type=notify", "WatchdogSec=30", "Restart=on-failure", "User=loa", "SupplementaryGroups=audio",
                     "DeviceAllow=char-alsa rw", "ExecReload=/bin/kill -HUP $MAINPID"] {
            #expect(text.split(separator: "\n").contains { $0 == line }, "\(line) missing")
        }
    }

    @Test("systemd-analyze verify finds nothing in packaging/loa.service",
          .enabled(if: FileManager.default.isExecutableFile(atPath: SystemdUnitTests.systemdAnalyze), "no \(SystemdUnitTests.systemdAnalyze) here (Debian's systemd package)"))
    func unitVerifies() async throws {
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        // Verified with ExecStart on the binary just built: the installed path does not exist on a build machine, nor
        // does the page Documentation= names (PackagingTests verifies the installed unit with its page).
        let copy = try Harness.temporaryFolder("loa-unit").appendingPathComponent("loa.service")
        try text.replacingOccurrences(of: "/usr/bin/loa", with: try Harness.loaBinary().path).write(to: copy, atomically: true, encoding: .utf8)
        let verified = try await Harness.run(Self.systemdAnalyze, ["verify", "--man=no", copy.path])
        #expect(verified.status == 0 && verified.err.isEmpty, "\(verified.out)\(verified.err)")
    }
}
