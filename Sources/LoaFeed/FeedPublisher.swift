import Foundation
import LoaAudio
import LoaConfig
import LoaCore

/// What one `loa publish` did.
public struct PublishReport: Sendable {
    public var sequence: Int
    public var added: [String] = []
    public var changed: [String] = []
    public var unchanged: [String] = []
    public var removed: [String] = []
}

/// The district side: turns a folder of segments (and their sidecars) into a signed feed folder that any static
/// web server can serve. Files are copied in before the manifest names them, and the manifest and its
/// signature are each written to a temporary name and renamed, so a server never serves a half-written file.
public struct FeedPublisher {
    public let source: URL
    public let output: URL
    public let publisher: String
    /// How long a manifest stays valid: a commune refuses it afterwards (no freeze), so publish at least this often.
    public let validSeconds: Double

    static let audioExtensions: Set<String> = ["wav", "mp3", "flac", "ogg", "oga", "opus"]

    public init(source: URL, output: URL, publisher: String, validSeconds: Double) {
        self.source = source
        self.output = output
        self.publisher = publisher
        self.validSeconds = validSeconds
    }

    /// Publishes; `now` is the publication time.
    public func publish(signingKey keyPath: String, now: Date) throws(FeedError) -> PublishReport {
        let key = try FeedSigning.privateKey(at: keyPath)
        let manifestFile = output.appendingPathComponent("feed.json")
        var previous: FeedManifest?
        if let data = FileManager.default.contents(atPath: manifestFile.path) {
            // Starting over at sequence 1 would make every commune refuse the feed as a rollback.
            do { previous = try FeedManifest.decode(data) } catch {
                throw .file(path: manifestFile.path, message: "có nhưng không đọc được (\(error)); không xuất bản để khỏi đặt lại sequence về 1")
            }
        }
        let known = Dictionary((previous?.segments ?? []).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var report = PublishReport(sequence: (previous?.sequence ?? 0) + 1)
        var entries: [FeedEntry] = []
        for path in try audioFiles() {
            let file = source.appendingPathComponent(path)
            let sidecarFile = file.deletingPathExtension().appendingPathExtension("toml")
            var sidecar = SegmentSidecar()
            if FileManager.default.fileExists(atPath: sidecarFile.path) {
                do { sidecar = try SegmentSidecar.load(sidecarFile) } catch {
                    throw .file(path: sidecarFile.path, message: "\(error)")
                }
            }
            let sha = try Digest.sha256(ofFile: file.path)
            let bytes = try size(of: file.path)
            let stem = file.deletingPathExtension().lastPathComponent
            var entry: FeedEntry
            if let old = known[path], old.sha256 == sha {
                entry = old
            } else {
                let info: MediaInfo
                do { info = try SndFileDecoder.probe(path: file.path) } catch {
                    throw .file(path: file.path, message: "không giải mã được, không xuất bản: \(error)")
                }
                entry = FeedEntry(id: "", title: "", path: path, bytes: bytes, sha256: sha, durationSeconds: info.durationSeconds)
                try place(file, at: path)
            }
            entry.id = sidecar.id ?? Segment.slug(stem)
            entry.title = sidecar.title ?? stem
            entry.pillar = sidecar.pillar
            entry.category = sidecar.category
            entry.campaign = sidecar.campaign
            entry.priority = sidecar.priority
            entry.validFrom = sidecar.validFrom
            entry.validUntil = sidecar.validUntil
            entry.requested = sidecar.requested
            if let duplicate = entries.first(where: { $0.id == entry.id }) {
                throw .file(path: file.path, message: "id “\(entry.id)” trùng với \(duplicate.path); đặt “id” khác trong tệp .toml đi kèm")
            }
            switch known[path] {
            case nil: report.added.append(entry.id)
            case entry?: report.unchanged.append(entry.id)
            default: report.changed.append(entry.id)
            }
            entries.append(entry)
        }
        let manifest = FeedManifest(publisher: publisher, sequence: report.sequence, published: now,
                                    expires: now.addingTimeInterval(validSeconds), segments: entries)
        let data: Data
        do { data = try manifest.encoded() } catch { throw .file(path: manifestFile.path, message: "không mã hóa được: \(error)") }
        let signature = try FeedSigning.sign(data, with: key)
        // The manifest first, its signature right after: a commune that reads the pair in between sees a
        // signature that does not match and refuses the manifest until its next poll; it never installs anything unsigned.
        // Web servers derive validators from modification time (seconds) and size: a republish in the same second
        // with the same size would be answered 304 to a commune that has the previous one, so its time moves on.
        var previousModified = stat()
        let after = stat(manifestFile.path, &previousModified) == 0 ? previousModified.st_mtim.tv_sec + 1 : 0
        try writeAtomically(data, to: manifestFile)
        var written = stat()
        if stat(manifestFile.path, &written) == 0, written.st_mtim.tv_sec < after {
            var times = [timespec(tv_sec: after, tv_nsec: 0), timespec(tv_sec: after, tv_nsec: 0)]
            utimensat(AT_FDCWD, manifestFile.path, &times, 0)
        }
        try writeAtomically(Data((signature + "\n").utf8), to: output.appendingPathComponent("feed.json.sig"))
        let kept = Set(entries.map(\.path))
        for old in previous?.segments ?? [] where !kept.contains(old.path) {
            report.removed.append(old.id)
            unlink(output.appendingPathComponent(old.path).path)
        }
        return report
    }

    /// Audio files under `source`, relative, sorted; hidden files and folders skipped.
    func audioFiles() throws(FeedError) -> [String] {
        guard let walker = FileManager.default.enumerator(at: source, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw .file(path: source.path, message: "không đọc được thư mục")
        }
        var paths: [String] = []
        let base = source.standardizedFileURL.path
        for case let url as URL in walker where Self.audioExtensions.contains(url.pathExtension.lowercased()) {
            let full = url.standardizedFileURL.path
            guard full.hasPrefix(base + "/") else { continue }
            let relative = String(full.dropFirst(base.count + 1))
            guard FeedDecision.isSafe(relativePath: relative) else {
                throw .file(path: full, message: "tên tệp có ký tự không dùng được trong feed (%, \\, :)")
            }
            paths.append(relative)
        }
        guard !paths.isEmpty else { throw .file(path: source.path, message: "không có tệp âm thanh nào (wav, mp3, flac, ogg, opus)") }
        return paths.sorted()
    }

    private func size(of path: String) throws(FeedError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .file(path: path, message: FeedError.errnoText()) }
        return Int(info.st_size)
    }

