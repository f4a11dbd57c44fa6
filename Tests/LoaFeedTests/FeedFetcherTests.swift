import Foundation
import Synchronization
import LoaAudio
import LoaConfig
import LoaCore
@testable import LoaFeed
import LoaStore
import LoaTestSupport
import Testing

/// A district (a key, a folder of segments published to a real nginx) and a commune (its audio folder and
/// database) in one temporary folder.
final class FeedWorld: @unchecked Sendable {
    static let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
    /// Generous: these tests are not about timeouts (one is, with its own), and at the start of a run some forty suites
    /// share two cores with this nginx.
    static let timeoutSeconds = 30.0
    let folder: URL
    let server: DistrictServer
    let source: URL
    let keyPrefix: String
    let publicKey: String
    let audio: URL
    let database: StationDatabase
    var feed: FeedConfig

    init(rateLimit: String? = nil) throws {
        folder = try scratchFolder("loa-feed")
        server = try DistrictServer(rateLimit: rateLimit)
        source = folder.appendingPathComponent("nguon")
        audio = folder.appendingPathComponent("audio")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: audio, withIntermediateDirectories: true)
        keyPrefix = folder.appendingPathComponent("huyen").path
        publicKey = try FeedSigning.generateKey(prefix: keyPrefix)
        database = try StationDatabase(path: folder.appendingPathComponent("loa.sqlite"))
        feed = FeedConfig(name: "huyen", url: server.feedURL, publicKeys: [publicKey], timeoutSeconds: FeedWorld.timeoutSeconds)
    }

    var library: SegmentLibrary { SegmentLibrary(database) }

    func tone(_ name: String, frequency: Int = 440, seconds: Double = 1, sidecar: String? = nil) throws {
        try makeTone(source.appendingPathComponent(name), frequency: frequency, seconds: seconds)
        if let sidecar {
            let stem = (name as NSString).deletingPathExtension
            try sidecar.write(to: source.appendingPathComponent(stem + ".toml"), atomically: true, encoding: .utf8)
        }
    }

    @discardableResult
    func publish(validSeconds: Double = 86400, now: Date = Date()) throws -> PublishReport {
        try FeedPublisher(source: source, output: server.feedFolder, publisher: "Đài huyện Thử", validSeconds: validSeconds)
            .publish(signingKey: keyPrefix + ".key", now: now)
    }

    /// Signs `manifest` as the district would and serves it (for manifests `loa publish` would never write).
    func serve(_ manifest: FeedManifest, key: String? = nil) throws {
        let data = try manifest.encoded()
        try data.write(to: server.feedFolder.appendingPathComponent("feed.json"))
        let signature = try FeedSigning.sign(data, with: FeedSigning.privateKey(at: (key ?? keyPrefix) + ".key"))
        try signature.write(to: server.feedFolder.appendingPathComponent("feed.json.sig"), atomically: true, encoding: .utf8)
    }

    func servedManifest() throws -> FeedManifest {
        try FeedManifest.decode(Data(contentsOf: server.feedFolder.appendingPathComponent("feed.json")))
    }

    func fetch(_ feed: FeedConfig? = nil) async -> FeedFetchReport {
        let transport = HTTPFeedTransport(timeoutSeconds: (feed ?? self.feed).timeoutSeconds)
        let fetcher = FeedFetcher(feed: feed ?? self.feed, audio: audio, library: library, states: FeedStates(database),
                                  transport: transport, clock: TestClock(), calendar: FeedWorld.calendar)
        let report = await fetcher.fetch()
        await transport.shutdown()
        return report
    }

    /// Audio requests in nginx's log (not the manifest or its signature).
    func audioRequests() -> [String] {
        server.accessLog().filter { !$0.contains("/feed.json") }
    }

    /// Every file under the commune's audio folder, relative, hidden ones included.
    func files() -> Set<String> {
        let base = audio.path + "/"
        var out: Set<String> = []
        let walker = FileManager.default.enumerator(atPath: audio.path)
        while let path = walker?.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + path, isDirectory: &isFolder), !isFolder.boolValue { out.insert(path) }
        }
        return out
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Real time without sleeping: retries in the fetcher back off for no time at all.
struct TestClock: WallClock {
    func now() -> Date { Date() }
    func sleep(until deadline: Date) async throws {}
    func wait(_ seconds: Double, on condition: NSCondition) {}
    func monotonicSeconds() -> Double { Date().timeIntervalSince1970 }
}

