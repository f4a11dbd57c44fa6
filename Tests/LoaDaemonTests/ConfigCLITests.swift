import Foundation
import Testing

/// `loa.toml` as technicians get it wrong, through the real binary: every problem is named, each at its line,
/// wherever the file is read (a command, `loa doctor`, the daemon's reload).
@Suite("loa.toml problems from the CLI and the daemon")
struct ConfigCLITests {
    /// Four problems, on lines 2, 5, 6 and 8.
    static let brokenConfig = """
    station = "UBND xã Thử Nghiệm"
    device = 3
    [loudness]
    target_lufs = -18
    taget_lufs = -23
    signing_key = "tram.key"
    [misc]
    note = "x"
    """

    static let expectedProblems = [
        "loa.toml:2: “device” phải là một chuỗi",
        "loa.toml:5: khóa không hợp lệ “taget_lufs” trong [loudness]: có phải “target_lufs”?",
        "loa.toml:6: khóa “signing_key” nằm dưới [loudness] (dòng 3) nên bị coi là của bảng này: đặt nó trước bảng đầu tiên (dòng 3)",
        "loa.toml:7: bảng không hợp lệ [misc]",
    ]

    /// Whether `lines` holds, in this order, a line for each expected problem (the path of loa.toml before it). A
    /// daemon may read the file twice (its change, then SIGHUP): the first reading counts.
    func reportsEveryProblem(_ lines: [String], in station: ProcessStation) -> Bool {
        let found = lines.compactMap { line in Self.expectedProblems.firstIndex { line.contains(station.folder.path + "/" + $0) } }
        return Array(found.prefix(Self.expectedProblems.count)) == Array(Self.expectedProblems.indices)
    }

    @Test("A command reading a broken loa.toml lists every problem at its own line, then how many, and exits 1")
    func commandListsEveryProblem() async throws {
        let station = try ProcessStation(device: "null")
        try Self.brokenConfig.write(toFile: station.config, atomically: true, encoding: .utf8)
        for command in [["schedule", "validate"], ["schedule", "list"]] {
            let r = try await station.loaCommand(command)
            #expect(r.status == 1, "\(command): \(r.out)\(r.err)")
            let lines = r.err.split(separator: "\n").map(String.init)
            #expect(reportsEveryProblem(lines, in: station), "\(command): \(r.err)")
            #expect(lines.last == "loa: 4 lỗi trong \(station.config): sửa từng dòng trên rồi chạy lại", "\(command): \(r.err)")
        }
    }

    @Test("loa doctor lists every problem of loa.toml under its configuration line")
    func doctorListsEveryProblem() async throws {
        let station = try ProcessStation(device: "null")
        try Self.brokenConfig.write(toFile: station.config, atomically: true, encoding: .utf8)
        let r = try await station.loaCommand(["doctor"])
        #expect(r.status == 1, "\(r.out)\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "✗ Cấu hình: 4 lỗi trong \(station.config); các mục khác cần cấu hình nên không kiểm tra được", "\(r.out)")
        #expect(reportsEveryProblem(lines, in: station) && lines.filter { $0.hasPrefix("    \(station.folder.path)/loa.toml:") }.count == 4,
                "\(r.out)")
    }

    @Test("The daemon's reload logs every problem of a broken loa.toml, each at its line, and keeps the configuration it has")
    func reloadLogsEveryProblem() async throws {
        let station = try ProcessStation(device: "null")
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("Kênh điều khiển", timeout: 15), "\(daemon.output)")
        try Self.brokenConfig.write(toFile: station.config, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        #expect(try await daemon.waitForOutput("giữ cấu hình cũ", timeout: 10), "\(daemon.output)")
        let lines = daemon.output.split(separator: "\n").map(String.init)
        #expect(reportsEveryProblem(lines, in: station), "\(daemon.output)")
        #expect(daemon.isRunning)
    }

    @Test("A TOML syntax error, in loa.toml or a schedule, is said in Vietnamese at file:line:column with what to fix")
    func syntaxErrors() async throws {
        let station = try ProcessStation(device: "null")
        try "station = \"UBND xã\"\ndevice = hw:1\n".write(toFile: station.config, atomically: true, encoding: .utf8)
        let config = try await station.loaCommand(["schedule", "validate"])
        #expect(config.status == 1)
        #expect(config.err == "loa: \(station.config):2:10: cú pháp TOML sai (Error while parsing value: could not determine value type): "
                + "giá trị không hợp lệ: chữ đặt trong ngoặc kép (ví dụ device = \"hw:1\"), số viết không ngoặc, có/không viết true hoặc false\n",
                "\(config.err)")

        try "station = \"UBND xã\"\ndevice = \"null\"\n".write(toFile: station.config, atomically: true, encoding: .utf8)
        try "[[slot]]\nid = \"sang\"\nstart = \"05:30\nplay = [\"a.wav\"]\n"
            .write(to: station.schedules.appendingPathComponent("sang.toml"), atomically: true, encoding: .utf8)
        let schedule = try await station.loaCommand(["schedule", "validate"])
        #expect(schedule.status == 1)
        #expect(schedule.err.hasPrefix("schedules/sang.toml:3:15: cú pháp TOML sai (Error while parsing string: ")
                && schedule.err.contains("): chuỗi chưa đóng: thêm dấu ngoặc kép \" ở cuối giá trị"), "\(schedule.err)")
    }
}

