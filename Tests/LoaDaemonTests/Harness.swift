import Foundation
import Testing

/// Every suite that measures real time through the sound server runs inside this one, one test at a
/// time: two daemons and two sound servers at once on a two-core machine would measure each other. So do the
/// suites whose in-process server or daemon must answer within seconds (control channel, notify, playout copies,
/// a damaged database): beside the other process tests they sometimes missed their deadlines in CI.
@Suite("Real time through ALSA and PulseAudio", .serialized)
struct RealTimeTests {}

/// Helpers that start real programs for the daemon tests: the `loa` binary, PulseAudio, parec, sox.
enum Harness {
    /// The `loa` executable built beside this test bundle (`make test` builds it first), or `$LOA_BIN`.
    static func loaBinary() throws -> URL {
        if let explicit = ProcessInfo.processInfo.environment["LOA_BIN"] { return URL(fileURLWithPath: explicit) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = folder.appendingPathComponent("loa")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        throw HarnessError("the loa binary was not found next to \(CommandLine.arguments[0]); run `swift build` first or set LOA_BIN")
    }

    static func temporaryFolder(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// ``run(_:_:environment:in:)`` from an async test: the wait happens on a thread of its own. Waited for on a
    /// thread of Swift's cooperative pool (two on two cores), a few tests running commands at once starved every
    /// other test of the process, and the in-process daemons of those tests stopped answering (seen in CI).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:], in folder: URL? = nil)
        async throws -> (status: Int32, out: String, err: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try run(tool, arguments, environment: environment, in: folder) })
            }
        }
    }

    /// Runs `body` on a thread of its own and waits for it without holding a thread of the cooperative pool.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs a program to completion; returns status, stdout and stderr. Output goes through files,
    /// not pipes, so a daemon the program leaves behind cannot hold the read end open.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:], in folder: URL? = nil)
        throws -> (status: Int32, out: String, err: String) {
        let scratch = try temporaryFolder("loa-run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let folder { process.currentDirectoryURL = folder }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return (process.terminationStatus, (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// ``tone(_:frequency:seconds:rate:)`` from an async test: sox and lame are waited for off the cooperative pool.
    static func tone(_ url: URL, frequency: Int, seconds: Double, rate: Int) async throws {
        try await onOwnThread { try tone(url, frequency: frequency, seconds: seconds, rate: rate) }
    }

    /// A mono 16-bit WAV sine at half scale, written here rather than by sox: for tests that run beside forty others,
    /// where a process waited for on a thread of the cooperative pool holds up every other test (seen in CI).
    static func sineWAV(_ url: URL, frequency: Int, seconds: Double, rate: Int) throws {
        let frames = Int(seconds * Double(rate))
        var data = Data(capacity: 44 + frames * 2)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8))
        append(UInt32(36 + frames * 2))
        data.append(contentsOf: Array("WAVEfmt ".utf8))
        append(UInt32(16)); append(UInt16(1)); append(UInt16(1)); append(UInt32(rate)); append(UInt32(rate * 2))
        append(UInt16(2)); append(UInt16(16))
        data.append(contentsOf: Array("data".utf8))
        append(UInt32(frames * 2))
        for i in 0..<frames {
            append(Int16((0.5 * 32767 * sin(2 * Double.pi * Double(frequency) * Double(i) / Double(rate))).rounded()))
        }
        try data.write(to: url)
    }

    static func tone(_ url: URL, frequency: Int, seconds: Double, rate: Int) throws {
        let wav = url.pathExtension == "mp3" ? url.deletingPathExtension().appendingPathExtension("src.wav") : url
        let r = try run("/usr/bin/sox", ["-n", "-r", "\(rate)", "-c", "1", wav.path, "synth", "\(seconds)", "sine", "\(frequency)", "vol", "0.5"])
        guard r.status == 0 else { throw HarnessError("sox: \(r.err)") }
        if url.pathExtension == "mp3" {
            let l = try run("/usr/bin/lame", ["--quiet", "-b", "128", wav.path, url.path])
            guard l.status == 0 else { throw HarnessError("lame: \(l.err)") }
            try FileManager.default.removeItem(at: wav)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A private PulseAudio server with one null sink: a real-time ALSA device (`pulse`) on a machine
/// with no sound card. Its monitor is what the loudspeakers would hear.
final class SoundServer {
    let folder: URL
    let sink = "loa_e2e"
    private var running = false
    private var paused = false

    var socket: String { "unix:" + folder.appendingPathComponent("native").path }
    var environment: [String: String] { ["PULSE_SERVER": socket, "PULSE_SINK": sink] }
    private var serverEnvironment: [String: String] {
        ["HOME": folder.path, "XDG_RUNTIME_DIR": folder.path, "PULSE_RUNTIME_PATH": folder.appendingPathComponent("run").path]
    }

    /// Started daemonized: PulseAudio closes every inherited descriptor, which confuses Foundation's
    /// Process bookkeeping when it is a direct child that keeps running.
    init() throws {
        folder = try Harness.temporaryFolder("loa-pulse")
        do { try launch(daemonSocket: true) } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    /// A second client socket, for the recorder only: with it the server can come back with the daemon's
    /// socket still closed, so the recorder listens before the daemon can reach the device again.
    var recorderSocket: String { "unix:" + folder.appendingPathComponent("recorder").path }

    /// The server's pid, from its pid file (`--use-pid-file=yes` under `PULSE_RUNTIME_PATH`).
    var pid: pid_t? {
        let file = folder.appendingPathComponent("run").appendingPathComponent("pid")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Starts the server in this folder; without `daemonSocket` only the recorder's socket listens.
    private func launch(daemonSocket: Bool) throws {
        var arguments = [
            "-n", "--daemonize=yes", "--exit-idle-time=-1", "--use-pid-file=yes", "--log-target=stderr", "--log-level=error",
            "-L", "module-native-protocol-unix socket=\(folder.appendingPathComponent("recorder").path) auth-anonymous=1",
            "-L", "module-null-sink sink_name=\(sink) rate=48000 channels=2",
        ]
        if daemonSocket {
            arguments += ["-L", "module-native-protocol-unix socket=\(folder.appendingPathComponent("native").path) auth-anonymous=1"]
        }
        let started = try Harness.run("/usr/bin/pulseaudio", arguments, environment: serverEnvironment)
        guard started.status == 0 else { throw HarnessError("PulseAudio did not start: \(started.err)") }
        running = true
        for _ in 0..<100 {
            if try Harness.run("/usr/bin/pactl", ["-s", recorderSocket, "info"]).status == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw HarnessError("PulseAudio did not answer within 10 s")
    }

    /// Ends the server as a crash or an unplugged card would (SIGKILL), keeping its folder so that it can
    /// come back on the same socket paths. Returns once the process is gone.
    func kill() throws {
        guard let pid else { throw HarnessError("no PulseAudio pid file in \(folder.path)") }
        _ = Foundation.kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while Foundation.kill(pid, 0) == 0 {
            guard Date() < deadline else { throw HarnessError("PulseAudio \(pid) did not die") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        running = false
    }

    /// Brings a killed server back with only the recorder's socket: call `openDaemonSocket()` when the
    /// recorder listens.
    func restartForRecorder() throws { try launch(daemonSocket: false) }

    /// Opens the daemon's socket (`socket`, the path in `environment`): from now on the device is back.
    func openDaemonSocket() throws {
        let r = try Harness.run("/usr/bin/pactl", ["-s", recorderSocket, "load-module", "module-native-protocol-unix",
                                                   "socket=\(folder.appendingPathComponent("native").path)", "auth-anonymous=1"])
        guard r.status == 0 else { throw HarnessError("pactl load-module: \(r.err)") }
    }

    /// Freezes the server (SIGSTOP): the device stops taking audio, but nothing is closed: a stall.
    func pause() throws {
        guard let pid, Foundation.kill(pid, SIGSTOP) == 0 else { throw HarnessError("could not SIGSTOP PulseAudio") }
        paused = true
    }

    /// Lets a frozen server run again (SIGCONT).
    func resume() throws {
        guard let pid, Foundation.kill(pid, SIGCONT) == 0 else { throw HarnessError("could not SIGCONT PulseAudio") }
        paused = false
    }

    func stop() {
        if paused { try? resume() }
        guard running else { try? FileManager.default.removeItem(at: folder); return }
        running = false
        _ = try? Harness.run("/usr/bin/pulseaudio", ["-k"], environment: serverEnvironment)
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }
}

/// Records the sink's monitor with parecord (raw, mono, 48 kHz) and ties sample 0 to the wall clock.
final class MonitorRecorder: @unchecked Sendable {
    let rate = 48000
    private let process = Process()
    private let lock = NSLock()
    private var data = Data()
    /// The earliest possible wall time of sample 0: min over chunks of (arrival - audio before it).
    private var anchor = Date.distantFuture
    private var reader: Thread?

    /// A recorder of `server`'s monitor that is already recording: slot times chosen after this cannot lose their
    /// first moments to parecord's start-up.
    static func recording(_ server: SoundServer, socket: String? = nil) async throws -> MonitorRecorder {
        let recorder = try MonitorRecorder(server: server, socket: socket)
        try await recorder.waitUntilRecording()
        return recorder
    }

    /// Records through `socket` (default: the one the daemon uses).
    init(server: SoundServer, socket: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/parecord")
        process.arguments = ["--raw", "-d", "\(server.sink).monitor", "--format=s16le", "--rate=48000", "--channels=1",
                             "--latency-msec=5"]
        var environment = server.environment
        if let socket { environment["PULSE_SERVER"] = socket }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = pipe.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                let arrived = Date()
                lock.withLock {
                    data.append(chunk)
                    let start = arrived.addingTimeInterval(-Double(data.count / 2) / Double(rate))
                    if start < anchor { anchor = start }
                }
            }
        }
        thread.start()
        reader = thread
    }

    /// Waits until the monitor delivers audio (silence counts): what is played before that is not recorded.
    func waitUntilRecording(timeout: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while lock.withLock({ data.count }) < rate / 10 {
            guard Date() < deadline else { throw HarnessError("parecord delivered nothing within \(timeout) s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops recording; returns the samples and the wall time of the first one.
    func stop() -> (samples: [Float], startedAt: Date) {
        // The test process blocks SIGTERM and its children inherit the mask: only SIGKILL is sure to land.
        // Safe to call twice: a process already reaped is not signalled again (its pid may be another's by then).
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Thread.sleep(forTimeInterval: 0.2)
        }
        return lock.withLock {
            let samples = data.withUnsafeBytes { raw in
                raw.bindMemory(to: Int16.self).map { Float(Int16(littleEndian: $0)) / 32768 }
            }
            return (samples, anchor)
        }
    }
}

/// A station folder driven through the real `loa` binary, as an operator would.
struct ProcessStation {
    let loa: URL
    let folder: URL
    var audio: URL { folder.appendingPathComponent("audio") }
    var schedules: URL { folder.appendingPathComponent("schedules") }
    var config: String { folder.appendingPathComponent("loa.toml").path }
    let zone: Calendar

    /// For a test whose slots start a few seconds from now: Vietnam's time, unless its slots could cross Vietnam's
    /// midnight (a slot ending after 00:00 is invalid, and a day's plan changes), then Japan's, two hours further on.
    /// A run of the suites at 16:59 UTC failed eleven real-time tests that way. Tests of fixed dates keep Vietnam's.
    static func zoneAwayFromMidnight(now: Date = Date()) -> String {
        var vietnam = Calendar(identifier: .gregorian)
        vietnam.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current
        let c = vietnam.dateComponents([.hour, .minute], from: now)
        let minutes = (c.hour ?? 12) * 60 + (c.minute ?? 0)
        return minutes < 40 || minutes > 23 * 60 + 20 ? "Asia/Tokyo" : "Asia/Ho_Chi_Minh"
    }

    /// A station on `timezone`: Vietnam's unless a test asks for another (a real-time one, ``zoneAwayFromMidnight(now:)``).
    init(device: String, timezone: String = "Asia/Ho_Chi_Minh") throws {
        loa = try Harness.loaBinary()
        folder = try Harness.temporaryFolder("loa-station")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("audio"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("schedules"), withIntermediateDirectories: true)
        try """
        station = "UBND xã Thử Nghiệm"
        timezone = "\(timezone)"
        device = "\(device)"
        """.write(to: folder.appendingPathComponent("loa.toml"), atomically: true, encoding: .utf8)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timezone) ?? .current
        zone = calendar
    }

    /// Makes a tone file and imports it with `loa segment add`, off the cooperative pool (sox, lame and loa are
    /// waited for on a thread of their own).
    func addTone(_ name: String, frequency: Int, seconds: Double, rate: Int, title: String) async throws {
        let url = audio.appendingPathComponent(name)
        try await Harness.onOwnThread { try Harness.tone(url, frequency: frequency, seconds: seconds, rate: rate) }
        let r = try await loaCommand(["segment", "add", url.path, "--title", title, "--pillar", "kinh-te"])
        guard r.status == 0 else { throw HarnessError("segment add: \(r.err)") }
    }

    /// Station time `HH:MM:SS` of `instant`.
    func clock(_ instant: Date) -> String {
        let c = zone.dateComponents([.hour, .minute, .second], from: instant)
        return String(format: "%02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// The next whole second at least `seconds` from now.
    func wholeSecond(after seconds: Double) -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + seconds).rounded(.up))
    }

    /// Writes a schedule file with one slot from `start` to `end` (default a minute later; open-ended
    /// when that would cross local midnight), playing `files` in order.
    func writeSlot(_ id: String, start: Date, files: [String], end endTime: Date? = nil, file: String = "thu.toml") throws {
        let end = clock(endTime ?? start.addingTimeInterval(60))
        try """
        [[slot]]
        id = "\(id)"
        start = "\(clock(start))"
        \(end > clock(start) ? "end = \"\(end)\"" : "")
        play = [\(files.map { "\"\($0)\"" }.joined(separator: ", "))]
        """.write(to: schedules.appendingPathComponent(file), atomically: true, encoding: .utf8)
    }

    /// A slot a few seconds ahead with a long tone, then a short one: something to interrupt.
    /// Returns the slot's start.
    func interruptibleSlot(_ id: String, longSeconds: Double) async throws -> Date {
        try await addTone("dai.wav", frequency: 440, seconds: longSeconds, rate: 48000, title: "Bản tin dài")
        try await addTone("sau.wav", frequency: 660, seconds: 1, rate: 48000, title: "Bản tin sau")
        let start = wholeSecond(after: 4)
        try writeSlot(id, start: start, files: ["dai.wav", "sau.wav"])
        return start
    }

    /// Polls `loa log` until `done` holds or `deadline` passes; returns the last rows read.
    func waitForRows(until deadline: Date, _ done: ([LogRow]) -> Bool) async throws -> [LogRow] {
        var rows = try await logRows()
        while !done(rows) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            rows = try await logRows()
        }
        return rows
    }

    func loaCommand(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        try Harness.run(loa.path, arguments + ["--config", config], environment: environment)
    }

    /// ``loaCommand(_:environment:)`` from an async test, waited for off the cooperative pool.
    func loaCommand(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, out: String, err: String) {
        try await Harness.run(loa.path, arguments + ["--config", config], environment: environment)
    }

    struct LogRow: Decodable {
        let slot: String, segment: String, outcome: String, aired_seconds: Double, scheduled_at: String
        let started_at: String?, onset_error_ms: Double?, reason: String?, reason_code: String?
        /// Where a stretch's audio began in the file (a row continuing another after a preemption or a restart).
        let from_seconds: Double?
        /// `segment`, `jingle` or `announcement`; the lateness policy that acted; seconds planned and not heard.
        let kind: String?, policy: String?, planned_seconds: Double?, lost_seconds: Double?
        /// What the log keeps of the file aired and where it came from.
        let sha256: String?, feed: String?
        /// Dropouts while the row aired: underruns the device reported or its delay showed.
        let xruns: Int?
    }

    func logRows() async throws -> [LogRow] {
        let r = try await loaCommand(["log", "--format", "json"])
        guard r.status == 0 else { throw HarnessError("loa log: \(r.err)") }
        return try JSONDecoder().decode([LogRow].self, from: Data(r.out.utf8))
    }

    /// Starts `loa daemon`, its output going to `daemon.log` in the station folder.
    func startDaemon(environment: [String: String]) throws -> DaemonProcess {
        try DaemonProcess(loa: loa, config: config, log: folder.appendingPathComponent("daemon.log"), environment: environment)
    }
}

/// A running `loa daemon`.
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    let log: URL

    init(loa: URL, config: String, log: URL, environment: [String: String]) throws {
        self.log = log
        process.executableURL = loa
        process.arguments = ["daemon", "--config", config]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    /// Sends `signal` directly: Foundation's terminate() would do for SIGTERM, but not for SIGHUP.
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// ``stop(timeout:)`` from an async test: waited for on a thread of its own, not on the cooperative pool.
    func stop(timeout: Double = 10) async -> Int32? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.stop(timeout: timeout)) }
        }
    }

    /// SIGTERM, then waits up to `timeout` seconds; returns the exit status, or nil if it did not exit.
    func stop(timeout: Double = 10) -> Int32? {
        send(SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            send(SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// Waits until the daemon's output contains `text`, up to `timeout` seconds.
    func waitForOutput(_ text: String, timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        // One last look: a task the cooperative pool ran only after the deadline (the first seconds of a run, forty
        // suites starting on two cores) must still see what the daemon wrote in time (CI: the line written 0.08 s
        // after start, the wait failing at 15 s).
        return output.contains(text)
    }
}
