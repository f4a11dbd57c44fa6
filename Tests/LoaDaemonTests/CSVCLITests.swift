import Foundation
import LoaCore
import LoaStore
import Testing

@Suite("CSV from the real binary, read back by Python's csv module")
struct CSVCLITests {
    /// What Python's `csv` module reads from each file: whether every row has the header's number of fields, and the
    /// rows as header → field.
    struct ReadBack: Decodable { let ragged: [Int], rows: [[String: String]] }

    static func readBack(_ files: [URL]) async throws -> [ReadBack] {
        let read = try await Harness.run("/usr/bin/python3", ["-c", """
            import csv, json, sys
            out = []
            for path in sys.argv[1:]:
                rows = list(csv.reader(open(path, encoding='utf-8-sig', newline='')))
                ragged = [n for n, row in enumerate(rows) if len(row) != len(rows[0])]
                out.append({'ragged': ragged, 'rows': [dict(zip(rows[0], row)) for row in rows[1:]]})
            print(json.dumps(out, ensure_ascii=False))
            """] + files.map(\.path))
        try #require(read.status == 0, "\(read.err)")
        return try JSONDecoder().decode([ReadBack].self, from: Data(read.out.utf8))
    }

    @Test("Rows of a station named with CRLF and titles with CR, LF, CRLF, a comma and a quote: log, report and export read back whole; loa.toml refuses such a name")
    func lineBreaksInFields() async throws {
        let station = "Xã\r\nHai"
        let (process, log, _) = try await LogExportCLITests.stationWithAirings(named: station)
        // loa.toml refuses such a name (it heads every report); rows may still carry one (an export from elsewhere, an
        // older log), and every CSV must keep them whole.
        let config = URL(fileURLWithPath: process.config)
        let original = try String(contentsOf: config, encoding: .utf8)
        try original.replacingOccurrences(of: "station = \"UBND xã Thử Nghiệm\"", with: "station = \"Xã\\r\\nHai\"")
            .write(to: config, atomically: true, encoding: .utf8)
        let refused = try await process.loaCommand(["schedule", "validate"])
        #expect(refused.status == 1 && refused.err.contains("loa.toml:1: “station” phải là một dòng chữ"), "\(refused.err)")
        try original.write(to: config, atomically: true, encoding: .utf8)
        let titles = ["Tin\rsáng", "Tin\nchiều", "Tin\r\ntối", "Lúa, ngô và “RCEP”", "Bão \"Yagi\"\r\nđã qua, \"an toàn\""]
        let start = Date(timeIntervalSince1970: 1_794_478_500 + 600) // 2026-11-12 17:25 in Hà Nội, after the three airings
        for (n, title) in titles.enumerated() {
            let t = start.addingTimeInterval(Double(n) * 120)
            let id = try log.insert(AiringRecord(slot: "asean-toi", slotStartsAt: start, segmentID: "moi\(n)", title: title,
                                                 pillar: .kinhTe, path: "moi\(n).mp3", scheduledAt: t, startedAt: t,
                                                 outcome: .started, device: "null", station: station))
            try log.finish(id: id, outcome: .completed, endedAt: t.addingTimeInterval(90), airedSeconds: 90, reason: nil, xruns: 0)
        }
        let all = ["Hội nghị cấp cao ASEAN", "Phòng chống bão lũ", "Nông sản và RCEP"] + titles
        let day = ["--from", "2026-11-12", "--to", "2026-11-12"]

        let logFile = process.folder.appendingPathComponent("log.csv")
        let shown = try await process.loaCommand(["log", "--format", "csv"] + day)
        try #require(shown.status == 0, "\(shown.err)")
        try Data(shown.out.utf8).write(to: logFile)
        let reportFile = process.folder.appendingPathComponent("report.csv")
        let reported = try await process.loaCommand(["report", "--format", "csv", "--by", "segment"] + day)
        try #require(reported.status == 0, "\(reported.err)")
        try Data(reported.out.utf8).write(to: reportFile)
        let exportFile = process.folder.appendingPathComponent("export.csv")
        let exported = try await process.loaCommand(["log", "export", "--format", "csv", "--out", exportFile.path] + day)
        try #require(exported.status == 0, "\(exported.err)")

        let read = try await Self.readBack([logFile, reportFile, exportFile])
        try #require(read.count == 3)
        for (name, file) in zip(["log", "report", "log export"], read) {
            #expect(file.ragged.isEmpty, "\(name): rows \(file.ragged) do not have the header's number of fields")
        }
        #expect(read[0].rows.map { $0["title"] } == all, "\(read[0].rows.map { $0["title"] ?? "" })")
        #expect(read[0].rows.allSatisfy { $0["station"] == station })
        let segments = read[1].rows.filter { $0["Nhóm theo"] == "Bản tin" }
        #expect(Set(segments.compactMap { $0["Tên"] }) == Set(all), "\(segments.map { $0["Tên"] ?? "" })")
        #expect(read[1].rows.count == all.count + 1 && read[1].rows.allSatisfy { $0["Đài"] == "UBND xã Thử Nghiệm" })
        #expect(read[2].rows.map { $0["title"] } == all, "\(read[2].rows.map { $0["title"] ?? "" })")
        #expect(read[2].rows.allSatisfy { $0["station"] == station })
        // The export is still what `loa verify` checks, field for field.
        let verified = try await Harness.run(process.loa.path, ["verify", exportFile.path, "--key",
                                                                process.folder.appendingPathComponent("khoa/xa.pub").path])
        #expect(verified.status == 0, "\(verified.out)\(verified.err)")
    }
}
