import Foundation
import Testing

/// `make deb`, run once for the suite: a release build takes minutes on two cores. It builds in `.build-deb`, not
/// `.build`: `swift test` holds `.build` while the tests run, and a second SwiftPM there would wait for it forever.
actor DebianPackage {
    static let shared = DebianPackage()
    static let packageFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL

    private var built: Task<URL, any Error>?

    /// The path of the .deb: `$LOA_DEB` (one `make deb` already made, as `$LOA_BIN` is for the binary); or the one
    /// `make test` is building in the background in `$LOA_DEB_BUILD`, once it is done; or built on the first call.
    func deb() async throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["LOA_DEB"] { return URL(fileURLWithPath: explicit) }
        if let built { return try await built.value }
        let task = Task<URL, any Error> {
            let dist: URL
            if let background = environment["LOA_DEB_BUILD"] {
                dist = try await Self.waitForBackgroundBuild(in: URL(fileURLWithPath: background))
            } else {
                dist = try Harness.temporaryFolder("loa-dist").appendingPathComponent("dist")
                let make = try await Harness.run("/usr/bin/make", ["deb", "SCRATCH=.build-deb", "DIST=\(dist.path)"], in: Self.packageFolder)
                guard make.status == 0 else { throw HarnessError("make deb failed (\(make.status)):\n\(make.out.suffix(3000))\n\(make.err.suffix(3000))") }
            }
            let debs = try FileManager.default.contentsOfDirectory(atPath: dist.path).filter { $0.hasSuffix(".deb") }
            guard debs.count == 1 else { throw HarnessError("make deb left \(debs) in \(dist.path)") }
            // The tree the .deb was packed from holds another copy of the binary (100 MB): only the .deb is tested.
            try? FileManager.default.removeItem(at: dist.appendingPathComponent("deb-root"))
            return dist.appendingPathComponent(debs[0])
        }
        built = task
        return try await task.value
    }

    /// Waits for the `make deb` that `make test` started (packaging/deb-for-tests.sh renames its exit status into
    /// `status` when it ends); returns its `dist` folder.
    static func waitForBackgroundBuild(in folder: URL) async throws -> URL {
        let status = folder.appendingPathComponent("status"), log = folder.appendingPathComponent("make.log")
        let began = Date()
        while !FileManager.default.fileExists(atPath: status.path) {
            guard Date().timeIntervalSince(began) < 45 * 60 else { throw HarnessError("make deb in \(folder.path) did not end in 45 min") }
            try await Task.sleep(for: .seconds(2))
        }
        let code = try String(contentsOf: status, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard code == "0" else {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? "(no make.log)"
            throw HarnessError("make deb failed (\(code)):\n\(output.suffix(4000))")
        }
        return folder.appendingPathComponent("dist")
    }
}

/// The package as a station gets it: its contents, then installed on this machine with dpkg (CI's machine is thrown
/// away after the run), run as the `loa` user, and purged. Inside the real-time suite: dpkg and the installed daemon
/// would take cores from the tests that measure time. The file's name puts it last in that suite (Swift Testing
/// runs a serialized suite's children in source order), so that the .deb `make test` builds meanwhile (under SCHED_IDLE,
/// taking only the time the other tests leave) is ready, or nearly, when it is needed.
extension RealTimeTests {
@Suite("The Debian package: built by make deb, installed with dpkg, run as the loa user, purged", .serialized)
struct PackagingTests {
    func dpkgDeb(_ arguments: [String]) async throws -> String {
        let r = try await Harness.run("/usr/bin/dpkg-deb", arguments)
        #expect(r.status == 0, "dpkg-deb \(arguments): \(r.err)")
        return r.out
    }

