import Foundation

/// The three levels of Circular 39/2020/TT-BTTTT for bulletins sent down to commune stations.
public enum Priority: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Aired in the commune's own slots (thông thường).
    case normal
    /// First in the next slot that admits it (ưu tiên).
    case priority
    /// Aired at once, above any slot (khẩn cấp).
    case emergency

    /// The label a commune officer reads.
    public var label: String {
        switch self {
        case .normal: "thông thường"
        case .priority: "ưu tiên"
        case .emergency: "khẩn cấp"
        }
    }

    public static func < (a: Priority, b: Priority) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// How many airings a publisher asks for: so many each week (Monday to Sunday, station time), or so many in all
/// while the segment is valid.
public enum RequestedAirings: Sendable, Hashable, Codable, CustomStringConvertible {
    case perWeek(Int)
    case total(Int)

    private enum Keys: String, CodingKey { case perWeek = "per_week", total }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if let n = try container.decodeIfPresent(Int.self, forKey: .perWeek) {
            self = .perWeek(n)
        } else {
            self = .total(try container.decode(Int.self, forKey: .total))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case let .perWeek(n): try container.encode(n, forKey: .perWeek)
        case let .total(n): try container.encode(n, forKey: .total)
        }
    }

    public var count: Int {
        switch self {
        case let .perWeek(n), let .total(n): n
        }
    }

    public var description: String {
        switch self {
        case let .perWeek(n): "\(n) lượt/tuần"
        case let .total(n): "\(n) lượt"
        }
    }
}

/// `feed.json`: what a publisher (district or province) offers, signed as a whole by `feed.json.sig`.
/// A commune accepts a manifest only with a valid signature by a pinned key, a `sequence` not lower than
/// the last one it accepted (no rollback), and before `expires` (no freeze).
public struct FeedManifest: Sendable, Hashable, Codable {
    /// The format of this file; 1 is the only one.
    public var format: Int
    public var publisher: String
    /// Grows with every publication.
    public var sequence: Int
    public var published: Date
    public var expires: Date
    public var segments: [FeedEntry]
    /// Entries that did not decode (a pillar this version does not know, a missing field): refused one by one,
    /// so the others of the manifest still go ahead. Not written by ``encoded()``.
    public var undecodable: [FeedRefusal] = []

    enum CodingKeys: String, CodingKey { case format, publisher, sequence, published, expires, segments }

