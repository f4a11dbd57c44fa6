import Foundation

/// The station's notion of now. Injected everywhere; only the composition root reads the system clock.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Suspends until `deadline` or until the task is cancelled.
    func sleep(until deadline: Date) async throws
}
