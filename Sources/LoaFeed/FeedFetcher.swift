import Foundation
import LoaAudio
import LoaConfig
import LoaCore
import LoaStore

/// What one fetch of one feed did.
public struct FeedFetchReport: Sendable {
    public enum Manifest: Sendable, Equatable {
        /// Answered 304: nothing changed since the last accepted manifest.
        case unchanged
        /// Accepted, with this sequence.
        case accepted(sequence: Int)
        /// Refused as a whole; nothing installed.
        case refused(FeedError)
    }

    public var feed: String
    public var manifest: Manifest
    /// Segments installed or replaced by this fetch.
    public var installed: [Segment] = []
    /// Entries whose terms (priority, validity, request) changed, audio unchanged.
    public var updated: [String] = []
    /// Entries the publisher withdrew (installed, no longer in the manifest): no longer picked from today on.
    public var withdrawn: [String] = []
    /// Entries refused, each with its reason; the others went ahead.
    public var refused: [FeedError] = []
    /// Audio bytes received (manifest and signature not counted).
    public var bytesReceived = 0
    /// Seconds spent receiving them (the transfers alone, not the checks and decodes after).
    public var transferSeconds = 0.0

    /// One line for a log or a terminal.
    public var summary: String {
        switch manifest {
        case .unchanged: return "feed “\(feed)”: không có gì mới (304)"
        case let .refused(error): return "\(error)"
        case let .accepted(sequence):
            var parts = ["feed “\(feed)” #\(sequence): cài \(installed.count) bản tin mới"]
            if !updated.isEmpty { parts.append("cập nhật \(updated.count)") }
            if !withdrawn.isEmpty { parts.append("bên phát gỡ \(withdrawn.count)") }
            if !refused.isEmpty { parts.append("từ chối \(refused.count)") }
            parts.append("nhận \(byteText(bytesReceived))")
            if bytesReceived >= 1_000_000, transferSeconds > 0 {
                parts[parts.count - 1] += " trong \(decimalText(transferSeconds)) giây (\(byteText(Int(Double(bytesReceived) / transferSeconds)))/s)"
            }
            return parts.joined(separator: ", ")
        }
    }
}

/// A feed's manifest checked as a fetch would check it, with nothing downloaded or installed (``FeedFetcher/check()``).
public struct FeedCheck: Sendable {
    /// The manifest, signed by a pinned key.
    public var manifest: FeedManifest
    /// The pinned public key (base64) that signed it.
    public var signer: String
    /// What a fetch would do now: `toFetch` are the entries not (or not in this version) in the library.
    public var decision: FeedDecision

    public init(manifest: FeedManifest, signer: String, decision: FeedDecision) {
        self.manifest = manifest
        self.signer = signer
        self.decision = decision
    }
}

/// Progress of one file's download, for a terminal's progress bar.
public struct DownloadProgress: Sendable {
    public var feed: String
    public var entry: String
    public var received: Int
    public var total: Int
}

/// Fetches one feed into the station's library. A manifest is believed only with a valid signature by a key
/// pinned in `loa.toml`, a sequence not below the last accepted one, and before it expires; each file only
/// once its size and SHA-256 match the manifest and it decodes. Until then it lives under
/// `audio/<feed>/.partial/`, where a cut transfer resumes from.
public struct FeedFetcher: Sendable {
    public let feed: FeedConfig
    public let audio: URL
    public let library: SegmentLibrary
    public let states: FeedStates
    public let transport: any FeedTransport
    public let clock: any WallClock
    /// The station's days, for entries' validity.
    public let calendar: StationCalendar
    /// Attempts per file before it is left for the next fetch; each resumes where the last one stopped.
    public var attempts = 3
    public var progress: @Sendable (DownloadProgress) -> Void = { _ in }
    /// Called as each segment is installed, before the rest download (the daemon airs an emergency from here).
    public var onInstall: @Sendable (Segment) -> Void = { _ in }

