import Foundation
import LoaCore
import LoaStore
import Testing

/// `PRAGMA integrity_check` through the sqlite3 shell: SQLite's own verdict on the file, not Loa's.
func integrityCheck(_ database: String) throws -> String {
    let r = try Harness.run("/usr/bin/sqlite3", [database, "PRAGMA integrity_check"])
    return (r.out + r.err).trimmingCharacters(in: .whitespacesAndNewlines)
}

extension ProcessStation {
    var database: String { folder.appendingPathComponent("loa.sqlite").path }
}

extension RealTimeTests {
@Suite("The airing log whatever its disk does: crashes, a full disk, a deleted database", .serialized)
struct LogDiskTests {
    enum KillPoint: String, CaseIterable, CustomStringConvertible {
        case beforeFirstSample, midItem, afterLastSample
        var description: String { rawValue }
        /// The first item's length: mid-item, long enough for progress writes (every second) before the kill.
        var firstSeconds: Double { self == .midItem ? 9 : 1 }
    }

    @Test("SIGKILL before the first sample, mid-item, just after the last: after a restart every airing is there once, with the right outcome and seconds, and the file is intact",
          arguments: KillPoint.allCases)
    func killed(at point: KillPoint) async throws {
        let station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        let server = try SoundServer()
        defer { server.stop() }
        try await station.addTone("dai.wav", frequency: 440, seconds: point.firstSeconds, rate: 48000, title: "Bản tin đầu")
        try await station.addTone("sau.wav", frequency: 660, seconds: 1, rate: 48000, title: "Bản tin sau")
        let slotStart = station.wholeSecond(after: 5)
        try station.writeSlot("mat-dien", start: slotStart, files: ["dai.wav", "sau.wav"])
        // Mid-item, what the row keeps is measured against what the loudspeaker heard. Recording in every case: the
        // sink then has a reader, as a card has, and does not run ahead of a stream that reconnects.
        let recorder = try await MonitorRecorder.recording(server)
        defer { _ = recorder.stop() }
        let first = try station.startDaemon(environment: server.environment)
        switch point {
        case .beforeFirstSample:
            // The plan is stored 1.5 s ahead; the first sample is due at the slot's start.
            try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow - 0.6)))
        case .midItem:
            // Between two progress writes, well before the item's end at 9 s: the restart has time.
            try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow + 6.6)))
        case .afterLastSample:
            _ = try await station.waitForRows(until: slotStart.addingTimeInterval(6)) { $0.last?.outcome == "completed" }
        }
        first.send(SIGKILL)
        first.process.waitUntilExit()
        let during = try await station.logRows()
        switch point {
        case .beforeFirstSample: #expect(during.map(\.outcome) == ["planned", "planned"], "\(during)\n\(first.output)")
        case .midItem:
            #expect(during.map(\.outcome) == ["started", "planned"], "\(during)")
        case .afterLastSample: #expect(during.map(\.outcome) == ["completed", "completed"], "\(during)")
        }

        let second = try station.startDaemon(environment: server.environment)
        let end = slotStart.addingTimeInterval(point.firstSeconds + 1)
        let rows = try await station.waitForRows(until: end.addingTimeInterval(4)) { $0.last?.outcome == "completed" }
        // Time for anything a wrong restart would air again.
        try await Task.sleep(for: .seconds(max(0.5, end.timeIntervalSinceNow + 0.5)))
        #expect(await second.stop() == 0, "\(second.output)")
        let final = try await station.logRows()
        // Killed mid-item, the item goes on after the restart in a row of its own (a second stretch); otherwise one row
        // per planned item.
        let expected = point == .midItem ? ["ban-tin-dau", "ban-tin-dau", "ban-tin-sau"] : ["ban-tin-dau", "ban-tin-sau"]
        #expect(final.map(\.segment) == expected, "one row per stretch, none twice: \(final)\n\(second.output)")
        #expect(final.count == rows.count)
        let (head, tail) = (try #require(final.first), try #require(final.last))
        // A restart that takes longer than the time left before an item joins it on the clock, late: what was missed
        // is counted lost, so heard and lost add up to the item.
        #expect(["completed", "truncated"].contains(tail.outcome), "\(final)")
        #expect(abs(tail.aired_seconds + (tail.lost_seconds ?? 0) - 1) < 0.05, "\(final)")
        switch point {
        case .beforeFirstSample:
            // Restarted about when the slot starts: on time, or joined a little late with what was missed counted.
            #expect(["completed", "truncated"].contains(head.outcome), "\(final)")
            #expect(abs(head.aired_seconds + (head.lost_seconds ?? 0) - 1) < 0.1, "\(final)")
        case .midItem:
            // The crash loses at most about a second of what was heard (progress every second), and never claims more.
            // What was heard before the kill: the first run of the first tone (it is heard again after the restart).
            let heard = try #require(ToneRun.runs(recorder.stop().samples, frequencies: [440, 660]).first { $0.frequency == 440 }?.seconds)
            print("SIGKILL mid-item: the row keeps \(head.aired_seconds) s of the \(heard) s heard before the kill")
            #expect(head.outcome == "interrupted", "\(final)")
            #expect(head.aired_seconds <= heard + 0.05 && heard - head.aired_seconds < 1.2,
                    "the row keeps \(head.aired_seconds) s of the \(heard) s heard before the kill: \(final)")
            #expect(abs((during.first?.aired_seconds ?? 0) - head.aired_seconds) < 0.01, "\(during)")
            #expect(head.reason_code == "daemon.died", "\(final)")
            let stretch = final[1]
            #expect(stretch.outcome == "truncated" && stretch.reason_code == "resumed" && stretch.policy == "join", "\(final)")
            // Nothing heard twice: the stretch begins in the file where the first row's audio had got to, or later (the
            // restart's time is lost, on the row); and it runs to the file's end.
            let from = try #require(stretch.from_seconds, "\(final)")
            #expect(from >= head.aired_seconds - 0.01, "the stretch from \(from) s re-airs what the first row heard (\(head.aired_seconds) s)")
            #expect(abs((stretch.lost_seconds ?? 0) - (from - head.aired_seconds)) < 0.02, "\(stretch)")
            #expect(abs(from + stretch.aired_seconds - 9) < 0.05, "the stretch runs to the end: \(stretch)")
        case .afterLastSample:
            #expect(final.allSatisfy { $0.outcome == "completed" && abs($0.aired_seconds - 1) < 0.05 }, "\(final)")
        }
        #expect(try integrityCheck(station.database) == "ok")
    }

    @Test("The database deleted under the running daemon: later airings are not lost, and the CLI does not make an empty one meanwhile; one put in its place is moved aside")
    func databaseDeleted() async throws {
        let station = try ProcessStation(device: "null", timezone: ProcessStation.zoneAwayFromMidnight())
        try await station.addTone("a.wav", frequency: 440, seconds: 0.5, rate: 48000, title: "A")
        let starts = [3.0, 7.0, 11.0].map { station.wholeSecond(after: $0) }
        for (n, start) in starts.enumerated() {
            try station.writeSlot("s\(n)", start: start, files: ["a.wav"], end: start.addingTimeInterval(3), file: "s\(n).toml")
        }
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        _ = try await station.waitForRows(until: starts[0].addingTimeInterval(3)) { $0.first?.outcome == "completed" }
        try FileManager.default.removeItem(atPath: station.database)
        let reading = try await station.loaCommand(["log", "--format", "json"])
        #expect(reading.status == 1 && reading.err.contains(station.database) && reading.err.split(separator: "\n").count == 1,
                "\(reading)")
        #expect(!FileManager.default.fileExists(atPath: station.database), "the CLI must not create an empty database")
        try await Task.sleep(for: .seconds(max(0, starts[1].timeIntervalSinceNow + 1.5)))
        let afterDelete = try await logRows(station, daemon)
        #expect(afterDelete.map(\.slot) == ["s0", "s1"] && afterDelete.allSatisfy { $0.outcome == "completed" },
                "\(afterDelete)\n\(daemon.output)")

        // Another file moved over it (a restore done while the daemon runs): kept aside, not overwritten.
        let other = station.folder.appendingPathComponent("khac.sqlite")
        try Data("không phải của Loa".utf8).write(to: other)
        _ = rename(other.path, station.database)
        try await Task.sleep(for: .seconds(max(0, starts[2].timeIntervalSinceNow + 1.5)))
        let rows = try await logRows(station, daemon)
        #expect(rows.map(\.slot) == ["s0", "s1", "s2"] && rows.allSatisfy { $0.outcome == "completed" }, "\(rows)\n\(daemon.output)")
        let aside = try FileManager.default.contentsOfDirectory(atPath: station.folder.path).filter { $0.hasPrefix("loa.sqlite.replaced-") }
        #expect(aside.count == 1, "\(aside)")
        #expect(daemon.output.contains("đã bị xóa khi Loa đang chạy") && daemon.output.contains("đã bị thay bằng tệp khác"), "\(daemon.output)")
        #expect(await daemon.stop() == 0)
        #expect(try integrityCheck(station.database) == "ok")
    }

    func logRows(_ station: ProcessStation, _ daemon: DaemonProcess) async throws -> [ProcessStation.LogRow] {
        do { return try await station.logRows() } catch {
            throw HarnessError("\(error)\n\(daemon.output)")
        }
    }

    @Test("The log's disk full during a slot: it airs, its rows are held and written in order once space is back; full at a SIGKILL, the spool brings them back at the next start; full at start, it airs all the same")
    func diskFull() async throws {
        let server = try SoundServer()
        defer { server.stop() }
        let space = try SmallDisk(environment: server.environment)
        defer { space.stop() }
        let station = space.station
        for (name, frequency) in [("a.wav", 440), ("b.wav", 660), ("c.wav", 880), ("d.wav", 990)] {
            try await space.addTone(name, frequency: frequency, seconds: name == "d.wav" ? 1 : 2)
        }
        let slotStart = station.wholeSecond(after: 5)
        try station.writeSlot("day-dia", start: slotStart, files: ["a.wav", "b.wav", "c.wav"], end: slotStart.addingTimeInterval(7))
        try await space.shell("start_daemon")
        // Full before the plan is stored (1.5 s ahead), free again in the middle of the second item.
        try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow - 3)))
        let full = try await space.shell("fill; df --output=avail -B1 \"$DB_DIR\" | tail -1")
        #expect(full.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the disk is full: \(full.out)")
        try await Task.sleep(for: .seconds(max(0, slotStart.timeIntervalSinceNow + 3)))
        let whileFull = try await space.rows()
        #expect(whileFull.isEmpty, "nothing could be written yet: \(whileFull)")
        try await space.shell("free_space")
        var rows = try await space.rows()
        // The last row is finished once its last sample has been heard: a little after the slot's content ends.
        while !(rows.count == 3 && rows.allSatisfy { $0.outcome != "started" && $0.outcome != "planned" })
                && Date() < slotStart.addingTimeInterval(9) {
            try await Task.sleep(for: .milliseconds(300))
            rows = try await space.rows()
        }
        #expect(rows.map(\.segment) == ["a-wav", "b-wav", "c-wav"], "\(rows)\n\(space.daemonLog)")
        // Aired on time, or joined a little late on a loaded machine, with what was missed counted.
        #expect(rows.allSatisfy { ["completed", "truncated"].contains($0.outcome) && abs($0.aired_seconds + ($0.lost_seconds ?? 0) - 2) < 0.05 },
                "\(rows)")
        #expect(space.daemonLog.contains("Đài vẫn phát"), "an error at once: \(space.daemonLog)")
        #expect(space.daemonLog.contains("đã ghi xong các thao tác nhật ký đang chờ"), "\(space.daemonLog)")

        // Full again, a slot airs, and the daemon is killed while holding its rows; space back, the next start writes them.
        let second = station.wholeSecond(after: 3)
        try station.writeSlot("sau-khi-chet", start: second, files: ["d.wav"], end: second.addingTimeInterval(3), file: "hai.toml")
        try await space.shell("fill; kill -HUP $(cat \"$F/daemon.pid\")")
        try await Task.sleep(for: .seconds(max(0, second.timeIntervalSinceNow + 2)))
        try await space.shell("kill -KILL $(cat \"$F/daemon.pid\"); free_space; start_daemon")
        let deadline = Date().addingTimeInterval(8)
        var after = try await space.rows()
        while after.count < 4 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(300))
            after = try await space.rows()
        }
        #expect(after.map(\.segment) == ["a-wav", "b-wav", "c-wav", "d-wav"], "\(after)\n\(space.daemonLog)")
        #expect(after.last.map { ["completed", "truncated"].contains($0.outcome) && abs($0.aired_seconds + ($0.lost_seconds ?? 0) - 1) < 0.05 } == true,
                "\(after)")
        // Full when the daemon starts: it airs (the database opened read-only when it cannot even take its `-shm`, or
        // opened and refusing writes), and writes the row once space is back.
        try await space.shell("stop_daemon")
        let third = station.wholeSecond(after: 4)
        try station.writeSlot("day-luc-khoi-dong", start: third, files: ["d.wav"], file: "ba.toml")
        try await space.shell("fill; start_daemon")
        try await Task.sleep(for: .seconds(max(0, third.timeIntervalSinceNow + 1)))
        for _ in 0..<60 where !(space.daemonLog.components(separatedBy: "Giữ khóa").last ?? "").contains("Xong “d.wav”") {
            try await Task.sleep(for: .milliseconds(250))
        }
        let lastRun = space.daemonLog.components(separatedBy: "Giữ khóa").last ?? ""
        #expect((lastRun.contains("không mở để ghi được") || lastRun.contains("Đài vẫn phát")) && lastRun.contains("Xong “d.wav”"), "\(lastRun)")
        try await space.shell("free_space")
        var last = try await space.rows()
        let until = Date().addingTimeInterval(15)
        while last.count < 5 && Date() < until {
            try await Task.sleep(for: .milliseconds(300))
            last = try await space.rows()
        }
        #expect(last.map(\.slot).suffix(2) == ["sau-khi-chet", "day-luc-khoi-dong"] && last.last?.outcome == "completed", "\(last)\n\(space.daemonLog)")
        try await space.shell("stop_daemon")
        #expect(try await space.shell("sqlite3 \"$DB_DIR/loa.sqlite\" 'PRAGMA integrity_check'").out.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }
}
}

