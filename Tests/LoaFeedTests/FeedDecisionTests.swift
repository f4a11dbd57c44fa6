import Foundation
import LoaCore
import Testing

@Suite("Feed manifest: decoding and the pure decision on what to fetch")
struct FeedDecisionTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let sha = String(repeating: "ab", count: 32)

    static func entry(_ id: String, path: String? = nil, sha256: String = sha, bytes: Int = 10) -> FeedEntry {
        FeedEntry(id: id, title: "Tin \(id)", path: path ?? "\(id).mp3", bytes: bytes, sha256: sha256, durationSeconds: 1)
    }

    static func manifest(_ entries: [FeedEntry], sequence: Int = 5, expires: Date = now.addingTimeInterval(3600)) -> FeedManifest {
        FeedManifest(publisher: "Huyện", sequence: sequence, published: now.addingTimeInterval(-60), expires: expires, segments: entries)
    }

    @Test("A lower sequence than the one accepted is a rollback; the same or a higher one is accepted")
    func rollback() throws {
        #expect(throws: FeedRefusal.rollback(sequence: 4, accepted: 5)) {
            try FeedDecision.decide(Self.manifest([], sequence: 4), accepted: 5, installed: [:], now: Self.now)
        }
        _ = try FeedDecision.decide(Self.manifest([], sequence: 5), accepted: 5, installed: [:], now: Self.now)
        _ = try FeedDecision.decide(Self.manifest([], sequence: 6), accepted: 5, installed: [:], now: Self.now)
    }

    @Test("A manifest at or past its expiry is refused whole (no freeze)")
    func expired() {
        let expires = Self.now
        #expect(throws: FeedRefusal.expired(expires: expires)) {
            try FeedDecision.decide(Self.manifest([Self.entry("a")], expires: expires), accepted: nil, installed: [:], now: Self.now)
        }
    }

    @Test("Paths that could leave the feed folder are refused, each alone", arguments: [
        "../etc/passwd", "/etc/passwd", "a/../../b.mp3", "%2e%2e/b.mp3", "a\\b.mp3", ".hidden.mp3", "a//b.mp3", "", "c:x.mp3", "a\u{0}b",
    ])
    func unsafePaths(path: String) throws {
        let decision = try FeedDecision.decide(Self.manifest([Self.entry("xau", path: path), Self.entry("tot")]),
                                               accepted: nil, installed: [:], now: Self.now)
        #expect(decision.toFetch.map(\.id) == ["tot"])
        #expect(decision.refused == [.unsafePath(entry: "xau", path: path)])
    }

    @Test("Nested folders and Vietnamese file names are inside the feed")
    func safePaths() {
        for path in ["2026-11/Bản tin RCEP.mp3", "a.mp3", "x/y/z.flac"] { #expect(FeedDecision.isSafe(relativePath: path), "\(path)") }
    }

    @Test("Installed entries with the same SHA-256 are unchanged; a new SHA-256 is fetched again")
    func unchangedAndChanged() throws {
        let other = String(repeating: "cd", count: 32)
        let decision = try FeedDecision.decide(Self.manifest([Self.entry("a"), Self.entry("b", sha256: other), Self.entry("c")]),
                                               accepted: 5, installed: ["a": Self.sha, "b": Self.sha], now: Self.now)
        #expect(decision.unchanged.map(\.id) == ["a"])
        #expect(decision.toFetch.map(\.id) == ["b", "c"])
    }

    @Test("Bad hashes, sizes, dates and duplicate ids are refused entry by entry")
    func badEntries() throws {
        var backwards = Self.entry("lui")
        backwards.validFrom = LocalDate(year: 2026, month: 12, day: 2)
        backwards.validUntil = LocalDate(year: 2026, month: 12, day: 1)
        let decision = try FeedDecision.decide(Self.manifest([
            Self.entry("hoa", sha256: String(repeating: "AB", count: 32)), Self.entry("ngan", sha256: "abc"),
            Self.entry("rong", bytes: 0), backwards, Self.entry("tot"), Self.entry("tot", path: "khac.mp3"),
        ]), accepted: nil, installed: [:], now: Self.now)
        #expect(decision.toFetch.map(\.id) == ["tot"])
        #expect(decision.refused.count == 5, "\(decision.refused)")
    }

    @Test("An entry that does not decode (unknown pillar, missing field, a title of two lines) is refused alone; the manifest is read")
    func undecodableEntry() throws {
        let json = """
        {"format": 1, "publisher": "Huyện", "sequence": 3, "published": "2026-11-25T08:00:00+07:00",
         "expires": "2026-12-02T08:00:00+07:00", "segments": [
          {"id": "la", "title": "Lạ", "pillar": "the-thao", "path": "la.mp3", "bytes": 10, "sha256": "\(Self.sha)", "duration_seconds": 1},
          {"id": "thieu", "title": "Thiếu", "path": "thieu.mp3", "bytes": 10},
          {"id": "hai-dong", "title": "Dòng một\\nDòng hai", "path": "hai.mp3", "bytes": 10, "sha256": "\(Self.sha)", "duration_seconds": 1},
          {"id": "tot", "title": "Tốt", "path": "tot.mp3", "bytes": 10, "sha256": "\(Self.sha)", "duration_seconds": 1,
           "requested": {"per_week": 3}, "priority": "emergency", "valid_until": "2026-12-31"}
        ]}
        """
        let manifest = try FeedManifest.decode(Data(json.utf8))
        #expect(manifest.segments.map(\.id) == ["tot"])
        #expect(manifest.segments.first?.requested == .perWeek(3))
        #expect(manifest.segments.first?.priority == .emergency)
        #expect(manifest.undecodable.count == 3)
        #expect(manifest.undecodable.map(\.description).allSatisfy { $0.hasPrefix("la:") || $0.hasPrefix("thieu:") || $0.hasPrefix("hai-dong:") },
                "\(manifest.undecodable)")
        let decision = try FeedDecision.decide(manifest, accepted: nil, installed: [:],
                                               now: Date(timeIntervalSince1970: 1_795_000_000))
        #expect(decision.toFetch.map(\.id) == ["tot"] && decision.refused.count == 3)
    }

    @Test("A manifest survives encoding and decoding unchanged")
    func roundTrip() throws {
        var entry = Self.entry("a", path: "2026-11/Bản tin.mp3")
        entry.requested = .total(4)
        entry.validFrom = LocalDate(year: 2026, month: 11, day: 25)
        entry.priority = .priority
        let manifest = Self.manifest([entry])
        #expect(try FeedManifest.decode(manifest.encoded()) == manifest)
    }
}

