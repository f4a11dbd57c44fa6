import Foundation
import LoaAudio
import LoaCore
import Logging
import ServiceLifecycle

/// The on-air check (`monitor` in `loa.toml`): captures the line wired to the amplifier's output on a thread
/// of its own, keeps its recent level windows, and tells each finished item whether it was heard. A silent
/// line while an item airs is logged at once, once per item. A monitor that fails to open or goes away never
/// touches playout: it is logged, opened again every ``retrySeconds``, and the items aired meanwhile get no
/// verdict (nil, not silent).
///
/// The monitor device is read at start; a SIGHUP reload does not change it (nor the output device).
public final class OnAirMonitor: Service, @unchecked Sendable {
    /// The capture PCM's name (`monitor` in `loa.toml`), for messages.
    public let device: String
    /// The silence threshold and the decisions on the windows.
    public let check: OnAirCheck
    let clock: any WallClock
    let logger: Logger
    let makeCapture: @Sendable () -> any LevelCapture

    /// How long a verdict waits for the windows of an item's last moments. They arrive after the item has
    /// ended, by the capture's own latency (a window, plus what the device buffers: about 0.1–0.3 s through
    /// PulseAudio); a second bounds the wait on the log writer's queue, and an item whose end never arrives
    /// (the monitor stalled) is judged on what there is.
    public static let settleSeconds = 1.0
    /// Wait between two attempts to open a monitor that failed or went away.
    public static let retrySeconds = 5.0
    /// Windows kept when no item needs them: enough to judge an item that starts now.
    static let idleKeepSeconds = 60.0
    /// Windows kept at most, whatever is on air: an item longer than this is judged on its last hours.
    static let longestKeepSeconds = 4 * 3600.0

    /// Guards everything below; waited on by verdicts for new windows, and by the capture loop between retries.
    private let condition = NSCondition()
    private var windows: [MonitorWindow] = []
    private var capturing = false
    private var stopping = false
    /// Items on air by row id: their title, when they became audible, and whether a silent line was reported.
    private var onAir: [Int64: (title: String, audibleAt: Date, warned: Bool)] = [:]

    /// `makeCapture` makes a fresh capture for each attempt to open the monitor (at start and after each failure).
    public init(device: String, check: OnAirCheck, clock: any WallClock, logger: Logger,
                makeCapture: @escaping @Sendable () -> any LevelCapture) {
        self.device = device
        self.check = check
        self.clock = clock
        self.logger = logger
        self.makeCapture = makeCapture
    }

    /// Captures until graceful shutdown. Playout stops first (it comes later in the service group), so the
    /// last items still get their verdict.
    public func run() async throws {
        let finished = AsyncStream.makeStream(of: Void.self)
        let thread = Thread { [self] in
            captureUntilStopped()
            finished.continuation.finish()
        }
        thread.name = "loa-monitor"
        thread.start()
        // Cancelled rather than shut down gracefully: stop all the same.
        try? await gracefulShutdown()
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
        // Bounded: a read waits at most 0.2 s and an open is given up after ALSAOutput.openTimeout.
        for await _ in finished.stream {}
    }

    /// The item of row `id` is heard from `audibleAt` on: the silent-line check watches it until its verdict.
    public func began(_ id: Int64, title: String, audibleAt: Date) {
        condition.withLock { onAir[id] = (title, audibleAt, false) }
    }

    /// What the line said of row `id`, heard from `from` (its start, when ``began(_:title:audibleAt:)`` was not
    /// told) until `to`: nil when it never aired or the monitor did not capture enough of it. Waits, at most
    /// ``settleSeconds``, for the windows up to `to` while the monitor captures.
    public func verdict(_ id: Int64, from: Date?, to: Date?) -> MonitorVerdict? {
        condition.lock()
        defer { condition.unlock() }
        let item = onAir.removeValue(forKey: id)
        guard let from = item?.audibleAt ?? from, let to else { return nil }
        let deadline = clock.monotonicSeconds() + OnAirMonitor.settleSeconds
        while capturing && (windows.last?.end ?? .distantPast) < to {
            let left = deadline - clock.monotonicSeconds()
            guard left > 0 else { break }
            clock.wait(left, on: condition)
        }
        return check.verdict(windows, from: from, to: to)
    }

    private func captureUntilStopped() {
        var capture: (any LevelCapture)? = nil
        // The last failure logged: a monitor absent for days is logged once, not every retry.
        var failure: String? = nil
        while !condition.withLock({ stopping }) {
            guard let open = capture else {
                let opened = makeCapture()
                do {
                    try opened.open()
                } catch {
                    failed(error, &failure)
                    continue
                }
                capture = opened
                condition.withLock { capturing = true }
                logger.notice(failure == nil ? "Đang nghe đường kiểm tra phát sóng “\(device)”"
                    : "Đường kiểm tra phát sóng “\(device)” đã trở lại; các lượt phát từ giờ được xác nhận")
                failure = nil
                continue
            }
            do {
                append(try open.read(waiting: 0.2))
            } catch {
                open.close()
                capture = nil
                condition.withLock {
                    capturing = false
                    condition.broadcast()
                }
                failed(error, &failure)
            }
        }
        capture?.close()
        condition.withLock {
            capturing = false
            condition.broadcast()
        }
    }

    /// Logs a failure to open or read the monitor (when it differs from the last one), then waits before the next try.
    private func failed(_ error: AudioError, _ last: inout String?) {
        if error.description != last {
            logger.error("Không nghe được đường kiểm tra phát sóng: \(error); thử lại sau \(formatSeconds(OnAirMonitor.retrySeconds)); các lượt phát trong lúc này không được xác nhận (việc phát vẫn tiếp tục)")
        }
        last = error.description
        condition.withLock {
            if !stopping { clock.wait(OnAirMonitor.retrySeconds, on: condition) }
        }
    }

    /// Keeps `new` windows, wakes verdicts waiting for them, and reports a line gone silent under an item on air.
    private func append(_ new: [MonitorWindow]) {
        guard !new.isEmpty else { return }
        let warnings: [String] = condition.withLock {
            windows += new
            let latest = windows.last?.end ?? .distantPast
            let needed = onAir.values.map(\.audibleAt).min() ?? .distantFuture
            let keepFrom = max(min(needed, latest.addingTimeInterval(-OnAirMonitor.idleKeepSeconds)),
                               latest.addingTimeInterval(-OnAirMonitor.longestKeepSeconds))
            if let first = windows.firstIndex(where: { $0.end >= keepFrom }), first > 0 { windows.removeFirst(first) }
            var warnings: [String] = []
            for (id, item) in onAir where !item.warned {
                let run = check.silentRun(windows, since: item.audibleAt)
                guard run >= OnAirCheck.silentLineSeconds else { continue }
                onAir[id]?.warned = true
                warnings.append("Đường kiểm tra phát sóng “\(device)” im lặng \(formatSeconds(run)) trong khi đang phát “\(item.title)”: loa có thể không kêu (kiểm tra ampli, dây tín hiệu, âm lượng)")
            }
            condition.broadcast()
            return warnings
        }
        for warning in warnings { logger.warning("\(warning)") }
    }
}
