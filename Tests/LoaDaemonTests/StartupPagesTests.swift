import Foundation
@testable import LoaDaemon
import Testing

@Suite("Start-up code pages given back")
struct StartupPagesTests {
    /// Resident kilobytes of this process's executable code (its `r-xp` mappings), read from smaps directly.
    static func residentCodeKB() throws -> Int {
        let smaps = try String(contentsOfFile: "/proc/self/smaps", encoding: .utf8)
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var total = 0, inCode = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 6, fields[0].contains("-"), !fields[0].hasSuffix(":") {
                inCode = fields[1] == "r-xp" && fields[5] == executable
            } else if inCode, fields.first == "Rss:", fields.count >= 2, let kb = Int(fields[1]) {
                total += kb
            }
        }
        return total
    }

    @Test("The executable's clean pages leave the resident set, and the code they hold still runs")
    func releasesCleanPages() async throws {
        let before = try Self.residentCodeKB()
        #expect(before > 1000, "\(before) kB")
        let released = StartupPages.release()
        let after = try Self.residentCodeKB()
        #expect(released > 0)
        #expect(after < before / 2, "\(after) kB of code resident after, \(before) before")
        // This test goes on running (and the suite after it) on code faulted back in from the file.
    }

    @Test("Only read-only mappings with no private copies are chosen: relocated or written pages are never dropped")
    func choosesOnlyCleanMappings() {
        let smaps = """
            5000-6000 r--p 00000000 fe:00 7 /usr/bin/loa
            Rss:                  40 kB
            Anonymous:             0 kB
            6000-9000 r-xp 00001000 fe:00 7 /usr/bin/loa
            Rss:                 120 kB
            Anonymous:             0 kB
            VmFlags: rd ex mr mw me dw
            9000-a000 r--p 00004000 fe:00 7 /usr/bin/loa
            Rss:                   8 kB
            Anonymous:             8 kB
            VmFlags: rd mr mw me ac
            9800-9900 r--p 00004800 fe:00 7 /usr/bin/loa
            Rss:                   0 kB
            Anonymous:             0 kB
            Swap:                  4 kB
            9900-9a00 r--p 00004900 fe:00 7 /usr/bin/loa
            Rss:                   4 kB
            Anonymous:             0 kB
            Swap:                  0 kB
            VmFlags: rd mr mw me ac
            a000-b000 rw-p 00005000 fe:00 7 /usr/bin/loa
            Rss:                   4 kB
            Anonymous:             4 kB
            c000-d000 rw-p 00000000 00:00 0
            Rss:                   4 kB
            Anonymous:             4 kB
            """
        let mappings = StartupPages.Mapping.parse(smaps)
        // Relocated data made read-only (RELRO, flag `ac`), in memory, swapped out, or even looking clean, stays.
        #expect(mappings.map(\.start) == [0x5000, 0x6000, 0x9000, 0x9800, 0x9900, 0xa000, 0xc000])
        #expect(mappings.filter(\.isCleanReadOnly).map(\.residentKB) == [40, 120])
        #expect(mappings.last?.path == "")
    }
}
