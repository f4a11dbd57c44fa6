import Foundation

/// Why a row of the airing log is not a plain `completed` airing, as a stable code: what the hash chain signs,
/// what tests and exports compare. The sentence an officer reads comes from ``ReasonCatalogue``, so rewording
/// it never changes evidence.
public enum ReasonCode: String, Sendable, Codable, CaseIterable, Hashable {
    /// Gave way to a `loa announce` announcement.
    case preemptedAnnouncement = "preempted.announcement"
    /// Gave way to an emergency bulletin (khẩn cấp).
    case preemptedEmergency = "preempted.emergency"
    /// The item's whole time had passed when the occurrence was entered (late start, restart, device back).
    case latePassed = "late.passed"
    /// The item was on the clock when the occurrence was entered, and the policy does not enter mid-item.
    case lateOnTheClock = "late.on_the_clock"
    /// The occurrence had begun when it was entered, and its policy is `skip`.
    case latePolicySkip = "late.policy_skip"
    /// Entered after its planned start (joined on the clock, or started late): the part lost is on the row.
    case lateJoined = "late.joined"
    /// A second stretch of an item cut by a preemption, a restart or a device outage, aired per the policy.
    case resumed = "resumed"
    /// Cut, with the end fade, at the slot's hard end.
    case cutHardEnd = "cut.hard_end"
    /// Under `whole`, what was left could not air whole before the hard end.
    case droppedWouldNotFit = "dropped.would_not_fit"
    /// The sound device failed or vanished.
    case deviceLost = "device.lost"
    /// The sound device stopped taking audio (its position did not move).
    case deviceStalled = "device.stalled"
    /// The loudspeaker went without audio for a moment (an underrun); the rest aired that much later.
    case deviceDropout = "device.dropout"
    /// The file could not be decoded (from the start, or part way).
    case fileUnreadable = "file.unreadable"
    /// The file ends well before the length measured at import: cut or damaged since.
    case fileShort = "file.short"
    /// The file holds almost no audio.
    case fileEmpty = "file.empty"
    /// The daemon was asked to stop while the item aired.
    case stopped = "stopped"
    /// The daemon stopped before the item's turn came.
    case stoppedBeforeStart = "stopped.before_start"
    /// The daemon died while the item aired (power cut, kill): closed at the next start.
    case daemonDied = "daemon.died"
    /// The daemon was not running when the item was due (PC off or asleep).
    case daemonNotRunning = "daemon.not_running"
    /// Relay (tiếp sóng): the upstream was not heard yet when the relay was due (still connecting or buffering).
    case relayConnecting = "relay.connecting"
    /// Relay: the upstream's host could not be reached (DNS, refused, timed out, TLS). Detail: FFmpeg's words.
    case relayUnreachable = "relay.unreachable"
    /// Relay: the server answered with an HTTP error. Detail: the status (`404`).
    case relayHTTP = "relay.http"
    /// Relay: what came was not audio Loa can decode (an HTML page, garbage, a broken stream). Detail: FFmpeg's words.
    case relayNotAudio = "relay.not_audio"
    /// Relay: no data came for the source's `stall` seconds.
    case relayStalled = "relay.stalled"
    /// Relay: the server closed the stream.
    case relayEnded = "relay.ended"
    /// Relay: the upstream was below its silence threshold for its `silence` seconds.
    case relaySilent = "relay.silent"
    /// Relay: the line input's capture device is missing or busy. Detail: ALSA's words.
    case relayCapture = "relay.capture"
    /// Relay: the buffer ran dry (the upstream is slower than the sound card, or the network is).
    case relayUnderrun = "relay.underrun"
    /// A fallback item cut because the upstream was heard again.
    case relayReturned = "relay.returned"
    /// The slot relays a source `loa.toml` does not name.
    case relayUnknownSource = "relay.unknown_source"
    /// The planner left it out: longer than what is left of the slot.
    case planTooLong = "plan.too_long"
    /// The planner left it out: not in the library.
    case planNotInLibrary = "plan.not_in_library"
    /// The planner found fewer matching segments than the slot asks for.
    case planNotEnough = "plan.not_enough"

    /// One of the relay's codes (`relay.*`): on a fallback's row, why the upstream was not aired then.
    public var isRelay: Bool { rawValue.hasPrefix("relay.") }
}

/// A reason as the log keeps it: the code, and what only this row can say (the announcement's title, the file,
/// ALSA's words, the seconds lost). The detail is data for the catalogue's sentence, never a sentence itself.
public struct Reason: Sendable, Hashable, Codable {
    public var code: ReasonCode
    public var detail: String?

    public init(_ code: ReasonCode, _ detail: String? = nil) {
        self.code = code
        self.detail = detail
    }
}
