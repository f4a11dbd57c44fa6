/// Checks that need all schedule files at once: duplicate ids, overlaps, content that cannot be found.
public struct ScheduleValidator: Sendable {
    /// What a `play`, `intro` or `outro` entry names.
    public enum EntryState: Sendable, Equatable {
        /// A segment of the library, by id or by path: it airs.
        case airable
        /// A file under audio/ that was never imported: playout would log it `failed`. `file` is its path, as
        /// `loa segment add` takes it.
        case notImported(file: String)
        /// Neither a segment nor a file.
        case missing
    }

    /// What each entry names.
    public var entryState: @Sendable (String) -> EntryState

    public init(entryState: @escaping @Sendable (String) -> EntryState) { self.entryState = entryState }

    /// An entry airs when `entryExists` says so, and is missing otherwise.
    public init(entryExists: @escaping @Sendable (String) -> Bool) {
        self.entryState = { entryExists($0) ? .airable : .missing }
    }

    public func validate(_ slots: [Slot]) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var seen: [String: Slot] = [:]
        for slot in slots {
            if let first = seen[slot.id] {
                problems.append(Diagnostic(slot.location(of: "id"), "mã khung giờ “\(slot.id)” đã dùng ở \(first.source)"))
            } else {
                seen[slot.id] = slot
            }
            var references: [(key: String, entry: String)] = []
            if case let .play(entries) = slot.content { references += entries.map { ("play", $0) } }
            references += [("intro", slot.intro), ("outro", slot.outro)].compactMap { key, entry in entry.map { (key, $0) } }
            for (key, entry) in references {
                switch entryState(entry) {
                case .airable: break
                case let .notImported(file):
                    problems.append(Diagnostic(slot.location(of: key),
                        "tệp “\(entry)” có trong thư mục audio nhưng chưa nhập vào thư viện, nên không phát được: chạy `loa segment add \(file) --title \"…\"`"))
                case .missing:
                    problems.append(Diagnostic(slot.location(of: key),
                                               "không tìm thấy tệp “\(entry)” trong thư mục audio, cũng không có bản tin mã này trong thư viện"))
                }
            }
        }
        for (i, later) in slots.enumerated() {
            // A disabled slot airs on no day, so it meets nothing; enabling it again is checked then.
            for earlier in slots[..<i] where earlier.enabled && later.enabled && ScheduleValidator.overlap(earlier, later) {
                problems.append(Diagnostic(later.source,
                    "khung giờ “\(later.id)” (\(ScheduleValidator.span(later))) trùng với “\(earlier.id)” (\(ScheduleValidator.span(earlier))) ở \(earlier.source)"))
            }
        }
        return problems.sorted { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) }
    }

    static func span(_ slot: Slot) -> String {
        slot.end.map { "\(slot.start)–\($0)" } ?? "\(slot.start)"
    }

    /// Whether two slots could be on air at the same moment on some day.
    public static func overlap(_ a: Slot, _ b: Slot) -> Bool {
        let aStart = a.start.secondsSinceMidnight, bStart = b.start.secondsSinceMidnight
        // A slot without an end is treated as an instant at its start.
        let aEnd = a.end?.secondsSinceMidnight ?? aStart, bEnd = b.end?.secondsSinceMidnight ?? bStart
        let timesMeet = aStart == bStart || (aStart < bEnd && bStart < aEnd)
        guard timesMeet else { return false }
        let from = [a.from, b.from].compactMap { $0 }.max()
        let until = [a.until, b.until].compactMap { $0 }.min()
        if let from, let until {
            guard from <= until else { return false }
            if until.dayNumber - from.dayNumber < 7 {
                var day = from
                while day <= until {
                    if a.days.contains(day.weekday) && b.days.contains(day.weekday) { return true }
                    day = day.adding(days: 1)
                }
                return false
            }
        }
        return !a.days.days.isDisjoint(with: b.days.days)
    }
}
