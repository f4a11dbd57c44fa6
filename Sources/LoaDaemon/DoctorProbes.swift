import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaFeed
import LoaStore

/// `loa doctor`: runs each check's probe (thin I/O: the database, the sound devices, the feeds' servers, the disk,
/// the clock) and hands what it found to ``DoctorCheck``, which decides. Nothing is installed, written or created.
public struct Doctor: Sendable {
    public let clock: any WallClock
    /// The transport each feed is checked through.
    public var transport: @Sendable (FeedConfig) -> any FeedTransport
    /// How much silence the device check plays.
    public var silenceSeconds = 0.5
    /// The longest wait for one feed's server: a doctor that hangs for a feed's whole `timeout` is no help.
    public var feedTimeoutLimit = 10.0

    public init(clock: any WallClock, transport: @escaping @Sendable (FeedConfig) -> any FeedTransport) {
        self.clock = clock
        self.transport = transport
    }

    /// Every check of the station whose `loa.toml` is `configFile` (or what went wrong finding it), in the order
    /// config, schedules, database, device, monitor, feeds, disk, clock. Without a readable configuration only the
    /// clock can still be checked.
    public func examine(_ configFile: Result<URL, ConfigError>, systemZone: TimeZone) async -> [DoctorFinding] {
        let loaded = configFile.flatMap { url in Result { () throws(ConfigError) in try StationConfig.load(url) } }
        var findings = [DoctorCheck.config(loaded)]
        guard case let .success(config) = loaded else {
            findings.append(DoctorCheck.clock(Result { () throws(DaemonError) in try HostHealth.clockSync() },
                                              station: nil, system: systemZone, now: clock.now()))
            return findings
        }
        // Read-only: a missing database is not created, and the daemon's writes are never contended with.
        let (databaseProbe, opened) = Self.probeDatabase(config.database)
        let database = opened ?? (try? StationDatabase.empty(path: config.database))
        let schedules = ScheduleSet.load(folder: config.schedules, relativeTo: config.file.deletingLastPathComponent())
        let segments = (try? database.map { try SegmentLibrary($0).all() }) ?? []
        findings.append(DoctorCheck.schedules(
            slots: schedules.slots.count, files: schedules.files.count,
            folder: ScheduleSet.displayPath(config.schedules, base: config.file.deletingLastPathComponent()) + "/",
            problems: Station.validate(schedules, audio: config.audio, library: segments, sources: config.sources)))
        findings.append(DoctorCheck.database(databaseProbe))

        let running = await BlockingWork.run("loa-doctor") { Self.daemonRunning(config) }
        let seconds = silenceSeconds, clock = self.clock
        let device = await BlockingWork.run("loa-doctor-device") { Self.probePlayback(config.device, seconds: seconds, clock: clock) }
        findings.append(DoctorCheck.device(config.device, device, daemonRunning: running))
        if let monitor = config.monitor {
            let captured = await BlockingWork.run("loa-doctor-monitor") { Self.probeCapture(monitor, seconds: seconds, clock: clock) }
            findings.append(DoctorCheck.monitor(monitor, captured, daemonRunning: running))
        }

        // Every upstream at once: a doctor that waits for each in turn is as slow as all their timeouts.
        let sourceProbes = config.sources.map { source in (source, UpstreamFeed(source: Self.probing(source), clock: clock)) }
        let watched = clock.monotonicSeconds()
        for (source, feed) in sourceProbes {
            let probe = await BlockingWork.run("loa-doctor-source") {
                Self.probeSource(feed, seconds: seconds + 2, limit: min(source.tuning.connectTimeoutSeconds, 10) + seconds + 2,
                                 since: watched, clock: clock)
            }
            findings.append(DoctorCheck.source(source, probe))
        }

        if let database {
            let station = Station.load(config: config, database: database)
            for feed in config.feeds {
                var limited = feed
                limited.timeoutSeconds = min(feed.timeoutSeconds, feedTimeoutLimit)
                let transport = self.transport(limited)
                let result: Result<FeedCheck, FeedError>
                do throws(FeedError) {
                    result = .success(try await station.feedFetcher(limited, transport: transport, clock: clock).check())
                } catch {
                    result = .failure(error)
                }
                await transport.shutdown()
                findings.append(DoctorCheck.feed(feed, result, now: clock.now()))
            }
        }

        return findings + Self.hostFindings(config, systemZone: systemZone, now: clock.now())
    }

    /// Free space where the database and the audio are, and the clock's synchronisation: the host's part of
    /// `loa doctor`, and of `loa status`.
    public static func hostFindings(_ config: StationConfig, systemZone: TimeZone, now: Date) -> [DoctorFinding] {
        diskFindings(["cơ sở dữ liệu": config.database.path, "audio/": config.audio.path])
            + [DoctorCheck.clock(Result { () throws(DaemonError) in try HostHealth.clockSync() },
                                 station: config.timeZone, system: systemZone, now: now)]
    }

    // MARK: - Probes

