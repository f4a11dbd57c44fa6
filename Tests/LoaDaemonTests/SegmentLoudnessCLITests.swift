import Foundation
import Testing

@Suite("loa segment: loudness shown at import and in the list")
struct SegmentLoudnessCLITests {
    @Test("segment add prints the loudness; segment list shows it with the gain for the station's target")
    func loudnessInTheCLI() async throws {
        let station = try ProcessStation(device: "null")
        // The station asks for −20 LUFS instead of the default −16.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: station.config))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n[loudness]\ntarget_lufs = -20\n".utf8))
        try handle.close()

        // EBU Tech 3341 case 1: −23 LUFS, and a sine's true peak is its amplitude.
        let tone = station.audio.appendingPathComponent("chuan.wav")
        let made = try await Harness.run("/usr/bin/sox", ["-n", "-r", "48000", "-c", "2", "-b", "24", tone.path, "synth", "5", "sine", "997", "vol", "-23dB"])
        try #require(made.status == 0, "\(made.err)")
        let added = try await station.loaCommand(["segment", "add", tone.path, "--title", "Tín hiệu chuẩn"])
        #expect(added.status == 0, "\(added.err)")
        #expect(added.out.contains("Độ to: −23,0 LUFS, đỉnh −23,0 dBTP; khi phát bù +3,0 dB để đạt −20,0 LUFS"), "\(added.out)")

        struct Listed: Decodable { let id: String, loudness_lufs: Double?, true_peak_dbtp: Double?, gain_db: Double? }
        let list = try await station.loaCommand(["segment", "list", "--json"])
        let segment = try #require(try JSONDecoder().decode([Listed].self, from: Data(list.out.utf8)).first)
        #expect(abs((segment.loudness_lufs ?? 0) - -23) <= 0.1 && abs((segment.true_peak_dbtp ?? 0) - -23) <= 0.1, "\(segment)")
        #expect(abs((segment.gain_db ?? 0) - 3) <= 0.1, "\(segment)")

        let table = try await station.loaCommand(["segment", "list"])
        let lines = table.out.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("Độ to (LUFS)") == true && lines.first?.contains("Bù (dB, đích −20,0)") == true, "\(table.out)")
        let cells = (lines.last ?? "").components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(cells.count == 10 && Array(cells[5...7]) == ["−23,0", "−23,0", "+3,0"], "\(cells)")
    }
}
