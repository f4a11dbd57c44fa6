import Foundation
import LoaAudio
import LoaCore

/// `loa-bench engine-join FILE SECONDS`: hands the playout engine a program whose one item (FILE) began SECONDS ago, so
/// that its state machine joins it where the clock is, on the `null` discard output, and prints
/// `engine_join DECISION_TO_FIRST_SAMPLE_MS FROM_SECONDS`: from the hand-over (the decision) to the first sample
/// written, as the engine reports it, and where in the file that sample was.
func runEngineJoinBench(_ arguments: [String]) -> Int32 {
    guard arguments.count == 3, let seconds = Double(arguments[2]) else {
        FileHandle.standardError.write(Data("usage: loa-bench engine-join FILE SECONDS\n".utf8))
        return 2
    }
    let clock = BenchClock()
    let path = arguments[1]
    let length: Double
    do { length = try SndFileDecoder.probe(path: path).durationSeconds } catch {
        FileHandle.standardError.write(Data("loa-bench: \(error)\n".utf8))
        return 1
    }
    let began = clock.now().addingTimeInterval(-seconds)
    let segment = Segment(id: "join", title: "join", path: path, durationSeconds: length)
    let program = PlayoutProgram(cues: [PlayoutCue(item: PlannedItem(segment: segment, offsetSeconds: 0, startsAt: began), path: path)],
                                 hardEnd: began.addingTimeInterval(length), policy: .join)
    let engine = PlayoutEngine(clock: clock) { DiscardOutput() }
    let result = JoinResult()
    let done = DispatchSemaphore(value: 0)
    let handedOver = ContinuousClock.now
    engine.preempt(program, events: { event in
        if case let .starting(_, _, from, _, _) = event {
            result.set(ContinuousClock.now - handedOver, from)
            engine.stop()
        }
    }, completion: { done.signal() })
    done.wait()
    engine.shutdown()
    guard let (elapsed, from) = result.value else { return 1 }
    print("engine_join \(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15) \(from)")
    return 0
}

/// The real clock, for the bench (a composition root of its own).
struct BenchClock: WallClock {
    func now() -> Date { Date() }
    func wait(_ seconds: Double, on condition: NSCondition) { _ = condition.wait(until: Date().addingTimeInterval(seconds)) }
    func monotonicSeconds() -> Double { ProcessInfo.processInfo.systemUptime }
    func sleep(until deadline: Date) async throws { try await Task.sleep(for: .seconds(max(0, deadline.timeIntervalSinceNow))) }
}

final class JoinResult: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (Duration, Double)?
    func set(_ elapsed: Duration, _ from: Double) { lock.withLock { if stored == nil { stored = (elapsed, from) } } }
    var value: (Duration, Double)? { lock.withLock { stored } }
}
