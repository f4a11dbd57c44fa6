import Foundation
import LoaConfig
import LoaCore
import Testing

@Suite("loa.toml: [[source]] upstreams for relay slots")
struct StationConfigSourceTests {
    let file = URL(fileURLWithPath: "/etc/loa/loa.toml")
    func problems(_ text: String) -> [String] { configProblems(text, file: file) }

    @Test("A stream and a line input read with their labels, their bounds (durations as text or seconds) and their lines; the defaults otherwise")
    func sourcesRead() throws {
        let config = try StationConfig.parse("""
            station = "x"

            [[source]]
            name = "vov1"
            label = "VOV1"
            url = "https://luong.example.vn/vov1/playlist.m3u8"
            lead = "15s"
            buffer = 2.5
            stall = 6
            connect_timeout = "5s"
            silence_threshold = -45
            silence = "1m"
            return = "4s"
            reconnect = "1s"
            reconnect_max = "30s"

            [[source]]
            name = "may-thu"
            capture = "plughw:1,0"
            """, file: file)
        try #require(config.sources.count == 2)
        let vov = config.sources[0], line = config.sources[1]
        #expect(vov.name == "vov1" && vov.label == "VOV1" && vov.input == .stream(url: "https://luong.example.vn/vov1/playlist.m3u8"))
        #expect(vov.location == SourceLocation(file: "/etc/loa/loa.toml", line: 3))
        var tuning = RelayTuning()
        tuning.leadSeconds = 15
        tuning.bufferSeconds = 2.5
        tuning.stallSeconds = 6
        tuning.connectTimeoutSeconds = 5
        tuning.silenceThresholdDB = -45
        tuning.silenceSeconds = 60
        tuning.returnSeconds = 4
        tuning.reconnectSeconds = 1
        tuning.reconnectMaxSeconds = 30
        #expect(vov.tuning == tuning)
        #expect(line.name == "may-thu" && line.label == "may-thu" && line.input == .capture(device: "plughw:1,0"))
        #expect(line.tuning == RelayTuning() && line.location.line == 17)
        #expect(config.source(named: "may-thu") == line && config.source(named: "vov2") == nil)
        #expect(try StationConfig.parse("station = \"x\"\n", file: file).sources.isEmpty)
    }

    @Test("The sample loa.toml's commented [[source]] reads as written once uncommented")
    func sampleSourceReads() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("loa.toml")
        let text = try String(contentsOf: sample, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let header = try #require(lines.firstIndex(of: "# [[source]]"))
        // The example's lines, uncommented; the alternative it shows (`# # capture`) stays a comment.
        let uncommented = lines[..<header] + lines[header...].map { $0.hasPrefix("# ") && !$0.hasPrefix("# # ") ? String($0.dropFirst(2)) : $0 }
        let config = try StationConfig.parse(uncommented.joined(separator: "\n"), file: sample)
        #expect(config.sources.map(\.name) == ["vov1"] && config.sources.first?.label == "VOV1")
        #expect(config.sources.first?.tuning == RelayTuning())
        // Commented, it declares none.
        #expect(try StationConfig.parse(text, file: sample).sources.isEmpty)
    }

