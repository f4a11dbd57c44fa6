import Foundation
import LoaStore
import LoaTestSupport
import Testing

@Suite("loa keygen, publish and fetch as processes")
struct FetchCLITests {
    /// A station with a `[[feed]]` served by a fresh nginx, and the district's key; returns what a test needs.
    static func stationWithFeed() throws -> (ProcessStation, DistrictServer, key: String, source: URL) {
        let station = try ProcessStation(device: "null")
        let district = try DistrictServer()
        let (key, source) = try station.addFeed(served: district)
        return (station, district, key, source)
    }

    @Test("keygen refuses to overwrite a key; publish then fetch print one line each and exit 0")
    func roundTrip() async throws {
        let (station, district, key, source) = try Self.stationWithFeed()
        defer { district.stop() }
        let again = try await station.loaCommand(["keygen", "--out", key])
        #expect(again.status == 1 && again.err.hasPrefix("loa: ") && again.err.contains("không ghi đè"), "\(again.err)")
        let mode = try FileManager.default.attributesOfItem(atPath: key + ".key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try await Harness.tone(source.appendingPathComponent("tin.wav"), frequency: 440, seconds: 1, rate: 48000)
        let published = try await station.loaCommand(["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path])
        #expect(published.status == 0 && published.out.contains("#1"), "\(published.out)\(published.err)")
        let fetched = try await station.loaCommand(["fetch"])
        #expect(fetched.status == 0 && fetched.out.contains("cài 1 bản tin mới"), "\(fetched.out)\(fetched.err)")
        let second = try await station.loaCommand(["fetch"])
        #expect(second.status == 0 && second.out.contains("304"), "\(second.out)")
    }

    @Test("An entry whose file was refused (its bytes do not match its hash) is said refused by schedule show and status, apart from one still to come")
    func refusedEntryIsNotWaitedFor() async throws {
        let (station, district, key, source) = try Self.stationWithFeed()
        defer { district.stop() }
        try await Harness.tone(source.appendingPathComponent("tin.wav"), frequency: 440, seconds: 1, rate: 48000)
        try await Harness.tone(source.appendingPathComponent("sau.wav"), frequency: 550, seconds: 1, rate: 48000)
        #expect(try await station.loaCommand(["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path]).status == 0)
        // The served copy of one file changed after signing, its size kept: the commune refuses it for its hash.
        let served = district.feedFolder.appendingPathComponent("tin.wav")
        var bytes = try Data(contentsOf: served)
        bytes[bytes.count - 10] ^= 0xFF
        try bytes.write(to: served)
        _ = try await station.loaCommand(["fetch"])
        // The other entry, listed but taken out of the library again, stands for one not downloaded yet.
        try """
        [[slot]]
        id = "toi"
        start = "17:15"
        play = ["tin", "sau"]
        """.write(to: station.schedules.appendingPathComponent("toi.toml"), atomically: true, encoding: .utf8)
        let sqlite = try await Harness.run("/usr/bin/sqlite3", [station.folder.appendingPathComponent("loa.sqlite").path, "DELETE FROM segment WHERE id = 'sau'"])
        #expect(sqlite.status == 0, "\(sqlite.err)")
        let shown = try await station.loaCommand(["schedule", "show"])
        #expect(shown.out.contains("⛔ bị từ chối: “tin”") && shown.out.contains("⏳ chưa tải về: “sau”"), "\(shown.out)")
        let json = try await station.loaCommand(["schedule", "show", "--json"])
        #expect(json.out.contains("\"refused\" : true") && json.out.contains("\"refused\" : false"), "\(json.out)")
        let status = try await station.loaCommand(["status"])
        #expect(status.out.contains("chưa tải về: “sau”") && status.out.contains("chờ bên phát sửa và xuất bản lại): “tin”"), "\(status.out)")
    }

    @Test("keygen takes any prefix: one letter in the working folder, ./k, dir/k (its folder made), an absolute one",
          arguments: ["k", "./k", "dir/k", "/ABS/x/k"])
    func keygenPrefixes(prefix: String) async throws {
        let folder = try Harness.temporaryFolder("loa-keygen")
        defer { try? FileManager.default.removeItem(at: folder) }
        let prefix = prefix.replacingOccurrences(of: "/ABS", with: folder.path)
        let made = try await Harness.run(Harness.loaBinary().path, ["keygen", "--out", prefix], in: folder)
        #expect(made.status == 0 && made.err.isEmpty, "exit \(made.status): \(made.err)")
        let written = prefix.hasPrefix("/") ? prefix : folder.appendingPathComponent(prefix).path
        let mode = try FileManager.default.attributesOfItem(atPath: written + ".key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let publicKey = try String(contentsOfFile: written + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: publicKey)?.count == 32 && made.out.contains(publicKey), "\(made.out)")
    }

    @Test("keygen refuses a prefix with no name in it (empty, ending in /, . or ..): it would write hidden .key and .pub files")
    func keygenRefusesNamelessPrefix() async throws {
        let folder = try Harness.temporaryFolder("loa-keygen")
        defer { try? FileManager.default.removeItem(at: folder) }
        for prefix in ["", "khoa/", ".", "khoa/.."] {
            let made = try await Harness.run(Harness.loaBinary().path, ["keygen", "--out", prefix], in: folder)
            #expect(made.status == 1 && made.err.hasPrefix("loa: --out: cần một tiền tố tên tệp"), "“\(prefix)”: \(made.err)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("publish never deletes outside its folder: a feed.json edited to name ../victim.txt is set aside, said in one line")
    func publishSetsEditedManifestAside() async throws {
        let (station, district, key, source) = try Self.stationWithFeed()
        defer { district.stop() }
        try await Harness.tone(source.appendingPathComponent("tin.wav"), frequency: 440, seconds: 1, rate: 48000)
        let publish = ["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path]
        #expect(try await station.loaCommand(publish).status == 0)
        let victim = district.feedFolder.deletingLastPathComponent().appendingPathComponent("victim.txt")
        try Data("của trạm khác\n".utf8).write(to: victim)
        // As the attacker did: one entry added by hand to the served manifest, its signature left as it was.
        let manifestFile = district.feedFolder.appendingPathComponent("feed.json")
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestFile)) as? [String: Any])
        var segments = try #require(manifest["segments"] as? [[String: Any]])
        segments.append(["id": "victim", "title": "victim", "path": "../victim.txt", "bytes": 14,
                         "sha256": String(repeating: "0", count: 64), "duration_seconds": 1, "priority": "normal"])
        manifest["segments"] = segments
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestFile)
        let republished = try await station.loaCommand(publish)
        #expect(republished.status == 0 && republished.out.contains("0 gỡ bỏ"), "\(republished.out)\(republished.err)")
        #expect(FileManager.default.contents(atPath: victim.path) == Data("của trạm khác\n".utf8))
        let lines = republished.err.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("loa: ⚠ \(manifestFile.path): chữ ký không khớp")
                && lines[0].contains("coi như chưa có danh mục cũ"), "\(republished.err)")
        let fetched = try await station.loaCommand(["fetch"])
        #expect(fetched.status == 0 && fetched.out.contains("cài 1 bản tin mới"), "\(fetched.out)\(fetched.err)")
    }

    @Test("A [[feed]] added to loa.toml and a SIGHUP: the running daemon fetches it at once")
    func reloadAddsFeed() async throws {
        let (station, district, key, source) = try Self.stationWithFeed()
        defer { district.stop() }
        let config = URL(fileURLWithPath: station.config)
        let withFeed = try String(contentsOf: config, encoding: .utf8)
        let withoutFeed = String(withFeed[..<(withFeed.range(of: "[[feed]]")?.lowerBound ?? withFeed.endIndex)])
        try withoutFeed.write(to: config, atomically: true, encoding: .utf8)
        try await Harness.tone(source.appendingPathComponent("tin.wav"), frequency: 440, seconds: 1, rate: 48000)
        #expect(try await station.loaCommand(["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path]).status == 0)
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("khung giờ", timeout: 10), "\(daemon.output)")
        try await Task.sleep(for: .seconds(1))
        #expect(district.accessLog().isEmpty, "no feed yet, no request")
        try withFeed.write(to: config, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        #expect(try await daemon.waitForOutput("cài 1 bản tin mới", timeout: 10), "\(daemon.output)")
        #expect(await daemon.stop() == 0)
    }

    @Test("A disk that fills mid-download leaves no partial or temporary file, installs nothing, and says why")
    func fullDisk() async throws {
        let (station, district, key, source) = try Self.stationWithFeed()
        defer { district.stop() }
        try await Harness.tone(source.appendingPathComponent("dai.wav"), frequency: 440, seconds: 5, rate: 48000) // 480 kB
        #expect(try await station.loaCommand(["publish", source.path, "--key", key + ".key", "--out", district.feedFolder.path]).status == 0)
        // The database exists before the disk fills (creating it writes more than the limit below).
        _ = try StationDatabase(path: station.folder.appendingPathComponent("loa.sqlite"))
        // The file-size limit stands in for a full disk: a write past it fails (EFBIG), as one on a full disk does
        // (ENOSPC). SIGXFSZ is ignored, and stays ignored across exec, so the write fails instead of killing loa.
        let limited = try await Harness.run("/bin/bash", ["-c", "trap '' XFSZ; ulimit -f 200; exec \"$0\" fetch --config \"$1\"",
                                                    station.loa.path, station.config])
        #expect(limited.status == 1, "\(limited.out)\(limited.err)")
        #expect(limited.out.contains("huyen") && limited.out.contains("dai") && limited.out.contains("không ghi được"), "\(limited.out)")
        let left = try FileManager.default.subpathsOfDirectory(atPath: station.audio.path).filter { !$0.hasSuffix(".feed.json") }
        #expect(!left.contains { $0.hasSuffix(".part") || $0.contains(".tmp") || $0.hasSuffix(".wav") }, "\(left)")
        #expect(try await station.loaCommand(["segment", "list", "--json"]).out.filter { !$0.isWhitespace } == "[]")
        // Room again: the same fetch installs it.
        let fetched = try await station.loaCommand(["fetch"])
        #expect(fetched.status == 0 && fetched.out.contains("cài 1 bản tin mới"), "\(fetched.out)")
    }
}

extension ProcessStation {
    /// Makes the district's key with `loa keygen`, adds a `[[feed]]` named `huyen` served by `district` (polled
    /// every `interval` when given) to `loa.toml`, and makes an empty source folder; returns the key prefix and it.
    func addFeed(served district: DistrictServer, interval: String? = nil) throws -> (key: String, source: URL) {
        let key = try addFeed(url: district.feedURL, extra: interval.map { ["interval = \"\($0)\""] } ?? [])
        let source = folder.appendingPathComponent("nguon")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        return (key, source)
    }

    /// Makes the district's key with `loa keygen` and adds a `[[feed]]` named `huyen` at `url`, pinned to it, with
    /// `extra` lines; returns the key prefix.
    func addFeed(url: String, extra: [String] = []) throws -> String {
        let key = folder.appendingPathComponent("khoa/huyen").path
        let made = try loaCommand(["keygen", "--out", key])
        guard made.status == 0 else { throw HarnessError("keygen: \(made.err)") }
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let file = URL(fileURLWithPath: config)
        try (String(contentsOf: file, encoding: .utf8) + """

            [[feed]]
            name = "huyen"
            url = "\(url)"
            public_keys = ["\(publicKey)"]
            \(extra.joined(separator: "\n"))
            """).write(to: file, atomically: true, encoding: .utf8)
        return key
    }
}
