import Foundation
import LoaCore

/// One item of a program: what the plan says of it and how to play it.
public struct PlayoutCue: Sendable, Hashable {
    /// Its place and length in the plan.
    public var item: PlannedItem
    /// The file, as an absolute path.
    public var path: String
    /// Gain to apply, in dB (loudness normalisation).
    public var gainDB: Double
    /// The file's true peak after `gainDB`, when it was measured: an item well under the ceiling needs no
    /// limiting, and the limiter's detection is skipped for it.
    public var truePeakDBTP: Double?

    /// For a relay item: the upstream, received since the relay's lead, and the fallback loop.
    public var relay: RelayCue?

    public init(item: PlannedItem, path: String, gainDB: Double = 0, truePeakDBTP: Double? = nil, relay: RelayCue? = nil) {
        self.item = item
        self.path = path
        self.gainDB = gainDB
        self.truePeakDBTP = truePeakDBTP
        self.relay = relay
    }

    /// Margin under the ceiling for trusting the measurement: a resampled copy's inter-sample peaks may
    /// differ a little from the original's, and 4× oversampling can read low.
    static let trustedHeadroomDB = 0.5

    /// Whether every sample of the item, after its gain, is known to stay under `ceiling`.
    func isUnder(_ ceiling: Double) -> Bool { truePeakDBTP.map { $0 <= ceiling - PlayoutCue.trustedHeadroomDB } ?? false }
}

/// A relay item's upstream and what airs while it is not heard.
public struct RelayCue: Sendable, Hashable {
    public let feed: UpstreamFeed
    public var fallback: [FallbackCue]

    public init(feed: UpstreamFeed, fallback: [FallbackCue]) {
        self.feed = feed
        self.fallback = fallback
    }

    public static func == (a: RelayCue, b: RelayCue) -> Bool { a.feed === b.feed && a.fallback == b.fallback }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(feed))
        hasher.combine(fallback)
    }
}

/// What a relay reports for its rows.
public enum RelayReport: Sendable, Hashable {
    /// The upstream connected or was lost (wall-clock times: the connection's, not the loudspeaker's).
    case upstream(UpstreamFeed.UpstreamEvent)
    /// The relay switched, heard at `at`.
    case mix(RelayMixEvent, at: Date)
}

/// What the engine airs in one go: an occurrence of a slot, or an announcement. What airs when is decided by
/// `ProgramStateMachine` (LoaCore); the engine carries its decisions out.
public struct PlayoutProgram: Sendable {
    public var cues: [PlayoutCue]
    /// What the log knows of each cue when the program is handed over.
    public var progress: [ItemProgress]
    public var hardEnd: Date?
    public var policy: LatenessPolicy
    /// Fade length when an item is cut at the hard end.
    public var endFadeSeconds: Double
    /// Fade length when an item is stopped or preempted.
    public var stopFadeSeconds: Double

    public init(cues: [PlayoutCue], progress: [ItemProgress]? = nil, hardEnd: Date? = nil, policy: LatenessPolicy = .join,
                endFadeSeconds: Double = 2, stopFadeSeconds: Double = 0.3) {
        self.cues = cues
        self.progress = progress ?? cues.map { _ in .pending }
        self.hardEnd = hardEnd
        self.policy = policy
        self.endFadeSeconds = endFadeSeconds
        self.stopFadeSeconds = stopFadeSeconds
    }

    /// Files played now, back to back (`loa play`, announcements).
    public static func now(_ paths: [(path: String, durationSeconds: Double, gainDB: Double)], at start: Date,
                           kind: ItemKind = .segment) -> PlayoutProgram {
        var cursor = 0.0
        let cues = paths.map { entry in
            defer { cursor += entry.durationSeconds }
            let segment = Segment(id: entry.path, title: entry.path, path: entry.path, durationSeconds: entry.durationSeconds)
            return PlayoutCue(item: PlannedItem(segment: segment, offsetSeconds: cursor, startsAt: start.addingTimeInterval(cursor),
                                                kind: kind),
                              path: entry.path, gainDB: entry.gainDB)
        }
        return PlayoutProgram(cues: cues, policy: .whole)
    }

    /// The state machine that decides this program.
    func stateMachine() -> ProgramStateMachine {
        ProgramStateMachine(items: cues.map(\.item), progress: progress, hardEnd: hardEnd, policy: policy)
    }
}

/// What the output thread reports, in order, for a program.
public enum PlayoutEvent: Sendable, Hashable {
    /// The cue's first sample is being written; `audibleAt` comes from the device's delay at that write. `newRow` when
    /// this is a stretch of its own, continuing the cue's last row (closed by a preemption or a restart).
    case starting(cue: Int, audibleAt: Date, fromSeconds: Double, policy: LatenessPolicy?, newRow: Bool)
    /// The cue's row is final; `endedAt` is when it stopped being heard (nil when it never aired).
    case ended(cue: Int, closing: RowClosing, endedAt: Date?, xruns: Int)
    /// The cue has been heard for `airedSeconds` so far in its row: reported every ``PlayoutEngine/progressInterval``
    /// while it airs, once heard, so that the log of an airing cut short by a crash keeps what was heard.
    case progress(cue: Int, airedSeconds: Double)
    /// The device failed, vanished or stalled; the engine retries it.
    case deviceLost(String)
    /// The device is back, at this time.
    case deviceBack(Date)
    /// The loudspeaker went without audio for about `seconds` while the cue aired: an underrun, reported by the
    /// device or found when its delay jumped (a sound server left without audio says nothing). The audio after
    /// it airs that much later; the cue's row counts it in its xruns.
    case dropout(cue: Int, seconds: Double)
    /// What a relay cue's upstream and fallback did.
    case relay(cue: Int, RelayReport)
}

extension AudioError {
    /// The reason a row carries when this error ended its airing.
    public var reason: Reason {
        switch self {
        case .stalled: Reason(.deviceStalled, description)
        case .device: Reason(.deviceLost, description)
        case .decode, .resample: Reason(.fileUnreadable, description)
        default: Reason(.deviceLost, description)
        }
    }
}