    @Test("make deb builds loa_<version>_<arch>.deb: the release binary, the unit, /etc/loa/loa.toml as a conffile, the sample station, the man page and the completions, depending on Debian's libraries")
    func packageContents() async throws {
        let deb = try await DebianPackage.shared.deb()
        let version = try await dpkgDeb(["--field", deb.path, "Version"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let arch = try await Harness.run("/usr/bin/dpkg", ["--print-architecture"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.lastPathComponent == "loa_\(version)_\(arch).deb")
        #expect(version.range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil, "version \(version)")

        let contents = try await dpkgDeb(["--contents", deb.path])
        // "-rwxr-xr-x root/root 12345 2026-01-01 00:00 ./usr/bin/loa": the mode, the owner and the path.
        let entries = contents.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        func entry(_ path: String) -> (mode: String, owner: String)? {
            entries.first { $0.last.map(String.init) == "." + path || $0.last.map(String.init) == "." + path + "/" }
                .map { (String($0[0]), String($0[1])) }
        }
        for (path, mode) in [("/usr/bin/loa", "-rwxr-xr-x"), ("/lib/systemd/system/loa.service", "-rw-r--r--"),
                             ("/etc/loa/loa.toml", "-rw-r--r--"), ("/var/lib/loa", "drwxr-xr-x"),
                             ("/usr/share/man/man1/loa.1.gz", "-rw-r--r--"),
                             ("/usr/share/bash-completion/completions/loa", "-rw-r--r--"),
                             ("/usr/share/zsh/vendor-completions/_loa", "-rw-r--r--"),
                             ("/usr/share/fish/vendor_completions.d/loa.fish", "-rw-r--r--"),
                             ("/usr/share/loa/samples/schedules/sang.toml", "-rw-r--r--"),
                             ("/usr/share/loa/samples/audio/asean/kinh-te.mp3", "-rw-r--r--"),
                             ("/usr/share/loa/samples/audio/jingles/intro.ogg", "-rw-r--r--")] {
            let found = entry(path)
            #expect(found?.mode == mode, "\(path): \(found.map { "\($0)" } ?? "missing")")
            #expect(found?.owner == "root/root", "\(path) owned by \(found?.owner ?? "nobody")")
        }
        #expect(!contents.contains(".playout"), "a playout copy of the build machine was packed")

        let extracted = try Harness.temporaryFolder("loa-deb")
        defer { try? FileManager.default.removeItem(at: extracted) }
        _ = try await dpkgDeb(["--raw-extract", deb.path, extracted.path])
        let control = try String(contentsOf: extracted.appendingPathComponent("DEBIAN/control"), encoding: .utf8)
        let conffiles = try String(contentsOf: extracted.appendingPathComponent("DEBIAN/conffiles"), encoding: .utf8)
        #expect(conffiles.split(separator: "\n") == ["/etc/loa/loa.toml"], "conffiles: \(conffiles)")

        // Every library the binary needs, by its Debian package, and nothing of Swift's (linked in statically).
        let depends = try #require(control.split(separator: "\n").map(String.init).first { $0.hasPrefix("Depends: ") },
                                   "no Depends: \(control)")
        let packages: Set<String> = Set(depends.dropFirst("Depends: ".count).split(separator: ",").map { item in
            String(item.trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
        })
        for library in ["libasound2", "libsndfile1", "libsoxr0", "libebur128-1", "libsqlite3-0", "libc6", "passwd"] {
            #expect(packages.contains { $0 == library || $0 == library + "t64" }, "\(library) missing from \(depends)")
        }
        let binary = extracted.appendingPathComponent("usr/bin/loa").path
        let ldd = try await Harness.run("/usr/bin/ldd", [binary])
        #expect(!ldd.out.contains("libswift") && !ldd.out.contains("libFoundation") && !ldd.out.contains("not found"), "\(ldd.out)")

        // The config the package installs points at the station's folder, where the unit lets the daemon write.
        let config = try String(contentsOf: extracted.appendingPathComponent("etc/loa/loa.toml"), encoding: .utf8)
        for line in [#"schedules = "/var/lib/loa/schedules""#, #"audio = "/var/lib/loa/audio""#, #"database = "/var/lib/loa/loa.sqlite""#] {
            #expect(config.contains(line), "loa.toml lacks \(line)")
        }
        let unit = try String(contentsOf: extracted.appendingPathComponent("lib/systemd/system/loa.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/loa daemon --config /etc/loa/loa.toml\n"))
        #expect(unit.contains("Documentation=man:loa(1)\n"))

        // The page names the files and the exit statuses, and every command of the tool.
        let page = try await Harness.run("/bin/sh", ["-c", "gzip -dc '\(extracted.path)/usr/share/man/man1/loa.1.gz'"]).out
        for text in ["/etc/loa/loa.toml", "/var/lib/loa/", ".SH TRẠNG THÁI THOÁT", ".B 3", ".SS \"loa segment add\"", ".SS \"loa daemon\""] {
            #expect(page.contains(text), "the man page lacks \(text)")
        }
        let bash = try String(contentsOf: extracted.appendingPathComponent("usr/share/bash-completion/completions/loa"), encoding: .utf8)
        #expect(bash.contains("complete") && bash.contains("schedule"), "bash completion: \(bash.prefix(200))")
    }

    @Test("Installed with dpkg -i, loa runs from /usr/bin against /etc/loa/loa.toml, the loa user owns /var/lib/loa with the sample library imported, and dpkg --purge leaves none of it", .enabled(if: getuid() == 0, "dpkg -i installs into this machine and needs root; CI runs as root"))
    func installAndPurge() async throws {
        let deb = try await DebianPackage.shared.deb()
        try await Self.purge()
        let installed = try await Harness.run("/usr/bin/dpkg", ["-i", deb.path])
        #expect(installed.status == 0, "dpkg -i: \(installed.out)\(installed.err)")
        defer { _ = try? Harness.run("/usr/bin/dpkg", ["--purge", "loa"]) }

        // dpkg keeps the officer's edits of a conffile at an upgrade; of any other file, it would not.
        let conffiles = try await Harness.run("/usr/bin/dpkg-query", ["-W", "-f=${Conffiles}", "loa"])
        #expect(conffiles.out.contains("/etc/loa/loa.toml "), "not a conffile once installed: \(conffiles.out)")
        let version = try await Harness.run("/usr/bin/loa", ["--version"])
        #expect(version.status == 0 && version.out.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(version)")
        let passwd = try await Harness.run("/usr/bin/getent", ["passwd", "loa"])
        #expect(passwd.status == 0 && passwd.out.contains(":/var/lib/loa:"), "no loa user: \(passwd)")
        let groups = try await Harness.run("/usr/bin/id", ["-nG", "loa"])
        #expect(groups.out.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.contains("audio"), "\(groups.out)")

        // The sample station, copied and owned by loa, with its segments in the library postinst made.
        let owners = try await Harness.run("/usr/bin/find", ["/var/lib/loa", "!", "-user", "loa"])
        #expect(owners.status == 0 && owners.out.isEmpty, "not owned by loa: \(owners.out)")
        let validate = try await Harness.run("/usr/bin/loa", ["schedule", "validate", "--config", "/etc/loa/loa.toml"])
        #expect(validate.status == 0, "schedule validate: \(validate.out)\(validate.err)")
        let segments = try await Harness.run("/usr/bin/loa", ["segment", "list", "--json", "--config", "/etc/loa/loa.toml"])
        #expect(segments.status == 0 && segments.out.contains("RCEP và nông sản Việt") && segments.out.contains("Nhạc hiệu chương trình"),
                "segment list: \(segments.out)\(segments.err)")
        // A technician runs these as root: the database they opened must still be the loa user's alone.
        let afterRoot = try await Harness.run("/usr/bin/find", ["/var/lib/loa", "!", "-user", "loa"])
        #expect(afterRoot.out.isEmpty, "root's commands left files the daemon cannot write: \(afterRoot.out)")
        // No daemon yet: status says so and exits 3, still showing the sample station's next slots.
        let down = try await Self.asLoa(["status", "--config", "/etc/loa/loa.toml"])
        #expect(down.status == 3 && down.out.contains("UBND xã Đông Hòa: Loa KHÔNG chạy") && down.out.contains("asean-"),
                "status with no daemon: \(down)")
        let show = try await Harness.run("/usr/bin/loa", ["schedule", "show", "--date", "2026-11-14", "--config", "/etc/loa/loa.toml"])
        #expect(show.status == 0 && show.out.contains("asean-sang") && show.out.contains("hncc-asean-37"), "schedule show: \(show.out)\(show.err)")
        // With no daemon, the control channel's "not running" is exit 3 (as `loa status` will be).
        let announce = try await Harness.run("/usr/bin/loa", ["announce", "/var/lib/loa/audio/jingles/intro.ogg", "--config", "/etc/loa/loa.toml"])
        #expect(announce.status == 3, "announce with no daemon: \(announce)")

        let page = try await Harness.run("/usr/bin/man", ["-P", "cat", "loa"], environment: ["MANWIDTH": "100", "LANG": "C.UTF-8"])
        #expect(page.status == 0 && page.out.contains("/etc/loa/loa.toml"), "man loa: \(page.err)")

        try await Self.purge()
        for path in ["/usr/bin/loa", "/etc/loa/loa.toml", "/var/lib/loa", "/lib/systemd/system/loa.service", "/usr/share/man/man1/loa.1.gz"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) is still there after the purge")
        }
        let status = try await Harness.run("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "loa"])
        #expect(status.status != 0 || !status.out.contains("installed"), "dpkg still lists loa: \(status.out)")
    }

    @Test("Installed, the unit verifies as systemd reads it: with its binary at /usr/bin/loa and the man page its Documentation= names",
          .enabled(if: getuid() == 0, "dpkg -i installs into this machine and needs root; CI runs as root"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: SystemdUnitTests.systemdAnalyze),
                   "no \(SystemdUnitTests.systemdAnalyze) here (Debian's systemd package)"))
    func installedUnitVerifies() async throws {
        let deb = try await DebianPackage.shared.deb()
        try await Self.purge()
        let installed = try await Harness.run("/usr/bin/dpkg", ["-i", deb.path])
        #expect(installed.status == 0, "dpkg -i: \(installed.out)\(installed.err)")
        defer { _ = try? Harness.run("/usr/bin/dpkg", ["--purge", "loa"]) }
        let verified = try await Harness.run(SystemdUnitTests.systemdAnalyze, ["verify", "/lib/systemd/system/loa.service"])
        #expect(verified.status == 0 && verified.err.isEmpty, "systemd-analyze verify: \(verified.out)\(verified.err)")
        try await Self.purge()
    }

