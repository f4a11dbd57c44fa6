import LoaAudio
import LoaCore

/// The engine's result for an item as the log keeps it: an outcome and a reason code. The engine still words its
/// results as sentences; until it reports codes itself (issue 22: the pure step that decides), they are read back
/// into codes here, by comparing them with the catalogue's sentences. Delete this file when the engine hands codes.
extension ItemResult {
    /// The outcome and the reason of the row. `policy` is the slot's, `airedSeconds` what was heard (a cut file's
    /// length as far as it decoded).
    func logged(policy: LatenessPolicy, airedSeconds: Double) -> (AiringOutcome, Reason?) {
        switch self {
        case .completed:
            return (.completed, nil)
        case let .truncated(text):
            return (.truncated, Self.matching(text, policy, [Reason(.cutHardEnd)]) ?? Reason(.lateJoined))
        case let .interrupted(text):
            let reason = Self.matching(text, policy, [Reason(.stopped)] + Self.entryDrops)
                ?? Self.matching(text, policy, [Reason(.preemptedEmergency, Self.quoted(text)),
                                                Reason(.preemptedAnnouncement, Self.quoted(text))])
                // What else gives way mid-item is a program aired at once: `loa announce` or an emergency.
                ?? Reason(.preemptedAnnouncement, Self.quoted(text))
            return (.interrupted, reason)
        case let .skipped(text):
            return (.skipped, Self.matching(text, policy, [Reason(.stoppedBeforeStart)] + Self.entryDrops)
                        ?? Reason(.droppedWouldNotFit))
        case let .failed(text):
            // The device's and the decoder's own words (AudioError) are the detail; a short or empty file says how
            // much of it was heard.
            let decoded = ReasonCatalogue.number(airedSeconds)
            let reason: Reason
            if Self.matches(text, Reason(.fileShort, decoded)) {
                reason = Reason(.fileShort, decoded)
            } else if Self.matches(text, Reason(.fileEmpty, decoded)) {
                reason = Reason(.fileEmpty, decoded)
            } else if text.hasSuffix("(treo)") {
                reason = Reason(.deviceStalled, text)
            } else if text.hasPrefix("thiết bị âm thanh") {
                reason = Reason(.deviceLost, text)
            } else {
                reason = Reason(.fileUnreadable, text)
            }
            return (.failed, reason)
        }
    }

    /// What `OccurrenceEntry` drops an item for (the numbers of `dropped.would_not_fit` are not kept).
    private static let entryDrops = [Reason(.latePassed), Reason(.lateOnTheClock), Reason(.latePolicySkip), Reason(.droppedWouldNotFit)]

    /// The first of `reasons` whose sentence, under any policy, is `text`.
    private static func matching(_ text: String, _ policy: LatenessPolicy, _ reasons: [Reason]) -> Reason? {
        reasons.first { reason in
            ([policy] + LatenessPolicy.allCases).contains { ReasonCatalogue.sentence(reason, ReasonCatalogue.Figures(policy: $0)) == text }
                // `whole` with the seconds needed and left, which the sentence rounds.
                || reason.code == .droppedWouldNotFit && matches(text, ReasonCatalogue.wouldNotFit(neededSeconds: 0, leftSeconds: 0))
        }
    }

    /// Whether `reason`'s sentence, for any file, begins as `text` does up to its numbers.
    private static func matches(_ text: String, _ reason: Reason) -> Bool {
        let sentence = ReasonCatalogue.sentence(reason, ReasonCatalogue.Figures())
        let words = sentence.prefix { !$0.isNumber }
        return !words.isEmpty && text.contains(words)
    }

    /// The title between the last pair of Vietnamese quotes, nil without one.
    private static func quoted(_ text: String) -> String? {
        guard let close = text.lastIndex(of: "”"), let open = text[..<close].lastIndex(of: "“") else { return nil }
        return String(text[text.index(after: open)..<close])
    }
}
