import Foundation

/// What became of an airing (lượt phát).
public enum AiringOutcome: String, Sendable, Codable, CaseIterable {
    /// Written for every item of an occurrence before the occurrence airs: the stored plan.
    case planned
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

    /// Whether the row is closed: nothing more will be aired for it.
    public var isFinal: Bool { self != .planned && self != .started }

    public var label: String {
        switch self {
        case .planned: "chờ phát"
        case .started: "đang phát"
        case .completed: "phát xong"
        case .truncated: "bị cắt"
        case .interrupted: "bị ngắt"
        case .failed: "lỗi"
        case .skipped: "bỏ qua"
        }
    }
}

/// What a row of the log is: a segment of the library, a jingle around a slot, or an announcement.
public enum ItemKind: String, Sendable, Codable, CaseIterable, Hashable {
    case segment
    /// An intro or outro (nhạc hiệu): never counted as an airing of a segment, never picked by rotation.
    case jingle
    /// Aired at once above any slot (`loa announce`).
    case announcement
    /// A verified `emergency` segment from a feed, aired at once above any slot (Circular 39's highest level).
    case emergency
    /// A live upstream relayed (tiếp sóng): its row counts the seconds the upstream was heard; what aired while it
    /// was not (the fallback) has rows of its own, kind `segment` or `jingle`, with the reason of the loss.
    case relay

    public var label: String {
        switch self {
        case .segment: "bản tin"
        case .jingle: "nhạc hiệu"
        case .announcement: "thông báo"
        case .emergency: "khẩn cấp"
        case .relay: "tiếp sóng"
        }
    }

    /// Aired at once above any slot, on request: there is no slot time to be late for and no lateness policy.
    public var airsNow: Bool { self == .announcement || self == .emergency }
}

/// What the monitor input (a line-in wired to the amplifier's output) heard while an item aired.
public enum OnAirConfirmation: String, Sendable, Codable, CaseIterable, Hashable {
    /// Sound was present on the line for the item.
    case heard
    /// The line stayed silent while the item aired: the loudspeakers were likely not sounding.
    case silent