    /// Opens the database read-only and runs `PRAGMA quick_check`; the open database is returned for the other checks.
    static func probeDatabase(_ path: URL) -> (DatabaseProbe, StationDatabase?) {
        guard FileManager.default.fileExists(atPath: path.path) else { return (.missing(path: path.path), nil) }
        do throws(StoreError) {
            let database = try StationDatabase.open(path: path, .read)
            let problems = try database.quickCheck()
            let segments = try SegmentLibrary(database).all().count
            let bytes = [path.path, path.path + "-wal"].reduce(Int64(0)) { sum, file in
                sum + (((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.int64Value ?? 0)
            }
            return (.checked(path: path.path, quickCheck: problems, segments: segments, bytes: bytes), database)
        } catch {
            return (.unreadable(error), nil)
        }
    }

    /// Whether a daemon answers on the station's control socket. One that is there but does not answer (hung) still
    /// holds its devices, so it counts as running.
    static func daemonRunning(_ config: StationConfig) -> Bool {
        do {
            _ = try ControlClient.send(.status, socketPath: config.controlSocket.path, timeout: 2)
            return true
        } catch {
            if case .noAnswer = error { return true }
            return false
        }
    }

    /// Opens `device` for playback, writes `seconds` of silence at the pace it takes them, waits until they are heard
    /// (at most two seconds more), and closes.
    static func probePlayback(_ device: String, seconds: Double, clock: any WallClock) -> DeviceProbe {
        let output = ALSAOutput(device: device)
        let format = output.format
        let chunkFrames = format.sampleRate / 10
        let silence = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunkFrames * format.channels)
        silence.initialize(repeating: 0)
        defer {
            output.close()
            silence.deallocate()
        }
        let condition = NSCondition()
        func pause(_ wait: Double) {
            condition.lock()
            clock.wait(wait, on: condition)
            condition.unlock()
        }
        do throws(AudioError) {
            try output.open()
            let total = Int(seconds * Double(format.sampleRate))
            var written = 0
            var lastProgress = clock.monotonicSeconds()
            while written < total {
                let frames = min(chunkFrames, total - written)
                let taken = try output.write(UnsafeBufferPointer(rebasing: silence[0..<(frames * format.channels)]))
                written += taken
                let now = clock.monotonicSeconds()
                if taken > 0 { lastProgress = now; continue }
                guard now - lastProgress < ALSACapture.stallSeconds else { throw .stalled(name: device, seconds: now - lastProgress) }
                let wait = try output.timeUntilWritable()
                pause(max(0.005, Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18))
            }
            let deadline = clock.monotonicSeconds() + 2
            while try output.queuedFrames() > 0, clock.monotonicSeconds() < deadline { pause(0.02) }
            return .played(seconds: Double(written) / Double(format.sampleRate))
        } catch {
            return .failed(error)
        }
    }

    /// Opens `device` for capture and reads `seconds` of it (the first input may take a few seconds through a sound
    /// server), then closes.
    static func probeCapture(_ device: String, seconds: Double, clock: any WallClock) -> MonitorProbe {
        let capture = ALSACapture(device: device, clock: clock)
        defer { capture.close() }
        do throws(AudioError) {
            try capture.open()
            var windows: [MonitorWindow] = []
            let deadline = clock.monotonicSeconds() + ALSACapture.firstInputSeconds + seconds
            while windows.reduce(0, { $0 + $1.seconds }) < seconds {
                guard clock.monotonicSeconds() < deadline else {
                    throw .captureStalled(name: device, seconds: ALSACapture.firstInputSeconds + seconds)
                }
                windows += try capture.read(waiting: 0.1)
            }
            return .captured(seconds: windows.reduce(0) { $0 + $1.seconds }, peakDBFS: windows.map(\.dbfs).max() ?? OnAirCheck.floorDBFS)
        } catch {
            return .failed(error)
        }
    }

    /// A source as the doctor listens to it: no reconnecting while it listens, the connection bounded as for a feed.
    static func probing(_ source: UpstreamSource) -> UpstreamSource {
        var probing = source
        probing.tuning.reconnectSeconds = 60
        probing.tuning.connectTimeoutSeconds = min(source.tuning.connectTimeoutSeconds, 10)
        return probing
    }

    /// Listens to an upstream until it has delivered `seconds` of audio, it fails, or `limit` seconds have passed since
    /// `since`; then closes it.
    static func probeSource(_ feed: UpstreamFeed, seconds: Double, limit: Double, since: Double, clock: any WallClock) -> SourceProbe {
        defer { feed.close() }
        var loudest = -Double.infinity, heard = 0.0
        let pause = NSCondition()
        while clock.monotonicSeconds() - since < limit {
            let now = feed.snapshot()
            if let fault = now.fault, !now.connected { return .failed(fault, message: now.faultMessage ?? "") }
            if now.connected {
                loudest = max(loudest, now.levelDB)
                heard = feed.observation().soundSeconds + feed.observation().silentSeconds
                if heard >= seconds { return .received(format: now.format ?? "?", levelDBFS: loudest, soundSeconds: feed.observation().soundSeconds) }
            }
            pause.lock()
            clock.wait(0.1, on: pause)
            pause.unlock()
        }
        let now = feed.snapshot()
        if now.connected { return .received(format: now.format ?? "?", levelDBFS: loudest, soundSeconds: feed.observation().soundSeconds) }
        return .failed(Reason(.relayUnreachable, "quá \(Int(limit)) giây"), message: "không nhận được âm thanh trong \(Int(limit)) giây")
    }

    /// Free space for each of `paths` (what lives there → path), one finding per file system.
    static func diskFindings(_ paths: KeyValuePairs<String, String>) -> [DoctorFinding] {
        var measured: [(space: DiskSpace, uses: [String])] = []
        var findings: [DoctorFinding] = []
        for (use, path) in paths {
            do {
                let space = try HostHealth.diskSpace(at: path)
                if let i = measured.firstIndex(where: { $0.space.fileSystem == space.fileSystem }) {
                    measured[i].uses.append(use)
                } else {
                    measured.append((space, [use]))
                }
            } catch {
                findings.append(DoctorCheck.diskUnreadable(error))
            }
        }
        return measured.map { DoctorCheck.disk($0.space, uses: $0.uses) } + findings
    }
}
