import Foundation
import Testing

/// `loa schedule add/remove/enable/disable/edit` on real files, as the officer runs them.
@Suite("loa schedule: surgical edits from the CLI")
struct ScheduleEditCLITests {
    /// Two files, CRLF and LF, with Vietnamese comments and several slots; the audio they name is imported.
    func station() async throws -> (ProcessStation, morning: URL, evening: URL) {
        let station = try ProcessStation(device: "null")
        for (name, frequency) in [("a.wav", 440), ("b.wav", 660)] {
            try Harness.sineWAV(station.audio.appendingPathComponent(name), frequency: frequency, seconds: 0.3, rate: 48000)
            let added = try await station.loaCommand(["segment", "add", station.audio.appendingPathComponent(name).path, "--title", name])
            guard added.status == 0 else { throw HarnessError("segment add: \(added.err)") }
        }
        let morning = station.schedules.appendingPathComponent("sang.toml")
        let evening = station.schedules.appendingPathComponent("toi.toml")
        try Data("""
        # Buổi sáng — sửa bằng Notepad trên máy xã.
        [[slot]]
        id = "sang"
        start = "05:30"   # sau bản tin Đài huyện
        play = ["a.wav"]

        """.replacingOccurrences(of: "\n", with: "\r\n").utf8).write(to: morning)
        try Data("""
        # Buổi tối.
        title = "Chương trình tối"

        # Chuyên mục ASEAN.
        [[slot]]
        id = "toi"
        start = "17:15"
        end = "17:30"
        days = "mon-fri"
        play = [
            "a.wav",   # bản tin
            "b.wav",
        ]

        [[slot]]
        id = "muon"
        start = "20:00"
        play = ["b.wav"] # khung cuối, không có dòng trống sau
        """.utf8).write(to: evening)
        return (station, morning, evening)
    }

