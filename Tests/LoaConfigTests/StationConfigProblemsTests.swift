import Foundation
import LoaConfig
import LoaCore
import Testing

/// The lines of the error `loa.toml`'s `text` gives, one per problem; empty when it parses.
func configProblems(_ text: String, file: URL) -> [String] {
    do {
        _ = try StationConfig.parse(text, file: file)
        return []
    } catch {
        return "\(error)".components(separatedBy: "\n")
    }
}

@Suite("loa.toml: every problem at its own line, with what to do")
struct StationConfigProblemsTests {
    let file = URL(fileURLWithPath: "/etc/loa/loa.toml")
    func problems(_ text: String) -> [String] { configProblems(text, file: file) }

    @Test("A misspelt key in [loudness] is named at its line, with its table and the key meant; the target is not left at −16")
    func misspeltKeyInTable() {
        #expect(problems("station = \"x\"\n\n[loudness]\ntaget_lufs = -23\n") == [
            "/etc/loa/loa.toml:4: khóa không hợp lệ “taget_lufs” trong [loudness]: có phải “target_lufs”? (các khóa hợp lệ: target_lufs)",
        ])
        #expect(problems("[[feed]]\nname = \"tinh\"\nurl = \"http://x/feed/\"\npublic_keys = [\"uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q=\"]\nintervall = \"5m\"\n") == [
            "/etc/loa/loa.toml:5: khóa không hợp lệ “intervall” trong [[feed]]: có phải “interval”? (các khóa hợp lệ: name, url, public_keys, interval, timeout)",
        ])
        #expect(problems("staton = \"x\"\n") == [
            "/etc/loa/loa.toml:1: khóa không hợp lệ “staton”: có phải “station”? (các khóa hợp lệ: station, timezone, schedules, audio, database, control_socket, device, monitor, monitor_silence_dbfs, signing_key, [loudness], [[feed]], [[source]])",
        ])
    }

    @Test("A top-level key written below a table is said to belong to that table, and where to move it")
    func rootKeyBelowTable() {
        let text = """
        station = "x"

        [loudness]
        target_lufs = -18
        signing_key = "tram.key"

        [[feed]]
        name = "tinh"
        url = "http://x/feed/"
        public_keys = ["uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q="]
        device = "hw:1"
        """
        #expect(problems(text) == [
            "/etc/loa/loa.toml:5: khóa “signing_key” nằm dưới [loudness] (dòng 3) nên bị coi là của bảng này: đặt nó trước bảng đầu tiên (dòng 3)",
            "/etc/loa/loa.toml:11: khóa “device” nằm dưới [[feed]] (dòng 7) nên bị coi là của bảng này: đặt nó trước bảng đầu tiên (dòng 3)",
        ])
        // The other way round: a table's key written at the top.
        #expect(problems("target_lufs = -18\n") == [
            "/etc/loa/loa.toml:1: khóa “target_lufs” thuộc bảng [loudness]: viết nó dưới một dòng [loudness]",
        ])
    }

    @Test("An unknown table is reported at its own header line, not at line 1; a misspelt one with the table meant")
    func unknownTable() {
        #expect(problems("station = \"x\"\ndevice = \"hw:0\"\n\n[misc]\nnote = 1\n") == [
            "/etc/loa/loa.toml:4: bảng không hợp lệ [misc] (các bảng hợp lệ: [loudness], [[feed]], [[source]])",
        ])
        #expect(problems("station = \"x\"\n[loudnes]\ntarget_lufs = -18\n") == [
            "/etc/loa/loa.toml:2: bảng không hợp lệ [loudnes]: có phải [loudness]? (các bảng hợp lệ: [loudness], [[feed]], [[source]])",
        ])
        #expect(problems("loudness = -16\n") == [
            "/etc/loa/loa.toml:1: “loudness” phải là bảng: dòng [loudness], rồi target_lufs = … ở dòng dưới",
        ])
    }

    @Test("Every problem of the file is reported together, each at its own line, in line order")
    func everyProblem() {
        let text = """
        station = "x"
        timezone = "Sao Hỏa"
        volume = 3
        monitor_silence_dbfs = 5

        [[feed]]
        name = "tinh"
        url = "ftp://x/feed/"
        public_keys = ["uiIrff0fqkggkRRbElXjcR0uhYK4FuigaRBqCUbRa/Q="]

        [[feed]]
        name = "huyen"
        url = "http://x/feed/"
        public_keys = ["abc"]
        interval = "soon"

        [loudness]
        target_lufs = 3
        taget_lufs = -23
        """
        let found = problems(text)
        #expect(found.map { $0.split(separator: ":").prefix(2).joined(separator: ":") } == [
            "/etc/loa/loa.toml:2", "/etc/loa/loa.toml:3", "/etc/loa/loa.toml:4", "/etc/loa/loa.toml:8",
            "/etc/loa/loa.toml:14", "/etc/loa/loa.toml:15", "/etc/loa/loa.toml:18", "/etc/loa/loa.toml:19",
        ], "\(found.joined(separator: "\n"))")
        #expect(found[0].contains("múi giờ không hợp lệ “Sao Hỏa”") && found[1].contains("“volume”")
                && found[7].contains("“taget_lufs”"), "\(found)")
    }

    @Test("A loa.toml saved with a UTF-8 BOM (Notepad) parses, and its problems keep their lines")
    func byteOrderMark() throws {
        let config = try StationConfig.parse("\u{FEFF}station = \"UBND xã\"\n[loudness]\ntarget_lufs = -18\n", file: file)
        #expect(config.station == "UBND xã" && config.targetLUFS == -18)
        #expect(problems("\u{FEFF}station = \"x\"\n\n[misc]\n") == [
            "/etc/loa/loa.toml:3: bảng không hợp lệ [misc] (các bảng hợp lệ: [loudness], [[feed]], [[source]])",
        ])
        #expect(problems("\u{FEFF}volume = 3\r\nstation = \"x\"\r\n[loudness]\r\ntaget_lufs = 1\r\n").map { $0.prefix(20) } == [
            "/etc/loa/loa.toml:1:", "/etc/loa/loa.toml:4:",
        ])
    }

    @Test("TOML syntax errors are said in Vietnamese at file:line:column, with what to fix and TOMLKit's words in parentheses", arguments: [
        ("station = \"x\ndevice = \"y\"\n", "1:13", "chuỗi chưa đóng: thêm dấu ngoặc kép"),
        ("station \"x\"\n", "1:9", "thiếu dấu = giữa khóa và giá trị"),
        ("trạm = \"x\"\n", "1:3", "chữ không dấu"),
        ("station = \"x\"\nstation = \"y\"\n", "2:11", "khóa “station” viết hai lần: xóa một dòng"),
        ("[loudness]\ntarget_lufs = -16\n[loudness]\n", "3:1", "bảng [loudness] khai báo hai lần"),
        ("device = hw:1\n", "1:10", "chữ đặt trong ngoặc kép (ví dụ device = \"hw:1\")"),
        ("station = \"x\" device = \"y\"\n", "1:15", "mỗi khóa một dòng"),
        ("[[feed]]\npublic_keys = [\"a\", \"b\"\n", "2:", "danh sách chưa đóng"),
        ("signing_key = \"C:\\khoa\\tram.key\"\n", "1:", "dấu \\ trong chuỗi ngoặc kép"),
        ("[loudness\n", "1:10", "dòng tên bảng phải là [tên] hoặc [[tên]]"),
    ])
    func syntaxErrors(text: String, at: String, advice: String) {
        let found = problems(text)
        #expect(found.count == 1 && found[0].hasPrefix("/etc/loa/loa.toml:\(at)") && found[0].contains(": cú pháp TOML sai (Error while parsing ")
                && found[0].contains(advice), "\(found)")
    }

    @Test("TOMLKit's detail stays on one line even when it quotes a line end")
    func syntaxDetailOnOneLine() {
        let found = problems("monitor = tru\n")
        #expect(found.count == 1 && !found[0].contains("\n"), "\(found)")
    }
}
