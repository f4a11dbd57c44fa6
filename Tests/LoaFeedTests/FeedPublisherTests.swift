import Foundation
import LoaCore
@testable import LoaFeed
import LoaTestSupport
import Testing

@Suite("Publishing: nothing read from the feed folder is believed")
struct FeedPublisherTests {
    /// Files outside the feed folder, each named by an entry an attacker adds to the old manifest: two through
    /// `..` (one not audio, one audio), one by its absolute path, one through a link planted in the feed folder.
    /// Returns the entries, and the files with their bytes.
    static func plantVictims(_ world: FeedWorld) throws -> (entries: [FeedEntry], victims: [URL: Data]) {
        let out = world.server.feedFolder
        let outside = world.folder.appendingPathComponent("ngoai")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("ra"), withDestinationURL: outside)
        let victims = [out.deletingLastPathComponent().appendingPathComponent("victim.txt"),
                       out.deletingLastPathComponent().appendingPathComponent("victim.wav"),
                       world.folder.appendingPathComponent("victim-abs.wav"),
                       outside.appendingPathComponent("victim.wav")]
        var bytes: [URL: Data] = [:]
        for (index, victim) in victims.enumerated() {
            bytes[victim] = Data("cấu hình của trạm \(index)\n".utf8)
            try bytes[victim]?.write(to: victim)
        }
        let paths = ["../victim.txt", "../victim.wav", victims[2].path, "ra/victim.wav"]
        let entries = paths.enumerated().map { index, path in
            FeedEntry(id: "thoat-\(index)", title: "Thoát", path: path, bytes: 30, sha256: String(repeating: "ab", count: 32), durationSeconds: 1)
        }
        return (entries, bytes)
    }

    @Test("An old manifest naming files outside the feed folder (.., absolute, through a link) deletes none of them",
          arguments: [false, true])
    func oldManifestPointsOutside(signedByThisKey: Bool) throws {
        let world = try FeedWorld()
        try world.tone("tin.wav")
        try world.publish()
        let (entries, victims) = try Self.plantVictims(world)
        var tampered = try world.servedManifest()
        tampered.segments += entries
        if signedByThisKey {
            // As with a leaked key: the signature holds, so only the path checks stand between it and the files.
            try world.serve(tampered)
        } else {
            try tampered.encoded().write(to: world.server.feedFolder.appendingPathComponent("feed.json"))
        }
        let now = Date()
        let report = try world.publish(now: now)
        for (victim, bytes) in victims {
            #expect(FileManager.default.contents(atPath: victim.path) == bytes, "\(victim.path) must be untouched")
        }
        #expect(report.removed.isEmpty && report.notices.count == (signedByThisKey ? 4 : 1), "\(report.notices)")
        if signedByThisKey {
            #expect(report.sequence == 2 && report.unchanged == ["tin"])
            #expect(report.notices.allSatisfy { $0.contains("không xóa") }, "\(report.notices)")
        } else {
            #expect(report.sequence == Int(now.timeIntervalSince1970) && report.added == ["tin"])
            #expect(report.notices.first?.contains("chữ ký không khớp") == true, "\(report.notices)")
        }
        #expect(try world.servedManifest().segments.map(\.path) == ["tin.wav"])
    }

    @Test("A link planted in the feed folder is never written through: the publish is refused and nothing lands outside")
    func noWriteThroughLink() throws {
        let world = try FeedWorld()
        let outside = world.folder.appendingPathComponent("ngoai")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: world.server.feedFolder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: world.server.feedFolder.appendingPathComponent("ra"), withDestinationURL: outside)
        try FileManager.default.createDirectory(at: world.source.appendingPathComponent("ra"), withIntermediateDirectories: true)
        try world.tone("ra/moi.wav")
        #expect {
            try world.publish()
        } throws: { error in
            (error as? FeedError)?.description.contains("liên kết") == true
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
    }

    @Test("An old manifest signed by another key counts as none: nothing it names is deleted, and the sequence goes on from the clock")
    func otherKeysManifestSetAside() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.tone("b.wav", frequency: 550)
        try world.publish()
        _ = await world.fetch()
        let other = world.folder.appendingPathComponent("khac").path
        _ = try FeedSigning.generateKey(prefix: other)
        let b = world.server.feedFolder.appendingPathComponent("b.wav")
        let bBytes = try Data(contentsOf: b)
        // Another publisher's manifest in this folder: whatever it lists is theirs to remove, not ours.
        try world.serve(world.servedManifest(), key: other)
        try FileManager.default.removeItem(at: world.source.appendingPathComponent("b.wav"))
        let now = Date()
        let report = try world.publish(now: now)
        #expect(try Data(contentsOf: b) == bBytes)
        #expect(report.removed.isEmpty && report.added == ["a"] && report.sequence == Int(now.timeIntervalSince1970))
        #expect(report.notices.count == 1 && report.notices[0].contains("chữ ký không khớp"), "\(report.notices)")
        // The commune that accepted #1 takes it: the sequence went forward, not back to 1.
        let fetched = await world.fetch()
        #expect(fetched.manifest == .accepted(sequence: report.sequence), "\(fetched.summary)")
        #expect(fetched.withdrawn == ["b"], "\(fetched.summary)")
    }

    @Test("publish sets an unreadable old manifest aside and goes on from the clock's seconds, never back to 1")
    func unreadableManifestSetAside() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.publish()
        try world.publish()
        _ = await world.fetch()
        try Data("{ hỏng".utf8).write(to: world.server.feedFolder.appendingPathComponent("feed.json"))
        let now = Date()
        let report = try world.publish(now: now)
        #expect(report.sequence == Int(now.timeIntervalSince1970) && report.added == ["a"])
        #expect(report.notices.count == 1 && report.notices[0].contains("feed.json"), "\(report.notices)")
        let fetched = await world.fetch()
        #expect(fetched.manifest == .accepted(sequence: report.sequence), "\(fetched.summary)")
        // From a verified manifest again, one by one.
        #expect(try world.publish().sequence == report.sequence + 1)
    }

    @Test("A signed older manifest put back in the feed folder (a backup restored) does not take the sequence back: it goes on from what the key signed")
    func restoredOldManifestDoesNotLowerSequence() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.publish()
        let out = world.server.feedFolder
        let saved = try (Data(contentsOf: out.appendingPathComponent("feed.json")), Data(contentsOf: out.appendingPathComponent("feed.json.sig")))
        let second = try world.publish()
        _ = await world.fetch()
        try saved.0.write(to: out.appendingPathComponent("feed.json"))
        try saved.1.write(to: out.appendingPathComponent("feed.json.sig"))
        let third = try world.publish()
        #expect(third.sequence == second.sequence + 1, "\(third.sequence) after \(second.sequence)")
        #expect(third.notices.contains { $0.contains("đã ký đến #\(second.sequence)") }, "\(third.notices)")
        let fetched = await world.fetch()
        #expect(fetched.manifest == .accepted(sequence: third.sequence), "\(fetched.summary)")
    }

    @Test("A huge old signature or manifest is set aside unread, not loaded into memory")
    func hugeOldFilesSetAsideUnread() throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.publish()
        for name in ["feed.json.sig", "feed.json"] {
            // Sparse: 600 MB that take no disk, as `truncate -s 600M` makes them.
            let file = world.server.feedFolder.appendingPathComponent(name)
            let handle = try FileHandle(forWritingTo: file)
            try handle.truncate(atOffset: 600 << 20)
            try handle.close()
            let report = try world.publish(now: Date())
            #expect(report.notices.first?.contains("quá") == true, "\(name): \(report.notices)")
        }
    }

    @Test("A kept file that no longer matches in the feed folder (changed bytes, cut short, a link) is copied again before it is signed")
    func corruptedKeptFileRecopied() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.tone("b.wav", frequency: 550)
        try world.tone("c.wav", frequency: 660)
        try world.publish()
        let out = world.server.feedFolder
        let handle = try FileHandle(forWritingTo: out.appendingPathComponent("a.wav"))
        try handle.seek(toOffset: 2000)
        try handle.write(contentsOf: Data(repeating: 0x55, count: 100))
        try handle.close()
        try FileHandle(forWritingTo: out.appendingPathComponent("b.wav")).truncate(atOffset: 1000)
        // The same bytes outside, linked in: what the server would read is not the folder's own file.
        let outside = world.folder.appendingPathComponent("c-ngoai.wav")
        try FileManager.default.moveItem(at: out.appendingPathComponent("c.wav"), to: outside)
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("c.wav"), withDestinationURL: outside)
        let outsideBytes = try Data(contentsOf: outside)

        let report = try world.publish()
        #expect(report.sequence == 2 && report.unchanged == ["a", "b", "c"] && report.recopied == ["a", "b", "c"], "\(report)")
        for name in ["a.wav", "b.wav", "c.wav"] {
            let served = out.appendingPathComponent(name)
            #expect(try Data(contentsOf: served) == Data(contentsOf: world.source.appendingPathComponent(name)), "\(name)")
            #expect(try FileManager.default.attributesOfItem(atPath: served.path)[.type] as? FileAttributeType == .typeRegular)
        }
        #expect(try Data(contentsOf: outside) == outsideBytes)
        let manifest = try world.servedManifest()
        for entry in manifest.segments {
            #expect(entry.sha256 == (try Digest.sha256(ofFile: world.source.appendingPathComponent(entry.path).path)))
        }
        let fetched = await world.fetch()
        #expect(fetched.installed.map(\.id).sorted() == ["a", "b", "c"] && fetched.refused.isEmpty, "\(fetched.summary)")
        // Nothing to repair the next time.
        #expect(try world.publish().recopied.isEmpty)
    }
}
