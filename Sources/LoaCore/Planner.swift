import Foundation

/// One item the plan will air.
public struct PlannedItem: Sendable, Hashable, Codable {
    public var segment: Segment
    /// Seconds from the slot's start to this item's first sample.
    public var offsetSeconds: Double
    public var startsAt: Date
    public var kind: ItemKind

    public init(segment: Segment, offsetSeconds: Double, startsAt: Date, kind: ItemKind = .segment) {
        self.segment = segment
        self.offsetSeconds = offsetSeconds
        self.startsAt = startsAt
        self.kind = kind
    }

    public var endsAt: Date { startsAt.addingTimeInterval(segment.durationSeconds) }
}

/// Why something the schedule asked for is not in the plan.
public enum DropReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// It would not finish before the slot's end.
    case doesNotFit(segmentID: String, durationSeconds: Double, remainingSeconds: Double)
    /// An explicit entry that names neither a library path nor a segment id.
    case notInLibrary(reference: String)
    /// A pick that found fewer eligible segments than asked.
    case notEnoughSegments(wanted: Int, found: Int)

    /// The reason as the log keeps it: the code and the numbers its sentence reads.
    public var reason: Reason {
        switch self {
        case let .doesNotFit(_, duration, remaining):
            Reason(.planTooLong, ReasonCatalogue.number(duration) + " " + ReasonCatalogue.number(remaining))
        case .notInLibrary: Reason(.planNotInLibrary)
        case let .notEnoughSegments(wanted, found): Reason(.planNotEnough, "\(wanted) \(found)")
        }
    }

    /// The item it names: the segment id or the reference as written; nil for a pick short of segments.
    public var reference: String? {
        switch self {
        case let .doesNotFit(id, _, _): id
        case let .notInLibrary(reference): reference
        case .notEnoughSegments: nil
        }
    }

    /// The sentence, from ``ReasonCatalogue``.
    public var description: String {
        ReasonCatalogue.sentence(reason, ReasonCatalogue.Figures(segment: reference))
    }
}

/// A slot on a given day, with what it will air, in order.
public struct PlannedSlot: Sendable, Hashable, Codable {
    public var slot: Slot
    public var startsAt: Date
    /// The hard end, if the slot has one.
    public var endsAt: Date?
    public var items: [PlannedItem]
    public var dropped: [DropReason]
    /// For a relay slot, what airs while the upstream is not heard, looped in this order.
    public var fallback: [PlannedItem]

    public init(slot: Slot, startsAt: Date, endsAt: Date?, items: [PlannedItem], dropped: [DropReason], fallback: [PlannedItem] = []) {
        self.slot = slot
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.items = items
        self.dropped = dropped
        self.fallback = fallback
    }

    /// When the last item ends (or the slot's start, when it airs nothing).
    public var contentEndsAt: Date { items.last?.endsAt ?? startsAt }
}

/// The whole day's programme.
public struct DayPlan: Sendable, Hashable, Codable {
    public var date: LocalDate
    public var slots: [PlannedSlot]
}

/// Decides what airs when. Pure: everything it knows is passed in.
public struct Planner: Sendable {
    public let calendar: StationCalendar

    public init(calendar: StationCalendar) { self.calendar = calendar }

