import Foundation
import Testing

/// The database as several users and a careless config meet it: readers run by another user, sidecar files they
/// left, a `database` path whose folder does not exist.
@Suite("Database access from the CLI")
struct DatabaseAccessCLITests {
    /// `loa …` as `user`, through `setpriv` (the tests run as root, as CI does).
    func loa(as user: String, _ station: ProcessStation, _ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await Harness.run("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user == "nobody" ? "nogroup" : user)", "--clear-groups",
                                                   station.loa.path] + arguments + ["--config", station.config],
                              environment: ["HOME": station.folder.path])
    }

    /// A station owned by `nobody` in a folder anyone may write to (as a shared folder on a commune PC is), with one
    /// segment imported and the database closed cleanly (no `-wal`, no `-shm`).
    func sharedStation() async throws -> ProcessStation {
        let station = try ProcessStation(device: "null")
        try Harness.sineWAV(station.audio.appendingPathComponent("a.wav"), frequency: 440, seconds: 0.5, rate: 48000)
        _ = try await Harness.run("/bin/chown", ["-R", "nobody:nogroup", station.folder.path])
        _ = try await Harness.run("/bin/chmod", ["-R", "a+rwX", station.folder.path])
        let added = try await loa(as: "nobody", station, ["segment", "add", station.audio.appendingPathComponent("a.wav").path, "--title", "A"])
        #expect(added.status == 0, "\(added.err)")
        return station
    }

    /// A new tone under the station's audio folder, readable by every user; its path.
    func tone(_ name: String, _ station: ProcessStation) throws -> String {
        let url = station.audio.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: url.path) {
            // A frequency of its own per name: the same bytes would be one segment.
            try Harness.sineWAV(url, frequency: 300 + name.unicodeScalars.reduce(0) { $0 + Int($1.value) } % 500, seconds: 0.5, rate: 48000)
            _ = chmod(url.path, 0o644)
        }
        return url.path
    }

    func sidecars(_ station: ProcessStation) -> [String] {
        ["-shm", "-wal"].filter { FileManager.default.fileExists(atPath: station.folder.appendingPathComponent("loa.sqlite" + $0).path) }
    }

    @Test("A reader run by another user on a read-only database leaves no -shm or -wal behind, and the owner writes again once it is writable")
    func readerLeavesNothing() async throws {
        let station = try await sharedStation()
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let database = station.folder.appendingPathComponent("loa.sqlite").path
        #expect(sidecars(station).isEmpty)
        #expect(chmod(database, 0o444) == 0)
        for command in [["log"], ["segment", "list"], ["report"]] {
            let read = try await loa(as: "daemon", station, command)
            #expect(read.status == 0, "\(command): \(read.err)")
        }
        #expect(sidecars(station).isEmpty, "a reader left \(sidecars(station))")
        #expect(chmod(database, 0o644) == 0)
        let added = try await loa(as: "nobody", station, ["segment", "add", try tone("b.wav", station), "--title", "B"])
        #expect(added.status == 0, "\(added.err)")
        // Another user may read it but not write it: told whose it is, not sent after a -shm.
        let other = try await loa(as: "daemon", station, ["segment", "add", try tone("c.wav", station), "--title", "C"])
        #expect(other.status == 1 && other.err == "loa: \(database): không mở được cơ sở dữ liệu: người dùng này không ghi được tệp (của người dùng nobody): chạy lệnh bằng người dùng đó (ví dụ `sudo -u nobody loa …`)\n",
                "\(other.err)")
    }

    @Test("A writer that meets a -shm and an empty -wal another user left read-only removes them when nobody has the database open; with someone reading, it names the file and says what to do")
    func writerClearsWhatBlocksIt() async throws {
        let station = try await sharedStation()
        defer { try? FileManager.default.removeItem(at: station.folder) }
        let database = station.folder.appendingPathComponent("loa.sqlite").path
        // What an older Loa (or any SQLite reader) run by another user left on the read-only database: 0444 files it owns.
        #expect(chmod(database, 0o444) == 0)
        let script = "import sqlite3; c = sqlite3.connect('file:\(database)?mode=ro', uri=True); c.execute('select count(*) from segment').fetchall(); c.close()"
        let left = try await Harness.run("/usr/bin/setpriv", ["--reuid=daemon", "--regid=daemon", "--clear-groups", "/usr/bin/python3", "-c", script])
        #expect(left.status == 0, "\(left.err)")
        #expect(sidecars(station) == ["-shm", "-wal"], "the setup left no sidecar files to trip on")
        #expect(chmod(database, 0o644) == 0)

        // Someone still reading: the files cannot be taken away; the refusal names the -shm and what to do.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        holder.arguments = ["--reuid=daemon", "--regid=daemon", "--clear-groups", "/usr/bin/python3", "-c",
                            "import sqlite3, time; c = sqlite3.connect('file:\(database)?mode=ro', uri=True); c.execute('select count(*) from segment').fetchall(); print('open', flush=True); time.sleep(30)"]
        let pipe = Pipe()
        holder.standardOutput = pipe
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() } }
        _ = try await Harness.onOwnThread { pipe.fileHandleForReading.availableData }
        let refused = try await loa(as: "nobody", station, ["segment", "add", try tone("b.wav", station), "--title", "B"])
        #expect(refused.status == 1)
        #expect(refused.err.split(separator: "\n").count == 1, "\(refused.err)")
        #expect(refused.err.contains("\(database)-shm do người dùng daemon tạo và người dùng này không ghi được; một tiến trình khác đang mở cơ sở dữ liệu"),
                "\(refused.err)")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()

        let added = try await loa(as: "nobody", station, ["segment", "add", try tone("b.wav", station), "--title", "B"])
        #expect(added.status == 0, "\(added.err)")
        let listed = try await loa(as: "nobody", station, ["segment", "list", "--json"])
        #expect(listed.out.contains("\"title\" : \"B\""), "\(listed.out)")
    }

    @Test("A database reached through a symlink, beside a running daemon that holds rows in its WAL, is read whole")
    func symlinkedDatabaseReadThroughItsWAL() async throws {
        let station = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        // Made and closed before the daemon starts: the file itself holds the tables and this row.
        let first = try await station.loaCommand(["segment", "add", try tone("cu.wav", station), "--title", "Bản tin cũ"])
        #expect(first.status == 0, "\(first.err)")
        let daemon = try station.startDaemon(environment: [:])
        defer { _ = daemon.stop() }
        #expect(try await daemon.waitForOutput("Kênh điều khiển", timeout: 15), "\(daemon.output)")
        // Written while the daemon holds the database open: the row is in the WAL, not yet in the file.
        let added = try await station.loaCommand(["segment", "add", try tone("moi.wav", station), "--title", "Bản tin mới"])
        #expect(added.status == 0, "\(added.err)")
        let other = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: other.folder) }
        try FileManager.default.createSymbolicLink(atPath: other.folder.appendingPathComponent("link.sqlite").path,
                                                   withDestinationPath: station.folder.appendingPathComponent("loa.sqlite").path)
        let config = try String(contentsOfFile: other.config, encoding: .utf8)
        try (config + "\ndatabase = \"link.sqlite\"\n").write(toFile: other.config, atomically: true, encoding: .utf8)
        for config in [station.config, other.config] {
            let listed = try await Harness.run(station.loa.path, ["segment", "list", "--json", "--config", config])
            #expect(listed.status == 0 && listed.out.contains("Bản tin mới"), "\(config): \(listed.out)\(listed.err)")
        }
        #expect(await daemon.stop() == 0)
    }

    @Test("segment add does not make a missing database folder (a typo in `database`); it says when it made a new database")
    func missingFolderRefused() async throws {
        let station = try ProcessStation(device: "null")
        defer { try? FileManager.default.removeItem(at: station.folder) }
        try Harness.sineWAV(station.audio.appendingPathComponent("a.wav"), frequency: 440, seconds: 0.5, rate: 48000)
        let config = try String(contentsOfFile: station.config, encoding: .utf8)
        try (config + "\ndatabase = \"du-lieu/loa.sqlite\"\n").write(toFile: station.config, atomically: true, encoding: .utf8)
        let file = station.audio.appendingPathComponent("a.wav").path
        let refused = try await station.loaCommand(["segment", "add", file, "--title", "A"])
        let folder = station.folder.appendingPathComponent("du-lieu")
        #expect(refused.status == 1)
        #expect(refused.err == "loa: \(folder.path)/loa.sqlite: không có thư mục \(folder.path) để đặt cơ sở dữ liệu; lệnh này không tự tạo — sửa “database” trong loa.toml nếu gõ nhầm, hoặc tạo thư mục (`mkdir -p`) nếu đúng là nơi đó\n",
                "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: folder.path))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let added = try await station.loaCommand(["segment", "add", file, "--title", "A"])
        #expect(added.status == 0, "\(added.err)")
        #expect(added.err.contains("chưa có cơ sở dữ liệu ở \(folder.path)/loa.sqlite: đã tạo mới"), "\(added.err)")
        let again = try await station.loaCommand(["segment", "add", file, "--title", "A"])
        #expect(!again.err.contains("đã tạo mới"), "\(again.err)")
    }
}