    @Test("The installed daemon runs as the loa user against a PulseAudio null sink: it says READY, airs loa announce to the sink, and stops on SIGTERM", .enabled(if: getuid() == 0, "dpkg -i installs into this machine and needs root; CI runs as root"))
    func installedDaemonAirs() async throws {
        let deb = try await DebianPackage.shared.deb()
        try await Self.purge()
        let installed = try await Harness.run("/usr/bin/dpkg", ["-i", deb.path])
        #expect(installed.status == 0, "dpkg -i: \(installed.out)\(installed.err)")
        defer { _ = try? Harness.run("/usr/bin/dpkg", ["--purge", "loa"]) }

        let server = try SoundServer()
        defer { server.stop() }
        let socket = try NotifySocket()
        // The daemon is not root: the notify socket must be writable by loa, as systemd's is.
        chmod(URL(fileURLWithPath: socket.path).deletingLastPathComponent().path, 0o755)
        chmod(socket.path, 0o666)
        let log = try Harness.temporaryFolder("loa-installed").appendingPathComponent("daemon.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let daemon = Process()
        // As systemd would start it: the installed binary, the installed config, the loa user with its groups.
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        daemon.arguments = ["--reuid=loa", "--regid=loa", "--init-groups", "/usr/bin/loa", "daemon", "--config", "/etc/loa/loa.toml"]
        daemon.environment = ProcessInfo.processInfo.environment.merging(
            server.environment.merging(["NOTIFY_SOCKET": socket.path, "HOME": "/var/lib/loa"]) { $1 }) { $1 }
        daemon.currentDirectoryURL = URL(fileURLWithPath: "/var/lib/loa")
        let handle = try FileHandle(forWritingTo: log)
        daemon.standardInput = FileHandle.nullDevice
        daemon.standardOutput = handle
        daemon.standardError = handle
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() } }
        let output = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        let messages = try await socket.receive(until: Date().addingTimeInterval(10)) { $0.contains { $0.hasPrefix("READY=1") } }
        let ready = messages.first { $0.message.hasPrefix("READY=1") }
        #expect(ready?.message.contains("STATUS=UBND xã Đông Hòa: 3 khung giờ") == true, "no READY: \(messages.map(\.message)) \(output())")
        #expect(daemon.isRunning, "the daemon exited: \(output())")