    public init(feed: FeedConfig, audio: URL, library: SegmentLibrary, states: FeedStates, transport: any FeedTransport,
                clock: any WallClock, calendar: StationCalendar) {
        self.calendar = calendar
        self.feed = feed
        self.audio = audio
        self.library = library
        self.states = states
        self.transport = transport
        self.clock = clock
    }

    /// The last verified manifest of a feed, under `audio/<feed>/`.
    public static let manifestCopy = ".feed.json"

    /// Entries of the last verified manifest of `feed` valid on `day` that the library does not have yet.
    public static func pending(feed: String, audio: URL, library: [Segment], on day: LocalDate) -> [FeedEntry] {
        let file = audio.appendingPathComponent(feed).appendingPathComponent(manifestCopy)
        guard let data = FileManager.default.contents(atPath: file.path), let manifest = try? FeedManifest.decode(data) else {
            return []
        }
        let installed = Set(library.compactMap { segment in segment.origin.map { "\($0.feed)/\($0.entry)/\(segment.sha256)" } })
        return manifest.segments.filter { entry in
            !installed.contains("\(feed)/\(entry.id)/\(entry.sha256)") && FeedOrigin(feed: feed, entry).isValid(on: day)
        }
    }

    /// The manifest is at most this large; a server sending more is refused.
    static let manifestLimit = 8 << 20

    public func fetch() async -> FeedFetchReport {
        var report = FeedFetchReport(feed: feed.name, manifest: .unchanged)
        do {
            // One fetch of a feed at a time (the daemon's poll and a `loa fetch` by hand would write the same
            // partial files): the second one says so and leaves.
            let lock = try FetchLock(folder: audio.appendingPathComponent(feed.name), feed: feed.name)
            defer { lock.release() }
            try await fetch(into: &report)
        } catch {
            report.manifest = .refused(error)
        }
        return report
    }

