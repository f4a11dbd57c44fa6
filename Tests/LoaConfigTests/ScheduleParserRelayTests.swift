import Foundation
import LoaConfig
import LoaCore
import Testing

@Suite("Schedule files: relay slots (relay, fallback, fallback_pillar)")
struct ScheduleParserRelayTests {
    func problems(_ text: String, file: String = "schedules/toi.toml") -> [String] {
        ScheduleParser.parse(text, file: file).problems.map(\.description)
    }

    @Test("relay with a fallback as one string, as a list, as pillars, or none reads as SlotContent.relay")
    func relaySlotsRead() throws {
        let parsed = ScheduleParser.parse("""
            [[slot]]
            id = "vov-sang"
            start = "06:00"
            end = "06:30"
            relay = "vov1"
            fallback = "nhac-hieu"
            intro = "nhac-hieu"

            [[slot]]
            id = "vov-trua"
            start = "11:00"
            end = "11:30"
            relay = "vov1"
            fallback = ["tin-a", "jingles/cho.mp3"]

            [[slot]]
            id = "tinh-toi"
            start = "19:00"
            end = "19:45"
            relay = "tinh"
            fallback_pillar = ["kinh-te", "van-hoa-xa-hoi"]

            [[slot]]
            id = "tinh-dem"
            start = "21:00"
            end = "21:10"
            relay = "tinh"
            """, file: "schedules/tiep-song.toml")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.slots.map(\.content) == [
            .relay(RelaySpec(source: "vov1", fallback: .play(["nhac-hieu"]))),
            .relay(RelaySpec(source: "vov1", fallback: .play(["tin-a", "jingles/cho.mp3"]))),
            .relay(RelaySpec(source: "tinh", fallback: .pick(pillars: [.kinhTe, .vanHoaXaHoi]))),
            .relay(RelaySpec(source: "tinh", fallback: .none)),
        ])
        #expect(parsed.slots[0].intro == "nhac-hieu" && parsed.slots[0].location(of: "relay").line == 5)
    }

    @Test("relay beside play or pillar, without an end, or with both fallbacks is refused at the line that says it, and the slot left out")
    func relayConflicts() {
        let text = """
            [[slot]]
            id = "a"
            start = "06:00"
            end = "06:30"
            relay = "vov1"
            play = ["x.mp3"]

            [[slot]]
            id = "b"
            start = "07:00"
            relay = "vov1"

            [[slot]]
            id = "c"
            start = "08:00"
            end = "08:30"
            pillar = ["kinh-te"]
            relay = "vov1"
            count = 2

            [[slot]]
            id = "d"
            start = "09:00"
            end = "09:30"
            relay = "vov1"
            fallback = "nhac-hieu"
            fallback_pillar = ["kinh-te"]
            """
        #expect(ScheduleParser.parse(text, file: "schedules/toi.toml").slots.isEmpty)
        #expect(problems(text) == [
            "schedules/toi.toml:6: khung giờ tiếp sóng (“relay”) không dùng “play”: nội dung là luồng trực tiếp; phát gì khi mất nguồn thì ghi ở “fallback” hoặc “fallback_pillar”",
            "schedules/toi.toml:11: khung giờ tiếp sóng cần giờ kết thúc “end”: luồng trực tiếp không tự hết",
            "schedules/toi.toml:17: khung giờ tiếp sóng (“relay”) không dùng “pillar”: nội dung là luồng trực tiếp; phát gì khi mất nguồn thì ghi ở “fallback” hoặc “fallback_pillar”",
            "schedules/toi.toml:19: khung giờ tiếp sóng (“relay”) không dùng “count”: nội dung là luồng trực tiếp; phát gì khi mất nguồn thì ghi ở “fallback” hoặc “fallback_pillar”",
            "schedules/toi.toml:27: khung giờ tiếp sóng chỉ dùng một trong hai: “fallback” (tệp hoặc mã bản tin, phát lặp) hoặc “fallback_pillar” (chọn theo trụ cột)",
        ], "\(problems(text).joined(separator: "\n"))")
    }

    @Test("A bad relay name, a fallback outside audio/, an empty fallback, an unknown fallback pillar, and a fallback without relay are each said at their line")
    func relayValues() {
        func slot(_ lines: String) -> [String] {
            problems("[[slot]]\nid = \"a\"\nstart = \"06:00\"\nend = \"06:30\"\n" + lines)
        }
        #expect(slot("relay = \"VOV 1\"\n") == [
            "schedules/toi.toml:5: “relay” phải là tên một nguồn [[source]] trong loa.toml (chữ không dấu, số, - hoặc _), ví dụ \"vov1\"",
        ])
        #expect(slot("relay = 1\n").count == 1)
        #expect(slot("relay = \"vov1\"\nfallback = [\"../../etc/passwd\"]\n") == [
            "schedules/toi.toml:6: “../../etc/passwd” ra ngoài thư mục audio: chỉ dùng tệp trong audio/ (đường dẫn tương đối, không có “..”) hoặc mã bản tin",
        ])
        #expect(slot("relay = \"vov1\"\nfallback = []\n") == ["schedules/toi.toml:6: danh sách “fallback” rỗng"])
        #expect(slot("relay = \"vov1\"\nfallback_pillar = [\"the-thao\"]\n").first?.hasPrefix("schedules/toi.toml:6: ") == true)
        #expect(slot("play = [\"x.mp3\"]\nfallback = \"nhac-hieu\"\n") == [
            "schedules/toi.toml:6: “fallback” chỉ dùng trong khung giờ tiếp sóng (có “relay = \"tên nguồn\"”)",
        ])
        #expect(slot("pillar = [\"kinh-te\"]\nfallback_pillar = [\"kinh-te\"]\n") == [
            "schedules/toi.toml:6: “fallback_pillar” chỉ dùng trong khung giờ tiếp sóng (có “relay = \"tên nguồn\"”)",
        ])
        #expect(slot("") == ["schedules/toi.toml:1: khung giờ không có nội dung: thêm “play = [...]”, “pillar = [...]” hoặc “relay = \"tên nguồn\"”"])
    }
}