@Suite("Fetching a signed feed from a real nginx")
struct FeedFetcherTests {
    @Test("A fresh fetch installs every entry, verified and decoded, with its terms; a second one is a 304 and moves no audio")
    func freshThenConditional() async throws {
        let world = try FeedWorld()
        try world.tone("Bản tin RCEP.mp3", seconds: 1.5)
        try world.tone("bao.wav", frequency: 660, sidecar: """
            title = "Cảnh báo bão số 13"
            pillar = "chinh-tri-an-ninh"
            priority = "emergency"
            valid_until = 2026-12-31
            airings_per_week = 5
            """)
        try world.publish()
        let report = await world.fetch()
        #expect(report.manifest == .accepted(sequence: 1), "\(report.summary)")
        #expect(report.refused.isEmpty, "\(report.refused)")
        let segments = try world.library.all()
        #expect(segments.map(\.path).sorted() == ["huyen/Bản tin RCEP.mp3", "huyen/bao.wav"])
        let bao = try #require(segments.first { $0.path == "huyen/bao.wav" })
        #expect(bao.title == "Cảnh báo bão số 13" && bao.pillar == .chinhTriAnNinh && bao.priority == .emergency)
        #expect(bao.origin == FeedOrigin(feed: "huyen", entry: "bao", priority: .emergency,
                                         validUntil: LocalDate(year: 2026, month: 12, day: 31), requested: .perWeek(5)))
        #expect(bao.loudness != nil && bao.playoutPath != nil)
        #expect(try Digest.sha256(ofFile: world.audio.appendingPathComponent(bao.path).path) == bao.sha256)
        #expect(!world.files().contains { $0.contains(".partial/") }, "\(world.files())")
        #expect(world.audioRequests().count == 2)

        let again = await world.fetch()
        #expect(again.manifest == .unchanged, "\(again.summary)")
        #expect(world.audioRequests().count == 2, "\(world.audioRequests())")
        #expect(world.server.accessLog().last?.hasPrefix("GET /feed/feed.json 304") == true, "\(world.server.accessLog())")
    }

    @Test("Two fetches of one feed at once: the second says another process is fetching and touches nothing")
    func oneFetchAtATime() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.publish()
        // The other fetcher is another process, as it would be: a lock held in this one could be copied into a child
        // that another test is spawning, and outlive its release here until that child has exec'd.
        let folder = world.audio.appendingPathComponent("huyen")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'w')\nfcntl.flock(f, fcntl.LOCK_EX)\n"
                            + "open(sys.argv[1] + '.held', 'w').close()\ntime.sleep(120)",
                            folder.appendingPathComponent(".fetch.lock").path]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        for _ in 0..<500 where !FileManager.default.fileExists(atPath: folder.appendingPathComponent(".fetch.lock.held").path) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let report = await world.fetch()
        guard case let .refused(error) = report.manifest else {
            Issue.record("not refused: \(report.summary)")
            return
        }
        #expect(error.description.contains("tiến trình khác"), "\(error)")
        #expect(world.server.accessLog().isEmpty)
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let after = await world.fetch()
        #expect(after.installed.count == 1, "\(after.summary)")
    }

    @Test("Emergencies download first, and each is reported as soon as it is installed")
    func emergencyFirst() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.tone("b.wav", frequency: 550)
        try world.tone("z-khan.wav", frequency: 880, sidecar: "priority = \"emergency\"\n")
        try world.publish()
        let order = Mutex<[String]>([])
        let transport = HTTPFeedTransport(timeoutSeconds: FeedWorld.timeoutSeconds)
        var fetcher = FeedFetcher(feed: world.feed, audio: world.audio, library: world.library, states: FeedStates(world.database),
                                  transport: transport, clock: TestClock(), calendar: FeedWorld.calendar)
        fetcher.onInstall = { segment in order.withLock { $0.append(segment.origin?.entry ?? "?") } }
        _ = await fetcher.fetch()
        await transport.shutdown()
        #expect(order.withLock { $0 } == ["z-khan", "a", "b"])
        #expect(world.audioRequests().first?.contains("z-khan") == true, "\(world.audioRequests())")
    }

    @Test("A file is never written over another segment's: an entry that takes an installed path under a new id is refused")
    func pathTakenByAnotherEntry() async throws {
        let world = try FeedWorld()
        try world.tone("tin.wav", sidecar: "id = \"thang-11\"\n")
        try world.publish()
        _ = await world.fetch()
        let before = try Digest.sha256(ofFile: world.audio.appendingPathComponent("huyen/tin.wav").path)
        try world.tone("tin.wav", frequency: 770, sidecar: "id = \"thang-12\"\n")
        try world.publish()
        let report = await world.fetch()
        #expect(report.installed.isEmpty && report.refused.count == 1, "\(report.summary)")
        #expect(report.refused.first?.description.contains("thang-11") == true, "\(report.refused)")
        #expect(world.audioRequests().count == 1, "the conflict is known before any byte is fetched: \(world.audioRequests())")
        #expect(try Digest.sha256(ofFile: world.audio.appendingPathComponent("huyen/tin.wav").path) == before)
    }

    @Test("A republish that adds, changes and drops entries installs only what is new or changed")
    func republish() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.tone("b.wav", frequency: 550)
        try world.publish()
        _ = await world.fetch()
        let before = try world.library.all()
        try world.tone("c.wav", frequency: 660)
        try world.tone("b.wav", frequency: 770)
        try FileManager.default.removeItem(at: world.source.appendingPathComponent("a.wav"))
        let published = try world.publish()
        #expect(published.sequence == 2 && published.added == ["c"] && published.changed == ["b"] && published.removed == ["a"])
        let report = await world.fetch()
        #expect(report.manifest == .accepted(sequence: 2) && report.installed.map(\.id).sorted() == ["b", "c"], "\(report.summary)")
        let b = try #require(try world.library.segment(feed: "huyen", entry: "b"))
        #expect(b.id == before.first { $0.origin?.entry == "b" }?.id, "a changed entry keeps its library id")
        #expect(b.sha256 != before.first { $0.origin?.entry == "b" }?.sha256)
        #expect(world.audioRequests().filter { $0.contains("/feed/a.wav") }.count == 1)
        // `a` was withdrawn by the publisher: it is no longer valid from today, so rotation no longer picks it.
        #expect(report.withdrawn == ["a"])
        let today = FeedWorld.calendar.localDate(of: Date())
        let a = try #require(try world.library.segment(feed: "huyen", entry: "a"))
        #expect(!a.isValid(on: today) && a.origin?.validUntil == today.adding(days: -1))
    }

    @Test("A partial download of an entry the new manifest no longer lists is removed")
    func stalePartialRemoved() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.publish()
        _ = await world.fetch()
        // Left by a fetch cut mid-file of a version the publisher has since replaced.
        let stale = world.audio.appendingPathComponent("huyen/.partial/\(String(repeating: "ab", count: 32)).part")
        try Data(repeating: 7, count: 5000).write(to: stale)
        try world.tone("b.wav", frequency: 550)
        try world.publish()
        let report = await world.fetch()
        #expect(report.manifest == .accepted(sequence: 2) && report.installed.map(\.id) == ["b"], "\(report.summary)")
        #expect(!FileManager.default.fileExists(atPath: stale.path))
    }

    @Test("A transfer cut mid-file resumes with a Range request for the rest, not the whole file")
    func resumesAfterCut() async throws {
        let world = try FeedWorld(rateLimit: "200k")
        try world.tone("dai.wav", seconds: 20) // 1.9 MB at 48 kHz mono 16-bit: about 10 s at 200 kB/s
        try world.publish()
        let total = try #require(try world.servedManifest().segments.first?.bytes)
        let partial = world.audio.appendingPathComponent("huyen/.partial/\(try world.servedManifest().segments[0].sha256).part")
        // The fetch is cancelled once a third of the file is on disk, as a power cut or a dropped link would stop it.
        let transport = HTTPFeedTransport(timeoutSeconds: FeedWorld.timeoutSeconds)
        let fetcher = FeedFetcher(feed: world.feed, audio: world.audio, library: world.library, states: FeedStates(world.database),
                                  transport: transport, clock: TestClock(), calendar: FeedWorld.calendar)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await fetcher.fetch() }
            group.addTask {
                while ((try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0) ?? 0 < total / 3 {
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            await group.next()
            group.cancelAll()
        }
        await transport.shutdown()
        let kept = try #require(try FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int)
        #expect(kept > 0 && kept < total)
        #expect(try world.library.all().isEmpty)
        // The manifest was recorded as accepted before its downloads: a replay of an older one is refused even now.
        #expect(try FeedStates(world.database).state("huyen").sequence == 1)

        world.server.stop()
        let fast = try DistrictServer()
        try FileManager.default.removeItem(at: fast.feedFolder)
        try FileManager.default.copyItem(at: world.server.feedFolder, to: fast.feedFolder)
        var feed = world.feed
        feed.url = fast.feedURL
        let report = await world.fetch(feed)
        #expect(report.installed.count == 1, "\(report.summary) \(report.refused)")
        let request = try #require(fast.accessLog().first { $0.contains("/feed/dai.wav") })
        #expect(request == "GET /feed/dai.wav 206 \(total - kept) range=bytes=\(kept)-", "\(fast.accessLog())")
        #expect(report.bytesReceived == total - kept)
        fast.stop()
    }
}

