import Foundation
import LoaCore

/// The real clock: the only place Loa reads the system time or sleeps on it.
struct SystemClock: WallClock {
    func now() -> Date { Date() }

    func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await ContinuousClock().sleep(for: .seconds(seconds), tolerance: .milliseconds(5))
    }
}
