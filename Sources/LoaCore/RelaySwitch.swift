import Foundation

/// What the relay's output side sees of its upstream at one moment: what the network (or capture) thread has
/// delivered into the buffer and what it knows of the connection.
public struct UpstreamObservation: Sendable, Hashable {
    /// Whether the connection (or the capture device) is open and delivering.
    public var connected: Bool
    /// Audio ready in the buffer, in seconds.
    public var bufferedSeconds: Double
    /// How long the audio last delivered has had sound without a break (above the silence threshold).
    public var soundSeconds: Double
    /// How long the audio last delivered has been below the silence threshold without a break.
    public var silentSeconds: Double
    /// Why the upstream is not delivering, when it is not: the last connection's fault.
    public var fault: Reason?

    public init(connected: Bool, bufferedSeconds: Double, soundSeconds: Double = 0, silentSeconds: Double = 0, fault: Reason? = nil) {
        self.connected = connected
        self.bufferedSeconds = bufferedSeconds
        self.soundSeconds = soundSeconds
        self.silentSeconds = silentSeconds
        self.fault = fault
    }
}

/// What the relay does next.
public enum RelayDecision: Sendable, Hashable {
    /// Air the upstream.
    case relay
    /// Air the fallback, for this reason (the reason of each fallback row).
    case fallback(Reason)
}

/// The relay's state machine: from what it sees of the upstream, whether the loudspeaker carries the upstream or the
/// fallback. Pure: the relay's reading side asks it at every read and carries its answer out.
///
/// - At the relay's first read the upstream airs if it is connected with at least ``minimumStartSeconds`` buffered,
///   else the fallback airs at once (`relay.connecting`, or the connection's fault): never silence while connecting.
/// - On air, a buffer run dry is a fault at once (the connection's, or `relay.underrun`): the fallback airs with no
///   gap; an upstream silent for ``RelayTuning/silenceSeconds`` is `relay.silent`.
/// - The upstream returns once connected, with sound for ``RelayTuning/returnSeconds`` without a break and a buffer
///   of at least ``minimumStartSeconds``: a connection that flaps is not aired between two faults. One that was only
///   still connecting airs as soon as it is ready.
public struct RelaySwitch: Sendable, Hashable {
    public let tuning: RelayTuning
    /// What is on air now; nil before the first decision.
    public private(set) var onAir: RelayDecision?

    /// The least audio buffered to go on air: enough to ride out one late packet.
    public var minimumStartSeconds: Double { min(1.0, tuning.bufferSeconds) }

    public init(tuning: RelayTuning) { self.tuning = tuning }

    /// The decision for this moment; `changed` is true when it differs from what was on air.
    public mutating func decide(_ seen: UpstreamObservation) -> (decision: RelayDecision, changed: Bool) {
        let next: RelayDecision
        switch onAir {
        case nil:
            next = seen.connected && seen.bufferedSeconds >= minimumStartSeconds
                ? .relay : .fallback(seen.fault ?? Reason(.relayConnecting))
        case .relay?:
            if seen.bufferedSeconds <= 0 {
                next = .fallback(seen.fault ?? Reason(seen.connected ? .relayUnderrun : .relayEnded))
            } else if seen.silentSeconds >= tuning.silenceSeconds {
                next = .fallback(Reason(.relaySilent, ReasonCatalogue.number(tuning.silenceSeconds)))
            } else {
                next = .relay
            }
        case let .fallback(reason)?:
            // An upstream that was only not connected yet (a relay entered at a restart, a slow first connection) has
            // nothing to prove: it airs once ready. One that was lost airs again after its return seconds of sound.
            let proof = reason.code == .relayConnecting ? 0 : tuning.returnSeconds
            if seen.connected, seen.soundSeconds >= proof, seen.bufferedSeconds >= minimumStartSeconds {
                next = .relay
            } else {
                // A later fault says better why the upstream is still away than the first did.
                next = .fallback(seen.fault.map { $0.code == reason.code ? reason : $0 } ?? reason)
            }
        }
        let changed: Bool = switch (onAir, next) {
        case (.relay?, .relay), (.fallback?, .fallback): false
        default: true
        }
        onAir = next
        return (next, changed)
    }
}

/// Keeps a live upstream's buffer at its target against the difference between its clock and the sound card's, by
/// the ratio of an adaptive resampler: a proportional-integral controller on the buffered seconds, smoothed over a few
/// seconds (network packets arrive in bursts; the clocks drift slowly), clamped, and moved slowly so that the change
/// of pitch stays far below what an ear notices (0.1 % a second is under 2 cents a second).
///
/// Pure: it is fed the buffer's level and the seconds of audio produced since the last step. Gains chosen by
/// simulation (RelaySwitchTests): a source 0.5 % off is held within 0.15 s of the target, 2 % within half a second.
public struct DriftController: Sendable, Hashable {
    /// The level to hold, in seconds.
    public let targetSeconds: Double
    /// The largest correction, as a fraction of the nominal ratio: a source 2 % off is followed; more is a fault.
    public var maximumCorrection = 0.02
    /// Correction per second of error (proportional) and per second of error per second (integral).
    public var proportional = 0.03
    public var integral = 0.0005
    /// The level's smoothing: an exponential mean over about this many seconds.
    public var smoothingSeconds = 5.0
    /// How much the correction may change per second of audio: slow enough to be inaudible.
    public var slewPerSecond = 0.001
    /// The correction now: the resampler consumes `1 + correction` times the nominal input per output frame.
    public private(set) var correction = 0.0
    /// The smoothed level.
    public private(set) var level: Double
    private var accumulated = 0.0

