import Foundation
import LoaAudio
import LoaCore
@testable import LoaDaemon
import LoaStore
import Logging
import Testing

/// A clock driven by the audio written to a `VirtualOutput` and by the engine's waits; sleeps past
/// `horizon` wait for cancellation. `step` moves the wall clock on the first sleep without moving the
/// monotonic clock: a clock set at boot.
final class VirtualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var stepped = 0.0
    private var step: Double
    /// The step happens at the first sleep from this time on.
    private let stepAfter: Date
    let horizon: Date

    /// How late every sleep wakes, as after a suspended PC.
    let oversleep: Double

    init(_ start: Date, horizon: Date, oversleep: Double = 0, step: Double = 0, stepAfter: Date = .distantPast) {
        current = start
        self.stepAfter = stepAfter
        self.horizon = horizon
        self.oversleep = oversleep
        self.step = step
    }

    func now() -> Date { lock.withLock { current } }
    func advance(frames: Int) { lock.withLock { current = current.addingTimeInterval(Double(frames) / 48000); moved = Date() } }
    func wait(_ seconds: Double, on condition: NSCondition) {
        lock.withLock { current = current.addingTimeInterval(seconds); moved = Date() }
    }
    /// When the engine last moved the clock, in real time, and how many devices it holds open (it airs only with
    /// one open): a sleep only jumps ahead once the engine has let go of its device and is quiet, so the service's
    /// sleeps never race the audio being written, however long a loaded machine leaves the output thread waiting.
    private var moved = Date.distantPast
    private var openDevices = 0
    private func engineQuiet() -> Bool { lock.withLock { openDevices == 0 && Date().timeIntervalSince(moved) > 0.05 } }
    func deviceOpened() { lock.withLock { openDevices += 1 } }
    func deviceClosed() { lock.withLock { openDevices -= 1 } }
    func monotonicSeconds() -> Double { lock.withLock { current.timeIntervalSince1970 - stepped } }

    /// Whether the service has gone to sleep past the horizon: it has nothing left to do in the test.
    var idle: Bool { lock.withLock { idleFlag } }
    private var idleFlag = false

    func sleep(until deadline: Date) async throws {
        let began = Date()
        while now() < deadline && !(engineQuiet() && Date().timeIntervalSince(began) > 0.1) {
            try await Task.sleep(for: .milliseconds(5))
        }
        // A step wakes the sleeper, as the system clock's re-aimed sleeps do.
        let jump: Double = lock.withLock {
            guard current >= stepAfter else { return 0 }
            defer { step = 0 }
            return step
        }
        if jump != 0 {
            lock.withLock {
                current = current.addingTimeInterval(jump)
                stepped += jump
            }
            await Task.yield()
            return
        }
        if deadline > horizon {
            lock.withLock { idleFlag = true }
            try await Task.sleep(for: .seconds(86400))
        }
        lock.withLock { current = max(current, deadline.addingTimeInterval(oversleep)) }
        await Task.yield()
    }
}

/// Takes audio as fast as it is written, moving the virtual clock by it, and tells the clock while it is open.
final class VirtualOutput: AudioOutput, @unchecked Sendable {
    let name = "null"
    let format = AudioFormat.broadcast
    var xruns: Int { 0 }
    private let clock: VirtualClock
    private var isOpen = false

    init(clock: VirtualClock) { self.clock = clock }

    func open() throws(AudioError) {
        guard !isOpen else { return }
        isOpen = true
        clock.deviceOpened()
    }
    func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) -> Int {
        let frames = samples.count / format.channels
        clock.advance(frames: frames)
        return frames
    }
    func timeUntilWritable() throws(AudioError) -> Duration { .zero }
    func queuedFrames() throws(AudioError) -> Int { 0 }
    func drain() throws(AudioError) {}
    func close() {
        guard isOpen else { return }
        isOpen = false
        clock.deviceClosed()
    }
}