        // The sound path as the loa user: the sample jingle aired now, logged as an announcement that completed.
        // Stopped once, below; if the test throws before, the sound server's end stops parecord.
        let recorder = try await MonitorRecorder.recording(server)
        let announce = try await Self.asLoa(["announce", "/var/lib/loa/audio/jingles/intro.ogg", "--config", "/etc/loa/loa.toml"])
        #expect(announce.status == 0, "announce: \(announce) \(output())")
        var rows = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            rows = try await Self.asLoa(["log", "--format", "json", "--config", "/etc/loa/loa.toml"]).out
            if rows.contains("\"completed\"") { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(rows.contains("\"announcement\"") && rows.contains("\"completed\""), "no completed announcement: \(rows) \(output())")
        // The officer's two questions to the installed station while it runs: status asks the daemon, doctor checks
        // each part (the device in use by the daemon is a pass). The host's clock may make doctor a warning (exit 2).
        let up = try await Self.asLoa(["status", "--json", "--config", "/etc/loa/loa.toml"])
        #expect(up.status == 0 && up.out.contains("\"running\" : true") && up.out.contains("\"state\" : \"ok\""), "status: \(up)")
        let doctor = try await Harness.run("/usr/bin/setpriv", ["--reuid=loa", "--regid=loa", "--init-groups", "/usr/bin/loa", "doctor",
                                                                "--config", "/etc/loa/loa.toml"],
                                           environment: server.environment.merging(["HOME": "/var/lib/loa"]) { $1 },
                                           in: URL(fileURLWithPath: "/var/lib/loa"))
        #expect([0, 2].contains(doctor.status) && !doctor.out.contains("✗") && doctor.out.contains("✓ Cấu hình"), "doctor: \(doctor)")
        let heard = recorder.stop().samples
        #expect(heard.contains { abs($0) > 0.05 }, "the sink heard nothing of the jingle (\(heard.count) samples)")

        kill(daemon.processIdentifier, SIGTERM)
        let stopDeadline = Date().addingTimeInterval(15)
        while daemon.isRunning && Date() < stopDeadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!daemon.isRunning && daemon.terminationStatus == 0, "SIGTERM: \(output())")
        let owners = try await Harness.run("/usr/bin/find", ["/var/lib/loa", "!", "-user", "loa"])
        #expect(owners.out.isEmpty, "not owned by loa after the run: \(owners.out)")
        try await Self.purge()
    }

    /// A command as the `loa` user: run as root, one that opens the database could leave a root-owned `-shm` behind.
    static func asLoa(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await Harness.run("/usr/bin/setpriv", ["--reuid=loa", "--regid=loa", "--init-groups", "/usr/bin/loa"] + arguments,
                              environment: ["HOME": "/var/lib/loa"], in: URL(fileURLWithPath: "/var/lib/loa"))
    }

    /// Removes an installed loa with its data (a run that stopped midway may have left one).
    static func purge() async throws {
        let purged = try await Harness.run("/usr/bin/dpkg", ["--purge", "loa"])
        #expect(purged.status == 0, "dpkg --purge: \(purged.out)\(purged.err)")
    }
}
}
