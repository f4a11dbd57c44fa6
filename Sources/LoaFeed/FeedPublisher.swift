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
    /// Unchanged entries whose file in the feed folder no longer matched its size or SHA-256: copied again.
    public var recopied: [String] = []
    /// One line each for the operator: an old manifest set aside, a file it names left alone.
    public var notices: [String] = []
}

/// The district side: turns a folder of segments (and their sidecars) into a signed feed folder that any static
/// web server can serve. Files are copied in before the manifest names them, and the manifest and its
/// signature are each written to a temporary name and renamed, so a server never serves a half-written file.
///
/// Nothing read from the feed folder is trusted: the old manifest counts only with a valid signature by the key
/// publishing now, every path is reached through ``ConfinedFolder`` (never `..`, an absolute path or a link), and
/// a file kept from the last publication is checked against its size and SHA-256 before it is signed again.
public struct FeedPublisher {
    public let source: URL
    public let output: URL
    public let publisher: String
    /// How long a manifest stays valid: a commune refuses it afterwards (no freeze), so publish at least this often.
    public let validSeconds: Double

    static let audioExtensions: Set<String> = ["wav", "mp3", "flac", "ogg", "oga", "opus"]
    static let manifestName = "feed.json", signatureName = "feed.json.sig"

    public init(source: URL, output: URL, publisher: String, validSeconds: Double) {
        self.source = source
        self.output = output
        self.publisher = publisher
        self.validSeconds = validSeconds
    }

    /// What the feed folder held before this publication.
    enum Previous {
        /// Neither `feed.json` nor its signature: a new feed.
        case none
        /// Signed by the key publishing now.
        case verified(FeedManifest)
        /// There, but not provably ours; why, worded for the operator and naming the file.
        case setAside(String)
    }

