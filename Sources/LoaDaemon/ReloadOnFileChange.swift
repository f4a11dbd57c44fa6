import Foundation
import LoaCore
import Logging
import ServiceLifecycle

/// Reloads the playout service when a schedule file or `loa.toml` changes on disk (inotify): an edit from the CLI
/// or by hand airs from the next slot, with no SIGHUP. The folders are watched rather than the files, because
/// editors and `loa schedule` replace a file by renaming a new one over it. Changes are taken together once the
/// folder has been quiet for ``settleSeconds``, so an editor's several writes make one reload. A reload with
/// errors keeps the schedule on air (``PlayoutService``), and the item on air is never interrupted.
public final class ReloadOnFileChange: Service, @unchecked Sendable {
    let target: PlayoutService
    let schedules: URL
    let configFile: URL
    let clock: any WallClock
    let logger: Logger
    /// Quiet time after the last change before the reload.
    public static let settleSeconds = 0.5

    private let condition = NSCondition()
    private var stopping = false

    public init(target: PlayoutService, schedules: URL, configFile: URL, clock: any WallClock, logger: Logger) {
        self.target = target
        self.schedules = schedules
        self.configFile = configFile
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            logger.warning("Không theo dõi được thay đổi của lịch phát (inotify: \(String(cString: strerror(errno)))); sửa lịch xong hãy gửi SIGHUP")
            return
        }
        defer { close(descriptor) }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE)
        let folders = [schedules.path, configFile.deletingLastPathComponent().path]
        var watches: [Int32: String] = [:]
        for folder in Set(folders) {
            let watch = inotify_add_watch(descriptor, folder, mask)
            if watch >= 0 { watches[watch] = folder } else {
                logger.warning("Không theo dõi được \(folder) (inotify: \(String(cString: strerror(errno)))); sửa xong hãy gửi SIGHUP")
            }
        }
        let finished = AsyncStream.makeStream(of: Void.self)
        let watched = watches
        let thread = Thread { [self] in
            watch(descriptor, watched)
            finished.continuation.finish()
        }
        thread.name = "loa-watch"
        thread.start()
        try? await gracefulShutdown()
        condition.withLock { stopping = true }
        // Bounded: the thread polls every 0,2 s.
        for await _ in finished.stream {}
    }

    private func watch(_ descriptor: Int32, _ watches: [Int32: String]) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var changed: [String] = []
        var lastChange = 0.0
        while !condition.withLock({ stopping }) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 200) > 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                for name in count > 0 ? Self.names(buffer, count: count, watches: watches) : [] where relevant(name) {
                    if !changed.contains(name) { changed.append(name) }
                    lastChange = clock.monotonicSeconds()
                }
            }
            if !changed.isEmpty && clock.monotonicSeconds() - lastChange >= Self.settleSeconds {
                logger.notice("Tệp thay đổi (\(changed.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))): nạp lại cấu hình và lịch phát")
                target.requestReload()
                changed.removeAll()
            }
        }
    }

    /// A schedule file (`*.toml` in the schedule folder) or `loa.toml` itself: not an editor's swap or backup file.
    private func relevant(_ path: String) -> Bool {
        let url = URL(fileURLWithPath: path)
        if url.deletingLastPathComponent().path == schedules.path { return url.pathExtension == "toml" && !url.lastPathComponent.hasPrefix(".") }
        return url.lastPathComponent == configFile.lastPathComponent
    }

    /// The full paths named by the inotify events in `buffer`.
    static func names(_ buffer: [UInt8], count: Int, watches: [Int32: String]) -> [String] {
        var names: [String] = []
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        buffer.withUnsafeBytes { raw in
            while offset + header <= count {
                let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                let length = Int(event.len)
                if length > 0, let folder = watches[event.wd] {
                    let bytes = raw[(offset + header)..<min(count, offset + header + length)].prefix { $0 != 0 }
                    names.append(folder + "/" + String(decoding: bytes, as: UTF8.self))
                }
                offset += header + length
            }
        }
        return names
    }
}
