import Foundation
import LoaCore
import Testing

@Suite("Reports")
struct ReportTests {
    func record(_ segment: String, _ pillar: Pillar?, _ outcome: AiringOutcome, _ seconds: Double) -> AiringRecord {
        AiringRecord(slot: "s", slotStartsAt: Date(timeIntervalSince1970: 0), segmentID: segment, title: segment, pillar: pillar,
                     path: segment, scheduledAt: Date(timeIntervalSince1970: 0), airedSeconds: seconds, outcome: outcome)
    }

    @Test("By pillar: completed and truncated count as airings, every pillar shows even at zero")
    func byPillar() throws {
        let day = try #require(LocalDate(parsing: "2026-11-12"))
        let report = ReportBuilder.build(records: [
            record("a", .kinhTe, .completed, 60), record("b", .kinhTe, .truncated, 30),
            record("c", .chinhTriAnNinh, .failed, 0), record("d", .kinhTe, .skipped, 0),
        ], from: day, to: day, by: .pillar)
        let kinhTe = try #require(report.rows.first { $0.key == "kinh-te" })
        #expect(kinhTe.completed == 1 && kinhTe.truncated == 1 && kinhTe.airedSeconds == 90 && kinhTe.label == "Trụ cột Kinh tế")
        #expect(report.rows.first { $0.key == "van-hoa-xa-hoi" }?.airings == 0)
        #expect(report.rows.first { $0.key == "chinh-tri-an-ninh" }?.failed == 1)
        #expect(report.total.airings == 2)
    }

    @Test("Airings the monitor confirmed heard and found silent are counted; rows without a verdict and non-airings are not")
    func confirmed() throws {
        let day = try #require(LocalDate(parsing: "2026-11-12"))
        func judged(_ outcome: AiringOutcome, _ confirmed: OnAirConfirmation?) -> AiringRecord {
            var r = record("a", .kinhTe, outcome, 60)
            r.confirmed = confirmed
            return r
        }
        let report = ReportBuilder.build(records: [
            judged(.completed, .heard), judged(.truncated, .heard), judged(.completed, .silent), judged(.completed, nil),
            judged(.interrupted, .heard),
        ], from: day, to: day, by: .pillar)
        #expect(report.total.confirmedHeard == 2 && report.total.confirmedSilent == 1 && report.total.monitored == 3)
        #expect(report.rows.first { $0.key == "kinh-te" }?.confirmedHeard == 2)
        let unmonitored = ReportBuilder.build(records: [record("a", .kinhTe, .completed, 60)], from: day, to: day, by: .pillar)
        #expect(unmonitored.total.monitored == 0)
    }

    @Test("By segment: one row per segment")
    func bySegment() throws {
        let day = try #require(LocalDate(parsing: "2026-11-12"))
        let report = ReportBuilder.build(records: [record("a", .kinhTe, .completed, 60), record("a", .kinhTe, .completed, 60)],
                                         from: day, to: day, by: .segment)
        #expect(report.rows.map(\.key) == ["a"])
        #expect(report.rows[0].completed == 2)
    }
}