/// A station whose database lives on a 24 MiB tmpfs, mounted in a user and mount namespace of its own
/// (`unshare --user --map-root-user --mount`: no root needed), so a test can fill it. Only a shell inside the
/// namespace sees the tmpfs: every command on the database goes through ``shell(_:)``.
final class SmallDisk {
    let station: ProcessStation
    let control: URL
    private let process = Process()
    private var next = 1

    init(environment: [String: String]) throws {
        station = try ProcessStation(device: "pulse", timezone: ProcessStation.zoneAwayFromMidnight())
        control = station.folder.appendingPathComponent("ns")
        try FileManager.default.createDirectory(at: control, withIntermediateDirectories: true)
        let dbFolder = station.folder.appendingPathComponent("db")
        try FileManager.default.createDirectory(at: dbFolder, withIntermediateDirectories: true)
        let config = URL(fileURLWithPath: station.config)
        try (String(contentsOf: config, encoding: .utf8) + "\ndatabase = \"db/loa.sqlite\"\n").write(to: config, atomically: true, encoding: .utf8)
        // Commands arrive as files cmd.N and run in order; done.N holds the status, out.N the output.
        let script = """
            set -u
            mount -t tmpfs -o size=24m tmpfs "$DB_DIR" || exit 1
            start_daemon() { "$LOA" daemon --config "$CONF" >> "$F/daemon.log" 2>&1 & echo $! > "$F/daemon.pid"; sleep 0.3; }
            stop_daemon() { kill -TERM $(cat "$F/daemon.pid"); wait $(cat "$F/daemon.pid"); }
            fill() { cat /dev/zero > "$DB_DIR/fill" 2>/dev/null; sync; }
            free_space() { rm -f "$DB_DIR/fill"; }
            n=1
            while true; do
              while [ ! -e "$F/cmd.$n" ]; do sleep 0.02; done
              eval "$(cat "$F/cmd.$n")" > "$F/out.$n" 2>&1
              echo $? > "$F/done.$n.tmp"; mv "$F/done.$n.tmp" "$F/done.$n"
              n=$((n+1))
            done
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--user", "--map-root-user", "--mount", "/bin/bash", "-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.merging([
            "LOA": station.loa.path, "CONF": station.config, "F": control.path, "DB_DIR": dbFolder.path,
        ]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let mounted = try shellBlocking("findmnt -n -o FSTYPE \"$DB_DIR\"", timeout: 20)
        guard mounted.out.contains("tmpfs") else {
            throw HarnessError("no tmpfs in a user namespace (unshare --user --map-root-user --mount): \(mounted.out)")
        }
    }

    var daemonLog: String { (try? String(contentsOf: control.appendingPathComponent("daemon.log"), encoding: .utf8)) ?? "" }

    /// Runs `command` in the namespace's shell and returns its status and output. It waits with `Task.sleep`: a
    /// test blocking a thread of Swift's cooperative pool for the seconds a daemon takes to stop starved the tests
    /// running beside it (two threads on two cores), whose in-process daemons then did not answer in time.
    @discardableResult
    func shell(_ command: String, timeout: Double = 20) async throws -> (status: Int32, out: String) {
        let done = try send(command)
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: done.path) {
            guard process.isRunning, Date() < deadline else { throw HarnessError("namespace shell did not run: \(command)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try result(done)
    }

    /// ``shell(_:timeout:)`` for the setup and the teardown, which cannot wait asynchronously; short commands only.
    private func shellBlocking(_ command: String, timeout: Double) throws -> (status: Int32, out: String) {
        let done = try send(command)
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: done.path) {
            guard process.isRunning, Date() < deadline else { throw HarnessError("namespace shell did not run: \(command)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return try result(done)
    }

    private func send(_ command: String) throws -> URL {
        let n = next
        next += 1
        try command.write(to: control.appendingPathComponent("cmd.\(n)"), atomically: true, encoding: .utf8)
        return control.appendingPathComponent("done.\(n)")
    }

    private func result(_ done: URL) throws -> (status: Int32, out: String) {
        let n = done.pathExtension
        let status = Int32((try String(contentsOf: done, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        return (status, (try? String(contentsOf: control.appendingPathComponent("out.\(n)"), encoding: .utf8)) ?? "")
    }

    func addTone(_ name: String, frequency: Int, seconds: Double) async throws {
        let url = station.audio.appendingPathComponent(name)
        try await Harness.tone(url, frequency: frequency, seconds: seconds, rate: 48000)
        let r = try await shell("\"$LOA\" segment add '\(url.path)' --title '\(name)' --pillar kinh-te --config \"$CONF\"")
        guard r.status == 0 else { throw HarnessError("segment add: \(r.out)") }
    }

    func rows() async throws -> [ProcessStation.LogRow] {
        let r = try await shell("\"$LOA\" log --format json --config \"$CONF\"")
        guard r.status == 0 else { throw HarnessError("loa log: \(r.out)") }
        return try JSONDecoder().decode([ProcessStation.LogRow].self, from: Data(r.out.utf8))
    }

    func stop() {
        _ = try? shellBlocking("[ -e \"$F/daemon.pid\" ] && kill -KILL $(cat \"$F/daemon.pid\"); true", timeout: 5)
        process.terminate()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: station.folder)
    }
}

extension RealTimeTests {
@Suite("A damaged database at the daemon's start", .serialized)
struct DamagedDatabaseTests {
    @Test("A page of an index overwritten: the daemon says so at start with what to do, and the slot still airs")
    func damagedIndexReported() async throws {
        let station = try ProcessStation(device: "null", timezone: ProcessStation.zoneAwayFromMidnight())
        try await station.addTone("a.wav", frequency: 440, seconds: 0.5, rate: 48000, title: "A")
        // Enough rows that the index of planned times has pages of its own.
        do {
            let log = AiringLog(try StationDatabase(path: URL(fileURLWithPath: station.database)))
            let t = Date(timeIntervalSince1970: 1_794_478_500)
            try log.insert((0..<3000).map { n in
                AiringRecord(slot: "cu", slotStartsAt: t, segmentID: "a-wav", title: "A", path: "a.wav",
                             scheduledAt: t.addingTimeInterval(Double(n) * 600), outcome: .completed, device: "null")
            })
        }
        let checkpoint = try await Harness.run("/usr/bin/sqlite3", [station.database, "PRAGMA wal_checkpoint(TRUNCATE)"])
        try #require(checkpoint.status == 0)
        let root = try await Harness.run("/usr/bin/sqlite3", [station.database, "SELECT rootpage FROM sqlite_master WHERE name = 'airing_by_time'"])
        let page = try #require(Int(root.out.trimmingCharacters(in: .whitespacesAndNewlines)))
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: station.database))
        try file.seek(toOffset: UInt64((page - 1) * 4096))
        try file.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        try file.close()
        #expect(try integrityCheck(station.database) != "ok")

        let start = station.wholeSecond(after: 3)
        try station.writeSlot("sau-hong", start: start, files: ["a.wav"], end: start.addingTimeInterval(3))
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("bị hỏng (quick_check", timeout: 10), "\(daemon.output)")
        #expect(daemon.output.contains("integrity_check"), "what to do: \(daemon.output)")
        #expect(try await daemon.waitForOutput("Xong “A”", timeout: 10), "the slot airs: \(daemon.output)")
        #expect(await daemon.stop() == 0)
    }
}
}
