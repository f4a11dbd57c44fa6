import Foundation

/// A short stretch of the monitor line (a capture of the amplifier's output) and its level.
public struct MonitorWindow: Sendable, Hashable {
    /// When the window's first frame was captured, on the station's clock.
    public var start: Date
    /// How long the window lasts (0.1 s from the daemon's ALSA capture).
    public var seconds: Double
    /// RMS level of the window's loudest channel, in dBFS, never below ``OnAirCheck/floorDBFS``.
    public var dbfs: Double

    public init(start: Date, seconds: Double, dbfs: Double) {
        self.start = start
        self.seconds = seconds
        self.dbfs = max(OnAirCheck.floorDBFS, dbfs)
    }

    public var end: Date { start.addingTimeInterval(seconds) }
}

/// What the monitor line says of an item: heard or silent, and the line's level over the item.
public struct MonitorVerdict: Sendable, Hashable {
    public var confirmed: OnAirConfirmation
    /// RMS level over the part of the item the monitor captured (the energy mean of its windows), in dBFS.
    public var dbfs: Double

    public init(confirmed: OnAirConfirmation, dbfs: Double) {
        self.confirmed = confirmed
        self.dbfs = dbfs
    }
}

/// The on-air decisions from the monitor line's level windows, kept pure so they are tested on explicit windows.
public struct OnAirCheck: Sendable, Hashable {
    /// A window at or below this level is silence (`monitor_silence_dbfs` in `loa.toml`).
    public var silenceDBFS: Double

    /// Digital silence has no finite level: it is written as this, below any 24-bit noise floor.
    public static let floorDBFS = -120.0
    /// The default of `monitor_silence_dbfs`: far above a line-in's hum and hiss (−70 dBFS and below on a
    /// commune PC's input), far below speech through an amplifier.
    public static let defaultSilenceDBFS = -50.0
    /// Silence this long on the line while an item airs is reported at once: longer than a speaker's pause,
    /// short enough that the technician hears of a dead amplifier while the item is still on air.
    public static let silentLineSeconds = 3.0
    /// Below this share of an item's time captured, the monitor says nothing of it (nil, not silent): a
    /// monitor that was down is no evidence of silence.
    public static let minimumCoverage = 0.5
    /// Sound over at least this share of the captured time is heard. Low on purpose: speech has pauses, and
    /// a bulletin with long ones must not be logged silent; a dead line is silent throughout.
    public static let heardShare = 0.25

    public init(silenceDBFS: Double = OnAirCheck.defaultSilenceDBFS) {
        self.silenceDBFS = silenceDBFS
    }

    public func isSilent(_ window: MonitorWindow) -> Bool { window.dbfs <= silenceDBFS }

    /// The verdict for an item heard from `from` to `to`: nil when it never aired or when the windows cover
    /// less than ``minimumCoverage`` of it (the monitor was not capturing). Windows are counted for the
    /// part of them inside the item.
    public func verdict(_ windows: [MonitorWindow], from: Date?, to: Date?) -> MonitorVerdict? {
        guard let from, let to else { return nil }
        let span = to.timeIntervalSince(from)
        guard span > 0 else { return nil }
        var covered = 0.0, loud = 0.0, energy = 0.0
        for window in windows {
            let overlap = min(window.end, to).timeIntervalSince(max(window.start, from))
            guard overlap > 0 else { continue }
            covered += overlap
            if !isSilent(window) { loud += overlap }
            energy += overlap * pow(10, window.dbfs / 10)
        }
        guard covered > 0, covered >= OnAirCheck.minimumCoverage * span else { return nil }
        let level = max(OnAirCheck.floorDBFS, 10 * log10(energy / covered))
        return MonitorVerdict(confirmed: loud >= OnAirCheck.heardShare * covered ? .heard : .silent, dbfs: level)
    }

    /// Seconds of silence at the end of `windows` (oldest first), counting only windows that start at or
    /// after `since`: the run stops at the first window with sound, or at a gap (the monitor was not capturing,
    /// so the line's state there is unknown).
    public func silentRun(_ windows: [MonitorWindow], since: Date) -> Double {
        var run = 0.0
        var next: Date? = nil
        for window in windows.reversed() {
            guard window.start >= since, isSilent(window) else { break }
            // A gap of more than half a window between two windows breaks the run.
            if let next, next.timeIntervalSince(window.end) > window.seconds / 2 { break }
            run += window.seconds
            next = window.start
        }
        return run
    }
}