    private func fetch(into report: inout FeedFetchReport) async throws(FeedError) {
        var state = try store { () throws(StoreError) in try states.state(feed.name) }
        let now = clock.now()
        var conditional: [(String, String)] = []
        if let etag = state.etag { conditional.append(("If-None-Match", etag)) }
        if let modified = state.lastModified { conditional.append(("If-Modified-Since", modified)) }
        let manifestURL = feed.url + "feed.json"
        let (head, body) = try await transport.get(manifestURL, headers: conditional, limit: Self.manifestLimit)
        if head.status == 304 {
            state.checkedAt = now
            try store { () throws(StoreError) in try states.save(state) }
            return
        }
        guard head.status == 200 else { throw .http(url: manifestURL, message: "máy chủ trả lời HTTP \(head.status)") }
        let (checked, installed) = try await verify(body, accepted: state.sequence, now: now)
        let manifest = checked.manifest, decision = checked.decision
        report.manifest = .accepted(sequence: manifest.sequence)
        // Accepted is recorded before any download (they may take hours): after a power cut mid-fetch, an older
        // manifest replayed is still a rollback. Content refused under an earlier sequence may have been fixed.
        if state.sequence != manifest.sequence { state.rejected = [] }
        state.publisher = manifest.publisher
        state.sequence = max(state.sequence ?? manifest.sequence, manifest.sequence)
        state.expires = manifest.expires
        state.acceptedAt = now
        state.checkedAt = now
        state.etag = nil
        state.lastModified = nil
        try store { () throws(StoreError) in try states.save(state) }
        // Kept (verified) for `loa schedule show`, which marks what is listed but not yet downloaded.
        try? body.write(to: audio.appendingPathComponent(feed.name).appendingPathComponent(FeedFetcher.manifestCopy), options: .atomic)
        report.refused = decision.refused.map { .entry(feed: feed.name, entry: $0.entry ?? "?", message: $0.reason) }
        // A withdrawn bulletin (a recall, a correction) stops airing: its validity ends yesterday, so it is no
        // longer picked, and its files go like an expired one's once no slot names it.
        let listed = Set(manifest.segments.map(\.id)).union(manifest.undecodable.compactMap {
            if case let .badEntry(entry, _) = $0 { entry } else { nil }
        })
        let yesterday = calendar.localDate(of: now).adding(days: -1)
        for entryID in installed.keys.sorted() where !listed.contains(entryID) {
            try store { () throws(StoreError) in
                guard let segment = try library.segment(feed: feed.name, entry: entryID), var origin = segment.origin,
                      origin.validUntil.map({ $0 > yesterday }) ?? true else { return }
                origin.validUntil = yesterday
                if let from = origin.validFrom, from > yesterday { origin.validFrom = yesterday }
                try library.updateTerms(origin, title: segment.title, pillar: segment.pillar, campaign: segment.campaign)
                report.withdrawn.append(entryID)
            }
        }
        for entry in decision.unchanged {
            let changed = try store { () throws(StoreError) in
                try library.segment(feed: feed.name, entry: entry.id).map { current in
                    current.origin != FeedOrigin(feed: feed.name, entry) || current.title != entry.title
                        || current.pillar != entry.pillar || current.campaign != entry.campaign
                } ?? false
            }
            if changed {
                try store { () throws(StoreError) in
                    _ = try library.updateTerms(FeedOrigin(feed: feed.name, entry), title: entry.title, pillar: entry.pillar,
                                                campaign: entry.campaign)
                }
                report.updated.append(entry.id)
            }
        }
        // Emergencies first, then priority, then the rest in manifest order: an emergency must not wait for
        // an hour of ordinary downloads.
        let ordered = decision.toFetch.enumerated().sorted { ($1.element.priority, $0.offset) < ($0.element.priority, $1.offset) }
        for (_, entry) in ordered {
            // Refused for its content under this same sequence: not downloaded again (a metered link pays for it).
            if state.rejected.contains(entry.sha256) {
                report.refused.append(.rejected(feed: feed.name, entry: entry.id, message:
                    "đã bị từ chối ở lần tải trước (sequence \(manifest.sequence)); không tải lại cho đến khi bên phát xuất bản lại"))
                continue
            }
            do {
                let segment = try await install(entry, received: &report.bytesReceived, seconds: &report.transferSeconds)
                report.installed.append(segment)
                onInstall(segment)
            } catch {
                if case .rejected = error { state.rejected.insert(entry.sha256) }
                report.refused.append(error)
            }
        }
        // A partial download of an entry the manifest no longer wants (withdrawn, replaced by a newer version, past
        // its dates) would never be resumed: it goes. Those still wanted stay for the next attempt.
        sweepPartials(keeping: Set(decision.toFetch.map(\.sha256)))
        // Validators are kept only when every entry is in or refused for its content: otherwise the next poll
        // must read the manifest again to retry the rest, instead of being told 304.
        let complete = report.refused.allSatisfy { if case .rejected = $0 { true } else { false } }
        state.etag = complete ? head.headers["etag"] : nil
        state.lastModified = complete ? head.headers["last-modified"] : nil
        try store { () throws(StoreError) in try states.save(state) }
    }

    /// Reads the feed's manifest and signature and checks them as ``fetch()`` does (signature by a pinned key, format,
    /// no sequence below the last accepted one, not expired), then decides what a fetch would download; throws the
    /// refusal a fetch would report. Takes no lock and downloads, installs and records nothing: `loa doctor`.
    public func check() async throws(FeedError) -> FeedCheck {
        let state = try store { () throws(StoreError) in try states.state(feed.name) }
        let manifestURL = feed.url + "feed.json"
        let (head, body) = try await transport.get(manifestURL, headers: [], limit: Self.manifestLimit)
        guard head.status == 200 else { throw .http(url: manifestURL, message: "máy chủ trả lời HTTP \(head.status)") }
        return try await verify(body, accepted: state.sequence, now: clock.now()).check
    }

