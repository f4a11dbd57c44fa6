import Foundation

/// The station's notion of now. Injected everywhere; only the composition root reads the system clock.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Suspends until `deadline` or until the task is cancelled.
    func sleep(until deadline: Date) async throws
    /// Blocks the calling thread (the output thread) for up to `seconds`, or until `condition` is signalled.
    /// The caller holds `condition`'s lock. A virtual clock moves its time instead of waiting.
    func wait(_ seconds: Double, on condition: NSCondition)
    /// Seconds on a clock that never steps (boot time): a jump of the wall clock against it is a clock step.
    func monotonicSeconds() -> Double
}