    /// Slots airing on `date`, in start order.
    public func slots(on date: LocalDate, from slots: [Slot]) -> [Slot] {
        slots.filter { $0.airs(on: date) }.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    /// The day's plan. Picks rotate fairly: each pick takes the least-aired eligible segment,
    /// ties going to the one aired longest ago, and counts what earlier slots of the day will air.
    public func plan(date: LocalDate, slots: [Slot], library: [Segment], history: AiringHistory) -> DayPlan {
        var running = history
        var planned: [PlannedSlot] = []
        for slot in self.slots(on: date, from: slots) {
            let p = plan(slot: slot, startsAt: calendar.instant(date, slot.start), library: library, history: running)
            for item in p.items where item.kind == .segment { running.record(item.segment.id, at: item.startsAt) }
            planned.append(p)
        }
        return DayPlan(date: date, slots: planned)
    }

    /// The plan of one occurrence of a slot.
    public func plan(slot: Slot, startsAt: Date, library: [Segment], history: AiringHistory) -> PlannedSlot {
        let endsAt = slot.lengthSeconds.map { startsAt.addingTimeInterval(Double($0)) }
        let available = slot.lengthSeconds.map(Double.init) ?? .infinity
        var cursor = 0.0
        var items: [PlannedItem] = []
        var dropped: [DropReason] = []
        var fallback: [PlannedItem] = []
        // The jingles frame the items: the intro opens the slot, and room for the outro is kept at its end.
        func jingle(_ reference: String?) -> Segment? {
            guard let reference else { return nil }
            guard let segment = Planner.resolve(reference, in: library) else {
                dropped.append(.notInLibrary(reference: reference))
                return nil
            }
            return segment
        }
        let intro = jingle(slot.intro), outro = jingle(slot.outro)
        let jingles = Set([intro?.id, outro?.id].compactMap { $0 })
        var reserved = outro?.durationSeconds ?? 0
        if let outro, outro.durationSeconds + (intro?.durationSeconds ?? 0) > available + 1e-6 {
            dropped.append(.doesNotFit(segmentID: outro.id, durationSeconds: outro.durationSeconds, remainingSeconds: available))
            reserved = 0
        }

        func fits(_ segment: Segment) -> Bool { cursor + segment.durationSeconds + reserved <= available + 1e-6 }
        func take(_ segment: Segment, as kind: ItemKind = .segment) {
            items.append(PlannedItem(segment: segment, offsetSeconds: cursor, startsAt: startsAt.addingTimeInterval(cursor), kind: kind))
            cursor += segment.durationSeconds
        }
        if let intro {
            if fits(intro) { take(intro, as: .jingle) } else {
                dropped.append(.doesNotFit(segmentID: intro.id, durationSeconds: intro.durationSeconds,
                                           remainingSeconds: max(0, available - reserved)))
            }
        }

        switch slot.content {
        case let .play(references):
            for reference in references {
                guard let segment = Planner.resolve(reference, in: library) else {
                    dropped.append(.notInLibrary(reference: reference))
                    continue
                }
                if fits(segment) {
                    take(segment)
                } else {
                    dropped.append(.doesNotFit(segmentID: segment.id, durationSeconds: segment.durationSeconds,
                                               remainingSeconds: max(0, available - cursor - reserved)))
                }
            }
        case let .pick(pillars, count):
            // A jingle is never picked by rotation, even one filed under a pillar; a fetched segment only
            // within its publisher's dates.
            let date = calendar.localDate(of: startsAt)
            let eligible = library.filter {
                ($0.pillar.map(pillars.contains) ?? false) && !jingles.contains($0.id) && $0.isValid(on: date)
            }
            // A segment whose publisher asked for more airings than it has had is preferred while behind.
            let week = date.adding(days: -(Weekday.allCases.firstIndex(of: date.weekday) ?? 0))
            func behind(_ segment: Segment) -> Bool {
                switch segment.origin?.requested {
                case nil: false
                case let .total(n)?: history[segment.id].count < n
                case let .perWeek(n)?:
                    history[segment.id].recent.filter {
                        let day = calendar.localDate(of: $0)
                        return week <= day && day < week.adding(days: 7)
                    }.count < n
                }
            }
            // Behind its request first; then least aired; then the one aired longest ago; then by id, so the
            // plan is stable. Among equals the rotation stays fair.
            func ranked(_ segments: [Segment]) -> [Segment] {
                // Each segment's keys are computed once and the positions sorted: sorting the segments themselves
                // copied them at every step, most of a year's `loa simulate` (perf, BENCHMARKS.md).
                let keys = segments.map { segment in
                    let entry = history[segment.id]
                    return (behind: behind(segment), count: entry.count, last: entry.lastAiredAt ?? .distantPast, id: segment.id)
                }
                return keys.indices.sorted { a, b in
                    let ka = keys[a], kb = keys[b]
                    if ka.behind != kb.behind { return ka.behind }
                    if ka.count != kb.count { return ka.count < kb.count }
                    if ka.last != kb.last { return ka.last < kb.last }
                    return ka.id < kb.id
                }.map { segments[$0] }
            }
            // One queue per pillar: a slot over several pillars takes them in turn, so a pick of three
            // from three pillars airs one of each rather than three of whichever is least aired.
            // Circular 39's `priority` level: a segment that has not aired yet opens the first slot that admits it.
            let first = eligible.filter { $0.priority == .priority && history[$0.id].count == 0 }.sorted { $0.id < $1.id }
            var taken = [Int](repeating: 0, count: pillars.count)
            // `count` is of segments: the intro already in `items` is not one of them.
            var picked: Int { items.count { $0.kind == .segment } }
            for segment in first where picked < count {
                if fits(segment) {
                    take(segment)
                    if let pillar = segment.pillar, let turn = pillars.firstIndex(of: pillar) { taken[turn] += 1 }
                } else {
                    dropped.append(.doesNotFit(segmentID: segment.id, durationSeconds: segment.durationSeconds,
                                               remainingSeconds: max(0, available - cursor - reserved)))
                }
            }
            let heads = Set(first.map(\.id))
            var queues = pillars.map { pillar in ranked(eligible.filter { $0.pillar == pillar && !heads.contains($0.id) }) }
            while picked < count {
                let open = queues.indices.filter { !queues[$0].isEmpty }
                guard !open.isEmpty else { break }
                // The pillar with the fewest picks in this slot; ties to the one whose next segment is least aired.
                let turn = open.min { a, b in
                    if taken[a] != taken[b] { return taken[a] < taken[b] }
                    let ca = history[queues[a][0].id].count, cb = history[queues[b][0].id].count
                    if ca != cb { return ca < cb }
                    return a < b
                } ?? open[0]
                let segment = queues[turn].removeFirst()
                if fits(segment) {
                    take(segment)
                    taken[turn] += 1
                } else {
                    dropped.append(.doesNotFit(segmentID: segment.id, durationSeconds: segment.durationSeconds,
                                               remainingSeconds: max(0, available - cursor - reserved)))
                }
            }
            if picked < count, eligible.count < count {
                dropped.append(.notEnoughSegments(wanted: count, found: eligible.count))
            }
        case let .relay(spec):
            // The upstream fills the slot between its jingles: it has no length of its own. A slot with no end
            // relays nothing (the validator says so).
            let length = available - cursor - reserved
            if length.isFinite, length > 0 {
                take(Planner.relaySegment(source: spec.source, seconds: length), as: .relay)
            }
            fallback = fallbackItems(spec.fallback, date: calendar.localDate(of: startsAt), jingles: jingles,
                                     library: library, history: history, dropped: &dropped)
        }
        if let outro, reserved > 0 {
            reserved = 0
            take(outro, as: .jingle)
        }
        return PlannedSlot(slot: slot, startsAt: startsAt, endsAt: endsAt, items: items, dropped: dropped, fallback: fallback)
    }

    /// The item a relay row is logged under: the source's name, for the slot's length.
    public static func relaySegment(source: String, seconds: Double) -> Segment {
        Segment(id: relayPrefix + source, title: relayTitle(source), path: "", durationSeconds: seconds, format: "relay")
    }

    private static let relayPrefix = "relay:"

    /// The source a relay item or row stands for, from its segment id (`relay:vov1` → `vov1`); nil for any other id.
    public static func relaySource(ofSegment id: String) -> String? {
        id.hasPrefix(relayPrefix) ? String(id.dropFirst(relayPrefix.count)) : nil
    }

    /// `Tiếp sóng VOV1`: what a relay is called, by its source's label (its name when it has none).
    public static func relayTitle(_ label: String) -> String { "Tiếp sóng \(label)" }

    /// What a relay airs while its upstream is not heard, in the order it loops through them: explicit items as
    /// written; a pillar's segments least-aired first. A segment with no pillar (a jingle) is logged as a jingle.
    private func fallbackItems(_ fallback: RelayFallback, date: LocalDate, jingles: Set<String>, library: [Segment],
                               history: AiringHistory, dropped: inout [DropReason]) -> [PlannedItem] {
        let segments: [Segment]
        switch fallback {
        case .none: segments = []
        case let .play(references):
            segments = references.compactMap { reference in
                guard let segment = Planner.resolve(reference, in: library) else {
                    dropped.append(.notInLibrary(reference: reference))
                    return nil
                }
                return segment
            }
        case let .pick(pillars):
            segments = library.filter {
                ($0.pillar.map(pillars.contains) ?? false) && !jingles.contains($0.id) && $0.isValid(on: date)
            }.sorted { a, b in
                let ea = history[a.id], eb = history[b.id]
                if ea.count != eb.count { return ea.count < eb.count }
                if ea.lastAiredAt != eb.lastAiredAt { return (ea.lastAiredAt ?? .distantPast) < (eb.lastAiredAt ?? .distantPast) }
                return a.id < b.id
            }
        }
        // Their times are set when they air: a fallback has no place in the plan until the upstream is lost.
        return segments.map { PlannedItem(segment: $0, offsetSeconds: 0, startsAt: .distantPast, kind: $0.pillar == nil ? .jingle : .segment) }
    }

    /// The first slot occurrence starting at or after `instant`, looking up to two weeks ahead.
    /// `taken` names the slots already visited at exactly `instant`: two slots that start at the same
    /// second are both visited, in id order.
    public func nextOccurrence(atOrAfter instant: Date, slots: [Slot], taken: Set<String> = []) -> (slot: Slot, startsAt: Date)? {
        let today = calendar.localDate(of: instant)
        for offset in -1...14 {
            let date = today.adding(days: offset)
            for slot in self.slots(on: date, from: slots) {
                let start = calendar.instant(date, slot.start)
                if start > instant || (start == instant && !taken.contains(slot.id)) { return (slot, start) }
            }
        }
        return nil
    }

    /// The occurrence on air at `instant` (started, not yet at its end), if any.
    public func occurrenceInProgress(at instant: Date, slots: [Slot]) -> (slot: Slot, startsAt: Date)? {
        let today = calendar.localDate(of: instant)
        for date in [today.adding(days: -1), today] {
            for slot in self.slots(on: date, from: slots) {
                let start = calendar.instant(date, slot.start)
                guard start < instant, let length = slot.lengthSeconds else { continue }
                if instant < start.addingTimeInterval(Double(length)) { return (slot, start) }
            }
        }
        return nil
    }

    /// A library segment named by `reference`: its id, or its path under the audio folder.
    public static func resolve(_ reference: String, in library: [Segment]) -> Segment? {
        let path = reference.hasPrefix("./") ? String(reference.dropFirst(2)) : reference
        return library.first { $0.id == reference } ?? library.first { $0.path == path }
    }
}

/// `1:05` or `12,3 giây` style durations for people.
public func formatSeconds(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "∞" }
    let total = Int(seconds.rounded())
    if total < 60 { return decimalText(seconds) + " giây" }
    return "\(total / 60):\(pad(total % 60))"
}