    /// Fetches the signature of `body` (the manifest as received), checks it against the pinned keys, decodes the
    /// manifest and decides on it against the library and `accepted`, the last sequence accepted. Writes nothing.
    /// Also returns the SHA-256 of each entry of this feed already in the library.
    private func verify(_ body: Data, accepted: Int?, now: Date) async throws(FeedError)
        -> (check: FeedCheck, installed: [String: String]) {
        let signatureURL = feed.url + "feed.json.sig"
        let (signatureHead, signature) = try await transport.get(signatureURL, headers: [], limit: 4096)
        guard signatureHead.status == 200 else {
            throw .refused(feed: feed.name, message: "không có chữ ký (\(signatureURL): HTTP \(signatureHead.status)); không nhận danh mục chưa ký")
        }
        guard let signer = FeedSigning.signer(of: body, signature: String(decoding: signature, as: UTF8.self),
                                              publicKeys: feed.publicKeys) else {
            throw .refused(feed: feed.name, message: "chữ ký của feed.json sai, hoặc không phải của khóa nào trong public_keys; không nhận gì")
        }
        let manifest: FeedManifest
        do { manifest = try FeedManifest.decode(body) } catch {
            throw .refused(feed: feed.name, message: "feed.json đã ký nhưng không đọc được: \(error)")
        }
        let installed = try store { () throws(StoreError) in
            try library.all().reduce(into: [String: String]()) { map, segment in
                if let origin = segment.origin, origin.feed == feed.name { map[origin.entry] = segment.sha256 }
            }
        }
        let decision: FeedDecision
        do { decision = try FeedDecision.decide(manifest, accepted: accepted, installed: installed, now: now,
                                                today: calendar.localDate(of: now)) } catch {
            throw .refused(feed: feed.name, message: error.description)
        }
        return (FeedCheck(manifest: manifest, signer: signer, decision: decision), installed)
    }

