import Foundation
import LoaAudio
import LoaCore
import LoaStore

// Times the airing log's two-phase write (insert `started`, then finish) on a real file with
// WAL and synchronous=FULL, and the planner over a year of days. Prints one line per measure:
// `name median_microseconds p95_microseconds count mean_microseconds`. This file is its own composition root.
// The limiter lines time one 1024-frame buffer of 48 kHz stereo; CPU per hour of audio is mean × 168750.

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

let arguments = CommandLine.arguments
if arguments.count >= 2, arguments[1].hasPrefix("source-") { exit(runSourceBench(Array(arguments.dropFirst()))) }
if arguments.count >= 2, arguments[1] == "engine-join" { exit(runEngineJoinBench(Array(arguments.dropFirst()))) }
if arguments.count >= 2, arguments[1] == "upstreams" { exit(runUpstreams(Array(arguments.dropFirst()))) }
guard arguments.count >= 3, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: loa-bench DATABASE-PATH COUNT\n".utf8))
    exit(1)
}
let clock = ContinuousClock()
do {
    let database = try StationDatabase(path: URL(fileURLWithPath: arguments[1]))
    let log = AiringLog(database)
    var writes: [Double] = []
    let t0 = Date(timeIntervalSince1970: 1_794_478_500)
    for n in 0..<count {
        let t = t0.addingTimeInterval(Double(n) * 60)
        let elapsed = try clock.measure {
            let id = try log.insert(AiringRecord(slot: "asean-toi", slotStartsAt: t, segmentID: "rcep", title: "RCEP và nông sản Việt",
                                                 pillar: .kinhTe, campaign: "HNCC ASEAN 37", path: "asean/kinh-te.mp3",
                                                 scheduledAt: t, startedAt: t, outcome: .started, device: "default"))
            try log.finish(id: id, outcome: .completed, endedAt: t.addingTimeInterval(60), airedSeconds: 60, reason: nil, xruns: 0)
        }
        writes.append(microseconds(elapsed))
    }
    print("airing_two_phase_write \(percentile(writes, 0.5)) \(percentile(writes, 0.95)) \(count) \(writes.reduce(0, +) / Double(count))")

    // What an airing costs each second while it airs: its progress, one UPDATE committed without an fsync of its own.
    let airing = try log.insert(AiringRecord(slot: "asean-toi", slotStartsAt: t0, segmentID: "rcep", title: "RCEP và nông sản Việt",
                                             path: "asean/kinh-te.mp3", scheduledAt: t0, startedAt: t0, outcome: .started,
                                             device: "default"))
    var progress: [Double] = []
    for n in 0..<count {
        progress.append(microseconds(try clock.measure { try log.recordProgress(id: airing, airedSeconds: Double(n)) }))
    }
    print("airing_progress_write \(percentile(progress, 0.5)) \(percentile(progress, 0.95)) \(count) \(progress.reduce(0, +) / Double(count))")

    let calendar = StationCalendar(timeZone: TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? .current)
    let planner = Planner(calendar: calendar)
    let library = (0..<300).map { i in
        Segment(id: "s\(i)", title: "Bản tin \(i)", pillar: Pillar.allCases[i % 3], path: "s\(i).mp3", durationSeconds: 60 + Double(i % 7) * 20)
    }
    let slots = (0..<12).map { i in
        Slot(id: "slot\(i)", start: TimeOfDay(clamping: 5 * 3600 + i * 3600), end: TimeOfDay(clamping: 5 * 3600 + i * 3600 + 1800),
             content: .pick(pillars: [Pillar.allCases[i % 3]], count: 5))
    }
    var history = AiringHistory()
    var days: [Double] = []
    var date = LocalDate(dayNumber: 20_400)
    for _ in 0..<365 {
        var plan: DayPlan?
        let elapsed = clock.measure { plan = planner.plan(date: date, slots: slots, library: library, history: history) }
        days.append(microseconds(elapsed))
        for item in plan?.slots.flatMap(\.items) ?? [] { history.record(item.segment.id, at: item.startsAt) }
        date = date.adding(days: 1)
    }
    print("planner_day_12_slots_300_segments \(percentile(days, 0.5)) \(percentile(days, 0.95)) 365 \(days.reduce(0, +) / 365)")

    // The spool a day of held writes fills (the disk refusing every write from midnight on): two slots a day, each an
    // intro jingle, three 3-minute bulletins and an outro, written as the daemon writes them: the stored plan, each
    // start, a progress write every second of audio (`PlayoutEngine.progressInterval`), each end. Printed as
    // `spool_bytes_one_day BYTES WRITES`.
    let spoolPath = arguments[1] + ".spool-measure"
    unlink(spoolPath)
    let spool = try WriteSpool(path: spoolPath, capacity: 64 << 20)
    var heldWrites = 0
    var nextID: Int64 = 1
    for slotStart in [t0, t0.addingTimeInterval(42_300)] {
        let items: [(String, Double, ItemKind)] = [("nhac-hieu", 12, .jingle), ("ct1", 180, .segment), ("kt1", 180, .segment),
                                                   ("vh1", 180, .segment), ("nhac-hieu", 12, .jingle)]
        var offset = 0.0
        let rows = items.map { id, seconds, kind -> AiringRecord in
            defer { offset += seconds; nextID += 1 }
            var row = AiringRecord(planned: Segment(id: id, title: "Bản tin \(id) — Hội nghị Cấp cao ASEAN 37", pillar: .kinhTe,
                                                    campaign: "HNCC ASEAN 37", path: "asean/\(id).mp3", durationSeconds: seconds),
                                   slot: "asean-toi", slotStartsAt: slotStart, scheduledAt: slotStart.addingTimeInterval(offset),
                                   station: "UBND xã Đông Hòa", device: "default", kind: kind)
            row.id = nextID
            return row
        }
        var writes: [LogWrite] = [.insert(rows)]
        for row in rows {
            guard let id = row.id else { continue }
            writes.append(.markStarted(id: id, startedAt: row.scheduledAt, policy: nil))
            let interval = PlayoutEngine.progressInterval
            for aired in stride(from: interval, to: row.plannedSeconds, by: interval) { writes.append(.progress(id: id, airedSeconds: aired)) }
            writes.append(.finish(id: id, outcome: .completed, endedAt: row.scheduledAt.addingTimeInterval(row.plannedSeconds),
                                  airedSeconds: row.plannedSeconds, reason: nil, xruns: 0, lostSeconds: 0, policy: nil,
                                  confirmed: .heard, monitorDBFS: -18.5))
        }
        // Held writes go to the spool one at a time, as the writer holds them.
        for write in writes { _ = try spool.append([write]) }
        heldWrites += writes.count
    }
    let spooled = FileManager.default.contents(atPath: spoolPath) ?? Data()
    print("spool_bytes_one_day \(spooled.firstIndex(of: 0) ?? spooled.count) \(heldWrites)")
    unlink(spoolPath)

    // The segment library: 2,000 segments added one at a time (each its own transaction, as `segment add` and a
    // feed's fetch add them; every other one fetched from a feed, with its publisher's terms), then the whole library
    // read back (what the planner reads before each occurrence) 50 times, then a look-up by SHA-256 for each.
    let libraryPath = arguments[1] + ".library"
    for suffix in ["", "-wal", "-shm"] { unlink(libraryPath + suffix) }
    let segments = SegmentLibrary(try StationDatabase(path: URL(fileURLWithPath: libraryPath)))
    let librarySize = 2000
    var adds: [Double] = []
    for i in 0..<librarySize {
        let origin = i % 2 == 0 ? nil : FeedOrigin(feed: "huyen", entry: "tin-\(i)", category: "Thời sự", priority: .normal,
                                                   validFrom: LocalDate(dayNumber: 20_400), validUntil: LocalDate(dayNumber: 20_500),
                                                   requested: .perWeek(3))
        let segment = Segment(id: "ban-tin-\(i)", title: "Bản tin \(i) — Hội nghị Cấp cao ASEAN 37", pillar: Pillar.allCases[i % 3],
                              campaign: "HNCC ASEAN 37", path: "asean/ban-tin-\(i).mp3", durationSeconds: 180 + Double(i % 60),
                              format: "MPEG/MPEG_LAYER_III", sampleRate: 44100, channels: 2, sha256: String(repeating: "\(i % 10)", count: 54) + "\(1_000_000_000 + i)",
                              loudness: Loudness(integratedLUFS: -18 - Double(i % 7), truePeakDBTP: -1.5),
                              playoutPath: ".playout/\(i).wav", origin: origin)
        let at = t0.addingTimeInterval(Double(i))
        adds.append(microseconds(try clock.measure { try segments.add(segment, importedAt: at) }))
    }
    print("segment_add \(percentile(adds, 0.5)) \(percentile(adds, 0.95)) \(librarySize) \(adds.reduce(0, +) / Double(librarySize))")
    var reads: [Double] = []
    var read: [Segment] = []
    for _ in 0..<50 { reads.append(microseconds(try clock.measure { read = try segments.all() })) }
    guard read.count == librarySize else { throw BenchError("the library read back \(read.count) segments of \(librarySize)") }
    print("segment_library_read_\(librarySize) \(percentile(reads, 0.5)) \(percentile(reads, 0.95)) 50 \(reads.reduce(0, +) / 50)")
    var lookups: [Double] = []
    for segment in read { lookups.append(microseconds(try clock.measure { _ = try segments.segment(sha256: segment.sha256) })) }
    print("segment_by_sha256 \(percentile(lookups, 0.5)) \(percentile(lookups, 0.95)) \(lookups.count) \(lookups.reduce(0, +) / Double(lookups.count))")
    for suffix in ["", "-wal", "-shm"] { unlink(libraryPath + suffix) }

    // The true-peak limiter over ten minutes of three kinds of programme: a tone that never nears the
    // ceiling (the common case once items are levelled), noise in syllable-like bursts whose peaks
    // come near and over it, and full-scale noise with +6 dB of gain, limited all the time.
    var seed: UInt64 = 1
    func noise() -> Float {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: seed >> 1) % 2_000_001 - 1_000_000) / 1_000_000
    }
    let bufferFrames = 1024
    let buffers = 10 * 60 * 48000 / bufferFrames
    let kinds: [(String, Double, (Int) -> Float)] = [
        ("limiter_quiet_tone", 0, { n in 0.1 * Float(sin(2 * Double.pi * 440 * Double(n) / 48000)) }),
        ("limiter_speechlike_bursts", 0, { n in
            noise() * Float(0.1 + 0.8 * pow(abs(sin(2 * Double.pi * 2.5 * Double(n) / 48000)), 4))
        }),
        ("limiter_full_scale_noise_plus_6db", 6, { _ in noise() }),
    ]
    for (name, gainDB, sample) in kinds {
        let limiter = TruePeakLimiter(gainDB: gainDB)
        let source = (0..<(48000 * 2)).map { sample($0 / 2) }
        var buffer = [Float](repeating: 0, count: bufferFrames * 2)
        var times: [Double] = []
        times.reserveCapacity(buffers)
        for b in 0..<buffers {
            let offset = (b * bufferFrames * 2) % (source.count - bufferFrames * 2)
            buffer.withUnsafeMutableBufferPointer { pointer in
                source.withUnsafeBufferPointer { from in
                    if let to = pointer.baseAddress, let base = from.baseAddress { to.update(from: base + offset, count: bufferFrames * 2) }
                }
            }
            let elapsed = buffer.withUnsafeMutableBufferPointer { pointer in
                clock.measure { if let base = pointer.baseAddress { limiter.process(base, frames: bufferFrames, gainDB: gainDB) } }
            }
            times.append(microseconds(elapsed))
        }
        print("\(name) \(percentile(times, 0.5)) \(percentile(times, 0.95)) \(buffers) \(times.reduce(0, +) / Double(buffers))")
    }
} catch {
    FileHandle.standardError.write(Data("loa-bench: \(error)\n".utf8))
    exit(1)
}

/// A measure that did not measure what it says.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
