import Foundation

/// What is known of one planned item when an occurrence is entered: from the log after a (re)start,
/// from the engine when the sound device comes back.
public enum ItemProgress: Sendable, Hashable {
    /// Planned and never started.
    case pending
    /// On air when the device was lost; `heardSeconds` of it were heard.
    case onAir(heardSeconds: Double)
    /// Its row is final: it is never aired again.
    case closed
}

/// Why an item is not (or no longer) aired when an occurrence is entered late.
public enum EntryDropReason: Sendable, Hashable, CustomStringConvertible {
    /// Its whole time had passed.
    case passed(LatenessPolicy)
    /// It was on the clock, and the policy does not enter mid-item.
    case onTheClock(LatenessPolicy)
    /// The policy drops the rest of a late occurrence.
    case policySkip
    /// `whole` could not fit the remaining items before the hard end.
    case wouldNotFit(neededSeconds: Double, leftSeconds: Double)

    /// The reason as the log keeps it.
    public var reason: Reason {
        switch self {
        case .passed: Reason(.latePassed)
        case .onTheClock: Reason(.lateOnTheClock)
        case .policySkip: Reason(.latePolicySkip)
        case let .wouldNotFit(needed, left): ReasonCatalogue.wouldNotFit(neededSeconds: needed, leftSeconds: left)
        }
    }

    /// The policy that decided it.
    public var policy: LatenessPolicy {
        switch self {
        case let .passed(policy), let .onTheClock(policy): policy
        case .policySkip: .skip
        case .wouldNotFit: .whole
        }
    }

    /// The sentence, from ``ReasonCatalogue``.
    public var description: String {
        ReasonCatalogue.sentence(reason, ReasonCatalogue.Figures(policy: policy))
    }
}

/// What to do with one planned item when an occurrence is entered.
public enum EntryAction: Sendable, Hashable {
    /// Air it with its first sample (`fromSeconds` into the file) heard at `at`.
    case air(at: Date, fromSeconds: Double)
    /// Do not air it (any more): a pending item is logged skipped, an item on air interrupted.
    case drop(EntryDropReason)
    /// Its row is already final.
    case keep
}

/// The lateness decision, pure: given the plan of an occurrence, what is known of each item, the hard end,
/// the time and the slot's policy, where the occurrence is entered. The same rule acts when the daemon
/// (re)starts inside a slot and when the sound device comes back mid-slot.
public enum OccurrenceEntry {
    /// An entry this close to an item's planned start is on time: the device's own placement jitter.
    public static let onTimeTolerance = 0.02

    public static func decide(items: [PlannedItem], progress: [ItemProgress], hardEnd: Date?, now: Date,
                              policy: LatenessPolicy) -> [EntryAction] {
        let open = items.indices.filter { progress[$0] != .closed }
        guard let first = open.first else { return items.map { _ in .keep } }
        var actions = [EntryAction](repeating: .keep, count: items.count)
        let late = now.timeIntervalSince(items[first].startsAt) > onTimeTolerance || progress[first] != .pending
        guard late else {
            for i in open { actions[i] = .air(at: items[i].startsAt, fromSeconds: 0) }
            return actions
        }
        switch policy {
        case .join, .next:
            for i in open {
                let item = items[i]
                if now >= item.endsAt.addingTimeInterval(-onTimeTolerance) {
                    actions[i] = .drop(.passed(policy))
                } else if now > item.startsAt.addingTimeInterval(onTimeTolerance) {
                    // On the clock: join enters it where the clock is; next waits for the boundary.
                    actions[i] = policy == .join ? .air(at: now, fromSeconds: now.timeIntervalSince(item.startsAt))
                        : .drop(.onTheClock(policy))
                } else {
                    actions[i] = .air(at: item.startsAt, fromSeconds: 0)
                }
            }
        case .skip:
            for i in open { actions[i] = .drop(.policySkip) }
        case .whole:
            // An item cut short by a lost device starts again from its beginning: it was not heard whole.
            let needed = open.reduce(0) { $0 + items[$1].segment.durationSeconds }
            let left = hardEnd.map { $0.timeIntervalSince(now) } ?? .infinity
            if needed > left + onTimeTolerance {
                for i in open { actions[i] = .drop(.wouldNotFit(neededSeconds: needed, leftSeconds: max(0, left))) }
            } else {
                var cursor = now
                for i in open {
                    actions[i] = .air(at: cursor, fromSeconds: 0)
                    cursor = cursor.addingTimeInterval(items[i].segment.durationSeconds)
                }
            }
        }
        return actions
    }
}
