import Foundation
import LoaCore

/// The real clock: the only place Loa reads the system time or sleeps on it.
struct SystemClock: WallClock {
    /// Long sleeps are taken in steps and re-aimed at the wall clock each time, so an NTP correction
    /// or a suspend during a night's sleep moves the wake-up with the clock instead of missing the slot.
    static let longestStep = 30.0

    func now() -> Date { Date() }

    func wait(_ seconds: Double, on condition: NSCondition) {
        _ = condition.wait(until: Date().addingTimeInterval(seconds))
    }

    /// CLOCK_BOOTTIME: it counts a suspend, as the wall clock does, but never steps.
    func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_BOOTTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    func sleep(until deadline: Date) async throws {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return }
            try await ContinuousClock().sleep(for: .seconds(min(remaining, Self.longestStep)), tolerance: .milliseconds(5))
        }
    }
}
