import Foundation
import LoaCore
import LoaStore
import Testing

/// The `loa` binary as an operator uses it: exit codes, one-line errors, formats.
@Suite("CLI contract")
struct CLITests {
    @Test("schedule validate: every problem as file:line on stderr, exit 1; a clean station exits 0")
    func validate() async throws {
        let station = try ProcessStation(device: "null")
        try await station.addTone("a.wav", frequency: 440, seconds: 0.3, rate: 48000, title: "A")
        try """
        # sáng
        [[slot]]
        id = "sang"
        start = "05:30"
        end = "05:20"
        play = ["a.wav"]

        [[slot]]
        id = "toi"
        start = "17:00"
        play = ["khong-co.mp3"]
        mau = "đỏ"
        """.write(to: station.schedules.appendingPathComponent("lich.toml"), atomically: true, encoding: .utf8)
        let bad = try await station.loaCommand(["schedule", "validate"])
        #expect(bad.status == 1)
        let lines = bad.err.split(separator: "\n").map(String.init)
        #expect(lines.contains("schedules/lich.toml:5: giờ kết thúc 05:20 không sau giờ bắt đầu 05:30"), "\(bad.err)")
        #expect(lines.contains { $0.hasPrefix("schedules/lich.toml:12: khóa không hợp lệ “mau”") }, "\(bad.err)")
        try station.writeSlot("ok", start: Date(timeIntervalSince1970: 0), files: ["a.wav"], file: "lich.toml")
        let good = try await station.loaCommand(["schedule", "validate"])
        #expect(good.status == 0, "\(good.err)")
        #expect(good.out.contains("Lịch phát hợp lệ: 1 khung giờ"))
    }

    @Test("schedule validate reports a play entry that names no file, at its line")
    func validateMissingFile() async throws {
        let station = try ProcessStation(device: "null")
        try """
        [[slot]]
        id = "toi"
        start = "17:00"
        play = ["khong-co.mp3"]
        """.write(to: station.schedules.appendingPathComponent("lich.toml"), atomically: true, encoding: .utf8)
        let r = try await station.loaCommand(["schedule", "validate"])
        #expect(r.status == 1)
        #expect(r.err.hasPrefix("schedules/lich.toml:4: không tìm thấy tệp “khong-co.mp3”"), "\(r.err)")
    }