    private func sweepPartials(keeping wanted: Set<String>) {
        let folder = audio.appendingPathComponent(feed.name).appendingPathComponent(Self.partialFolder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasSuffix(".part") && !wanted.contains(String(name.dropLast(5))) {
            unlink(folder.appendingPathComponent(name).path)
        }
    }

    /// Where partial downloads wait, inside the feed's folder: `<sha256>.part`.
    static let partialFolder = ".partial"

    /// Downloads, verifies, decodes and installs one entry; on any refusal nothing of it is in the library.
    private func install(_ entry: FeedEntry, received: inout Int, seconds: inout Double) async throws(FeedError) -> Segment {
        let refuse = { (message: String) in FeedError.entry(feed: feed.name, entry: entry.id, message: message) }
        let reject = { (message: String) in FeedError.rejected(feed: feed.name, entry: entry.id, message: message) }
        if let twin = try store({ () throws(StoreError) in try library.segment(sha256: entry.sha256) }),
           twin.origin?.feed != feed.name || twin.origin?.entry != entry.id {
            throw refuse("cùng nội dung (SHA-256) với bản tin “\(twin.id)” đã có trong thư viện; không cài lại")
        }
        let relative = "\(feed.name)/\(entry.path)"
        let destination = audio.appendingPathComponent(relative)
        let previous = try store { () throws(StoreError) in try library.segment(feed: feed.name, entry: entry.id) }
        // Another segment's file is never overwritten (an id changed for the same path, two entries swapped);
        // known before a byte is downloaded.
        if let other = try store({ () throws(StoreError) in try library.segments(path: relative).first { $0.id != previous?.id } }) {
            throw reject("đường dẫn “\(entry.path)” đang là tệp của bản tin “\(other.id)”; không ghi đè")
        }
        let folder = audio.appendingPathComponent(feed.name)
        let partPath = folder.appendingPathComponent("\(Self.partialFolder)/\(entry.sha256).part").path
        // Opening a partial download hashes what an earlier attempt left: up to the whole file.
        let part = try await BlockingWork.run("loa-fetch-resume") { () -> Result<PartialDownload, FeedError> in
            Result { () throws(FeedError) in try PartialDownload(path: partPath) }
        }.get()
        let url = feed.url + entry.path.split(separator: "/").map {
            $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? String($0)
        }.joined(separator: "/")
        if part.size > entry.bytes { try part.restart() }
        var attempt = 0
        while part.size < entry.bytes {
            attempt += 1
            let before = part.size
            let started = clock.monotonicSeconds()
            do {
                defer { seconds += clock.monotonicSeconds() - started }
                try await download(url, entry, into: part)
            } catch let error {
                received += part.size - before
                if case .file = error { part.remove(); throw refuse("\(error)") }
                if case .rejected = error { part.remove(); throw error }
                // A cut or an HTTP error: what arrived is kept for the next attempt.
                guard attempt < attempts, !Task.isCancelled else {
                    try? part.flush()
                    throw refuse("\(error) (đã thử \(attempt) lần; lần sau tải tiếp từ byte \(part.size))")
                }
                try? await clock.sleep(until: clock.now().addingTimeInterval(Double(1 << (attempt - 1))))
                continue
            }
            received += part.size - before
            if part.size < entry.bytes {
                guard attempt < attempts else {
                    try? part.flush()
                    throw refuse("máy chủ chỉ gửi \(part.size) trên \(entry.bytes) byte; lần sau tải tiếp")
                }
            }
        }
        // The last blocks are written and hashed here: part of the transfer's time.
        let finishing = clock.monotonicSeconds()
        let finished = await BlockingWork.run("loa-fetch-verify") { () -> Result<String, FeedError> in
            Result { () throws(FeedError) in
                try part.flush()
                return part.finish()
            }
        }
        seconds += clock.monotonicSeconds() - finishing
        let sha256: String
        switch finished {
        case let .success(digest): sha256 = digest
        case let .failure(error): part.remove(); throw refuse("\(error)")
        }
        guard sha256 == entry.sha256 else {
            part.remove()
            throw reject("SHA-256 của tệp tải về không khớp danh mục (tệp bị sửa hoặc hỏng); đã xóa")
        }
        try await BlockingWork.run("loa-fetch-sync") { () -> Result<Void, FeedError> in
            Result { () throws(FeedError) in try part.sync() }
        }.get()
        // One decode: proves it plays, measures loudness, writes the playout copy.
        let copy = PlayoutCopyWriter.relativePath(sha256: entry.sha256)
        let info: MediaInfo
        let copyPath = audio.appendingPathComponent(copy).path
        let decoded = await BlockingWork.run("loa-fetch") { () -> Result<MediaInfo, AudioError> in
            Result { () throws(AudioError) in try SndFileDecoder.probe(path: partPath, playoutCopy: copyPath) }
        }
        switch decoded {
        case let .success(probed): info = probed
        case let .failure(error):
            part.remove()
            throw reject("tệp đúng SHA-256 nhưng không giải mã được: \(error); không cài")
        }
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            part.remove()
            throw refuse("không tạo được thư mục \(destination.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        guard rename(part.path, destination.path) == 0 else {
            let reason = FeedError.errnoText()
            part.remove()
            unlink(audio.appendingPathComponent(copy).path)
            throw refuse("không đặt được tệp vào \(destination.path): \(reason)")
        }
        let segment = try store { () throws(StoreError) in
            try library.install(Segment(
                id: Segment.slug(entry.id), title: entry.title, pillar: entry.pillar, campaign: entry.campaign, path: relative,
                durationSeconds: info.durationSeconds, format: info.format, sampleRate: info.sampleRate, channels: info.channels,
                sha256: entry.sha256, loudness: info.loudness, playoutPath: copy, origin: FeedOrigin(feed: feed.name, entry)),
                importedAt: clock.now())
        }
        // A replaced version's files go once the library points at the new one.
        if let previous, previous.path != relative,
           try store({ () throws(StoreError) in try library.segments(path: previous.path).isEmpty }) {
            unlink(audio.appendingPathComponent(previous.path).path)
        }
        if let previous, let old = previous.playoutPath, old != copy { unlink(audio.appendingPathComponent(old).path) }
        return segment
    }

    /// One attempt: appends to `part` from its current size, refusing more bytes than declared.
    private func download(_ url: String, _ entry: FeedEntry, into part: PartialDownload) async throws(FeedError) {
        let offset = part.size
        let feedName = feed.name, progress = self.progress
        try await transport.stream(url, from: offset, head: { (head) throws(FeedError) in
            switch head.status {
            case 206 where offset > 0:
                // A proxy may answer another range than the one asked for: appending it would corrupt the file.
                let range = head.headers["content-range"] ?? ""
                guard range.hasPrefix("bytes \(offset)-"), range.hasSuffix("/\(entry.bytes)") else {
                    try part.restart()
                    throw .http(url: url, message: "máy chủ trả đoạn “\(range)” thay vì từ byte \(offset); tải lại từ đầu")
                }
            case 200:
                // The server ignored the range: start over.
                if offset > 0 { try part.restart() }
            case 416:
                try part.restart()
                throw .http(url: url, message: "máy chủ từ chối đoạn từ byte \(offset) (HTTP 416); tải lại từ đầu")
            default:
                throw .http(url: url, message: "máy chủ trả lời HTTP \(head.status)")
            }
        }, chunk: { (bytes) throws(FeedError) in
            guard part.size + bytes.count <= entry.bytes else {
                throw .rejected(feed: feedName, entry: entry.id,
                                message: "máy chủ gửi nhiều hơn \(entry.bytes) byte danh mục khai; ngừng đọc, đã xóa phần đã tải")
            }
            try part.append(bytes)
            progress(DownloadProgress(feed: feedName, entry: entry.id, received: part.size, total: entry.bytes))
        })
    }

    private func store<T>(_ body: () throws(StoreError) -> T) throws(FeedError) -> T {
        do { return try body() } catch { throw .file(path: "cơ sở dữ liệu", message: "\(error)") }
    }
}

extension FeedExpiry {
    /// Removes the files (original and playout copy) of the segments ``removable(_:slots:today:)`` names, then
    /// marks each removed in the library (whose row stays for the log and reports); returns them.
    public static func removeFiles(library: SegmentLibrary, audio: URL, slots: [Slot], today: LocalDate,
                                   now: Date) throws -> [Segment] {
        let all = try library.all()
        let segments = removable(all, slots: slots, today: today)
        let removing = Set(segments.map(\.id))
        let kept = Set(all.filter { !removing.contains($0.id) }.map(\.path))
        for segment in segments {
            if !kept.contains(segment.path) { unlink(audio.appendingPathComponent(segment.path).path) }
            if let copy = segment.playoutPath { unlink(audio.appendingPathComponent(copy).path) }
            try library.markRemoved(segment.id, at: now)
        }
        return segments
    }
}

/// An exclusive `flock` on `audio/<feed>/.fetch.lock` for the length of one fetch.
final class FetchLock {
    private let fd: Int32

    init(folder: URL, feed: String) throws(FeedError) {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw .file(path: folder.path, message: "không tạo được thư mục: \(error.localizedDescription)")
        }
        let path = folder.appendingPathComponent(".fetch.lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .file(path: path, message: FeedError.errnoText()) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .refused(feed: feed, message: "đang được tải bởi một tiến trình khác (Loa daemon hoặc loa fetch); lần này bỏ qua")
        }
    }

    func release() { close(fd) }
}