/// A station folder with tones in the library and one schedule file.
struct VirtualStation {
    let folder: URL
    var config: URL { folder.appendingPathComponent("loa.toml") }
    let database: StationDatabase
    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)

    init(schedule: String, device: String = "null") throws {
        folder = try Harness.temporaryFolder("loa-virtual")
        let audio = folder.appendingPathComponent("audio"), schedules = folder.appendingPathComponent("schedules")
        try FileManager.default.createDirectory(at: audio, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: schedules, withIntermediateDirectories: true)
        try "station = \"UBND xã Ảo\"\ndevice = \"\(device)\"\n".write(to: folder.appendingPathComponent("loa.toml"),
                                                                        atomically: true, encoding: .utf8)
        try schedule.write(to: schedules.appendingPathComponent("lich.toml"), atomically: true, encoding: .utf8)
        let database = try StationDatabase(path: folder.appendingPathComponent("loa.sqlite"))
        self.database = database
        for (name, seconds) in [("a.wav", 2.0), ("b.wav", 3.0)] {
            let url = audio.appendingPathComponent(name)
            try Harness.sineWAV(url, frequency: 440, seconds: seconds, rate: 48000)
            let info = try SndFileDecoder.probe(path: url.path)
            try SegmentLibrary(database).add(Segment(id: String(name.prefix(1)), title: "Bản tin \(name.prefix(1))", pillar: .kinhTe,
                                                     path: name, durationSeconds: info.durationSeconds, format: info.format,
                                                     sampleRate: info.sampleRate, channels: info.channels, sha256: name),
                                             importedAt: Date(timeIntervalSince1970: 0))
        }
    }

    func at(_ text: String) -> Date {
        calendar.instant(LocalDate(parsing: "2026-11-12") ?? LocalDate(dayNumber: 0), TimeOfDay(parsing: text) ?? TimeOfDay(hour: 0, minute: 0)!)
    }

    /// Runs the daemon's playout service from `start` until it sleeps past `horizon` (or 10 s pass), then stops it.
    func runService(from start: Date, horizon: Date, oversleep: Double = 0, step: Double = 0, stepAfter: Date = .distantPast,
                    onOpen: @escaping @Sendable () -> Void = {},
                    makeOutput: (@Sendable (String) -> any AudioOutput)? = nil) async throws -> [AiringRecord] {
        let clock = VirtualClock(start, horizon: horizon, oversleep: oversleep, step: step, stepAfter: stepAfter)
        let service = PlayoutService(station: try Station.load(configFile: config, access: .create), clock: clock, logger: Logger(label: "test") { StreamLogHandler.standardError(label: $0) },
                                     makeOutput: makeOutput ?? { _ in
                                        onOpen()
                                        return VirtualOutput(clock: clock)
                                     })
        let task = Task { try await service.run() }
        let log = AiringLog(database)
        for _ in 0..<1000 where !clock.idle {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(clock.idle, "the service should have gone idle")
        for _ in 0..<200 where try log.records().contains(where: { !$0.outcome.isFinal }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        try await task.value
        return try log.records()
    }
}

@Suite("Playout service against a virtual clock")
struct PlayoutServiceTests {
    static let schedule = """
    [[slot]]
    id = "asean-toi"
    start = "17:15"
    end = "17:30"
    play = ["a.wav", "b.wav"]
    """

    @Test("A slot airs at its time: one started-then-completed row per item, back to back")
    func airsSlot() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:20"))
        #expect(rows.map(\.segmentID) == ["a", "b"])
        #expect(rows.map(\.outcome) == [.completed, .completed])
        #expect(abs(rows[0].startedAt!.timeIntervalSince(station.at("17:15"))) < 0.001)
        #expect(rows.map { $0.onsetErrorMilliseconds } == [0, 0])
        #expect(abs(rows[1].startedAt!.timeIntervalSince(station.at("17:15")) - 2) < 0.001)
        #expect(abs(rows[0].airedSeconds - 2) < 0.001 && abs(rows[1].airedSeconds - 3) < 0.001)
    }

    @Test("A restart inside a slot that already aired does not air it again")
    func noDoubleAiringAfterRestart() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let first = try await station.runService(from: station.at("17:00"), horizon: station.at("17:20"))
        // Airing again, or deciding again, would rewrite the same rows: they must come out untouched, and the
        // device must not even be opened.
        let opens = Counter()
        let again = try await station.runService(from: station.at("17:16"), horizon: station.at("17:20"), onOpen: { opens.add() })
        #expect(again == first, "the restart changed the log:\n\(first)\n\(again)")
        // Once at start, to say at once whether it works; a second open would be the slot airing again.
        #expect(opens.value == 1, "the device was opened \(opens.value) times after the restart: the slot aired again")
    }

    @Test("Started mid-slot with nothing logged, join (the default): the item on the clock is entered mid-item, the next airs on its second")
    func startedLateJoins() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let rows = try await station.runService(from: station.at("17:15").addingTimeInterval(0.5), horizon: station.at("17:20"))
        #expect(rows.map(\.outcome) == [.truncated, .completed], "\(rows)")
        #expect(rows[0].policy == .join && abs(rows[0].lostSeconds - 0.5) < 0.01 && abs(rows[0].airedSeconds - 1.5) < 0.01, "\(rows[0])")
        #expect(abs(rows[1].startedAt!.timeIntervalSince(station.at("17:15").addingTimeInterval(2))) < 0.002)
        let opens = Counter()
        let again = try await station.runService(from: station.at("17:17"), horizon: station.at("17:20"), onOpen: { opens.add() })
        #expect(again == rows, "nothing aired or decided twice:\n\(rows)\n\(again)")
        // Once at start, to say at once whether it works; a second open would be the slot airing again.
        #expect(opens.value == 1, "the device was opened \(opens.value) times after the restart: the slot aired again")
    }

    @Test("Entered 0.5 s into its first item, a fraction: every policy airs it from its start, nothing is dropped; 1.5 s in, next drops it and starts the next at once, skip drops the rest",
          arguments: [("next", 0.5, [AiringOutcome.completed, .completed]), ("skip", 0.5, [.completed, .completed]),
                      ("whole", 0.5, [.completed, .completed]), ("next", 1.5, [.skipped, .completed]), ("skip", 1.5, [.skipped, .skipped])])
    func policies(policy: String, late: Double, outcomes: [AiringOutcome]) async throws {
        let station = try VirtualStation(schedule: Self.schedule + "\nlate = \"\(policy)\"\n")
        let entered = station.at("17:15").addingTimeInterval(late)
        let rows = try await station.runService(from: entered, horizon: station.at("17:20"))
        #expect(rows.map(\.outcome) == outcomes, "\(rows)")
        if late < 1 {
            // A from its start, at once; B right after it, with no gap.
            #expect(abs(rows[0].startedAt!.timeIntervalSince(entered)) < 0.01 && rows[0].airedSeconds > 1.99, "\(rows)")
            #expect(abs(rows[1].startedAt!.timeIntervalSince(entered.addingTimeInterval(2))) < 0.01, "\(rows)")
        } else if policy == "next" {
            #expect(rows[0].reasonCode == .lateOnTheClock && rows[0].policy == .next, "\(rows)")
            #expect(abs(rows[1].startedAt!.timeIntervalSince(entered)) < 0.01, "B at once, not at its second: \(rows)")
        } else {
            #expect(rows.allSatisfy { $0.reasonCode == .latePolicySkip }, "\(rows)")
        }
    }

    @Test("Restarted inside a slot whose plan was stored: the killed item goes on at once where the clock is, in a row of its own; the next keeps its second")
    func restartJoinsStoredPlan() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let loaded = try Station.load(configFile: station.config, access: .create)
        let slot = try #require(loaded.schedules.slots.first)
        let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let writer = AiringLogWriter(database: loaded.database, clock: VirtualClock(station.at("17:15"), horizon: station.at("17:20")),
                                     logger: quiet)
        let airing = try OccurrenceAiring.prepare(slot, startsAt: station.at("17:15"), station: loaded, log: writer, logger: quiet)
        try AiringLog(station.database).markStarted(id: try #require(airing.rows[0].id), startedAt: station.at("17:15"), policy: nil)
        let rows = try await station.runService(from: station.at("17:15").addingTimeInterval(1), horizon: station.at("17:20"))
        #expect(rows.map(\.outcome) == [.interrupted, .truncated, .completed], "\(rows)")
        #expect(rows[1].continues == rows[0].id && rows[1].reasonCode == .resumed && rows[1].policy == .join, "\(rows)")
        // Back 1 s into a, it goes on from 1 s in, at once; b keeps its second.
        let resumedAt = try #require(rows[1].startedAt)
        #expect(abs(resumedAt.timeIntervalSince(station.at("17:15").addingTimeInterval(1))) < 0.01, "\(rows[1])")
        #expect(abs(rows[1].fromSeconds - resumedAt.timeIntervalSince(station.at("17:15"))) < 0.002, "\(rows[1])")
        #expect(abs(rows[2].startedAt!.timeIntervalSince(station.at("17:15").addingTimeInterval(2))) < 0.002)
    }

    @Test("Two slots that start at the same second both get rows: the second is entered per its policy when the first ends")
    func sameSecond() async throws {
        let station = try VirtualStation(schedule: """
        [[slot]]
        id = "x"
        start = "17:15"
        end = "17:30"
        play = ["a.wav"]

        [[slot]]
        id = "y"
        start = "17:15"
        end = "17:30"
        play = ["b.wav"]
        """)
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:20"))
        #expect(rows.map(\.slot).sorted() == ["x", "y"], "\(rows)")
        #expect(rows.first { $0.slot == "x" }?.outcome == .completed)
        let y = try #require(rows.first { $0.slot == "y" })
        #expect(y.outcome == .truncated && abs(y.lostSeconds - 2) < 0.01 && y.policy == .join, "\(y)")
    }

    @Test("A clock stepped back over a slot that aired: the slot is not aired again")
    func clockStepBackward() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let opens = Counter()
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:40"), step: -600,
                                                stepAfter: station.at("17:15").addingTimeInterval(4), onOpen: { opens.add() })
        #expect(rows.map(\.outcome) == [.completed, .completed], "\(rows)")
        // Once at start to check it, once for the slot.
        #expect(opens.value == 2, "the device was opened \(opens.value) times: the slot aired again")
    }

    @Test("A clock stepped forward at boot: the slots it jumped over get no rows, and nothing is replayed")
    func clockStepForward() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let rows = try await station.runService(from: station.at("06:00"), horizon: station.at("17:40"), step: 11 * 3600 + 1800)
        #expect(rows.isEmpty, "\(rows)")
    }

    @Test("A row left started by a run that died is closed as interrupted at the next start")
    func abandonedRowsClosed() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let log = AiringLog(station.database)
        try log.insert(AiringRecord(slot: "asean-toi", slotStartsAt: station.at("17:15"), segmentID: "a", title: "a", path: "a.wav",
                                    scheduledAt: station.at("17:15"), startedAt: station.at("17:15"), outcome: .started))
        let rows = try await station.runService(from: station.at("17:16"), horizon: station.at("17:20"))
        #expect(rows.count == 1, "the slot already has a row, so it is neither aired nor skipped again")
        #expect(rows.first?.outcome == .interrupted)
    }

    @Test("Woken after the slot was over (PC suspended): its items are logged skipped, not aired late")
    func sleptThroughSlot() async throws {
        let station = try VirtualStation(schedule: Self.schedule)
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:40"), oversleep: 20 * 60)
        #expect(rows.map(\.outcome) == [.skipped, .skipped])
        #expect(rows.allSatisfy { $0.reasonCode == .latePassed && $0.policy == .join }, "\(rows)")
    }

    @Test("A slot that began while an open-ended one was still on air is entered per its policy when that one ends")
    func missedWhileBusy() async throws {
        let station = try VirtualStation(schedule: """
        [[slot]]
        id = "dai"
        start = "17:15"
        play = ["a.wav", "b.wav"]

        [[slot]]
        id = "chen"
        start = "17:15:03"
        end = "17:16"
        play = ["a.wav"]
        """)
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:20"))
        #expect(rows.map(\.slot) == ["dai", "dai", "chen"])
        #expect(rows.map(\.outcome) == [.completed, .completed, .skipped])
        #expect(rows.last?.reasonCode == .latePassed, "\(rows)")
    }

    @Test("A device that cannot be opened: each item is logged failed with the ALSA error, and the daemon goes on")
    func deviceFailure() async throws {
        let station = try VirtualStation(schedule: Self.schedule + """

        [[slot]]
        id = "sau"
        start = "17:40"
        play = ["a.wav"]
        """, device: "loa_khong_co")
        let rows = try await station.runService(from: station.at("17:00"), horizon: station.at("17:50"),
                                                makeOutput: { ALSAOutput(device: $0) })
        #expect(rows.map(\.outcome) == [.failed, .failed, .failed])
        #expect(rows.map(\.slot) == ["asean-toi", "asean-toi", "sau"])
        #expect(rows.allSatisfy { $0.reason?.hasPrefix("thiết bị âm thanh “loa_khong_co”") == true })
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
