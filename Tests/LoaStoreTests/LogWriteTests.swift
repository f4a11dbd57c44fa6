import Foundation
import LoaCore
import LoaStore
import Testing

@Suite("Log writes held while the disk refuses them")
struct LogWriteTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loa-writes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    var path: URL { folder.appendingPathComponent("loa.sqlite") }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func planned(_ id: Int64, _ segment: String, offset: Double) -> AiringRecord {
        AiringRecord(id: id, slot: "sang", slotStartsAt: start, segmentID: segment, title: segment, path: "\(segment).wav",
                     scheduledAt: start.addingTimeInterval(offset), plannedSeconds: 10, outcome: .planned, device: "null")
    }

    static let full = StoreError.disk(path: "/x/loa.sqlite", message: "database or disk is full")

    /// The writes of one airing of two items, as the daemon asks them.
    static let airing: [LogWrite] = [
        .insert([planned(7, "a", offset: 0), planned(8, "b", offset: 10)]),
        .markStarted(id: 7, startedAt: start, policy: nil),
        .progress(id: 7, airedSeconds: 5),
        .finish(id: 7, outcome: .completed, endedAt: start.addingTimeInterval(10), airedSeconds: 10, reason: nil, xruns: 0,
                lostSeconds: 0, policy: nil),
        .markStarted(id: 8, startedAt: start.addingTimeInterval(10), policy: nil),
    ]

    @Test("A disk fault holds the write and every later one, in order; they go in, in order, once the disk takes them")
    func heldInOrder() {
        var pending = PendingWrites()
        var applied: [LogWrite] = []
        var diskFull = false
        func apply(_ write: LogWrite, _ replaying: Bool) throws(StoreError) -> Int {
            if diskFull { throw LogWriteTests.full }
            applied.append(write)
            return 1
        }
        let first = pending.flush(then: Self.airing[0], apply: apply)
        #expect(first.failure == nil && first.newlyHeld == nil && first.changed == 1)
        diskFull = true
        for write in Self.airing[1...3] {
            let flush = pending.flush(then: write, apply: apply)
            #expect(flush.failure != nil && flush.newlyHeld == write && flush.written.isEmpty)
        }
        #expect(pending.held.map(\.write) == Array(Self.airing[1...3]))
        diskFull = false
        let drained = pending.flush(then: Self.airing[4], apply: apply)
        #expect(drained.failure == nil && drained.newlyHeld == nil && drained.changed == 1)
        #expect(pending.isEmpty)
        #expect(applied == Self.airing, "nothing overtakes a held write")
    }

    @Test("A write the database refuses for itself is dropped, not held: retrying cannot help, and it must not block the rest")
    func queryErrorDropped() {
        var pending = PendingWrites(held: [PendingWrites.Held(Self.airing[1])])
        let flush = pending.flush(then: Self.airing[2]) { (write, _) throws(StoreError) -> Int in
            if write == Self.airing[1] { throw StoreError.query(path: "/x", message: "UNIQUE constraint failed") }
            return 1
        }
        #expect(flush.dropped.map(\.0) == [Self.airing[1]] && flush.written == [Self.airing[2]] && pending.isEmpty)
    }

    @Test("An occurrence read while its plan is held shows the held plan and what happened to it since")
    func overlay() {
        let pending = PendingWrites(held: Self.airing.map { PendingWrites.Held($0) })
        let rows = pending.overlay([], slot: "sang", startsAt: Self.start)
        #expect(rows.map(\.id) == [7, 8])
        #expect(rows.map(\.outcome) == [.completed, .started])
        #expect(rows[0].airedSeconds == 10)
        #expect(pending.overlay([], slot: "toi", startsAt: Self.start).isEmpty)
    }

    @Test("The spool keeps writes across a reopen, in order; a line cut by a crash is not read; cleared, it reads empty")
    func spoolRoundTrip() throws {
        let spoolPath = folder.appendingPathComponent("loa.sqlite.spool").path
        do {
            let spool = try WriteSpool(path: spoolPath, capacity: 64 << 10)
            #expect(spool.reserved && spool.recovered.isEmpty)
            #expect(try spool.append(Array(Self.airing[0...2])))
            #expect(try spool.append([Self.airing[3]]))
        }
        #expect((try FileManager.default.attributesOfItem(atPath: spoolPath)[.size] as? Int) == 64 << 10, "space reserved up front")
        do {
            let spool = try WriteSpool(path: spoolPath, capacity: 64 << 10)
            #expect(spool.recovered == Array(Self.airing[0...3]))
            // Appends go after what was recovered.
            #expect(try spool.append([Self.airing[4]]))
        }
        // A crash in the middle of an append: the torn line (no newline) is not read back.
        let handle = try #require(FileHandle(forUpdatingAtPath: spoolPath))
        let text = try #require(String(data: try handle.readToEnd() ?? Data(), encoding: .utf8)).prefix { $0 != "\0" }
        try handle.seek(toOffset: UInt64(text.utf8.count))
        handle.write(Data("{\"progress\":{\"id\":8,\"aired".utf8) + Data([0]))
        try handle.close()
        let spool = try WriteSpool(path: spoolPath, capacity: 64 << 10)
        #expect(spool.recovered == Self.airing)
        try spool.clear()
        #expect(try WriteSpool(path: spoolPath, capacity: 64 << 10).recovered.isEmpty)
    }

    @Test("A spool written before reason codes and stretches reads back whole after an upgrade: its sentences kept, as rows without a code")
    func spoolFromBeforeCodes() throws {
        // What the previous version wrote (dates as seconds since 2001): a plan of one item, its end with a sentence,
        // and a close of abandoned rows.
        let spoolPath = folder.appendingPathComponent("loa.sqlite.spool").path
        let lines = [
            #"{"insert":{"_0":[{"id":7,"slot":"sang","slotStartsAt":821692800,"segmentID":"a","title":"a","path":"a.wav","scheduledAt":821692800,"plannedSeconds":10,"airedSeconds":0,"outcome":"planned","device":"null","kind":"segment","lostSeconds":0,"xruns":0},{"id":8,"slot":"sang","slotStartsAt":821692800,"segmentID":"b","title":"b","path":"b.wav","scheduledAt":821692810,"plannedSeconds":10,"airedSeconds":0,"outcome":"planned","device":"null","kind":"segment","lostSeconds":0,"xruns":0}]}}"#,
            #"{"markStarted":{"id":7,"startedAt":821692800}}"#,
            #"{"finish":{"id":7,"outcome":"truncated","endedAt":821692810,"airedSeconds":6,"reason":"mất 4,0 giây không phát được","xruns":0,"lostSeconds":4,"policy":"join"}}"#,
            #"{"markStarted":{"id":8,"startedAt":821692810}}"#,
            #"{"closeAbandoned":{"reason":"Loa dừng đột ngột khi đang phát (mất điện hoặc bị tắt)"}}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8 + [0]).write(to: URL(fileURLWithPath: spoolPath))
        let spool = try WriteSpool(path: spoolPath, capacity: 64 << 10)
        #expect(spool.recovered.count == lines.count, "\(spool.recovered)")
        let log = AiringLog(try StationDatabase(path: path))
        for write in spool.recovered { try log.apply(write, replaying: true) }
        let rows = try log.records()
        #expect(rows.map(\.outcome) == [.truncated, .interrupted] && rows.map(\.reasonCode) == [nil, nil])
        #expect(rows.map(\.reason) == ["mất 4,0 giây không phát được", "Loa dừng đột ngột khi đang phát (mất điện hoặc bị tắt)"])
        #expect(rows.map(\.reasonText) == rows.map(\.reason) && rows.map(\.fromSeconds) == [0, 0] && rows[0].continues == nil)
        #expect(AiringExport.verify(AiringExport.encode(try log.chain(), format: .csv)) == .intact(rows: 2, first: 1, last: 2))
    }

    @Test("Writes with codes and stretches go through the spool and back unchanged")
    func spoolKeepsCodes() throws {
        var stretch = Self.planned(9, "a", offset: 0)
        stretch.continues = 7
        stretch.fromSeconds = 5.5
        let writes: [LogWrite] = [
            .insert([stretch]),
            .markStarted(id: 9, startedAt: Self.start, policy: .join, fromSeconds: 5.5),
            .finish(id: 9, outcome: .completed, endedAt: nil, airedSeconds: 4.5, reason: nil, xruns: 0, lostSeconds: 0, policy: nil,
                    reasonCode: .resumed),
            .closePlanned(slot: "sang", startsAt: Self.start, reason: "17:20:05", reasonCode: .daemonNotRunning),
            .closeAbandoned(reason: nil, reasonCode: .daemonDied),
        ]
        let spoolPath = folder.appendingPathComponent("codes.spool").path
        #expect(try WriteSpool(path: spoolPath, capacity: 64 << 10).append(writes))
        #expect(try WriteSpool(path: spoolPath, capacity: 64 << 10).recovered == writes)
    }

    @Test("A full spool says so instead of writing past its reserved space")
    func spoolFull() throws {
        let spool = try WriteSpool(path: folder.appendingPathComponent("s.spool").path, capacity: 300)
        #expect(try spool.append([Self.airing[1]]))
        #expect(try !spool.append([Self.airing[0], Self.airing[0]]))
    }

    @Test("Replaying writes that already went in changes nothing: each lands once, the row final once, the chain whole")
    func replayIsIdempotent() throws {
        let database = try StationDatabase(path: path)
        let log = AiringLog(database)
        for write in Self.airing { try log.apply(write) }
        for write in Self.airing { try log.apply(write, replaying: true) }
        let rows = try log.records()
        #expect(rows.map(\.id) == [7, 8] && rows.map(\.outcome) == [.completed, .started])
        #expect(rows[0].airedSeconds == 10)
        #expect(try log.chain().count == 1)
        #expect(try log.nextFreeID() == 9)
    }

    @Test("A read-only command finds no database: one error naming the path, and no empty file made")
    func missingNotCreated() throws {
        #expect(throws: StoreError.self) { try StationDatabase(path: path, create: false) }
        do {
            _ = try StationDatabase(path: path, create: false)
        } catch {
            #expect(error.description.hasPrefix("\(path.path): không có cơ sở dữ liệu"))
        }
        #expect(!FileManager.default.fileExists(atPath: path.path))
    }

    @Test("A database deleted under its connection is written again at its path with every row; one put in its place is moved aside")
    func recreated() throws {
        let database = try StationDatabase(path: path)
        let log = AiringLog(database)
        try log.apply(Self.airing[0])
        try FileManager.default.removeItem(at: path)
        #expect(database.fileState() == .missing)
        #expect(try database.recreate(at: Self.start) == nil)
        #expect(database.fileState() == .inPlace)
        try log.apply(Self.airing[1])
        // What a reader opening the path sees: both writes.
        #expect(try AiringLog(StationDatabase(path: path, create: false)).records().map(\.outcome) == [.started, .planned])

        try FileManager.default.moveItem(at: path, to: folder.appendingPathComponent("old"))
        try Data("not ours".utf8).write(to: path)
        #expect(database.fileState() == .replaced)
        let aside = try #require(try database.recreate(at: Self.start))
        #expect(aside.hasPrefix(path.path + ".replaced-"))
        #expect(try String(contentsOfFile: aside, encoding: .utf8) == "not ours")
        #expect(try AiringLog(StationDatabase(path: path, create: false)).records().count == 2)
    }
}