    /// Publishes; `now` is the publication time.
    public func publish(signingKey keyPath: String, now: Date) throws(FeedError) -> PublishReport {
        let key = try FeedSigning.privateKey(at: keyPath)
        let folder = try ConfinedFolder(output)
        let manifestFile = output.appendingPathComponent(Self.manifestName)
        let previous = try previousManifest(in: folder, publicKey: key.publicKey.rawRepresentation.base64EncodedString(), keyPath: keyPath)
        var report = PublishReport(sequence: 1)
        var known: [String: FeedEntry] = [:]
        switch previous {
        case .none: break
        case let .verified(manifest):
            let (next, overflow) = manifest.sequence.addingReportingOverflow(1)
            guard !overflow else { throw .file(path: manifestFile.path, message: "sequence \(manifest.sequence) không tăng thêm được") }
            report.sequence = next
            known = Dictionary(manifest.segments.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        case let .setAside(reason):
            // A commune refuses a sequence lower than one it accepted, and what the untrusted file says cannot be
            // believed: the clock's seconds are above any sequence counted up by one from 1, and above any taken
            // this way before, unless this folder was published more than once a second on average since.
            report.sequence = max(1, Int(now.timeIntervalSince1970))
            report.notices.append("\(reason); coi như chưa có danh mục cũ: không xóa tệp nào nó ghi, "
                                  + "chép lại mọi tệp, sequence \(report.sequence) (số giây theo giờ hiện tại, để xã không coi là bản cũ)")
        }
        // The highest sequence this key ever signed, kept beside it: a signed manifest put back in the folder (a backup
        // restored, a stale mirror) verifies, yet going on from it would publish a number the communes already passed,
        // and they would refuse every manifest until it caught up.
        let ledger = URL(fileURLWithPath: keyPath + ".sequence")
        if let text = try? String(contentsOf: ledger, encoding: .utf8), let signed = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
           signed >= report.sequence, signed < Int.max {
            report.notices.append("\(ledger.path): khóa này đã ký đến #\(signed), cao hơn danh mục đang có trong thư mục feed "
                                  + "(bản cũ được chép lại?): xuất bản #\(signed + 1) để xã không coi là bản cũ")
            report.sequence = signed + 1
        }
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
            var recopied = false
            if let old = known[path], old.sha256 == sha {
                entry = old
                // Signing it again vouches for the file served, not only for the one in `source`.
                if !folder.holds(path, bytes: old.bytes, sha256: old.sha256) {
                    try place(file, at: path, in: folder)
                    recopied = true
                }
            } else {
                let info: MediaInfo
                do { info = try SndFileDecoder.probe(path: file.path) } catch {
                    throw .file(path: file.path, message: "không giải mã được, không xuất bản: \(error)")
                }
                // Published all the same (the publisher may mean it), but said: every commune would air the cut copy.
                if let warning = info.missingWarning { report.notices.append("\(file.path): \(warning)") }
                entry = FeedEntry(id: "", title: "", path: path, bytes: bytes, sha256: sha, durationSeconds: info.durationSeconds)
                try place(file, at: path, in: folder)
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
            if recopied { report.recopied.append(entry.id) }
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
        let after = (try? folder.status(Self.manifestName)).map { Int($0.st_mtim.tv_sec) + 1 } ?? 0
        try folder.write(Self.manifestName) { try $0.write(contentsOf: data) }
        if let written = try? folder.status(Self.manifestName), written.st_mtim.tv_sec < after {
            try? folder.setModified(Self.manifestName, seconds: after)
        }
        try folder.write(Self.signatureName) { try $0.write(contentsOf: Data((signature + "\n").utf8)) }
        do { try AtomicFile.write(Data("\(report.sequence)\n".utf8), to: ledger, mode: 0o600) } catch {
            report.notices.append("\(error) (số thứ tự đã ký không được ghi lại; lần sau vẫn đếm từ danh mục trong thư mục feed)")
        }
        guard case let .verified(old) = previous else { return report }
        let kept = Set(entries.map(\.path))
        for entry in old.segments where !kept.contains(entry.path) {
            if let refusal = ConfinedFolder.refusal(of: entry.path) {
                report.notices.append("\(manifestFile.path), bản tin “\(entry.id)”: \(refusal); không xóa")
                continue
            }
            // A manifest we signed names only audio files: never the manifest, its signature or anything else.
            guard Self.audioExtensions.contains(URL(fileURLWithPath: entry.path).pathExtension.lowercased()) else {
                report.notices.append("\(manifestFile.path), bản tin “\(entry.id)”: “\(entry.path)” không phải tệp âm thanh; không xóa")
                continue
            }
            do {
                try folder.remove(entry.path)
                report.removed.append(entry.id)
            } catch {
                report.notices.append("\(error); không xóa")
            }
        }
        return report
    }

    /// Reads `feed.json` and its signature from the feed folder and checks them against `publicKey`.
    func previousManifest(in folder: ConfinedFolder, publicKey: String, keyPath: String) throws(FeedError) -> Previous {
        let manifestFile = output.appendingPathComponent(Self.manifestName).path
        let data: Data?, signature: Data?
        do {
            // Read no more than a commune would take (and a signature is a line): a huge file is set aside, not loaded.
            data = try folder.contents(Self.manifestName, limit: FeedFetcher.manifestLimit)
            signature = try folder.contents(Self.signatureName, limit: 1024)
        } catch {
            return .setAside("\(error)")
        }
        switch (data, signature) {
        case (nil, nil): return .none
        case (nil, _?): return .setAside("\(manifestFile): không có, mà \(Self.signatureName) thì có")
        case (_?, nil): return .setAside("\(manifestFile): không có \(Self.signatureName) đi kèm")
        case let (data?, signature?):
            guard FeedSigning.signer(of: data, signature: String(decoding: signature, as: UTF8.self), publicKeys: [publicKey]) != nil else {
                return .setAside("\(manifestFile): chữ ký không khớp khóa \(keyPath) (tệp đã bị sửa, hoặc ký bằng khóa khác)")
            }
            // Signed by this key yet unreadable: starting over would lose what it lists, so nothing is published.
            do { return .verified(try FeedManifest.decode(data)) } catch {
                throw .file(path: manifestFile, message: "có chữ ký đúng nhưng không đọc được (\(error)); không xuất bản")
            }
        }
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

    /// Copies `file` to `path` in the feed folder through a temporary name, streaming (a feed's files may be large).
    private func place(_ file: URL, at path: String, in folder: ConfinedFolder) throws(FeedError) {
        try folder.write(path) { copy in
            guard let input = FileHandle(forReadingAtPath: file.path) else { throw FeedError.file(path: file.path, message: "không đọc được") }
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try copy.write(contentsOf: chunk) }
        }
    }
}
