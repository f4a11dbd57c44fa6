import Foundation
import LoaCore

/// The wall clock, for tests against real servers and real sound devices, which run on it.
public struct WallTimeClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(until deadline: Date) async throws {
        let remaining = deadline.timeIntervalSinceNow
        if remaining > 0 { try await Task.sleep(for: .seconds(remaining)) }
    }
    public func wait(_ seconds: Double, on condition: NSCondition) { _ = condition.wait(until: Date().addingTimeInterval(seconds)) }
    public func monotonicSeconds() -> Double { ProcessInfo.processInfo.systemUptime }
}