    @Test("Every problem of every [[source]] is said at its own line: a name twice, both or neither of url and capture, a URL that is not http/https, bad durations and thresholds, an unknown key")
    func everySourceProblem() {
        let found = problems("""
            station = "x"

            [[source]]
            name = "vov1"
            url = "https://a.example/vov1.m3u8"

            [[source]]
            name = "vov1"
            url = "http://b.example/vov1.mp3"

            [[source]]
            name = "hai-nguon"
            url = "http://c.example/x.mp3"
            capture = "hw:1"

            [[source]]
            name = "khong-gi"

            [[source]]
            name = "ftp"
            url = "ftp://d.example/x.mp3"

            [[source]]
            name = "cham"
            url = "http://e.example/x.mp3"
            stall = "soon"
            buffer = "2h"
            silence_threshold = 6
            reconect = "2s"

            [[source]]
            name = "Đài tỉnh"
            capture = ""
            """)
        #expect(found == [
            "/etc/loa/loa.toml:8: nguồn tiếp sóng “vov1” khai báo hai lần (lần đầu ở dòng 4)",
            "/etc/loa/loa.toml:14: nguồn “hai-nguon”: chỉ dùng một trong hai: “url” (luồng qua mạng) hoặc “capture” (đường vào của card âm thanh)",
            "/etc/loa/loa.toml:16: nguồn “khong-gi” cần “url” (luồng http:// hoặc https://: Icecast, Shoutcast, HLS .m3u8) hoặc “capture” (thiết bị thu ALSA, ví dụ \"plughw:1,0\")",
            "/etc/loa/loa.toml:21: nguồn “ftp”: “url” phải là địa chỉ http:// hoặc https:// của luồng (Icecast, Shoutcast hoặc HLS .m3u8), không phải \"ftp://d.example/x.mp3\"",
            "/etc/loa/loa.toml:26: nguồn “cham”: “stall” phải là thời lượng từ 1 giây đến 5 phút, viết như \"4s\", \"2m\" hoặc số giây, không phải \"soon\"",
            "/etc/loa/loa.toml:27: nguồn “cham”: “buffer” phải là thời lượng từ 0,5 giây đến 1 phút, viết như \"4s\", \"2m\" hoặc số giây, không phải \"2h\"",
            "/etc/loa/loa.toml:28: “silence_threshold” phải là số từ -90 đến -10, ví dụ -40",
            "/etc/loa/loa.toml:29: khóa không hợp lệ “reconect” trong [[source]]: có phải “reconnect”? (các khóa hợp lệ: name, label, url, capture, lead, buffer, stall, connect_timeout, silence, return, reconnect, reconnect_max, silence_threshold)",
            "/etc/loa/loa.toml:32: [[source]] cần “name”: chữ không dấu, số, - hoặc _ (ví dụ \"vov1\"); khung giờ viết relay = \"<name>\"",
            "/etc/loa/loa.toml:33: [[source]] ở dòng 31: “capture” phải là tên thiết bị thu ALSA, ví dụ \"plughw:1,0\" hoặc \"hw:1\"",
        ], "\(found.joined(separator: "\n"))")
    }

    @Test("A buffer not shorter than the lead, and a reconnect ceiling below its first wait, are refused at the key written")
    func boundsThatContradict() {
        #expect(problems("[[source]]\nname = \"a\"\nurl = \"http://x/a.mp3\"\nbuffer = \"12s\"\n") == [
            "/etc/loa/loa.toml:4: nguồn “a”: “buffer” (12 giây) phải ngắn hơn “lead” (10 giây): kết nối mở trước giờ phát “lead” giây và phải nạp đầy bộ đệm trước khi đến giờ",
        ])
        #expect(problems("[[source]]\nname = \"a\"\nurl = \"http://x/a.mp3\"\nlead = 2\n") == [
            "/etc/loa/loa.toml:4: nguồn “a”: “buffer” (3 giây) phải ngắn hơn “lead” (2 giây): kết nối mở trước giờ phát “lead” giây và phải nạp đầy bộ đệm trước khi đến giờ",
        ])
        #expect(problems("[[source]]\nname = \"a\"\nurl = \"http://x/a.mp3\"\nreconnect = \"20s\"\n") == [
            "/etc/loa/loa.toml:4: nguồn “a”: “reconnect_max” (15 giây) không được ngắn hơn “reconnect” (20 giây)",
        ])
    }

    @Test("A source's key written at the top is said to belong to [[source]]; “source” not written as a table is refused")
    func sourceKeysOutOfPlace() {
        #expect(problems("capture = \"hw:1\"\n") == [
            "/etc/loa/loa.toml:1: khóa “capture” thuộc bảng [[source]]: viết nó dưới một dòng [[source]]",
        ])
        #expect(problems("source = \"vov1\"\n") == ["/etc/loa/loa.toml:1: “source” phải là bảng [[source]]"])
        #expect(problems("[sources]\nname = \"a\"\n").first?.contains("có phải [[source]]?") == true)
    }
}
