import Foundation
import LoaCore

/// The station's one output engine: a long-lived output thread that takes commands (MPD's `AudioOutputControl` is
/// the model). It carries out what each program's `ProgramStateMachine` decides: airs items on their second, fades
/// them for a preemption or a stop, retries a lost device. It never touches the database: it reports events, and
/// whoever listens writes the log.
public final class PlayoutEngine: @unchecked Sendable {
    public let format: AudioFormat
    /// How often a lost device is tried again.
    public let retryInterval: Double
    /// How long the device may go without playing anything it holds before it is treated as failed.
    public let stallTimeout: Double
    let clock: any WallClock
    private let makeOutput: @Sendable () -> any AudioOutput
    private let condition = NSCondition()
    /// Commands not yet taken by the output thread, in order.
    private var commands: [Command] = []
    /// Whether the output thread is airing a request.
    private var busy = false
    /// Set for good by `shutdown`: whatever is handed over afterwards is reported skipped.
    private var isShutDown = false
    private var thread: Thread?

    /// What the output thread is told.
    enum Command {
        /// Air after whatever is queued before it.
        case play(Request)
        /// Air now, above what is on air.
        case preempt(Request)
        /// Fade what is on air; skip what is queued up to the moment the engine falls idle.
        case stop
    }

    final class Request: @unchecked Sendable {
        let program: PlayoutProgram
        let events: @Sendable (PlayoutEvent) -> Void
        let done: @Sendable () -> Void
        init(program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void, done: @escaping @Sendable () -> Void) {
            self.program = program
            self.events = events
            self.done = done
        }
    }

    public init(format: AudioFormat = .broadcast, clock: any WallClock, retryInterval: Double = 0.5, stallTimeout: Double = 1.0,
                makeOutput: @escaping @Sendable () -> any AudioOutput) {
        self.format = format
        self.clock = clock
        self.retryInterval = retryInterval
        self.stallTimeout = stallTimeout
        self.makeOutput = makeOutput
    }

