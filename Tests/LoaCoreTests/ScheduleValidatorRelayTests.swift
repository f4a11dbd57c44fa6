import LoaCore
import Testing

@Suite("Schedule validation of relay slots: sources named by loa.toml, fallbacks like play lists, no fallback a warning")
struct ScheduleValidatorRelayTests {
    let library: Set<String> = ["nhac-hieu", "tin-a"]

    func relay(_ id: String, _ source: String, _ fallback: RelayFallback, line: Int) -> Slot {
        Slot(id: id, start: TimeOfDay(hour: 6 + line / 10, minute: 0)!, end: TimeOfDay(hour: 6 + line / 10, minute: 30)!,
             content: .relay(RelaySpec(source: source, fallback: fallback)),
             source: SourceLocation(file: "lich.toml", line: line), keyLines: ["relay": line + 4, "fallback": line + 5])
    }

    @Test("A relay of a source loa.toml does not name is an error at its relay line, listing the sources there are")
    func unknownSource() {
        let library = self.library
        let slots = [relay("a", "vov1", .play(["nhac-hieu"]), line: 1), relay("b", "vov2", .play(["nhac-hieu"]), line: 11)]
        let validator = ScheduleValidator(sources: ["vov1", "tinh"]) { library.contains($0) }
        #expect(validator.validate(slots).map(\.description) == [
            "lich.toml:15: nguồn tiếp sóng “vov2” không có trong loa.toml (các nguồn có: vov1, tinh)",
        ])
        let none = ScheduleValidator { library.contains($0) }
        #expect(none.validate(slots).map(\.description) == [
            "lich.toml:5: nguồn tiếp sóng “vov1” không có trong loa.toml (loa.toml chưa khai báo nguồn nào: thêm một bảng [[source]] có name = \"vov1\")",
            "lich.toml:15: nguồn tiếp sóng “vov2” không có trong loa.toml (loa.toml chưa khai báo nguồn nào: thêm một bảng [[source]] có name = \"vov2\")",
        ])
    }

    @Test("fallback entries are checked like play entries, at the fallback line; fallback pillars need no entry")
    func fallbackReferences() {
        let library = self.library
        let validator = ScheduleValidator(sources: ["vov1"]) { library.contains($0) }
        let slots = [relay("a", "vov1", .play(["nhac-hieu", "thieu.mp3"]), line: 1), relay("b", "vov1", .pick(pillars: [.kinhTe]), line: 11)]
        #expect(validator.validate(slots).map(\.description) == [
            "lich.toml:6: không tìm thấy tệp “thieu.mp3” trong thư mục audio, cũng không có bản tin mã này trong thư viện",
        ])
    }

    @Test("A relay without a fallback is valid, and warned of at its relay line; a relay with one and other slots are not")
    func noFallbackWarns() {
        let library = self.library
        let slots = [relay("b", "vov1", .none, line: 11), relay("a", "vov1", .play(["nhac-hieu"]), line: 1),
                     Slot(id: "c", start: TimeOfDay(hour: 9, minute: 0)!, content: .play(["tin-a"]),
                          source: SourceLocation(file: "lich.toml", line: 21))]
        #expect(ScheduleValidator(sources: ["vov1"]) { library.contains($0) }.validate(slots).isEmpty)
        #expect(ScheduleValidator.warnings(slots).map(\.description) == [
            "lich.toml:15: khung giờ tiếp sóng “b” không có “fallback” hay “fallback_pillar”: khi mất nguồn “vov1” loa sẽ im lặng cho đến khi nguồn có tiếng lại",
        ])
    }
}