@Suite("What a commune refuses from a feed: each a one-line reason, nothing installed, nothing touched")
struct FeedRefusalTests {
    /// A world with one good segment published, fetched, and the library as it stood.
    static func installedWorld() async throws -> (FeedWorld, [Segment]) {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.publish()
        let first = await world.fetch()
        #expect(first.installed.count == 1)
        return (world, try world.library.all())
    }

    func expectRefusedWhole(_ report: FeedFetchReport, _ text: String, _ world: FeedWorld, library: [Segment]) throws {
        guard case let .refused(error) = report.manifest else {
            Issue.record("not refused: \(report.summary)")
            return
        }
        #expect(error.description.contains("huyen") && error.description.contains(text), "\(error)")
        #expect(!error.description.contains("\n"))
        #expect(try world.library.all() == library)
        #expect(!world.files().contains { $0.contains(".partial/") || $0.contains(".tmp") }, "\(world.files())")
    }

    @Test("A manifest changed after signing is refused")
    func tampered() async throws {
        let (world, library) = try await Self.installedWorld()
        try world.tone("b.wav", frequency: 550)
        try world.publish()
        let file = world.server.feedFolder.appendingPathComponent("feed.json")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "\"title\" : \"b\"", with: "\"title\" : \"B\"")
        try text.write(to: file, atomically: true, encoding: .utf8)
        try expectRefusedWhole(await world.fetch(), "chữ ký", world, library: library)
    }

    @Test("A manifest signed by a key that is not pinned is refused")
    func unpinnedKey() async throws {
        let (world, library) = try await Self.installedWorld()
        let other = world.folder.appendingPathComponent("ke-la").path
        _ = try FeedSigning.generateKey(prefix: other)
        var manifest = try world.servedManifest()
        manifest.sequence += 1
        manifest.segments[0].title = "Tin giả"
        try world.serve(manifest, key: other)
        try expectRefusedWhole(await world.fetch(), "public_keys", world, library: library)
    }

    @Test("A manifest without its signature is refused")
    func unsigned() async throws {
        let (world, library) = try await Self.installedWorld()
        try world.tone("b.wav", frequency: 550)
        try world.publish()
        try FileManager.default.removeItem(at: world.server.feedFolder.appendingPathComponent("feed.json.sig"))
        try expectRefusedWhole(await world.fetch(), "chưa ký", world, library: library)
    }

    @Test("An older manifest served again (a replay) is refused as a rollback")
    func rollback() async throws {
        let world = try FeedWorld()
        try world.tone("a.wav")
        try world.publish()
        let old = try Data(contentsOf: world.server.feedFolder.appendingPathComponent("feed.json"))
        let oldSignature = try Data(contentsOf: world.server.feedFolder.appendingPathComponent("feed.json.sig"))
        try world.tone("b.wav", frequency: 550)
        try world.publish()
        _ = await world.fetch()
        let library = try world.library.all()
        #expect(library.count == 2)
        try old.write(to: world.server.feedFolder.appendingPathComponent("feed.json"))
        try oldSignature.write(to: world.server.feedFolder.appendingPathComponent("feed.json.sig"))
        try expectRefusedWhole(await world.fetch(), "sequence 1", world, library: library)
        #expect(try FeedStates(world.database).state("huyen").sequence == 2)
    }

    @Test("An expired manifest is refused, and the log line says what is already verified keeps airing")
    func expired() async throws {
        let (world, library) = try await Self.installedWorld()
        try world.tone("b.wav", frequency: 550)
        try world.publish(validSeconds: 60, now: Date().addingTimeInterval(-120))
        try expectRefusedWhole(await world.fetch(), "tiếp tục phát", world, library: library)
    }

    /// Serves the published manifest with entry `b` altered by `change`, fetches, and returns the report.
    static func alteredEntry(_ world: FeedWorld, _ change: (inout FeedEntry) throws -> Void) async throws -> FeedFetchReport {
        try world.tone("b.wav", frequency: 550)
        try world.tone("c.wav", frequency: 660)
        try world.publish()
        var manifest = try world.servedManifest()
        let index = try #require(manifest.segments.firstIndex { $0.id == "b" })
        try change(&manifest.segments[index])
        try world.serve(manifest)
        return await world.fetch()
    }

    func expectEntryRefused(_ report: FeedFetchReport, _ text: String, _ world: FeedWorld, library: [Segment]) throws {
        #expect(report.manifest == .accepted(sequence: 2), "\(report.summary)")
        #expect(report.refused.count == 1, "\(report.refused)")
        let refusal = try #require(report.refused.first)
        #expect(refusal.description.contains("huyen") && refusal.description.contains("b") && refusal.description.contains(text), "\(refusal)")
        // The good entry of the same manifest went in; the refused one left nothing behind.
        #expect(report.installed.map { $0.origin?.entry } == ["c"])
        #expect(try world.library.all().filter { $0.origin?.entry != "c" } == library)
        #expect(!world.files().contains { $0.hasPrefix("huyen/b") || $0.contains(".tmp") }, "\(world.files())")
    }

    @Test("A file whose SHA-256 does not match is refused and deleted; the other entries go in")
    func hashMismatch() async throws {
        let (world, library) = try await Self.installedWorld()
        let report = try await Self.alteredEntry(world) { entry in
            // Same length, other content: only the hash can tell.
            try makeTone(world.server.feedFolder.appendingPathComponent(entry.path), frequency: 880, seconds: 1)
        }
        try expectEntryRefused(report, "SHA-256", world, library: library)
        #expect(!world.files().contains { $0.contains(".partial/") })
        // `loa schedule show` marks it: listed by the verified manifest, not in the library.
        let today = FeedWorld.calendar.localDate(of: Date())
        #expect(FeedFetcher.pending(feed: "huyen", audio: world.audio, library: try world.library.all(), on: today).map(\.id) == ["b"])
        // The next poll does not download it again: the manifest is unchanged (304), and even read again it is skipped.
        #expect(await world.fetch().manifest == .unchanged)
        try FileManager.default.removeItem(at: world.audio.appendingPathComponent("huyen/.feed.json")) // no effect on the decision
        var states = try FeedStates(world.database).state("huyen")
        states.etag = nil
        states.lastModified = nil
        try FeedStates(world.database).save(states)
        let again = await world.fetch()
        #expect(again.refused.first?.description.contains("không tải lại") == true, "\(again.refused)")
        #expect(world.audioRequests().filter { $0.contains("/feed/b.wav") }.count == 1, "\(world.audioRequests())")
        // A new publication (another sequence) is given its chance.
        try world.publish()
        _ = await world.fetch()
        #expect(world.audioRequests().filter { $0.contains("/feed/b.wav") }.count == 2, "\(world.audioRequests())")
    }

    @Test("A server that sends more bytes than declared is cut off and the entry refused")
    func oversize() async throws {
        let (world, library) = try await Self.installedWorld()
        let report = try await Self.alteredEntry(world) { entry in entry.bytes -= 100 }
        try expectEntryRefused(report, "nhiều hơn", world, library: library)
        #expect(!world.files().contains { $0.contains(".partial/") })
    }

    @Test("A file shorter than declared is refused (and kept to resume, never installed)")
    func undersize() async throws {
        let (world, library) = try await Self.installedWorld()
        var served: FeedEntry?
        let report = try await Self.alteredEntry(world) { entry in
            served = entry
            entry.bytes += 100
        }
        try expectEntryRefused(report, "byte", world, library: library)
        // Every byte the server sent is on disk for the next fetch to resume from.
        let entry = try #require(served)
        let part = world.audio.appendingPathComponent("huyen/.partial/\(entry.sha256).part")
        #expect(try FileManager.default.attributesOfItem(atPath: part.path)[.size] as? Int == entry.bytes)
    }

    @Test("A path that escapes the feed folder is refused without a request")
    func escapingPath() async throws {
        let (world, library) = try await Self.installedWorld()
        let report = try await Self.alteredEntry(world) { entry in entry.path = "../../etc/passwd" }
        try expectEntryRefused(report, "ra ngoài", world, library: library)
        #expect(!world.server.accessLog().contains { $0.contains("passwd") })
    }

    @Test("A file that matches its hash but does not decode is refused")
    func undecodable() async throws {
        let (world, library) = try await Self.installedWorld()
        let report = try await Self.alteredEntry(world) { entry in
            let junk = Data((0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
            try junk.write(to: world.server.feedFolder.appendingPathComponent(entry.path))
            entry.bytes = junk.count
            entry.sha256 = Digest.hex(Array(try Digest.sha256Bytes(junk)))
        }
        try expectEntryRefused(report, "giải mã", world, library: library)
    }

    @Test("A file the server does not have (HTTP 404) is refused with the URL")
    func missingFile() async throws {
        let (world, library) = try await Self.installedWorld()
        let report = try await Self.alteredEntry(world) { entry in
            try FileManager.default.removeItem(at: world.server.feedFolder.appendingPathComponent(entry.path))
        }
        try expectEntryRefused(report, "404", world, library: library)
    }

    @Test("A server that accepts and never answers times out with a clear message")
    func timeout() async throws {
        let (world, library) = try await Self.installedWorld()
        let silent = try SilentServer()
        var feed = world.feed
        feed.url = "http://127.0.0.1:\(silent.port)/feed/"
        feed.timeoutSeconds = 1
        let started = Date()
        let report = await world.fetch(feed)
        #expect(Date().timeIntervalSince(started) < 10)
        guard case let .refused(error) = report.manifest else {
            Issue.record("not refused: \(report.summary)")
            return
        }
        #expect(error.description.contains("127.0.0.1:\(silent.port)") && error.description.contains("timeout"), "\(error)")
        #expect(try world.library.all() == library)
    }
}

@Suite("Expired feed segments on disk")
struct FeedExpiryDiskTests {
    /// A feed of two entries fetched, then the day after the first one's `valid_until`: its files removed.
    static func removedWorld() async throws -> (world: FeedWorld, short: Segment, kept: [Segment], dayAfter: Date) {
        let world = try FeedWorld()
        let calendar = FeedWorld.calendar
        let today = calendar.localDate(of: Date())
        try world.tone("ngan-han.wav", sidecar: "valid_until = \(today)\n")
        try world.tone("dai-han.wav", frequency: 550)
        try world.publish(validSeconds: 3 * 86400)
        #expect(await world.fetch().installed.count == 2)
        let segments = try world.library.all()
        let short = try #require(segments.first { $0.origin?.entry == "ngan-han" })
        let dayAfter = calendar.instant(today.adding(days: 1), TimeOfDay(hour: 9, minute: 0)!)
        let removed = try FeedExpiry.removeFiles(library: world.library, audio: world.audio, slots: [],
                                                 today: calendar.localDate(of: dayAfter), now: dayAfter)
        #expect(removed.map(\.id) == [short.id])
        return (world, short, segments.filter { $0.id != short.id }, dayAfter)
    }

    static func fetch(_ world: FeedWorld, at instant: Date) async -> FeedFetchReport {
        let transport = HTTPFeedTransport(timeoutSeconds: FeedWorld.timeoutSeconds)
        let later = FeedFetcher(feed: world.feed, audio: world.audio, library: world.library, states: FeedStates(world.database),
                                transport: transport, clock: FixedClock(instant: instant), calendar: FeedWorld.calendar)
        let report = await later.fetch()
        await transport.shutdown()
        return report
    }

    @Test("Past valid_until, a fetched segment's files are removed, its row kept; the feed does not bring it back")
    func removedAndNotRefetched() async throws {
        let (world, short, kept, dayAfter) = try await Self.removedWorld()
        let library = world.library
        #expect(try library.all().map(\.id) == kept.map(\.id))
        #expect(!world.files().contains("huyen/ngan-han.wav"))
        #expect(try library.segment(feed: "huyen", entry: "ngan-han")?.sha256 == short.sha256, "the row stays for the log")
        #expect(try library.segment(sha256: short.sha256) == nil, "a removed segment is not in the library's audio")

        // Republished with the entry still listed: the manifest is read, the expired entry is not fetched.
        try world.tone("moi.wav", frequency: 660)
        try world.publish(validSeconds: 3 * 86400)
        let report = await Self.fetch(world, at: dayAfter)
        #expect(report.installed.map { $0.origin?.entry } == ["moi"], "\(report.summary) \(report.refused)")
        #expect(world.audioRequests().filter { $0.contains("ngan-han") }.count == 1)
    }

    @Test("A removed bulletin's audio published again under a new entry (a campaign aired again) is installed again; the old row stays")
    func removedAudioComesBackUnderANewEntry() async throws {
        let (world, short, _, dayAfter) = try await Self.removedWorld()
        // The same file at the same path, under a new entry id and valid again: the district re-runs the campaign.
        try "id = \"ngan-han-lai\"\n".write(to: world.source.appendingPathComponent("ngan-han.toml"), atomically: true, encoding: .utf8)
        try world.publish(validSeconds: 3 * 86400)
        let report = await Self.fetch(world, at: dayAfter)
        #expect(report.installed.map { $0.origin?.entry } == ["ngan-han-lai"], "\(report.summary) \(report.refused)")
        let back = try #require(try world.library.segment(sha256: short.sha256))
        #expect(back.origin?.entry == "ngan-han-lai" && back.id != short.id && back.path == short.path)
        #expect(world.files().contains(back.path))
        #expect(try world.library.segment(feed: "huyen", entry: "ngan-han")?.sha256 == short.sha256, "the old row stays for the log")
    }
}

/// A clock stopped at `instant`, for decisions that depend on the station's day.
struct FixedClock: WallClock {
    let instant: Date
    func now() -> Date { instant }
    func sleep(until deadline: Date) async throws {}
    func wait(_ seconds: Double, on condition: NSCondition) {}
    func monotonicSeconds() -> Double { instant.timeIntervalSince1970 }
}
