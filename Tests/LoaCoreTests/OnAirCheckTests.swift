import Foundation
import LoaCore
import Testing

@Suite("On-air check: level windows to heard, silent or nothing")
struct OnAirCheckTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// 100 ms windows from `t0 + from` seconds, one per level.
    func windows(from: Double = 0, _ levels: [Double]) -> [MonitorWindow] {
        levels.enumerated().map { n, dbfs in
            MonitorWindow(start: t0.addingTimeInterval(from + Double(n) * 0.1), seconds: 0.1, dbfs: dbfs)
        }
    }

    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test("Sound throughout is heard at its level; digital silence is silent at the floor")
    func heardAndSilent() throws {
        let check = OnAirCheck()
        let heard = try #require(check.verdict(windows(Array(repeating: -12, count: 30)), from: at(0), to: at(3)))
        #expect(heard.confirmed == .heard)
        #expect(abs(heard.dbfs - -12) < 0.001)
        let silent = try #require(check.verdict(windows(Array(repeating: -.infinity, count: 30)), from: at(0), to: at(3)))
        #expect(silent == MonitorVerdict(confirmed: .silent, dbfs: OnAirCheck.floorDBFS))
    }

    @Test("Only the windows inside the item count: the items before and after do not lend it their sound")
    func onlyTheItem() throws {
        // 2 s of sound, 3 s of silence (the item), 2 s of sound.
        let line = windows(Array(repeating: -10, count: 20) + Array(repeating: -90, count: 30) + Array(repeating: -10, count: 20))
        #expect(OnAirCheck().verdict(line, from: at(2), to: at(5))?.confirmed == .silent)
        #expect(OnAirCheck().verdict(line, from: at(0), to: at(2))?.confirmed == .heard)
        // A window straddling the item's start counts for the part inside it.
        let straddling = try #require(OnAirCheck().verdict(line, from: at(1.95), to: at(2.95)))
        #expect(straddling.confirmed == .silent)
        #expect(abs(straddling.dbfs - 10 * log10(0.05 * 0.1 + 0.95 * 1e-9)) < 0.01)
    }

    @Test("Speech with pauses is heard; a line with sound under a quarter of the time is silent")
    func pauses() {
        func share(_ loud: Int) -> OnAirConfirmation? {
            let pattern = (0..<40).map { $0 % 20 < loud ? -20.0 : -70.0 }
            return OnAirCheck().verdict(windows(pattern), from: at(0), to: at(4))?.confirmed
        }
        #expect(share(10) == .heard)
        #expect(share(6) == .heard)
        #expect(share(4) == .silent)
        #expect(share(0) == .silent)
    }

    @Test("The threshold is monitor_silence_dbfs: at or below it is silence")
    func threshold() {
        let line = windows(Array(repeating: -55, count: 20))
        #expect(OnAirCheck().verdict(line, from: at(0), to: at(2))?.confirmed == .silent)
        #expect(OnAirCheck(silenceDBFS: -60).verdict(line, from: at(0), to: at(2))?.confirmed == .heard)
        #expect(OnAirCheck(silenceDBFS: -55).verdict(line, from: at(0), to: at(2))?.confirmed == .silent)
    }

    @Test("No verdict, not silent, when the monitor captured under half of the item or the item never aired")
    func nothingToSay() {
        let check = OnAirCheck()
        // The monitor was down for the first 2.1 s of a 4 s item, and silent for the rest.
        #expect(check.verdict(windows(from: 2.1, Array(repeating: -120, count: 19)), from: at(0), to: at(4)) == nil)
        #expect(check.verdict(windows(from: 1.9, Array(repeating: -120, count: 21)), from: at(0), to: at(4))?.confirmed == .silent)
        #expect(check.verdict([], from: at(0), to: at(4)) == nil)
        #expect(check.verdict(windows([-10]), from: nil, to: nil) == nil)
        #expect(check.verdict(windows([-10]), from: at(0), to: at(0)) == nil)
    }

    @Test("A silent run counts back from the last window, stops at sound, at a gap and at the item's start")
    func silentRun() {
        let check = OnAirCheck()
        let line = windows(Array(repeating: -10, count: 10) + Array(repeating: -80, count: 35))
        #expect(abs(check.silentRun(line, since: at(0)) - 3.5) < 1e-6)
        #expect(abs(check.silentRun(line, since: at(2)) - 2.5) < 1e-6)
        #expect(check.silentRun(line + windows(from: 4.5, [-10]), since: at(0)) == 0)
        // The monitor missed a second: only the silence after the gap is known.
        let gapped = windows(Array(repeating: -80, count: 20)) + windows(from: 3, Array(repeating: -80, count: 10))
        #expect(abs(check.silentRun(gapped, since: at(0)) - 1) < 1e-6)
        #expect(check.silentRun([], since: at(0)) == 0)
    }
}
