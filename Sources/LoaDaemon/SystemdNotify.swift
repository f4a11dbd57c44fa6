import Foundation
import LoaCore
import Logging
import ServiceLifecycle

/// systemd's notify protocol (`Type=notify`), written here so no libsystemd is needed: one datagram per message
/// to the `AF_UNIX` socket named by `NOTIFY_SOCKET` (a leading `@` names the abstract namespace).
public struct SystemdNotifier: Sendable {
    let address: String

    /// Nil when the daemon was not started by systemd with a notify socket.
    public init?(environment: [String: String]) {
        guard let address = environment["NOTIFY_SOCKET"], !address.isEmpty, address.utf8.count < 108 else { return nil }
        self.address = address
    }

    /// Sends `message` (`READY=1`, `WATCHDOG=1`, `STATUS=…`, lines joined by `\n`); false when it could not be sent.
    @discardableResult
    public func send(_ message: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var target = sockaddr_un()
        target.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let length = withUnsafeMutableBytes(of: &target.sun_path) { raw -> Int in
            raw.copyBytes(from: path.prefix(raw.count - 1))
            return MemoryLayout<sa_family_t>.size + min(path.count, raw.count - 1)
        }
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(descriptor, bytes, bytes.count, 0, address, socklen_t(length))
            }
        }
        return sent == bytes.count
    }
}

/// Tells systemd the daemon is ready once its services run, what it is doing, and that it is alive: `WATCHDOG=1`
/// at half the `WATCHDOG_USEC` systemd asked for, so a daemon whose tasks are stuck is restarted.
public struct SystemdNotifyService: Service {
    let notifier: SystemdNotifier
    /// Half of `WATCHDOG_USEC`, or nil without a watchdog (or one meant for another process: `WATCHDOG_PID`).
    let watchdogInterval: Double?
    let status: String
    let clock: any WallClock

    public init(notifier: SystemdNotifier, environment: [String: String], pid: Int32, status: String, clock: any WallClock) {
        self.notifier = notifier
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == pid } ?? true
        watchdogInterval = environment["WATCHDOG_USEC"].flatMap(Double.init).flatMap { forUs && $0 > 0 ? $0 / 2e6 : nil }
        self.status = status
        self.clock = clock
    }

    public func run() async throws {
        notifier.send("READY=1\nSTATUS=\(status)")
        if let interval = watchdogInterval {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    notifier.send("WATCHDOG=1")
                    do { try await clock.sleep(until: clock.now().addingTimeInterval(interval)) } catch { return }
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.send("STOPPING=1")
    }
}
