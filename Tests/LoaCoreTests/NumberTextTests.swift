import LoaCore
import Testing

@Suite("Numbers as a Vietnamese reader writes them")
struct NumberTextTests {
    @Test("One decimal with a decimal comma and a true minus sign; a plus only when asked")
    func decimals() {
        #expect(decimalText(-23.14) == "−23,1")
        #expect(decimalText(2.96) == "3,0")
        #expect(decimalText(4.5, signed: true) == "+4,5")
        #expect(decimalText(-0.04, signed: true) == "0,0")
    }

    @Test("Bytes in MB, kB or bytes; short durations in seconds with a comma, longer ones as m:ss")
    func bytesAndDurations() {
        #expect(byteText(524_200_000) == "524,2 MB")
        #expect(byteText(320_400) == "320 kB")
        #expect(byteText(12) == "12 byte")
        #expect(formatSeconds(2.94) == "2,9 giây")
        #expect(formatSeconds(65) == "1:05")
    }
}
