import Foundation

/// Where something was written: a file, a 1-based line, and for a syntax error the 1-based column.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int?

    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line`, or `file:line:column`, as editors jump to it.
    public var description: String { column.map { "\(file):\(line):\($0)" } ?? "\(file):\(line)" }
}

/// What a slot airs: an explicit list, or a fair pick from the library.
public enum SlotContent: Sendable, Hashable, Codable {
    /// Paths under the audio folder, or segment ids, aired in this order.
    case play([String])
    /// `count` segments drawn from these pillars, least-aired first.
    case pick(pillars: [Pillar], count: Int)
    /// A live upstream relayed for the slot's whole length (between its jingles), with what airs when it cannot be heard.
    case relay(RelaySpec)
}

/// A broadcast slot (khung giờ phát) as declared in a schedule file.
public struct Slot: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var start: TimeOfDay
    /// The hard end; nil means the slot lasts as long as its items.
    public var end: TimeOfDay?
    public var days: DaySet
    public var from: LocalDate?
    public var until: LocalDate?
    public var content: SlotContent
    /// A jingle aired before the items (path under audio/ or segment id).
    public var intro: String?
    /// A jingle aired after the items.
    public var outro: String?
    /// What happens when the slot is already running when Loa can air it.
    public var late: LatenessPolicy
    /// False when the schedule says `enabled = false` (`loa schedule disable`): the slot stays written but airs on no day.
    public var enabled: Bool
    /// Where the slot's `[[slot]]` header is.
    public var source: SourceLocation
    /// The line of each key inside the slot's table, for pointing at a bad value.
    public var keyLines: [String: Int]

    public init(
        id: String, start: TimeOfDay, end: TimeOfDay? = nil, days: DaySet = .daily,
        from: LocalDate? = nil, until: LocalDate? = nil, content: SlotContent,
        intro: String? = nil, outro: String? = nil, late: LatenessPolicy = .join, enabled: Bool = true,
        source: SourceLocation = SourceLocation(file: "<memory>", line: 1), keyLines: [String: Int] = [:]
    ) {
        self.keyLines = keyLines
        self.id = id
        self.start = start
        self.end = end
        self.days = days
        self.from = from
        self.until = until
        self.content = content
        self.intro = intro
        self.outro = outro
        self.late = late
        self.enabled = enabled
        self.source = source
    }

    /// Where `key` was written, or the slot's header when it was not.
    public func location(of key: String) -> SourceLocation {
        SourceLocation(file: source.file, line: keyLines[key] ?? source.line)
    }

    /// Whether the slot airs on `date`.
    public func airs(on date: LocalDate) -> Bool {
        guard enabled else { return false }
        if let from, date < from { return false }
        if let until, date > until { return false }
        return days.contains(date.weekday)
    }

    /// The slot's length in seconds, when it has an end.
    public var lengthSeconds: Int? {
        end.map { $0.secondsSinceMidnight - start.secondsSinceMidnight }
    }
}

/// What the daemon does with an occurrence that is already running when it can air it: it (re)started
/// inside the slot, or the sound device came back mid-slot.
public enum LatenessPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Enter at the wall-clock point, mid-item, as if the outage had not stopped the clock.
    case join
    /// Drop the item on the clock; go on from the next item boundary, on its planned second.
    case next
    /// Air nothing more of this occurrence; log the rest skipped.
    case skip
    /// Air every item not yet aired, back to back from now, if they all still fit before the hard end.
    case whole

    /// The names, for help texts and errors.
    public static var nameList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public var label: String {
        switch self {
        case .join: "vào giữa theo giờ"
        case .next: "vào từ mục kế tiếp"
        case .skip: "bỏ phần còn lại"
        case .whole: "phát trọn muộn"
        }
    }
}