    public init(format: Int = 1, publisher: String, sequence: Int, published: Date, expires: Date, segments: [FeedEntry]) {
        self.format = format
        self.publisher = publisher
        self.sequence = sequence
        self.published = published
        self.expires = expires
        self.segments = segments
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(Int.self, forKey: .format)
        publisher = try c.decode(String.self, forKey: .publisher)
        sequence = try c.decode(Int.self, forKey: .sequence)
        published = try c.decode(Date.self, forKey: .published)
        expires = try c.decode(Date.self, forKey: .expires)
        segments = []
        for element in try c.decode([EntryOrRefusal].self, forKey: .segments) {
            switch element {
            case let .entry(entry): segments.append(entry)
            case let .refusal(refusal): undecodable.append(refusal)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(publisher, forKey: .publisher)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(published, forKey: .published)
        try c.encode(expires, forKey: .expires)
        try c.encode(segments, forKey: .segments)
    }

    /// Decodes whatever one element of `segments` holds, so that a bad one does not fail the array.
    private enum EntryOrRefusal: Decodable {
        case entry(FeedEntry)
        case refusal(FeedRefusal)

        private struct Named: Decodable { var id: String? }

        init(from decoder: any Decoder) throws {
            do {
                self = .entry(try FeedEntry(from: decoder))
            } catch {
                let id = (try? Named(from: decoder))?.id ?? "?"
                self = .refusal(.badEntry(entry: id, reason: "mục không đọc được: \(Self.explain(error))"))
            }
        }

        private static func explain(_ error: any Error) -> String {
            switch error as? DecodingError {
            case let .keyNotFound(key, _)?: "thiếu “\(key.stringValue)”"
            case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?, let .dataCorrupted(context)?:
                "“\(context.codingPath.last?.stringValue ?? "?")”: \(context.debugDescription)"
            default: "\(error)"
            }
        }
    }

    /// Decodes a manifest; dates are RFC 3339 with an offset, e.g. `2026-11-25T08:00:00+07:00`.
    public static func decode(_ data: Data) throws -> FeedManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(FeedManifest.self, from: data)
    }

    /// The bytes a publisher signs: stable key order, so republishing the same content gives the same bytes.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// One segment of a feed.
public struct FeedEntry: Sendable, Hashable, Codable {
    public var id: String
    public var title: String
    public var pillar: Pillar?
    /// The publisher's own category (chuyên mục), free text.
    public var category: String?
    public var campaign: String?
    /// Where the file is, relative to the feed's URL; also where it goes under `audio/<feed>/`.
    public var path: String
    public var bytes: Int
    /// Lowercase hex.
    public var sha256: String
    public var durationSeconds: Double
    /// First and last station-local day the segment may air, both inclusive; nil for no bound.
    public var validFrom: LocalDate?
    public var validUntil: LocalDate?
    public var requested: RequestedAirings?
    public var priority: Priority

    enum CodingKeys: String, CodingKey {
        case id, title, pillar, category, campaign, path, bytes, sha256, priority, requested
        case durationSeconds = "duration_seconds", validFrom = "valid_from", validUntil = "valid_until"
    }

    public init(id: String, title: String, pillar: Pillar? = nil, category: String? = nil, campaign: String? = nil,
                path: String, bytes: Int, sha256: String, durationSeconds: Double, validFrom: LocalDate? = nil,
                validUntil: LocalDate? = nil, requested: RequestedAirings? = nil, priority: Priority = .normal) {
        self.id = id
        self.title = title
        self.pillar = pillar
        self.category = category
        self.campaign = campaign
        self.path = path
        self.bytes = bytes
        self.sha256 = sha256
        self.durationSeconds = durationSeconds
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.requested = requested
        self.priority = priority
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        title = try c.decode(String.self, forKey: .title)
        pillar = try c.decodeIfPresent(Pillar.self, forKey: .pillar)
        category = try c.decodeIfPresent(String.self, forKey: .category)
        campaign = try c.decodeIfPresent(String.self, forKey: .campaign)
        path = try c.decode(String.self, forKey: .path)
        bytes = try c.decode(Int.self, forKey: .bytes)
        sha256 = try c.decode(String.self, forKey: .sha256)
        durationSeconds = try c.decode(Double.self, forKey: .durationSeconds)
        validFrom = try c.decodeIfPresent(String.self, forKey: .validFrom).map(Self.date(.validFrom, in: c))
        validUntil = try c.decodeIfPresent(String.self, forKey: .validUntil).map(Self.date(.validUntil, in: c))
        requested = try c.decodeIfPresent(RequestedAirings.self, forKey: .requested)
        priority = try c.decodeIfPresent(Priority.self, forKey: .priority) ?? .normal
        // A line break in a title would break every table and log line after it.
        for (key, text) in [(CodingKeys.title, title), (.category, category), (.campaign, campaign)] {
            guard let text, !isOneLineText(text) else { continue }
            throw DecodingError.dataCorruptedError(forKey: key, in: c,
                                                   debugDescription: "“\(key.rawValue)” rỗng hoặc có xuống dòng hay ký tự điều khiển")
        }
    }

    private static func date(_ key: CodingKeys, in c: KeyedDecodingContainer<CodingKeys>) -> (String) throws -> LocalDate {
        { text in
            guard let date = LocalDate(parsing: text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "“\(text)” không phải ngày YYYY-MM-DD")
            }
            return date
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(title, forKey: .title)
        try c.encodeIfPresent(pillar, forKey: .pillar)
        try c.encodeIfPresent(category, forKey: .category)
        try c.encodeIfPresent(campaign, forKey: .campaign)
        try c.encode(path, forKey: .path)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(sha256, forKey: .sha256)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encodeIfPresent(validFrom?.description, forKey: .validFrom)
        try c.encodeIfPresent(validUntil?.description, forKey: .validUntil)
        try c.encodeIfPresent(requested, forKey: .requested)
        try c.encode(priority, forKey: .priority)
    }

}

/// Why a manifest or one of its entries is refused. Each names what an operator needs to find it.
public enum FeedRefusal: OperatorFacingError, Sendable, Hashable {
    case unsupportedFormat(Int)
    case rollback(sequence: Int, accepted: Int)
    case expired(expires: Date)
    case unsafePath(entry: String, path: String)
    case badEntry(entry: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedFormat(n): "định dạng feed \(n) không được hỗ trợ (chỉ hỗ trợ 1)"
        case let .rollback(sequence, accepted):
            "sequence \(sequence) thấp hơn bản đã nhận (\(accepted)): có thể là bản cũ bị phát lại; từ chối"
        case let .expired(expires):
            "danh mục đã hết hạn (expires \(RFC3339.string(expires, offsetSeconds: nil))); không nhận gì mới, tiếp tục phát những bản tin đã xác minh"
        case let .unsafePath(entry, _), let .badEntry(entry, _): "\(entry): \(reason)"
        }
    }

    /// The entry refused, for a refusal of one entry; nil when the manifest is refused whole.
    public var entry: String? {
        switch self {
        case let .unsafePath(entry, _), let .badEntry(entry, _): entry
        default: nil
        }
    }

    /// Why, without the entry's id.
    public var reason: String {
        switch self {
        case let .unsafePath(_, path): "đường dẫn “\(path)” ra ngoài thư mục feed; từ chối"
        case let .badEntry(_, reason): reason
        default: description
        }
    }
}

/// What the commune does with a verified manifest: the pure decision, no I/O.
public struct FeedDecision: Sendable, Hashable {
    /// Entries to download (not in the library under this feed with this SHA-256).
    public var toFetch: [FeedEntry]
    /// Entries already installed, unchanged.
    public var unchanged: [FeedEntry]
    /// Entries refused, each with its reason; the others go ahead.
    public var refused: [FeedRefusal]
    /// Entries past their `valid_until` on the station's day: never fetched, as they can no longer air.
    public var expired: [FeedEntry] = []