    /// Airs `program` after whatever is queued before it; returns when its last sample has been heard.
    /// `events` is called on the output thread: it must not block.
    public func play(_ program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            send(.play(Request(program: program, events: events, done: { done.resume() })))
        }
    }

    /// Airs `program` now, above anything on air: the item on air fades out and its row is closed interrupted,
    /// and the program it belonged to goes on afterwards per its lateness policy.
    public func preempt(_ program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            preempt(program, events: events) { done.resume() }
        }
    }

    /// `preempt` for callers on a thread: `completion` runs on the output thread once the program is heard.
    public func preempt(_ program: PlayoutProgram, events: @escaping @Sendable (PlayoutEvent) -> Void,
                        completion: @escaping @Sendable () -> Void) {
        send(.preempt(Request(program: program, events: events, done: completion)))
    }

    /// Ends what is on air with a short fade; every program queued before the engine falls idle is reported
    /// skipped. The engine stays usable: a `play` after that airs as usual.
    public func stop() {
        condition.withLock {
            guard busy || commands.contains(where: \.isRequest) else { return }
            commands.append(.stop)
            condition.broadcast()
        }
    }

    /// Stops, and ends the output thread once it is idle; anything handed over later is reported skipped.
    public func shutdown() {
        condition.withLock { isShutDown = true }
        send(.stop)
    }

    private func send(_ command: Command) {
        condition.lock()
        commands.append(command)
        if thread == nil && command.isRequest {
            let thread = Thread { [self] in outputLoop() }
            thread.name = "loa-output"
            thread.qualityOfService = .userInteractive
            self.thread = thread
            thread.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    /// The output thread: takes requests until shutdown; the device stays open while programs follow
    /// each other and closes when there is nothing left to air.
    private func outputLoop() {
        var timeline = DeviceTimeline(engine: self)
        while true {
            condition.lock()
            busy = false
            // A stop skips everything queued up to the moment the engine falls idle, so a program handed over just
            // after a shutdown began cannot air whole; after that the engine is usable again.
            if !commands.contains(where: \.isRequest) { commands.removeAll() }
            while commands.isEmpty && !isShutDown { condition.wait() }
            guard let request = takeRequest() else {
                commands.removeAll()
                thread = nil
                condition.unlock()
                timeline.close()
                return
            }
            busy = true
            condition.unlock()
            if stopPending {
                ProgramRun.skipWhole(request, reason: Reason(.stoppedBeforeStart))
                continue
            }
            var run = ProgramRun(request: request, timeline: timeline)
            run.execute()
            timeline = run.timeline
            if !hasWork { timeline.finish() }
        }
    }

    /// The next request to air, preemptions first; under the lock.
    private func takeRequest() -> Request? {
        if let index = commands.firstIndex(where: { if case .preempt = $0 { true } else { false } }),
           case let .preempt(request) = commands.remove(at: index) { return request }
        if let index = commands.firstIndex(where: { if case .play = $0 { true } else { false } }),
           case let .play(request) = commands.remove(at: index) { return request }
        return nil
    }

    var hasWork: Bool { condition.withLock { commands.contains(where: \.isRequest) } }

    var stopPending: Bool { condition.withLock { isShutDown || commands.contains(where: \.isStop) } }

    /// What the output thread checks between chunks.
    enum Interruption: Equatable { case none, stop, preempt(Reason) }

    var interruption: Interruption {
        condition.withLock {
            if isShutDown || commands.contains(where: \.isStop) { return .stop }
            for case let .preempt(request) in commands { return .preempt(PlayoutEngine.preemptionReason(request.program)) }
            return .none
        }
    }

    /// Why the item on air gave way, naming what took the air: an announcement is not an emergency.
    static func preemptionReason(_ program: PlayoutProgram) -> Reason {
        guard let cue = program.cues.first else { return Reason(.preemptedAnnouncement) }
        return Reason(cue.item.kind == .emergency ? .preemptedEmergency : .preemptedAnnouncement, cue.item.segment.title)
    }

    func takePreemption() -> Request? {
        condition.withLock {
            guard let index = commands.firstIndex(where: { if case .preempt = $0 { true } else { false } }),
                  case let .preempt(request) = commands.remove(at: index) else { return nil }
            return request
        }
    }

    /// Takes every queued program after a stop: each of its cues is reported skipped.
    func drainQueueAfterStop() -> [Request] {
        condition.withLock {
            guard isShutDown || commands.contains(where: \.isStop) else { return [] }
            var drained: [Request] = []
            for case let .play(request) in commands { drained.append(request) }
            for case let .preempt(request) in commands { drained.append(request) }
            // The stop stays until the engine is idle: a program it interrupted, and one handed over meanwhile, see it.
            commands.removeAll(where: \.isRequest)
            return drained
        }
    }

    /// Waits up to `seconds`; a command wakes a wait in progress. A wait begun after a stop still waits,
    /// so the stop fade is paced by the device rather than spun.
    func wait(_ seconds: Double) {
        guard seconds > 0 else { return }
        condition.lock()
        clock.wait(seconds, on: condition)
        condition.unlock()
    }

    func newOutput() -> any AudioOutput { makeOutput() }

    /// How much later than predicted the device may start playing before it counts as a dropout the
    /// loudspeaker made heard: beyond the jitter of reading a delay and the clock one after the other.
    static let dropoutTolerance = 0.03
    /// How far the device's own delay may disagree with the timeline before the timeline follows it.
    static let timelineJitter = 0.02
    /// How long the device's delay must hold still after a dropout before its length is taken as measured.
    static let dropoutSettleSeconds = 0.5
    /// How often an airing's progress is reported: what a crash can lose from the log. Each report is a row update
    /// on the log's writer queue, never on this thread, committed without an fsync of its own.
    public static let progressInterval = 1.0
}

extension PlayoutEngine.Command {
    var isRequest: Bool {
        switch self {
        case .play, .preempt: true
        case .stop: false
        }
    }

    var isStop: Bool {
        if case .stop = self { true } else { false }
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
