import Foundation

/// What became of an airing (lượt phát).
public enum AiringOutcome: String, Sendable, Codable, CaseIterable {
    /// Written before the first sample; replaced when the airing ends.
    case started
    case completed
    /// Cut at the slot's hard end.
    case truncated
    /// Stopped early: the daemon was told to stop, or it died mid-item.
    case interrupted
    /// Nothing or not all of it could be aired: device or decoding error.
    case failed
    /// Deliberately not aired, e.g. the slot had already begun when the daemon started.
    case skipped

    /// The outcomes that mean listeners heard the item: they count as airings in reports and in rotation.
    public static let heard: Set<AiringOutcome> = [.completed, .truncated]

    public var label: String {
        switch self {
        case .started: "đang phát"
        case .completed: "phát xong"
        case .truncated: "bị cắt"
        case .interrupted: "bị ngắt"
        case .failed: "lỗi"
        case .skipped: "bỏ qua"
        }
    }
}

/// One row of the airing log.
public struct AiringRecord: Sendable, Hashable, Codable {
    public var id: Int64?
    public var slot: String
    /// When the slot occurrence started: with `slot`, identifies the occurrence.
    public var slotStartsAt: Date
    public var segmentID: String
    public var title: String
    public var pillar: Pillar?
    public var campaign: String?
    public var path: String
    /// When the plan wanted the first sample heard.
    public var scheduledAt: Date
    /// When the first sample was (predicted to be) heard.
    public var startedAt: Date?
    public var endedAt: Date?
    public var airedSeconds: Double
    public var outcome: AiringOutcome
    /// Why, for anything but `completed`: an ALSA error, a decoding error, a policy.
    public var reason: String?
    public var device: String?

    public init(
        id: Int64? = nil, slot: String, slotStartsAt: Date, segmentID: String, title: String,
        pillar: Pillar? = nil, campaign: String? = nil, path: String, scheduledAt: Date,
        startedAt: Date? = nil, endedAt: Date? = nil, airedSeconds: Double = 0,
        outcome: AiringOutcome, reason: String? = nil, device: String? = nil
    ) {
        self.id = id
        self.slot = slot
        self.slotStartsAt = slotStartsAt
        self.segmentID = segmentID
        self.title = title
        self.pillar = pillar
        self.campaign = campaign
        self.path = path
        self.scheduledAt = scheduledAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.airedSeconds = airedSeconds
        self.outcome = outcome
        self.reason = reason
        self.device = device
    }

    /// A row for a planned item: `started` before its first sample, or a final outcome for one that never started.
    public init(planned item: PlannedItem, in slot: PlannedSlot, startedAt: Date? = nil, airedSeconds: Double = 0,
                outcome: AiringOutcome = .started, reason: String? = nil, device: String?) {
        self.init(
            slot: slot.slot.id, slotStartsAt: slot.startsAt, segmentID: item.segment.id, title: item.segment.title,
            pillar: item.segment.pillar, campaign: item.segment.campaign, path: item.segment.path,
            scheduledAt: item.startsAt, startedAt: startedAt, airedSeconds: airedSeconds, outcome: outcome, reason: reason,
            device: device)
    }

    /// Heard start minus planned start, in milliseconds.
    public var onsetErrorMilliseconds: Double? {
        startedAt.map { ($0.timeIntervalSince(scheduledAt) * 1000).rounded() }
    }
}
