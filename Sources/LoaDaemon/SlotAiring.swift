import Foundation
import LoaAudio
import LoaCore
import LoaStore
import Logging

/// Turns one planned slot into audio and log rows: a `started` row before each item's first sample,
/// finished with its outcome once its last sample has been heard.
public struct SlotAiring: Sendable {
    public let plan: PlannedSlot
    public let audioFolder: URL
    public let device: String
    public let log: AiringLog
    public let logger: Logger

    public init(plan: PlannedSlot, audioFolder: URL, device: String, log: AiringLog, logger: Logger) {
        self.plan = plan
        self.audioFolder = audioFolder
        self.device = device
        self.log = log
        self.logger = logger
    }

    /// Logs what the plan had to leave out. An explicit entry the schedule named gets a row, so the log
    /// says what happened to it; what a pick passed over is only worth a line in the daemon's log.
    public func logDropped() {
        let explicit: Bool
        if case .play = plan.slot.content { explicit = true } else { explicit = false }
        for reason in plan.dropped {
            switch reason {
            case let .doesNotFit(id, _, _) where explicit:
                write(droppedRecord(id, .skipped, reason))
            case let .notInLibrary(reference):
                write(droppedRecord(reference, .failed, reason))
            case .doesNotFit, .notEnoughSegments:
                logger.warning("\(plan.slot.id): \(reason)")
            }
        }
    }

    private func droppedRecord(_ reference: String, _ outcome: AiringOutcome, _ reason: DropReason) -> AiringRecord {
        let segment = plan.items.first { $0.segment.id == reference }?.segment
        return AiringRecord(slot: plan.slot.id, slotStartsAt: plan.startsAt, segmentID: reference, title: segment?.title ?? reference,
                            path: segment?.path ?? reference, scheduledAt: plan.startsAt, outcome: outcome,
                            reason: reason.description, device: device)
    }

    /// Logs every planned item as not aired, with `reason`.
    public func logAllSkipped(reason: String) {
        for item in plan.items {
            write(AiringRecord(planned: item, in: plan, outcome: .skipped, reason: reason, device: device))
        }
        logDropped()
    }

    public func request() -> PlayoutRequest {
        PlayoutRequest(items: plan.items.map {
            PlayoutItem(path: audioFolder.appendingPathComponent($0.segment.path).path, scheduledAt: $0.startsAt,
                        durationSeconds: $0.segment.durationSeconds)
        }, hardEnd: plan.endsAt)
    }

    /// Airs the slot on `engine` and returns when its last sample has been heard.
    public func air(on engine: PlayoutEngine) async {
        logDropped()
        let rows = RowIDs()
        let plan = self.plan, device = self.device, log = self.log, logger = self.logger
        await engine.play(request()) { event in
            switch event {
            case let .starting(index, audibleAt):
                let item = plan.items[index]
                do {
                    rows.set(index, try log.insert(AiringRecord(planned: item, in: plan, startedAt: audibleAt, device: device)))
                } catch {
                    logger.error("\(error)")
                }
                logger.info("Phát “\(item.segment.title)” (\(plan.slot.id)), lệch \(Int((audibleAt.timeIntervalSince(item.startsAt) * 1000).rounded())) ms")
            case let .ended(index, result, aired, endedAt, xruns):
                let item = plan.items[index]
                let (outcome, reason) = SlotAiring.outcome(result)
                do {
                    if let id = rows.get(index) {
                        try log.finish(id: id, outcome: outcome, endedAt: endedAt, airedSeconds: aired, reason: reason, xruns: xruns)
                    } else {
                        try log.insert(AiringRecord(planned: item, in: plan, airedSeconds: aired, outcome: outcome, reason: reason,
                                                    device: device), xruns: xruns)
                    }
                } catch {
                    logger.error("\(error)")
                }
                if outcome == .completed {
                    logger.info("Xong “\(item.segment.title)”: \(String(format: "%.3f", aired)) s")
                } else {
                    logger.warning("“\(item.segment.title)”: \(outcome.label)\(reason.map { " — \($0)" } ?? "")")
                }
            }
        }
    }

    static func outcome(_ result: ItemResult) -> (AiringOutcome, String?) {
        switch result {
        case .completed: (.completed, nil)
        case .truncated: (.truncated, "cắt ở giờ kết thúc của khung giờ")
        case .interrupted: (.interrupted, "Loa được yêu cầu dừng")
        case let .failed(reason): (.failed, reason)
        case let .skipped(reason): (.skipped, reason)
        }
    }

    private func write(_ record: AiringRecord) {
        do { try log.insert(record) } catch { logger.error("\(error)") }
    }
}

/// Row ids by item index, written on the output thread and read there too.
final class RowIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [Int: Int64] = [:]

    func set(_ index: Int, _ id: Int64) { lock.withLock { ids[index] = id } }
    func get(_ index: Int) -> Int64? { lock.withLock { ids[index] } }
}
