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

    /// How many of a slot's overlapping neighbours its problem names; the others are counted.
    public static let namedNeighbours = 3

    /// What each entry names.
    public var entryState: @Sendable (String) -> EntryState
    /// The names of `loa.toml`'s `[[source]]`s, in the order written: what a slot may relay.
    public var sources: [String]

    public init(sources: [String] = [], entryState: @escaping @Sendable (String) -> EntryState) {
        self.entryState = entryState
        self.sources = sources
    }

    /// An entry airs when `entryExists` says so, and is missing otherwise.
    public init(sources: [String] = [], entryExists: @escaping @Sendable (String) -> Bool) {
        self.init(sources: sources, entryState: { entryExists($0) ? .airable : .missing })
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
            switch slot.content {
            case let .play(entries): references += entries.map { ("play", $0) }
            case let .relay(spec):
                if !sources.contains(spec.source) { problems.append(Diagnostic(slot.location(of: "relay"), unknownSource(spec.source))) }
                if case let .play(entries) = spec.fallback { references += entries.map { ("fallback", $0) } }
            case .pick: break
            }
            references += [("intro", slot.intro), ("outro", slot.outro)].compactMap { key, entry in entry.map { (key, $0) } }
            for (key, entry) in references {
                switch entryState(entry) {
                case .airable: break
                case let .notImported(file):
                    problems.append(Diagnostic(slot.location(of: key),
                        "tệp “\(entry)” có trong thư mục audio nhưng chưa nhập vào thư viện, nên không phát được: chạy `loa segment add \(ScheduleValidator.shellWord(file)) --title \"…\"`"))
                case .missing:
                    problems.append(Diagnostic(slot.location(of: key),
                                               "không tìm thấy tệp “\(entry)” trong thư mục audio, cũng không có bản tin mã này trong thư viện"))
                }
            }
        }
        problems += ScheduleValidator.overlaps(slots)
        return problems.sorted { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) }
    }

    /// `nguồn tiếp sóng “vov2” không có trong loa.toml (các nguồn có: vov1, tinh)`.
    func unknownSource(_ name: String) -> String {
        "nguồn tiếp sóng “\(name)” không có trong loa.toml "
            + (sources.isEmpty ? "(loa.toml chưa khai báo nguồn nào: thêm một bảng [[source]] có name = \"\(name)\")"
                : "(các nguồn có: \(sources.joined(separator: ", ")))")
    }

    /// What is allowed but most likely not meant, in file and line order: a relay slot with nothing to air while its
    /// upstream cannot be heard (dead air until it returns). Not problems: `validate` passes them, and an edit is not
    /// refused for them.
    public static func warnings(_ slots: [Slot]) -> [Diagnostic] {
        slots.compactMap { slot -> Diagnostic? in
            guard case let .relay(spec) = slot.content, spec.fallback == .none else { return nil }
            return Diagnostic(slot.location(of: "relay"),
                              "khung giờ tiếp sóng “\(slot.id)” không có “fallback” hay “fallback_pillar”: khi mất nguồn “\(spec.source)” "
                              + "loa sẽ im lặng cho đến khi nguồn có tiếng lại")
        }.sorted { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) }
    }

    /// One problem per slot that is on air with another at some moment, at the slot's header: it names the
    /// ``namedNeighbours`` nearest in start time and counts the rest. Not one per pair: N slots that all overlap
    /// give N lines, not N².
    ///
    /// Slots that air on the same days and dates form a group; any two groups either share a day or never meet, so
    /// overlaps are counted group against group on start-sorted times: `O(N · G · log N)` for N slots in G groups
    /// (G is the number of distinct `days`/`from`/`until` combinations, a handful in a real schedule), in memory
    /// that grows like N.
    static func overlaps(_ slots: [Slot]) -> [Diagnostic] {
        // A disabled slot airs on no day, so it meets nothing; enabling it again is checked then.
        let airing = slots.filter(\.enabled)
        var groupOf: [AiringDays: Int] = [:]
        var members: [[Int]] = []
        for (i, slot) in airing.enumerated() {
            let key = AiringDays(slot)
            if let g = groupOf[key] { members[g].append(i) } else {
                groupOf[key] = members.count
                members.append([i])
            }
        }
        let groups = members.map { TimeLine(airing, $0) }
        // Which groups share a day: a group whose dates hold none of its days meets nothing, not even itself.
        let meets: [[Int]] = groups.indices.map { g in
            groups.indices.filter { h in daysMeet(airing[members[g][0]], airing[members[h][0]]) }
        }
        var problems: [Diagnostic] = []
        for (g, group) in groups.enumerated() {
            for i in group.order {
                let slot = airing[i], span = TimeLine.span(slot)
                var count = 0
                var near: [(distance: Int, index: Int)] = []
                for h in meets[g] {
                    count += groups[h].countMeeting(span) - (h == g ? 1 : 0)
                    near += groups[h].nearest(span, limit: namedNeighbours + 1).filter { $0 != i }
                        .map { (abs(airing[$0].start.secondsSinceMidnight - span.start), $0) }
                }
                guard count > 0 else { continue }
                let named = near.sorted { ($0.distance, airing[$0.index].source.file, airing[$0.index].source.line)
                    < ($1.distance, airing[$1.index].source.file, airing[$1.index].source.line) }
                    .prefix(namedNeighbours).map { airing[$0.index] }
                let others = count - named.count
                let list = named.map { "“\($0.id)” (\(Self.span($0))) ở \($0.source)" }.joined(separator: ", ")
                problems.append(Diagnostic(slot.source, "khung giờ “\(slot.id)” (\(Self.span(slot))) trùng với \(list)"
                                           + (others > 0 ? " và \(others) khung giờ khác" : ""),
                                           tally: Diagnostic.Tally(subject: "trùng: \(slot.source.file) \(slot.id)", count: count)))
            }
        }
        return problems
    }

    /// `path` as one word for a shell: quoted when it holds anything but letters, digits and `/._-+,:@`.
    static func shellWord(_ path: String) -> String {
        let plain = path.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil || "/._-+,:@".unicodeScalars.contains($0) }
        return plain ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
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
        return timesMeet && daysMeet(a, b)
    }

    /// Whether two slots air on a common date: their dates meet on a day of the week both air on.
    static func daysMeet(_ a: Slot, _ b: Slot) -> Bool {
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

/// What decides on which dates a slot airs: slots alike in it meet on the same days.
private struct AiringDays: Hashable {
    let days: DaySet
    let from: LocalDate?
    let until: LocalDate?

    init(_ slot: Slot) {
        days = slot.days
        from = slot.from
        until = slot.until
    }
}

/// The slots of one group as time intervals, sorted for counting and finding the ones on air in a span.
private struct TimeLine {
    /// On air from `start` up to, not including, `end`, in seconds since midnight. A slot without an end is the
    /// instant at its start, one second long here: it meets a slot running then or starting at the same second.
    struct Span {
        let start: Int
        let end: Int
    }

    static func span(_ slot: Slot) -> Span {
        let start = slot.start.secondsSinceMidnight
        return Span(start: start, end: max(slot.end?.secondsSinceMidnight ?? start, start + 1))
    }

    /// Indices into the airing slots, by start.
    let order: [Int]
    let starts: [Int]
    /// The ends, sorted on their own.
    let ends: [Int]
    /// The largest end over ranges of `order`, to find the slots that started before a time and run past it.
    let latestEnd: MaxTree

    init(_ slots: [Slot], _ indices: [Int]) {
        let spans = indices.map { (index: $0, span: TimeLine.span(slots[$0])) }.sorted { $0.span.start < $1.span.start }
        order = spans.map(\.index)
        starts = spans.map(\.span.start)
        ends = spans.map(\.span.end).sorted()
        latestEnd = MaxTree(spans.map(\.span.end))
    }

    /// How many of the group are on air at some moment of `span` (a slot of the group itself included).
    func countMeeting(_ span: Span) -> Int {
        // Those starting before the span ends, less those that ended by its start (which all started before it).
        TimeLine.firstIndex(in: starts, notBelow: span.end) - TimeLine.firstIndex(in: ends, notBelow: span.start + 1)
    }

    /// Up to `limit` slots on air in `span` that start at or after it, and up to `limit` that started before and
    /// still run: the nearest in start time on both sides.
    func nearest(_ span: Span, limit: Int) -> [Int] {
        let first = TimeLine.firstIndex(in: starts, notBelow: span.start)
        var found: [Int] = []
        var i = first
        while i < starts.count, starts[i] < span.end, found.count < limit {
            found.append(order[i])
            i += 1
        }
        var earlier = 0, below = first
        while earlier < limit, let j = latestEnd.lastIndex(below: below, above: span.start) {
            found.append(order[j])
            earlier += 1
            below = j
        }
        return found
    }

    /// The first index of sorted `values` holding `value` or more (`values.count` when none does).
    static func firstIndex(in values: [Int], notBelow value: Int) -> Int {
        var low = 0, high = values.count
        while low < high {
            let middle = (low + high) / 2
            if values[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// The maxima of a list over ranges, as a segment tree: finds the last position before one whose value is above a
/// threshold in `O(log n)`, where a scan could pass every slot that has ended.
private struct MaxTree {
    private let leaves: Int
    private var nodes: [Int]

    init(_ values: [Int]) {
        var leaves = 1
        while leaves < values.count { leaves *= 2 }
        self.leaves = leaves
        nodes = [Int](repeating: Int.min, count: 2 * leaves)
        for (i, value) in values.enumerated() { nodes[leaves + i] = value }
        for node in stride(from: leaves - 1, through: 1, by: -1) { nodes[node] = max(nodes[2 * node], nodes[2 * node + 1]) }
    }

    /// The largest position below `limit` whose value is above `threshold`, or nil.
    func lastIndex(below limit: Int, above threshold: Int) -> Int? {
        search(node: 1, low: 0, high: leaves, limit: limit, threshold: threshold)
    }

    /// The node covers positions `low..<high`.
    private func search(node: Int, low: Int, high: Int, limit: Int, threshold: Int) -> Int? {
        guard low < limit, nodes[node] > threshold else { return nil }
        if high - low == 1 { return low }
        let middle = (low + high) / 2
        return search(node: 2 * node + 1, low: middle, high: high, limit: limit, threshold: threshold)
            ?? search(node: 2 * node, low: low, high: middle, limit: limit, threshold: threshold)
    }
}
