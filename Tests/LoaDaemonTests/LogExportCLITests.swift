import Foundation
import LoaCore
import LoaStore
import Testing

@Suite("loa log export and loa verify as processes")
struct LogExportCLITests {
    /// A station with its own signing key in `loa.toml` and three finished airings on 2026-11-12 (station time).
    static func stationWithAirings(named name: String = "UBND xã Thử Nghiệm",
                                   pillars: [Pillar] = [.kinhTe, .kinhTe, .kinhTe]) async throws -> (ProcessStation, AiringLog, [Int64]) {
        let station = try ProcessStation(device: "null")
        let made = try await station.loaCommand(["keygen", "--out", station.folder.appendingPathComponent("khoa/xa").path])
        try #require(made.status == 0, "\(made.err)")
        let config = URL(fileURLWithPath: station.config)
        try (String(contentsOf: config, encoding: .utf8) + "\nsigning_key = \"khoa/xa.key\"\n").write(to: config, atomically: true, encoding: .utf8)
        let log = AiringLog(try StationDatabase(path: station.folder.appendingPathComponent("loa.sqlite")))
        let start = Date(timeIntervalSince1970: 1_794_478_500) // 2026-11-12 17:15 in Hà Nội
        var ids: [Int64] = []
        for (n, title) in ["Hội nghị cấp cao ASEAN", "Phòng chống bão lũ", "Nông sản và RCEP"].enumerated() {
            let t = start.addingTimeInterval(Double(n) * 120)
            let id = try log.insert(AiringRecord(slot: "asean-toi", slotStartsAt: start, segmentID: "tin\(n)", title: title,
                                                 pillar: pillars[n], path: "tin\(n).mp3", scheduledAt: t, startedAt: t,
                                                 outcome: .started, device: "null", station: name))
            try log.finish(id: id, outcome: .completed, endedAt: t.addingTimeInterval(90), airedSeconds: 90, reason: nil, xruns: 0)
            ids.append(id)
        }
        return (station, log, ids)
    }

    func verify(_ station: ProcessStation, _ file: String, key: String? = nil) async throws -> (status: Int32, out: String, err: String) {
        try await Harness.run(station.loa.path, ["verify", file, "--key", key ?? station.folder.appendingPathComponent("khoa/xa.pub").path])
    }

    @Test("An export signed with the station's key verifies at the district; a changed signature or another key fails")
    func exportVerifies() async throws {
        let (station, _, _) = try await Self.stationWithAirings()
        for format in ["csv", "ndjson"] {
            let file = station.folder.appendingPathComponent("xa.\(format)").path
            let exported = try await station.loaCommand(["log", "export", "--from", "2026-11-12", "--to", "2026-11-12", "--format", format,
                                                   "--out", file])
            #expect(exported.status == 0 && exported.out.contains("Đã xuất 3 lượt phát"), "\(exported.out)\(exported.err)")
            let checked = try await verify(station, file)
            #expect(checked.status == 0 && checked.out.hasPrefix("ok: 3 lượt phát"), "\(checked.out)\(checked.err)")
        }
        let file = station.folder.appendingPathComponent("xa.csv").path
        let other = try await station.loaCommand(["keygen", "--out", station.folder.appendingPathComponent("khoa/khac").path])
        try #require(other.status == 0)
        let wrongKey = try await verify(station, file, key: station.folder.appendingPathComponent("khoa/khac.pub").path)
        #expect(wrongKey.status == 1 && wrongKey.err.contains("chữ ký sai"), "\(wrongKey.err)")
        // A signature of other bytes by the right key.
        let ndjsonSignature = try String(contentsOfFile: station.folder.appendingPathComponent("xa.ndjson.sig").path, encoding: .utf8)
        try ndjsonSignature.write(toFile: file + ".sig", atomically: true, encoding: .utf8)
        let changed = try await verify(station, file)
        #expect(changed.status == 1 && changed.err.contains("chữ ký sai") && !changed.err.contains("\n\n"), "\(changed.err)")
    }

    @Test("A row edited in the database and exported again is named by loa verify, though the file is signed")
    func editedRowNamed() async throws {
        let (station, log, ids) = try await Self.stationWithAirings()
        let edit = try await Harness.run("/usr/bin/sqlite3", [log.database.path,
                                                       "UPDATE airing SET aired_seconds = 900 WHERE id = \(ids[1])"])
        try #require(edit.status == 0, "\(edit.err)")
        let file = station.folder.appendingPathComponent("sua.csv").path
        #expect(try await station.loaCommand(["log", "export", "--out", file]).status == 0)
        let checked = try await verify(station, file)
        #expect(checked.status == 1, "\(checked.out)")
        #expect(checked.err.contains("dòng 3 (lượt phát #\(ids[1])") && checked.err.contains("đã bị sửa"), "\(checked.err)")
    }