    /// Decides on a manifest whose signature has been checked. `accepted` is the highest sequence accepted
    /// before from this feed; `installed` the SHA-256 of each entry id already in the library from it.
    /// Throws the refusal when the manifest as a whole is refused (nothing of it is installed then).
    public static func decide(_ manifest: FeedManifest, accepted: Int?, installed: [String: String],
                              now: Date, today: LocalDate? = nil) throws(FeedRefusal) -> FeedDecision {
        guard manifest.format == 1 else { throw .unsupportedFormat(manifest.format) }
        if let accepted, manifest.sequence < accepted { throw .rollback(sequence: manifest.sequence, accepted: accepted) }
        guard now < manifest.expires else { throw .expired(expires: manifest.expires) }
        var decision = FeedDecision(toFetch: [], unchanged: [], refused: manifest.undecodable)
        var seenIDs: Set<String> = [], seenPaths: Set<String> = []
        for entry in manifest.segments {
            if let problem = problem(with: entry) {
                decision.refused.append(problem)
            } else if !seenIDs.insert(entry.id).inserted || !seenPaths.insert(entry.path).inserted {
                decision.refused.append(.badEntry(entry: entry.id, reason: "id hoặc đường dẫn “\(entry.path)” lặp lại trong danh mục"))
            } else if let today, let until = entry.validUntil, until < today {
                decision.expired.append(entry)
            } else if installed[entry.id] == entry.sha256 {
                decision.unchanged.append(entry)
            } else {
                decision.toFetch.append(entry)
            }
        }
        return decision
    }

    static func problem(with entry: FeedEntry) -> FeedRefusal? {
        if !isSafe(relativePath: entry.path) { return .unsafePath(entry: entry.id, path: entry.path) }
        if entry.id.isEmpty || entry.id.contains(where: { $0 == "/" || $0.isWhitespace }) {
            return .badEntry(entry: entry.id, reason: "id “\(entry.id)” không hợp lệ")
        }
        if entry.bytes <= 0 { return .badEntry(entry: entry.id, reason: "kích thước \(entry.bytes) byte không hợp lệ") }
        if entry.sha256.count != 64 || !entry.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            return .badEntry(entry: entry.id, reason: "SHA-256 “\(entry.sha256)” không hợp lệ (64 chữ số hex thường)")
        }
        if let from = entry.validFrom, let until = entry.validUntil, until < from {
            return .badEntry(entry: entry.id, reason: "valid_until \(until) trước valid_from \(from)")
        }
        return nil
    }

    /// A path inside the feed: relative, no `.`/`..` or hidden components, no percent-encoding, backslash or
    /// control characters (a server or a file system may read them differently from us).
    public static func isSafe(relativePath path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), path.utf8.count <= 255 * 4 else { return false }
        if path.contains(where: { $0 == "%" || $0 == "\\" || $0 == ":" || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) {
            return false
        }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && !component.hasPrefix(".")
        }
    }
}

/// Which fetched segments past their `valid_until` can lose their files: none that a slot of `today` or the
/// next day still names explicitly (in `play`, `intro` or `outro`); the picks never take them any more.
/// The library keeps their rows, so the log's rows and reports stay whole.
public enum FeedExpiry {
    public static func removable(_ library: [Segment], slots: [Slot], today: LocalDate) -> [Segment] {
        let named = Set(slots.filter { $0.airs(on: today) || $0.airs(on: today.adding(days: 1)) }.flatMap { slot -> [String] in
            var references = [slot.intro, slot.outro].compactMap { $0 }
            if case let .play(list) = slot.content { references += list }
            return references.compactMap { Planner.resolve($0, in: library)?.id }
        })
        return library.filter { segment in
            guard let until = segment.origin?.validUntil else { return false }
            return until < today && !named.contains(segment.id)
        }
    }
}