    func bytes(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    @Test("add, disable, enable, edit and remove leave every other byte of both files as it was, CRLF included")
    func surgicalRoundTrip() async throws {
        let (station, morning, evening) = try await station()
        let (morningBefore, eveningBefore) = (try bytes(morning), try bytes(evening))

        // An evening slot goes beside the evening ones; a morning one beside the morning ones.
        var r = try await station.loaCommand(["schedule", "add", "thoi-su", "--start", "18:30", "--end", "18:45",
                                              "--days", "sat,sun", "--play", "a.wav", "b.wav", "--late", "skip"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("Đã thêm khung giờ “thoi-su” vào schedules/toi.toml:20"), "\(r.out)")
        #expect(try bytes(morning) == morningBefore)
        let added = try String(contentsOf: evening, encoding: .utf8)
        #expect(added == String(decoding: eveningBefore, as: UTF8.self) + "\n" + """

            [[slot]]
            id = "thoi-su"
            start = "18:30"
            end = "18:45"
            days = ["sat", "sun"]
            play = ["a.wav", "b.wav"]
            late = "skip"
            """)
        r = try await station.loaCommand(["schedule", "add", "sang-2", "--start", "06:00", "--play", "b.wav"])
        #expect(r.status == 0 && r.out.contains("schedules/sang.toml"), "\(r.out)\(r.err)")
        #expect(try String(contentsOf: morning, encoding: .utf8).hasSuffix("\r\n\r\n[[slot]]\r\nid = \"sang-2\"\r\nstart = \"06:00\"\r\nplay = [\"b.wav\"]\r\n"))

        // A disabled slot is kept in the file but planned on no day.
        r = try await station.loaCommand(["schedule", "disable", "sang"])
        #expect(r.status == 0, "\(r.err)")
        let show = try await station.loaCommand(["schedule", "show", "--date", "2026-11-27", "--json"])
        #expect(show.status == 0 && !show.out.contains("\"slot\" : \"sang\"") && show.out.contains("\"slot\" : \"sang-2\""), "\(show.out)")
        r = try await station.loaCommand(["schedule", "enable", "sang"])
        #expect(r.status == 0, "\(r.err)")

        r = try await station.loaCommand(["schedule", "edit", "sang", "--start", "05:45"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try String(contentsOf: morning, encoding: .utf8).contains("\r\nstart = \"05:45\"   # sau bản tin Đài huyện\r\n"))
        r = try await station.loaCommand(["schedule", "edit", "sang", "--start", "05:30"])
        #expect(r.status == 0, "\(r.err)")

        for id in ["thoi-su", "sang-2"] {
            r = try await station.loaCommand(["schedule", "remove", id])
            #expect(r.status == 0, "\(r.err)")
        }
        #expect(try bytes(morning) == morningBefore)
        #expect(try bytes(evening) == eveningBefore)
    }

    @Test("A file saved with a UTF-8 BOM (Notepad) keeps it through add, disable, enable, edit and remove, LF and CRLF, byte for byte")
    func byteOrderMark() async throws {
        let (station, morning, evening) = try await station()
        // The BOM before the first `[[slot]]` of one file, before a comment in the other.
        let bom = Data([0xEF, 0xBB, 0xBF])
        let morningText = "[[slot]]\r\nid = \"sang\"\r\nstart = \"05:30\"\r\nplay = [\"a.wav\"]\r\n"
        try (bom + Data(morningText.utf8)).write(to: morning)
        try (bom + (try bytes(evening))).write(to: evening)
        let (morningBefore, eveningBefore) = (try bytes(morning), try bytes(evening))

        let validate = try await station.loaCommand(["schedule", "validate"])
        #expect(validate.status == 0 && validate.out.contains("3 khung giờ trong 2 tệp"), "\(validate.out)\(validate.err)")
        let steps: [[String]] = [
            ["schedule", "disable", "sang"], ["schedule", "enable", "sang"],
            ["schedule", "disable", "toi"], ["schedule", "enable", "toi"],
            ["schedule", "edit", "sang", "--start", "05:45"], ["schedule", "edit", "sang", "--start", "05:30"],
            ["schedule", "add", "sang-2", "--start", "06:00", "--play", "b.wav", "--file", "sang"],
            ["schedule", "add", "khuya", "--start", "22:00", "--play", "b.wav", "--file", "toi"],
            ["schedule", "remove", "sang-2"], ["schedule", "remove", "khuya"],
        ]
        for step in steps {
            let r = try await station.loaCommand(step)
            #expect(r.status == 0, "\(step): \(r.out)\(r.err)")
            #expect(try bytes(morning).prefix(3) == bom && bytes(evening).prefix(3) == bom, "\(step) dropped the BOM")
        }
        #expect(try bytes(morning) == morningBefore)
        #expect(try bytes(evening) == eveningBefore)
        // The slot behind the BOM is found at line 1, as the editor shows it.
        let list = try await station.loaCommand(["schedule", "list"])
        #expect(list.out.contains("schedules/sang.toml:1"), "\(list.out)\(list.err)")
    }

    @Test("A refused edit names the problem at file:line as validate does, exits 1, and leaves the file's bytes and inode")
    func refusedEditTouchesNothing() async throws {
        let (station, _, evening) = try await station()
        let before = try bytes(evening)
        let inode = try FileManager.default.attributesOfItem(atPath: evening.path)[.systemFileNumber] as? Int
        let attempts: [([String], String)] = [
            (["schedule", "edit", "toi", "--start", "25:00"], "schedules/toi.toml:7 (--start): giờ không hợp lệ \"25:00\""),
            (["schedule", "edit", "toi", "--end", "17:00"], "schedules/toi.toml:8 (--end): giờ kết thúc 17:00 không sau giờ bắt đầu 17:15"),
            (["schedule", "add", "chen", "--start", "17:20", "--play", "a.wav", "--file", "toi"],
             "schedules/toi.toml:5: khung giờ “toi” (17:15–17:30) trùng với “chen” (17:20) ở schedules/toi.toml:20\n"
             + "schedules/toi.toml:20: khung giờ “chen” (17:20) trùng với “toi” (17:15–17:30) ở schedules/toi.toml:5\n"),
            (["schedule", "edit", "muon", "--play", "khong-co.mp3"], "schedules/toi.toml:18 (--play): không tìm thấy tệp “khong-co.mp3”"),
            (["schedule", "edit", "muon", "--days", "thu-hai"], "schedules/toi.toml:19 (--days): ngày phát không hợp lệ"),
            (["schedule", "add", "toi", "--start", "21:00", "--play", "a.wav"], "loa: đã có khung giờ “toi” ở schedules/toi.toml:5"),
            (["schedule", "remove", "khong-co"], "loa: không có khung giờ “khong-co”"),
        ]
        for (arguments, message) in attempts {
            let r = try await station.loaCommand(arguments)
            #expect(r.status == 1, "\(arguments)")
            #expect(r.err.hasPrefix(message), "\(arguments): \(r.err)")
            #expect(!r.err.contains("\n\n"))
        }
        #expect(try bytes(evening) == before)
        #expect(try FileManager.default.attributesOfItem(atPath: evening.path)[.systemFileNumber] as? Int == inode)
        let left = try FileManager.default.contentsOfDirectory(atPath: station.schedules.path).sorted()
        #expect(left == [".loa-edit.lock", "sang.toml", "toi.toml"], "no temporary file is left behind")
    }

    @Test("Slots that already overlap: disabling or removing one of them is not refused, though the others' lines change")
    func undoingAnOverlap() async throws {
        let (station, _, _) = try await station()
        try Data("""
        [[slot]]
        id = "x"
        start = "12:00"
        end = "12:30"
        play = ["a.wav"]

        [[slot]]
        id = "y"
        start = "12:10"
        end = "12:40"
        play = ["a.wav"]

        [[slot]]
        id = "z"
        start = "12:20"
        end = "12:50"
        play = ["b.wav"]

        """.utf8).write(to: station.schedules.appendingPathComponent("trua.toml"))
        let before = try await station.loaCommand(["schedule", "validate"])
        #expect(before.status == 1 && before.err.contains("schedules/trua.toml:1: khung giờ “x” (12:00–12:30) trùng với “y”"), "\(before.err)")
        for step in [["schedule", "disable", "z"], ["schedule", "remove", "y"]] {
            let r = try await station.loaCommand(step)
            #expect(r.status == 0, "\(step): \(r.out)\(r.err)")
        }
        let after = try await station.loaCommand(["schedule", "validate"])
        #expect(after.status == 0, "\(after.err)")
    }

    @Test("A slot given an --until already past is written, with a warning that it will not air again")
    func untilInThePast() async throws {
        let (station, _, _) = try await station()
        let past = try await station.loaCommand(["schedule", "add", "cu", "--start", "07:00", "--play", "a.wav", "--until", "2020-12-31"])
        #expect(past.status == 0 && past.err == "loa: ⚠ khung giờ “cu” chỉ phát đến hết 2020-12-31, ngày đã qua: nó sẽ không phát nữa\n",
                "\(past.out)\(past.err)")
        let later = try await station.loaCommand(["schedule", "edit", "cu", "--until", "2099-12-31"])
        #expect(later.status == 0 && later.err.isEmpty, "\(later.err)")
    }

    @Test("schedule show says once what is missing when the intro and the outro are the same missing file")
    func missingJingleSaidOnce() async throws {
        let (station, _, _) = try await station()
        try """
        [[slot]]
        id = "nhac"
        start = "08:00"
        play = ["a.wav"]
        intro = "nhac.wav"
        outro = "nhac.wav"
        """.write(to: station.schedules.appendingPathComponent("nhac.toml"), atomically: true, encoding: .utf8)
        let show = try await station.loaCommand(["schedule", "show", "--date", "2026-11-27"])
        let warnings = show.out.split(separator: "\n").filter { $0.contains("⚠") && $0.contains("nhac.wav") }
        #expect(warnings.count == 1, "\(show.out)")
    }

    @Test("--file picks the file, and a new file is created for a slot that goes nowhere else")
    func fileOption() async throws {
        let (station, _, _) = try await station()
        let r = try await station.loaCommand(["schedule", "add", "trua", "--start", "11:30", "--play", "a.wav", "--file", "trua"])
        #expect(r.status == 0, "\(r.err)")
        let created = station.schedules.appendingPathComponent("trua.toml")
        #expect(try String(contentsOf: created, encoding: .utf8) == "[[slot]]\nid = \"trua\"\nstart = \"11:30\"\nplay = [\"a.wav\"]\n")
        let outside = try await station.loaCommand(["schedule", "add", "x", "--start", "12:30", "--play", "a.wav", "--file", "../x"])
        #expect(outside.status == 1 && outside.err.hasPrefix("loa: --file ../x: chỉ tên tệp"), "\(outside.err)")
        let validate = try await station.loaCommand(["schedule", "validate"])
        #expect(validate.status == 0 && validate.out.contains("4 khung giờ trong 3 tệp"), "\(validate.out)\(validate.err)")
        // Its only slot removed, the file the add made goes too: add then remove gives back the folder.
        let removed = try await station.loaCommand(["schedule", "remove", "trua"])
        #expect(removed.status == 0 && !FileManager.default.fileExists(atPath: created.path), "\(removed.out)\(removed.err)")
    }

    @Test("Eight adds at once all land; a schedule file that is a symlink keeps its link; a file TOML cannot read is not edited")
    func concurrentLinkedBroken() async throws {
        let (station, _, evening) = try await station()
        let before = try bytes(evening)
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for n in 1...8 {
                group.addTask {
                    try await station.loaCommand(["schedule", "add", "c\(n)", "--start", "21:0\(n)", "--play", "a.wav", "--file", "toi"]).status
                }
            }
            for try await status in group { #expect(status == 0) }
        }
        let text = try String(contentsOf: evening, encoding: .utf8)
        #expect((1...8).allSatisfy { text.contains("id = \"c\($0)\"") }, "an edit lost another's: \(text)")
        for n in 1...8 { _ = try await station.loaCommand(["schedule", "remove", "c\(n)"]) }
        #expect(try bytes(evening) == before)

        // The officer keeps the morning file elsewhere and links it in: the edit goes to the file, the link stays.
        let elsewhere = station.folder.appendingPathComponent("chung/sang.toml")
        try FileManager.default.createDirectory(at: elsewhere.deletingLastPathComponent(), withIntermediateDirectories: true)
        let morning = station.schedules.appendingPathComponent("sang.toml")
        try FileManager.default.moveItem(at: morning, to: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: morning.path, withDestinationPath: elsewhere.path)
        let linked = try await station.loaCommand(["schedule", "edit", "sang", "--start", "05:40"])
        #expect(linked.status == 0, "\(linked.err)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: morning.path) == elsewhere.path)
        #expect(try String(contentsOf: elsewhere, encoding: .utf8).contains("start = \"05:40\""))

        let broken = station.schedules.appendingPathComponent("hong.toml")
        try Data("[[slot]]\nid = \"hong\"\nstart = \"12:00\"\nplay = [\"a.wav\"\n".utf8).write(to: broken)
        let refused = try await station.loaCommand(["schedule", "edit", "hong", "--start", "25:00"])
        #expect(refused.status == 1 && refused.err.hasPrefix("loa: schedules/hong.toml:4:17: cú pháp TOML sai (Error while parsing array: encountered end-of-file): danh sách chưa đóng"), "\(refused.err)")
        #expect(try String(contentsOf: broken, encoding: .utf8).contains("\"12:00\""))
    }
}