    @Test("loa report --merge reports each commune's verified export and their total; an edited export or a wrong key stops it")
    func mergedReport() async throws {
        let (dongHoa, _, _) = try await Self.stationWithAirings(named: "UBND xã Đông Hòa")
        let (anPhu, anPhuLog, anPhuIDs) = try await Self.stationWithAirings(named: "UBND xã An Phú", pillars: [.kinhTe, .vanHoaXaHoi, .chinhTriAnNinh])
        let first = dongHoa.folder.appendingPathComponent("dong-hoa.csv").path, second = anPhu.folder.appendingPathComponent("an-phu.ndjson").path
        #expect(try await dongHoa.loaCommand(["log", "export", "--format", "csv", "--out", first]).status == 0)
        #expect(try await anPhu.loaCommand(["log", "export", "--format", "ndjson", "--out", second]).status == 0)
        let keys = [dongHoa.folder.appendingPathComponent("khoa/xa.pub").path, anPhu.folder.appendingPathComponent("khoa/xa.pub").path]
        struct Row: Decodable { let key: String, airings: Int, aired_seconds: Double }
        struct Report: Decodable { let station: String, from: String, to: String, rows: [Row], total: Row }
        struct Merged: Decodable { let stations: [Report], total: Report }
        // At the district: no loa.toml of its own.
        let merged = try await Harness.run(dongHoa.loa.path, ["report", "--merge", first, second, "--key"] + keys + ["--format", "json"],
                                     in: FileManager.default.temporaryDirectory)
        try #require(merged.status == 0, "\(merged.err)")
        let report = try JSONDecoder().decode(Merged.self, from: Data(merged.out.utf8))
        #expect(report.stations.map(\.station) == ["UBND xã An Phú", "UBND xã Đông Hòa"])
        #expect(report.stations.map(\.total.airings) == [3, 3] && report.total.total.airings == 6 && report.total.total.aired_seconds == 540)
        #expect(report.total.from == "2026-11-12" && report.total.to == "2026-11-12")
        #expect(report.total.rows.first { $0.key == "kinh-te" }?.airings == 4)
        #expect(report.stations[0].rows.first { $0.key == "van-hoa-xa-hoi" }?.airings == 1)

        // Without keys the chains are still checked, and the operator is told the signatures were not.
        let unsigned = try await Harness.run(dongHoa.loa.path, ["report", "--merge", first, second], in: FileManager.default.temporaryDirectory)
        #expect(unsigned.status == 0 && unsigned.err.contains("\(first): chưa kiểm chữ ký"), "\(unsigned.err)")
        let wrongKey = try await Harness.run(dongHoa.loa.path, ["report", "--merge", first, second, "--key", keys[0]],
                                       in: FileManager.default.temporaryDirectory)
        #expect(wrongKey.status == 1 && wrongKey.err == "loa: \(second): chữ ký sai, hoặc không phải của khóa nào trong --key\n", "\(wrongKey.err)")
        // A row edited in one commune's database and exported again: the merge names the file and the row.
        let edit = try await Harness.run("/usr/bin/sqlite3", [anPhuLog.database.path, "UPDATE airing SET outcome = 'completed', aired_seconds = 5 WHERE id = \(anPhuIDs[2])"])
        try #require(edit.status == 0)
        #expect(try await anPhu.loaCommand(["log", "export", "--format", "ndjson", "--out", second]).status == 0)
        let edited = try await Harness.run(dongHoa.loa.path, ["report", "--merge", first, second, "--key"] + keys,
                                     in: FileManager.default.temporaryDirectory)
        #expect(edited.status == 1 && edited.err.contains("\(second): dòng 3 (lượt phát #\(anPhuIDs[2])") && edited.err.contains("đã bị sửa"),
                "\(edited.err)")
    }

    @Test("loa log --help prints its whole help, both subcommands, and exits 0")
    func helpIsWhole() async throws {
        let help = try await Harness.run(try Harness.loaBinary().path, ["log", "--help"])
        #expect(help.status == 0 && help.out.contains("show (mặc định)") && help.out.contains("export"), "\(help.out)\(help.err)")
    }

    @Test("Without signing_key in loa.toml, export says how to make one and writes nothing")
    func exportNeedsAKey() async throws {
        let station = try ProcessStation(device: "null")
        _ = try StationDatabase(path: station.folder.appendingPathComponent("loa.sqlite"))
        let file = station.folder.appendingPathComponent("xa.csv").path
        let exported = try await station.loaCommand(["log", "export", "--out", file])
        #expect(exported.status == 1 && exported.err.contains("signing_key") && exported.err.contains("loa keygen"), "\(exported.err)")
        #expect(!FileManager.default.fileExists(atPath: file))
    }
}