    /// Copies `file` to `output/path` through a temporary name, streaming (a feed's files may be large).
    private func place(_ file: URL, at path: String) throws(FeedError) {
        try atomically(output.appendingPathComponent(path)) { temporary in
            try FileManager.default.copyItem(atPath: file.path, toPath: temporary)
        }
    }

    private func writeAtomically(_ data: Data, to url: URL) throws(FeedError) {
        try atomically(url) { temporary in try data.write(to: URL(fileURLWithPath: temporary)) }
    }

    /// `fill` writes `.NAME.tmp` beside `url`; it is synced, renamed over `url`, and the folder synced.
    private func atomically(_ url: URL, _ fill: (String) throws -> Void) throws(FeedError) {
        let folder = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw .file(path: folder.path, message: "không tạo được thư mục: \(error.localizedDescription)")
        }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp").path
        unlink(temporary)
        do { try fill(temporary) } catch {
            unlink(temporary)
            throw .file(path: url.path, message: "không ghi được: \(error.localizedDescription)")
        }
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            let reason = FeedError.errnoText()
            if fd >= 0 { close(fd) }
            unlink(temporary)
            throw .file(path: url.path, message: "không ghi được xuống đĩa: \(reason)")
        }
        close(fd)
        guard rename(temporary, url.path) == 0 else {
            let reason = FeedError.errnoText()
            unlink(temporary)
            throw .file(path: url.path, message: "không đổi tên được: \(reason)")
        }
        let dir = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
