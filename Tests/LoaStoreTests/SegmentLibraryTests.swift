import Foundation
import LoaCore
import LoaStore
import Testing

@Suite("Segment loudness in the library")
struct SegmentLibraryTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loa-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    var path: URL { folder.appendingPathComponent("loa.sqlite") }

    func segment(_ id: String, loudness: Loudness?) -> Segment {
        Segment(id: id, title: "Bản tin \(id)", path: "\(id).mp3", durationSeconds: 60, format: "MPEG/MPEG_LAYER_III",
                sampleRate: 44100, channels: 1, sha256: id, loudness: loudness)
    }

    @Test("Loudness is written with the segment and read back after reopening; an unmeasured one stays nil")
    func roundTrip() throws {
        let measured = Loudness(integratedLUFS: -23.137, truePeakDBTP: -3.25)
        do {
            let library = SegmentLibrary(try StationDatabase(path: path))
            try library.add(segment("a", loudness: measured), importedAt: Date(timeIntervalSince1970: 0))
            try library.add(segment("b", loudness: nil), importedAt: Date(timeIntervalSince1970: 0))
        }
        let library = SegmentLibrary(try StationDatabase(path: path))
        #expect(try library.all().map(\.loudness) == [measured, nil])
        #expect(try library.segment(sha256: "a")?.loudness == measured)
    }

    @Test("A segment imported before loudness was measured can be given it later")
    func backFill() throws {
        let library = SegmentLibrary(try StationDatabase(path: path))
        try library.add(segment("a", loudness: nil), importedAt: Date(timeIntervalSince1970: 0))
        let measured = Loudness(integratedLUFS: -18.5, truePeakDBTP: -0.4)
        #expect(try library.setLoudness(measured, segmentID: "a"))
        #expect(try !library.setLoudness(measured, segmentID: "khong-co"))
        #expect(try library.all().first?.loudness == measured)
    }

    /// The v1 schema and GRDB's record of it, as on a station that ran the first release, with one segment and
    /// one airing of it.
    static let firstReleaseSchema = """
        CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
        INSERT INTO grdb_migrations VALUES ('v1-library-and-airing-log');
        CREATE TABLE segment (id TEXT PRIMARY KEY, title TEXT NOT NULL, pillar TEXT, campaign TEXT,
          path TEXT NOT NULL UNIQUE, duration_seconds DOUBLE NOT NULL, format TEXT NOT NULL,
          sample_rate INTEGER NOT NULL, channels INTEGER NOT NULL, sha256 TEXT NOT NULL UNIQUE, imported_at DOUBLE NOT NULL);
        CREATE TABLE airing (id INTEGER PRIMARY KEY AUTOINCREMENT, slot TEXT NOT NULL, slot_starts_at DOUBLE NOT NULL,
          segment_id TEXT NOT NULL, title TEXT NOT NULL, pillar TEXT, campaign TEXT, path TEXT NOT NULL,
          scheduled_at DOUBLE NOT NULL, started_at DOUBLE, ended_at DOUBLE, aired_seconds DOUBLE NOT NULL DEFAULT 0,
          outcome TEXT NOT NULL, reason TEXT, device TEXT, xruns INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX airing_by_time ON airing(scheduled_at);
        CREATE INDEX airing_by_occurrence ON airing(slot, slot_starts_at);
        INSERT INTO segment VALUES ('cu', 'Bản tin cũ', NULL, NULL, 'cu.mp3', 30, 'WAV/PCM_16', 48000, 2, 'cc', 50);
        INSERT INTO airing (slot, slot_starts_at, segment_id, title, path, scheduled_at, outcome)
          VALUES ('asean-toi', 10, 'cu', 'Bản tin cũ (bản trước)', 'cu.mp3', 10, 'completed');
        INSERT INTO airing (slot, slot_starts_at, segment_id, title, path, scheduled_at, outcome)
          VALUES ('asean-toi', 100, 'cu', 'Bản tin cũ', 'cu.mp3', 100, 'completed');
        INSERT INTO airing (slot, slot_starts_at, segment_id, title, path, scheduled_at, outcome)
          VALUES ('asean-toi', 100, 'da-xoa', 'Không còn', 'da-xoa.mp3', 130, 'completed');
        """

    /// What the sqlite3 shell prints for `sql` on the library's file: one line a row, `|` between columns, NULL empty.
    func sqlite(_ sql: String) throws -> String {
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path.path, sql]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return text
    }

    func upgradeFirstRelease() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path.path, SegmentLibraryTests.firstReleaseSchema]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
    }

    @Test("A library from before loudness keeps its segments, unmeasured, when opened by this version")
    func migratesOldLibrary() throws {
        try upgradeFirstRelease()

        let library = SegmentLibrary(try StationDatabase(path: path))
        let old = try #require(try library.all().first)
        #expect(old.id == "cu" && old.title == "Bản tin cũ" && old.loudness == nil)
        let measured = Loudness(integratedLUFS: -20, truePeakDBTP: -2)
        try library.setLoudness(measured, segmentID: "cu")
        #expect(try library.all().first?.loudness == measured)
    }

    @Test("Every field goes in and comes back, written as the columns earlier versions wrote (seconds, dates as text, a request in one of two columns), and a removed feed segment installed again airs again under its id")
    func everyFieldRoundTrips() throws {
        let database = try StationDatabase(path: path)
        let library = SegmentLibrary(database)
        let fetched = Segment(id: "rcep", title: "RCEP và nông sản Việt", pillar: .kinhTe, campaign: "HNCC ASEAN 37",
                              path: "huyen/rcep.mp3", durationSeconds: 183.4, format: "MPEG/MPEG_LAYER_III", sampleRate: 44100,
                              channels: 2, sha256: "aa", loudness: Loudness(integratedLUFS: -19.25, truePeakDBTP: -1.5),
                              playoutPath: ".playout/aa.wav",
                              origin: FeedOrigin(feed: "huyen", entry: "rcep-2026-11", category: "Thời sự", priority: .priority,
                                                 validFrom: LocalDate(year: 2026, month: 11, day: 25),
                                                 validUntil: LocalDate(year: 2026, month: 12, day: 31), requested: .perWeek(3)))
        let byHand = Segment(id: "rcep", title: "Bản tin tay", path: "tay.wav", durationSeconds: 30, format: "WAV/PCM_16", sha256: "bb")
        let total = Segment(id: "bao", title: "Phòng chống bão", pillar: .vanHoaXaHoi, path: "huyen/bao.mp3", durationSeconds: 60,
                            sha256: "cc", origin: FeedOrigin(feed: "huyen", entry: "bao", requested: .total(10)))
        try library.add(fetched, importedAt: Date(timeIntervalSince1970: 1_794_000_000.5))
        #expect(try library.add(byHand, importedAt: Date(timeIntervalSince1970: 1_794_000_001)).id == "rcep-2")
        try library.add(total, importedAt: Date(timeIntervalSince1970: 1_794_000_002))
        #expect(try library.all() == [total, fetched, { var s = byHand; s.id = "rcep-2"; return s }()])
        #expect(try library.segment(feed: "huyen", entry: "rcep-2026-11") == fetched)
        #expect(try library.segments(path: "tay.wav").map(\.id) == ["rcep-2"])
        // The columns as the migrations made them, for the log's joins, reports and older versions.
        #expect(try sqlite("""
            SELECT imported_at, pillar, priority, valid_from, valid_until, requested_per_week, requested_total, removed_at
            FROM segment WHERE id IN ('rcep', 'bao') ORDER BY id
            """) == "1794000002.0|van-hoa-xa-hoi|normal||||10|\n1794000000.5|kinh-te|priority|2026-11-25|2026-12-31|3||\n")

        // New terms: the rest of the row stays.
        var terms = try #require(fetched.origin)
        terms.priority = .emergency
        terms.requested = .total(5)
        #expect(try library.updateTerms(terms, title: "RCEP (cập nhật)", pillar: .kinhTe, campaign: nil))
        #expect(try !library.updateTerms(FeedOrigin(feed: "huyen", entry: "khong-co"), title: "?", pillar: nil, campaign: nil))
        var updated = fetched
        updated.title = "RCEP (cập nhật)"
        updated.campaign = nil
        updated.origin = terms
        #expect(try library.segment(sha256: "aa") == updated)

        // Removed past its dates: out of the library, kept for the log, its copy forgotten; installed again, it is back.
        try library.markRemoved("rcep", at: Date(timeIntervalSince1970: 1_795_000_000))
        #expect(try library.all().map(\.id) == ["bao", "rcep-2"])
        #expect(try library.everything().first { $0.id == "rcep" }?.playoutPath == nil)
        #expect(try sqlite("SELECT removed_at, playout_path FROM segment WHERE id = 'rcep'") == "1795000000.0|\n")
        var again = fetched
        again.id = "rcep-moi"
        again.sha256 = "dd"
        #expect(try library.install(again, importedAt: Date(timeIntervalSince1970: 1_796_000_000)).id == "rcep")
        again.id = "rcep"
        #expect(try library.all() == [total, again, { var s = byHand; s.id = "rcep-2"; return s }()])
    }

    @Test("Airings logged before the log kept SHA-256 take it from the library when upgraded; older versions' and others stay without")
    func upgradedAiringsTakeSHA256() throws {
        try upgradeFirstRelease()
        let rows = try AiringLog(try StationDatabase(path: path)).records()
        #expect(rows.map(\.segmentID) == ["cu", "cu", "da-xoa"])
        // The first airing is older than the version in the library: its file's hash is not known.
        #expect(rows.map(\.sha256) == [nil, "cc", nil])
    }

    @Test("Airings finished before the log was chained are chained when upgraded, in id order, and export intact")
    func upgradedAiringsChained() throws {
        try upgradeFirstRelease()
        let chain = try AiringLog(try StationDatabase(path: path)).chain()
        #expect(chain.map(\.seq) == [1, 2, 3])
        #expect(chain.map { $0.record.id } == [1, 2, 3])
        #expect(AiringExport.verify(AiringExport.encode(chain, format: .csv)) == .intact(rows: 3, first: 1, last: 3))
    }

    @Test("Rows chained before station and level were logged keep their form; later rows take the new form after them")
    func upgradedChainKeepsItsForm() throws {
        try upgradeFirstRelease()
        let log = AiringLog(try StationDatabase(path: path))
        let t = Date(timeIntervalSince1970: 90_000)
        try log.insert(AiringRecord(slot: "s", slotStartsAt: t, segmentID: "x", title: "Tin mới", path: "x.mp3", scheduledAt: t,
                                    plannedSeconds: 5, airedSeconds: 5, outcome: .completed, station: "Xã Hòa An",
                                    priority: .priority))
        let chain = try log.chain()
        #expect(chain.map(\.version) == [1, 1, 1, AiringChain.version])
        #expect(chain[3].previous == chain[2].hash && chain[3].record.station == "Xã Hòa An")
        let export = AiringExport.encode(chain, format: .csv)
        #expect(AiringExport.verify(export) == .intact(rows: 4, first: 1, last: 4))
        // A station written into a row whose form did not hash it is an edit the hash cannot see: refused.
        let lines = String(decoding: export, as: UTF8.self).components(separatedBy: "\r\n")
        var fields = lines[1].components(separatedBy: ",")
        let station = try #require(AiringExport.columns.firstIndex(of: "station"))
        fields[station] = "Xã khác"
        let edited = ([lines[0], fields.joined(separator: ",")] + lines[2...]).joined(separator: "\r\n")
        guard case let .broken(message) = AiringExport.verify(Data(edited.utf8)) else { Issue.record("verified"); return }
        #expect(message.contains("dòng 2") && message.contains("station"))
        // The new form hashes the station: changing it on the last row breaks its hash.
        var last = lines[4].components(separatedBy: ",")
        last[station] = "Xã khác"
        let renamed = (lines[0...3] + [last.joined(separator: ",")] + lines[5...]).joined(separator: "\r\n")
        guard case let .broken(other) = AiringExport.verify(Data(renamed.utf8)) else { Issue.record("verified"); return }
        #expect(other.contains("dòng 5") && other.contains("đã bị sửa"))
    }
}

@Suite("Segment playout copies in the library")
struct SegmentPlayoutPathTests {
    @Test("The playout copy's path is stored with the segment, can be set later, and is nil for one without")
    func playoutPath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loa-store-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("loa.sqlite")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        do {
            let library = SegmentLibrary(try StationDatabase(path: path))
            try library.add(Segment(id: "a", title: "A", path: "a.mp3", durationSeconds: 1, sha256: "a", playoutPath: ".playout/a.wav"),
                            importedAt: Date(timeIntervalSince1970: 0))
            try library.add(Segment(id: "b", title: "B", path: "b.mp3", durationSeconds: 1, sha256: "b"), importedAt: Date(timeIntervalSince1970: 0))
        }
        let library = SegmentLibrary(try StationDatabase(path: path))
        #expect(try library.all().map(\.playoutPath) == [".playout/a.wav", nil])
        #expect(try library.setPlayoutPath(".playout/b.wav", segmentID: "b"))
        #expect(try !library.setPlayoutPath(".playout/c.wav", segmentID: "c"))
        #expect(try library.segment(sha256: "b")?.playoutPath == ".playout/b.wav")
    }
}