    public init(targetSeconds: Double) {
        self.targetSeconds = targetSeconds
        level = targetSeconds
    }

    /// One step: the buffer holds `bufferedSeconds` after `elapsedSeconds` of audio were produced. Returns the new
    /// correction. A fuller buffer than the target means the upstream runs faster than the card: more input is eaten
    /// per output frame (a positive correction).
    public mutating func step(bufferedSeconds: Double, elapsedSeconds: Double) -> Double {
        guard elapsedSeconds > 0, bufferedSeconds.isFinite else { return correction }
        level += (bufferedSeconds - level) * min(1, elapsedSeconds / smoothingSeconds)
        let error = level - targetSeconds
        let slew = slewPerSecond * elapsedSeconds
        // The integral grows only while the correction can follow it: integrating while the clamp or the slew holds
        // (a buffer far from its target at the start) would overshoot for minutes after (measured: 2 % for 60 s).
        let unclamped = proportional * error + integral * (accumulated + error * elapsedSeconds)
        if abs(unclamped) <= maximumCorrection && abs(unclamped - correction) <= slew {
            accumulated += error * elapsedSeconds
        }
        let wanted = min(max(proportional * error + integral * accumulated, -maximumCorrection), maximumCorrection)
        correction += min(max(wanted - correction, -slew), slew)
        return correction
    }

    /// The level is not the clocks' doing (a source that delivers in bursts, such as HLS segments, held back by a full
    /// buffer): the smoothed level starts again from here and the correction stays as it is.
    public mutating func hold(bufferedSeconds: Double) {
        level = bufferedSeconds
    }
}

/// How long to wait before connecting again after the `failures`-th failure in a row: the source's first wait,
/// doubled each time up to its maximum.
public func reconnectDelay(afterFailures failures: Int, tuning: RelayTuning) -> Double {
    let doublings = Double(max(0, min(failures - 1, 16)))
    return min(tuning.reconnectSeconds * pow(2, doublings), max(tuning.reconnectSeconds, tuning.reconnectMaxSeconds))
}

/// Runs of sound and of silence in an upstream's audio, from its level in short windows.
public struct LevelRuns: Sendable, Hashable {
    public let thresholdDB: Double
    public private(set) var soundSeconds = 0.0
    public private(set) var silentSeconds = 0.0
    /// The last window's level, dBFS.
    public private(set) var levelDB = -Double.infinity

    public init(thresholdDB: Double) { self.thresholdDB = thresholdDB }

    /// Adds a window of `seconds` whose RMS level was `levelDB`.
    public mutating func add(levelDB: Double, seconds: Double) {
        self.levelDB = levelDB
        if levelDB >= thresholdDB {
            soundSeconds += seconds
            silentSeconds = 0
        } else {
            silentSeconds += seconds
            soundSeconds = 0
        }
    }

    /// A new connection: nothing heard yet.
    public mutating func reset() {
        soundSeconds = 0
        silentSeconds = 0
        levelDB = -.infinity
    }
}

/// How a relay's rows close: the relay's own row counts the upstream heard; each fallback row says why it aired and
/// how it stopped. Pure, so that every figure a report reads is decided here.
public enum RelayRows {
    /// Seconds relayed below this part of the plan are not noticed (the fades, a switch's few milliseconds).
    public static let noticedSeconds = 1.0

    /// The relay row's closing, from the engine's closing of the item (its outcome for the slot as a whole: a stop, a
    /// preemption, the hard end) and the seconds the upstream was heard. A relay heard for less than it aired is
    /// `truncated`, with the first fallback's reason.
    public static func closing(_ item: RowClosing, relayedSeconds: Double, firstFallback: Reason?) -> RowClosing {
        var closing = item
        let aired = item.airedSeconds
        closing.airedSeconds = relayedSeconds
        guard item.outcome == .completed || item.outcome == .truncated else { return closing }
        if relayedSeconds <= 0, let firstFallback {
            closing.outcome = .failed
            closing.reason = firstFallback
        } else if relayedSeconds < aired - noticedSeconds, let firstFallback {
            closing.outcome = .truncated
            closing.reason = closing.reason ?? firstFallback
        }
        closing.lostSeconds = max(item.lostSeconds, aired - relayedSeconds)
        return closing
    }

    /// A fallback row's closing: whole when its file ended, `truncated` when the upstream returned (`relay.returned`)
    /// or the relay ended (the slot's end, a stop), `failed` when its file could not be read.
    public static func fallbackClosing(heardSeconds: Double, plannedSeconds: Double, returned: Bool, failed: Reason?,
                                       lossReason: Reason) -> RowClosing {
        let short = heardSeconds < plannedSeconds - ProgramTolerances().shortFileSeconds
        let outcome: AiringOutcome
        let reason: Reason
        if let failed {
            (outcome, reason) = (.failed, failed)
        } else if returned {
            (outcome, reason) = (.truncated, Reason(.relayReturned))
        } else if short {
            (outcome, reason) = (.truncated, lossReason)
        } else {
            (outcome, reason) = (.completed, lossReason)
        }
        return RowClosing(outcome: outcome, reason: reason, airedSeconds: heardSeconds,
                          lostSeconds: max(0, plannedSeconds - heardSeconds), policy: nil, wasOnAir: true)
    }
}
