import Foundation
import LoaAudio
import LoaCore
@testable import LoaDaemon
import LoaStore
import Logging
import Testing

extension RealTimeTests {
@Suite("Playout copies: made at import and at start, aired by the daemon", .serialized)
struct PlayoutCopyTests {
    @Test("segment add writes a 48 kHz copy of the right length with its first sound at frame 0; a second add changes nothing")
    func segmentAddWritesCopy() async throws {
        let station = try ProcessStation(device: "null", timezone: ProcessStation.zoneAwayFromMidnight())
        // Mono MP3 at 44.1 kHz: decoded, resampled and kept mono.
        try await station.addTone("rcep.mp3", frequency: 440, seconds: 1.5, rate: 44100, title: "RCEP")
        struct Listed: Decodable { let sha256: String, duration_seconds: Double }
        let listed = try #require(try JSONDecoder().decode([Listed].self, from: Data(try await station.loaCommand(["segment", "list", "--json"]).out.utf8)).first)
        let folder = station.audio.appendingPathComponent(".playout")
        let copy = folder.appendingPathComponent("\(listed.sha256).wav")
        let info = try SndFileDecoder.probe(path: copy.path)
        #expect(info.sampleRate == 48000 && info.channels == 1 && info.format == "WAV/Signed 16 bit PCM", "\(info)")
        #expect(abs(info.durationSeconds - listed.duration_seconds) * 1000 <= 1, "\(info.durationSeconds) vs \(listed.duration_seconds)")
        let decoder = try SndFileDecoder(path: copy.path)
        var buffer = [Float](repeating: 0, count: 4800 * 2)
        let n = try buffer.withUnsafeMutableBufferPointer { try decoder.read(into: $0.baseAddress!, frames: 4800) }
        let first = try #require(buffer[0..<(n * 2)].firstIndex { abs($0) > 0.01 }) / 2
        #expect(first <= 24, "first sound at frame \(first)")

        let before = try FileManager.default.attributesOfItem(atPath: copy.path)
        let again = try await station.loaCommand(["segment", "add", station.audio.appendingPathComponent("rcep.mp3").path, "--title", "Lần nữa"])
        #expect(again.status == 0 && again.out.hasPrefix("Đã có trong thư viện"), "\(again.out)")
        let after = try FileManager.default.attributesOfItem(atPath: copy.path)
        #expect(before[.systemFileNumber] as? Int == after[.systemFileNumber] as? Int)
        #expect(before[.modificationDate] as? Date == after[.modificationDate] as? Date)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [copy.lastPathComponent])

        // A copy that was lost is made again by the next add of the same file.
        try FileManager.default.removeItem(at: copy)
        let remade = try await station.loaCommand(["segment", "add", station.audio.appendingPathComponent("rcep.mp3").path, "--title", "Lần nữa"])
        #expect(remade.status == 0 && remade.out.contains("Đã tạo bản phát 48 kHz"), "\(remade.out)")
        #expect(PlayoutCopyWriter.isSane(path: copy.path, durationSeconds: listed.duration_seconds, channels: 1))
    }

    @Test("The back-fill measures and copies what older segments lack and records both; playout does not wait for it")
    func backFill() async throws {
        let station = try VirtualStation(schedule: PlayoutServiceTests.schedule)
        let library = SegmentLibrary(station.database)
        #expect(try library.all().map(\.playoutPath) == [nil, nil])
        // The playout service alone airs the originals and leaves the library as it was.
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:20"))
        #expect(rows.map(\.outcome) == [.completed, .completed])
        #expect(try library.all().map(\.playoutPath) == [nil, nil])

        let loaded = try Station.load(configFile: station.config, access: .create)
        try await LibraryBackfill(station: loaded, logger: Logger(label: "test")).run()
        let segments = try library.all()
        #expect(segments.map(\.playoutPath) == [".playout/a.wav.wav", ".playout/b.wav.wav"])
        #expect(segments.allSatisfy { loaded.playoutCopy(of: $0) != nil && $0.loudness != nil })

        // A second start finds nothing to do: no copy is written again.
        let copy = loaded.config.audio.appendingPathComponent(".playout/a.wav.wav").path
        let before = try FileManager.default.attributesOfItem(atPath: copy)[.modificationDate] as? Date
        try await LibraryBackfill(station: loaded, logger: Logger(label: "test")).run()
        #expect(try FileManager.default.attributesOfItem(atPath: copy)[.modificationDate] as? Date == before)
    }

    @Test("loa daemon remakes a lost copy in the background, keeps running once done, and airs the slot")
    func daemonBackFills() async throws {
        let station = try ProcessStation(device: "null", timezone: ProcessStation.zoneAwayFromMidnight())
        try await station.addTone("tin.wav", frequency: 440, seconds: 1, rate: 44100, title: "Tin")
        let folder = station.audio.appendingPathComponent(".playout")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        let start = station.wholeSecond(after: 4)
        try station.writeSlot("sau-bu", start: start, files: ["tin.wav"])
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("Đã tạo bản phát 48 kHz cho 1 bản tin", timeout: 10), "\(daemon.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).count == 1)
        let rows = try await station.waitForRows(until: start.addingTimeInterval(10)) { $0.first?.outcome == "completed" }
        #expect(rows.map(\.outcome) == ["completed"], "\(daemon.output)")
        #expect(await daemon.stop() == 0)
    }

    @Test("The daemon airs the copy: with the original files gone the slot still airs whole; a copy cut short is not used")
    func airsTheCopy() async throws {
        let station = try VirtualStation(schedule: PlayoutServiceTests.schedule)
        let loaded = try Station.load(configFile: station.config, access: .create)
        let library = SegmentLibrary(station.database)
        for segment in try library.all() {
            let original = loaded.config.audio.appendingPathComponent(segment.path)
            let relative = loaded.playoutCopyPath(of: segment)
            _ = try SndFileDecoder.probe(path: original.path, playoutCopy: loaded.config.audio.appendingPathComponent(relative).path)
            try library.setPlayoutPath(relative, segmentID: segment.id)
            try FileManager.default.removeItem(at: original)
        }
        // b's copy cut to half: the daemon falls back to b's original, which is gone, so b fails.
        let b = loaded.config.audio.appendingPathComponent(".playout/b.wav.wav")
        let handle = try FileHandle(forWritingTo: b)
        try handle.truncate(atOffset: 44 + 48000 * 3)
        try handle.close()
        #expect(try Set(loaded.playoutSources().filter { $0.value.path != nil }.keys) == ["a"])
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:20"))
        #expect(rows.map(\.outcome) == [.completed, .failed], "\(rows)")
        #expect(abs(rows[0].airedSeconds - 2) < 0.001, "\(rows[0])")
        #expect(rows.map(\.path) == ["a.wav", "b.wav"], "the log keeps the original's path")
    }
}
}