    public var label: String {
        switch self {
        case .heard: "nghe thấy"
        case .silent: "im lặng"
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
    /// SHA-256 of the file aired, so a report stays whole after the segment's file is gone; nil for an announcement.
    public var sha256: String?
    /// The publisher's category (lĩnh vực), for a segment that came from a feed.
    public var category: String?
    /// The feed the segment came from; nil for one imported by hand.
    public var feed: String?
    /// When the plan wanted the first sample heard.
    public var scheduledAt: Date
    /// The length the plan counted on: with `scheduledAt`, the item's place in the stored plan.
    public var plannedSeconds: Double
    /// When the first sample was heard, from the device's delay when it was written.
    public var startedAt: Date?
    public var endedAt: Date?
    public var airedSeconds: Double
    /// The outcome reports count: a `completed` row of which less than ``Segment/minimumSeconds`` was heard (a
    /// near-empty file imported before Loa refused them) aired nothing, so it is counted as `failed`, never as an
    /// airing of 0:00:00.
    public var countedOutcome: AiringOutcome {
        outcome == .completed && airedSeconds < Segment.minimumSeconds ? .failed : outcome
    }
    public var outcome: AiringOutcome
    /// For a row with a ``reasonCode``, what only this row can say for the code's sentence (an announcement's
    /// title, the device's words): data, never the sentence itself. For a row logged before codes, the sentence
    /// it was logged with. The sentence an officer reads is ``reasonText``.
    public var reason: String?
    /// Why, for anything but a plain `completed`: a stable code the chain signs; its sentence is in ``ReasonCatalogue``.
    public var reasonCode: ReasonCode?
    public var device: String?
    public var kind: ItemKind
    /// The lateness policy that decided how this item aired, when the occurrence was entered late.
    public var policy: LatenessPolicy?
    /// Seconds of the item that were due on air but not heard (device outage, late entry).
    public var lostSeconds: Double
    /// Underruns recovered from while the item aired.
    public var xruns: Int
    /// The station that aired it (`station` in `loa.toml`): exports of several communes are told apart by it.
    public var station: String?
    /// The Circular 39 level of the segment when it was planned.
    public var priority: Priority?
    /// What the monitor input heard while the item aired; nil without a monitor.
    public var confirmed: OnAirConfirmation?
    /// The level the monitor measured over the item, in dBFS (RMS); nil without a monitor.
    public var monitorDBFS: Double?
    /// The row of the same planned item whose stretch this row continues: an item cut (a preemption, a restart)
    /// and resumed has one row per stretch it aired, each but the first naming the one before. Nil for a first stretch.
    public var continues: Int64?
    /// Seconds into the file where this stretch's audio began (0 for an item aired from its start).
    public var fromSeconds: Double

    public init(
        id: Int64? = nil, slot: String, slotStartsAt: Date, segmentID: String, title: String,
        pillar: Pillar? = nil, campaign: String? = nil, path: String, sha256: String? = nil, category: String? = nil,
        feed: String? = nil, scheduledAt: Date, plannedSeconds: Double = 0,
        startedAt: Date? = nil, endedAt: Date? = nil, airedSeconds: Double = 0,
        outcome: AiringOutcome, reason: String? = nil, reasonCode: ReasonCode? = nil, device: String? = nil,
        kind: ItemKind = .segment, policy: LatenessPolicy? = nil, lostSeconds: Double = 0, xruns: Int = 0, station: String? = nil,
        priority: Priority? = nil, confirmed: OnAirConfirmation? = nil, monitorDBFS: Double? = nil, continues: Int64? = nil,
        fromSeconds: Double = 0
    ) {
        self.id = id
        self.slot = slot
        self.slotStartsAt = slotStartsAt
        self.segmentID = segmentID
        self.title = title
        self.pillar = pillar
        self.campaign = campaign
        self.path = path
        self.sha256 = sha256
        self.category = category
        self.feed = feed
        self.scheduledAt = scheduledAt
        self.plannedSeconds = plannedSeconds
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.airedSeconds = airedSeconds
        self.outcome = outcome
        self.reason = reason
        self.reasonCode = reasonCode
        self.device = device
        self.kind = kind
        self.policy = policy
        self.lostSeconds = lostSeconds
        self.xruns = xruns
        self.station = station
        self.priority = priority
        self.confirmed = confirmed
        self.monitorDBFS = monitorDBFS
        self.continues = continues
        self.fromSeconds = fromSeconds
    }

    /// The `planned` row of an item, written before its occurrence airs: the stored plan.
    public init(planned item: PlannedItem, in slot: PlannedSlot, station: String?, device: String?) {
        self.init(planned: item.segment, slot: slot.slot.id, slotStartsAt: slot.startsAt, scheduledAt: item.startsAt,
                  station: station, device: device, kind: item.kind)
    }

    /// The `planned` row of `segment` due at `scheduledAt`, with what the log keeps of it (title, pillar, SHA-256,
    /// feed) so the row stays whole once the segment's file is gone.
    public init(planned segment: Segment, slot: String, slotStartsAt: Date, scheduledAt: Date, station: String?,
                device: String?, kind: ItemKind) {
        self.init(
            slot: slot, slotStartsAt: slotStartsAt, segmentID: segment.id, title: segment.title, pillar: segment.pillar,
            campaign: segment.campaign, path: segment.path, sha256: segment.sha256.isEmpty ? nil : segment.sha256,
            category: segment.origin?.category, feed: segment.origin?.feed, scheduledAt: scheduledAt,
            plannedSeconds: segment.durationSeconds, outcome: .planned, device: device, kind: kind, station: station,
            priority: kind == .segment || kind == .emergency ? segment.priority : nil)
    }

    /// The reason as a code and its detail; nil for a row without a code (a plain airing, or one logged before
    /// codes). Setting it sets both ``reasonCode`` and ``reason``.
    public var codedReason: Reason? {
        get { reasonCode.map { Reason($0, reason) } }
        set {
            reasonCode = newValue?.code
            reason = newValue?.detail
        }
    }

    /// A new `planned` row for the next stretch of this row's item, `fromSeconds` into its file: the planned fields
    /// (occurrence, segment, title, SHA-256, plan, kind, station, level, device) copied, the rest to be written
    /// as it airs, and ``continues`` naming this row.
    public func stretch(fromSeconds: Double) -> AiringRecord {
        AiringRecord(
            slot: slot, slotStartsAt: slotStartsAt, segmentID: segmentID, title: title, pillar: pillar, campaign: campaign,
            path: path, sha256: sha256, category: category, feed: feed, scheduledAt: scheduledAt, plannedSeconds: plannedSeconds,
            outcome: .planned, device: device, kind: kind, station: station, priority: priority, continues: id,
            fromSeconds: fromSeconds)
    }

    /// The planned item this row stands for, as the stored plan of its occurrence.
    public var plannedItem: PlannedItem {
        PlannedItem(segment: Segment(id: segmentID, title: title, pillar: pillar, campaign: campaign, path: path,
                                     durationSeconds: plannedSeconds),
                    offsetSeconds: scheduledAt.timeIntervalSince(slotStartsAt), startsAt: scheduledAt, kind: kind)
    }

    /// Heard start minus planned start, in milliseconds.
    public var onsetErrorMilliseconds: Double? {
        startedAt.map { ($0.timeIntervalSince(scheduledAt) * 1000).rounded() }
    }
}

extension AiringRecord {
    /// Written by hand so that a record spooled by an earlier version (``continues`` and ``fromSeconds`` did not
    /// exist) still reads back: a held write is never lost to an upgrade.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decodeIfPresent(Int64.self, forKey: .id), slot: try c.decode(String.self, forKey: .slot),
            slotStartsAt: try c.decode(Date.self, forKey: .slotStartsAt), segmentID: try c.decode(String.self, forKey: .segmentID),
            title: try c.decode(String.self, forKey: .title), pillar: try c.decodeIfPresent(Pillar.self, forKey: .pillar),
            campaign: try c.decodeIfPresent(String.self, forKey: .campaign), path: try c.decode(String.self, forKey: .path),
            sha256: try c.decodeIfPresent(String.self, forKey: .sha256), category: try c.decodeIfPresent(String.self, forKey: .category),
            feed: try c.decodeIfPresent(String.self, forKey: .feed), scheduledAt: try c.decode(Date.self, forKey: .scheduledAt),
            plannedSeconds: try c.decodeIfPresent(Double.self, forKey: .plannedSeconds) ?? 0,
            startedAt: try c.decodeIfPresent(Date.self, forKey: .startedAt), endedAt: try c.decodeIfPresent(Date.self, forKey: .endedAt),
            airedSeconds: try c.decodeIfPresent(Double.self, forKey: .airedSeconds) ?? 0,
            outcome: try c.decode(AiringOutcome.self, forKey: .outcome), reason: try c.decodeIfPresent(String.self, forKey: .reason),
            reasonCode: try c.decodeIfPresent(ReasonCode.self, forKey: .reasonCode),
            device: try c.decodeIfPresent(String.self, forKey: .device),
            kind: try c.decodeIfPresent(ItemKind.self, forKey: .kind) ?? .segment,
            policy: try c.decodeIfPresent(LatenessPolicy.self, forKey: .policy),
            lostSeconds: try c.decodeIfPresent(Double.self, forKey: .lostSeconds) ?? 0,
            xruns: try c.decodeIfPresent(Int.self, forKey: .xruns) ?? 0, station: try c.decodeIfPresent(String.self, forKey: .station),
            priority: try c.decodeIfPresent(Priority.self, forKey: .priority),
            confirmed: try c.decodeIfPresent(OnAirConfirmation.self, forKey: .confirmed),
            monitorDBFS: try c.decodeIfPresent(Double.self, forKey: .monitorDBFS),
            continues: try c.decodeIfPresent(Int64.self, forKey: .continues),
            fromSeconds: try c.decodeIfPresent(Double.self, forKey: .fromSeconds) ?? 0)
    }
}
