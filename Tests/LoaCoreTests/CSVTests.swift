import LoaCore
import Testing

@Suite("CSV as RFC 4180 writes it")
struct CSVTests {
    @Test("A field with CR, LF or CRLF (one Character in Swift), a quote or a comma is quoted, its quotes doubled; others stay bare",
          arguments: [
              ("Tin\rsáng", "\"Tin\rsáng\""),
              ("Tin\nchiều", "\"Tin\nchiều\""),
              ("Xã\r\nHai", "\"Xã\r\nHai\""),
              ("Bão \"Yagi\"", "\"Bão \"\"Yagi\"\"\""),
              ("Lúa, ngô", "\"Lúa, ngô\""),
              ("\"", "\"\"\"\""),
              ("Hội nghị cấp cao ASEAN “37”", "Hội nghị cấp cao ASEAN “37”"),
              ("", ""),
          ])
    func field(value: String, written: String) {
        #expect(CSV.field(value) == written)
    }

    @Test("A record joins its fields with commas and ends in CRLF")
    func record() {
        #expect(CSV.record(["1", "Xã\r\nHai", "a,b", "Đài \"Loa\"", ""]) == "1,\"Xã\r\nHai\",\"a,b\",\"Đài \"\"Loa\"\"\",\r\n")
        #expect(CSV.record([]) == "\r\n")
    }
}
