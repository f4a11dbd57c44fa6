import Foundation
import Testing

/// `loa schedule add/remove/enable/disable/edit` on real files, as the officer runs them.
@Suite("loa schedule: surgical edits from the CLI")
struct ScheduleEditCLITests {
    /// Two files, CRLF and LF, with Vietnamese comments and several slots; the audio they name exists.
    func station() throws -> (ProcessStation, morning: URL, evening: URL) {
        let station = try ProcessStation(device: "null")
        for name in ["a.wav", "b.wav"] {
            try Data("RIFF".utf8).write(to: station.audio.appendingPathComponent(name))
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
        let (station, morning, evening) = try station()
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
            days = "sat,sun"
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

    @Test("A refused edit names the problem at file:line as validate does, exits 1, and leaves the file's bytes and inode")
    func refusedEditTouchesNothing() async throws {
        let (station, _, evening) = try station()
        let before = try bytes(evening)
        let inode = try FileManager.default.attributesOfItem(atPath: evening.path)[.systemFileNumber] as? Int
        let attempts: [([String], String)] = [
            (["schedule", "edit", "toi", "--start", "25:00"], "schedules/toi.toml:7: giờ không hợp lệ \"25:00\""),
            (["schedule", "edit", "toi", "--end", "17:00"], "schedules/toi.toml:8: giờ kết thúc 17:00 không sau giờ bắt đầu 17:15"),
            (["schedule", "add", "chen", "--start", "17:20", "--play", "a.wav", "--file", "toi"],
             "schedules/toi.toml:20: khung giờ “chen” (17:20) trùng với “toi” (17:15–17:30) ở schedules/toi.toml:5"),
            (["schedule", "edit", "muon", "--play", "khong-co.mp3"], "schedules/toi.toml:18: không tìm thấy tệp “khong-co.mp3”"),
            (["schedule", "edit", "muon", "--days", "thu-hai"], "schedules/toi.toml:19: ngày phát không hợp lệ"),
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
        #expect(left == ["sang.toml", "toi.toml"], "no temporary file is left behind")
    }

    @Test("--file picks the file, and a new file is created for a slot that goes nowhere else")
    func fileOption() async throws {
        let (station, _, _) = try station()
        let r = try await station.loaCommand(["schedule", "add", "trua", "--start", "11:30", "--play", "a.wav", "--file", "trua"])
        #expect(r.status == 0, "\(r.err)")
        let created = station.schedules.appendingPathComponent("trua.toml")
        #expect(try String(contentsOf: created, encoding: .utf8) == "[[slot]]\nid = \"trua\"\nstart = \"11:30\"\nplay = [\"a.wav\"]\n")
        let outside = try await station.loaCommand(["schedule", "add", "x", "--start", "12:30", "--play", "a.wav", "--file", "../x"])
        #expect(outside.status == 1 && outside.err.hasPrefix("loa: --file ../x: chỉ tên tệp"), "\(outside.err)")
        let validate = try await station.loaCommand(["schedule", "validate"])
        #expect(validate.status == 0 && validate.out.contains("4 khung giờ trong 3 tệp"), "\(validate.out)\(validate.err)")
    }
}