@Suite("Expired feed segments: which files can go")
struct FeedExpiryTests {
    let today = LocalDate(year: 2026, month: 11, day: 26)!

    func segment(_ id: String, until: LocalDate?, fetched: Bool = true) -> Segment {
        Segment(id: id, title: id, pillar: .kinhTe, path: "huyen/\(id).mp3", durationSeconds: 60,
                origin: fetched ? FeedOrigin(feed: "huyen", entry: id, validUntil: until) : nil)
    }

    @Test("Past valid_until and named by no slot of today or tomorrow: removable; anything else stays")
    func removable() {
        let yesterday = today.adding(days: -1)
        let library = [segment("het-han", until: yesterday), segment("con-han", until: today),
                       segment("khong-han", until: nil), segment("tu-nhap", until: nil, fetched: false),
                       segment("con-duoc-goi", until: yesterday), segment("nhac-hieu", until: yesterday)]
        let tomorrow = Slot(id: "mai", start: TimeOfDay(hour: 6, minute: 0)!, content: .play(["huyen/con-duoc-goi.mp3"]),
                            intro: "nhac-hieu")
        #expect(FeedExpiry.removable(library, slots: [tomorrow], today: today).map(\.id) == ["het-han"])
        // A slot that no longer airs today or tomorrow does not keep anything.
        var ended = tomorrow
        ended.until = yesterday
        #expect(FeedExpiry.removable(library, slots: [ended], today: today).map(\.id) == ["het-han", "con-duoc-goi", "nhac-hieu"])
    }

    @Test("A manifest entry already past valid_until is not fetched")
    func expiredEntriesAreNotFetched() throws {
        var old = FeedDecisionTests.entry("cu")
        old.validUntil = today.adding(days: -1)
        var current = FeedDecisionTests.entry("moi", path: "moi.mp3")
        current.validUntil = today
        let decision = try FeedDecision.decide(FeedDecisionTests.manifest([old, current]), accepted: nil, installed: [:],
                                               now: FeedDecisionTests.now, today: today)
        #expect(decision.toFetch.map(\.id) == ["moi"] && decision.expired.map(\.id) == ["cu"])
    }
}
