import Foundation
import LoaCore
@testable import LoaStore
import Testing

@Suite("The airing log's hash chain and its export")
struct AiringChainTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loa-chain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    var path: URL { folder.appendingPathComponent("loa.sqlite") }

    func record(_ segment: String, at seconds: Double, outcome: AiringOutcome = .planned, title: String? = nil) -> AiringRecord {
        let t = Date(timeIntervalSince1970: 1_794_478_500 + seconds)
        return AiringRecord(slot: "asean-toi", slotStartsAt: t, segmentID: segment, title: title ?? "Bản tin \(segment), \"phát lại\"",
                            pillar: .kinhTe, campaign: "HNCC ASEAN 37", path: "\(segment).mp3", scheduledAt: t,
                            outcome: outcome, device: "pulse")
    }

    /// A log whose rows became final in every way a row can: finished after airing, closed as skipped,
    /// closed as interrupted after a crash, and written final (a dropped item). Returns it with the ids.
    /// Each step is checked as it happens: a row must be in the chain from the write that made it final.
    func finishedLog() throws -> (AiringLog, [Int64]) {
        let log = AiringLog(try StationDatabase(path: path))
        let ids = try log.insert([record("a", at: 0), record("b", at: 60), record("c", at: 120), record("d", at: 180)])
        #expect(try log.chain().isEmpty)
        try log.markStarted(id: ids[0], startedAt: Date(timeIntervalSince1970: 1_794_478_500.004), policy: nil)
        try log.finish(id: ids[0], outcome: .completed, endedAt: Date(timeIntervalSince1970: 1_794_478_560), airedSeconds: 60,
                       reason: nil, xruns: 1)
        #expect(try log.chain().count == 1)
        try log.markStarted(id: ids[1], startedAt: Date(timeIntervalSince1970: 1_794_478_560), policy: .join)
        _ = try log.closeAbandoned(reason: Reason(.daemonDied))
        #expect(try log.chain().count == 2)
        _ = try log.closePlanned(slot: "asean-toi", startsAt: Date(timeIntervalSince1970: 1_794_478_620), reason: Reason(.latePassed))
        #expect(try log.chain().count == 3)
        let dropped = try log.insert(record("e", at: 240, outcome: .failed))
        #expect(try log.chain().count == 4)
        return (log, ids + [dropped])
    }

    @Test("Instants are written as RFC 3339 in UTC to the millisecond, as Foundation writes them, from 1900 to 2100")
    func instantsAsFoundationWritesThem() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var state: UInt64 = 88_172_645_463_325_252
        for _ in 0..<20_000 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            // Whole milliseconds, so that neither side has a rounding to make.
            let milliseconds = Int64(state % 6_311_390_400_000) - 2_208_988_800_000
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            #expect(AiringChain.instant(date) == formatter.string(from: date), "\(milliseconds)")
        }
        #expect(AiringChain.instant(Date(timeIntervalSince1970: 1_794_478_500.004)) == "2026-11-12T10:15:00.004Z")
        #expect(AiringChain.threeDecimals(60) == "60.000" && AiringChain.threeDecimals(-0.25) == "-0.250" && AiringChain.threeDecimals(0.0004) == "0.000")
        #expect(AiringChain.threeDecimals(1234.5678) == "1234.568")
    }

    @Test("Every row that becomes final takes the next place in the chain, in the order it became final; planned rows wait")
    func rowsChainedAsTheyFinish() throws {
        let (log, ids) = try finishedLog()
        let chain = try log.chain()
        #expect(chain.map(\.seq) == [1, 2, 3, 4])
        #expect(chain.map { $0.record.id } == [ids[0], ids[1], ids[2], ids[4]])
        #expect(chain.first?.previous == AiringChain.origin)
        #expect(zip(chain.dropFirst(), chain).allSatisfy { $0.previous == $1.hash })
        // d is still planned: not in the chain until it ends.
        try log.finish(id: ids[3], outcome: .completed, endedAt: nil, airedSeconds: 60, reason: nil, xruns: 0)
        let last = try #require(try log.chain().last)
        #expect(last.seq == 5 && last.record.id == ids[3])
    }

    @Test("Progress is kept on a row still on air, and by the row a crash left started once it is closed; a final row is never changed")
    func progressKeptThroughACrash() throws {
        let log = AiringLog(try StationDatabase(path: path))
        let ids = try log.insert([record("a", at: 0), record("b", at: 60)])
        try log.markStarted(id: ids[0], startedAt: Date(timeIntervalSince1970: 1_794_478_500), policy: nil)
        try log.recordProgress(id: ids[0], airedSeconds: 5)
        try log.recordProgress(id: ids[0], airedSeconds: 10)
        #expect(try log.records().first?.airedSeconds == 10)
        _ = try log.closeAbandoned(reason: Reason(.daemonDied))
        let closed = try #require(try log.records().first)
        #expect(closed.outcome == .interrupted && closed.airedSeconds == 10)
        // A late report for a row already final would break its hash: it changes nothing.
        try log.recordProgress(id: ids[0], airedSeconds: 15)
        #expect(try log.records().first?.airedSeconds == 10)
        #expect(AiringExport.verify(AiringExport.encode(try log.chain(), format: .csv)) == .intact(rows: 1, first: 1, last: 1))
    }

    @Test("An untouched export verifies, as CSV and as NDJSON, and reads back with its diacritics")
    func untouchedExportVerifies() throws {
        let (log, _) = try finishedLog()
        for format in AiringExport.Format.allCases {
            let data = AiringExport.encode(try log.chain(), format: format)
            #expect(AiringExport.verify(data) == .intact(rows: 4, first: 1, last: 4), "\(format)")
            #expect(String(decoding: data, as: UTF8.self).contains(format == .csv ? "\"Bản tin a, \"\"phát lại\"\"\"" : #"Bản tin a, \"phát lại\""#))
        }
    }

    /// The export's lines, header first for CSV.
    func lines(_ log: AiringLog, _ format: AiringExport.Format) throws -> [String] {
        String(decoding: AiringExport.encode(try log.chain(), format: format), as: UTF8.self)
            .components(separatedBy: format == .csv ? "\r\n" : "\n").filter { !$0.isEmpty }
    }

    func verdict(_ lines: [String], _ format: AiringExport.Format) -> String {
        let text = lines.joined(separator: format == .csv ? "\r\n" : "\n") + (format == .csv ? "\r\n" : "\n")
        switch AiringExport.verify(Data(text.utf8)) {
        case .intact: return "intact"
        case let .broken(reason): return reason
        }
    }

    @Test("An edited field, a deleted row, an inserted row and swapped rows each fail and name the row", arguments: AiringExport.Format.allCases)
    func tamperingNamesTheRow(_ format: AiringExport.Format) throws {
        let (log, ids) = try finishedLog()
        let original = try lines(log, format)
        // CSV: line 1 is the header, the rows are lines 2…5; NDJSON: lines 1…4.
        let first = format == .csv ? 1 : 0

        var edited = original
        edited[first + 1] = edited[first + 1].replacingOccurrences(of: "interrupted", with: "completed")
        #expect(verdict(edited, format).contains("dòng \(first + 2) (lượt phát #\(ids[1])"), "\(verdict(edited, format))")
        #expect(verdict(edited, format).contains("đã bị sửa"))

        var deleted = original
        deleted.remove(at: first + 1)
        #expect(verdict(deleted, format).contains("dòng \(first + 2) (lượt phát #\(ids[2])"), "\(verdict(deleted, format))")
        #expect(verdict(deleted, format).contains("bị xóa"))

        var inserted = original
        inserted.insert(original[first + 1], at: first + 2)
        #expect(verdict(inserted, format).contains("dòng \(first + 3)"), "\(verdict(inserted, format))")
        #expect(verdict(inserted, format).contains("bị chèn"))

        var swapped = original
        swapped.swapAt(first + 1, first + 2)
        #expect(verdict(swapped, format).contains("dòng \(first + 2)"), "\(verdict(swapped, format))")
        #expect(verdict(swapped, format).contains("đổi chỗ"))

        #expect(verdict(original, format) == "intact")
    }

    @Test("Read in pieces of a few bytes (records across every boundary), an export verifies the same, and an edit fails at the same row",
          arguments: AiringExport.Format.allCases)
    func piecesVerifyTheSame(_ format: AiringExport.Format) throws {
        let (log, ids) = try finishedLog()
        let data = AiringExport.encode(try log.chain(), format: format)
        func inPieces(_ data: Data) -> AiringExport.Verdict {
            var verification = AiringExport.Verification()
            var offset = 0
            while offset < data.count {
                verification.feed(data.subdata(in: offset..<min(offset + 7, data.count)))
                offset += 7
            }
            return verification.verdict
        }
        #expect(inPieces(data) == .intact(rows: 4, first: 1, last: 4))
        let edited = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "interrupted", with: "completed").utf8)
        #expect(inPieces(edited) == AiringExport.verify(edited))
        guard case let .broken(reason) = inPieces(edited) else { Issue.record("edit not caught"); return }
        #expect(reason.contains("lượt phát #\(ids[1])"), "\(reason)")
    }

    @Test("A row edited in the database after it finished is caught when exported: the stored hash is the one written at its end")
    func editInTheDatabaseCaught() throws {
        let (log, ids) = try finishedLog()
        try log.database.write { db in
            try db.execute(sql: "UPDATE airing SET aired_seconds = 600 WHERE id = ?", arguments: [ids[0]])
        }
        let verdict = AiringExport.verify(AiringExport.encode(try log.chain(), format: .csv))
        guard case let .broken(reason) = verdict else {
            Issue.record("an edited row passed: \(verdict)")
            return
        }
        #expect(reason.contains("dòng 2 (lượt phát #\(ids[0])") && reason.contains("đã bị sửa"), "\(reason)")
    }

    @Test("The monitor's verdict is written by finish, in the transaction that chains the row: a verdict changed afterwards is caught")
    func confirmationChainedAtFinish() throws {
        let log = AiringLog(try StationDatabase(path: path))
        let ids = try log.insert([record("a", at: 0), record("b", at: 60)])
        try log.markStarted(id: ids[0], startedAt: Date(timeIntervalSince1970: 1_794_478_500), policy: nil)
        try log.finish(id: ids[0], outcome: .completed, endedAt: Date(timeIntervalSince1970: 1_794_478_560), airedSeconds: 60,
                       reason: nil, xruns: 0, confirmed: .silent, monitorDBFS: -120)
        try log.finish(id: ids[1], outcome: .skipped, endedAt: nil, airedSeconds: 0, reason: Reason(.latePassed), xruns: 0)
        let rows = try log.records()
        #expect(rows.map(\.confirmed) == [.silent, nil] && rows.map(\.monitorDBFS) == [-120, nil])
        #expect(AiringExport.verify(AiringExport.encode(try log.chain(), format: .csv)) == .intact(rows: 2, first: 1, last: 2))
        try log.database.write { db in
            try db.execute(sql: "UPDATE airing SET confirmed = 'heard', monitor_dbfs = -18 WHERE id = ?", arguments: [ids[0]])
        }
        guard case let .broken(reason) = AiringExport.verify(AiringExport.encode(try log.chain(), format: .csv)) else {
            Issue.record("a row whose verdict was changed after it finished passed")
            return
        }
        #expect(reason.contains("lượt phát #\(ids[0])"), "\(reason)")
    }

    @Test("An export of a period carries the chain contiguous from the period's first finished row, linked to the row before it")
    func periodExportIsContiguous() throws {
        let (log, ids) = try finishedLog()
        let from = Date(timeIntervalSince1970: 1_794_478_500 + 60)
        let chain = try log.chain(from: from, to: from.addingTimeInterval(3600))
        #expect(chain.map { $0.record.id } == [ids[1], ids[2], ids[4]])
        #expect(chain.first?.previous == (try log.chain().first?.hash))
        #expect(AiringExport.verify(AiringExport.encode(chain, format: .ndjson)) == .intact(rows: 3, first: 2, last: 4))
    }

    /// Rows finished in form 2, as a log kept them before reason codes: written final and chained by the form-2 rule.
    func formTwoRows(_ log: AiringLog) throws {
        try log.database.write { db in
            for (segment, at) in [("cu-1", 0.0), ("cu-2", 60.0)] {
                var row = record(segment, at: at, outcome: .interrupted, title: "Tin \(segment)")
                row.reason = "nhường sóng cho thông báo “cũ”"
                row.station = "Xã Hòa An"
                try row.insert(db)
            }
            try AiringLog.chainFinished(db, form: 2)
        }
    }

    @Test("A chain of rows in form 2 then form 3 verifies; the new form covers the reason code, the row continued and the stretch's start")
    func mixedFormsVerify() throws {
        let log = AiringLog(try StationDatabase(path: path))
        try formTwoRows(log)
        let ids = try log.insert([record("a", at: 120, title: "Tin a"), record("b", at: 180, title: "Tin b")])
        try log.markStarted(id: ids[0], startedAt: Date(timeIntervalSince1970: 1_794_478_620), policy: nil)
        try log.finish(id: ids[0], outcome: .interrupted, endedAt: Date(timeIntervalSince1970: 1_794_478_623.5), airedSeconds: 3.5,
                       reason: Reason(.preemptedAnnouncement, "bao-bao"), xruns: 0)
        let resumed = try log.insertStretch(continuing: ids[0], fromSeconds: 5.5)
        try log.markStarted(id: try #require(resumed.id), startedAt: Date(timeIntervalSince1970: 1_794_478_625.5), policy: .join)
        try log.finish(id: try #require(resumed.id), outcome: .completed, endedAt: Date(timeIntervalSince1970: 1_794_478_632),
                       airedSeconds: 6.5, reason: Reason(.resumed), xruns: 0)
        _ = try log.closePlanned(slot: "asean-toi", startsAt: Date(timeIntervalSince1970: 1_794_478_680), reason: Reason(.latePassed))

        let chain = try log.chain()
        #expect(chain.map(\.version) == [2, 2, 3, 3, 3])
        #expect(chain[3].record.continues == ids[0] && chain[3].record.fromSeconds == 5.5 && chain[3].record.reasonCode == .resumed)
        for format in AiringExport.Format.allCases {
            #expect(AiringExport.verify(AiringExport.encode(chain, format: format)) == .intact(rows: 5, first: 1, last: 5), "\(format)")
        }
        // The export carries the code after the reason, the row continued and the stretch's start.
        let lines = String(decoding: AiringExport.encode(chain, format: .csv), as: UTF8.self).components(separatedBy: "\r\n")
        let header = lines[0].dropFirst().components(separatedBy: ",")
        #expect(header[try #require(header.firstIndex(of: "reason")) + 1] == "reason_code")
        #expect(lines[4].contains(",resumed,") && lines[4].contains(",\(ids[0]),5.500,loa-airing-3,"), "\(lines[4])")
        // Read back for a merged report: the codes, the link and the stretch's start come along.
        let (verdict, _, records) = try readBack(AiringExport.encode(chain, format: .ndjson))
        #expect(verdict == .intact(rows: 5, first: 1, last: 5))
        #expect(records.map(\.reasonCode) == [nil, nil, .preemptedAnnouncement, .resumed, .latePassed])
        #expect(records[3].continues == ids[0] && records[3].fromSeconds == 5.5 && records[2].reason == "bao-bao")
    }

    /// `data` written to a file and read as `loa report --merge` reads it.
    func readBack(_ data: Data) throws -> (AiringExport.Verdict, Data, [AiringRecord]) {
        let file = folder.appendingPathComponent("xa.export")
        try data.write(to: file)
        return AiringExport.records(fileAt: file.path)
    }

    @Test("Editing a new row's reason code, the row it continues or its start, in the database or in the export, breaks its hash; a code written into a form-2 row is refused")
    func editedCodeBreaksTheChain() throws {
        /// Two rows of form 2, then an item interrupted and its resumed stretch, in a log at `file`.
        func stretchedLog(at file: URL) throws -> (AiringLog, cut: Int64, resumed: Int64) {
            let log = AiringLog(try StationDatabase(path: file))
            try formTwoRows(log)
            let ids = try log.insert([record("a", at: 120, title: "Tin a")])
            try log.finish(id: ids[0], outcome: .interrupted, endedAt: nil, airedSeconds: 3.5,
                           reason: Reason(.preemptedAnnouncement, "bao-bao"), xruns: 0)
            let resumed = try #require(try log.insertStretch(continuing: ids[0], fromSeconds: 5.5).id)
            try log.finish(id: resumed, outcome: .completed, endedAt: nil, airedSeconds: 6.5, reason: Reason(.resumed), xruns: 0)
            return (log, ids[0], resumed)
        }
        let (log, _, _) = try stretchedLog(at: path)
        #expect(AiringExport.verify(AiringExport.encode(try log.chain(), format: .csv)) == .intact(rows: 4, first: 1, last: 4))

        for edit in ["reason_code = 'preempted.emergency'", "continues = NULL", "from_seconds = 0"] {
            let (edited, cut, resumed) = try stretchedLog(at: folder.appendingPathComponent("edited-\(UUID().uuidString).sqlite"))
            let target = edit.hasPrefix("reason_code") ? cut : resumed
            try edited.database.write { db in try db.execute(sql: "UPDATE airing SET \(edit) WHERE id = ?", arguments: [target]) }
            guard case let .broken(message) = AiringExport.verify(AiringExport.encode(try edited.chain(), format: .csv)) else {
                Issue.record("\(edit): the edited row verified")
                continue
            }
            #expect(message.contains("lượt phát #\(target)") && message.contains("đã bị sửa"), "\(edit): \(message)")
        }

        let lines = String(decoding: AiringExport.encode(try log.chain(), format: .csv), as: UTF8.self).components(separatedBy: "\r\n")
        let code = try #require(AiringExport.columns.firstIndex(of: "reason_code"))
        func verdict(line: Int, _ change: (inout [String]) -> Void) -> AiringExport.Verdict {
            var fields = lines[line].components(separatedBy: ",")
            change(&fields)
            var edited = lines
            edited[line] = fields.joined(separator: ",")
            return AiringExport.verify(Data(edited.joined(separator: "\r\n").utf8))
        }
        guard case let .broken(recoded) = verdict(line: 3, { $0[code] = "preempted.emergency" }) else {
            Issue.record("a code changed in the export verified")
            return
        }
        #expect(recoded.contains("dòng 4") && recoded.contains("đã bị sửa"), "\(recoded)")
        guard case let .broken(added) = verdict(line: 1, { $0[code] = "daemon.died" }) else {
            Issue.record("a code written into a form-2 row verified")
            return
        }
        #expect(added.contains("dòng 2") && added.contains("reason_code"), "\(added)")
    }

    @Test("An export written before form 3 (without reason_code, continues and from_seconds) still verifies and reads back")
    func firstLayoutStillReads() throws {
        let log = AiringLog(try StationDatabase(path: path))
        try formTwoRows(log)
        let chain = try log.chain()
        let first = AiringExport.columns.filter { !["reason_code", "continues", "from_seconds"].contains($0) }
        var csv = "\u{FEFF}" + CSV.record(first)
        var ndjson = ""
        for link in chain {
            let values = AiringChain.values(seq: link.seq, version: link.version, link.record)
                + [AiringChain.name(link.version), link.previous, link.hash]
            let kept = zip(AiringExport.columns, values).filter { first.contains($0.0) }
            csv += CSV.record(kept.map(\.1))
            ndjson += "{" + kept.map { "\"\($0.0)\":\"\($0.1.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ",") + "}\n"
        }
        for data in [Data(csv.utf8), Data(ndjson.utf8)] {
            let (verdict, _, records) = try readBack(data)
            #expect(verdict == .intact(rows: 2, first: 1, last: 2), "\(String(decoding: data, as: UTF8.self))")
            #expect(records.map(\.reason) == ["nhường sóng cho thông báo “cũ”", "nhường sóng cho thông báo “cũ”"])
        }
    }
}
