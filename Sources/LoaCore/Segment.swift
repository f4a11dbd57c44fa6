import Foundation

/// A recording in the station's library (bản tin, tin bài).
public struct Segment: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var title: String
    public var pillar: Pillar?
    public var campaign: String?
    /// Path relative to the station's audio folder.
    public var path: String
    public var durationSeconds: Double
    /// Container and codec as libsndfile names them, e.g. `WAV/PCM_16`, `MPEG/MPEG_LAYER_III`.
    public var format: String
    public var sampleRate: Int
    public var channels: Int
    public var sha256: String
    /// Measured when the file entered the library; nil for segments imported before Loa measured loudness.
    public var loudness: Loudness?
    /// The playout copy (the audio at the output rate as 16-bit WAV, made at import), relative to the audio
    /// folder; nil for segments imported before Loa made copies. Playout reads it; ``path`` stays the reference.
    public var playoutPath: String?
    /// Where a segment fetched from an upstream feed came from, and what its publisher asked; nil for one
    /// imported by hand.
    public var origin: FeedOrigin?

    /// Below this a file is (almost) nothing a listener could hear: it is not imported, and an airing of it is no
    /// airing (``AiringRecord/countedOutcome``). A 1,000-byte piece of an MP3 decodes to about 0.05 s.
    public static let minimumSeconds = 0.1

    /// The Circular 39 level: a segment imported by hand is `normal`.
    public var priority: Priority { origin?.priority ?? .normal }

    /// Whether rotation may pick it on `day`: a fetched segment only within its publisher's dates.
    public func isValid(on day: LocalDate) -> Bool { origin?.isValid(on: day) ?? true }

    public init(
        id: String, title: String, pillar: Pillar? = nil, campaign: String? = nil, path: String,
        durationSeconds: Double, format: String = "", sampleRate: Int = 48000, channels: Int = 1, sha256: String = "",
        loudness: Loudness? = nil, playoutPath: String? = nil, origin: FeedOrigin? = nil
    ) {
        self.id = id
        self.title = title
        self.pillar = pillar
        self.campaign = campaign
        self.path = path
        self.durationSeconds = durationSeconds
        self.format = format
        self.sampleRate = sampleRate
        self.channels = channels
        self.sha256 = sha256
        self.loudness = loudness
        self.playoutPath = playoutPath
        self.origin = origin
    }

    /// An ASCII slug for ids, made from a title or file name: `Bản tin RCEP` → `ban-tin-rcep`.
    public static func slug(_ text: String) -> String {
        let folded = text.replacingOccurrences(of: "đ", with: "d").replacingOccurrences(of: "Đ", with: "D")
            .folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            .lowercased()
        var out = ""
        for scalar in folded.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty, !out.hasSuffix("-") {
                out.append("-")
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "segment" : out
    }
}

/// A fetched segment's provenance and its publisher's terms.
public struct FeedOrigin: Sendable, Hashable, Codable {
    /// The `[[feed]]` name in `loa.toml`.
    public var feed: String
    /// The entry's id in that feed's manifest.
    public var entry: String
    public var category: String?
    public var priority: Priority
    public var validFrom: LocalDate?
    public var validUntil: LocalDate?
    public var requested: RequestedAirings?

    public init(feed: String, entry: String, category: String? = nil, priority: Priority = .normal,
                validFrom: LocalDate? = nil, validUntil: LocalDate? = nil, requested: RequestedAirings? = nil) {
        self.feed = feed
        self.entry = entry
        self.category = category
        self.priority = priority
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.requested = requested
    }

    public init(feed: String, _ entry: FeedEntry) {
        self.init(feed: feed, entry: entry.id, category: entry.category, priority: entry.priority,
                  validFrom: entry.validFrom, validUntil: entry.validUntil, requested: entry.requested)
    }

    /// Whether the segment may air on `day` (its publisher's valid_from … valid_until).
    public func isValid(on day: LocalDate) -> Bool {
        (validFrom.map { $0 <= day } ?? true) && (validUntil.map { day <= $0 } ?? true)
    }
}

/// How often, and when last, each segment has aired: the input to fair rotation.
public struct AiringHistory: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var count: Int
        public var lastAiredAt: Date?
        /// When it aired lately (the log's last weeks), for requests counted per week.
        public var recent: [Date]

        public init(count: Int = 0, lastAiredAt: Date? = nil, recent: [Date] = []) {
            self.count = count
            self.lastAiredAt = lastAiredAt
            self.recent = recent
        }
    }

    public var entries: [String: Entry]

    public init(_ entries: [String: Entry] = [:]) { self.entries = entries }

    public subscript(segmentID: String) -> Entry { entries[segmentID] ?? Entry() }

    public mutating func record(_ segmentID: String, at instant: Date) {
        var entry = self[segmentID]
        entry.count += 1
        entry.recent.append(instant)
        if entry.lastAiredAt.map({ $0 < instant }) ?? true { entry.lastAiredAt = instant }
        entries[segmentID] = entry
    }
}

/// Whether a title, campaign or category can stand in a table cell, a log line and a CSV field as written: not
/// blank, and no line break, tab or other control character.
public func isOneLineText(_ text: String) -> Bool {
    !text.trimmingCharacters(in: .whitespaces).isEmpty && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
}