    @Test("schedule validate refuses a file under audio/ that was never imported (it would fail on air), naming the command that imports it")
    func validateFileNotImported() async throws {
        let station = try ProcessStation(device: "null")
        try Harness.sineWAV(station.audio.appendingPathComponent("chua-nhap.wav"), frequency: 440, seconds: 0.3, rate: 48000)
        try await station.addTone("nhac-hieu.wav", frequency: 660, seconds: 0.3, rate: 48000, title: "Nhạc hiệu")
        try """
        [[slot]]
        id = "toi"
        start = "17:00"
        play = ["chua-nhap.wav"]
        intro = "nhac-hieu.wav"
        """.write(to: station.schedules.appendingPathComponent("lich.toml"), atomically: true, encoding: .utf8)
        let r = try await station.loaCommand(["schedule", "validate"])
        #expect(r.status == 1)
        let file = station.audio.appendingPathComponent("chua-nhap.wav").path
        #expect(r.err.split(separator: "\n").first.map(String.init) == "schedules/lich.toml:4: tệp “chua-nhap.wav” có trong thư mục audio nhưng chưa nhập vào thư viện, nên không phát được: chạy `loa segment add \(file) --title \"…\"`", "\(r.err)")
        let imported = try await station.loaCommand(["segment", "add", file, "--title", "Đã nhập"])
        #expect(imported.status == 0, "\(imported.err)")
        let good = try await station.loaCommand(["schedule", "validate"])
        #expect(good.status == 0, "\(good.err)")
        // A name with a space is quoted in the command to copy; a folder is no file to import.
        try Harness.sineWAV(station.audio.appendingPathComponent("tin sáng.wav"), frequency: 550, seconds: 0.3, rate: 48000)
        try FileManager.default.createDirectory(at: station.audio.appendingPathComponent("thu-muc"), withIntermediateDirectories: true)
        try """
        [[slot]]
        id = "sang"
        start = "06:00"
        play = ["tin sáng.wav", "thu-muc"]
        """.write(to: station.schedules.appendingPathComponent("sang.toml"), atomically: true, encoding: .utf8)
        let spaced = try await station.loaCommand(["schedule", "validate"])
        let lines = spaced.err.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("schedules/sang.toml:4: tệp “tin sáng.wav”") && $0.contains("`loa segment add '\(station.audio.path)/tin sáng.wav' --title") },
                "\(spaced.err)")
        #expect(lines.contains("schedules/sang.toml:4: không tìm thấy tệp “thu-muc” trong thư mục audio, cũng không có bản tin mã này trong thư viện"),
                "\(spaced.err)")
    }

    @Test("segment add refuses a piece of a file that decodes to almost nothing, and warns of a file cut midway (MP3 and WAV), naming how much is missing",
          arguments: ["mp3", "wav"])
    func segmentAddCutFiles(_ format: String) async throws {
        let station = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let outside = try Harness.temporaryFolder("loa-cut")
        defer { try? FileManager.default.removeItem(at: outside) }
        let whole = outside.appendingPathComponent("tron-ven.\(format)")
        try await Harness.tone(whole, frequency: 440, seconds: 6, rate: 44100)
        let bytes = try Data(contentsOf: whole)
        let crumb = outside.appendingPathComponent("mau.\(format)"), half = outside.appendingPathComponent("nua.\(format)")
        try bytes.prefix(format == "mp3" ? 1000 : 44 + 4000).write(to: crumb)
        try bytes.prefix(bytes.count / 2).write(to: half)

        let refused = try await station.loaCommand(["segment", "add", crumb.path, "--title", "Mẩu"])
        #expect(refused.status == 1)
        #expect(refused.err.hasPrefix("loa: \(crumb.path): không giải mã được: chỉ giải mã được 0,0"), "\(refused.err)")
        #expect(refused.err.contains("dưới 0,10 giây: tệp bị cắt hoặc chỉ là một mẩu"), "\(refused.err)")
        #expect(refused.err.split(separator: "\n").count == 1)

        let warned = try await station.loaCommand(["segment", "add", half.path, "--title", "Nửa bản tin"])
        #expect(warned.status == 0, "\(warned.err)")
        #expect(warned.err.contains("loa: ⚠ \(half.path): tệp kết thúc sớm: phần đầu tệp ghi 6,0 giây nhưng chỉ giải mã được 3,0 giây"), "\(warned.err)")
        let quiet = try await station.loaCommand(["segment", "add", whole.path, "--title", "Trọn vẹn"])
        #expect(quiet.status == 0 && !quiet.err.contains("⚠"), "\(quiet.err)")
        let listed = try await station.loaCommand(["segment", "list", "--json"])
        #expect(!listed.out.contains("Mẩu") && listed.out.contains("Nửa bản tin"), "\(listed.out)")
    }

    @Test("segment add does not cry wolf: a whole VBR MP3 without a frame-count tag, and a WAV whose size a killed recorder never wrote, import without a warning")
    func segmentAddWholeFilesNotWarned() async throws {
        let station = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let tone = station.folder.appendingPathComponent("am.wav"), source = station.folder.appendingPathComponent("nguon.wav")
        try await Harness.tone(tone, frequency: 440, seconds: 3, rate: 44100)
        // Three seconds of silence first: its frames take the fewest bits, so a length guessed from them is too long.
        let padded = try await Harness.run("/usr/bin/sox", [tone.path, source.path, "pad", "3", "0"])
        #expect(padded.status == 0, "\(padded.err)")
        // Variable bit rate, no Xing/Info tag (-t): libsndfile can only guess the length from the file's size.
        let vbr = station.folder.appendingPathComponent("vbr.mp3")
        let encoded = try await Harness.run("/usr/bin/lame", ["--quiet", "-V", "9", "-t", source.path, vbr.path])
        #expect(encoded.status == 0, "\(encoded.err)")
        // arecord killed before it closed the file: the data size is left at its largest.
        var wav = try Data(contentsOf: source)
        if let data = wav.range(of: Data("data".utf8)) {
            wav.replaceSubrange(data.upperBound..<(data.upperBound + 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
        }
        let unfinished = station.folder.appendingPathComponent("ghi-do.wav")
        try wav.write(to: unfinished)
        for (file, title) in [(vbr, "VBR"), (unfinished, "Ghi dở")] {
            let added = try await station.loaCommand(["segment", "add", file.path, "--title", title])
            #expect(added.status == 0 && !added.err.contains("⚠"), "\(file.lastPathComponent): \(added.err)")
        }
    }

    @Test("segment add: refuses what libsndfile cannot decode in one line; imports once; copies outside files in")
    func segmentAdd() async throws {
        let station = try ProcessStation(device: "null")
        let outside = try Harness.temporaryFolder("loa-outside")
        let garbage = outside.appendingPathComponent("hong.mp3")
        try Data(repeating: 0x5A, count: 4096).write(to: garbage)
        let refused = try await station.loaCommand(["segment", "add", garbage.path, "--title", "Hỏng"])
        #expect(refused.status == 1)
        #expect(refused.err.hasPrefix("loa: \(garbage.path): không giải mã được"), "\(refused.err)")
        #expect(refused.err.split(separator: "\n").count == 1)
        // libsndfile blames a pipe for any format it does not know: that would send the officer the wrong way.
        #expect(!refused.err.contains("pipe"), "\(refused.err)")
        let empty = outside.appendingPathComponent("rong.mp3")
        try Data().write(to: empty)
        let emptyRefused = try await station.loaCommand(["segment", "add", empty.path, "--title", "Rỗng"])
        #expect(emptyRefused.status == 1 && emptyRefused.err.contains("tệp rỗng (0 byte)"), "\(emptyRefused.err)")
        // A title with a line break would break every table and log line after it: refused before anything is read.
        let twoLines = try await station.loaCommand(["segment", "add", garbage.path, "--title", "Dòng một\nDòng hai"])
        #expect(twoLines.status == 1 && twoLines.err == "loa: --title: phải là một dòng chữ, không rỗng, không xuống dòng hay ký tự điều khiển\n",
                "\(twoLines.err)")
        let noConfig = try await Harness.run(station.loa.path, ["segment", "list", "--config", outside.appendingPathComponent("khong-co.toml").path])
        #expect(noConfig.err == "loa: \(outside.appendingPathComponent("khong-co.toml").path): không đọc được: không có tệp này\n", "\(noConfig.err)")

        let tone = outside.appendingPathComponent("rcep.flac")
        try await Harness.tone(tone, frequency: 440, seconds: 0.5, rate: 44100)
        let added = try await station.loaCommand(["segment", "add", tone.path, "--title", "Hiệp định RCEP", "--pillar", "kinh-te", "--campaign", "HNCC ASEAN 37"])
        #expect(added.status == 0, "\(added.err)")
        #expect(FileManager.default.fileExists(atPath: station.audio.appendingPathComponent("rcep.flac").path))
        let again = try await station.loaCommand(["segment", "add", tone.path, "--title", "Lần nữa"])
        #expect(again.status == 0 && again.out.hasPrefix("Đã có trong thư viện: hiep-dinh-rcep"), "\(again.out)")

        struct Listed: Decodable { let id: String, title: String, pillar: String?, campaign: String?, duration_seconds: Double, sha256: String, format: String }
        let list = try await station.loaCommand(["segment", "list", "--json"])
        let segments = try JSONDecoder().decode([Listed].self, from: Data(list.out.utf8))
        #expect(segments.count == 1)
        #expect(segments.first?.title == "Hiệp định RCEP" && segments.first?.pillar == "kinh-te" && segments.first?.campaign == "HNCC ASEAN 37")
        #expect(abs((segments.first?.duration_seconds ?? 0) - 0.5) < 0.001)
        #expect(segments.first?.sha256.count == 64)
        #expect(segments.first?.format.hasPrefix("FLAC") == true)

        let badPillar = try await station.loaCommand(["segment", "add", tone.path, "--title", "x", "--pillar", "the-thao"])
        #expect(badPillar.status == 1 && badPillar.err.contains("trụ cột không hợp lệ “the-thao”"))
    }

    @Test("schedule show --json: the day's items in order with RFC 3339 times")
    func scheduleShow() async throws {
        let station = try ProcessStation(device: "null")
        try await station.addTone("a.wav", frequency: 440, seconds: 2, rate: 48000, title: "A")
        try await station.addTone("b.wav", frequency: 440, seconds: 3, rate: 48000, title: "B")
        try """
        [[slot]]
        id = "toi"
        start = "17:15"
        end = "17:30"
        days = "mon-fri"
        play = ["b.wav", "a.wav"]
        """.write(to: station.schedules.appendingPathComponent("lich.toml"), atomically: true, encoding: .utf8)
        struct Item: Decodable { let segment: String, starts_at: String }
        struct SlotPlan: Decodable { let slot: String, starts_at: String, items: [Item] }
        struct Plan: Decodable { let date: String, slots: [SlotPlan] }
        let friday = try await station.loaCommand(["schedule", "show", "--date", "2026-11-13", "--json"])
        let plan = try JSONDecoder().decode(Plan.self, from: Data(friday.out.utf8))
        #expect(plan.slots.map(\.slot) == ["toi"])
        #expect(plan.slots[0].items.map(\.starts_at) == ["2026-11-13T17:15:00.000+07:00", "2026-11-13T17:15:03.000+07:00"])
        let saturday = try JSONDecoder().decode(Plan.self, from: Data(try await station.loaCommand(["schedule", "show", "--date", "2026-11-14", "--json"]).out.utf8))
        #expect(saturday.slots.isEmpty)
        let bad = try await station.loaCommand(["schedule", "show", "--date", "14/11/2026"])
        #expect(bad.status == 1 && bad.err == "loa: ngày không hợp lệ “14/11/2026” (cần YYYY-MM-DD)\n")
    }

    @Test("log and report read the airing log in the brief's formats")
    func logAndReport() async throws {
        let station = try ProcessStation(device: "null")
        let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
        let day = try #require(LocalDate(parsing: "2026-11-12"))
        let log = AiringLog(try StationDatabase(path: station.folder.appendingPathComponent("loa.sqlite")))
        for (n, (pillar, outcome)) in [(Pillar.kinhTe, AiringOutcome.completed), (.kinhTe, .truncated), (.vanHoaXaHoi, .completed), (.kinhTe, .failed)].enumerated() {
            let t = calendar.instant(day, try #require(TimeOfDay(hour: 17, minute: 15))).addingTimeInterval(Double(n * 60))
            try log.insert(AiringRecord(slot: "asean-toi", slotStartsAt: t, segmentID: "s\(n)", title: "Bản tin số \(n), “ASEAN”", pillar: pillar,
                                        campaign: "HNCC ASEAN 37", path: "s\(n).mp3", scheduledAt: t, startedAt: t.addingTimeInterval(0.004),
                                        endedAt: t.addingTimeInterval(30), airedSeconds: outcome == .failed ? 0 : 30, outcome: outcome,
                                        // A row with a code, and one logged before codes with its sentence.
                                        reason: n == 3 ? "tệp hỏng (bản cũ ghi)" : nil, reasonCode: n == 1 ? .cutHardEnd : nil,
                                        station: "Xã Hòa An", priority: .normal, confirmed: n == 1 ? .silent : nil,
                                        monitorDBFS: n == 1 ? -71.04 : nil))
        }
        struct Row: Decodable {
            let id: Int, slot: String, segment: String, title: String, pillar: String?, campaign: String?, scheduled_at: String
            let started_at: String?, ended_at: String?, aired_seconds: Double, outcome: String, onset_error_ms: Double?
            let station: String?, priority: String?, confirmed: String?, monitor_dbfs: Double?
            let reason: String?, reason_code: String?
        }
        let json = try await station.loaCommand(["log", "--from", "2026-11-12", "--to", "2026-11-12", "--format", "json"])
        let rows = try JSONDecoder().decode([Row].self, from: Data(json.out.utf8))
        #expect(rows.map(\.outcome) == ["completed", "truncated", "completed", "failed"])
        #expect(rows[0].scheduled_at == "2026-11-12T17:15:00.000+07:00" && rows[0].started_at == "2026-11-12T17:15:00.004+07:00")
        #expect(rows[0].onset_error_ms == 4)
        #expect(rows[0].station == "Xã Hòa An" && rows[0].priority == "normal")
        #expect(rows.map(\.confirmed) == [nil, "silent", nil, nil] && rows[1].monitor_dbfs == -71)
        #expect(rows.map(\.reason_code) == [nil, "cut.hard_end", nil, nil])
        #expect(rows.map(\.reason) == [nil, ReasonCatalogue.sentence(Reason(.cutHardEnd)), nil, "tệp hỏng (bản cũ ghi)"])
        // Without a monitor, `confirmed` is there as null rather than left out.
        #expect(json.out.components(separatedBy: "\"confirmed\" : null").count == 4)
        let none = try await station.loaCommand(["log", "--from", "2026-11-13", "--format", "json"]).out
        #expect(none.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || none.contains("[]"))

        // RFC 4180: CRLF ends each record (in Swift one Character, so the split is on it).
        let csv = try await station.loaCommand(["log", "--format", "csv"]).out.split(separator: "\r\n")
        try #require(csv.count == 5)
        #expect(csv.first == "id,slot,segment,title,pillar,campaign,scheduled_at,started_at,ended_at,aired_seconds,outcome,onset_error_ms,reason,reason_code,kind,policy,planned_seconds,lost_seconds,xruns,sha256,category,feed,station,priority,confirmed,monitor_dbfs,continues,from_seconds")
        #expect(csv[1].contains("\"Bản tin số 0, “ASEAN”\""))
        #expect(csv[2].contains(",truncated,4,\(ReasonCatalogue.sentence(Reason(.cutHardEnd))),cut.hard_end,segment,"), "\(csv[2])")
        let shown = try await station.loaCommand(["log", "--from", "2026-11-12", "--to", "2026-11-12"]).out
        #expect(shown.contains("(\(ReasonCatalogue.sentence(Reason(.cutHardEnd))))") && shown.contains("(tệp hỏng (bản cũ ghi))"), "\(shown)")

        struct ReportRow: Decodable { let key: String, label: String, completed: Int, truncated: Int, aired_seconds: Double }
        struct Report: Decodable { let from: String, to: String, by: String, rows: [ReportRow], total: ReportRow }
        let report = try JSONDecoder().decode(Report.self, from: Data(try await station.loaCommand(
            ["report", "--from", "2026-11-12", "--to", "2026-11-12", "--by", "pillar", "--format", "json"]).out.utf8))
        #expect(report.from == "2026-11-12" && report.to == "2026-11-12" && report.by == "pillar")
        let economic = try #require(report.rows.first { $0.key == "kinh-te" })
        #expect(economic.completed == 1 && economic.truncated == 1 && economic.aired_seconds == 60 && economic.label == "Trụ cột Kinh tế")
        #expect(report.total.completed == 2 && report.total.truncated == 1 && report.total.aired_seconds == 90)
        let table = try await station.loaCommand(["report", "--from", "2026-11-12", "--to", "2026-11-12", "--by", "segment"])
        #expect(table.status == 0 && table.out.contains("Bản tin số 2, “ASEAN”"))
    }

    @Test("--config before the subcommand works; a missing config, or a database path naming another file, is one line and exit 1")
    func configOption() async throws {
        let station = try ProcessStation(device: "null")
        let before = try await Harness.run(station.loa.path, ["--config", station.config, "schedule", "list", "--json"])
        #expect(before.status == 0 && before.out.hasPrefix("["), "\(before.err)")
        let missing = try await Harness.run(station.loa.path, ["log", "--config", "/khong/co/loa.toml"])
        #expect(missing.status == 1)
        #expect(missing.err.split(separator: "\n").count == 1 && missing.err.hasPrefix("loa: /khong/co/loa.toml: không đọc được"), "\(missing.err)")
        let unknown = try await Harness.run(station.loa.path, ["phat-thu"])
        #expect(unknown.status == 1 && unknown.err.split(separator: "\n").count == 1, "\(unknown.err)")
        // A database path that names some other file: one line, in Vietnamese, saying what to check.
        try Data("không phải cơ sở dữ liệu".utf8).write(to: station.folder.appendingPathComponent("loa.sqlite"))
        for command in [["log"], ["segment", "add", "/khong/co.wav", "--title", "X"]] {
            let notDatabase = try await station.loaCommand(command)
            #expect(notDatabase.status == 1 && notDatabase.err.split(separator: "\n").count == 1
                    && notDatabase.err.contains("không phải cơ sở dữ liệu SQLite của Loa"), "\(command): \(notDatabase.err)")
        }
    }

    /// `command` with `--config` put at `position`: among the command words (0 = before the first), or after the
    /// command words between option groups (`words.count` = right after the last word, up to the end).
    static func placingConfig(_ config: [String], words: [String], options: [[String]], at position: Int) -> [String] {
        var parts = words.map { [$0] } + options
        parts.insert(config, at: position)
        return parts.flatMap { $0 }
    }

    @Test("--config works wherever it is put: before the command, between a command and its subcommand, after it, between options, as --config=X")
    func configAnywhere() async throws {
        let station = try ProcessStation(device: "null")
        try await station.addTone("tin.wav", frequency: 440, seconds: 0.3, rate: 48000, title: "Tin sáng")
        try """
        [[slot]]
        id = "sang"
        start = "06:00"
        play = ["tin.wav"]
        """.write(to: station.schedules.appendingPathComponent("sang.toml"), atomically: true, encoding: .utf8)
        let log = AiringLog(try StationDatabase(path: station.folder.appendingPathComponent("loa.sqlite")))
        let t = Date(timeIntervalSince1970: 1_794_438_000) // 2026-11-12 06:00 in Hà Nội
        let id = try log.insert(AiringRecord(slot: "sang", slotStartsAt: t, segmentID: "tin", title: "Tin sáng", pillar: .kinhTe,
                                             path: "tin.wav", scheduledAt: t, startedAt: t, outcome: .started, device: "null",
                                             station: "UBND xã Thử Nghiệm"))
        try log.finish(id: id, outcome: .completed, endedAt: t.addingTimeInterval(0.3), airedSeconds: 0.3, reason: nil, xruns: 0)
        // Run where no loa.toml is found: a --config not taken would fail rather than fall back on another station.
        let elsewhere = try Harness.temporaryFolder("loa-elsewhere")
        let commands: [(words: [String], options: [[String]], shows: String)] = [
            (["schedule", "list"], [["--json"]], "sang"),
            (["schedule", "show"], [["--date", "2026-11-12"], ["--json"]], "Tin sáng"),
            (["segment", "list"], [["--json"]], "Tin sáng"),
            (["log", "show"], [["--format", "json"], ["--from", "2026-11-12"]], "Tin sáng"),
            (["log"], [["--format", "json"], ["--from", "2026-11-12"]], "Tin sáng"),
            (["report"], [["--format", "json"], ["--from", "2026-11-12"], ["--to", "2026-11-12"]], "UBND xã Thử Nghiệm"),
        ]
        for command in commands {
            let plain = try await station.loaCommand(command.words + command.options.flatMap { $0 })
            try #require(plain.status == 0 && plain.out.contains(command.shows), "\(command.words): \(plain.err)")
            for config in [["--config", station.config], ["--config=\(station.config)"]] {
                for position in 0...(command.words.count + command.options.count) {
                    let arguments = Self.placingConfig(config, words: command.words, options: command.options, at: position)
                    let r = try await Harness.run(station.loa.path, arguments, in: elsewhere)
                    #expect(r.status == 0 && r.out == plain.out, "\(arguments): \(r.err)")
                }
            }
        }
        // Only the words before the command are moved: a value after it that names a command, or is `--config`'s
        // own spelling, stays the value of its option.
        let added = try await Harness.run(station.loa.path, ["schedule", "--config", station.config, "add", "trua", "--start", "11:30",
                                                             "--play", "tin.wav", "--title", "list"], in: elsewhere)
        #expect(added.status == 0 && added.out.hasPrefix("Đã thêm khung giờ “trua”"), "\(added.out)\(added.err)")
        let written = try String(contentsOf: station.schedules.appendingPathComponent("sang.toml"), encoding: .utf8)
        #expect(written.contains("title = \"list\""), "\(written)")
        // Moved to just after the command, it stays before a `--` that ends the options: what follows is files.
        let tone = station.audio.appendingPathComponent("tin.wav").path
        let played = try await Harness.run(station.loa.path, ["--config", station.config, "play", "--device", "null", "--", tone], in: elsewhere)
        #expect(played.status == 0, "\(played.err)")
    }

    @Test("A command line the parser refuses is said in Vietnamese, in one line, with the help of the command named")
    func parserMessagesInVietnamese() async throws {
        let station = try ProcessStation(device: "null")
        let cases: [([String], String)] = [
            (["schedule", "add", "trua", "--bogus"], "loa: không có tùy chọn --bogus — xem “loa schedule add --help”"),
            (["schedule", "remove"], "loa: thiếu <id> — xem “loa schedule remove --help”"),
            (["schedule", "edit", "sang", "--count"], "loa: thiếu giá trị sau --count — xem “loa schedule edit --help”"),
            (["schedule", "edit", "sang", "--count", "ba"],
             "loa: --count: giá trị “ba” không hợp lệ (một số nguyên từ 1 trở lên) — xem “loa schedule edit --help”"),
            // A negative number is the option's value, refused for what it is; so is a value out of range.
            (["schedule", "edit", "sang", "--count", "-1"],
             "loa: --count: giá trị “-1” không hợp lệ (một số nguyên từ 1 trở lên) — xem “loa schedule edit --help”"),
            (["schedule", "add", "trua", "--start", "11:30", "--pillar", "kinh-te", "--count", "0"],
             "loa: --count: giá trị “0” không hợp lệ (một số nguyên từ 1 trở lên) — xem “loa schedule add --help”"),
            (["report", "--year", "-5"], "loa: --year: giá trị “-5” không hợp lệ (một năm như 2026) — xem “loa report --help”"),
            (["report", "--year=-5"], "loa: --year: giá trị “-5” không hợp lệ (một năm như 2026) — xem “loa report --help”"),
            (["report", "--year", "20266"], "loa: --year: giá trị “20266” không hợp lệ (một năm như 2026) — xem “loa report --help”"),
            (["announce", "tin.wav", "--repeat", "0"],
             "loa: --repeat: giá trị “0” không hợp lệ (một số nguyên từ 1 trở lên) — xem “loa announce --help”"),
            (["announce", "tin.wav", "--repeat", "-2"],
             "loa: --repeat: giá trị “-2” không hợp lệ (một số nguyên từ 1 trở lên) — xem “loa announce --help”"),
            (["publish", "ban-tin", "--key", "huyen.key", "--out", "feed", "--valid-days", "-1"],
             "loa: --valid-days: giá trị “-1” không hợp lệ (một số ngày lớn hơn 0 và không quá 3660, ví dụ 7) — xem “loa publish --help”"),
            (["publish", "ban-tin", "--key", "huyen.key", "--out", "feed", "--valid-days", "0"],
             "loa: --valid-days: giá trị “0” không hợp lệ (một số ngày lớn hơn 0 và không quá 3660, ví dụ 7) — xem “loa publish --help”"),
            (["publish", "ban-tin", "--key", "huyen.key", "--out", "feed", "--valid-days", "1e300"],
             "loa: --valid-days: giá trị “1e300” không hợp lệ (một số ngày lớn hơn 0 và không quá 3660, ví dụ 7) — xem “loa publish --help”"),
            (["log", "--format", "xml"], "loa: --format: giá trị “xml” không hợp lệ (chọn: table, csv, json) — xem “loa log --help”"),
            (["status", "thừa"], "loa: thừa đối số “thừa” — xem “loa status --help”"),
            (["schedule", "add", "trua", "--strat", "11:30"], "loa: không có tùy chọn --strat (có phải --start không?) — xem “loa schedule add --help”"),
            (["--config", station.config, "phat-thu"], "loa: không có lệnh “phat-thu” — xem “loa --help”"),
            // A mistyped command is named as one, with the command meant, whatever follows it.
            (["schedul", "list"], "loa: không có lệnh “schedul” (có phải “schedule” không?) — xem “loa --help”"),
            (["--config", station.config, "schedul", "list"], "loa: không có lệnh “schedul” (có phải “schedule” không?) — xem “loa --help”"),
            (["sched"], "loa: không có lệnh “sched” (có phải “schedule” không?) — xem “loa --help”"),
            (["schedule", "lst"], "loa: không có lệnh “schedule lst” (có phải “schedule list” không?) — xem “loa schedule --help”"),
            (["schedule", "--config", station.config, "shwo", "--date", "2026-11-12"],
             "loa: không có lệnh “schedule shwo” (có phải “schedule show” không?) — xem “loa schedule --help”"),
            (["segment", "ad", "tin.wav", "--title", "Tin"],
             "loa: không có lệnh “segment ad” (có phải “segment add” không?) — xem “loa segment --help”"),
            (["log", "exprot", "--out", "x.csv"], "loa: không có lệnh “log exprot” (có phải “log export” không?) — xem “loa log --help”"),
            (["log", "xem"], "loa: không có lệnh “log xem” — xem “loa log --help”"),
        ]
        for (arguments, expected) in cases {
            let r = try await Harness.run(station.loa.path, arguments.contains("--config") ? arguments : arguments + ["--config", station.config])
            #expect(r.status == 1 && r.err == expected + "\n", "\(arguments): \(r.err)")
        }
    }

    @Test("Help reads in Vietnamese, headings and the --help and --version lines included; the version, completions and dump-help stay as they were")
    func helpInVietnamese() async throws {
        let loa = try Harness.loaBinary().path
        let cases: [([String], [String])] = [
            (["--help"], ["TỔNG QUAN: Loa: điều khiển phát thanh cho đài truyền thanh cấp xã.", "CÁCH DÙNG: loa <lệnh>", "TÙY CHỌN:",
                          "  --version               Hiện phiên bản.", "  -h, --help              Hiện trợ giúp này.", "LỆNH CON:",
                          "  segment                 Thư viện bản tin.", "  Xem “loa help <lệnh>” để biết chi tiết."]),
            (["schedule", "add", "--help"], ["CÁCH DÙNG: loa schedule add [<tùy chọn>] <id>", "ĐỐI SỐ:",
                                             "  <id>                    Mã khung giờ mới (chữ ASCII, số, “-”, “_”).", "TÙY CHỌN:",
                                             "  -h, --help              Hiện trợ giúp này."]),
            (["help", "log"], ["CÁCH DÙNG: loa log <lệnh>", "LỆNH CON:",
                               "  show (mặc định)         Nhật ký phát: mỗi lượt phát một dòng (mặc định của",
                               "  Xem “loa help log <lệnh>” để biết chi tiết."]),
            (["log", "show", "-h"], ["  --format <format>       table, csv hoặc json. (giá trị: table, csv, json;",
                                     "                          mặc định: table)"]),
            (["schedule"], ["CÁCH DÙNG: loa schedule <lệnh>", "  list                    Các khung giờ, mỗi dòng một khung."]),
        ]
        for (arguments, lines) in cases {
            let help = try await Harness.run(loa, arguments)
            let said = help.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(help.status == 0 && help.err.isEmpty, "\(arguments): \(help.err)")
            for line in lines { #expect(said.contains(line), "\(arguments): no line “\(line)” in\n\(help.out)") }
            for english in ["OVERVIEW:", "USAGE:", "ARGUMENTS:", "OPTIONS:", "SUBCOMMANDS:", "Show help", "Show the version", "See '",
                            "default", "<subcommand>", "<options>"] {
                #expect(!help.out.contains(english), "\(arguments): “\(english)” in\n\(help.out)")
            }
        }
        let version = try await Harness.run(loa, ["--version"])
        #expect(version.out == "\(try #require(version.out.split(separator: "\n").first))\n" && version.out.first?.isNumber == true)
        let bash = try await Harness.run(loa, ["--generate-completion-script", "bash"])
        #expect(bash.status == 0 && bash.out.hasPrefix("#!/bin/bash") && bash.out.contains("schedule"))
        // The man page is made from this JSON, and says --help and --version in Vietnamese itself.
        let dump = try await Harness.run(loa, ["--experimental-dump-help"])
        #expect(dump.status == 0 && (try? JSONSerialization.jsonObject(with: Data(dump.out.utf8))) != nil)
    }

    @Test("Commands that only read open the database read-only: they work on a read-only mount, as beside a daemon holding its writes")
    func readOnlyCommands() async throws {
        let station = try ProcessStation(device: "null")
        try await station.addTone("tin.wav", frequency: 440, seconds: 0.3, rate: 48000, title: "Tin sáng")
        try """
        [[slot]]
        id = "sang"
        start = "06:00"
        play = ["tin.wav"]
        """.write(to: station.schedules.appendingPathComponent("sang.toml"), atomically: true, encoding: .utf8)
        // The station's folder mounted read-only in a mount namespace of its own (no root needed with a user one).
        let commands = [["log", "--format", "json"], ["report"], ["segment", "list"], ["schedule", "show", "--date", "2026-11-12"],
                        ["schedule", "validate"], ["log", "export", "--out", "/dev/null"]]
        let script = "mount --bind \"$0\" \"$0\" && mount -o remount,ro,bind \"$0\" || exit 99\n"
            + commands.map { "\"$1\" " + $0.joined(separator: " ") + " --config \"$0/loa.toml\" > /dev/null 2>> \"$2\"; echo $?" }
                .joined(separator: "\n")
        let errors = try Harness.temporaryFolder("loa-ro").appendingPathComponent("err.txt")
        let run = try await Harness.run("/usr/bin/unshare", ["--user", "--map-root-user", "--mount", "/bin/bash", "-c", script,
                                                      station.folder.path, station.loa.path, errors.path])
        let codes = run.out.split(separator: "\n").map(String.init)
        let said = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        // `log export` needs signing_key: it may refuse for that, never for the read-only database.
        #expect(codes.prefix(5) == ["0", "0", "0", "0", "0"], "\(run.out)\(run.err)\n\(said)")
        #expect(!said.contains("readonly") && !said.contains("không mở được"), "\(said)")
        #expect(!FileManager.default.fileExists(atPath: station.folder.appendingPathComponent("loa.sqlite-wal").path))
    }

    @Test("loa --version prints the version and exits 0; play takes --config before or after it and plays on the station's device")
    func versionAndPlayConfig() async throws {
        let station = try ProcessStation(device: "null")
        let version = try await Harness.run(station.loa.path, ["--version"])
        #expect(version.status == 0 && version.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3,
                "\(version.out)\(version.err)")
        let tone = station.audio.appendingPathComponent("thu.wav")
        try await Harness.tone(tone, frequency: 440, seconds: 0.2, rate: 48000)
        // The station's device is `null`: without --config's device, ALSA's default would be tried.
        for arguments in [["play", tone.path, "--config", station.config], ["--config", station.config, "play", tone.path]] {
            let played = try await Harness.run(station.loa.path, arguments)
            #expect(played.status == 0 && played.out.contains("✓"), "\(arguments): \(played.out)\(played.err)")
        }
    }
}
